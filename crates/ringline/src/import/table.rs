//! Reading tabular input files into rows of text cells, whatever their container:
//! CSV (UTF-8, or GBK/GB18030 as written by Chinese Excel and WPS), `.gz`-compressed CSV,
//! and spreadsheets (XLSX, XLS, ODS through calamine).
//!
//! Every row keeps the line number a person sees when opening the file (header = line 1 for
//! CSV; the sheet's row number for spreadsheets), so errors can name the place.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use calamine::{CellErrorType, Data, DataRef, Reader, Sheets};

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
    /// UTF-16 text (as written by some "Unicode text" exports): a byte-order mark, or NUL
    /// bytes in every other position.
    #[error("{file}: the file is UTF-16 text; save it as UTF-8 CSV or as XLSX")]
    Utf16 {
        /// File name.
        file: String,
    },
    /// Text (UTF-8 or GBK) holding NUL bytes (character 0), which no spreadsheet cell holds:
    /// usually a damaged or padded export.
    #[error(
        "{file}: line {line}: the text contains a NUL byte (character 0), which is not text; remove it (often left by a damaged export) or save the file again as UTF-8 CSV or XLSX"
    )]
    NulByte {
        /// File name.
        file: String,
        /// Line (1-based) of the first NUL byte.
        line: usize,
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
        inflate_gz(path, &file, MAX_INPUT_BYTES)?
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
    // The bytes move into the decoded text when they are UTF-8: the file is held once.
    csv_rows_from(Cow::Owned(raw), file, max_rows)
}

/// The inflated content of a gzip file (all its members, as `gzip -c` writes them one after
/// another), refused with [`ReadError::TooLarge`] past `limit` bytes. A first pass inflates into
/// nothing, only counting bytes (an 8 KiB buffer), and stops as soon as the count passes the
/// limit; the second inflates into a buffer of exactly the counted size. So a small file that
/// inflates to gigabytes (a "gzip bomb") is refused in constant memory, and a valid one takes
/// its inflated size plus a small constant — never the doubling of a growing buffer.
fn inflate_gz(path: &Path, file: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io = |cause| ReadError::Io {
        file: file.to_string(),
        cause,
    };
    let open = || -> Result<_, ReadError> {
        let f = std::fs::File::open(path).map_err(io)?;
        Ok(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f)))
    };
    let size = std::io::copy(&mut open()?.take(limit + 1), &mut std::io::sink()).map_err(io)?;
    if size > limit {
        return Err(ReadError::TooLarge {
            file: file.to_string(),
            limit,
        });
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(usize::MAX));
    open()?.take(size).read_to_end(&mut out).map_err(io)?;
    Ok(out)
}

/// Decodes CSV bytes (UTF-8 with or without BOM, else GB18030, which includes GBK) and splits
/// them into rows; the first is the header.
pub fn parse_csv_bytes(raw: &[u8], file: String) -> Result<Table, ReadError> {
    csv_rows(raw, file, usize::MAX)?.into_table()
}

/// Decodes CSV bytes into raw rows (at most `max_rows`).
pub fn csv_rows(raw: &[u8], file: String, max_rows: usize) -> Result<RawSheet, ReadError> {
    csv_rows_from(Cow::Borrowed(raw), file, max_rows)
}

/// Longest cell text accepted, in characters: Excel's own limit for a cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Most text kept from one sheet, in bytes (512 MiB), however it is repeated or shared.
pub const MAX_SHEET_TEXT: u64 = 512 << 20;

/// Whether `s` is longer than [`MAX_CELL_CHARS`] characters (counting bytes first, which is
/// cheap and never less).
fn too_long(s: &str) -> bool {
    s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS
}

/// The spreadsheet name of the 0-based column `c`: `A`, …, `Z`, `AA`, ….
fn column_letters(c: u64) -> String {
    let mut n = c.saturating_add(1);
    let mut letters = Vec::new();
    while n > 0 {
        n -= 1;
        letters.push(char::from(b'A' + (n % 26) as u8));
        n /= 26;
    }
    letters.iter().rev().collect()
}

/// The message for a cell over [`MAX_CELL_CHARS`] at 1-based `row` and 0-based `column`.
fn cell_too_long(row: u64, column: u64) -> String {
    format!(
        "row {row}, column {}: a cell holds more than 32,767 characters (Excel's limit); shorten it or split it \
         over several cells",
        column_letters(column)
    )
}

/// Line numbers of byte offsets into a text, for offsets that mostly come in increasing order
/// (as CSV records do): it counts the newlines between the previous offset and the next one,
/// so memory does not grow with the number of lines.
/// Line breaks in `s` as an editor counts them (and the CSV reader splits records): `\n`,
/// `\r\n` and a lone `\r` (old Mac files) each end one line.
fn line_breaks(s: &[u8]) -> usize {
    s.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && s.get(i + 1) != Some(&b'\n')))
        .count()
}

struct LineCounter<'a> {
    text: &'a [u8],
    /// The last offset asked for.
    pos: usize,
    /// Its line: 1 + the newlines before `pos`.
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter { text, pos: 0, line: 1 }
    }

    /// The line of a record that starts at `byte`. A record's position is where the reader
    /// resumed, before any skipped blank lines, so those are stepped over first.
    fn line_of(&mut self, byte: u64) -> usize {
        let text = self.text;
        let mut b = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        while b < text.len() && matches!(text[b], b'\n' | b'\r') {
            b += 1;
        }
        // Both ends sit past a run of line breaks, so no `\r\n` pair is cut in two.
        if b >= self.pos {
            self.line += line_breaks(&text[self.pos..b]);
        } else {
            self.line -= line_breaks(&text[b..self.pos]);
        }
        self.pos = b;
        self.line
    }
}

/// [`csv_rows`] on owned or borrowed bytes; owned UTF-8 bytes become the text without a copy.
fn csv_rows_from(raw: Cow<'_, [u8]>, file: String, max_rows: usize) -> Result<RawSheet, ReadError> {
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
    let mut lines = LineCounter::new(text.as_bytes());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ReadError::Csv {
            file: file.clone(),
            line: e.position().map(|p| lines.line_of(p.byte())).unwrap_or(0),
            message: e.to_string(),
        })?;
        let line = record.position().map(|p| lines.line_of(p.byte())).unwrap_or(0);
        let mut cells = Vec::with_capacity(record.len());
        for (column, field) in record.iter().enumerate() {
            let cell = trim_cell(field);
            if too_long(cell) {
                return Err(ReadError::Csv {
                    file,
                    line,
                    message: format!(
                        "column {}: a cell holds more than 32,767 characters (Excel's limit); shorten it or split it \
                         over several cells",
                        column_letters(column as u64)
                    ),
                });
            }
            cells.push(cell.to_string());
        }
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
    // Quotes and newlines are ASCII, which never occurs inside a multi-byte UTF-8 character.
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => {
                in_quote = !in_quote;
                if in_quote {
                    opened = line;
                }
            }
            // A line ends at `\n`, `\r\n` or a lone `\r` (see [`line_breaks`]).
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => line += 1,
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

const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The error for text holding NUL bytes: UTF-16 without a byte-order mark when NULs fill at
/// least a third of the first 4,096 bytes, nearly all (≥ 90 %) at even or all at odd positions
/// (ASCII and Latin text in UTF-16 has a NUL beside every character), else stray NULs in
/// text, reported at the line of the first.
fn nul_error(bytes: &[u8], file: &str) -> ReadError {
    let head = &bytes[..bytes.len().min(4096)];
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, b) in head.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let nuls = even + odd;
    if nuls * 3 >= head.len() && even.max(odd) * 10 >= nuls * 9 {
        return ReadError::Utf16 { file: file.to_string() };
    }
    let first = bytes.iter().position(|b| *b == 0).unwrap_or(0);
    ReadError::NulByte {
        file: file.to_string(),
        line: 1 + bytes[..first].iter().filter(|b| **b == b'\n').count(),
    }
}

/// Decodes text bytes: UTF-8 (with or without BOM) is kept as it is — owned bytes move into the
/// text, borrowed bytes are borrowed — and anything else is decoded as GB18030.
fn decode_text<'a>(raw: Cow<'a, [u8]>, file: &str) -> Result<(Cow<'a, str>, &'static str), ReadError> {
    if raw.starts_with(&[0xFF, 0xFE]) || raw.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadError::Utf16 { file: file.to_string() });
    }
    let body: Cow<'a, [u8]> = match raw {
        Cow::Borrowed(b) => Cow::Borrowed(b.strip_prefix(&UTF8_BOM).unwrap_or(b)),
        Cow::Owned(mut v) => {
            if v.starts_with(&UTF8_BOM) {
                v.drain(..UTF8_BOM.len());
            }
            Cow::Owned(v)
        }
    };
    let utf8: Result<Cow<'a, str>, Cow<'a, [u8]>> = match body {
        Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed).map_err(|_| Cow::Borrowed(b)),
        Cow::Owned(v) => String::from_utf8(v)
            .map(Cow::Owned)
            .map_err(|e| Cow::Owned(e.into_bytes())),
    };
    let body = match utf8 {
        Ok(s) => {
            if s.contains('\0') {
                return Err(nul_error(s.as_bytes(), file));
            }
            return Ok((s, "UTF-8"));
        }
        Err(body) => body,
    };
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3 / 2);
    let (result, _read) = decoder.decode_to_string_without_replacement(&body, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => {
            if out.contains('\0') {
                return Err(nul_error(&body, file));
            }
            if !looks_like_gbk(&body) {
                return Err(ReadError::NotGbk { file: file.to_string() });
            }
            Ok((Cow::Owned(out), "GB18030"))
        }
        encoding_rs::DecoderResult::Malformed(_, _) | encoding_rs::DecoderResult::OutputFull => {
            drop(out);
            // Report the offset of the first byte GB18030 could not decode.
            let offset = first_bad_gb18030_offset(&body);
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

/// `s` without surrounding white space and stray byte-order marks.
fn trim_cell(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Trims ASCII and full-width spaces and strips a leading apostrophe-free BOM remnant.
fn clean_cell(s: &str) -> String {
    trim_cell(s).to_string()
}

/// Most cells read from one sheet (5 million: the national village table is 3.7 million).
pub const MAX_CELLS: usize = 5_000_000;
/// Columns read from a sheet; a cell further right is an error rather than a huge allocation.
pub const MAX_COLUMNS: u32 = 1_000;

/// Most cells calamine may lay out for an ODS file, counting the empty cells it fills in
/// between filled ones (it keeps every sheet as a dense rectangle, 56 bytes a cell: 10 million
/// cells is about 560 MB). A sheet of 500,000 rows × 20 columns still fits.
const MAX_ODS_LAYOUT: u64 = 2 * MAX_CELLS as u64;

fn spreadsheet_error(file: &str, message: impl Into<String>) -> ReadError {
    ReadError::Spreadsheet {
        file: file.to_string(),
        message: message.into(),
    }
}

/// What a spreadsheet file holds. A zip archive is told apart by its contents (an ODS named
/// `.xlsx` still gets the ODS checks); anything else goes by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xlsx,
    Xls,
    Ods,
}

/// Refuses archives that would decompress to more than `limit` bytes (zip bombs) before any
/// XML is parsed, counting the bytes actually inflated: the sizes an archive declares can lie.
/// Entries no reader can open (encrypted, or compressed by an unsupported method) are skipped,
/// and a damaged entry counts up to where it breaks. Returns whether the archive holds
/// `content.xml` (an ODS file).
fn check_archive(path: &Path, file: &str, limit: u64) -> Result<bool, ReadError> {
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
    let too_large = || ReadError::TooLarge {
        file: file.to_string(),
        limit: MAX_INPUT_BYTES,
    };
    let mut ods = false;
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            continue;
        };
        ods |= entry.name() == "content.xml";
        loop {
            match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    total = total.saturating_add(n as u64);
                    if total > limit {
                        return Err(too_large());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // A damaged stream (or a checksum that does not match): what it gave is counted;
                // calamine cannot get more out of it than this.
                Err(_) => break,
            }
        }
    }
    Ok(ods)
}

/// A cell open in [`OdsScan`].
#[derive(Debug)]
struct OdsCell {
    /// Whether the cell sits in a row of a table (cells elsewhere are ignored, as calamine does).
    tracked: bool,
    /// `table:number-columns-repeated`.
    repeat: u64,
    /// The largest `table:number-rows-repeated` of the rows around it.
    row_repeat: u64,
    /// 1-based row and 0-based column, for messages.
    row: u64,
    col: u64,
    /// Whether it holds a value, a formula or text; counted once when it turns filled.
    filled: bool,
    /// Its text so far (characters and UTF-8 bytes), and its paragraphs.
    chars: u64,
    bytes: u64,
    paragraphs: u64,
    /// Depth of `office:annotation` (a comment, which calamine skips) inside it.
    annotation: usize,
}

/// A streaming look at an ODS file's `content.xml` that bounds what calamine will allocate for
/// it before calamine reads it: calamine expands every `number-columns-repeated` and
/// `number-rows-repeated` of a filled cell into copies, and lays each sheet out as a dense
/// rectangle from its first to its last filled cell. Empty repeated cells and rows (LibreOffice
/// writes 1,048,576 × 1,024 of them) cost nothing and are not counted.
///
/// The counts are upper bounds of calamine's: every element calamine takes for a cell is one
/// here, a cell nested in another counts for both, and a row's repeat is the largest of the rows
/// around it. The XML must be well-formed (calamine tolerates mismatched end tags; this does
/// not), which is what makes those bounds hold.
struct OdsScan<'a> {
    file: &'a str,
    /// Depth of `table:table` elements.
    table_depth: usize,
    /// Open rows: whether inside a table, and their repeat.
    rows: Vec<(bool, u64)>,
    tracked_rows: usize,
    /// Rows of the current top-level table so far (repeats included), and those before the
    /// outermost open row.
    rows_total: u64,
    row_base: u64,
    /// Rows before the first row with a filled cell, in the current table.
    first_filled: Option<u64>,
    /// Column position in the outermost open row (repeats included).
    pos: u64,
    /// Cells calamine stores for the outermost open row: every cell up to the last filled one
    /// or up to the one before the last.
    committed: u64,
    /// One past the rightmost filled column of the current table.
    col_end: u64,
    /// Dense rectangle of the current table, and of the tables done.
    table_area: u64,
    area_done: u64,
    /// Cells stored row by row before the rectangle is made, over finished rows.
    pushed: u64,
    /// Filled cells with their repeats, and their text in bytes, over the whole file.
    filled: u64,
    text: u64,
    cells: Vec<OdsCell>,
}

impl<'a> OdsScan<'a> {
    fn new(file: &'a str) -> Self {
        OdsScan {
            file,
            table_depth: 0,
            rows: Vec::new(),
            tracked_rows: 0,
            rows_total: 0,
            row_base: 0,
            first_filled: None,
            pos: 0,
            committed: 0,
            col_end: 0,
            table_area: 0,
            area_done: 0,
            pushed: 0,
            filled: 0,
            text: 0,
            cells: Vec::new(),
        }
    }

    fn error(&self, message: impl Into<String>) -> ReadError {
        spreadsheet_error(self.file, message)
    }

    /// The number in a repeat attribute; calamine refuses what does not parse, and so does this.
    fn count(&self, value: &[u8]) -> Result<u64, ReadError> {
        std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| {
                self.error(format!(
                    "content.xml has a repeat count that is not a number ({:?}); save it again from LibreOffice \
                     or WPS",
                    String::from_utf8_lossy(&value[..value.len().min(40)])
                ))
            })
    }

    fn attribute_error(&self, e: impl std::fmt::Display) -> ReadError {
        self.error(format!(
            "content.xml is not well-formed XML ({e}); save it again from LibreOffice or WPS"
        ))
    }

    fn check_layout(&self) -> Result<(), ReadError> {
        let laid_out = self
            .area_done
            .saturating_add(self.table_area)
            .max(self.pushed.saturating_add(self.committed));
        if laid_out > MAX_ODS_LAYOUT {
            return Err(self.error(format!(
                "the sheet lays out {laid_out} cells, counting the empty ones between filled cells; at most \
                 {MAX_ODS_LAYOUT} are read — delete stray cells far from the data, or save it as XLSX"
            )));
        }
        Ok(())
    }

    fn start(&mut self, e: &quick_xml::events::BytesStart<'_>) -> Result<(), ReadError> {
        match e.name().as_ref() {
            b"table:table" => self.table_depth += 1,
            b"table:table-row" => {
                let tracked = self.table_depth > 0;
                let mut repeat = 1;
                for a in e.attributes() {
                    let a = a.map_err(|e| self.attribute_error(e))?;
                    if a.key.as_ref() == b"table:number-rows-repeated" {
                        repeat = self.count(&a.value)?;
                    }
                }
                if tracked {
                    if self.tracked_rows == 0 {
                        self.row_base = self.rows_total;
                        self.pos = 0;
                        self.committed = 0;
                    }
                    self.rows_total = self.rows_total.saturating_add(repeat);
                    self.tracked_rows += 1;
                }
                self.rows.push((tracked, repeat));
            }
            b"table:table-cell" | b"table:covered-table-cell" => {
                // A cell inside another gives the outer one content.
                self.fill_top()?;
                let tracked = self.tracked_rows > 0;
                let mut repeat = 1;
                let mut filled = false;
                let (mut chars, mut bytes) = (0, 0);
                for a in e.attributes() {
                    let a = a.map_err(|e| self.attribute_error(e))?;
                    match a.key.as_ref() {
                        b"table:number-columns-repeated" => repeat = self.count(&a.value)?,
                        b"office:value-type"
                        | b"office:value"
                        | b"office:date-value"
                        | b"office:time-value"
                        | b"office:boolean-value"
                        | b"table:formula" => filled = true,
                        b"office:string-value" => {
                            filled = true;
                            bytes = a.value.len() as u64;
                            chars = std::str::from_utf8(&a.value).map_or(bytes, |s| s.chars().count() as u64);
                        }
                        _ => {}
                    }
                }
                let row_repeat = self.rows.iter().filter(|(t, _)| *t).map(|(_, r)| *r).max().unwrap_or(1);
                let col = self.pos;
                if tracked {
                    self.pos = self.pos.saturating_add(repeat);
                    // calamine stores the empty cells before this one once a cell follows them.
                    self.committed = self.committed.max(col);
                }
                self.cells.push(OdsCell {
                    tracked,
                    repeat,
                    row_repeat,
                    row: self.row_base.saturating_add(1),
                    col,
                    filled: false,
                    chars,
                    bytes,
                    paragraphs: 0,
                    annotation: 0,
                });
                if filled {
                    self.fill_top()?;
                }
                self.check_text()?;
            }
            _ if self.cells.last().is_none_or(|c| c.annotation > 0) => {
                if let Some(cell) = self.cells.last_mut()
                    && e.name().as_ref() == b"office:annotation"
                {
                    cell.annotation += 1;
                }
            }
            b"office:annotation" => {
                if let Some(cell) = self.cells.last_mut() {
                    cell.annotation += 1;
                }
            }
            name => {
                self.fill_top()?;
                let mut spaces = 0;
                if name == b"text:s" {
                    spaces = 1;
                    for a in e.attributes() {
                        let a = a.map_err(|e| self.attribute_error(e))?;
                        if a.key.as_ref() == b"text:c" {
                            spaces = self.count(&a.value)?;
                        }
                    }
                }
                if let Some(cell) = self.cells.last_mut() {
                    if name == b"text:p" {
                        cell.paragraphs += 1;
                        if cell.paragraphs > 1 {
                            spaces += 1;
                        }
                    }
                    cell.chars = cell.chars.saturating_add(spaces);
                    cell.bytes = cell.bytes.saturating_add(spaces);
                }
                self.check_text()?;
            }
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8]) -> Result<(), ReadError> {
        match name {
            b"table:table" => {
                self.table_depth = self.table_depth.saturating_sub(1);
                if self.table_depth == 0 {
                    self.area_done = self.area_done.saturating_add(self.table_area);
                    self.table_area = 0;
                    self.rows_total = 0;
                    self.first_filled = None;
                    self.col_end = 0;
                }
            }
            b"table:table-row" => {
                if let Some((true, _)) = self.rows.pop() {
                    self.tracked_rows -= 1;
                    if self.tracked_rows == 0 {
                        self.pushed = self.pushed.saturating_add(self.committed);
                        self.committed = 0;
                        self.check_layout()?;
                    }
                }
            }
            b"table:table-cell" | b"table:covered-table-cell" => {
                if let Some(cell) = self.cells.pop()
                    && cell.tracked
                    && cell.filled
                {
                    let copies = cell.repeat.saturating_mul(cell.row_repeat);
                    self.text = self.text.saturating_add(cell.bytes.saturating_mul(copies));
                    if self.text > MAX_SHEET_TEXT {
                        return Err(self.error(format!(
                            "the sheet repeats its text to more than {mib} MiB; at most {mib} MiB of text is read — \
                             delete the repeated rows or columns, or split the file",
                            mib = MAX_SHEET_TEXT >> 20
                        )));
                    }
                }
            }
            b"office:annotation" => {
                if let Some(cell) = self.cells.last_mut() {
                    cell.annotation = cell.annotation.saturating_sub(1);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Text (`chars` characters in `bytes` bytes) inside the innermost open cell.
    fn text(&mut self, chars: u64, bytes: u64, blank: bool) -> Result<(), ReadError> {
        if self.cells.last().is_none_or(|c| c.annotation > 0) {
            return Ok(());
        }
        if !blank {
            self.fill_top()?;
        }
        if let Some(cell) = self.cells.last_mut() {
            cell.chars = cell.chars.saturating_add(chars);
            cell.bytes = cell.bytes.saturating_add(bytes);
        }
        self.check_text()
    }

    fn check_text(&self) -> Result<(), ReadError> {
        match self.cells.last() {
            Some(cell) if cell.chars > MAX_CELL_CHARS as u64 => Err(self.error(cell_too_long(cell.row, cell.col))),
            _ => Ok(()),
        }
    }

    /// Marks the innermost open cell filled, counting it with its repeats.
    fn fill_top(&mut self) -> Result<(), ReadError> {
        let Some(cell) = self.cells.last_mut() else {
            return Ok(());
        };
        if cell.filled {
            return Ok(());
        }
        cell.filled = true;
        if !cell.tracked {
            return Ok(());
        }
        let (repeat, row_repeat, col) = (cell.repeat, cell.row_repeat, cell.col);
        self.filled = self.filled.saturating_add(repeat.saturating_mul(row_repeat));
        if self.filled > MAX_CELLS as u64 {
            return Err(self.error(format!(
                "the sheet repeats filled cells {} times; at most {MAX_CELLS} filled cells are read — delete the \
                 repeated rows or columns (or the sheets not needed), or split the file",
                self.filled
            )));
        }
        let end = col.saturating_add(repeat);
        self.col_end = self.col_end.max(end);
        self.committed = self.committed.max(end);
        let first = *self.first_filled.get_or_insert(self.row_base);
        self.table_area = self.rows_total.saturating_sub(first).saturating_mul(self.col_end);
        self.check_layout()
    }
}

/// Refuses an ODS file whose `content.xml` would make calamine allocate without bound (see
/// [`OdsScan`]), reading it as a stream. A file without `content.xml` is left to calamine.
fn check_ods(path: &Path, file: &str) -> Result<(), ReadError> {
    use quick_xml::events::Event;
    let f = std::fs::File::open(path).map_err(|cause| ReadError::Io {
        file: file.to_string(),
        cause,
    })?;
    let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(f)) else {
        return Ok(());
    };
    let Ok(entry) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    xml.config_mut().check_end_names = true;
    let mut scan = OdsScan::new(file);
    let mut buf = Vec::new();
    loop {
        let event = xml.read_event_into(&mut buf).map_err(|e| scan.attribute_error(e))?;
        match event {
            Event::Start(e) => scan.start(&e)?,
            Event::Empty(e) => {
                scan.start(&e)?;
                scan.end(e.name().as_ref())?;
            }
            Event::End(e) => scan.end(e.name().as_ref())?,
            Event::Text(t) => {
                let chars = std::str::from_utf8(&t).map_or(t.len(), |s| s.chars().count());
                let blank = t.iter().all(u8::is_ascii_whitespace);
                scan.text(chars as u64, t.len() as u64, blank)?;
            }
            Event::CData(t) => scan.text(t.len() as u64, t.len() as u64, t.is_empty())?,
            // `&amp;`, `&#x4E2D;`: one character of up to four bytes.
            Event::GeneralRef(_) => scan.text(1, 4, false)?,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

// XLS files: calamine reads every sheet of a BIFF workbook when it opens it, into dense ranges,
// and trusts what the file states (sector numbers, the DIMENSIONS record, string lengths).
// Before it does, `check_xls` walks the same structures the same way, without allocating what
// they claim, and adds up what calamine would allocate.

/// The signature of a compound document (MS-CFB), the container of XLS files.
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Sector markers (MS-CFB 2.1): end of a chain, DIFAT sector, and the first of the reserved
/// values (calamine's `RESERVED_SECTORS`).
const CFB_ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const CFB_DIFSECT: u32 = 0xFFFF_FFFC;
const CFB_MAXREGSECT: u32 = 0xFFFF_FFFA;

/// Most cell slots calamine may allocate for an XLS file, over all its sheets: the room its
/// DIMENSIONS records reserve, the cells it stores, the dense ranges it lays them out in, and
/// the copy of the range read (32 to 40 bytes a slot: 20 million is at most 800 MB). A BIFF8 sheet has at most
/// 65,536 rows; one of 65,536 rows × 50 columns takes 10 million.
const MAX_XLS_CELLS: u64 = 4 * MAX_CELLS as u64;

/// Most bytes of formula text calamine may build for an XLS file (it decompiles every formula).
const MAX_XLS_FORMULA_TEXT: u64 = 512 << 20;

/// Most CONTINUE records one BIFF record may have (calamine takes them off the front of a list,
/// which costs their number squared); 16,384 of them hold 134 MB.
const MAX_CONTINUES: usize = 1 << 14;

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn xls_damaged(what: &str) -> String {
    format!("it is not a valid XLS file ({what}); save it again from Excel or WPS, best as XLSX")
}

/// The sectors of a compound document, as calamine reads them: sector `id` starts at byte
/// `id × size` after the header, and one that starts past the end of the file is refused (calamine
/// would allocate up to it).
struct Sectors<'a> {
    body: &'a [u8],
    size: usize,
    /// Sectors that start inside the file: a bound on any honest chain's length.
    count: usize,
}

impl<'a> Sectors<'a> {
    fn get(&self, id: u32) -> Result<&'a [u8], String> {
        let start = (id as usize)
            .checked_mul(self.size)
            .filter(|s| *s < self.body.len())
            .ok_or_else(|| xls_damaged("a sector lies past the end of the file"))?;
        Ok(&self.body[start..(start + self.size).min(self.body.len())])
    }

    /// A sector chain as calamine's `get_chain` reads it, refusing a stated length larger than the
    /// file (calamine reserves it), chains that loop, and chains that leave the table.
    fn chain(&self, mut id: u32, len: usize, fats: &[u32]) -> Result<Vec<u8>, String> {
        if len > self.body.len() {
            return Err(xls_damaged("a stream is stated larger than the file"));
        }
        let mut out = Vec::new();
        let mut steps = 0;
        while id != CFB_ENDOFCHAIN {
            steps += 1;
            if steps > self.count {
                return Err(xls_damaged("a sector chain loops"));
            }
            out.extend_from_slice(self.get(id)?);
            id = *fats
                .get(id as usize)
                .ok_or_else(|| xls_damaged("a sector chain leaves the sector table"))?;
        }
        if len > 0 {
            out.truncate(len);
        }
        Ok(out)
    }
}

/// Little-endian 32-bit words, as calamine's `to_u32` (which panics on a ragged length).
fn words(b: &[u8]) -> Result<Vec<u32>, String> {
    if !b.len().is_multiple_of(4) {
        return Err(xls_damaged("a sector table is cut short"));
    }
    Ok(b.chunks_exact(4).map(|w| le32(w, 0)).collect())
}

/// The workbook stream of an XLS file, read the way calamine's `Cfb` reads it (calamine 0.31,
/// `cfb.rs`), refusing whatever would make calamine allocate past the file's size or loop.
/// `None` when calamine would refuse the file by itself (not a compound document, no workbook
/// stream).
fn xls_workbook_stream(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if data.len() < 512 || data[..8] != CFB_MAGIC {
        return Ok(None);
    }
    let version = le16(data, 26);
    let (size, header) = match le16(data, 30) {
        0x0009 => (512, 512),
        0x000C => (4096, 4096),
        _ => return Ok(None),
    };
    if data.len() < header || le16(data, 32) != 0x0006 {
        return Ok(None);
    }
    let dir_len = le32(data, 40) as usize;
    let fat_len = le32(data, 44) as usize;
    let dir_start = le32(data, 48);
    let mini_fat_start = le32(data, 60);
    let mini_fat_len = le32(data, 64) as usize;
    let difat_start = le32(data, 68);
    // calamine reserves this many DIFAT words, read from an odd offset (62).
    let difat_reserve = le32(data, 62) as usize;
    let body = &data[header..];
    let sectors = Sectors {
        body,
        size,
        count: body.len().div_ceil(size),
    };
    if difat_reserve > 1 << 24 || fat_len > sectors.count + 1 {
        return Err(xls_damaged("its header states impossible sizes"));
    }
    let mut difat = words(&data[76..512])?;
    let mut id = difat_start;
    let mut steps = 0;
    while id < CFB_MAXREGSECT {
        steps += 1;
        if steps > sectors.count {
            return Err(xls_damaged("a sector chain loops"));
        }
        difat.extend(words(sectors.get(id)?)?);
        id = difat.pop().unwrap_or(CFB_ENDOFCHAIN);
    }
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < CFB_DIFSECT).collect();
    if fat_sectors.len() > sectors.count {
        return Err(xls_damaged("its sector table is larger than the file"));
    }
    let mut fats = Vec::new();
    for id in fat_sectors {
        fats.extend(words(sectors.get(id)?)?);
    }
    let dirs = sectors.chain(dir_start, dir_len.saturating_mul(size), &fats)?;
    if !dirs.len().is_multiple_of(128) {
        return Err(xls_damaged("its directory is cut short"));
    }
    let dirs: Vec<(String, u32, usize)> = dirs
        .chunks_exact(128)
        .map(|d| {
            let mut name = encoding_rs::UTF_16LE.decode(&d[..64]).0.into_owned();
            if let Some(end) = name.as_bytes().iter().position(|b| *b == 0) {
                name.truncate(end);
            }
            let len = if size == 512 {
                le32(d, 120) as usize
            } else {
                usize::try_from(u64::from(le32(d, 120)) | (u64::from(le32(d, 124)) << 32)).unwrap_or(usize::MAX)
            };
            (name, le32(d, 116), len)
        })
        .collect();
    if dirs.is_empty() || (version != 3 && dirs[0].1 == CFB_ENDOFCHAIN) {
        return Ok(None);
    }
    if dirs.iter().any(|d| d.0 == "_VBA_PROJECT_CUR") {
        return Err("it holds macros (VBA), which are not read; save it without macros, best as XLSX".into());
    }
    let (ministream, minifat) = if mini_fat_len > 0 {
        let ministream = sectors.chain(dirs[0].1, dirs[0].2, &fats)?;
        let minifat = sectors.chain(mini_fat_start, mini_fat_len.saturating_mul(size), &fats)?;
        (ministream, words(&minifat)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let Some(&(_, start, len)) = dirs
        .iter()
        .find(|d| d.0 == "Workbook")
        .or_else(|| dirs.iter().find(|d| d.0 == "Book"))
    else {
        return Ok(None);
    };
    if len >= 4096 {
        return sectors.chain(start, len, &fats).map(Some);
    }
    // A small stream lives in 64-byte sectors of the mini stream.
    let mut out = Vec::new();
    let mut id = start;
    let mut steps = 0;
    while id != CFB_ENDOFCHAIN {
        steps += 1;
        let at = (id as usize).saturating_mul(64);
        if steps > ministream.len() / 64 + 1 || at.saturating_add(64) > ministream.len() {
            return Err(xls_damaged("a mini sector lies past the mini stream"));
        }
        out.extend_from_slice(&ministream[at..at + 64]);
        id = *minifat
            .get(id as usize)
            .ok_or_else(|| xls_damaged("a sector chain leaves the sector table"))?;
    }
    if len > 0 {
        out.truncate(len);
    }
    Ok(Some(out))
}

/// A BIFF record with its CONTINUE records, as calamine's `RecordIter` yields it.
struct BiffRecord<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
    /// The next CONTINUE record to read.
    next: usize,
}

impl BiffRecord<'_> {
    fn continue_record(&mut self) -> bool {
        match self.cont.get(self.next) {
            Some(d) => {
                self.data = d;
                self.next += 1;
                true
            }
            None => false,
        }
    }

    fn skip(&mut self, mut len: usize) -> bool {
        while len > 0 {
            if self.data.is_empty() && !self.continue_record() {
                return false;
            }
            let l = len.min(self.data.len());
            self.data = &self.data[l..];
            len -= l;
        }
        true
    }
}

/// Why a walk through BIFF records ends early.
enum BiffStop {
    /// calamine fails (or panics) here by itself, freeing what it allocated.
    Calamine,
    /// The file is refused with this message.
    Refuse(String),
}

/// The next record of `stream` (calamine's `RecordIter::next`).
fn next_record<'a>(stream: &mut &'a [u8]) -> Option<Result<BiffRecord<'a>, BiffStop>> {
    let s = *stream;
    if s.len() < 4 {
        return (!s.is_empty()).then_some(Err(BiffStop::Calamine));
    }
    let typ = le16(s, 0);
    let len = le16(s, 2) as usize;
    if s.len() < len + 4 {
        return Some(Err(BiffStop::Calamine));
    }
    let data = &s[4..len + 4];
    let mut rest = &s[len + 4..];
    let mut cont = Vec::new();
    if rest.len() > 4 && le16(rest, 0) == 0x003C {
        while rest.len() > 4 && le16(rest, 0) == 0x003C {
            let len = le16(rest, 2) as usize;
            if rest.len() < len + 4 {
                return Some(Err(BiffStop::Calamine));
            }
            cont.push(&rest[4..len + 4]);
            rest = &rest[len + 4..];
            if cont.len() > MAX_CONTINUES {
                return Some(Err(BiffStop::Refuse(xls_damaged(
                    "a record has too many CONTINUE records",
                ))));
            }
        }
    }
    *stream = rest;
    Some(Ok(BiffRecord {
        typ,
        data,
        cont,
        next: 0,
    }))
}

/// What calamine would allocate for an XLS file, added up as its records are walked.
#[derive(Default)]
struct XlsCost {
    cells: u64,
    text: u64,
    formulas: u64,
}

impl XlsCost {
    fn cells(&mut self, n: u64) -> Result<(), BiffStop> {
        self.cells = self.cells.saturating_add(n);
        if self.cells > MAX_XLS_CELLS {
            return Err(BiffStop::Refuse(format!(
                "its sheets lay out more than {MAX_XLS_CELLS} cells, counting the ranges they declare and the empty \
                 cells between filled ones; delete stray cells far from the data, or save it as XLSX"
            )));
        }
        Ok(())
    }

    fn text(&mut self, bytes: u64) -> Result<(), BiffStop> {
        self.text = self.text.saturating_add(bytes);
        if self.text > MAX_SHEET_TEXT {
            return Err(BiffStop::Refuse(format!(
                "it holds more than {} MiB of text once its shared strings are copied into their cells; split the \
                 file",
                MAX_SHEET_TEXT >> 20
            )));
        }
        Ok(())
    }

    fn formula(&mut self, bytes: u64) -> Result<(), BiffStop> {
        self.formulas = self.formulas.saturating_add(bytes);
        if self.formulas > MAX_XLS_FORMULA_TEXT {
            return Err(BiffStop::Refuse(
                "its formulas are too many or too long to read; paste their values over them (Paste Special → \
                 Values), or save it as XLSX"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// UTF-8 bytes a string of `cch` characters from `avail` bytes may take in calamine: it reserves
/// `cch` bytes, and decodes at most `avail` bytes (two a character in UTF-16) through a decoder
/// that writes at most three bytes for each byte it reads.
fn xls_string_cost(cch: usize, avail: usize) -> u64 {
    (cch as u64).max(6 * cch.min(avail) as u64)
}

/// Upper bounds of the UTF-8 size of each shared string (calamine's `parse_sst` and
/// `read_rich_extended_string`, step by step, so each string's length is read where calamine
/// reads it). `None` where calamine fails.
fn xls_shared_strings(r: &mut BiffRecord<'_>, cost: &mut XlsCost) -> Result<Option<Vec<u64>>, BiffStop> {
    if r.data.len() < 8 {
        return Ok(None);
    }
    r.data = &r.data[8..];
    let mut out = Vec::new();
    while !r.data.is_empty() || r.continue_record() {
        if r.data.len() < 3 {
            return Ok(None);
        }
        let cch = le16(r.data, 0) as usize;
        let flags = r.data[2];
        r.data = &r.data[3..];
        let mut runs = 0;
        let mut ext = 0;
        if flags & 0x8 != 0 {
            if r.data.len() < 2 {
                return Ok(None);
            }
            runs = le16(r.data, 0) as usize;
            r.data = &r.data[2..];
        }
        if flags & 0x4 != 0 {
            if r.data.len() < 4 {
                return Ok(None);
            }
            ext = le32(r.data, 0) as i32 as usize;
            r.data = &r.data[4..];
        }
        let mut left = cch;
        let mut wide = flags & 0x1 != 0;
        while left > 0 {
            let (chars, bytes) = if wide {
                let l = (r.data.len() / 2).min(left);
                (l, 2 * l)
            } else {
                let l = r.data.len().min(left);
                (l, l)
            };
            r.data = &r.data[bytes..];
            left -= chars;
            if left > 0 {
                if !r.continue_record() || r.data.is_empty() {
                    return Ok(None);
                }
                wide = r.data[0] & 0x1 != 0;
                r.data = &r.data[1..];
            }
        }
        if !r.skip(runs * 4) || !r.skip(ext) {
            return Ok(None);
        }
        let bytes = 6 * cch as u64;
        cost.text(bytes + 24)?;
        out.push(bytes);
    }
    Ok(Some(out))
}

/// Rows and columns spanned by cells, for the dense range calamine makes of them.
#[derive(Default)]
struct Span(Option<(u32, u32, u32, u32)>);

impl Span {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn area(&self) -> u64 {
        self.0
            .map_or(0, |(r0, r1, c0, c1)| u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1))
    }
}

/// Walks the BIFF records of a workbook stream as calamine's `Xls::parse_workbook` does and adds
/// up what it would allocate (see [`XlsCost`]), refusing past the limits.
fn xls_walk(stream: &[u8]) -> Result<(), BiffStop> {
    let mut cost = XlsCost::default();
    let mut sheets: Vec<usize> = Vec::new();
    let mut shared: Vec<u64> = Vec::new();
    // The longest sheet or defined name, in UTF-8 bytes: what one formula token can print.
    let mut longest_name: u64 = 16;
    let mut rest = stream;
    while let Some(r) = next_record(&mut rest) {
        let mut r = r?;
        match r.typ {
            // FilePass: calamine refuses encrypted files.
            0x002F if r.data.len() < 2 || le16(r.data, 0) != 0 => return Err(BiffStop::Calamine),
            // BoundSheet8: where a sheet starts, and its name.
            0x0085 => {
                if r.data.len() < 7 {
                    return Err(BiffStop::Calamine);
                }
                sheets.push(le32(r.data, 0) as usize);
                longest_name = longest_name.max(3 * u64::from(r.data[6]));
            }
            // Lbl (a defined name).
            0x0018 if r.data.len() >= 4 => longest_name = longest_name.max(3 * u64::from(r.data[3])),
            0x00FC => match xls_shared_strings(&mut r, &mut cost)? {
                Some(s) => shared = s,
                None => return Err(BiffStop::Calamine),
            },
            0x000A => break,
            _ => {}
        }
    }
    let token_text = longest_name + 128;
    let mut largest = 0;
    for pos in sheets {
        let Some(mut rest) = stream.get(pos..) else {
            return Err(BiffStop::Calamine);
        };
        let mut values = Span::default();
        let mut formulas = Span::default();
        let mut formula_at = (0u32, 0u32);
        while let Some(r) = next_record(&mut rest) {
            let r = r?;
            let d = r.data;
            let at = |d: &[u8]| (u32::from(le16(d, 0)), u32::from(le16(d, 2)));
            let min_len = match r.typ {
                0x0200 => 10,
                0x0006 => 20,
                0x0203 => 14,
                0x0204 | 0x00BD => 6,
                0x0205 => 8,
                0x027E | 0x00FD => 10,
                _ => 0,
            };
            if d.len() < min_len {
                return Err(BiffStop::Calamine);
            }
            match r.typ {
                // DIMENSIONS: calamine reserves rows × columns cells.
                0x0200 => {
                    let (rf, rl, cf, cl) = match d.len() {
                        10 => (
                            u32::from(le16(d, 0)),
                            u32::from(le16(d, 2)),
                            u32::from(le16(d, 4)),
                            u32::from(le16(d, 6)),
                        ),
                        14 => (le32(d, 0), le32(d, 4), u32::from(le16(d, 8)), u32::from(le16(d, 10))),
                        _ => return Err(BiffStop::Calamine),
                    };
                    let cf = if 0xFF < cf || cl < cf { 0 } else { cf };
                    let (start, end) = if 1 <= rl && 1 <= cl {
                        ((rf, cf), (rl - 1, cl - 1))
                    } else {
                        ((rf, cf), (rf, cf))
                    };
                    let rows = end.0.wrapping_sub(start.0).wrapping_add(1) as u64;
                    let cols = end.1.wrapping_sub(start.1).wrapping_add(1) as u64;
                    cost.cells(rows.saturating_mul(cols))?;
                }
                // Number, BoolErr, RK: one cell.
                0x0203 | 0x0205 | 0x027E => {
                    let (row, col) = at(d);
                    values.add(row, col);
                    cost.cells(1)?;
                }
                // Label: a cell with its own string.
                0x0204 => {
                    let s = &d[6..];
                    if s.len() >= 2 {
                        cost.text(xls_string_cost(le16(s, 0) as usize, s.len() - 2))?;
                    } else {
                        return Err(BiffStop::Calamine);
                    }
                    let (row, col) = at(d);
                    values.add(row, col);
                    cost.cells(1)?;
                }
                // String: the text result of the formula before.
                0x0207 => {
                    if d.len() < 2 {
                        return Err(BiffStop::Calamine);
                    }
                    cost.text(xls_string_cost(le16(d, 0) as usize, d.len() - 2))?;
                    values.add(formula_at.0, formula_at.1);
                    cost.cells(1)?;
                }
                // LabelSst: a copy of a shared string.
                0x00FD => {
                    if let Some(&bytes) = shared.get(le32(d, 6) as usize)
                        && bytes > 0
                    {
                        cost.text(bytes)?;
                        let (row, col) = at(d);
                        values.add(row, col);
                        cost.cells(1)?;
                    }
                }
                // MulRk: a run of cells in one row.
                0x00BD => {
                    let first = le16(d, 2);
                    let last = le16(d, d.len() - 2);
                    // calamine computes the count in 16 bits: wrapping in a release build.
                    let n = last.wrapping_sub(first).wrapping_add(1) as usize;
                    if d.len() != 6 + 6 * n {
                        return Err(BiffStop::Calamine);
                    }
                    if n > 0 {
                        let row = u32::from(le16(d, 0));
                        values.add(row, u32::from(first));
                        values.add(row, u32::from(first) + n as u32 - 1);
                        cost.cells(n as u64)?;
                    }
                }
                // Formula: its cached value, and its text decompiled.
                0x0006 => {
                    formula_at = at(d);
                    values.add(formula_at.0, formula_at.1);
                    formulas.add(formula_at.0, formula_at.1);
                    cost.cells(2)?;
                    let rgce = &d[20..];
                    if rgce.len() < 2 || 2 + le16(rgce, 0) as usize > rgce.len() {
                        return Err(BiffStop::Calamine);
                    }
                    cost.formula(u64::from(le16(rgce, 0)) * token_text + 32)?;
                }
                0x000A => break,
                _ => {}
            }
        }
        cost.cells(values.area())?;
        cost.cells(formulas.area())?;
        largest = largest.max(values.area());
    }
    // `worksheet_range` hands out a copy of the sheet's range: the one read is laid out twice.
    cost.cells(largest)?;
    Ok(())
}

/// Refuses an XLS file that would make calamine allocate far more than its size (see
/// [`xls_workbook_stream`] and [`xls_walk`]). What remains: calamine decompiles every formula
/// and its spacing tokens insert characters one at a time, so a crafted formula can still cost
/// seconds of work (not memory); XLSX has no such step.
fn check_xls(path: &Path, file: &str) -> Result<(), ReadError> {
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut data))
        .map_err(|cause| ReadError::Io {
            file: file.to_string(),
            cause,
        })?;
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge {
            file: file.to_string(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let stream = match xls_workbook_stream(&data) {
        Ok(Some(stream)) => stream,
        Ok(None) => return Ok(()),
        Err(message) => return Err(spreadsheet_error(file, message)),
    };
    drop(data);
    match xls_walk(&stream) {
        Ok(()) | Err(BiffStop::Calamine) => Ok(()),
        Err(BiffStop::Refuse(message)) => Err(spreadsheet_error(file, message)),
    }
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

/// What a spreadsheet file holds: a zip archive is XLSX or ODS whatever its name (the archive
/// check tells which); anything else goes by its extension, and calamine or the archive check
/// reports what is wrong with it.
fn sniff(path: &Path, file: &str) -> Result<Format, ReadError> {
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(path)
        .and_then(|f| f.take(8).read_to_end(&mut head))
        .map_err(|cause| ReadError::Io {
            file: file.to_string(),
            cause,
        })?;
    let lower = file.to_lowercase();
    Ok(if head.starts_with(b"PK") {
        Format::Xlsx // or ODS: the archive check tells
    } else if lower.ends_with(".xls") {
        Format::Xls
    } else if lower.ends_with(".ods") {
        Format::Ods
    } else {
        Format::Xlsx
    })
}

fn read_spreadsheet(path: &Path, file: String, max_rows: usize) -> Result<RawSheet, ReadError> {
    let mut format = sniff(path, &file)?;
    if format != Format::Xls && check_archive(path, &file, MAX_INPUT_BYTES)? {
        format = Format::Ods;
    }
    match format {
        Format::Ods => check_ods(path, &file)?,
        Format::Xls => check_xls(path, &file)?,
        Format::Xlsx => {}
    }
    // calamine panics on some damaged files (an index out of range); that is a damaged file
    // here, not a crash of the import.
    let label = file.clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheet(path, file, format, max_rows)
    }))
    .unwrap_or_else(|_| {
        Err(spreadsheet_error(
            &label,
            "its contents are damaged; save it again from Excel or WPS as XLSX",
        ))
    })
}

/// The text of a string-like cell value, for the length check before it is copied.
fn data_str(d: &Data) -> Option<&str> {
    match d {
        Data::String(s) => Some(trim_cell(s)),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s),
        _ => None,
    }
}

/// [`data_str`] for the values of the streaming XLSX reader.
fn data_ref_str<'a>(d: &'a DataRef<'_>) -> Option<&'a str> {
    match d {
        DataRef::String(s) => Some(trim_cell(s)),
        DataRef::SharedString(s) => Some(trim_cell(s)),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(s),
        _ => None,
    }
}

fn read_sheet(path: &Path, file: String, format: Format, max_rows: usize) -> Result<RawSheet, ReadError> {
    // Opened as what the contents are: calamine's own guess from the extension would read an
    // ODS named `.XLSX` without the ODS checks.
    let opened: Result<Sheets<std::io::BufReader<std::fs::File>>, calamine::Error> = match format {
        Format::Xlsx => calamine::open_workbook(path)
            .map(Sheets::Xlsx)
            .map_err(calamine::Error::Xlsx),
        // XLS: calamine reads every sheet into dense ranges as it opens the file; `check_xls`
        // has bounded what that allocates.
        Format::Xls => calamine::open_workbook(path)
            .map(Sheets::Xls)
            .map_err(calamine::Error::Xls),
        Format::Ods => calamine::open_workbook(path)
            .map(Sheets::Ods)
            .map_err(calamine::Error::Ods),
    };
    let mut wb = opened.map_err(|e| {
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
    // Keeps a non-empty cell, within the row, column, cell and text limits.
    let mut rows_seen: usize = 0;
    let mut last_row: Option<u32> = None;
    let mut text_bytes: u64 = 0;
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
        text_bytes = text_bytes.saturating_add(text.len() as u64);
        if text_bytes > MAX_SHEET_TEXT {
            return Err(spreadsheet_error(
                &file,
                format!(
                    "the sheet holds more than {} MiB of text; split the file",
                    MAX_SHEET_TEXT >> 20
                ),
            ));
        }
        cells.push((r, c, text));
        Ok(())
    };
    let too_long_at = |r: u32, c: u32| spreadsheet_error(&file, cell_too_long(u64::from(r) + 1, u64::from(c)));
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    if let Sheets::Xlsx(x) = &mut wb {
        // Stream the cells: memory follows the cells present, not the sheet's stated size.
        let mut reader = x
            .worksheet_cells_reader(&sheet)
            .map_err(|e| spreadsheet_error(&file, e.to_string()))?;
        while let Some(cell) = reader
            .next_cell()
            .map_err(|e| spreadsheet_error(&file, e.to_string()))?
        {
            let (r, c) = cell.get_position();
            // Checked before copying: a shared string is one text however many cells use it.
            if data_ref_str(cell.get_value()).is_some_and(too_long) {
                return Err(too_long_at(r, c));
            }
            let text = cell_text_ref(cell.get_value());
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
            let (r, c) = (
                r as u32 + range.start().map_or(0, |s| s.0),
                c as u32 + range.start().map_or(0, |s| s.1),
            );
            if data_str(d).is_some_and(too_long) {
                return Err(too_long_at(r, c));
            }
            let text = cell_text(d);
            if text.is_empty() {
                continue;
            }
            push_cell(&mut cells, r, c, text)?;
        }
    }
    drop(wb);
    rows_from_cells(file, sheet, cells)
}

/// Excel's texts for error values, as a cell shows them: the classic ones, which calamine
/// reads, then those of newer versions (dynamic arrays, linked data types, Python), which turn
/// up in CSV files saved from Excel.
pub const EXCEL_ERRORS: [&str; 16] = [
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#UNKNOWN!",
    "#BUSY!",
    "#PYTHON!",
];

/// Whether a (trimmed) cell text is an Excel error value such as `#DIV/0!` or `#N/A`: what a
/// spreadsheet's error cells read as (see [`cell_text`]) and what Excel writes for them into
/// CSV. The comparison is exact, upper case included, as Excel writes them; a value is refused
/// rather than taken for data.
pub fn is_excel_error(s: &str) -> bool {
    EXCEL_ERRORS.contains(&s)
}

/// The text Excel shows for an error cell (calamine's own names differ for `#GETTING_DATA`).
fn error_text(e: &CellErrorType) -> &'static str {
    match e {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        CellErrorType::GettingData => "#GETTING_DATA",
    }
}

/// A number cell's text. Whole numbers below 10¹⁵ print without a decimal part, so a code typed
/// as a number (6.30121E+11 on screen) reads back as `630121100000`. From 10¹⁵ up a double no
/// longer holds every digit Excel was given (it keeps 15), so the number prints in scientific
/// notation, `6.30121198001014e17`, which code cells refuse as "digits lost" rather than take
/// `630121198001014000` for the identity number typed. Other numbers print at the 15
/// significant digits Excel keeps and shows: the rest of a double is the noise of binary
/// arithmetic (`=0.1+0.2` is stored as 0.30000000000000004 and reads back as `0.3`).
fn float_text(f: f64) -> String {
    if f.abs() >= 1e15 {
        format!("{f:e}")
    } else if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f:.14e}").parse::<f64>().unwrap_or(f).to_string()
    }
}

fn datetime_text(dt: &calamine::ExcelDateTime) -> String {
    dt.as_datetime()
        .map(|d| d.to_string())
        .unwrap_or_else(|| dt.to_string())
}

/// The text of a spreadsheet cell: strings trimmed, numbers by [`float_text`], errors as Excel
/// shows them (`#DIV/0!`, see [`is_excel_error`]).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => clean_cell(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => datetime_text(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => error_text(e).to_string(),
    }
}

/// [`cell_text`] for the values of the streaming XLSX reader, copying only the text kept.
fn cell_text_ref(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) => clean_cell(s),
        DataRef::SharedString(s) => clean_cell(s),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => datetime_text(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => error_text(e).to_string(),
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

    /// Found by the `csv` fuzz target: a lone `\r` ends a record for the CSV reader (and a line
    /// in an editor) but was not counted, so every row of an old Mac file was "line 1".
    #[test]
    fn lone_carriage_returns_end_lines() {
        // Lines: 1 header, 2 "a", 3 blank, 4 "b" (CRLF), 5 "c" (LF).
        let t = parse_csv_bytes(
            b"code,name\r630121000000,a\r\r630121100000,b\r\n630121101000,c\n",
            "t.csv".into(),
        )
        .expect("parses");
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 4, 5]);
        // An unclosed quote is reported on its line: 3 (after two lone CRs).
        let e = parse_csv_bytes(b"code,name\r1,a\r2,\"b\r", "t.csv".into()).expect_err("unclosed");
        assert!(matches!(e, ReadError::Csv { line: 3, .. }), "{e:?}");
        assert_eq!(line_breaks(b"a\r\nb\rc\nd"), 3);
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
    fn nul_bytes_are_named_for_what_they_are() {
        // UTF-8 text with one stray NUL on line 3: not UTF-16, and the line is given.
        let err = parse_csv_bytes("代码,名称\n1,甲\n2,乙\0\n3,丙\n".as_bytes(), "n.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::NulByte { line: 3, .. }), "{err}");
        assert!(
            err.to_string().contains("NUL byte") && !err.to_string().contains("UTF-16"),
            "{err}"
        );
        // GBK text (not UTF-8) with a NUL on line 2.
        let err = parse_csv_bytes(b"code,name\n1,\xC4\xE3\0\n", "g.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::NulByte { line: 2, .. }), "{err}");
        // UTF-16 little-endian without a byte-order mark: a NUL after every ASCII character.
        let utf16: Vec<u8> = "code,name\n1,a\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let err = parse_csv_bytes(&utf16, "u.csv".into()).expect_err("refused");
        assert!(matches!(err, ReadError::Utf16 { .. }), "{err}");
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
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(
            cell_text(&Data::Float(12.34 * 3.0)),
            "37.02",
            "37.019999999999996 stored"
        );
        assert_eq!(cell_text(&Data::Float(0.123456789012345)), "0.123456789012345");
        assert_eq!(cell_text(&Data::Float(999_999_999_999_999.0)), "999999999999999");
        assert_eq!(cell_text_ref(&DataRef::Float(630121100000.0)), "630121100000");
    }

    #[test]
    fn numbers_that_lost_digits_print_in_scientific_notation() {
        // What Excel stores for the identity number 630121198001014211 typed as a number.
        let text = cell_text(&Data::Float(6.30121198001014e17));
        assert_eq!(text, "6.30121198001014e17");
        assert_eq!(cell_text_ref(&DataRef::Float(6.30121198001014e17)), text);
        assert_eq!(
            ringline_core::cell::code(&text),
            Err(ringline_core::cell::CellError::ScientificNotation)
        );
        assert_eq!(cell_text(&Data::Float(1e15)), "1e15");
        assert_eq!(cell_text(&Data::Float(-2.5e16)), "-2.5e16");
        // Division codes typed as numbers still read back whole.
        assert_eq!(
            ringline_core::cell::code(&cell_text(&Data::Float(630121103201.0))).as_deref(),
            Ok("630121103201")
        );
    }

    #[test]
    fn error_cells_read_as_excel_shows_them() {
        use calamine::CellErrorType as E;
        for (e, text) in [
            (E::Div0, "#DIV/0!"),
            (E::NA, "#N/A"),
            (E::Value, "#VALUE!"),
            (E::Ref, "#REF!"),
            (E::Name, "#NAME?"),
            (E::Num, "#NUM!"),
            (E::Null, "#NULL!"),
            (E::GettingData, "#GETTING_DATA"),
        ] {
            assert_eq!(cell_text(&Data::Error(e.clone())), text);
            assert_eq!(cell_text_ref(&DataRef::Error(e)), text);
            assert!(is_excel_error(text), "{text}");
        }
        assert!(is_excel_error("#SPILL!"));
        for text in ["#Div0", "#DIV/0", "#div/0!", "#DATA!", " #N/A", "N/A", "#", ""] {
            assert!(!is_excel_error(text), "{text}");
        }
    }

    /// Writes a zip archive of `entries` (deflated).
    fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
        use std::io::Write;
        let f = std::fs::File::create(path).expect("create");
        let mut zip = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, opts).expect("entry");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish");
    }

    /// An ODS file whose first sheet holds `rows` (`table:table-row` elements).
    fn write_ods(path: &Path, rows: &str) {
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sheet1">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#;
        write_zip(
            path,
            &[
                ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet".to_vec()),
                ("META-INF/manifest.xml", manifest.as_bytes().to_vec()),
                ("content.xml", content.into_bytes()),
            ],
        );
    }

    fn ods_text(text: &str) -> String {
        format!(r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#)
    }

    fn spreadsheet_message(err: ReadError) -> String {
        match err {
            ReadError::Spreadsheet { message, .. } => message,
            e => panic!("expected a spreadsheet error, got {e}"),
        }
    }

    #[test]
    fn ods_repeat_bomb_is_refused_before_calamine() {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("bomb.ods");
        write_ods(
            &path,
            r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="string" table:number-columns-repeated="999"><text:p>x</text:p></table:table-cell></table:table-row>"#,
        );
        assert!(std::fs::metadata(&path).expect("meta").len() < 2_000, "small on disk");
        let err = read_raw(&path, 100).expect_err("refused");
        assert!(err.to_string().contains("bomb.ods"), "{err}");
        let message = spreadsheet_message(err);
        assert!(message.contains("repeats filled cells 999000000 times"), "{message}");
        // Named as an XLSX, it is still an ODS and still refused.
        let renamed = dir.path().join("bomb.XLSX");
        std::fs::copy(&path, &renamed).expect("copy");
        let message = spreadsheet_message(read_raw(&renamed, 100).expect_err("refused"));
        assert!(message.contains("repeats filled cells"), "{message}");
    }

    #[test]
    fn ods_with_empty_repeats_reads() {
        // What LibreOffice writes: empty cells to the sheet's last column, empty rows to its
        // last row, and repeated rows for identical data.
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("ok.ods");
        let tail = r#"<table:table-cell table:number-columns-repeated="1022"/>"#;
        let rows = format!(
            concat!(
                r#"<table:table-row>{}{}{}</table:table-row>"#,
                r#"<table:table-row>{}{}{}</table:table-row>"#,
                r#"<table:table-row table:number-rows-repeated="2">{}<table:table-cell office:value-type="float" office:value="630121100000"><text:p>630121100000</text:p></table:table-cell>{}</table:table-row>"#,
                r#"<table:table-row table:number-rows-repeated="1048572"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
            ),
            ods_text("name"),
            ods_text("code"),
            tail,
            ods_text("大通"),
            ods_text("6301"),
            tail,
            ods_text("桥头"),
            tail,
        );
        write_ods(&path, &rows);
        let raw = read_raw(&path, 100).expect("reads");
        assert_eq!(raw.rows.len(), 4);
        assert_eq!(raw.rows[0].cells, vec!["name", "code"]);
        assert_eq!(raw.rows[1].cells, vec!["大通", "6301"]);
        assert_eq!(raw.rows[3].cells, vec!["桥头", "630121100000"]);
        assert_eq!(raw.rows[3].line, 4);
    }

    #[test]
    fn ods_layouts_calamine_would_fill_in_are_refused() {
        let dir = tempfile::TempDir::new().expect("temp");
        // A filled cell at A1 and one a million rows and 900 columns away: calamine fills the
        // rectangle between them.
        let path = dir.path().join("scattered.ods");
        let rows = format!(
            concat!(
                r#"<table:table-row>{}</table:table-row>"#,
                r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#,
                r#"<table:table-row><table:table-cell table:number-columns-repeated="900"/>{}</table:table-row>"#
            ),
            ods_text("x"),
            ods_text("y")
        );
        write_ods(&path, &rows);
        let message = spreadsheet_message(read_raw(&path, 100).expect_err("refused"));
        assert!(message.contains("lays out"), "{message}");
        // Empty cells before another cell are stored one by one, even in an empty row.
        let path = dir.path().join("empty_run.ods");
        write_ods(
            &path,
            &format!(
                r#"<table:table-row>{}</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="100000000"/><table:table-cell/></table:table-row>"#,
                ods_text("x")
            ),
        );
        let message = spreadsheet_message(read_raw(&path, 100).expect_err("refused"));
        assert!(message.contains("lays out"), "{message}");
    }

    #[test]
    fn ods_text_bombs_are_refused() {
        let dir = tempfile::TempDir::new().expect("temp");
        // One element that calamine turns into 100 million spaces.
        let path = dir.path().join("spaces.ods");
        write_ods(
            &path,
            &format!(
                r#"<table:table-row>{}</table:table-row><table:table-row>{}{}</table:table-row>"#,
                ods_text("name"),
                ods_text("a"),
                ods_text(r#"b<text:s text:c="100000000"/>c"#)
            ),
        );
        let message = spreadsheet_message(read_raw(&path, 100).expect_err("refused"));
        assert!(
            message.contains("row 2, column B: a cell holds more than 32,767 characters"),
            "{message}"
        );
        // A long text, allowed in one cell, repeated past the sheet's text limit.
        let path = dir.path().join("repeated_text.ods");
        let long = "x".repeat(30_000);
        write_ods(
            &path,
            &format!(
                r#"<table:table-row table:number-rows-repeated="20"><table:table-cell office:value-type="string" table:number-columns-repeated="999"><text:p>{long}</text:p></table:table-cell></table:table-row>"#
            ),
        );
        let message = spreadsheet_message(read_raw(&path, 100).expect_err("refused"));
        assert!(message.contains("MiB"), "{message}");
        // Comments do not count as text.
        let path = dir.path().join("comment.ods");
        write_ods(
            &path,
            &format!(
                r#"<table:table-row>{}</table:table-row><table:table-row><table:table-cell office:value-type="string"><office:annotation><text:p>{}</text:p></office:annotation><text:p>v</text:p></table:table-cell></table:table-row>"#,
                ods_text("name"),
                "c".repeat(40_000)
            ),
        );
        let raw = read_raw(&path, 100).expect("reads");
        assert_eq!(raw.rows[1].cells, vec!["v"]);
    }

    /// A zip archive of one deflated entry of `real` zero bytes whose headers declare
    /// `declared` bytes (and a wrong checksum).
    fn write_lying_zip(path: &Path, declared: u32, real: usize) {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..real >> 20 {
            enc.write_all(&chunk).expect("deflate");
        }
        let data = enc.finish().expect("deflate");
        let name = b"xl/worksheets/sheet1.xml";
        let csize = u32::try_from(data.len()).expect("small");
        let nlen = name.len() as u16;
        let mut out: Vec<u8> = Vec::new();
        // Local file header: signature, version, flags, method 8 (deflate), time, date, crc,
        // sizes, name and extra lengths.
        out.extend(0x0403_4b50u32.to_le_bytes());
        for v in [20u16, 0, 8, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        for v in [0u32, csize, declared] {
            out.extend(v.to_le_bytes());
        }
        out.extend(nlen.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name);
        out.extend(&data);
        let cd = out.len() as u32;
        // Central directory header.
        out.extend(0x0201_4b50u32.to_le_bytes());
        for v in [20u16, 20, 0, 8, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        for v in [0u32, csize, declared] {
            out.extend(v.to_le_bytes());
        }
        for v in [nlen, 0, 0, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        out.extend(0u32.to_le_bytes()); // external attributes
        out.extend(0u32.to_le_bytes()); // local header offset
        out.extend(name);
        let cd_len = out.len() as u32 - cd;
        // End of central directory.
        out.extend(0x0605_4b50u32.to_le_bytes());
        for v in [0u16, 0, 1, 1] {
            out.extend(v.to_le_bytes());
        }
        out.extend(cd_len.to_le_bytes());
        out.extend(cd.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        std::fs::write(path, out).expect("write");
    }

    #[test]
    fn zip_sizes_that_lie_are_counted_as_inflated() {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("liar.xlsx");
        write_lying_zip(&path, 1_000, 24 << 20);
        {
            let zip = zip::ZipArchive::new(std::fs::File::open(&path).expect("open")).expect("a zip");
            assert_eq!(zip.decompressed_size(), Some(1_000), "the archive claims 1,000 bytes");
        }
        let err = check_archive(&path, "liar.xlsx", 16 << 20).expect_err("refused");
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        // Within the limit, the archive passes the check (whatever else is wrong with it).
        assert!(
            !check_archive(&path, "liar.xlsx", 32 << 20).expect("passes"),
            "not an ODS"
        );
    }

    #[test]
    fn legit_xlsx_passes_the_archive_check_quickly() {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("members.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "code").expect("write");
        ws.write_string(0, 1, "name").expect("write");
        for r in 1..=30_000u32 {
            ws.write_number(r, 0, 630_121_100_000.0 + f64::from(r)).expect("write");
            ws.write_string(r, 1, format!("村民{r}")).expect("write");
        }
        wb.save(&path).expect("save");
        let started = std::time::Instant::now();
        assert!(!check_archive(&path, "members.xlsx", MAX_INPUT_BYTES).expect("passes"));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let raw = read_raw(&path, 100_000).expect("reads");
        assert_eq!(raw.rows.len(), 30_001);
        assert_eq!(raw.rows[30_000].get(1), "村民30000");
    }

    /// Rewrites the zip entry `name` of `path` through `edit`.
    fn edit_zip_entry(path: &Path, name: &str, edit: impl Fn(String) -> String) {
        let mut entries = Vec::new();
        {
            let mut zip = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).expect("entry");
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).expect("read");
                let entry_name = entry.name().to_string();
                if entry_name == name {
                    bytes = edit(String::from_utf8(bytes).expect("utf-8")).into_bytes();
                }
                entries.push((entry_name, bytes));
            }
        }
        let entries: Vec<(&str, Vec<u8>)> = entries.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        write_zip(path, &entries);
    }

    #[test]
    fn huge_shared_strings_are_refused_before_copying() {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("shared.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "code").expect("write");
        ws.write_string(0, 2, "name").expect("write");
        for r in 1..=2_000u32 {
            ws.write_number(r, 0, f64::from(r)).expect("write");
            ws.write_string(r, 2, "PLACEHOLDER").expect("write");
        }
        wb.save(&path).expect("save");
        edit_zip_entry(&path, "xl/sharedStrings.xml", |xml| {
            xml.replace("PLACEHOLDER", &"x".repeat(350_000))
        });
        assert!(std::fs::metadata(&path).expect("meta").len() < 100_000, "small on disk");
        let err = read_raw(&path, 10_000).expect_err("refused");
        assert!(err.to_string().starts_with(&path.display().to_string()), "{err}");
        let message = spreadsheet_message(err);
        assert_eq!(
            message,
            "row 2, column C: a cell holds more than 32,767 characters (Excel's limit); shorten it or split it over \
             several cells"
        );
        // Excel's own limit is accepted.
        let path = dir.path().join("limit.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "name").expect("write");
        ws.write_string(1, 0, "中".repeat(32_767)).expect("write");
        wb.save(&path).expect("save");
        let raw = read_raw(&path, 10).expect("reads");
        assert_eq!(raw.rows[1].get(0).chars().count(), 32_767);
    }

    #[test]
    fn long_csv_fields_are_refused() {
        let mut raw = b"code,name\n1,".to_vec();
        raw.extend("长".repeat(32_767).as_bytes());
        raw.extend(b"\n2,");
        raw.extend("x".repeat(32_768).as_bytes());
        raw.push(b'\n');
        let err = parse_csv_bytes(&raw, "long.csv".into()).expect_err("refused");
        match err {
            ReadError::Csv { line, message, .. } => {
                assert_eq!(line, 3);
                assert!(
                    message.starts_with("column B: a cell holds more than 32,767 characters"),
                    "{message}"
                );
            }
            e => panic!("expected a CSV error, got {e}"),
        }
    }

    #[test]
    fn blank_lines_are_counted_without_a_table_of_lines() {
        let blank = 3_000_000;
        let mut raw = b"code,name\r\n".to_vec();
        raw.resize(raw.len() + blank, b'\n');
        raw.extend(b"630121100000,\"two\nlines\"\n\n630121100001,x\n");
        let started = std::time::Instant::now();
        let t = parse_csv_bytes(&raw, "blank.csv".into()).expect("parses");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2 + blank);
        assert_eq!(t.rows[0].get(1), "two\nlines");
        assert_eq!(t.rows[1].line, 2 + blank + 3);
        // The same through a .csv.gz file, as uploaded.
        use std::io::Write;
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("blank.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).expect("gzip");
        std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
        let raw_sheet = read_raw(&path, 10).expect("reads");
        assert_eq!(raw_sheet.rows.len(), 3);
        assert_eq!(raw_sheet.rows[2].line, 2 + blank + 3);
        assert_eq!(raw_sheet.encoding, Some("UTF-8"));
    }

    /// A gzip file of `members` copies of one member inflating to `member_bytes` of CSV rows.
    fn gzip_bomb(path: &Path, member_bytes: usize, members: usize) {
        use std::io::Write;
        let line = b"630121103201,illustrative,row\n";
        let mut raw = Vec::with_capacity(member_bytes);
        while raw.len() + line.len() <= member_bytes {
            raw.extend_from_slice(line);
        }
        raw.resize(member_bytes, b'\n');
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw).expect("gzip");
        let member = gz.finish().expect("gzip");
        let mut f = std::fs::File::create(path).expect("create");
        for _ in 0..members {
            f.write_all(&member).expect("write");
        }
    }

    #[test]
    fn gzip_bombs_are_refused_in_constant_memory() {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = dir.path().join("bomb.csv.gz");
        // 64 members of 1 MiB: 64 MiB inflated from a file of about 64 × 1 KiB.
        gzip_bomb(&path, 1 << 20, 64);
        assert!(std::fs::metadata(&path).expect("size").len() < 1 << 20);
        // Limit 8 MiB: refused, after inflating 8 MiB + 1 byte into nothing.
        let err = inflate_gz(&path, "bomb.csv.gz", 8 << 20).expect_err("refused");
        assert!(
            matches!(&err, ReadError::TooLarge { limit, .. } if *limit == 8 << 20),
            "{err}"
        );
        // Exactly at the limit it is read, into a buffer of exactly its size.
        let out = inflate_gz(&path, "bomb.csv.gz", 64 << 20).expect("within the limit");
        assert_eq!(out.len(), 64 << 20);
        assert_eq!(out.capacity(), 64 << 20, "no growth past the content");
        assert!(out.starts_with(b"630121103201,illustrative,row\n"));
    }

    #[test]
    fn line_counter_goes_both_ways() {
        let text = b"a\nb\n\nc\n";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(4), 4, "blank line 3 is stepped over");
        assert_eq!(lines.line_of(2), 2);
        assert_eq!(lines.line_of(100), 5);
    }

    #[test]
    fn owned_and_borrowed_text_decode_alike() {
        let raw = "\u{feff}code,name\n1,大通\n".as_bytes();
        let (borrowed, enc) = decode_text(Cow::Borrowed(raw), "b.csv").expect("decodes");
        assert!(matches!(borrowed, Cow::Borrowed(_)));
        assert_eq!(enc, "UTF-8");
        let (owned, _) = decode_text(Cow::Owned(raw.to_vec()), "b.csv").expect("decodes");
        assert!(matches!(owned, Cow::Owned(_)));
        assert_eq!(borrowed, owned);
        assert_eq!(owned, "code,name\n1,大通\n");
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    /// A BIFF record.
    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend(u16::try_from(data.len()).expect("short record").to_le_bytes());
        out.extend(data);
        out
    }

    /// A BIFF8 cell record's row, column and format index.
    fn at(row: u16, col: u16) -> Vec<u8> {
        let mut out = row.to_le_bytes().to_vec();
        out.extend(col.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
        let mut d = at(row, col);
        d.extend(v.to_le_bytes());
        rec(0x0203, &d)
    }

    /// A Label cell: `cch` characters stated, `text` given (UTF-16).
    fn label(row: u16, col: u16, cch: u16, text: &str) -> Vec<u8> {
        let mut d = at(row, col);
        d.extend(cch.to_le_bytes());
        d.push(1);
        for u in text.encode_utf16() {
            d.extend(u.to_le_bytes());
        }
        rec(0x0204, &d)
    }

    fn label_sst(row: u16, col: u16, index: u32) -> Vec<u8> {
        let mut d = at(row, col);
        d.extend(index.to_le_bytes());
        rec(0x00FD, &d)
    }

    fn dimensions(first_row: u32, last_row: u32, first_col: u16, last_col: u16) -> Vec<u8> {
        let mut d = first_row.to_le_bytes().to_vec();
        d.extend(last_row.to_le_bytes());
        d.extend(first_col.to_le_bytes());
        d.extend(last_col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        rec(0x0200, &d)
    }

    /// A shared string table of compressed (8-bit) strings.
    fn sst(strings: &[&str]) -> Vec<u8> {
        let n = u32::try_from(strings.len()).expect("few");
        let mut d = n.to_le_bytes().to_vec();
        d.extend(n.to_le_bytes());
        for s in strings {
            d.extend(u16::try_from(s.len()).expect("short").to_le_bytes());
            d.push(0);
            d.extend(s.as_bytes());
        }
        rec(0x00FC, &d)
    }

    /// A BIFF8 workbook stream: globals (with `sst`), then `copies` sheets all pointing at one
    /// sheet substream of `records`; at least 4,096 bytes, so it lives in ordinary sectors.
    fn biff(sst: Option<Vec<u8>>, records: &[Vec<u8>], copies: usize) -> Vec<u8> {
        let bof = |dt: u8| rec(0x0809, &[0x00, 0x06, dt, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let bound_sheet = |pos: u32| {
            let mut d = pos.to_le_bytes().to_vec();
            d.extend([0, 0, 6, 0]);
            d.extend(b"Sheet1");
            rec(0x0085, &d)
        };
        let mut globals = bof(0x05);
        globals.extend(sst.unwrap_or_default());
        let sheets_at = globals.len();
        for _ in 0..copies {
            globals.extend(bound_sheet(0));
        }
        globals.extend(rec(0x000A, &[]));
        let pos = u32::try_from(globals.len()).expect("small");
        for i in 0..copies {
            let bs = bound_sheet(pos);
            let at = sheets_at + i * bs.len();
            globals[at..at + bs.len()].copy_from_slice(&bs);
        }
        let mut stream = globals;
        stream.extend(bof(0x10));
        for r in records {
            stream.extend(r);
        }
        stream.extend(rec(0x000A, &[]));
        if stream.len() < 4096 {
            stream.resize(4096, 0);
        }
        stream
    }

    /// A compound document (version 3, 512-byte sectors) holding `stream` as "Workbook": FAT
    /// sectors first, then the directory, then the stream.
    fn cfb(stream: &[u8]) -> Vec<u8> {
        const FREE: u32 = 0xFFFF_FFFF;
        const FATSECT: u32 = 0xFFFF_FFFD;
        let n_stream = stream.len().div_ceil(512);
        let mut n_fat = 1;
        while n_fat * 128 < n_fat + 1 + n_stream {
            n_fat += 1;
        }
        assert!(n_fat <= 109, "the header's DIFAT holds 109 FAT sectors");
        let mut fat = vec![FREE; n_fat * 128];
        for f in fat.iter_mut().take(n_fat) {
            *f = FATSECT;
        }
        fat[n_fat] = CFB_ENDOFCHAIN;
        for i in 0..n_stream {
            let s = n_fat + 1 + i;
            fat[s] = if i + 1 == n_stream {
                CFB_ENDOFCHAIN
            } else {
                (s + 1) as u32
            };
        }
        let mut out = vec![0u8; 512];
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &CFB_MAGIC);
        put(24, &0x3Eu16.to_le_bytes());
        put(26, &3u16.to_le_bytes());
        put(28, &0xFFFEu16.to_le_bytes());
        put(30, &9u16.to_le_bytes());
        put(32, &6u16.to_le_bytes());
        put(44, &(n_fat as u32).to_le_bytes());
        put(48, &(n_fat as u32).to_le_bytes());
        put(56, &4096u32.to_le_bytes());
        put(60, &CFB_ENDOFCHAIN.to_le_bytes());
        put(68, &CFB_ENDOFCHAIN.to_le_bytes());
        for i in 0..109 {
            let id = if i < n_fat { i as u32 } else { FREE };
            put(76 + 4 * i, &id.to_le_bytes());
        }
        for f in fat {
            out.extend(f.to_le_bytes());
        }
        let entry = |name: &str, kind: u8, start: u32, size: u32| {
            let mut e = vec![0u8; 128];
            let units: Vec<u16> = name.encode_utf16().collect();
            for (i, u) in units.iter().enumerate() {
                e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
            }
            e[64..66].copy_from_slice(&(2 * (units.len() as u16 + 1)).to_le_bytes());
            e[66] = kind;
            for at in [68, 72, 76] {
                e[at..at + 4].copy_from_slice(&FREE.to_le_bytes());
            }
            e[116..120].copy_from_slice(&start.to_le_bytes());
            e[120..124].copy_from_slice(&size.to_le_bytes());
            e
        };
        out.extend(entry("Root Entry", 5, CFB_ENDOFCHAIN, 0));
        out.extend(entry("Workbook", 2, (n_fat + 1) as u32, stream.len() as u32));
        out.extend(vec![0u8; 256]);
        out.extend(stream);
        out.resize(512 + (n_fat + 1 + n_stream) * 512, 0);
        out
    }

    fn write_xls(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    #[test]
    fn xls_reads_through_the_checks() {
        let dir = tempfile::TempDir::new().expect("temp");
        let stream = biff(
            Some(sst(&["qiaotou"])),
            &[
                dimensions(0, 3, 0, 2),
                label(0, 0, 4, "code"),
                label(0, 1, 4, "name"),
                number(1, 0, 630_121_100_000.0),
                label(1, 1, 2, "大通"),
                number(2, 0, 6.30121198001014e17),
                label_sst(2, 1, 0),
            ],
            1,
        );
        let path = write_xls(dir.path(), "ok.xls", &cfb(&stream));
        let raw = read_raw(&path, 10).expect("reads");
        assert_eq!(raw.sheet.as_deref(), Some("Sheet1"));
        assert_eq!(raw.rows.len(), 3);
        assert_eq!(raw.rows[0].cells, vec!["code", "name"]);
        assert_eq!(raw.rows[1].cells, vec!["630121100000", "大通"]);
        assert_eq!(raw.rows[2].cells, vec!["6.30121198001014e17", "qiaotou"]);
    }

    fn xls_refusal(name: &str, bytes: &[u8]) -> String {
        let dir = tempfile::TempDir::new().expect("temp");
        let path = write_xls(dir.path(), name, bytes);
        assert!(bytes.len() < 1 << 20, "small on disk");
        spreadsheet_message(read_raw(&path, 10).expect_err("refused"))
    }

    #[test]
    fn xls_stated_sizes_are_bounded() {
        // DIMENSIONS claiming 4 billion rows: calamine would reserve them.
        let stream = biff(None, &[dimensions(0, u32::MAX, 0, 10), number(0, 0, 1.0)], 1);
        let message = xls_refusal("dims.xls", &cfb(&stream));
        assert!(message.contains("lay out more than"), "{message}");
        // Two cells far apart: a dense range of 65,536 × 1,001 cells.
        let stream = biff(None, &[number(0, 0, 1.0), number(65_535, 1_000, 2.0)], 1);
        let message = xls_refusal("scattered.xls", &cfb(&stream));
        assert!(message.contains("lay out more than"), "{message}");
        // Found by the `xls` fuzz target (a 5.6 KB file took 10 s and 1 GB): two cells at
        // opposite corners of 65,536 rows × 231 columns lay out 15,138,816 slots, under the
        // 20,000,000 limit, but calamine hands out a copy of the range it read, so it held
        // 30,277,632; the copy now counts.
        let stream = biff(None, &[number(0, 0, 1.0), number(65_535, 230, 2.0)], 1);
        let message = xls_refusal("corners.xls", &cfb(&stream));
        assert!(message.contains("lay out more than"), "{message}");
        // One sheet listed many times is read as many times.
        let cells: Vec<Vec<u8>> = vec![number(0, 0, 1.0), number(4_000, 200, 2.0)];
        let stream = biff(None, &cells, 30);
        let message = xls_refusal("copies.xls", &cfb(&stream));
        assert!(message.contains("lay out more than"), "{message}");
        // Labels stating 65,535 characters and holding none: calamine reserves each.
        let labels: Vec<Vec<u8>> = (0..9_000).map(|i| label(i, 0, u16::MAX, "")).collect();
        let message = xls_refusal("labels.xls", &cfb(&biff(None, &labels, 1)));
        assert!(message.contains("MiB of text"), "{message}");
        // One long shared string copied into many cells.
        let long = "x".repeat(30_000);
        let cells: Vec<Vec<u8>> = (0..20_000).map(|i| label_sst(i, 0, 0)).collect();
        let message = xls_refusal("shared.xls", &cfb(&biff(Some(sst(&[&long])), &cells, 1)));
        assert!(message.contains("MiB of text"), "{message}");
    }

    #[test]
    fn damaged_compound_documents_are_refused() {
        let good = cfb(&biff(None, &[number(0, 0, 1.0), number(1, 0, 2.0)], 1));
        // The directory in a sector far past the end of the file.
        let mut far = good.clone();
        far[48..52].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let message = xls_refusal("far.xls", &far);
        assert!(message.contains("past the end of the file"), "{message}");
        // The stream's last sector chained back to its first.
        let mut looped = good.clone();
        let (first, last) = (2u32, 2 + 8 - 1);
        looped[512 + 4 * last..512 + 4 * last + 4].copy_from_slice(&first.to_le_bytes());
        let message = xls_refusal("loop.xls", &looped);
        assert!(message.contains("loops"), "{message}");
        // A sector table stated larger than the file.
        let mut fat = good.clone();
        fat[44..48].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let message = xls_refusal("fat.xls", &fat);
        assert!(message.contains("impossible sizes"), "{message}");
        // The intact file reads.
        let dir = tempfile::TempDir::new().expect("temp");
        let path = write_xls(dir.path(), "good.xls", &good);
        assert_eq!(read_raw(&path, 10).expect("reads").rows.len(), 2);
    }
}
