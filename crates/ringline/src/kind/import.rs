//! The generic import of a record kind: every row of a located sheet is checked by the kind's
//! one `check` (the same as for forms and the API), rows repeating a natural key are refused,
//! the checked records are matched with stored ones by natural key, and each row becomes new,
//! an update (or a skip, as the user chose), or unchanged. Columns the file does not have keep
//! their stored values on update. Updates that rename a record or empty a stored value need the
//! user's confirmation. Updated and skipped rows are listed with each field's stored and new
//! value (personal data masked).
//!
//! Applying writes the plan inside the caller's transaction, audits every update with its values
//! before and after (masked), and keeps an **undo record**: the ids of created records and the
//! unmasked values replaced, so [`undo`] can put them back while no later change touched them.
//! The undo record is read only by [`undo`], which checks the caller's scope record by record.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;

use super::values::{Overlay, Source};
use super::{Cx, Desc, Kind, KindId, Raw, Ty, Values, WriteError, desc_of};
use crate::access::{Access, Permission};
use crate::db::schema::{import_changes, import_runs};
use crate::db::{DbConn, DbResult};
use crate::import::Issue;
use crate::import::framework::{ImportError, OnExisting, Options, Progress, Report, Sheet, Stage};
use crate::import::table::Row;

/// Updated and skipped rows listed in a report (all are counted).
pub const LISTED_CHANGES: usize = 1_000;

/// A row of the sheet as the values of one record.
struct RowSource<'a> {
    sheet: &'a Sheet,
    row: &'a Row,
}

impl Source for RowSource<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.sheet.columns.get(key).map(|&i| self.row.get(i))
    }

    fn header(&self, key: &str) -> Option<&str> {
        self.sheet
            .columns
            .get(key)
            .and_then(|&i| self.sheet.headers.get(i))
            .map(String::as_str)
    }
}

/// One field of a row that an update changes, as shown to the importer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    /// Field key.
    pub field: String,
    /// Column header (as in the file, or the field's label).
    pub column: String,
    /// The stored value (masked when personal).
    pub before: String,
    /// The file's value (masked when personal).
    pub after: String,
}

/// A row that matches a stored record and differs from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowChange {
    /// Row as seen in the file.
    pub line: usize,
    /// The natural key (masked when personal).
    pub key: String,
    /// `update` or `skip`.
    pub action: String,
    /// The fields that differ.
    pub fields: Vec<FieldChange>,
}

/// What one checked row will do.
enum Op<N> {
    New(N),
    Update {
        id: String,
        before: Raw,
        after: N,
    },
    Unchanged,
    Skipped,
    /// A row keyed by personal data whose key belongs to a record outside the caller's scope:
    /// reported exactly like a new one, written as a held row (`crate::import::held`).
    Held {
        record_id: i64,
        record_division: String,
        row_division: String,
        line: usize,
        json: String,
    },
}

/// Places a field's problem in the file: file, sheet, row, the column's header and letter.
fn place(mut i: Issue, desc: &Desc, sheet: &Sheet, row: &Row) -> Issue {
    i.file = sheet.file.clone();
    i.sheet = sheet.sheet.clone();
    i.line = row.line;
    let col = sheet.columns.get(i.field.as_str()).copied();
    i.column = match col {
        Some(c) => sheet.headers.get(c).cloned().unwrap_or_default(),
        None if desc.field(&i.field).is_some() => desc.label_key(&i.field),
        None => i.column,
    };
    i.cell = col.map(column_letter).unwrap_or_default();
    i
}

/// The spreadsheet letter of a 0-based column index (`0` → `A`, `26` → `AA`).
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The value of a field as an importer may see it: masked when personal.
fn shown(desc: &Desc, key: &str, v: &str) -> String {
    match desc.field(key).map(|f| f.ty) {
        Some(Ty::IdNumber) => ringline_core::mask::mask_id_number(v),
        Some(Ty::Phone) => ringline_core::mask::mask_phone(v),
        _ if desc.field(key).is_some_and(|f| f.personal) => "***".into(),
        _ => v.to_string(),
    }
}

/// Whether the natural key is personal data (then it is masked wherever it is quoted).
fn personal_key(desc: &Desc) -> bool {
    desc.natural_key
        .iter()
        .any(|k| desc.field(k).is_some_and(|f| f.personal))
}

/// Checks, plans and (with `opts.apply`) writes a located sheet of kind `K` (module docs).
/// Must run inside a transaction when applying; the caller audits the import as a whole.
///
/// # Errors
/// [`ImportError`] when the database fails.
pub fn run<K: Kind>(cx: &mut Cx, sheet: &Sheet, opts: Options, progress: Progress) -> Result<Report, ImportError> {
    let desc = desc_of::<K>();
    cx.illustrative = opts.illustrative;
    let total = sheet.rows.len();
    let mut report = Report {
        kind: desc.key.into(),
        file: sheet.file.clone(),
        sheet: sheet.sheet.clone(),
        header_line: sheet.header_line,
        rows: total,
        ..Report::default()
    };
    let mut checked: Vec<Option<K::New>> = Vec::with_capacity(total);
    // The natural key of every row, also of rows with other problems, so a repeated key is
    // reported with them.
    let mut keys: Vec<Option<String>> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        if i.is_multiple_of(5_000) {
            progress(Stage::Checking, i, total);
        }
        let src = RowSource { sheet, row };
        let mut v = Values::new(desc, &src);
        v.excel_errors();
        let excel: HashSet<String> = v.errors.iter().map(|e| e.field.clone()).collect();
        let n = K::check(&mut v, cx)?;
        // A cell holding an Excel error is reported once, not again by the field's own check.
        v.errors
            .retain(|e| e.key == "cell-excel-error" || !excel.contains(&e.field));
        let failed = !v.errors.is_empty();
        report
            .errors
            .extend(v.errors.into_iter().map(|e| place(e, desc, sheet, row)));
        report
            .warnings
            .extend(v.warnings.into_iter().map(|w| place(w, desc, sheet, row)));
        keys.push(match (&n, failed) {
            (Some(n), false) => Some(K::key(n)),
            _ => raw_key(desc, &src),
        });
        checked.push(if failed { None } else { n });
    }
    progress(Stage::Checking, total, total);
    // Rows repeating a natural key: every later row names the first.
    let mut first: HashMap<String, usize> = HashMap::new();
    for i in 0..checked.len() {
        let Some(k) = keys[i].clone() else {
            continue;
        };
        match first.get(&k) {
            None => {
                first.insert(k, i);
            }
            Some(&f) => {
                let row = &sheet.rows[i];
                let field = desc.natural_key.first().copied().unwrap_or("");
                let shown_key = if personal_key(desc) {
                    ringline_core::mask::mask_id_number(&k)
                } else {
                    k.replace('\u{1f}', " / ")
                };
                let mut issue = Issue {
                    field: field.to_string(),
                    value: shown_key,
                    key: "duplicate-in-file".into(),
                    message: format!(
                        "the same record as row {}; each record may appear only once in a file",
                        sheet.rows[f].line
                    ),
                    args: vec![("first", sheet.rows[f].line.to_string())],
                    ..Issue::default()
                };
                issue = place(issue, desc, sheet, row);
                report.errors.push(issue);
                checked[i] = None;
            }
        }
    }
    // Checks across rows (references to other rows of the file).
    let mut across = Vec::new();
    K::check_all(cx, &mut checked, &mut across)?;
    for (i, e) in across {
        report.errors.push(place(e, desc, sheet, &sheet.rows[i]));
    }
    // Stored records the rows match.
    let index: Vec<usize> = (0..checked.len()).filter(|&i| checked[i].is_some()).collect();
    let news: Vec<&K::New> = index.iter().filter_map(|&i| checked[i].as_ref()).collect();
    let stored = K::stored(cx, &news)?;
    let absent: Vec<&'static str> = desc
        .fields
        .iter()
        .map(|f| f.key)
        .filter(|k| !sheet.columns.contains_key(k))
        .collect();
    let mut ops: Vec<(usize, Op<K::New>)> = Vec::with_capacity(index.len());
    for (pos, &i) in index.iter().enumerate() {
        let Some(n) = checked[i].take() else { continue };
        let row = &sheet.rows[i];
        let Some(s) = stored.get(pos).cloned().flatten() else {
            ops.push((i, Op::New(n)));
            continue;
        };
        if !cx.access.sees_code(&K::area(&s.new)) {
            // Registered outside the caller's area: for a kind keyed by personal data, answered
            // like a new record and held for a user who covers both (ARCHITECTURE, held rows).
            if personal_key(desc)
                && let (Some(json), Ok(record_id)) = (K::held_json(&n), s.id.parse::<i64>())
            {
                ops.push((
                    i,
                    Op::Held {
                        record_id,
                        record_division: K::area(&s.new),
                        row_division: K::area(&n),
                        line: row.line,
                        json,
                    },
                ));
                continue;
            }
            let field = desc.natural_key.first().copied().unwrap_or("");
            let issue = Issue {
                field: field.to_string(),
                value: shown(desc, field, &K::key(&n)),
                key: "outside-scope".into(),
                message: "this record is registered outside your area; ask the county to change it".into(),
                ..Issue::default()
            };
            report.errors.push(place(issue, desc, sheet, row));
            continue;
        }
        let before = K::values(cx, &s.new)?;
        // Columns the file does not have keep their stored values.
        let n = if absent.is_empty() {
            n
        } else {
            let src = RowSource { sheet, row };
            let merged = Overlay {
                over: &src,
                base: &before,
            };
            let mut v = Values::new(desc, &merged);
            match K::check(&mut v, cx)? {
                Some(m) if v.errors.is_empty() => m,
                _ => {
                    report
                        .errors
                        .extend(v.errors.into_iter().map(|e| place(e, desc, sheet, row)));
                    continue;
                }
            }
        };
        // A demo record matched by a real import differs from it: the update makes it real.
        if K::same(&s.new, &n) && K::illustrative(&s.new) == K::illustrative(&n) {
            ops.push((i, Op::Unchanged));
            continue;
        }
        let after = K::values(cx, &n)?;
        let fields = diff(desc, sheet, &before, &after);
        let update = opts.on_existing == OnExisting::Update;
        if report.changes.len() < LISTED_CHANGES {
            report.changes.push(RowChange {
                line: row.line,
                key: shown(desc, desc.natural_key.first().copied().unwrap_or(""), &K::key(&n)),
                action: if update { "update" } else { "skip" }.into(),
                fields: fields.clone(),
            });
        }
        if !update {
            ops.push((i, Op::Skipped));
            continue;
        }
        risky(desc, sheet, row, &fields, &mut report.confirm);
        ops.push((
            i,
            Op::Update {
                id: s.id,
                before,
                after: n,
            },
        ));
    }
    for (_, op) in &ops {
        match op {
            Op::New(_) | Op::Held { .. } => report.new += 1,
            Op::Update { .. } => report.updated += 1,
            Op::Unchanged => report.unchanged += 1,
            Op::Skipped => report.skipped += 1,
        }
    }
    if !opts.apply || !report.errors.is_empty() || (!report.confirm.is_empty() && !opts.confirm) {
        return Ok(report);
    }
    // The dry run the person saw found other counts: another import wrote some of these records
    // meanwhile; write nothing (the caller checks the file again).
    if let Some(expected) = opts.expected
        && expected != report.counts()
    {
        return Err(ImportError::Changed);
    }
    // Write.
    let written = report.new + report.updated;
    progress(Stage::Writing, 0, written);
    let mut created: Vec<K::New> = Vec::with_capacity(report.new);
    let mut updates = Vec::with_capacity(report.updated);
    let mut held = Vec::new();
    for (_, op) in ops {
        match op {
            Op::New(n) => created.push(n),
            Op::Update { id, before, after } => updates.push((id, before, after)),
            Op::Held {
                record_id,
                record_division,
                row_division,
                line,
                json,
            } => held.push((record_id, record_division, row_division, line, json)),
            Op::Unchanged | Op::Skipped => {}
        }
    }
    for (record_id, record_division, row_division, line, json) in &held {
        let place = crate::import::held::Place {
            record_id: *record_id,
            record_division,
            row_division,
            line: *line,
        };
        crate::import::held::hold_json(cx.conn, cx.access, desc.key, &place, json, &sheet.file)?;
    }
    let run = start_run(cx.conn, cx.access, desc, &sheet.file, cx.clock.now())?;
    let mut undo: Vec<NewChange> = Vec::with_capacity(written);
    let mut done = held.len();
    for part in created.chunks(10_000) {
        let ids = K::insert(cx.conn, part)?;
        for (id, n) in ids.iter().zip(part) {
            undo.push(NewChange {
                run_id: run,
                record_id: id.clone(),
                before_json: None,
                after_json: raw_json(&K::values(cx, n)?),
            });
        }
        done += part.len();
        progress(Stage::Writing, done, written);
    }
    for (id, before, after) in updates {
        K::update(cx.conn, &id, &after)?;
        let after_raw = K::values(cx, &after)?;
        crate::audit::record(
            cx.conn,
            cx.access,
            crate::audit::Change {
                action: "update",
                entity: desc.entity,
                entity_id: &id,
                before: Some(masked_json(desc, &before)),
                after: Some(masked_json(desc, &after_raw)),
                detail: format!("import {run}"),
                scope: area_prefix(&K::area(&after)),
            },
        )?;
        undo.push(NewChange {
            run_id: run,
            record_id: id,
            before_json: Some(raw_json(&before)),
            after_json: raw_json(&after_raw),
        });
        done += 1;
        if done.is_multiple_of(1_000) {
            progress(Stage::Writing, done, written);
        }
    }
    for part in undo.chunks(1_000) {
        crate::insert_rows!(&mut *cx.conn, import_changes::table, part, 1_000);
    }
    report.run_id = Some(run);
    report.applied = true;
    progress(Stage::Writing, written, written);
    Ok(report)
}

/// The natural key of a row as typed (codes normalised), for rows whose check failed.
fn raw_key(desc: &Desc, src: &dyn Source) -> Option<String> {
    let mut parts = Vec::with_capacity(desc.natural_key.len());
    for k in desc.natural_key {
        let raw = src.get(k).unwrap_or("");
        let v = match desc.field(k).map(|f| f.ty) {
            Some(t) if t.is_code() => ringline_core::cell::code(raw).ok()?.to_uppercase(),
            _ => ringline_core::cell::clean(raw),
        };
        if v.is_empty() {
            return None;
        }
        parts.push(v);
    }
    Some(parts.join("\u{1f}"))
}

/// The fields whose text differs between the stored and the new values.
fn diff(desc: &Desc, sheet: &Sheet, before: &Raw, after: &Raw) -> Vec<FieldChange> {
    desc.fields
        .iter()
        .filter(|f| before.text(f.key) != after.text(f.key))
        .map(|f| FieldChange {
            field: f.key.into(),
            column: sheet
                .columns
                .get(f.key)
                .and_then(|&c| sheet.headers.get(c).cloned())
                .unwrap_or_else(|| desc.label_key(f.key)),
            before: shown(desc, f.key, before.text(f.key)),
            after: shown(desc, f.key, after.text(f.key)),
        })
        .collect()
}

/// Updates that need the user's confirmation: one that renames the record (for people: the
/// row names somebody else under the same ID number) or empties a stored value.
fn risky(desc: &Desc, sheet: &Sheet, row: &Row, fields: &[FieldChange], out: &mut Vec<Issue>) {
    let name_key = desc.fields.iter().find(|f| f.ty == Ty::Name).map(|f| f.key);
    for f in fields {
        let (rule, message) = if Some(f.field.as_str()) == name_key {
            if personal_key(desc) {
                (
                    "update-other-person",
                    format!(
                        "the stored record with this ID number is {}, the row says {}: the row may name somebody else; check the number before updating",
                        f.before, f.after
                    ),
                )
            } else {
                (
                    "update-renames",
                    format!("renames {} to {}; check that it is the same record", f.before, f.after),
                )
            }
        } else if !f.before.is_empty() && f.after.is_empty() {
            (
                "update-empties",
                format!("empties the stored value {}; leave the column out to keep it", f.before),
            )
        } else {
            continue;
        };
        let issue = Issue {
            field: f.field.clone(),
            value: f.after.clone(),
            key: rule.into(),
            message,
            args: vec![("before", f.before.clone()), ("after", f.after.clone())],
            ..Issue::default()
        };
        out.push(place(issue, desc, sheet, row));
    }
}

/// The significant code prefix of a division (an audit entry's area).
pub(crate) fn area_prefix(code: &str) -> String {
    ringline_core::division::DivisionCode::parse(code)
        .map(|c| c.prefix().to_string())
        .unwrap_or_default()
}

/// Values as the audit log keeps them: personal fields masked.
pub(crate) fn masked_json(desc: &Desc, raw: &Raw) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = raw
        .0
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(shown(desc, k, v))))
        .collect();
    serde_json::Value::Object(map)
}

fn raw_json(raw: &Raw) -> String {
    serde_json::to_string(&raw.0).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The undo record

/// An applied import (undo record).
#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = import_runs)]
pub struct Run {
    /// Id (shown as the import's number).
    pub id: i64,
    /// Kind key.
    pub kind: String,
    /// File name.
    pub file: String,
    /// Who applied it.
    pub username: String,
    /// The area of the importer's scope (significant code prefix; empty: everything).
    pub scope: String,
    /// When it was applied (UTC).
    #[schema(value_type = String)]
    pub applied_at: chrono::NaiveDateTime,
    /// When it was undone (UTC), if it was.
    #[schema(value_type = Option<String>)]
    pub undone_at: Option<chrono::NaiveDateTime>,
}

/// One record an import created or changed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = import_changes)]
pub struct Change {
    /// The import.
    pub run_id: i64,
    /// The record's id.
    pub record_id: String,
    /// Its values before (JSON object of field texts; `None`: the import created it).
    pub before_json: Option<String>,
    /// Its values as the import wrote them.
    pub after_json: String,
}

#[derive(Insertable)]
#[diesel(table_name = import_changes)]
struct NewChange {
    run_id: i64,
    record_id: String,
    before_json: Option<String>,
    after_json: String,
}

fn start_run(conn: &mut DbConn, access: &Access, desc: &Desc, file: &str, at: chrono::NaiveDateTime) -> DbResult<i64> {
    let scope = match &access.scope {
        crate::access::Scope::Division(c) => c.prefix().to_string(),
        crate::access::Scope::Zone(id) => format!("zone:{id}"),
        crate::access::Scope::All => String::new(),
    };
    Ok(diesel::insert_into(import_runs::table)
        .values((
            import_runs::kind.eq(desc.key),
            import_runs::file.eq(file),
            import_runs::user_id.eq(access.user_id),
            import_runs::username.eq(&access.username),
            import_runs::scope.eq(scope),
            import_runs::applied_at.eq(at),
        ))
        .returning(import_runs::id)
        .get_result(conn)?)
}

/// The runs `access` may see and undo, as a condition: the importer's scope lies within the
/// caller's (a division scope: the run's area starts with its code prefix; a zone scope: runs
/// made by that zone's users).
fn visible_runs(access: &Access) -> crate::db::query::Pred<import_runs::table> {
    match &access.scope {
        crate::access::Scope::All => crate::db::query::all(Vec::new()),
        crate::access::Scope::Division(c) => {
            let prefix = c.prefix().to_string();
            match crate::db::prefix_end(&prefix) {
                Some(end) => Box::new(import_runs::scope.ge(prefix).and(import_runs::scope.lt(end))),
                None => Box::new(import_runs::scope.ge(prefix)),
            }
        }
        crate::access::Scope::Zone(id) => Box::new(import_runs::scope.eq(format!("zone:{id}"))),
    }
}

/// Applied imports the caller may undo, newest first.
pub fn runs(conn: &mut DbConn, access: &Access, limit: i64) -> DbResult<Vec<Run>> {
    Ok(import_runs::table
        .filter(visible_runs(access))
        .order(import_runs::id.desc())
        .select(Run::as_select())
        .limit(limit)
        .load(conn)?)
}

/// One applied import, if the caller may see it.
pub fn run_record(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Run>> {
    Ok(import_runs::table
        .filter(import_runs::id.eq(id))
        .filter(visible_runs(access))
        .select(Run::as_select())
        .first(conn)
        .optional()?)
}

/// How many records the import `id` wrote, and how many of them it created.
///
/// # Errors
/// Database failures.
pub fn run_size(conn: &mut DbConn, id: i64) -> DbResult<(i64, i64)> {
    let of_run = import_changes::table.filter(import_changes::run_id.eq(id));
    let all = of_run.count().get_result(conn)?;
    let created = of_run
        .filter(import_changes::before_json.is_null())
        .count()
        .get_result(conn)?;
    Ok((all, created))
}

/// Undoes the applied import `id`: deletes the records it created and puts back the values it
/// replaced, in one transaction, provided no later change touched any of them (each record's
/// current values are still those the import wrote) and the caller's scope holds them all.
///
/// # Errors
/// [`WriteError::NotFound`] for an unknown run or one outside the scope,
/// [`WriteError::Forbidden`] without the import permission, [`WriteError::Conflict`] when the
/// import was undone already, a record changed since, or something now refers to a created
/// record.
pub fn undo(conn: &mut DbConn, access: &Access, id: i64) -> Result<Run, WriteError> {
    if !access.can(Permission::Import) {
        return Err(WriteError::Forbidden);
    }
    crate::db::write_transaction(conn, |conn| {
        let run = run_record(conn, access, id)?.ok_or(WriteError::NotFound)?;
        if run.undone_at.is_some() {
            return Err(WriteError::Conflict(
                "import-undone-already",
                format!("import {id} was undone already"),
            ));
        }
        let kind = KindId::parse(&run.kind).ok_or(WriteError::NotFound)?;
        let changes: Vec<Change> = import_changes::table
            .filter(import_changes::run_id.eq(id))
            .select(Change::as_select())
            .load(conn)?;
        kind.ops().undo(conn, access, &changes)?;
        let now = crate::db::now();
        diesel::update(import_runs::table.find(id))
            .set(import_runs::undone_at.eq(now))
            .execute(conn)?;
        crate::audit::record(
            conn,
            access,
            crate::audit::Change {
                action: "undo",
                entity: kind.desc().entity,
                entity_id: &id.to_string(),
                detail: format!(
                    "undo import {id} of {} ({}): {} records",
                    run.file,
                    run.kind,
                    changes.len()
                ),
                scope: if run.scope.starts_with("zone:") {
                    String::new()
                } else {
                    run.scope.clone()
                },
                ..Default::default()
            },
        )?;
        Ok(Run {
            undone_at: Some(now),
            ..run
        })
    })
}

/// Undoes the changes of one run for kind `K` (see [`undo`]).
pub(super) fn undo_kind<K: Kind>(conn: &mut DbConn, access: &Access, changes: &[Change]) -> Result<(), WriteError> {
    let desc = desc_of::<K>();
    let mut cx = Cx::new(conn, access, crate::clock::Clock::current());
    let parse = |s: &str| -> Raw { Raw(serde_json::from_str(s).unwrap_or_default()) };
    // First check every record, then write: a refusal changes nothing.
    let mut restore: Vec<(String, K::New)> = Vec::new();
    let mut remove: Vec<String> = Vec::new();
    let mut changed: Vec<String> = Vec::new();
    for c in changes {
        let current = K::load(&mut cx, &c.record_id)?;
        let Some(current) = current else {
            changed.push(c.record_id.clone());
            continue;
        };
        if K::values(&mut cx, &current)? != parse(&c.after_json) {
            changed.push(c.record_id.clone());
            continue;
        }
        match &c.before_json {
            None => remove.push(c.record_id.clone()),
            Some(b) => {
                let before = parse(b);
                let mut v = Values::new(desc, &before);
                match K::check(&mut v, &mut cx)? {
                    Some(n) if v.errors.is_empty() => restore.push((c.record_id.clone(), n)),
                    _ => changed.push(c.record_id.clone()),
                }
            }
        }
    }
    if !changed.is_empty() {
        changed.truncate(20);
        return Err(WriteError::Conflict(
            "import-undo-changed",
            format!(
                "records changed since the import (or no longer in your area) cannot be undone: {}",
                changed.join(", ")
            ),
        ));
    }
    for (id, n) in &restore {
        K::update(cx.conn, id, n)?;
    }
    for id in &remove {
        if !K::remove(cx.conn, id)? {
            return Err(WriteError::Conflict(
                "import-undo-referenced",
                format!("record {id} created by the import is now referred to by other records; it cannot be removed"),
            ));
        }
    }
    Ok(())
}
