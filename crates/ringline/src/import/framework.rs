//! The import framework (SPEC C8, import part) for the kinds of [`super::spec`]: reading and
//! locating the sheet, and the kinds described by [`crate::kind`] through its generic driver;
//! units, party organizations and party members here; dispatched cadres, twinning, village
//! needs and work logs in [`super::dispatch_kinds`]; all with the same checker, plan and apply.
//!
//! 1. **Read** a file ([`super::table::read_raw`]: XLSX/XLS/ODS, CSV in UTF-8 or GBK/GB18030,
//!    `.gz`) into rows, at most [`MAX_ROWS`], and **find the header** ([`locate_header`]): the row
//!    among the first [`HEADER_SEARCH_ROWS`] that names the most known columns, title rows above
//!    it ignored, and an empty header cell taken from the nearest non-empty cell above it (a
//!    header merged across two rows keeps its text in the upper cell).
//! 2. **Check every row** ([`ringline_core::cell`] normalises what people type: full-width
//!    characters, stray spaces, `x` in ID numbers, numbers stored as text, Excel date serials and
//!    the usual date spellings), collecting every problem with its sheet, row (as the user sees it
//!    in the file), column, value and reason. Rows repeating a natural key are errors.
//! 3. **Plan** against the database: resolve references (party organization by code or full
//!    name, units by credit code or name, divisions), refuse rows outside the importer's scope,
//!    and match existing records by natural key (credit code, organization code, ID number): each
//!    row is new, changed (updated or skipped, as the user chose), or unchanged. A member or cadre
//!    row whose ID number belongs to a record outside the scope is *held* (`Op::Held`,
//!    [`super::held`]): reported as new, written only as a held row for the county.
//! 4. **Apply** only a plan without errors, inside one transaction that first takes the lock
//!    of the kind and county ([`crate::db::lock_writers`]; imports of the same records wait for
//!    each other) and then re-plans, so what is written is exactly what was checked, two imports
//!    of one file write it once, and a failure leaves the database as it was. Given the dry run's
//!    counts ([`Options::expected`]), an apply that finds them changed writes nothing
//!    ([`ImportError::Changed`]). One audit entry records the import (kind, file, counts).
//!
//! Personal data (ID numbers, phones) is never quoted in an issue's value: it is masked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use ringline_core::cell::{self, CellError};
use ringline_core::credit_code::CreditCode;
use ringline_core::division::{DivisionCode, Level};
use ringline_core::geo::{LonLat, in_china};
use ringline_core::id_number::{IdNumber, Sex};
use ringline_core::mask::{mask_id_number, mask_phone};
use ringline_core::text::check_name;
use serde::Serialize;

use super::Issue;
use super::spec::{ColumnSpec, KindSpec};
use super::table::{RawSheet, Row, read_raw_sheet};
use crate::access::{Access, Permission};
use crate::db::schema::{divisions, members, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbError, now};
use crate::registry::{self, NewMember, NewOrg, NewUnit};
pub(super) use crate::registry::{resolve_org, resolve_unit};

/// Most data rows read from one file; a longer file is refused before it fills memory.
pub const MAX_ROWS: usize = 500_000;
/// How many rows from the top are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 20;
/// Longest name accepted (units, organizations, people), in characters.
pub const MAX_NAME: usize = 100;
/// Longest free text accepted (addresses, employers, lists of units), in characters.
pub const MAX_TEXT: usize = 500;

/// What to do with a row whose natural key matches a stored record that differs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default, clap::ValueEnum, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    /// Overwrite the stored record with the row.
    Update,
    /// Keep the stored record; the row is counted as skipped.
    #[default]
    Skip,
}

/// The stage of a running import, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Reading the file.
    Reading,
    /// Checking rows.
    Checking,
    /// Writing to the database.
    Writing,
}

/// Progress callback: stage, rows done, rows in all (0 when unknown).
pub type Progress<'a> = &'a mut dyn FnMut(Stage, usize, usize);

/// A file read and its header located.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// File name as given.
    pub file: String,
    /// Sheet name (spreadsheets).
    pub sheet: Option<String>,
    /// Row (1-based, as seen in the file) of the header.
    pub header_line: usize,
    /// Header texts as understood (merged cells filled from above).
    pub headers: Vec<String>,
    /// Data rows below the header.
    pub rows: Vec<Row>,
    /// Column key → index into the row cells.
    pub columns: HashMap<&'static str, usize>,
    /// The workbook's visible sheets (empty for text files).
    pub sheets: Vec<String>,
    /// What the reader noticed about the file as a whole: columns whose header is not
    /// recognised but hold values (with the nearest known header), an error workbook uploaded
    /// again. Reported as warnings.
    pub notes: Vec<Issue>,
}

/// The outcome of a dry run or an import.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct Report {
    /// Kind key (`units`, `orgs`, `members`).
    pub kind: String,
    /// File name.
    pub file: String,
    /// Sheet read (spreadsheets).
    pub sheet: Option<String>,
    /// The workbook's visible sheets, so another can be chosen (empty for text files).
    pub sheets: Vec<String>,
    /// Row of the header in the file (0 when not found).
    pub header_line: usize,
    /// Data rows read.
    pub rows: usize,
    /// Rows that would create (dry run) or created records.
    pub new: usize,
    /// Rows that would update or updated records.
    pub updated: usize,
    /// Rows equal to the stored record.
    pub unchanged: usize,
    /// Rows matching a stored record that differs, left alone (`on_existing = skip`).
    pub skipped: usize,
    /// Whether the changes were written.
    pub applied: bool,
    /// Problems that stop the import.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<Issue>,
    /// Things worth checking that do not stop it (a pilot credit code, a converted ID number).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Issue>,
    /// Updates that need the user's confirmation before they are applied: a record renamed (a
    /// different person under the same ID number), a stored value emptied.
    #[schema(value_type = Vec<Object>)]
    pub confirm: Vec<Issue>,
    /// Rows matching a stored record that differs (updated or skipped), each field's stored and
    /// new value (personal data masked); at most [`crate::kind::import::LISTED_CHANGES`].
    pub changes: Vec<crate::kind::import::RowChange>,
    /// The applied import's number, for undoing it.
    pub run_id: Option<i64>,
}

impl Report {
    /// Whether the file can be (or was) imported.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// What the rows do (or did), in counts.
    pub fn counts(&self) -> Counts {
        Counts {
            new: self.new,
            updated: self.updated,
            unchanged: self.unchanged,
            skipped: self.skipped,
        }
    }
}

/// What a file's rows do, counted: the figures a person reads in a dry run before applying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Rows creating records.
    pub new: usize,
    /// Rows updating records.
    pub updated: usize,
    /// Rows equal to the stored record.
    pub unchanged: usize,
    /// Rows matching a stored record that differs, left alone.
    pub skipped: usize,
}

/// Why an import could not run at all (the file's own problems are [`Report::errors`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The caller may not import.
    #[error("your role may not import records")]
    Forbidden,
    /// Another writer changed the records after they were checked: the apply, re-checking under
    /// the writers' lock, found other counts than [`Options::expected`], or a unique key was
    /// taken at the same moment. Nothing was written; check the file again.
    #[error("another import changed these records after they were checked; nothing was written — check the file again")]
    Changed,
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Db(DbError::from(e))
    }
}

/// Options of an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// What to do with rows matching a stored record that differs.
    pub on_existing: OnExisting,
    /// Write the changes (otherwise a dry run).
    pub apply: bool,
    /// Mark written records as illustrative (generated demo data).
    pub illustrative: bool,
    /// Apply the updates that need confirmation (see [`Report::confirm`]).
    pub confirm: bool,
    /// The counts of the dry run the person saw before applying. The apply re-checks the file
    /// after taking the writers' lock; when the counts differ from these (another import wrote
    /// some of the records meanwhile) it writes nothing and answers [`ImportError::Changed`].
    /// `None` applies whatever the re-check finds (a one-step apply, as on the command line).
    pub expected: Option<Counts>,
}

/// Reads `path` and checks, plans and (with `opts.apply`) applies it as records of `kind`.
/// `name` is the file name shown in messages (the uploaded name on the web).
///
/// # Errors
/// [`ImportError`] when the database fails or the caller may not import; everything wrong with
/// the file is in the returned report's errors.
pub fn import_file(
    conn: &mut DbConn,
    access: &Access,
    kind: &'static KindSpec,
    path: &Path,
    name: &str,
    opts: Options,
    progress: Progress,
) -> Result<(Report, Option<Sheet>), ImportError> {
    import_file_sheet(conn, access, kind, path, name, None, opts, progress)
}

/// [`import_file`] reading the workbook's sheet named `sheet` (`None`: the first visible one).
///
/// # Errors
/// As [`import_file`]; a sheet that is not in the workbook is an error of the report.
#[allow(clippy::too_many_arguments)]
pub fn import_file_sheet(
    conn: &mut DbConn,
    access: &Access,
    kind: &'static KindSpec,
    path: &Path,
    name: &str,
    sheet: Option<&str>,
    opts: Options,
    progress: Progress,
) -> Result<(Report, Option<Sheet>), ImportError> {
    if !may_import(access) {
        return Err(ImportError::Forbidden);
    }
    progress(Stage::Reading, 0, 0);
    let raw = match read_raw_sheet(path, MAX_ROWS + HEADER_SEARCH_ROWS, sheet) {
        Ok(mut raw) => {
            raw.file = name.to_string();
            raw
        }
        Err(e) => {
            let msg = e.to_string().replace(&path.display().to_string(), name);
            let mut i = issue(name, None, 0, "", "", read_error_key(&e), msg.clone());
            // The reader's own explanation (a line, a column, a limit), for translated texts.
            let detail = msg
                .strip_prefix(name)
                .map(|m| m.trim_start_matches([':', ' ']))
                .unwrap_or(&msg)
                .to_string();
            i.args = vec![("detail", detail)];
            return Ok((
                Report {
                    kind: kind.key.into(),
                    file: name.into(),
                    errors: vec![i],
                    ..Report::default()
                },
                None,
            ));
        }
    };
    let (read, sheets) = (raw.sheet.clone(), raw.sheets.clone());
    let sheet = match locate_header(raw, kind) {
        Ok(s) => s,
        Err(errors) => {
            return Ok((
                Report {
                    kind: kind.key.into(),
                    file: name.into(),
                    sheet: read,
                    sheets,
                    errors,
                    ..Report::default()
                },
                None,
            ));
        }
    };
    let report = import_sheet(conn, access, kind, &sheet, opts, progress)?;
    Ok((report, Some(sheet)))
}

/// Whether `access` may import registry records (county and town administrators, within their
/// scope).
pub fn may_import(access: &Access) -> bool {
    access.can(Permission::Import)
}

fn read_error_key(e: &super::table::ReadError) -> &'static str {
    use super::table::ReadError as E;
    match e {
        E::Io { .. } => "file-unreadable",
        E::Empty { .. } => "file-empty",
        E::NoRows { .. } => "file-no-rows",
        E::Encoding { .. } | E::NotGbk { .. } | E::Utf16 { .. } => "file-encoding",
        E::NulByte { .. } => "file-nul-byte",
        E::TooLarge { .. } => "file-too-large",
        E::TooManyRows { .. } => "file-too-many-rows",
        E::Csv { .. } => "file-malformed-csv",
        E::Spreadsheet { .. } => "file-not-spreadsheet",
        E::UnknownType { .. } => "file-unknown-type",
        E::NoSuchSheet { .. } => "file-no-such-sheet",
    }
}

/// Builds an issue.
pub(super) fn issue(
    file: &str,
    sheet: Option<&str>,
    line: usize,
    column: &str,
    value: &str,
    key: &str,
    message: String,
) -> Issue {
    Issue {
        file: file.to_string(),
        sheet: sheet.map(str::to_string),
        line,
        column: column.to_string(),
        value: value.to_string(),
        key: key.to_string(),
        message,
        ..Default::default()
    }
}

/// Header cells compare case-insensitively (full-width folded), ignoring spaces, `_`, `-` and
/// `*` (a "required" marker).
fn header_norm(s: &str) -> String {
    cell::fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The header without a trailing note in brackets (`入党日期(年月日)` → `入党日期`); brackets
/// inside a header (`所在村(社区)代码`) are part of it.
fn without_trailing_note(h: &str) -> Option<&str> {
    let h = h.strip_suffix([')', ']'])?;
    let open = h.rfind(['(', '['])?;
    (open > 0).then(|| &h[..open])
}

/// The column a header names: the whole header first, then without a trailing note.
fn column_of(kind: &'static KindSpec, header: &str) -> Option<&'static ColumnSpec> {
    let h = header_norm(header);
    if h.is_empty() {
        return None;
    }
    let find = |h: &str| kind.columns.iter().find(|c| c.names().any(|n| header_norm(n) == h));
    find(&h).or_else(|| without_trailing_note(&h).and_then(find))
}

/// Finds the header row of `raw` for `kind` (module docs) and maps its columns.
///
/// # Errors
/// Issues naming the file: no header among the first rows, a required column missing, a
/// column given twice, no data rows.
pub fn locate_header(raw: RawSheet, kind: &'static KindSpec) -> Result<Sheet, Vec<Issue>> {
    let file = raw.file.clone();
    let sheet = raw.sheet.clone();
    let search = raw.rows.len().min(HEADER_SEARCH_ROWS);
    let combined = |h: usize| -> Vec<String> {
        let width = raw.rows[..=h].iter().map(|r| r.cells.len()).max().unwrap_or(0);
        (0..width)
            .map(|c| {
                (0..=h)
                    .rev()
                    .map(|r| raw.rows[r].get(c))
                    .find(|t| !t.is_empty())
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let score = |headers: &[String]| {
        headers
            .iter()
            .filter_map(|h| column_of(kind, h))
            .map(|c| c.key)
            .collect::<HashSet<_>>()
            .len()
    };
    let mut best: Option<(usize, usize, Vec<String>)> = None;
    for h in 0..search {
        // Cells filled from above only where this row is empty: a title row above a real
        // header contributes nothing to columns the header names itself.
        let headers = combined(h);
        let s = score(&headers);
        if s > 0 && best.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
            best = Some((h, s, headers));
        }
    }
    let Some((h, _, headers)) = best else {
        let expected: Vec<&str> = kind.columns.iter().filter(|c| c.required).map(|c| c.zh).collect();
        let mut i = issue(
            &file,
            sheet.as_deref(),
            0,
            "",
            "",
            "header-not-found",
            format!(
                "no header row found in the first {HEADER_SEARCH_ROWS} rows; the header must name the columns, e.g. {}",
                expected.join(", ")
            ),
        );
        i.args = vec![("expected", expected.join("、"))];
        return Err(vec![i]);
    };
    let header_line = raw.rows[h].line;
    let mut errors = Vec::new();
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    for (i, text) in headers.iter().enumerate() {
        if let Some(c) = column_of(kind, text) {
            if let Some(&first) = columns.get(c.key) {
                errors.push(issue(
                    &file,
                    sheet.as_deref(),
                    header_line,
                    text,
                    text,
                    "header-duplicate-column",
                    if headers[first] == *text {
                        format!("the column {text} appears twice; keep one")
                    } else {
                        format!(
                            "the columns {:?} and {text:?} both mean {}; keep one",
                            headers[first], c.zh
                        )
                    },
                ));
            } else {
                columns.insert(c.key, i);
            }
        }
    }
    for c in kind.columns.iter().filter(|c| c.required) {
        if !columns.contains_key(c.key) {
            errors.push(issue(
                &file,
                sheet.as_deref(),
                header_line,
                c.zh,
                "",
                "header-missing-column",
                format!(
                    "the required column {} ({}) is missing; add it (download the template to see every column)",
                    c.zh, c.en
                ),
            ));
        }
    }
    let rows: Vec<Row> = raw.rows.into_iter().skip(h + 1).collect();
    let mut notes = Vec::new();
    if raw.error_workbook {
        notes.push(issue(
            &file,
            sheet.as_deref(),
            0,
            "",
            "",
            "error-workbook",
            "this is an error workbook: it holds only the rows that had errors; fix them in the original file, or import these rows and then the others".into(),
        ));
    }
    let mapped: HashSet<usize> = columns.values().copied().collect();
    for (i, text) in headers.iter().enumerate() {
        if mapped.contains(&i) || text.trim().is_empty() || !rows.iter().any(|r| !r.get(i).is_empty()) {
            continue;
        }
        // The row number and error columns an error workbook adds.
        if raw.error_workbook && ["原行号", "row", "错误说明", "errors"].contains(&text.trim()) {
            continue;
        }
        let (nearest, nearest_key) = nearest_header(kind, text);
        let mut n = issue(
            &file,
            sheet.as_deref(),
            header_line,
            text,
            text,
            "header-unknown-column",
            format!(
                "the column {text:?} is not one of this kind's columns and is not imported; the nearest known header is {nearest} — rename the header if that is what it holds"
            ),
        );
        n.cell = crate::kind::import::column_letter(i);
        n.field = nearest_key.to_string();
        n.args = vec![("nearest", nearest.to_string())];
        notes.push(n);
    }
    if rows.is_empty() {
        errors.push(issue(
            &file,
            sheet.as_deref(),
            header_line,
            "",
            "",
            "file-no-rows",
            "the file has a header but no data rows".into(),
        ));
    }
    if rows.len() > MAX_ROWS {
        errors.push(issue(
            &file,
            sheet.as_deref(),
            0,
            "",
            "",
            "file-too-many-rows",
            format!("the file has more than {MAX_ROWS} rows; split it into files of at most {MAX_ROWS} rows"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Sheet {
        file,
        sheet,
        header_line,
        headers,
        rows,
        columns,
        sheets: raw.sheets,
        notes,
    })
}

/// The known header nearest to an unrecognised one, by edit distance over characters
/// (Levenshtein, `strsim`), between the normalised texts of every name a column answers to;
/// the column's Chinese header for a header written with Chinese characters, else its English
/// one. Returns that header and the column's key.
fn nearest_header(kind: &'static KindSpec, header: &str) -> (&'static str, &'static str) {
    let h = header_norm(header);
    let chinese = !header.is_ascii();
    kind.columns
        .iter()
        .flat_map(|c| c.names().map(move |n| (c, n)))
        .map(|(c, n)| {
            let n = header_norm(n);
            // Ties go to the shorter name: "手机" before "手机号码".
            (strsim::levenshtein(&h, &n), n.chars().count(), c)
        })
        .min_by_key(|(d, len, _)| (*d, *len))
        .map(|(_, _, c)| (if chinese { c.zh } else { c.en }, c.key))
        .unwrap_or(("", ""))
}

/// Collects issues while rows are checked.
pub(super) struct Checker<'a> {
    pub(super) sheet: &'a Sheet,
    pub(super) kind: &'static KindSpec,
    pub(super) errors: Vec<Issue>,
    pub(super) warnings: Vec<Issue>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(sheet: &'a Sheet, kind: &'static KindSpec) -> Self {
        Checker {
            sheet,
            kind,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The header text of a column as written in the file (or its Chinese name).
    pub(super) fn header(&self, key: &str) -> String {
        self.sheet
            .columns
            .get(key)
            .and_then(|&i| self.sheet.headers.get(i))
            .cloned()
            .or_else(|| self.kind.column(key).map(|c| c.zh.to_string()))
            .unwrap_or_default()
    }

    pub(super) fn raw<'r>(&self, row: &'r Row, key: &str) -> &'r str {
        self.sheet.columns.get(key).map_or("", |&i| row.get(i))
    }

    pub(super) fn push(&mut self, warning: bool, row: &Row, key: &str, value: &str, rule: &str, message: String) {
        let i = issue(
            &self.sheet.file,
            self.sheet.sheet.as_deref(),
            row.line,
            &self.header(key),
            value,
            rule,
            message,
        );
        if warning {
            self.warnings.push(i);
        } else {
            self.errors.push(i);
        }
    }

    pub(super) fn error(&mut self, row: &Row, key: &str, value: &str, rule: &str, message: impl Into<String>) {
        self.push(false, row, key, value, rule, message.into());
    }

    pub(super) fn warn(&mut self, row: &Row, key: &str, value: &str, rule: &str, message: impl Into<String>) {
        self.push(true, row, key, value, rule, message.into());
    }

    pub(super) fn cell_error(&mut self, row: &Row, key: &str, value: &str, e: &CellError) {
        self.error(row, key, value, e.key(), e.to_string());
        if let CellError::NotAChoice { allowed } = e {
            self.args(vec![("allowed", allowed.clone())]);
        }
    }

    /// Refuses the cells of a row that hold an Excel error (`#DIV/0!`, `#N/A`, …) instead of a
    /// value: a formula went wrong in the user's workbook.
    pub(super) fn excel_errors(&mut self, row: &Row) {
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        for c in self.kind.columns {
            let v = self.raw(row, c.key);
            if super::table::is_excel_error(v.trim()) {
                bad.push((c.key, v.trim().to_string()));
            }
        }
        for (key, v) in bad {
            self.error(
                row,
                key,
                &v,
                "cell-excel-error",
                format!("the cell holds the Excel error {v} instead of a value; fix the formula or type the value"),
            );
        }
    }

    /// Sets the translation arguments of the last error.
    pub(super) fn args(&mut self, args: Vec<(&'static str, String)>) {
        if let Some(last) = self.errors.last_mut() {
            last.args = args;
        }
    }

    pub(super) fn required(&mut self, row: &Row, key: &str) -> Option<String> {
        let v = cell::clean(self.raw(row, key));
        if v.is_empty() {
            let zh = self.kind.column(key).map_or(key, |c| c.zh);
            self.error(row, key, "", "value-missing", format!("{zh} is required; fill it in"));
            return None;
        }
        Some(v)
    }

    /// Free text (addresses, employers, references): at most [`MAX_TEXT`] characters, no
    /// control, bidirectional or zero-width characters.
    pub(super) fn text(&mut self, row: &Row, key: &str) -> String {
        let v = cell::clean(self.raw(row, key));
        if v.chars().count() > MAX_TEXT {
            let shown = crate::import::shorten(&v, 40);
            self.error(
                row,
                key,
                &shown,
                "text-too-long",
                format!("longer than {MAX_TEXT} characters; shorten it"),
            );
            return String::new();
        }
        if let Some(c) = v.chars().find(|c| ringline_core::text::is_invisible(*c)) {
            self.error(
                row,
                key,
                "",
                "name-invisible-character",
                format!(
                    "contains an invisible or control character (U+{:04X}); retype it",
                    c as u32
                ),
            );
            return String::new();
        }
        v
    }

    pub(super) fn name(&mut self, row: &Row, key: &str) -> Option<String> {
        let raw = self.raw(row, key).to_string();
        let v = cell::name(&raw);
        if v.is_empty() {
            return self.required(row, key);
        }
        match check_name(&v, MAX_NAME) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(row, key, &raw, e.key(), e.to_string());
                None
            }
        }
    }

    pub(super) fn choice(&mut self, row: &Row, key: &str, required: bool) -> Option<&'static str> {
        let raw = self.raw(row, key).to_string();
        if cell::clean(&raw).is_empty() {
            if required {
                self.required(row, key);
            }
            return None;
        }
        let choices = self.kind.column(key).map_or(&[][..], |c| c.choices);
        match cell::choice(&raw, choices) {
            Ok(k) => choices.iter().find(|c| c.0 == k).map(|c| c.0),
            Err(e) => {
                self.cell_error(row, key, &raw, &e);
                None
            }
        }
    }

    /// An optional cell read with `parse`: `None` when empty, or when it does not parse (the
    /// error is recorded).
    fn optional<T>(&mut self, row: &Row, key: &str, parse: fn(&str) -> Result<T, CellError>) -> Option<T> {
        let raw = self.raw(row, key).to_string();
        if cell::clean(&raw).is_empty() {
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.cell_error(row, key, &raw, &e);
                None
            }
        }
    }

    pub(super) fn date(&mut self, row: &Row, key: &str) -> Option<NaiveDate> {
        self.optional(row, key, cell::date)
    }

    pub(super) fn count(&mut self, row: &Row, key: &str) -> Option<i32> {
        let n = self.optional(row, key, cell::integer)?;
        match i32::try_from(n) {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                let raw = self.raw(row, key).to_string();
                self.error(row, key, &raw, "value-negative", "must be a whole number of 0 or more");
                None
            }
        }
    }

    pub(super) fn decimal(&mut self, row: &Row, key: &str) -> Option<f64> {
        self.optional(row, key, cell::decimal)
    }

    pub(super) fn code(&mut self, row: &Row, key: &str) -> Option<String> {
        let raw = self.raw(row, key).to_string();
        match cell::code(&raw) {
            Ok(v) if v.is_empty() => None,
            Ok(v) => Some(v),
            Err(e) => {
                let shown = if key == "id_number" { String::new() } else { raw };
                self.cell_error(row, key, &shown, &e);
                None
            }
        }
    }

    /// A division code naming a stored, active division of one of `levels`.
    pub(super) fn division(&mut self, row: &Row, key: &str, ctx: &Context, levels: &[Level]) -> Option<String> {
        let raw = self.raw(row, key).to_string();
        let v = self.code(row, key)?;
        let code = match DivisionCode::parse(&v) {
            Ok(c) => c,
            Err(e) => {
                self.error(row, key, &raw, e.key(), e.to_string());
                return None;
            }
        };
        match ctx.divisions.get(code.as_str()) {
            None if ctx.retired.contains_key(code.as_str()) => {
                let on = ctx.retired[code.as_str()].to_string();
                self.error(
                    row,
                    key,
                    &raw,
                    "division-retired",
                    format!(
                        "{} was retired on {on}: its records stay readable, but nothing new can be recorded for it; use the code that replaced it",
                        code.as_str()
                    ),
                );
                self.args(vec![("code", code.as_str().to_string()), ("date", on)]);
                None
            }
            None => {
                self.error(
                    row,
                    key,
                    &raw,
                    "division-unknown",
                    format!(
                        "{} is not a division code in use here; check the 12-digit code",
                        code.as_str()
                    ),
                );
                None
            }
            Some(level) if !levels.iter().any(|l| l.as_str() == level) => {
                let wanted: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
                self.error(
                    row,
                    key,
                    &raw,
                    "division-wrong-level",
                    format!(
                        "{} is a {level} code; a {} code is needed here",
                        code.as_str(),
                        wanted.join(" or ")
                    ),
                );
                self.args(vec![("level", level.clone()), ("wanted", wanted.join("/"))]);
                None
            }
            Some(_) => Some(code.as_str().to_string()),
        }
    }

    pub(super) fn in_scope(&mut self, row: &Row, key: &str, access: &Access, division: &str) -> bool {
        if access.sees_code(division) {
            return true;
        }
        let raw = self.raw(row, key).to_string();
        self.error(
            row,
            key,
            &raw,
            "outside-scope",
            format!("{division} is outside your area; only records within your scope can be imported"),
        );
        false
    }
}

/// What the database holds that rows refer to, loaded once per import.
pub(super) struct Context {
    /// Active division code → level.
    pub(super) divisions: HashMap<String, String>,
    /// Retired division code → the day it was retired.
    pub(super) retired: HashMap<String, chrono::NaiveDate>,
    pub(super) units: registry::UnitIndex,
    pub(super) orgs: registry::OrgIndex,
}

fn load_context(conn: &mut DbConn) -> Result<Context, ImportError> {
    let rows: Vec<(String, String)> = divisions::table
        .filter(divisions::status.eq(crate::divisions::ACTIVE))
        .select((divisions::code, divisions::level))
        .load(conn)?;
    Ok(Context {
        divisions: rows.into_iter().collect(),
        retired: crate::divisions::retired(conn)?,
        units: registry::unit_index(conn)?,
        orgs: registry::org_index(conn)?,
    })
}

/// Checks, plans and optionally applies a located sheet (see [`import_file`]).
///
/// # Errors
/// [`ImportError`] for database failures and a caller who may not import.
pub fn import_sheet(
    conn: &mut DbConn,
    access: &Access,
    kind: &'static KindSpec,
    sheet: &Sheet,
    opts: Options,
    progress: Progress,
) -> Result<Report, ImportError> {
    if !may_import(access) {
        return Err(ImportError::Forbidden);
    }
    let mut report = Report {
        kind: kind.key.into(),
        file: sheet.file.clone(),
        sheet: sheet.sheet.clone(),
        header_line: sheet.header_line,
        rows: sheet.rows.len(),
        ..Report::default()
    };
    let run = |conn: &mut DbConn, report: &mut Report, progress: Progress| -> Result<bool, ImportError> {
        if let Some(id) = crate::kind::KindId::parse(kind.key) {
            // Kinds described by `crate::kind` import through its generic driver.
            let mut cx = crate::kind::Cx::new(conn, access, crate::clock::Clock::system());
            *report = id.ops().import(&mut cx, sheet, opts, progress)?;
            if !report.applied {
                return Ok(false);
            }
            report.applied = false;
            crate::audit::record(
                conn,
                access,
                crate::audit::Change {
                    action: "import",
                    entity: id.desc().entity,
                    entity_id: &sheet.file,
                    detail: format!(
                        "{}: {} rows, {} new, {} updated, {} unchanged, {} skipped (import {})",
                        sheet.file,
                        report.rows,
                        report.new,
                        report.updated,
                        report.unchanged,
                        report.skipped,
                        report.run_id.unwrap_or_default()
                    ),
                    scope: access_scope_prefix(access),
                    ..Default::default()
                },
            )?;
            return Ok(true);
        }
        let ctx = load_context(conn)?;
        let mut ch = Checker::new(sheet, kind);
        let plan = match kind.key {
            "units" => Plan::Units(check_units(conn, access, &mut ch, &ctx, opts, progress)?),
            "orgs" => Plan::Orgs(check_orgs(conn, access, &mut ch, &ctx, opts, progress)?),
            "members" => Plan::Members(check_members(conn, access, &mut ch, &ctx, opts, progress)?),
            _ => Plan::Dispatch(super::dispatch_kinds::check(
                conn, access, &mut ch, &ctx, opts, progress,
            )?),
        };
        report.errors = ch.errors;
        report.warnings = ch.warnings;
        let counts = plan.counts();
        (report.new, report.updated, report.unchanged, report.skipped) = counts;
        if !report.errors.is_empty() || !opts.apply {
            return Ok(false);
        }
        if let Some(expected) = opts.expected
            && expected != report.counts()
        {
            return Err(ImportError::Changed);
        }
        progress(Stage::Writing, 0, counts.0 + counts.1);
        plan.write(conn, access, &sheet.file, opts, progress)?;
        crate::audit::record(
            conn,
            access,
            crate::audit::Change {
                action: "import",
                entity: kind_entity(kind),
                entity_id: &sheet.file,
                detail: format!(
                    "{}: {} rows, {} new, {} updated, {} unchanged, {} skipped",
                    sheet.file, report.rows, counts.0, counts.1, counts.2, counts.3
                ),
                scope: access_scope_prefix(access),
                ..Default::default()
            },
        )?;
        Ok(true)
    };
    if opts.apply {
        // A bulk write touches index pages all over the tables: give SQLite a larger page cache
        // (128 MiB) for this connection while it lasts (the default is 2 MiB).
        if let DbConn::Sqlite(c) = conn {
            use diesel::connection::SimpleConnection;
            c.batch_execute("PRAGMA cache_size = -131072")?;
        }
        // Re-plan inside the writing transaction, after taking the lock that makes imports of
        // this kind into the same county wait for each other, so what is written is what was
        // checked, and two imports of one file cannot both find its records new.
        let mut written = false;
        let result = crate::db::write_transaction::<_, ImportError, _>(conn, |conn| {
            crate::db::lock_writers(conn, kind.key, write_area(access))?;
            written = run(conn, &mut report, progress)?;
            if written {
                Ok(())
            } else {
                // Nothing to write (errors found): end the transaction without changes.
                Err(ImportError::Db(DbError::Task("rollback".into())))
            }
        });
        if let DbConn::Sqlite(c) = conn {
            use diesel::connection::SimpleConnection;
            c.batch_execute("PRAGMA cache_size = -2000")?;
        }
        match result {
            Ok(()) => report.applied = written,
            Err(ImportError::Db(DbError::Task(t))) if t == "rollback" => {}
            // A key taken by a writer outside the imports' lock (a form, another kind).
            Err(ImportError::Db(e)) if e.is_conflict() => return Err(ImportError::Changed),
            Err(e) => return Err(e),
        }
    } else {
        run(conn, &mut report, progress)?;
    }
    report.sheet.clone_from(&sheet.sheet);
    report.sheets.clone_from(&sheet.sheets);
    report.header_line = sheet.header_line;
    let mut warnings = sheet.notes.clone();
    warnings.append(&mut report.warnings);
    report.warnings = warnings;
    in_file_order(&mut report.errors);
    in_file_order(&mut report.warnings);
    in_file_order(&mut report.confirm);
    Ok(report)
}

/// Sorts issues as a person reads the file: the whole file's first, then by row, and within a
/// row by column (A, B, … AA); the order of issues at one place is kept.
pub fn in_file_order(issues: &mut [Issue]) {
    let column = |cell: &str| {
        cell.chars()
            .filter(char::is_ascii_uppercase)
            .fold(0usize, |n, c| n * 26 + (c as usize - 'A' as usize + 1))
    };
    issues.sort_by_key(|i| (i.line, if i.cell.is_empty() { 0 } else { column(&i.cell) }));
}

/// Where an import by `access` writes, for [`crate::db::lock_writers`]: the county of a scope
/// at county level or below (its rows outside the scope are refused), else everywhere.
fn write_area(access: &Access) -> crate::db::WriteArea<'_> {
    match &access.scope {
        crate::access::Scope::Division(code) if code.level().depth() >= Level::County.depth() => {
            crate::db::WriteArea::County(&code.as_str()[..6])
        }
        _ => crate::db::WriteArea::Everywhere,
    }
}

fn kind_entity(kind: &KindSpec) -> &'static str {
    match kind.key {
        "units" => "unit",
        "orgs" => "party_org",
        "cadres" => "cadre",
        "twinning" => "twinning",
        "needs" => "village_need",
        "work_logs" => "work_log",
        _ => "member",
    }
}

/// The audit scope of an import: the importer's area (a division prefix, `zone:ID` for a zone
/// — never `""`, which every reader reads —, `""` for the system).
fn access_scope_prefix(access: &Access) -> String {
    match &access.scope {
        crate::access::Scope::Division(c) => c.prefix().to_string(),
        s @ crate::access::Scope::Zone(_) => s.as_string(),
        crate::access::Scope::All => String::new(),
    }
}

/// What a checked file will do.
enum Plan {
    Units(Vec<Op<NewUnit>>),
    Orgs(OrgPlan),
    Members(Vec<Op<NewMember>>),
    Dispatch(super::dispatch_kinds::DispatchPlan),
}

/// One row's effect.
pub(super) enum Op<T> {
    New(T),
    Update(i64, T),
    Unchanged,
    Skipped,
    /// A row of a kind keyed by personal data whose key belongs to a record outside the
    /// importer's scope: reported exactly like [`Op::New`], written as a held row
    /// ([`super::held`]) instead of touching the record.
    Held(Box<Held<T>>),
}

/// A row to hold (see [`Op::Held`]): the record its key belongs to, and the row as the update
/// a transfer would write (columns the file lacks filled from the record).
pub(super) struct Held<T> {
    /// The stored record's id.
    pub(super) record_id: i64,
    /// The stored record's division (scope key).
    pub(super) record_division: String,
    /// The division (scope key) the row would give it.
    pub(super) row_division: String,
    /// The row's line in the file.
    pub(super) line: usize,
    /// The row.
    pub(super) row: T,
}

impl<T> Op<T> {
    /// The effect of a checked record `new` on the stored record `id` it matches by natural key:
    /// nothing when they are the `same`, otherwise an update, or — with
    /// [`OnExisting::Skip`] — nothing, counted as skipped.
    pub(super) fn existing(id: i64, same: bool, new: T, on_existing: OnExisting) -> Op<T> {
        if same {
            Op::Unchanged
        } else if on_existing == OnExisting::Update {
            Op::Update(id, new)
        } else {
            Op::Skipped
        }
    }
}

pub(super) fn op_counts<T>(ops: &[Op<T>]) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for op in ops {
        match op {
            // A held row counts as new: the importer cannot tell it from one (module docs).
            Op::New(_) | Op::Held(_) => c.0 += 1,
            Op::Update(..) => c.1 += 1,
            Op::Unchanged => c.2 += 1,
            Op::Skipped => c.3 += 1,
        }
    }
    c
}

impl Plan {
    fn counts(&self) -> (usize, usize, usize, usize) {
        match self {
            Plan::Units(ops) => op_counts(ops),
            Plan::Orgs(p) => op_counts(&p.ops),
            Plan::Members(ops) => op_counts(ops),
            Plan::Dispatch(p) => p.counts(),
        }
    }

    fn write(
        &self,
        conn: &mut DbConn,
        access: &Access,
        file: &str,
        opts: Options,
        progress: Progress,
    ) -> Result<(), ImportError> {
        let total = {
            let c = self.counts();
            c.0 + c.1
        };
        match self {
            Plan::Units(ops) => {
                let new: Vec<NewUnit> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(u) => Some(u.clone()),
                        _ => None,
                    })
                    .collect();
                registry::insert_units(conn, &new)?;
                let mut done = new.len();
                progress(Stage::Writing, done, total);
                for op in ops {
                    if let Op::Update(id, u) = op {
                        let before = load_units(conn, &[*id])?.remove(id);
                        audit_update(
                            conn,
                            access,
                            "unit",
                            *id,
                            before.as_ref().map(unit_json),
                            unit_json(u),
                            &u.division_code,
                        )?;
                        if before.as_ref().is_some_and(|b| b.division_code != u.division_code) {
                            // Organizations hosted by a unit are where the unit is; their members follow.
                            let hosted: Vec<i64> = party_orgs::table
                                .filter(party_orgs::unit_id.eq(*id))
                                .select(party_orgs::id)
                                .load(conn)?;
                            diesel::update(party_orgs::table.filter(party_orgs::id.eq_any(&hosted)))
                                .set(party_orgs::division_code.eq(&u.division_code))
                                .execute(conn)?;
                            diesel::update(members::table.filter(members::party_org_id.eq_any(&hosted)))
                                .set(members::division_code.eq(&u.division_code))
                                .execute(conn)?;
                        }
                        diesel::update(units::table.find(*id))
                            .set((
                                units::name.eq(&u.name),
                                units::kind.eq(&u.kind),
                                units::credit_code.eq(&u.credit_code),
                                units::credit_code_unverified.eq(u.credit_code_unverified),
                                units::division_code.eq(&u.division_code),
                                units::address.eq(&u.address),
                                units::lon.eq(u.lon),
                                units::lat.eq(u.lat),
                                units::headcount.eq(u.headcount),
                                units::party_member_count.eq(u.party_member_count),
                                units::illustrative.eq(u.illustrative),
                                units::updated_at.eq(u.updated_at),
                            ))
                            .execute(conn)?;
                        done += 1;
                        if done.is_multiple_of(1000) {
                            progress(Stage::Writing, done, total);
                        }
                    }
                }
            }
            Plan::Orgs(p) => p.write(conn, progress)?,
            Plan::Dispatch(p) => p.write(conn, access, file, opts, progress)?,
            Plan::Members(ops) => {
                let new: Vec<NewMember> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(m) => Some(m.clone()),
                        _ => None,
                    })
                    .collect();
                for (i, part) in new.chunks(10_000).enumerate() {
                    registry::insert_members(conn, part)?;
                    progress(Stage::Writing, (i * 10_000 + part.len()).min(total), total);
                }
                let mut done = new.len();
                for op in ops {
                    match op {
                        Op::Update(id, m) => {
                            let before = load_members(conn, &[m.id_number.as_str()])?.remove(&m.id_number);
                            audit_update(
                                conn,
                                access,
                                "member",
                                *id,
                                before.as_ref().map(|(_, b)| member_json(b)),
                                member_json(m),
                                &m.division_code,
                            )?;
                            update_member(conn, *id, m)?;
                        }
                        Op::Held(h) => super::held::hold(conn, access, "members", h, file)?,
                        _ => continue,
                    }
                    done += 1;
                    if done.is_multiple_of(1000) {
                        progress(Stage::Writing, done, total);
                    }
                }
            }
        }
        progress(Stage::Writing, total, total);
        Ok(())
    }
}

pub(super) fn rows_progress(progress: Progress, i: usize, total: usize) {
    if i.is_multiple_of(5_000) {
        progress(Stage::Checking, i, total);
    }
}

/// Reports rows repeating a natural key: every later row names the first.
pub(super) fn duplicates(
    ch: &mut Checker,
    keys: &[(usize, Option<String>)],
    column: &str,
    what: &str,
    personal: bool,
) -> HashSet<usize> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut bad = HashSet::new();
    let rows = &ch.sheet.rows;
    let mut found = Vec::new();
    for (i, k) in keys {
        if let Some(k) = k {
            if let Some(&f) = first.get(k.as_str()) {
                found.push((*i, f, k.clone()));
                bad.insert(*i);
            } else {
                first.insert(k.as_str(), *i);
            }
        }
    }
    for (i, f, k) in found {
        // A unit without a credit code is keyed by name and division: report it on the name.
        let (column, shown) = match k.split_once('\u{1f}') {
            Some((name, _)) if ch.kind.key == "units" => ("name", name.to_string()),
            _ if personal => (column, mask_id_number(&k)),
            _ => (column, k),
        };
        let (row, first_line) = (rows[i].clone(), rows[f].line);
        ch.error(
            &row,
            column,
            &shown,
            "duplicate-in-file",
            format!("the same {what} as row {first_line}; each record may appear only once in a file"),
        );
        ch.args(vec![("first", first_line.to_string())]);
    }
    bad
}

// ---------------------------------------------------------------------------------------------
// Units

fn check_units(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<NewUnit>>, ImportError> {
    let at = now();
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<NewUnit>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let name = ch.name(row, "name");
        let kind = ch.choice(row, "kind", true);
        let (credit_code, unverified) = match ch.code(row, "credit_code") {
            None => (None, false),
            Some(v) => match CreditCode::parse(&v) {
                Err(e) => {
                    ch.error(row, "credit_code", &v, e.key(), e.to_string());
                    (None, false)
                }
                Ok(c) => match c.verify() {
                    Ok(()) => (Some(c.as_str().to_string()), false),
                    Err(e) => {
                        ch.warn(
                            row,
                            "credit_code",
                            &v,
                            "credit-code-unverified",
                            format!("{e}; accepted as an early pilot code — check it against the licence"),
                        );
                        (Some(c.as_str().to_string()), true)
                    }
                },
            },
        };
        let division = ch.division(row, "division", ctx, &[Level::Town, Level::Village]);
        if let Some(d) = &division {
            ch.in_scope(row, "division", access, d);
        }
        let lon = ch.decimal(row, "lon");
        let lat = ch.decimal(row, "lat");
        let point = match (lon, lat) {
            (Some(lon), Some(lat)) => {
                if in_china(LonLat { lon, lat }) {
                    Some((lon, lat))
                } else {
                    ch.error(
                        row,
                        "lon",
                        &format!("{lon}, {lat}"),
                        "point-outside-china",
                        "the point (WGS-84 longitude, latitude) is not in China; check the order and the numbers",
                    );
                    None
                }
            }
            (None, None) => None,
            _ => {
                ch.error(
                    row,
                    "lon",
                    "",
                    "point-unpaired",
                    "give both longitude and latitude, or neither",
                );
                None
            }
        };
        keys.push((
            i,
            match (&credit_code, &name, &division) {
                (Some(c), _, _) => Some(c.clone()),
                (None, Some(n), Some(d)) => Some(format!("{n}\u{1f}{d}")),
                _ => None,
            },
        ));
        let headcount = ch.count(row, "headcount");
        let pmc = ch.count(row, "party_member_count");
        let address = ch.text(row, "address");
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        let (Some(name), Some(kind), Some(division)) = (name, kind, division) else {
            checked.push(None);
            continue;
        };
        checked.push(Some(NewUnit {
            name,
            kind: kind.into(),
            credit_code,
            credit_code_unverified: unverified,
            division_code: division,
            address,
            lon: point.map(|p| p.0),
            lat: point.map(|p| p.1),
            headcount,
            party_member_count: pmc,
            illustrative: opts.illustrative,
            created_at: at,
            updated_at: at,
        }));
    }
    let dups = duplicates(
        ch,
        &keys,
        "credit_code",
        "unit (credit code, or name and division)",
        false,
    );
    // Existing units, by id, for comparison.
    let ids: Vec<i64> = checked
        .iter()
        .flatten()
        .filter_map(|u| existing_unit(&ctx.units, u))
        .collect();
    let stored: HashMap<i64, NewUnit> = load_units(conn, &ids)?;
    let mut ops = Vec::with_capacity(total);
    for (i, u) in checked.into_iter().enumerate() {
        let Some(u) = u else { continue };
        if dups.contains(&i) {
            continue;
        }
        let op = match existing_unit(&ctx.units, &u).and_then(|id| stored.get(&id).map(|s| (id, s))) {
            None => Op::New(u),
            Some((id, s)) => {
                if !access.sees_code(&s.division_code) {
                    let row = ch.sheet.rows[i].clone();
                    ch.error(
                        &row,
                        "credit_code",
                        u.credit_code.as_deref().unwrap_or(""),
                        "outside-scope",
                        "this unit is registered outside your area; ask the county to change it",
                    );
                    continue;
                }
                // Columns the file does not have keep their stored values.
                let mut u = u;
                let has = |k: &str| ch.sheet.columns.contains_key(k);
                if !has("credit_code") {
                    u.credit_code = s.credit_code.clone();
                    u.credit_code_unverified = s.credit_code_unverified;
                }
                if !has("address") {
                    u.address = s.address.clone();
                }
                if !has("lon") && !has("lat") {
                    (u.lon, u.lat) = (s.lon, s.lat);
                }
                if !has("headcount") {
                    u.headcount = s.headcount;
                }
                if !has("party_member_count") {
                    u.party_member_count = s.party_member_count;
                }
                Op::existing(id, same_unit(s, &u), u, opts.on_existing)
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

/// Records one updated record with its values before and after (personal data masked).
fn audit_update(
    conn: &mut DbConn,
    access: &Access,
    entity: &str,
    id: i64,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    division: &str,
) -> Result<(), ImportError> {
    let scope = DivisionCode::parse(division)
        .map(|c| c.prefix().to_string())
        .unwrap_or_default();
    crate::audit::record(
        conn,
        access,
        crate::audit::Change {
            action: "update",
            entity,
            entity_id: &id.to_string(),
            before,
            after: Some(after),
            detail: "import".into(),
            scope,
        },
    )?;
    Ok(())
}

fn unit_json(u: &NewUnit) -> serde_json::Value {
    serde_json::json!({
        "name": u.name, "kind": u.kind, "credit_code": u.credit_code,
        "division_code": u.division_code, "address": u.address, "lon": u.lon, "lat": u.lat,
        "headcount": u.headcount, "party_member_count": u.party_member_count,
    })
}

/// A member as the audit log keeps it: ID number and phone masked.
pub(super) fn member_json(m: &NewMember) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "id_number": mask_id_number(&m.id_number),
        "phone": m.phone.as_deref().map(mask_phone), "status": m.status,
        "join_date": m.join_date, "party_org_id": m.party_org_id, "employer": m.employer,
        "employer_unit_id": m.employer_unit_id, "home_community": m.home_community,
    })
}

/// Whether an organization of the importer's may hang under an organization located at
/// `division`: one within the importer's scope, or one above it (a town's committee under the
/// county's; for a zone, the towns and county of its villages), never one of another area.
/// Linking under it changes nothing of the parent, which stays outside the scope.
fn may_link_under(access: &Access, division: &str) -> bool {
    use crate::access::Scope;
    if access.sees_code(division) {
        return true;
    }
    match (&access.scope, DivisionCode::parse(division)) {
        (Scope::Division(mine), Ok(d)) => mine.as_str().starts_with(d.prefix()),
        (Scope::Zone(_), _) => access.names_code(division),
        _ => false,
    }
}

/// The stored unit a row means: by credit code; else (and for a row giving a code to a unit
/// stored without one) by name and division.
fn existing_unit(ix: &registry::UnitIndex, u: &NewUnit) -> Option<i64> {
    let by_name = || {
        ix.by_name_division
            .get(&(u.name.clone(), u.division_code.clone()))
            .copied()
    };
    match &u.credit_code {
        Some(c) => ix
            .by_credit_code
            .get(c)
            .copied()
            .or_else(|| by_name().filter(|id| !ix.coded.contains(id))),
        None => by_name(),
    }
}

fn same_unit(a: &NewUnit, b: &NewUnit) -> bool {
    a.name == b.name
        && a.kind == b.kind
        && a.credit_code == b.credit_code
        && a.division_code == b.division_code
        && a.address == b.address
        && a.lon == b.lon
        && a.lat == b.lat
        && a.headcount == b.headcount
        && a.party_member_count == b.party_member_count
        && a.illustrative == b.illustrative
}

fn load_units(conn: &mut DbConn, ids: &[i64]) -> Result<HashMap<i64, NewUnit>, ImportError> {
    type UnitRow = (
        i64,
        String,
        String,
        Option<String>,
        bool,
        String,
        String,
        Option<f64>,
        Option<f64>,
        Option<i32>,
        Option<i32>,
        bool,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let mut out = HashMap::new();
    for part in ids.chunks(1_000) {
        let rows: Vec<UnitRow> = units::table
            .filter(units::id.eq_any(part))
            .select((
                units::id,
                units::name,
                units::kind,
                units::credit_code,
                units::credit_code_unverified,
                units::division_code,
                units::address,
                units::lon,
                units::lat,
                units::headcount,
                units::party_member_count,
                units::illustrative,
                units::created_at,
                units::updated_at,
            ))
            .load(conn)?;
        for r in rows {
            out.insert(
                r.0,
                NewUnit {
                    name: r.1,
                    kind: r.2,
                    credit_code: r.3,
                    credit_code_unverified: r.4,
                    division_code: r.5,
                    address: r.6,
                    lon: r.7,
                    lat: r.8,
                    headcount: r.9,
                    party_member_count: r.10,
                    illustrative: r.11,
                    created_at: r.12,
                    updated_at: r.13,
                },
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Party organizations

struct OrgRow {
    line_index: usize,
    org: NewOrg,
    /// Parent as typed (code or name), resolved after the file's own codes are known.
    parent: Option<String>,
    /// Units covered: the host and the joint units.
    covered: Vec<i64>,
}

struct OrgPlan {
    ops: Vec<Op<NewOrg>>,
    /// Per op (same order): parent reference (resolved at write time against stored + new codes),
    /// and covered unit ids.
    extra: Vec<(Option<String>, Vec<i64>, String)>,
}

fn check_orgs(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<OrgPlan, ImportError> {
    let at = now();
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<OrgRow>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let code = match ch.code(row, "code") {
            None => {
                ch.required(row, "code");
                None
            }
            Some(c) if c.len() > 32 || !c.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                ch.error(
                    row,
                    "code",
                    &c,
                    "org-code-malformed",
                    "an organization code has at most 32 digits, letters or '-'",
                );
                None
            }
            Some(c) => Some(c),
        };
        keys.push((i, code.clone()));
        let name = ch.name(row, "name");
        let kind = ch.choice(row, "kind", true);
        let mode = ch.choice(row, "mode", true);
        let parent = Some(ch.text(row, "parent")).filter(|p| !p.is_empty());
        let unit_typed = ch.text(row, "unit");
        let village = ch.division(row, "village", ctx, &[Level::Village]);
        let mut covered = Vec::new();
        let mut division = None;
        let mut unit_id = None;
        match (unit_typed.is_empty(), &village) {
            (true, None) if ch.raw(row, "village").trim().is_empty() => {
                ch.error(
                    row,
                    "unit",
                    "",
                    "org-host-missing",
                    "give the host unit, or for a village's organization the village code",
                );
            }
            (false, Some(_)) => {
                ch.error(
                    row,
                    "unit",
                    &unit_typed,
                    "org-host-twice",
                    "give either the host unit or the village code, not both",
                );
            }
            (false, None) => match resolve_unit(&ctx.units, &unit_typed) {
                Ok(id) => {
                    unit_id = Some(id);
                    covered.push(id);
                    division = ctx.units.division_of.get(&id).cloned();
                }
                Err((n, m)) => {
                    ch.error(row, "unit", &unit_typed, "unit-not-found", m);
                    ch.args(vec![("count", n.to_string())]);
                }
            },
            (true, Some(v)) => division = Some(v.clone()),
            _ => {}
        }
        let joint = ch.text(row, "joint_units");
        for part in joint
            .split([';', '；', '、', ',', '，'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match resolve_unit(&ctx.units, part) {
                Ok(id) if ctx.units.division_of.get(&id).is_some_and(|d| access.sees_code(d)) => covered.push(id),
                Ok(_) => ch.error(
                    row,
                    "joint_units",
                    part,
                    "outside-scope",
                    "this unit is outside your area; only units within your scope can be covered",
                ),
                Err((n, m)) => {
                    ch.error(row, "joint_units", part, "unit-not-found", m);
                    ch.args(vec![("count", n.to_string())]);
                }
            }
        }
        if mode == Some("joint") && covered.len() < 2 && village.is_none() {
            ch.warn(
                row,
                "joint_units",
                &joint,
                "org-joint-alone",
                "a joint organization usually covers other units too; list them under 联建单位",
            );
        }
        if let Some(d) = &division {
            ch.in_scope(row, if unit_id.is_some() { "unit" } else { "village" }, access, d);
        }
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        let (Some(code), Some(name), Some(kind), Some(mode), Some(division)) = (code, name, kind, mode, division)
        else {
            checked.push(None);
            continue;
        };
        covered.sort_unstable();
        covered.dedup();
        checked.push(Some(OrgRow {
            line_index: i,
            org: NewOrg {
                code,
                name,
                kind: kind.into(),
                parent_id: None,
                mode: mode.into(),
                unit_id,
                village_code: village,
                division_code: division,
                illustrative: opts.illustrative,
                created_at: at,
                updated_at: at,
            },
            parent,
            covered,
        }));
    }
    let dups = duplicates(ch, &keys, "code", "organization code", false);
    let rows: Vec<OrgRow> = checked
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dups.contains(i))
        .filter_map(|(_, o)| o)
        .collect();
    // Parents: a stored organization or one in this file, by code or by unique name.
    let file_codes: HashMap<&str, (&str, &str)> = rows
        .iter()
        .map(|o| (o.org.code.as_str(), (o.org.kind.as_str(), o.org.name.as_str())))
        .collect();
    let mut file_names: HashMap<&str, Vec<&str>> = HashMap::new();
    for o in &rows {
        file_names
            .entry(o.org.name.as_str())
            .or_default()
            .push(o.org.code.as_str());
    }
    let stored_kinds: HashMap<i64, String> = party_orgs::table
        .select((party_orgs::id, party_orgs::kind))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let mut parent_codes: HashMap<String, String> = HashMap::new();
    let mut bad = HashSet::new();
    for o in &rows {
        let Some(p) = &o.parent else { continue };
        let row = ch.sheet.rows[o.line_index].clone();
        let as_code = cell::code(p).unwrap_or_default();
        let resolved: Result<(String, String), (usize, String)> = if let Some((k, _)) = file_codes.get(as_code.as_str())
        {
            Ok((as_code.clone(), (*k).to_string()))
        } else if let Some((id, _)) = ctx.orgs.by_code.get(&as_code) {
            Ok((as_code.clone(), stored_kinds.get(id).cloned().unwrap_or_default()))
        } else {
            let name = cell::name(p);
            let mut codes: Vec<String> = file_names
                .get(name.as_str())
                .map(|v| v.iter().map(|c| (*c).to_string()).collect())
                .unwrap_or_default();
            for id in ctx.orgs.by_name.get(&name).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some((c, _)) = ctx.orgs.of_id.get(id)
                    && !codes.contains(c)
                {
                    codes.push(c.clone());
                }
            }
            match codes.as_slice() {
                [c] => {
                    let k = file_codes
                        .get(c.as_str())
                        .map(|(k, _)| (*k).to_string())
                        .or_else(|| {
                            ctx.orgs
                                .by_code
                                .get(c)
                                .and_then(|(id, _)| stored_kinds.get(id).cloned())
                        })
                        .unwrap_or_default();
                    Ok((c.clone(), k))
                }
                [] => Err((
                    0,
                    format!(
                        "no party organization has the code or name {p:?}; import the parent first or in the same file"
                    ),
                )),
                many => Err((
                    many.len(),
                    format!(
                        "{} party organizations are named {p:?}; give the parent's code instead",
                        many.len()
                    ),
                )),
            }
        };
        match resolved {
            Ok((code, _)) if code == o.org.code => {
                ch.error(
                    &row,
                    "parent",
                    p,
                    "org-parent-self",
                    "an organization cannot be its own parent",
                );
                bad.insert(o.org.code.clone());
            }
            Ok((_, kind)) if kind == "branch" => {
                ch.error(
                    &row,
                    "parent",
                    p,
                    "org-parent-branch",
                    "a branch (党支部) has no subordinate organizations; the parent must be a committee or general branch",
                );
                bad.insert(o.org.code.clone());
            }
            Ok((code, _))
                if !file_codes.contains_key(code.as_str())
                    && ctx
                        .orgs
                        .by_code
                        .get(&code)
                        .is_some_and(|(_, d)| !may_link_under(access, d)) =>
            {
                ch.error(
                    &row,
                    "parent",
                    p,
                    "outside-scope",
                    "this parent organization belongs to another area; organizations can hang only under ones within or above your area",
                );
                bad.insert(o.org.code.clone());
            }
            Ok((code, _)) => {
                parent_codes.insert(o.org.code.clone(), code);
            }
            Err((n, m)) => {
                ch.error(&row, "parent", p, "org-parent-not-found", m);
                ch.args(vec![("count", n.to_string())]);
                bad.insert(o.org.code.clone());
            }
        }
    }
    // Cycles through the file's and the stored parents.
    let stored_parent: HashMap<String, String> = {
        let pairs: Vec<(i64, Option<i64>)> = party_orgs::table
            .select((party_orgs::id, party_orgs::parent_id))
            .load(conn)?;
        pairs
            .into_iter()
            .filter_map(|(id, p)| {
                let c = ctx.orgs.of_id.get(&id)?.0.clone();
                let pc = ctx.orgs.of_id.get(&p?)?.0.clone();
                Some((c, pc))
            })
            .collect()
    };
    for o in &rows {
        let mut seen = HashSet::new();
        let mut cur = o.org.code.clone();
        seen.insert(cur.clone());
        while let Some(p) = parent_codes.get(&cur).or_else(|| {
            (!file_codes.contains_key(cur.as_str()))
                .then(|| stored_parent.get(&cur))
                .flatten()
        }) {
            if !seen.insert(p.clone()) {
                let row = ch.sheet.rows[o.line_index].clone();
                ch.error(
                    &row,
                    "parent",
                    o.parent.as_deref().unwrap_or(""),
                    "org-parent-cycle",
                    "the parents form a loop (an organization would be its own ancestor)",
                );
                bad.insert(o.org.code.clone());
                break;
            }
            cur = p.clone();
        }
    }
    let mut ops = Vec::new();
    let mut extra = Vec::new();
    for o in rows {
        if bad.contains(&o.org.code) {
            continue;
        }
        let mut parent = parent_codes.get(&o.org.code).cloned();
        let mut covered = o.covered.clone();
        let op = match ctx.orgs.by_code.get(&o.org.code) {
            None => Op::New(o.org.clone()),
            Some((id, div)) => {
                // Columns the file does not have keep their stored values.
                if !ch.sheet.columns.contains_key("parent") {
                    parent = stored_parent.get(&o.org.code).cloned();
                }
                if !ch.sheet.columns.contains_key("joint_units") {
                    let stored: Vec<i64> = party_org_units::table
                        .filter(party_org_units::party_org_id.eq(id))
                        .select(party_org_units::unit_id)
                        .load(conn)?;
                    covered.extend(stored);
                    covered.sort_unstable();
                    covered.dedup();
                }
                if o.org.kind == "branch" {
                    let children: i64 = party_orgs::table
                        .filter(party_orgs::parent_id.eq(id))
                        .count()
                        .get_result(conn)?;
                    if children > 0 {
                        let row = ch.sheet.rows[o.line_index].clone();
                        ch.error(
                            &row,
                            "kind",
                            &o.org.kind,
                            "org-branch-has-children",
                            format!(
                                "this organization has {children} subordinate organizations; a branch (党支部) cannot have any — move them first"
                            ),
                        );
                        ch.args(vec![("count", children.to_string())]);
                        continue;
                    }
                }
                if !access.sees_code(div) {
                    let row = ch.sheet.rows[o.line_index].clone();
                    ch.error(
                        &row,
                        "code",
                        &o.org.code,
                        "outside-scope",
                        "this organization is registered outside your area; ask the county to change it",
                    );
                    continue;
                }
                let same = org_same(conn, *id, &o.org, parent.as_deref(), &covered, ctx)?;
                Op::existing(*id, same, o.org.clone(), opts.on_existing)
            }
        };
        extra.push((parent, covered, o.org.code.clone()));
        ops.push(op);
    }
    Ok(OrgPlan { ops, extra })
}

fn org_same(
    conn: &mut DbConn,
    id: i64,
    o: &NewOrg,
    parent: Option<&str>,
    covered: &[i64],
    ctx: &Context,
) -> Result<bool, ImportError> {
    let (name, kind, mode, unit_id, village, parent_id, illustrative): (
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        bool,
    ) = party_orgs::table
        .find(id)
        .select((
            party_orgs::name,
            party_orgs::kind,
            party_orgs::mode,
            party_orgs::unit_id,
            party_orgs::village_code,
            party_orgs::parent_id,
            party_orgs::illustrative,
        ))
        .first(conn)?;
    let stored_parent = parent_id.and_then(|p| ctx.orgs.of_id.get(&p)).map(|(c, _)| c.as_str());
    let mut links: Vec<i64> = party_org_units::table
        .filter(party_org_units::party_org_id.eq(id))
        .select(party_org_units::unit_id)
        .load(conn)?;
    links.sort_unstable();
    Ok(name == o.name
        && kind == o.kind
        && mode == o.mode
        && unit_id == o.unit_id
        && village == o.village_code
        && stored_parent == parent
        && links == covered
        && illustrative == o.illustrative)
}

impl OrgPlan {
    fn write(&self, conn: &mut DbConn, progress: Progress) -> Result<(), ImportError> {
        let new: Vec<NewOrg> = self
            .ops
            .iter()
            .filter_map(|o| match o {
                Op::New(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        registry::insert_orgs(conn, &new)?;
        let total = new.len() + self.ops.iter().filter(|o| matches!(o, Op::Update(..))).count();
        let mut done = new.len();
        progress(Stage::Writing, done, total);
        let ix = registry::org_index(conn)?;
        let mut links: Vec<(i64, i64)> = Vec::new();
        for (op, (parent, covered, code)) in self.ops.iter().zip(&self.extra) {
            let Some(&(id, _)) = ix.by_code.get(code) else { continue };
            let parent_id = parent.as_ref().and_then(|p| ix.by_code.get(p)).map(|(pid, _)| *pid);
            match op {
                Op::New(_) => {
                    if parent_id.is_some() {
                        diesel::update(party_orgs::table.find(id))
                            .set(party_orgs::parent_id.eq(parent_id))
                            .execute(conn)?;
                    }
                    links.extend(covered.iter().map(|u| (id, *u)));
                }
                Op::Update(_, o) => {
                    diesel::update(party_orgs::table.find(id))
                        .set((
                            party_orgs::name.eq(&o.name),
                            party_orgs::kind.eq(&o.kind),
                            party_orgs::mode.eq(&o.mode),
                            party_orgs::unit_id.eq(o.unit_id),
                            party_orgs::village_code.eq(&o.village_code),
                            party_orgs::division_code.eq(&o.division_code),
                            party_orgs::parent_id.eq(parent_id),
                            party_orgs::illustrative.eq(o.illustrative),
                            party_orgs::updated_at.eq(o.updated_at),
                        ))
                        .execute(conn)?;
                    diesel::delete(party_org_units::table.filter(party_org_units::party_org_id.eq(id)))
                        .execute(conn)?;
                    // Members follow their organization's place.
                    diesel::update(members::table.filter(members::party_org_id.eq(id)))
                        .set(members::division_code.eq(&o.division_code))
                        .execute(conn)?;
                    links.extend(covered.iter().map(|u| (id, *u)));
                    done += 1;
                    progress(Stage::Writing, done, total);
                }
                // Organizations are keyed by their code, not by personal data: never held.
                Op::Unchanged | Op::Skipped | Op::Held(_) => {}
            }
        }
        registry::link_org_units(conn, &links)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Party members

/// Today's date in China Standard Time (UTC+8, no daylight saving), for ID-number and date
/// checks: a date entered in the county on its own day is never "in the future".
pub(super) fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn check_members(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<NewMember>>, ImportError> {
    let at = now();
    let today = today();
    let today_t = (today.year(), today.month(), today.day());
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<NewMember>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let name = ch.name(row, "name");
        let id = id_number(ch, row, today_t);
        let sex_typed = ch.choice(row, "sex", false);
        let birth_typed = ch.date(row, "birth_date");
        let (mut sex, mut birth) = (None, None);
        if let Some(id) = &id {
            let s = match id.sex() {
                Sex::Male => "male",
                Sex::Female => "female",
            };
            let (y, m, d) = id.birth_date();
            let b = NaiveDate::from_ymd_opt(y, m, d);
            if let Some(t) = sex_typed
                && t != s
            {
                let raw = ch.raw(row, "sex").to_string();
                ch.error(
                    row,
                    "sex",
                    &raw,
                    "sex-mismatch",
                    format!(
                        "does not agree with the ID number, which says {} (the 17th digit is odd for men, even for women, GB 11643-1999); correct one of them",
                        if s == "male" { "男 male" } else { "女 female" }
                    ),
                );
                ch.args(vec![("expected", if s == "male" { "男" } else { "女" }.to_string())]);
            }
            if let (Some(t), Some(b)) = (birth_typed, b)
                && t != b
            {
                let raw = ch.raw(row, "birth_date").to_string();
                ch.error(
                    row,
                    "birth_date",
                    &raw,
                    "birth-date-mismatch",
                    format!("does not agree with the ID number's birth date {b}; correct one of them"),
                );
                ch.args(vec![("expected", b.to_string())]);
            }
            sex = Some(s);
            birth = b;
            // A party member is at least 18 (the Party Constitution, Article 1).
            if let Some(b) = b
                && b.checked_add_months(chrono::Months::new(18 * 12))
                    .is_some_and(|adult| adult > today)
            {
                ch.error(
                    row,
                    "id_number",
                    &id.masked(),
                    "member-under-18",
                    "by the ID number's birth date the member is under 18; party members are at least 18 (the Party Constitution, Article 1) — check the number",
                );
            }
        }
        let phone = {
            let raw = ch.raw(row, "phone").to_string();
            match cell::phone(&raw) {
                Ok(p) if p.is_empty() => None,
                Ok(p) => Some(p),
                Err(e) => {
                    ch.error(row, "phone", &mask_phone(&cell::clean(&raw)), e.key(), e.to_string());
                    None
                }
            }
        };
        let status = ch.choice(row, "status", true);
        let join = ch.date(row, "join_date");
        if let Some(j) = join {
            if j < NaiveDate::from_ymd_opt(1921, 7, 1).unwrap_or(j) {
                let raw = ch.raw(row, "join_date").to_string();
                ch.error(
                    row,
                    "join_date",
                    &raw,
                    "join-date-too-early",
                    "the join date is before the Party was founded (1921); check the date",
                );
            } else if j > today {
                let raw = ch.raw(row, "join_date").to_string();
                ch.error(
                    row,
                    "join_date",
                    &raw,
                    "join-date-future",
                    "the join date is in the future",
                );
            } else if let Some(b) = birth
                && b.checked_add_months(chrono::Months::new(18 * 12))
                    .is_some_and(|adult| j < adult)
            {
                let raw = ch.raw(row, "join_date").to_string();
                ch.error(
                    row,
                    "join_date",
                    &raw,
                    "join-date-under-18",
                    "the join date is before the member's 18th birthday (the Party Constitution, Article 1, requires 18 years of age)",
                );
            }
        }
        let org_typed = ch.required(row, "party_organization");
        let org = org_typed.as_ref().and_then(|t| match resolve_org(&ctx.orgs, t) {
            Ok(v) => Some(v),
            Err((n, m)) => {
                ch.error(row, "party_organization", t, "org-not-found", m);
                ch.args(vec![("count", n.to_string())]);
                None
            }
        });
        if let Some((_, div)) = &org {
            ch.in_scope(row, "party_organization", access, div);
        }
        let employer = ch.text(row, "employer");
        // Linked only to a unit the importer sees, so a link never reveals or touches another area.
        let employer_unit_id = match ctx.units.by_name.get(&cell::name(&employer)).map(Vec::as_slice) {
            Some([id]) if ctx.units.division_of.get(id).is_some_and(|d| access.sees_code(d)) => Some(*id),
            _ => None,
        };
        keys.push((i, id.as_ref().map(|n| n.as_str().to_string())));
        let home = if ch.raw(row, "home_community").trim().is_empty() {
            None
        } else {
            ch.division(row, "home_community", ctx, &[Level::Village])
        };
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        let (Some(name), Some(id), Some(sex), Some(birth), Some(status), Some((org_id, division))) =
            (name, id, sex, birth, status, org)
        else {
            checked.push(None);
            continue;
        };
        checked.push(Some(NewMember {
            name,
            id_number: id.as_str().to_string(),
            sex: sex.into(),
            birth_date: birth,
            phone,
            status: status.into(),
            join_date: join,
            party_org_id: org_id,
            employer,
            employer_unit_id,
            home_community: home,
            division_code: division,
            illustrative: opts.illustrative,
            created_at: at,
            updated_at: at,
        }));
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "id_number", "ID number", true);
    // Stored members with the file's ID numbers.
    let numbers: Vec<&str> = checked.iter().flatten().map(|m| m.id_number.as_str()).collect();
    let stored = load_members(conn, &numbers)?;
    let mut ops = Vec::with_capacity(total);
    for (i, m) in checked.into_iter().enumerate() {
        let Some(m) = m else { continue };
        if dups.contains(&i) {
            continue;
        }
        // Nobody joins an organization of a retired division (a new member, or one moving in);
        // members already there stay, readable and updatable.
        let joins = stored
            .get(&m.id_number)
            .is_none_or(|(_, s)| s.party_org_id != m.party_org_id);
        if joins && let Some(on) = ctx.retired.get(&m.division_code) {
            let row = ch.sheet.rows[i].clone();
            let typed = ch.raw(&row, "party_organization").to_string();
            ch.error(
                &row,
                "party_organization",
                &typed,
                "org-division-retired",
                format!(
                    "this party organization belongs to {}, which was retired on {on}: nobody new joins it; register the member with the organization that replaced it",
                    m.division_code
                ),
            );
            ch.args(vec![("code", m.division_code.clone()), ("date", on.to_string())]);
            continue;
        }
        let op = match stored.get(&m.id_number) {
            None => Op::New(m),
            Some((id, s)) => {
                // Columns the file does not have keep their stored values.
                let mut m = m;
                let has = |k: &str| ch.sheet.columns.contains_key(k);
                if !has("phone") {
                    m.phone = s.phone.clone();
                }
                if !has("join_date") {
                    m.join_date = s.join_date;
                }
                if !has("employer") {
                    m.employer = s.employer.clone();
                    m.employer_unit_id = s.employer_unit_id;
                }
                if !has("home_community") {
                    m.home_community = s.home_community.clone();
                }
                if access.sees_code(&s.division_code) {
                    Op::existing(*id, same_member(s, &m), m, opts.on_existing)
                } else {
                    // Registered outside the importer's scope: answered like a new member, held
                    // for a user covering both (ARCHITECTURE, held rows).
                    Op::Held(Box::new(Held {
                        record_id: *id,
                        record_division: s.division_code.clone(),
                        row_division: m.division_code.clone(),
                        line: ch.sheet.rows[i].line,
                        row: m,
                    }))
                }
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

/// A required, valid citizen ID number (errors quote it masked).
pub(super) fn id_number(ch: &mut Checker, row: &Row, today: (i32, u32, u32)) -> Option<IdNumber> {
    let before = ch.errors.len();
    match ch.code(row, "id_number") {
        None => {
            if ch.errors.len() == before {
                ch.required(row, "id_number");
            }
            None
        }
        Some(v) => match IdNumber::parse(&v, today) {
            Ok(p) => {
                if p.converted_from_15 {
                    ch.warn(
                        row,
                        "id_number",
                        &p.number.masked(),
                        "id-number-converted",
                        "a 15-digit first-generation number; stored converted to 18 characters",
                    );
                }
                Some(p.number)
            }
            Err(e) => {
                ch.error(row, "id_number", &mask_id_number(&v), e.key(), e.to_string());
                None
            }
        },
    }
}

/// Writes `m` over the stored member `id` (an import's update, a held row's transfer).
pub(super) fn update_member(conn: &mut DbConn, id: i64, m: &NewMember) -> Result<(), ImportError> {
    diesel::update(members::table.find(id))
        .set((
            members::name.eq(&m.name),
            members::sex.eq(&m.sex),
            members::birth_date.eq(m.birth_date),
            members::phone.eq(&m.phone),
            members::status.eq(&m.status),
            members::join_date.eq(m.join_date),
            members::party_org_id.eq(m.party_org_id),
            members::employer.eq(&m.employer),
            members::employer_unit_id.eq(m.employer_unit_id),
            members::home_community.eq(&m.home_community),
            members::division_code.eq(&m.division_code),
            members::updated_at.eq(m.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

fn same_member(a: &NewMember, b: &NewMember) -> bool {
    a.name == b.name
        && a.sex == b.sex
        && a.birth_date == b.birth_date
        && a.phone == b.phone
        && a.status == b.status
        && a.join_date == b.join_date
        && a.party_org_id == b.party_org_id
        && a.employer == b.employer
        && a.employer_unit_id == b.employer_unit_id
        && a.home_community == b.home_community
        && a.illustrative == b.illustrative
}

pub(super) fn load_members(
    conn: &mut DbConn,
    numbers: &[&str],
) -> Result<HashMap<String, (i64, NewMember)>, ImportError> {
    let mut out = HashMap::new();
    // Which numbers are stored: one scan of the unique index when the table is not much larger
    // than the file, else lookups in chunks.
    let stored: i64 = members::table.count().get_result(conn)?;
    let ids: Vec<i64> = if stored <= (numbers.len() as i64).saturating_mul(4) {
        let wanted: HashSet<&str> = numbers.iter().copied().collect();
        members::table
            .select((members::id, members::id_number))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .filter(|(_, n)| wanted.contains(n.as_str()))
            .map(|(id, _)| id)
            .collect()
    } else {
        let mut v = Vec::new();
        for part in numbers.chunks(1_000) {
            v.extend(
                members::table
                    .filter(members::id_number.eq_any(part))
                    .select(members::id)
                    .load::<i64>(conn)?,
            );
        }
        v
    };
    for part in ids.chunks(1_000) {
        let rows: Vec<(i64, NewMemberRow)> = members::table
            .filter(members::id.eq_any(part))
            .select((
                members::id,
                (
                    members::name,
                    members::id_number,
                    members::sex,
                    members::birth_date,
                    members::phone,
                    members::status,
                    members::join_date,
                    members::party_org_id,
                    members::employer,
                    members::employer_unit_id,
                    members::home_community,
                    members::division_code,
                    members::illustrative,
                    members::created_at,
                    members::updated_at,
                ),
            ))
            .load(conn)?;
        for (id, r) in rows {
            out.insert(
                r.1.clone(),
                (
                    id,
                    NewMember {
                        name: r.0,
                        id_number: r.1,
                        sex: r.2,
                        birth_date: r.3,
                        phone: r.4,
                        status: r.5,
                        join_date: r.6,
                        party_org_id: r.7,
                        employer: r.8,
                        employer_unit_id: r.9,
                        home_community: r.10,
                        division_code: r.11,
                        illustrative: r.12,
                        created_at: r.13,
                        updated_at: r.14,
                    },
                ),
            );
        }
    }
    Ok(out)
}

type NewMemberRow = (
    String,
    String,
    String,
    NaiveDate,
    Option<String>,
    String,
    Option<NaiveDate>,
    i64,
    String,
    Option<i64>,
    Option<String>,
    String,
    bool,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

/// Counts of records per kind, for summaries.
pub fn counts(conn: &mut DbConn) -> Result<BTreeMap<&'static str, i64>, ImportError> {
    let mut m = BTreeMap::new();
    m.insert("units", units::table.count().get_result(conn)?);
    m.insert("orgs", party_orgs::table.count().get_result(conn)?);
    m.insert("members", members::table.count().get_result(conn)?);
    for (k, n) in super::dispatch_kinds::counts(conn)? {
        m.insert(k, n);
    }
    for (k, n) in crate::economy::counts(conn)? {
        m.insert(k, n);
    }
    Ok(m)
}
