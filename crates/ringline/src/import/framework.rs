//! The import framework (SPEC C8, import part) for the kinds of [`super::spec`]: reading the
//! file, choosing the sheet and locating the header; every kind is described by
//! [`crate::kind`] and checked, planned and applied by its generic import.
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

use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::Level;
use serde::Serialize;

use super::Issue;
use super::spec::{ColumnSpec, KindSpec};
use super::table::{RawSheet, Row, read_raw_sheet};
use crate::access::{Access, Permission};
use crate::db::{DbConn, DbError};

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
    // Every importable kind is described by `crate::kind` and imports through its generic driver.
    let id = crate::kind::KindId::parse(kind.key)
        .ok_or_else(|| ImportError::Db(DbError::Task(format!("{} is not a record kind", kind.key))))?;
    let run = |conn: &mut DbConn, report: &mut Report, progress: Progress| -> Result<bool, ImportError> {
        let mut cx = crate::kind::Cx::new(conn, access, crate::clock::Clock::current());
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

/// The audit scope of an import: the importer's area (a division prefix, `zone:ID` for a zone
/// — never `""`, which every reader reads —, `""` for the system).
fn access_scope_prefix(access: &Access) -> String {
    match &access.scope {
        crate::access::Scope::Division(c) => c.prefix().to_string(),
        s @ crate::access::Scope::Zone(_) => s.as_string(),
        crate::access::Scope::All => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Units

// ---------------------------------------------------------------------------------------------
// Party organizations

// ---------------------------------------------------------------------------------------------
// Party members

/// Counts of records per kind, for summaries.
pub fn counts(conn: &mut DbConn) -> Result<BTreeMap<&'static str, i64>, ImportError> {
    use crate::db::schema::{cadres, members, party_orgs, twinning, units, village_needs, work_logs};

    let mut m = BTreeMap::new();
    m.insert("units", units::table.count().get_result(conn)?);
    m.insert("orgs", party_orgs::table.count().get_result(conn)?);
    m.insert("members", members::table.count().get_result(conn)?);
    m.insert("cadres", cadres::table.count().get_result(conn)?);
    m.insert("twinning", twinning::table.count().get_result(conn)?);
    m.insert("needs", village_needs::table.count().get_result(conn)?);
    m.insert("work_logs", work_logs::table.count().get_result(conn)?);
    for (k, n) in crate::economy::counts(conn)? {
        m.insert(k, n);
    }
    Ok(m)
}
