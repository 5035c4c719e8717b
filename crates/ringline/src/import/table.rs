//! Reading tabular input files into rows of text cells, whatever their container:
//! CSV (UTF-8, or GBK/GB18030 as written by Chinese Excel and WPS), `.gz`-compressed CSV,
//! and spreadsheets (XLSX, XLS, ODS through calamine).
//!
//! Every row keeps the line number a person sees when opening the file (header = line 1 for
//! CSV; the sheet's row number for spreadsheets), so errors can name the place.

use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

/// Largest input accepted after decompression, in bytes (1 GiB). The national village table is
/// about 60 MiB of CSV.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// A table read from a file: header cells and data rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file name as given (for messages).
    pub file: String,
    /// The sheet the rows come from, for spreadsheets.
    pub sheet: Option<String>,
    /// The declared character encoding, for text files (`"UTF-8"`, `"GB18030"`).
    pub encoding: Option<&'static str>,
    /// Header cells, trimmed.
    pub headers: Vec<String>,
    /// Data rows (the header row excluded), in file order.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line (CSV) or row (spreadsheet) number as shown to a person.
    pub line: usize,
    /// Cell texts, trimmed; shorter than the header when trailing cells are empty.
    pub cells: Vec<String>,
}

impl Row {
    /// The cell at `index`, or `""`.
    pub fn get(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}

impl Table {
    /// Index of the first header equal (case-insensitively, ignoring `_`, `-` and spaces) to
    /// one of `names`.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        let norm = |s: &str| {
            s.chars()
                .filter(|c| !matches!(c, '_' | '-' | ' ' | '\u{3000}'))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        };
        let wanted: Vec<String> = names.iter().map(|n| norm(n)).collect();
        self.headers.iter().position(|h| wanted.contains(&norm(h)))
    }
}

/// Why a file could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// File name.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Nothing in it.
    #[error("{file}: the file is empty")]
    Empty {
        /// File name.
        file: String,
    },
    /// A header but no data rows.
    #[error("{file}: the file has a header but no data rows")]
    NoRows {
        /// File name.
        file: String,
    },
    /// Text in an encoding other than UTF-8 or GBK/GB18030.
    #[error(
        "{file}: the text is neither UTF-8 nor GBK/GB18030 (first undecodable byte at offset {offset}); save it as UTF-8 CSV or as XLSX"
    )]
    Encoding {
        /// File name.
        file: String,
        /// Byte offset of the first bad byte.
        offset: usize,
    },
    /// UTF-16 text (as written by some "Unicode text" exports).
    #[error("{file}: the file is UTF-16 text; save it as UTF-8 CSV or as XLSX")]
    Utf16 {
        /// File name.
        file: String,
    },
    /// Over [`MAX_INPUT_BYTES`].
    #[error("{file}: the file is larger than {limit} bytes once decompressed")]
    TooLarge {
        /// File name.
        file: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A malformed CSV record.
    #[error("{file}: line {line}: malformed CSV: {message}")]
    Csv {
        /// File name.
        file: String,
        /// Line number.
        line: usize,
        /// Parser message.
        message: String,
    },
    /// The spreadsheet could not be opened or has no usable sheet.
    #[error("{file}: not a readable spreadsheet: {message}")]
    Spreadsheet {
        /// File name.
        file: String,
        /// Reason.
        message: String,
    },
    /// An extension we do not read.
    #[error("{file}: unknown file type; use .csv, .csv.gz, .xlsx, .xls or .ods")]
    UnknownType {
        /// File name.
        file: String,
    },
}

/// Reads a table from `path`; the format follows the extension (`.csv`, `.txt`, `.csv.gz`,
/// `.xlsx`, `.xlsm`, `.xls`, `.ods`). Spreadsheets are read from their first sheet.
pub fn read_table(path: &Path) -> Result<Table, ReadError> {
    let file = path.display().to_string();
    let lower = file.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".xls") || lower.ends_with(".ods") {
        return read_spreadsheet(path, file);
    }
    let raw = if lower.ends_with(".gz") {
        let f = std::fs::File::open(path).map_err(|source| ReadError::Io {
            file: file.clone(),
            source,
        })?;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(f)
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|source| ReadError::Io {
                file: file.clone(),
                source,
            })?;
        out
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        let f = std::fs::File::open(path).map_err(|source| ReadError::Io {
            file: file.clone(),
            source,
        })?;
        let mut out = Vec::new();
        f.take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|source| ReadError::Io {
                file: file.clone(),
                source,
            })?;
        out
    } else {
        return Err(ReadError::UnknownType { file });
    };
    if raw.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            file,
            limit: MAX_INPUT_BYTES,
        });
    }
    parse_csv_bytes(&raw, file)
}

/// Decodes CSV bytes (UTF-8 with or without BOM, else GB18030, which includes GBK) and splits
/// them into rows.
pub fn parse_csv_bytes(raw: &[u8], file: String) -> Result<Table, ReadError> {
    let (text, encoding) = decode_text(raw, &file)?;
    if text.trim().is_empty() {
        return Err(ReadError::Empty { file });
    }
    // Line numbers come from byte offsets, so blank and multi-line records count as a person
    // sees them in an editor.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let bytes = text.as_bytes();
    let line_of = |byte: u64| {
        // A record's position is where the reader resumed, before any skipped blank lines.
        let mut b = byte as usize;
        while b < bytes.len() && matches!(bytes[b], b'\n' | b'\r') {
            b += 1;
        }
        line_starts.partition_point(|&s| s <= b)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ReadError::Csv {
            file: file.clone(),
            line: e.position().map(|p| line_of(p.byte())).unwrap_or(0),
            message: e.to_string(),
        })?;
        let line = record.position().map(|p| line_of(p.byte())).unwrap_or(0);
        let cells: Vec<String> = record.iter().map(clean_cell).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match headers {
            None => headers = Some(cells),
            Some(_) => rows.push(Row { line, cells }),
        }
    }
    let headers = headers.ok_or_else(|| ReadError::Empty { file: file.clone() })?;
    if rows.is_empty() {
        return Err(ReadError::NoRows { file });
    }
    Ok(Table {
        file,
        sheet: None,
        encoding: Some(encoding),
        headers,
        rows,
    })
}

fn decode_text(raw: &[u8], file: &str) -> Result<(String, &'static str), ReadError> {
    if raw.starts_with(&[0xFF, 0xFE]) || raw.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16 { file: file.to_string() });
    }
    let body = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(raw);
    if let Ok(s) = std::str::from_utf8(body) {
        if s.contains('\0') {
            return Err(ReadError::Utf16 { file: file.to_string() });
        }
        return Ok((s.to_string(), "UTF-8"));
    }
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3 / 2);
    let (result, _read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => {
            if out.contains('\0') {
                return Err(ReadError::Utf16 { file: file.to_string() });
            }
            Ok((out, "GB18030"))
        }
        encoding_rs::DecoderResult::Malformed(_, _) | encoding_rs::DecoderResult::OutputFull => {
            // Report the offset of the first byte GB18030 could not decode.
            let offset = first_bad_gb18030_offset(body);
            Err(ReadError::Encoding {
                file: file.to_string(),
                offset,
            })
        }
    }
}

fn first_bad_gb18030_offset(body: &[u8]) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3 / 2 + 16);
    let (_, read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
    read.saturating_sub(1)
}

/// Trims ASCII and full-width spaces and strips a leading apostrophe-free BOM remnant.
fn clean_cell(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .to_string()
}

fn read_spreadsheet(path: &Path, file: String) -> Result<Table, ReadError> {
    let mut wb = open_workbook_auto(path).map_err(|e| ReadError::Spreadsheet {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ReadError::Spreadsheet {
            file: file.clone(),
            message: "it has no sheets".into(),
        })?;
    let range = wb.worksheet_range(&sheet).map_err(|e| ReadError::Spreadsheet {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let mut cells: Vec<String> = vec![String::new(); first_col];
        cells.extend(row.iter().map(cell_text));
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            continue;
        }
        let line = first_row + i + 1;
        match headers {
            None => headers = Some(cells),
            Some(_) => rows.push(Row { line, cells }),
        }
    }
    let headers = headers.ok_or_else(|| ReadError::Empty {
        file: format!("{file} [{sheet}]"),
    })?;
    if rows.is_empty() {
        return Err(ReadError::NoRows {
            file: format!("{file} [{sheet}]"),
        });
    }
    Ok(Table {
        file,
        sheet: Some(sheet),
        encoding: None,
        headers,
        rows,
    })
}

/// The text of a spreadsheet cell. Whole numbers print without a decimal part, so a code typed
/// as a number (6.30121E+11 on screen) reads back as `630121100000`.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => clean_cell(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{f:.0}")
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt
            .as_datetime()
            .map(|d| d.to_string())
            .unwrap_or_else(|| dt.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_blank_lines() {
        let t =
            parse_csv_bytes("\u{feff}code,name\n\n630121000000, 大通 \n".as_bytes(), "t.csv".into()).expect("parses");
        assert_eq!(t.headers, vec!["code", "name"]);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[0].get(1), "大通");
        assert_eq!(t.encoding, Some("UTF-8"));
    }

    #[test]
    fn gbk_is_decoded() {
        // "名称" in GBK is C3 FB B3 C6; "桥头镇" is C7 C5 CD B7 D5 F2.
        let mut raw = b"code,".to_vec();
        raw.extend([0xC3, 0xFB, 0xB3, 0xC6]);
        raw.extend(b"\n630121100000,");
        raw.extend([0xC7, 0xC5, 0xCD, 0xB7, 0xD5, 0xF2]);
        raw.push(b'\n');
        let t = parse_csv_bytes(&raw, "g.csv".into()).expect("GBK accepted");
        assert_eq!(t.headers[1], "名称");
        assert_eq!(t.rows[0].get(1), "桥头镇");
        assert_eq!(t.encoding, Some("GB18030"));
    }

    #[test]
    fn other_encodings_are_refused() {
        // 0xFF is never valid in GB18030 or UTF-8.
        let err = parse_csv_bytes(b"code,name\n1,\xFF\xFF\n", "l.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::Encoding { .. }), "{err}");
        let err = parse_csv_bytes(b"\xFF\xFEc\0o\0", "u.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::Utf16 { .. }));
    }

    #[test]
    fn empty_and_header_only() {
        assert!(matches!(
            parse_csv_bytes(b"", "e.csv".into()),
            Err(ReadError::Empty { .. })
        ));
        assert!(matches!(
            parse_csv_bytes(b"  \n\n", "e.csv".into()),
            Err(ReadError::Empty { .. })
        ));
        assert!(matches!(
            parse_csv_bytes(b"code,name\n", "h.csv".into()),
            Err(ReadError::NoRows { .. })
        ));
    }

    #[test]
    fn column_lookup_ignores_case_and_separators() {
        let t = parse_csv_bytes(b"Code,Parent_Code,lng_gcj02\n1,2,3\n", "c.csv".into()).expect("parses");
        assert_eq!(t.column(&["parent code"]), Some(1));
        assert_eq!(t.column(&["LNG-GCJ02"]), Some(2));
        assert_eq!(t.column(&["missing"]), None);
    }

    #[test]
    fn whole_floats_print_as_integers() {
        assert_eq!(cell_text(&Data::Float(630121100000.0)), "630121100000");
        assert_eq!(cell_text(&Data::Float(101.5)), "101.5");
    }
}
