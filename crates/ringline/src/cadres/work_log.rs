//! Work logs of residencies (驻村日志, SPEC C7) as a record kind ([`crate::kind`]): a cadre named
//! by ID number, a day and what was done. One check for an import row, the residency page's
//! phone form ([`add_for_residency`]), the generic forms, the API and the command line.
//!
//! Natural key: the cadre's ID number and the day — one log per cadre and day (a second one is
//! refused, with the stored one to edit instead; a database index on the residency and day
//! keeps it). Scope key: the residency's village. A cadre is named only when on the caller's
//! roster or with a residency in the caller's scope, so a file cannot find out who is a cadre
//! elsewhere (ARCHITECTURE, held rows); the log goes to the cadre's residency covering the day.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::residency::{NewWorkLog, clean_log};
use crate::access::{Access, Permission};
use crate::db::schema::{cadres, residencies, work_logs};
use crate::db::{DbConn, DbResult};
use crate::import::Issue;
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values, WriteError,
};
use crate::registry::query::{IN_CHUNK, Pred, division_names, restrict_codes, subtree};

/// A checked work log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogNew {
    /// The residency covering the day.
    pub residency_id: i64,
    /// The cadre's ID number (what the row named; never shown).
    pub id_number: String,
    /// The residency's village (scope key).
    pub village_code: String,
    /// The day.
    pub date: NaiveDate,
    /// What was done ([`clean_log`]).
    pub content: String,
    /// Generated for the demo.
    pub illustrative: bool,
    /// Who entered it.
    pub created_by: String,
}

/// A work log entry as read, with its cadre and village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WorkLogRecord {
    /// Id.
    pub id: i64,
    /// The residency.
    pub residency_id: i64,
    /// The cadre's id.
    pub cadre_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The cadre's birth year (with the source, tells two cadres of one name apart).
    pub cadre_birth_year: i32,
    /// The cadre's source unit or town.
    pub cadre_source: Option<String>,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// The day.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// What was done.
    pub content: String,
    /// Who entered it.
    pub created_by: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

/// The cadres and residencies a check may name (module docs), loaded once per context.
struct LogRefs {
    /// ID number → cadre id.
    cadres: HashMap<String, i64>,
    /// Cadre id → its residencies in the scope: (id, first day, last day, village).
    stays: HashMap<i64, Vec<(i64, NaiveDate, NaiveDate, String)>>,
}

impl LogRefs {
    fn load(conn: &mut DbConn, access: &Access) -> DbResult<LogRefs> {
        let mut stays: HashMap<i64, Vec<(i64, NaiveDate, NaiveDate, String)>> = HashMap::new();
        let rows: Vec<(i64, i64, NaiveDate, NaiveDate, String)> = residencies::table
            .filter(code_scope!(
                residencies::table,
                residencies::village_code,
                access,
                None::<&str>
            ))
            .select((
                residencies::cadre_id,
                residencies::id,
                residencies::start_date,
                residencies::end_date,
                residencies::village_code,
            ))
            .load(conn)?;
        for (c, id, s, e, v) in rows {
            stays.entry(c).or_default().push((id, s, e, v));
        }
        let mut cadres: HashMap<String, i64> = cadres::table
            .filter(code_scope!(cadres::table, cadres::division_code, access, None::<&str>))
            .select((cadres::id_number, cadres::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        let resident: Vec<i64> = stays.keys().copied().collect();
        for part in resident.chunks(IN_CHUNK) {
            cadres.extend(
                cadres::table
                    .filter(cadres::id.eq_any(part))
                    .select((cadres::id_number, cadres::id))
                    .load::<(String, i64)>(conn)?,
            );
        }
        Ok(LogRefs { cadres, stays })
    }
}

/// The work log kind.
pub struct WorkLogs;

/// The joined source of a work log query.
type Joined = diesel::dsl::InnerJoinQuerySource<work_logs::table, residencies::table>;

fn log_pred(access: &Access, q: &ListQuery) -> Pred<Joined> {
    let mut p: Vec<Pred<Joined>> = Vec::new();
    restrict_codes!(p, residencies::village_code, access.code_filter());
    if let Some(under) = q.under.as_deref() {
        restrict_codes!(p, residencies::village_code, subtree(under));
    }
    if let Some(c) = q.value("cadre_id").and_then(|v| v.parse::<i64>().ok()) {
        p.push(Box::new(residencies::cadre_id.eq(c)));
    }
    if let Some(b) = q.value("batch_id").and_then(|v| v.parse::<i64>().ok()) {
        p.push(Box::new(residencies::batch_id.eq(b)));
    }
    if let Some(pattern) = crate::registry::query::contains_pattern(q.q.as_deref()) {
        p.push(Box::new(work_logs::content.like(pattern).escape('\\')));
    }
    crate::registry::query::all(p)
}

/// Work logs in the caller's scope matching `q`, newest day first, with the total.
fn records(conn: &mut DbConn, access: &Access, q: &ListQuery, only: Option<i64>) -> DbResult<Page<WorkLogRecord>> {
    let mut count = work_logs::table
        .inner_join(residencies::table)
        .filter(log_pred(access, q))
        .into_boxed();
    let mut rows = work_logs::table
        .inner_join(residencies::table)
        .filter(log_pred(access, q))
        .into_boxed();
    if let Some(id) = only {
        count = count.filter(work_logs::id.eq(id));
        rows = rows.filter(work_logs::id.eq(id));
    }
    let total: i64 = count.count().get_result(conn)?;
    type Row = (i64, i64, NaiveDate, String, String, bool, i64, String);
    let rows: Vec<Row> = rows
        .order((work_logs::date.desc(), work_logs::id.desc()))
        .limit(q.limit)
        .offset(q.offset)
        .select((
            work_logs::id,
            work_logs::residency_id,
            work_logs::date,
            work_logs::content,
            work_logs::created_by,
            work_logs::illustrative,
            residencies::cadre_id,
            residencies::village_code,
        ))
        .load(conn)?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.6).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = super::cadre_tags(conn, &ids)?;
    let names = division_names(conn, rows.iter().map(|r| r.7.clone()))?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(
                |(id, residency_id, date, content, created_by, illustrative, cadre_id, village_code)| {
                    let who = people.get(&cadre_id).cloned().unwrap_or_default();
                    WorkLogRecord {
                        id,
                        residency_id,
                        cadre_id,
                        cadre_name: who.name,
                        cadre_birth_year: who.birth_year,
                        cadre_source: who.source,
                        village_name: names.get(&village_code).cloned(),
                        village_code,
                        date,
                        content,
                        created_by,
                        illustrative,
                    }
                },
            )
            .collect(),
        total,
    })
}

impl Kind for WorkLogs {
    type New = LogNew;
    type Record = WorkLogRecord;

    const DESC: Desc = Desc {
        id: KindId::WorkLogs,
        key: "work_logs",
        entity: "work_log",
        fields: &[
            Field::new("id_number", Ty::IdNumber, true)
                .aliases(&["身份证号码", "身份证号", "身份证", "id number"])
                .noted(),
            Field::new("date", Ty::Date, true)
                .aliases(&["工作日期", "日志日期"])
                .noted(),
            Field::new("content", Ty::LongText, true).aliases(&["内容", "日志内容", "工作情况"]),
        ],
        columns: &[
            Column::new("date", Show::Link(KindId::WorkLogs, "id")),
            Column::new("cadre_name", Show::Text),
            Column::new("cadre_birth_year", Show::Int),
            Column::new("cadre_source", Show::Text),
            Column::new("village_code", Show::Code),
            Column::new("village_name", Show::Text),
            Column::new("content", Show::Text),
            Column::new("created_by", Show::Text),
        ],
        natural_key: &["id_number", "date"],
        filters: &[
            Filter::Under,
            Filter::Text,
            Filter::Id("cadre_id", KindId::Cadres),
            Filter::Id("batch_id", KindId::Batches),
        ],
        perms: Perms {
            write: Permission::RecordResidency,
            retire: Permission::RecordResidency,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<LogNew>> {
        let today = cx.today();
        let (illustrative, created_by) = (cx.illustrative, cx.access.username.clone());
        let id = v.id_number("id_number", today);
        let access = cx.access.clone();
        let refs = cx.cached(move |conn| LogRefs::load(conn, &access))?;
        let cadre = id.as_ref().and_then(|n| match refs.cadres.get(n.as_str()) {
            Some(c) => Some(*c),
            None => {
                v.error(
                    "id_number",
                    &n.masked(),
                    "cadre-not-found",
                    "no cadre on the roster has this ID number; import the cadre first",
                );
                None
            }
        });
        let date = v.date("date");
        if date.is_none() && v.is_empty("date") && !v.is_excel_error("date") {
            v.required("date");
        }
        let raw = v.raw("content").to_string();
        let content = if ringline_core::cell::clean(&raw).is_empty() {
            if !v.is_excel_error("content") {
                v.required("content");
            }
            None
        } else {
            match clean_log(&raw) {
                Ok(c) => Some(c),
                Err(e) => {
                    let shown = crate::import::shorten(&ringline_core::cell::clean(&raw), 40);
                    v.error("content", &shown, e.code(), e.to_string());
                    None
                }
            }
        };
        let stay = match (cadre, date) {
            (Some(c), Some(d)) => {
                let found = refs
                    .stays
                    .get(&c)
                    .and_then(|s| s.iter().find(|(_, start, end, _)| *start <= d && d <= *end));
                match found {
                    Some((rid, _, _, village)) => Some((*rid, village.clone())),
                    None => {
                        v.error(
                            "date",
                            &d.to_string(),
                            "residency-not-found",
                            "this cadre has no residency covering this date",
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        if v.failed() {
            return Ok(None);
        }
        let (Some(id), Some(date), Some(content), Some((residency_id, village_code))) = (id, date, content, stay)
        else {
            return Ok(None);
        };
        Ok(Some(LogNew {
            residency_id,
            id_number: id.as_str().to_string(),
            village_code,
            date,
            content,
            illustrative,
            created_by,
        }))
    }

    fn key(n: &LogNew) -> String {
        format!("{}\u{1f}{}", n.id_number, n.date)
    }

    fn area(n: &LogNew) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&LogNew]) -> DbResult<Vec<Option<Stored<LogNew>>>> {
        let mut ids: Vec<i64> = news.iter().map(|n| n.residency_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found: HashMap<(i64, NaiveDate), (i64, String, bool, String)> = HashMap::new();
        for part in ids.chunks(IN_CHUNK) {
            let rows: Vec<(i64, i64, NaiveDate, String, bool, String)> = work_logs::table
                .filter(work_logs::residency_id.eq_any(part))
                .select((
                    work_logs::id,
                    work_logs::residency_id,
                    work_logs::date,
                    work_logs::content,
                    work_logs::illustrative,
                    work_logs::created_by,
                ))
                .load(cx.conn)?;
            found.extend(rows.into_iter().map(|(id, r, d, c, i, by)| ((r, d), (id, c, i, by))));
        }
        Ok(news
            .iter()
            .map(|n| {
                found
                    .get(&(n.residency_id, n.date))
                    .map(|(id, content, illustrative, by)| Stored {
                        id: id.to_string(),
                        new: LogNew {
                            content: content.clone(),
                            illustrative: *illustrative,
                            created_by: by.clone(),
                            ..(*n).clone()
                        },
                    })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<LogNew>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let row: Option<(i64, NaiveDate, String, bool, String, String, String)> = work_logs::table
            .inner_join(residencies::table.inner_join(cadres::table))
            .filter(work_logs::id.eq(id))
            .select((
                work_logs::residency_id,
                work_logs::date,
                work_logs::content,
                work_logs::illustrative,
                work_logs::created_by,
                residencies::village_code,
                cadres::id_number,
            ))
            .first(cx.conn)
            .optional()?;
        Ok(row.filter(|r| cx.access.sees_code(&r.5)).map(
            |(residency_id, date, content, illustrative, created_by, village_code, id_number)| LogNew {
                residency_id,
                id_number,
                village_code,
                date,
                content,
                illustrative,
                created_by,
            },
        ))
    }

    fn illustrative(n: &LogNew) -> bool {
        n.illustrative
    }

    fn same(a: &LogNew, b: &LogNew) -> bool {
        a.residency_id == b.residency_id && a.date == b.date && a.content == b.content
    }

    fn values(_cx: &mut Cx, n: &LogNew) -> DbResult<Raw> {
        Ok(Raw::of([
            ("id_number", n.id_number.clone()),
            ("date", n.date.to_string()),
            ("content", n.content.clone()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[LogNew]) -> DbResult<Vec<String>> {
        let at = crate::db::now();
        let values: Vec<NewWorkLog> = rows
            .iter()
            .map(|n| NewWorkLog {
                residency_id: n.residency_id,
                date: n.date,
                content: n.content.clone(),
                illustrative: n.illustrative,
                created_at: at,
                created_by: n.created_by.clone(),
            })
            .collect();
        let ids = crate::insert_returning_ids!(conn, work_logs::table, work_logs::id, &values, 1_000);
        Ok(ids.into_iter().map(|i| i.to_string()).collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &LogNew) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        diesel::update(work_logs::table.find(id))
            .set((
                work_logs::residency_id.eq(n.residency_id),
                work_logs::date.eq(n.date),
                work_logs::content.eq(&n.content),
                work_logs::illustrative.eq(n.illustrative),
            ))
            .execute(conn)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, _how: &RetireInput) -> DbResult<bool> {
        WorkLogs::remove(cx.conn, id)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        Ok(diesel::delete(work_logs::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<WorkLogRecord>> {
        records(conn, access, q, None)
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<WorkLogRecord>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(records(conn, access, &ListQuery::first(1), Some(id))?.items.pop())
    }
}

/// Adds a work log entry to a residency the caller sees, from the residency page's form: the
/// day and the text as typed, checked exactly like an import row of the cadre (whose ID number
/// is read here, never shown). A day outside this residency's term is refused
/// (`dispatch-outside-term`) even when another residency of the cadre covers it.
///
/// # Errors
/// As [`crate::kind::write::create`]; [`WriteError::NotFound`] for a residency unknown or
/// outside the scope.
pub fn add_for_residency(cx: &mut Cx, residency_id: i64, date: &str, content: &str) -> Result<String, WriteError> {
    let stay: Option<(NaiveDate, NaiveDate, String, String)> = residencies::table
        .inner_join(cadres::table)
        .filter(residencies::id.eq(residency_id))
        .select((
            residencies::start_date,
            residencies::end_date,
            residencies::village_code,
            cadres::id_number,
        ))
        .first(cx.conn)
        .optional()?;
    let Some((start, end, _, id_number)) = stay.filter(|s| cx.access.sees_code(&s.2)) else {
        return Err(WriteError::NotFound);
    };
    if !cx.access.can(Permission::RecordResidency) {
        return Err(WriteError::Forbidden);
    }
    if let Ok(d) = ringline_core::cell::date(date)
        && (d < start || d > end)
    {
        return Err(WriteError::Invalid(vec![Issue {
            field: "date".into(),
            column: "date".into(),
            value: d.to_string(),
            key: "dispatch-outside-term".into(),
            message: format!("the day {d} is outside the residency ({start} to {end})"),
            args: vec![("start", start.to_string()), ("end", end.to_string())],
            ..Issue::default()
        }]));
    }
    let raw = Raw::of([
        ("id_number", id_number),
        ("date", date.to_string()),
        ("content", content.to_string()),
    ]);
    crate::kind::write::create::<WorkLogs>(cx, &raw)
}
