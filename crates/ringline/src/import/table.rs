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

/// Every non-empty row of a file or sheet, the header not yet told apart (the import framework
/// looks for it below title rows; [`Table`] takes the first row).
#[derive(Debug, Clone)]
pub struct RawSheet {
    /// The file name as given (for messages).
    pub file: String,
    /// The sheet the rows come from, for spreadsheets.
    pub sheet: Option<String>,
    /// The declared character encoding, for text files.
    pub encoding: Option<&'static str>,
    /// Non-empty rows in file order, with the line numbers a person sees.
    pub rows: Vec<Row>,
}

impl RawSheet {
    /// The first row as the header, the rest as data.
    ///
    /// # Errors
    /// [`ReadError::Empty`] without rows, [`ReadError::NoRows`] with only a header.
    pub fn into_table(self) -> Result<Table, ReadError> {
        let label = match &self.sheet {
            Some(s) if self.encoding.is_none() => format!("{} [{s}]", self.file),
            _ => self.file.clone(),
        };
        let mut rows = self.rows.into_iter();
        let headers = rows
            .next()
            .ok_or_else(|| ReadError::Empty { file: label.clone() })?
            .cells;
        let rows: Vec<Row> = rows.collect();
        if rows.is_empty() {
            return Err(ReadError::NoRows { file: label });
        }
        Ok(Table {
            file: self.file,
            sheet: self.sheet,
            encoding: self.encoding,
            headers,
            rows,
        })
    }
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
    #[error("{file}: cannot read the file: {cause}")]
    Io {
        /// File name.
        file: String,
        /// Cause.
        cause: std::io::Error,
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
    /// Text that decodes as GB18030 but does not look like GBK (Big5, most likely).
    #[error(
        "{file}: the text is not UTF-8 and does not look like GBK/GB18030 (perhaps Big5); save it as UTF-8 CSV or as XLSX"
    )]
    NotGbk {
        /// File name.
        file: String,
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
    /// More rows than the reader was asked to accept.
    #[error("{file}: the file has more than {limit} rows; split it into files of at most {limit} rows")]
    TooManyRows {
        /// File name.
        file: String,
        /// The limit.
        limit: usize,
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
/// `.xlsx`, `.xlsm`, `.xls`, `.ods`). Spreadsheets are read from their first sheet. The first
/// non-empty row is the header.
pub fn read_table(path: &Path) -> Result<Table, ReadError> {
    read_raw(path, usize::MAX)?.into_table()
}

/// Reads every non-empty row of `path` (see [`read_table`] for the formats), refusing files with
/// more than `max_rows` rows before reading further, so memory stays bounded.
///
/// # Errors
/// Every [`ReadError`]; [`ReadError::TooManyRows`] past `max_rows`.
pub fn read_raw(path: &Path, max_rows: usize) -> Result<RawSheet, ReadError> {
    let file = path.display().to_string();
    let lower = file.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".xls") || lower.ends_with(".ods") {
        return read_spreadsheet(path, file, max_rows);
    }
    let raw = if lower.ends_with(".gz") {
        let f = std::fs::File::open(path).map_err(|cause| ReadError::Io {
            file: file.clone(),
            cause,
        })?;
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(f)
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|cause| ReadError::Io {
                file: file.clone(),
                cause,
            })?;
        out
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        let f = std::fs::File::open(path).map_err(|cause| ReadError::Io {
            file: file.clone(),
            cause,
        })?;
        let mut out = Vec::new();
        f.take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|cause| ReadError::Io {
                file: file.clone(),
                cause,
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
    csv_rows(&raw, file, max_rows)
}

/// Decodes CSV bytes (UTF-8 with or without BOM, else GB18030, which includes GBK) and splits
/// them into rows; the first is the header.
pub fn parse_csv_bytes(raw: &[u8], file: String) -> Result<Table, ReadError> {
    csv_rows(raw, file, usize::MAX)?.into_table()
}

/// Decodes CSV bytes into raw rows (at most `max_rows`).
pub fn csv_rows(raw: &[u8], file: String, max_rows: usize) -> Result<RawSheet, ReadError> {
    let (text, encoding) = decode_text(raw, &file)?;
    if text.trim().is_empty() {
        return Err(ReadError::Empty { file });
    }
    if let Some(line) = unclosed_quote_line(&text) {
        return Err(ReadError::Csv {
            file,
            line,
            message: "a double quote (\") opened on this line is never closed; check the quotes on this line".into(),
        });
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
        if rows.len() >= max_rows {
            return Err(ReadError::TooManyRows { file, limit: max_rows });
        }
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(ReadError::Empty { file });
    }
    Ok(RawSheet {
        file,
        sheet: None,
        encoding: Some(encoding),
        rows,
    })
}

/// The line of a double quote that is never closed, if any (RFC 4180 quoting: `""` inside a
/// quoted value is an escaped quote and toggles twice).
fn unclosed_quote_line(text: &str) -> Option<usize> {
    let mut in_quote = false;
    let mut line = 1;
    let mut opened = 0;
    for ch in text.chars() {
        match ch {
            '"' => {
                in_quote = !in_quote;
                if in_quote {
                    opened = line;
                }
            }
            '\n' => line += 1,
            _ => {}
        }
    }
    in_quote.then_some(opened)
}

/// Whether GB18030-decodable bytes look like GBK text rather than Big5 (which also decodes
/// as GB18030, into wrong characters). In Big5 about 40 % of two-byte characters have a second
/// byte below 0xA1; simplified-Chinese text in GBK keeps almost all of them at 0xA1 or above
/// (the GB 2312 area). More than 30 % below is taken as "not GBK".
fn looks_like_gbk(body: &[u8]) -> bool {
    let (mut pairs, mut low) = (0usize, 0usize);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        match body.get(i + 1) {
            // GB18030 four-byte sequence: second byte is a digit.
            Some(t) if t.is_ascii_digit() => i += 4,
            Some(&t) => {
                pairs += 1;
                if t < 0xA1 {
                    low += 1;
                }
                i += 2;
            }
            None => i += 1,
        }
    }
    pairs < 4 || low * 100 <= pairs * 30
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
            if !looks_like_gbk(body) {
                return Err(ReadError::NotGbk { file: file.to_string() });
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

/// Most cells read from one sheet (5 million: the national village table is 3.7 million).
pub const MAX_CELLS: usize = 5_000_000;
/// Columns read from a sheet; a cell further right is an error rather than a huge allocation.
pub const MAX_COLUMNS: u32 = 1_000;

fn spreadsheet_error(file: &str, message: impl Into<String>) -> ReadError {
    ReadError::Spreadsheet {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Refuses archives that would decompress to more than [`MAX_INPUT_BYTES`] (zip bombs) before
/// any XML is parsed. XLSX and ODS files are zip archives; XLS is not and is left alone.
fn check_archive(path: &Path, file: &str) -> Result<(), ReadError> {
    let f = std::fs::File::open(path).map_err(|cause| ReadError::Io {
        file: file.to_string(),
        cause,
    })?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|_| {
        spreadsheet_error(
            file,
            "it is not a valid XLSX or ODS file (not a zip archive); save it again from Excel or WPS",
        )
    })?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| spreadsheet_error(file, e.to_string()))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            file: file.to_string(),
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

/// Collects `(row, column, text)` cells (0-based, non-empty only, in row order) into rows.
fn rows_from_cells(
    file: String,
    sheet: String,
    cells: impl IntoIterator<Item = (u32, u32, String)>,
) -> Result<RawSheet, ReadError> {
    let mut rows: Vec<Row> = Vec::new();
    let mut current: Option<(u32, Vec<String>)> = None;
    let flush = |row: Option<(u32, Vec<String>)>, rows: &mut Vec<Row>| {
        if let Some((r, mut cells)) = row {
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            if !cells.is_empty() {
                rows.push(Row {
                    line: r as usize + 1,
                    cells,
                });
            }
        }
    };
    for (r, c, text) in cells {
        if current.as_ref().is_none_or(|(cr, _)| *cr != r) {
            flush(current.take(), &mut rows);
            current = Some((r, Vec::new()));
        }
        if let Some((_, row)) = current.as_mut() {
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = text;
        }
    }
    flush(current.take(), &mut rows);
    if rows.is_empty() {
        return Err(ReadError::Empty {
            file: format!("{file} [{sheet}]"),
        });
    }
    Ok(RawSheet {
        file,
        sheet: Some(sheet),
        encoding: None,
        rows,
    })
}

fn read_spreadsheet(path: &Path, file: String, max_rows: usize) -> Result<RawSheet, ReadError> {
    let lower = file.to_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".ods") {
        check_archive(path, &file)?;
    }
    let mut wb = open_workbook_auto(path).map_err(|e| {
        spreadsheet_error(
            &file,
            format!("{e} — is it really a spreadsheet? Save it again from Excel or WPS"),
        )
    })?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| spreadsheet_error(&file, "it has no sheets"))?;
    // Keeps a non-empty cell, within the column and cell limits.
    let mut rows_seen: usize = 0;
    let mut last_row: Option<u32> = None;
    let mut push_cell = |cells: &mut Vec<(u32, u32, String)>, r: u32, c: u32, text: String| {
        if last_row != Some(r) {
            last_row = Some(r);
            rows_seen += 1;
            if rows_seen > max_rows {
                return Err(ReadError::TooManyRows {
                    file: file.clone(),
                    limit: max_rows,
                });
            }
        }
        if c >= MAX_COLUMNS {
            return Err(spreadsheet_error(
                &file,
                format!(
                    "row {} has a value in column {}; only {MAX_COLUMNS} columns are read",
                    r + 1,
                    c + 1
                ),
            ));
        }
        if cells.len() >= MAX_CELLS {
            return Err(spreadsheet_error(
                &file,
                format!("the sheet has more than {MAX_CELLS} filled cells; split the file"),
            ));
        }
        cells.push((r, c, text));
        Ok(())
    };
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    if let calamine::Sheets::Xlsx(x) = &mut wb {
        // Stream the cells: memory follows the cells present, not the sheet's stated size.
        let mut reader = x
            .worksheet_cells_reader(&sheet)
            .map_err(|e| spreadsheet_error(&file, e.to_string()))?;
        while let Some(cell) = reader
            .next_cell()
            .map_err(|e| spreadsheet_error(&file, e.to_string()))?
        {
            let (r, c) = cell.get_position();
            let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
            if text.is_empty() {
                continue;
            }
            push_cell(&mut cells, r, c, text)?;
        }
    } else {
        let range = wb
            .worksheet_range(&sheet)
            .map_err(|e| spreadsheet_error(&file, e.to_string()))?;
        for (r, c, d) in range.used_cells() {
            let text = cell_text(d);
            if text.is_empty() {
                continue;
            }
            let (r, c) = (
                r as u32 + range.start().map_or(0, |s| s.0),
                c as u32 + range.start().map_or(0, |s| s.1),
            );
            push_cell(&mut cells, r, c, text)?;
        }
    }
    rows_from_cells(file, sheet, cells)
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
    fn big5_is_not_taken_for_gbk() {
        // "臺灣村落,大同" in Big5: BB4F C657 A7F8 B8A8 and A46A A650.
        let mut raw = b"code,name\n1,".to_vec();
        raw.extend([
            0xBB, 0x4F, 0xC6, 0x57, 0xA7, 0xF8, 0xB8, 0xA8, b',', 0xA4, 0x6A, 0xA6, 0x50, b'\n',
        ]);
        let err = parse_csv_bytes(&raw, "b.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::NotGbk { .. }), "{err}");
    }

    #[test]
    fn unclosed_quotes_are_reported_where_they_open() {
        let err = parse_csv_bytes(b"code,name\n1,a\n2,\"b\n3,c\n", "q.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::Csv { line: 3, .. }), "{err}");
        let ok = parse_csv_bytes(b"code,name\n1,\"say \"\"hi\"\"\"\n", "q.csv".into()).expect("escaped quotes");
        assert_eq!(ok.rows[0].get(1), "say \"hi\"");
    }

    #[test]
    fn huge_sheet_dimensions_do_not_allocate() {
        // A sheet whose cells sit at A1 and far away must not allocate rows x columns.
        let t = rows_from_cells(
            "s.xlsx".into(),
            "Sheet1".into(),
            vec![
                (0, 0, "code".into()),
                (0, 1, "name".into()),
                (1_048_575, 0, "630121100202".into()),
            ],
        )
        .and_then(RawSheet::into_table)
        .expect("reads");
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 1_048_576);
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
