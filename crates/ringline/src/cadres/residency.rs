//! Residencies (驻村, SPEC C7): a cadre stationed in a village for a term, created by
//! [`confirm`](super::batch::confirm). Around each: work logs (驻村日志, entered on a phone),
//! attendance per month (rule: at least [`MIN_DAYS_PER_MONTH`] days in the village), leave
//! requests (up to [`TOWN_LEAVE_MAX_DAYS`] days approved by the town, longer by the county) and
//! the end-of-term evaluation.
//!
//! Scope key of all of them: the residency's village (`residencies.village_code`). Writes need
//! [`Permission::RecordResidency`] (attendance, leave requests; work logs are the record kind
//! [`super::work_log::WorkLogs`]), [`Permission::DecideLeave`] (leave decisions with the level
//! rule, [`may_decide`]; the town's confirmation of the days a cadre reports,
//! [`confirm_attendance`]) or [`Permission::Dispatch`] (evaluation), and the residency within
//! the caller's scope; each is audited. Leave requests of one residency never overlap.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DispatchError, require, scope_prefix};
use crate::access::{Access, CodeFilter, Permission};
use crate::audit::{self, Change};
use crate::auth::Role;
use crate::db::schema::{attendance, cadres, dispatch_batches, leave_requests, residencies, work_logs};
use crate::db::{DbConn, DbResult, now};
use crate::registry::query::{IN_CHUNK, Pred, division_names, given, town_code_of};

/// The attendance rule: at least this many days a month in the village (SPEC C7).
pub const MIN_DAYS_PER_MONTH: i32 = 20;
/// Leave of up to this many days is approved by the town; longer leave by the county.
pub const TOWN_LEAVE_MAX_DAYS: i32 = 3;
/// Longest work log entry, in characters.
pub const MAX_LOG_CHARS: usize = 2_000;
/// Longest leave reason or evaluation comment, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Evaluation grades: `(key, Chinese, English)`.
pub const GRADES: &[(&str, &str, &str)] = &[
    ("excellent", "优秀", "excellent"),
    ("competent", "称职", "competent"),
    ("basically_competent", "基本称职", "basically competent"),
    ("incompetent", "不称职", "incompetent"),
];
/// Leave request statuses: `(key, Chinese, English)`.
pub const LEAVE_STATUSES: &[(&str, &str, &str)] = &[
    ("pending", "待审批", "pending"),
    ("approved", "已批准", "approved"),
    ("rejected", "未批准", "rejected"),
];
/// Who approves leave: `(key, Chinese, English)`.
pub const APPROVER_LEVELS: &[(&str, &str, &str)] = &[("town", "乡镇审批", "town"), ("county", "县级审批", "county")];

/// A residency as shown to users and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Residency {
    /// Id.
    pub id: i64,
    /// The batch that created it.
    pub batch_id: i64,
    /// The batch's name.
    pub batch_name: String,
    /// The cadre's id.
    pub cadre_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The cadre's birth year (with the source, tells two cadres of one name apart).
    pub cadre_birth_year: i32,
    /// The cadre's source unit or town.
    pub cadre_source: Option<String>,
    /// Whether the caller may open the cadre's page: the cadre's scope key (the source) is in
    /// the caller's scope. A town sees the residencies in its villages, not the roster of
    /// another town or of the county's units.
    pub cadre_visible: bool,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// Its town (12 digits).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// Evaluation grade key ([`GRADES`]), when evaluated.
    pub evaluation: Option<String>,
    /// Evaluation comment.
    pub evaluation_comment: Option<String>,
    /// When evaluated.
    #[schema(value_type = Option<String>)]
    pub evaluated_at: Option<chrono::NaiveDateTime>,
    /// By whom.
    pub evaluated_by: Option<String>,
    /// Work log entries.
    pub work_logs: i64,
    /// Months with attendance recorded.
    pub attendance_months: i64,
    /// Months below [`MIN_DAYS_PER_MONTH`].
    pub short_months: i64,
    /// Months whose days nobody at the town or county has confirmed yet.
    pub unconfirmed_months: i64,
    /// Leave requests waiting for a decision.
    pub pending_leave: i64,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = residencies)]
struct ResidencyRow {
    id: i64,
    batch_id: i64,
    cadre_id: i64,
    village_code: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    evaluation: Option<String>,
    evaluation_comment: Option<String>,
    evaluated_at: Option<chrono::NaiveDateTime>,
    evaluated_by: Option<String>,
    illustrative: bool,
}

/// Filters of the residency list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResidencyFilter {
    /// Only villages in this division subtree (a town page: the town's code).
    pub under: Option<String>,
    /// Only this batch.
    pub batch_id: Option<i64>,
    /// Only this cadre (a cadre page).
    pub cadre_id: Option<i64>,
    /// Only residencies running on this date (start ≤ date ≤ end).
    pub on: Option<NaiveDate>,
}

fn residency_pred(access: &Access, f: &ResidencyFilter) -> Pred<residencies::table> {
    let mut p: Vec<Pred<residencies::table>> = vec![code_scope!(
        residencies::table,
        residencies::village_code,
        access,
        given(&f.under)
    )];
    if let Some(b) = f.batch_id {
        p.push(Box::new(residencies::batch_id.eq(b)));
    }
    if let Some(c) = f.cadre_id {
        p.push(Box::new(residencies::cadre_id.eq(c)));
    }
    if let Some(d) = f.on {
        p.push(Box::new(residencies::start_date.le(d)));
        p.push(Box::new(residencies::end_date.ge(d)));
    }
    crate::registry::query::all(p)
}

/// The residencies within the caller's scope matching `filter`, by village code, start date and
/// id, with the total number of matches.
pub fn residencies(
    conn: &mut DbConn,
    access: &Access,
    filter: &ResidencyFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Residency>, i64)> {
    let total: i64 = residencies::table
        .filter(residency_pred(access, filter))
        .count()
        .get_result(conn)?;
    let rows: Vec<ResidencyRow> = residencies::table
        .filter(residency_pred(access, filter))
        .order((
            residencies::village_code.asc(),
            residencies::start_date.asc(),
            residencies::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .select(ResidencyRow::as_select())
        .load(conn)?;
    Ok((with_details(conn, access, rows)?, total))
}

/// One residency; `None` when unknown or outside the caller's scope.
pub fn residency(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Residency>> {
    let row = visible(conn, access, id)?;
    Ok(match row {
        Some(r) => with_details(conn, access, vec![r])?.into_iter().next(),
        None => None,
    })
}

fn visible(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<ResidencyRow>> {
    Ok(residencies::table
        .filter(residencies::id.eq(id))
        .filter(residency_pred(access, &ResidencyFilter::default()))
        .select(ResidencyRow::as_select())
        .first(conn)
        .optional()?)
}

fn visible_or_404(conn: &mut DbConn, access: &Access, id: i64) -> Result<ResidencyRow, DispatchError> {
    visible(conn, access, id)?.ok_or(DispatchError::NotFound)
}

fn counts_by_residency(rows: Vec<(i64, i64)>) -> HashMap<i64, i64> {
    rows.into_iter().collect()
}

fn with_details(conn: &mut DbConn, access: &Access, rows: Vec<ResidencyRow>) -> DbResult<Vec<Residency>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let cadre_ids: Vec<i64> = rows.iter().map(|r| r.cadre_id).collect();
    let people = super::cadre_tags(conn, &cadre_ids)?;
    let mut batch_ids: Vec<i64> = rows.iter().map(|r| r.batch_id).collect();
    batch_ids.sort_unstable();
    batch_ids.dedup();
    let batch_names: HashMap<i64, String> = dispatch_batches::table
        .filter(dispatch_batches::id.eq_any(&batch_ids))
        .select((dispatch_batches::id, dispatch_batches::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let (mut logs, mut months, mut short, mut pending, mut unconfirmed) = (
        HashMap::new(),
        HashMap::new(),
        HashMap::new(),
        HashMap::new(),
        HashMap::new(),
    );
    for part in ids.chunks(IN_CHUNK) {
        logs.extend(counts_by_residency(
            work_logs::table
                .filter(work_logs::residency_id.eq_any(part))
                .group_by(work_logs::residency_id)
                .select((work_logs::residency_id, count_star()))
                .load(conn)?,
        ));
        months.extend(counts_by_residency(
            attendance::table
                .filter(attendance::residency_id.eq_any(part))
                .group_by(attendance::residency_id)
                .select((attendance::residency_id, count_star()))
                .load(conn)?,
        ));
        short.extend(counts_by_residency(
            attendance::table
                .filter(attendance::residency_id.eq_any(part))
                .filter(attendance::days.lt(MIN_DAYS_PER_MONTH))
                .group_by(attendance::residency_id)
                .select((attendance::residency_id, count_star()))
                .load(conn)?,
        ));
        unconfirmed.extend(counts_by_residency(
            attendance::table
                .filter(attendance::residency_id.eq_any(part))
                .filter(attendance::confirmed_at.is_null())
                .group_by(attendance::residency_id)
                .select((attendance::residency_id, count_star()))
                .load(conn)?,
        ));
        pending.extend(counts_by_residency(
            leave_requests::table
                .filter(leave_requests::residency_id.eq_any(part))
                .filter(leave_requests::status.eq("pending"))
                .group_by(leave_requests::residency_id)
                .select((leave_requests::residency_id, count_star()))
                .load(conn)?,
        ));
    }
    let names = division_names(
        conn,
        rows.iter()
            .flat_map(|r| [Some(r.village_code.clone()), town_code_of(&r.village_code)])
            .flatten(),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let person = people.get(&r.cadre_id).cloned().unwrap_or_default();
            let town_code = town_code_of(&r.village_code);
            Residency {
                batch_name: batch_names.get(&r.batch_id).cloned().unwrap_or_default(),
                cadre_visible: access.sees_code(&person.division_code),
                cadre_name: person.name,
                cadre_birth_year: person.birth_year,
                cadre_source: person.source,
                unconfirmed_months: unconfirmed.get(&r.id).copied().unwrap_or(0),
                village_name: names.get(&r.village_code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                work_logs: logs.get(&r.id).copied().unwrap_or(0),
                attendance_months: months.get(&r.id).copied().unwrap_or(0),
                short_months: short.get(&r.id).copied().unwrap_or(0),
                pending_leave: pending.get(&r.id).copied().unwrap_or(0),
                id: r.id,
                batch_id: r.batch_id,
                cadre_id: r.cadre_id,
                village_code: r.village_code,
                start_date: r.start_date,
                end_date: r.end_date,
                evaluation: r.evaluation,
                evaluation_comment: r.evaluation_comment,
                evaluated_at: r.evaluated_at,
                evaluated_by: r.evaluated_by,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

/// Refuses a date outside the residency's term.
fn within_term(r: &ResidencyRow, d: NaiveDate, what: &str) -> Result<(), DispatchError> {
    if d < r.start_date || d > r.end_date {
        return Err(DispatchError::invalid(
            "dispatch-outside-term",
            format!(
                "the {what} {d} is outside the residency ({} to {})",
                r.start_date, r.end_date
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Work logs

/// A work log entry (驻村日志).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = work_logs)]
pub struct WorkLog {
    /// Id.
    pub id: i64,
    /// The residency.
    pub residency_id: i64,
    /// The day the work was done.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// What was done.
    pub content: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// When entered (UTC).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
    /// By whom.
    pub created_by: String,
}

/// A work log entry to insert in bulk (import framework, demo generator).
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = work_logs)]
pub struct NewWorkLog {
    /// The residency.
    pub residency_id: i64,
    /// The day.
    pub date: NaiveDate,
    /// What was done ([`clean_log`]).
    pub content: String,
    /// Generated for the demo.
    pub illustrative: bool,
    /// When entered (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// By whom.
    pub created_by: String,
}

/// Inserts work log entries (no audit: callers record one entry per import).
pub fn insert_work_logs(conn: &mut DbConn, rows: &[NewWorkLog]) -> DbResult<()> {
    crate::insert_rows!(&mut *conn, work_logs::table, rows, 1_000);
    Ok(())
}

/// A work log text as stored: line ends `\n`, trimmed, not empty, at most [`MAX_LOG_CHARS`]
/// characters, no control or invisible characters other than line breaks and tabs.
///
/// # Errors
/// [`DispatchError::Invalid`] with code `dispatch-log-empty`, `dispatch-log-too-long` or
/// `dispatch-log-invisible`.
pub fn clean_log(content: &str) -> Result<String, DispatchError> {
    let text = content.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(DispatchError::invalid("dispatch-log-empty", "write what was done"));
    }
    if text.chars().count() > MAX_LOG_CHARS {
        return Err(DispatchError::invalid(
            "dispatch-log-too-long",
            format!("a work log entry has at most {MAX_LOG_CHARS} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c != '\n' && c != '\t' && ringline_core::text::is_invisible(c))
    {
        return Err(DispatchError::invalid(
            "dispatch-log-invisible",
            "the text contains an invisible or control character; retype it",
        ));
    }
    Ok(text.to_string())
}

/// The work log of a residency the caller sees (empty otherwise), newest first, with the total.
pub fn work_logs(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<WorkLog>, i64)> {
    if visible(conn, access, residency_id)?.is_none() {
        return Ok((Vec::new(), 0));
    }
    let total: i64 = work_logs::table
        .filter(work_logs::residency_id.eq(residency_id))
        .count()
        .get_result(conn)?;
    let rows = work_logs::table
        .filter(work_logs::residency_id.eq(residency_id))
        .order((work_logs::date.desc(), work_logs::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(WorkLog::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Adds a work log entry for a day of the term: the record kind
/// [`WorkLogs`](super::work_log::WorkLogs)'s check and write, as the residency page's form does
/// ([`super::work_log::add_for_residency`]). Needs [`Permission::RecordResidency`] and the
/// residency in scope; audited. Returns the entry's id.
///
/// # Errors
/// [`DispatchError::Issues`] with the check's problems (`dispatch-outside-term`,
/// `dispatch-log-too-long`, `key-taken-work-logs` for a second log of the day …);
/// [`DispatchError::NotFound`]; [`DispatchError::Forbidden`].
pub fn add_work_log(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    date: NaiveDate,
    content: &str,
) -> Result<i64, DispatchError> {
    let mut cx = crate::kind::Cx::new(conn, access, crate::clock::Clock::current());
    let id = super::work_log::add_for_residency(&mut cx, residency_id, &date.to_string(), content)?;
    id.parse()
        .map_err(|_| DispatchError::Db(crate::db::DbError::Task("a work log id is a number".into())))
}

// ---------------------------------------------------------------------------------------------
// Attendance

/// Days in the village in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AttendanceMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Days in the village.
    pub days: i32,
    /// Whether the month keeps the rule (at least [`MIN_DAYS_PER_MONTH`] days); `false` is
    /// flagged on the pages.
    pub compliant: bool,
    /// When recorded (UTC).
    #[schema(value_type = String)]
    pub updated_at: chrono::NaiveDateTime,
    /// By whom.
    pub updated_by: String,
    /// Who at the town or county confirmed the days ([`confirm_attendance`]); `None`: not
    /// confirmed yet (a changed figure is unconfirmed again).
    pub confirmed_by: Option<String>,
    /// When (UTC).
    #[schema(value_type = Option<String>)]
    pub confirmed_at: Option<chrono::NaiveDateTime>,
}

/// `(year, month)` of a `YYYY-MM` text.
pub fn parse_month(s: &str) -> Option<(i32, u32)> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    NaiveDate::from_ymd_opt(y, m, 1).map(|_| (y, m))
}

/// First and last day of a month.
fn month_bounds(y: i32, m: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let last = first.checked_add_months(chrono::Months::new(1))?.pred_opt()?;
    Some((first, last))
}

/// The attendance of a residency the caller sees (empty otherwise), by month.
pub fn attendance(conn: &mut DbConn, access: &Access, residency_id: i64) -> DbResult<Vec<AttendanceMonth>> {
    if visible(conn, access, residency_id)?.is_none() {
        return Ok(Vec::new());
    }
    type Row = (
        String,
        i32,
        chrono::NaiveDateTime,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Row> = attendance::table
        .filter(attendance::residency_id.eq(residency_id))
        .order(attendance::month.asc())
        .select((
            attendance::month,
            attendance::days,
            attendance::updated_at,
            attendance::updated_by,
            attendance::confirmed_by,
            attendance::confirmed_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(month, days, updated_at, updated_by, confirmed_by, confirmed_at)| AttendanceMonth {
                month,
                days,
                compliant: days >= MIN_DAYS_PER_MONTH,
                updated_at,
                updated_by,
                confirmed_by,
                confirmed_at,
            },
        )
        .collect())
}

/// Records (or corrects) the days in the village in a month of the term. Needs
/// [`Permission::RecordResidency`] and the residency in scope; audited. The answer flags a
/// month below [`MIN_DAYS_PER_MONTH`] (`compliant: false`). A changed figure is no longer
/// confirmed ([`confirm_attendance`]).
///
/// # Errors
/// `dispatch-month` for a month that is not `YYYY-MM` or lies outside the term;
/// `dispatch-days` for days outside 0 … the month's length.
pub fn set_attendance(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    month: &str,
    days: i32,
) -> Result<AttendanceMonth, DispatchError> {
    require(access, Permission::RecordResidency)?;
    let Some((y, m)) = parse_month(month) else {
        return Err(DispatchError::invalid(
            "dispatch-month",
            format!("{month:?} is not a month; write it as 2026-03"),
        ));
    };
    let Some((first, last)) = month_bounds(y, m) else {
        return Err(DispatchError::invalid("dispatch-month", "not a month"));
    };
    let month = format!("{y:04}-{m:02}");
    let length = i32::try_from(last.day()).unwrap_or(31);
    if !(0..=length).contains(&days) {
        return Err(DispatchError::invalid(
            "dispatch-days",
            format!("{month} has {length} days; give 0 to {length}"),
        ));
    }
    crate::db::write_transaction(conn, |conn| {
        let r = visible_or_404(conn, access, residency_id)?;
        if last < r.start_date || first > r.end_date {
            return Err(DispatchError::invalid(
                "dispatch-month",
                format!("{month} is outside the residency ({} to {})", r.start_date, r.end_date),
            ));
        }
        let before: Option<i32> = attendance::table
            .find((residency_id, &month))
            .select(attendance::days)
            .first(conn)
            .optional()?;
        let at = now();
        if before.is_some() {
            diesel::update(attendance::table.find((residency_id, &month)))
                .set((
                    attendance::days.eq(days),
                    attendance::updated_at.eq(at),
                    attendance::updated_by.eq(&access.username),
                ))
                .execute(conn)?;
            if before != Some(days) {
                diesel::update(attendance::table.find((residency_id, &month)))
                    .set((
                        attendance::confirmed_by.eq(None::<String>),
                        attendance::confirmed_at.eq(None::<chrono::NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
        } else {
            diesel::insert_into(attendance::table)
                .values((
                    attendance::residency_id.eq(residency_id),
                    attendance::month.eq(&month),
                    attendance::days.eq(days),
                    attendance::updated_at.eq(at),
                    attendance::updated_by.eq(&access.username),
                ))
                .execute(conn)?;
        }
        let id_text = format!("{residency_id}:{month}");
        audit::record(
            conn,
            access,
            Change {
                action: if before.is_some() { "update" } else { "create" },
                entity: "attendance",
                entity_id: &id_text,
                before: before.map(|d| serde_json::json!({"days": d})),
                after: Some(serde_json::json!({"days": days})),
                scope: scope_prefix(&r.village_code),
                ..Default::default()
            },
        )?;
        let (confirmed_by, confirmed_at): (Option<String>, Option<chrono::NaiveDateTime>) = attendance::table
            .find((residency_id, &month))
            .select((attendance::confirmed_by, attendance::confirmed_at))
            .first(conn)?;
        Ok(AttendanceMonth {
            month: month.clone(),
            days,
            compliant: days >= MIN_DAYS_PER_MONTH,
            updated_at: at,
            updated_by: access.username.clone(),
            confirmed_by,
            confirmed_at,
        })
    })
}

/// Confirms the days recorded for a month of a residency the caller sees (the town's check of
/// what a cadre reports). Needs [`Permission::DecideLeave`] (county and town administrators);
/// audited with the confirmed figure. Confirming again after a correction confirms the new
/// figure.
///
/// # Errors
/// `dispatch-month` for a month that is not `YYYY-MM`; [`DispatchError::Issues`] with
/// `dispatch-attendance-missing` when no days are recorded for it or
/// `dispatch-attendance-confirmed` when the figure is confirmed already;
/// [`DispatchError::NotFound`]; [`DispatchError::Forbidden`].
pub fn confirm_attendance(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    month: &str,
) -> Result<AttendanceMonth, DispatchError> {
    require(access, Permission::DecideLeave)?;
    let Some((y, m)) = parse_month(month) else {
        return Err(DispatchError::invalid(
            "dispatch-month",
            format!("{month:?} is not a month; write it as 2026-03"),
        ));
    };
    let month = format!("{y:04}-{m:02}");
    crate::db::write_transaction(conn, |conn| {
        let r = visible_or_404(conn, access, residency_id)?;
        let row: Option<(i32, Option<String>)> = attendance::table
            .find((residency_id, &month))
            .select((attendance::days, attendance::confirmed_by))
            .first(conn)
            .optional()?;
        let Some((days, confirmed)) = row else {
            return Err(DispatchError::issue(
                "month",
                &month,
                "dispatch-attendance-missing",
                format!("no days are recorded for {month}; record them first"),
                Vec::new(),
            ));
        };
        if let Some(by) = confirmed {
            return Err(DispatchError::issue(
                "month",
                &month,
                "dispatch-attendance-confirmed",
                format!("the days of {month} were confirmed already by {by}"),
                vec![("who", by)],
            ));
        }
        let at = now();
        diesel::update(attendance::table.find((residency_id, &month)))
            .set((
                attendance::confirmed_by.eq(Some(&access.username)),
                attendance::confirmed_at.eq(Some(at)),
            ))
            .execute(conn)?;
        let id_text = format!("{residency_id}:{month}");
        audit::record(
            conn,
            access,
            Change {
                action: "confirm",
                entity: "attendance",
                entity_id: &id_text,
                after: Some(serde_json::json!({"days": days})),
                scope: scope_prefix(&r.village_code),
                ..Default::default()
            },
        )?;
        attendance(conn, access, residency_id)?
            .into_iter()
            .find(|a| a.month == month)
            .ok_or(DispatchError::NotFound)
    })
}

/// Inserts attendance months `(residency_id, "YYYY-MM", days)` in bulk (demo generator).
pub fn insert_attendance(conn: &mut DbConn, rows: &[(i64, String, i32)], by: &str) -> DbResult<()> {
    let at = now();
    let rows: Vec<_> = rows
        .iter()
        .map(|(r, m, d)| {
            (
                attendance::residency_id.eq(*r),
                attendance::month.eq(m.clone()),
                attendance::days.eq(*d),
                attendance::updated_at.eq(at),
                attendance::updated_by.eq(by.to_string()),
            )
        })
        .collect();
    crate::insert_rows!(&mut *conn, attendance::table, &rows, 1_000);
    Ok(())
}

/// One residency's attendance in a month, for the town and county overviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthRow {
    /// The residency.
    pub residency_id: i64,
    /// The cadre's id.
    pub cadre_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// Its town (12 digits).
    pub town_code: Option<String>,
    /// Days recorded; `None`: not reported yet.
    pub days: Option<i32>,
    /// Whether the month keeps the rule; `None` when not reported.
    pub compliant: Option<bool>,
}

/// Every residency within the caller's scope (and `under`) running during `month`
/// (`YYYY-MM`), with its attendance that month: the town and county overviews flag the rows
/// below [`MIN_DAYS_PER_MONTH`] and those not reported.
///
/// # Errors
/// `dispatch-month` for a malformed month.
pub fn month_attendance(
    conn: &mut DbConn,
    access: &Access,
    month: &str,
    under: Option<&str>,
) -> Result<Vec<MonthRow>, DispatchError> {
    let Some((first, last)) = parse_month(month).and_then(|(y, m)| month_bounds(y, m)) else {
        return Err(DispatchError::invalid(
            "dispatch-month",
            format!("{month:?} is not a month; write it as 2026-03"),
        ));
    };
    let month = first.format("%Y-%m").to_string();
    let filter = ResidencyFilter {
        under: under.map(str::to_string),
        ..Default::default()
    };
    let rows: Vec<(i64, i64, String)> = residencies::table
        .filter(residency_pred(access, &filter))
        .filter(residencies::start_date.le(last))
        .filter(residencies::end_date.ge(first))
        .order((residencies::village_code.asc(), residencies::id.asc()))
        .select((residencies::id, residencies::cadre_id, residencies::village_code))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut days: HashMap<i64, i32> = HashMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    for part in ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, i32)> = attendance::table
            .filter(attendance::residency_id.eq_any(part))
            .filter(attendance::month.eq(&month))
            .select((attendance::residency_id, attendance::days))
            .load(conn)?;
        days.extend(found);
    }
    let cadre_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    for part in cadre_ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, String)> = cadres::table
            .filter(cadres::id.eq_any(part))
            .select((cadres::id, cadres::name))
            .load(conn)?;
        names.extend(found);
    }
    let villages = division_names(conn, rows.iter().map(|r| r.2.clone()))?;
    Ok(rows
        .into_iter()
        .map(|(residency_id, cadre_id, village_code)| {
            let d = days.get(&residency_id).copied();
            MonthRow {
                residency_id,
                cadre_id,
                cadre_name: names.get(&cadre_id).cloned().unwrap_or_default(),
                village_name: villages.get(&village_code).cloned(),
                town_code: town_code_of(&village_code),
                village_code,
                days: d,
                compliant: d.map(|d| d >= MIN_DAYS_PER_MONTH),
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Leave

/// A leave request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeaveRequest {
    /// Id.
    pub id: i64,
    /// The residency.
    pub residency_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The cadre's birth year.
    pub cadre_birth_year: i32,
    /// The cadre's source unit or town.
    pub cadre_source: Option<String>,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// First day of leave.
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    /// Last day of leave.
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// Calendar days, both ends included.
    pub days: i32,
    /// Why.
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// `town` (up to [`TOWN_LEAVE_MAX_DAYS`] days) or `county`.
    pub approver_level: String,
    /// When requested (UTC).
    #[schema(value_type = String)]
    pub requested_at: chrono::NaiveDateTime,
    /// By whom.
    pub requested_by: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    #[schema(value_type = Option<String>)]
    pub decided_at: Option<chrono::NaiveDateTime>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = leave_requests)]
struct LeaveRow {
    id: i64,
    residency_id: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
    days: i32,
    reason: String,
    status: String,
    approver_level: String,
    requested_at: chrono::NaiveDateTime,
    requested_by: String,
    decided_by: Option<String>,
    decided_at: Option<chrono::NaiveDateTime>,
    illustrative: bool,
}

/// Filters of the leave list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaveFilter {
    /// Only this residency.
    pub residency_id: Option<i64>,
    /// Only this status (`pending`, `approved`, `rejected`).
    pub status: Option<String>,
    /// Only this approver level (`town`, `county`).
    pub approver_level: Option<String>,
    /// Only villages in this division subtree.
    pub under: Option<String>,
}

/// Calendar days of leave from `start` to `end`, both included (0 when `end` is before `start`).
pub fn leave_days(start: NaiveDate, end: NaiveDate) -> i32 {
    i32::try_from((end - start).num_days() + 1).unwrap_or(0).max(0)
}

/// Who approves leave of `days` days: `town` up to [`TOWN_LEAVE_MAX_DAYS`], else `county`.
pub fn approver_level(days: i32) -> &'static str {
    if days <= TOWN_LEAVE_MAX_DAYS { "town" } else { "county" }
}

/// Whether the caller may decide a request of `level` (`town` or `county`) whose residency is
/// in their scope: county administrators any, town administrators town-level ones.
pub fn may_decide(access: &Access, level: &str) -> bool {
    access.can(Permission::DecideLeave)
        && match level {
            "town" => matches!(access.role, Role::CountyAdmin | Role::TownAdmin),
            _ => access.role == Role::CountyAdmin,
        }
}

/// The leave requests within the caller's scope matching `filter`, newest first.
pub fn leave_requests(conn: &mut DbConn, access: &Access, filter: &LeaveFilter) -> DbResult<Vec<LeaveRequest>> {
    let mut q = leave_requests::table
        .inner_join(residencies::table)
        .select(LeaveRow::as_select())
        .into_boxed();
    let subtree = given(&filter.under).map(crate::registry::query::subtree);
    for f in std::iter::once(access.code_filter()).chain(subtree) {
        match f {
            CodeFilter::None => {}
            CodeFilter::Range(start, end) => {
                q = q.filter(residencies::village_code.ge(start));
                if let Some(end) = end {
                    q = q.filter(residencies::village_code.lt(end));
                }
            }
            CodeFilter::List(codes) => q = q.filter(residencies::village_code.eq_any(codes)),
        }
    }
    if let Some(r) = filter.residency_id {
        q = q.filter(leave_requests::residency_id.eq(r));
    }
    if let Some(s) = given(&filter.status) {
        q = q.filter(leave_requests::status.eq(s.to_string()));
    }
    if let Some(l) = given(&filter.approver_level) {
        q = q.filter(leave_requests::approver_level.eq(l.to_string()));
    }
    let rows: Vec<LeaveRow> = q
        .order((leave_requests::requested_at.desc(), leave_requests::id.desc()))
        .load(conn)?;
    leave_details(conn, rows)
}

fn leave_details(conn: &mut DbConn, rows: Vec<LeaveRow>) -> DbResult<Vec<LeaveRequest>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.residency_id).collect();
    let mut stays: HashMap<i64, (i64, String)> = HashMap::new();
    for part in ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, i64, String)> = residencies::table
            .filter(residencies::id.eq_any(part))
            .select((residencies::id, residencies::cadre_id, residencies::village_code))
            .load(conn)?;
        stays.extend(found.into_iter().map(|(id, c, v)| (id, (c, v))));
    }
    let tags = super::cadre_tags(conn, &stays.values().map(|s| s.0).collect::<Vec<_>>())?;
    let names = division_names(conn, stays.values().map(|s| s.1.clone()))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (cadre_id, village_code) = stays.get(&r.residency_id).cloned().unwrap_or_default();
            let who = tags.get(&cadre_id).cloned().unwrap_or_default();
            LeaveRequest {
                village_name: names.get(&village_code).cloned(),
                cadre_name: who.name,
                cadre_birth_year: who.birth_year,
                cadre_source: who.source,
                village_code,
                id: r.id,
                residency_id: r.residency_id,
                start_date: r.start_date,
                end_date: r.end_date,
                days: r.days,
                reason: r.reason,
                status: r.status,
                approver_level: r.approver_level,
                requested_at: r.requested_at,
                requested_by: r.requested_by,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

fn leave_of(conn: &mut DbConn, access: &Access, id: i64) -> Result<(LeaveRow, ResidencyRow), DispatchError> {
    let row: Option<LeaveRow> = leave_requests::table
        .find(id)
        .select(LeaveRow::as_select())
        .first(conn)
        .optional()?;
    let row = row.ok_or(DispatchError::NotFound)?;
    let r = visible_or_404(conn, access, row.residency_id)?;
    Ok((row, r))
}

fn note(text: &str, what: &str) -> Result<String, DispatchError> {
    let t = text.trim();
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(DispatchError::invalid(
            "dispatch-note-too-long",
            format!("the {what} has at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if t.chars().any(|c| c != '\n' && ringline_core::text::is_invisible(c)) {
        return Err(DispatchError::invalid(
            "dispatch-log-invisible",
            "the text contains an invisible or control character; retype it",
        ));
    }
    Ok(t.to_string())
}

/// A leave request to insert in bulk (demo generator).
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = leave_requests, treat_none_as_default_value = false)]
pub struct NewLeave {
    /// The residency.
    pub residency_id: i64,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// [`leave_days`].
    pub days: i32,
    /// Why.
    pub reason: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// [`approver_level`].
    pub approver_level: String,
    /// When requested.
    pub requested_at: chrono::NaiveDateTime,
    /// By whom.
    pub requested_by: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<chrono::NaiveDateTime>,
    /// Generated for the demo.
    pub illustrative: bool,
}

/// Inserts leave requests (no audit: the demo generator records one entry).
pub fn insert_leave(conn: &mut DbConn, rows: &[NewLeave]) -> DbResult<()> {
    crate::insert_rows!(&mut *conn, leave_requests::table, rows, 1_000);
    Ok(())
}

/// Requests leave from `start` to `end` (both included, within the term, sharing no day with
/// another pending or approved request of the residency). The days are counted
/// ([`leave_days`]) and the approver set ([`approver_level`]: up to 3 days the town, longer the
/// county). Needs [`Permission::RecordResidency`] and the residency in scope; audited.
///
/// # Errors
/// `dispatch-leave-dates` when `end` is before `start`; `dispatch-outside-term`;
/// [`DispatchError::Issues`] with `dispatch-leave-overlap` when a pending or approved request
/// of the residency shares a day;
/// `dispatch-note-too-long`.
pub fn request_leave(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    start: NaiveDate,
    end: NaiveDate,
    reason: &str,
) -> Result<LeaveRequest, DispatchError> {
    require(access, Permission::RecordResidency)?;
    if end < start {
        return Err(DispatchError::invalid(
            "dispatch-leave-dates",
            "the last day of leave is before the first",
        ));
    }
    let reason = note(reason, "reason")?;
    let id = crate::db::write_transaction(conn, |conn| {
        let r = visible_or_404(conn, access, residency_id)?;
        within_term(&r, start, "first day of leave")?;
        within_term(&r, end, "last day of leave")?;
        // A day is requested once: a request that is pending or approved and shares a day.
        let other: Option<(NaiveDate, NaiveDate, String)> = leave_requests::table
            .filter(leave_requests::residency_id.eq(residency_id))
            .filter(leave_requests::status.ne("rejected"))
            .filter(leave_requests::start_date.le(end))
            .filter(leave_requests::end_date.ge(start))
            .order(leave_requests::start_date.asc())
            .select((
                leave_requests::start_date,
                leave_requests::end_date,
                leave_requests::status,
            ))
            .first(conn)
            .optional()?;
        if let Some((s, e, status)) = other {
            return Err(DispatchError::issue(
                "start",
                &start.to_string(),
                "dispatch-leave-overlap",
                format!(
                    "leave from {s} to {e} ({status}) already covers some of these days; change that request or choose other days"
                ),
                vec![("start", s.to_string()), ("end", e.to_string()), ("status", status)],
            ));
        }
        let days = leave_days(start, end);
        let level = approver_level(days);
        let id: i64 = diesel::insert_into(leave_requests::table)
            .values(NewLeave {
                residency_id,
                start_date: start,
                end_date: end,
                days,
                reason: reason.clone(),
                status: "pending".into(),
                approver_level: level.into(),
                requested_at: now(),
                requested_by: access.username.clone(),
                decided_by: None,
                decided_at: None,
                illustrative: false,
            })
            .returning(leave_requests::id)
            .get_result(conn)?;
        let id_text = id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "create",
                entity: "leave_request",
                entity_id: &id_text,
                after: Some(serde_json::json!({
                    "residency_id": residency_id, "start_date": start, "end_date": end,
                    "days": days, "approver_level": level, "reason": reason,
                })),
                scope: scope_prefix(&r.village_code),
                ..Default::default()
            },
        )?;
        Ok::<_, DispatchError>(id)
    })?;
    let row: LeaveRow = leave_requests::table
        .find(id)
        .select(LeaveRow::as_select())
        .first(conn)?;
    Ok(leave_details(conn, vec![row])?.remove(0))
}

/// Approves (`approve`) or rejects a pending leave request. A town-level request (up to 3 days)
/// is decided by a town administrator within whose town it is, or a county administrator; a
/// county-level one only by a county administrator ([`may_decide`]). Audited.
///
/// # Errors
/// [`DispatchError::Forbidden`] for a caller who may not decide this level;
/// `dispatch-leave-decided` for a request already decided; [`DispatchError::NotFound`].
pub fn decide_leave(conn: &mut DbConn, access: &Access, id: i64, approve: bool) -> Result<LeaveRequest, DispatchError> {
    require(access, Permission::DecideLeave)?;
    crate::db::write_transaction(conn, |conn| {
        let (row, r) = leave_of(conn, access, id)?;
        if !may_decide(access, &row.approver_level) {
            return Err(DispatchError::Forbidden);
        }
        if row.status != "pending" {
            return Err(DispatchError::invalid(
                "dispatch-leave-decided",
                format!("this request was already {}", row.status),
            ));
        }
        let status = if approve { "approved" } else { "rejected" };
        let at = now();
        diesel::update(leave_requests::table.find(id))
            .set((
                leave_requests::status.eq(status),
                leave_requests::decided_by.eq(Some(&access.username)),
                leave_requests::decided_at.eq(Some(at)),
            ))
            .execute(conn)?;
        let id_text = id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: if approve { "approve" } else { "reject" },
                entity: "leave_request",
                entity_id: &id_text,
                before: Some(serde_json::json!({"status": row.status})),
                after: Some(serde_json::json!({"status": status})),
                scope: scope_prefix(&r.village_code),
                ..Default::default()
            },
        )?;
        let row: LeaveRow = leave_requests::table
            .find(id)
            .select(LeaveRow::as_select())
            .first(conn)?;
        Ok(leave_details(conn, vec![row])?.remove(0))
    })
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Records the end-of-term evaluation of a residency: a grade key of [`GRADES`] (优秀, 称职,
/// 基本称职, 不称职) and an optional comment; a later call replaces it. Needs
/// [`Permission::Dispatch`] and the residency in scope; audited.
///
/// # Errors
/// `dispatch-grade` for an unknown grade; `dispatch-note-too-long`.
pub fn evaluate(
    conn: &mut DbConn,
    access: &Access,
    residency_id: i64,
    grade: &str,
    comment: Option<&str>,
) -> Result<(), DispatchError> {
    require(access, Permission::Dispatch)?;
    let grade = ringline_core::cell::choice(grade, GRADES).map_err(|_| {
        DispatchError::invalid(
            "dispatch-grade",
            "the grade is one of excellent (优秀), competent (称职), basically_competent (基本称职), incompetent (不称职)",
        )
    })?;
    let comment = comment
        .map(|c| note(c, "comment"))
        .transpose()?
        .filter(|c| !c.is_empty());
    crate::db::write_transaction(conn, |conn| {
        let r = visible_or_404(conn, access, residency_id)?;
        diesel::update(residencies::table.find(residency_id))
            .set((
                residencies::evaluation.eq(Some(grade)),
                residencies::evaluation_comment.eq(&comment),
                residencies::evaluated_at.eq(Some(now())),
                residencies::evaluated_by.eq(Some(&access.username)),
            ))
            .execute(conn)?;
        let id_text = residency_id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "evaluate",
                entity: "residency",
                entity_id: &id_text,
                before: r
                    .evaluation
                    .map(|e| serde_json::json!({"evaluation": e, "comment": r.evaluation_comment})),
                after: Some(serde_json::json!({"evaluation": grade, "comment": comment})),
                scope: scope_prefix(&r.village_code),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn leave_days_and_levels() {
        assert_eq!(leave_days(d(2026, 3, 2), d(2026, 3, 3)), 2);
        assert_eq!(leave_days(d(2026, 3, 2), d(2026, 3, 2)), 1);
        assert_eq!(leave_days(d(2026, 2, 27), d(2026, 3, 3)), 5);
        assert_eq!(approver_level(3), "town");
        assert_eq!(approver_level(4), "county");
    }

    #[test]
    fn months() {
        assert_eq!(parse_month("2026-03"), Some((2026, 3)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-3"), None);
        assert_eq!(month_bounds(2028, 2), Some((d(2028, 2, 1), d(2028, 2, 29))));
    }

    #[test]
    fn logs_keep_line_breaks_and_refuse_control_characters() {
        assert_eq!(
            clean_log("  走访农户\r\n召开会议 ").ok(),
            Some("走访农户\n召开会议".into())
        );
        assert!(clean_log("   ").is_err());
        assert!(clean_log("a\u{1b}b").is_err());
        assert!(clean_log(&"字".repeat(MAX_LOG_CHARS + 1)).is_err());
    }
}
