//! Dispatch batches (选派批次, SPEC C7): the hard rules and the stated score of a round of
//! dispatch, the user's pinned and forbidden pairs, the optimal plan with every pair's score
//! explained, and confirmation into residencies.
//!
//! # The stated score
//!
//! A cadre at a village scores, for every skill the village needs and the cadre has, the need's
//! priority (1–3) × [`Batch::per_priority_point`] (default [`DEFAULT_PER_PRIORITY_POINT`] = 10),
//! plus [`Batch::twinning_bonus`] (default [`DEFAULT_TWINNING_BONUS`] = 5) when the cadre's source
//! unit is twinned with the village. The plan has the greatest total score, then the fewest
//! pairs ([`ringline_core::dispatch`]).
//!
//! # The hard rules
//!
//! At most [`Batch::per_village`] cadres per village (1 by default), never to the cadre's home
//! village, between [`Batch::min_size`] and [`Batch::max_size`] pairs (Datong: 20–30), only
//! cadres of [`Batch::young_max_age`] or younger on the reference date (NULL: any age), no
//! forbidden pair, every pinned pair.
//!
//! # Inputs built from the database ([`inputs`])
//!
//! - cadres: the roster of the batch's county (scope key within the county) without a residency
//!   that ends on or after the reference date; ages on the reference date;
//! - villages: the county's active villages with at least one need, with their needs, except
//!   those whose residencies running on the reference date already fill
//!   [`Batch::per_village`] places (a village hosting a cadre does not get another);
//! - twinning: the county's twinning pairs;
//! - rules: the batch's settings and its pins and forbidden pairs.
//!
//! # Life of a batch
//!
//! A batch is created as a `draft` (the record kind [`super::batch_kind::Batches`]: forms, API,
//! command line). [`run`] computes the plan and stores it in `batch_pairs` (replacing the last
//! one), or stores the infeasibility reason and returns it. Changing the batch's settings or its
//! pins/forbidden pairs keeps the last plan, marked out of date ([`Batch::plan_outdated`]:
//! `planned_at` is cleared, the pairs stay) until it is run again; an out-of-date plan is not
//! confirmed. [`confirm`] re-plans inside its transaction, refuses when the result differs
//! from the stored plan (the roster, needs or twinning changed since), creates one residency per
//! pair (start = the reference date, end = [`term_end`] after [`Batch::term_months`]) and marks
//! the batch `confirmed`: no more runs or rule changes.
//!
//! Batches are few, so their visibility ([`Access::sees_county`] of the batch's county) is
//! checked in Rust after loading; everything below a batch is filtered by its scope keys.
//! Creating, changing, pinning, running and confirming need a scope covering the whole county
//! ([`Access::covers_county`], else [`DispatchError::Forbidden`]): a batch's plan and residencies
//! span its towns. Readers who do not cover the county get no whole-batch totals and no code or
//! name of a village outside their scope.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use diesel::dsl::count_star;
use diesel::prelude::*;
use ringline_core::dispatch as opt;
use serde::{Deserialize, Serialize};

use super::{DispatchError, Skill, require, scope_prefix, skills, skills_of, term_end, visible_village};
use crate::access::{Access, Permission};
use crate::audit::{self, Change};
use crate::db::schema::{
    audit_log, batch_pairs, batch_rules, cadres, dispatch_batches, divisions, residencies, twinning, village_needs,
};
use crate::db::{DbConn, DbResult, now};
use crate::registry::query::{age_on, division_names, town_code_of};

/// Restricts `$col` to the county `$county`'s code range.
macro_rules! county_filter {
    ($table:ty, $col:expr, $county:expr) => {{
        let mut p: Vec<$crate::registry::query::Pred<$table>> = Vec::new();
        $crate::registry::query::restrict_codes!(p, $col, super::county_range($county));
        $crate::registry::query::all(p)
    }};
}

/// Smallest batch by default (Datong: 20–30).
pub const DEFAULT_MIN_SIZE: u32 = 20;
/// Largest batch by default.
pub const DEFAULT_MAX_SIZE: u32 = 30;
/// Points per priority point of a matched need, by default.
pub const DEFAULT_PER_PRIORITY_POINT: i32 = 10;
/// Points for a cadre whose unit is twinned with the village, by default.
pub const DEFAULT_TWINNING_BONUS: i32 = 5;
/// Length of a residency by default: 2 years.
pub const DEFAULT_TERM_MONTHS: u32 = 24;
/// `dispatch_batches.status` of a batch still being planned.
pub const DRAFT: &str = "draft";
/// `dispatch_batches.status` of a confirmed batch.
pub const CONFIRMED: &str = "confirmed";

/// The settings of a batch, for [`create_batch`] (the demo generator and tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchInput {
    /// Name, unique (e.g. 2026年第一批驻村干部选派).
    pub name: String,
    /// The county whose roster and villages the batch draws on (12 digits).
    pub county_code: String,
    /// Smallest number of pairs.
    pub min_size: u32,
    /// Largest number of pairs.
    pub max_size: u32,
    /// Most cadres per village (1 unless configured).
    pub per_village: u32,
    /// Only cadres of this age or younger on the reference date; `None`: any age (the
    /// override).
    pub young_max_age: Option<u32>,
    /// The date ages are computed on and residencies start.
    #[schema(value_type = String, format = Date)]
    pub reference_date: NaiveDate,
    /// Length of the residencies, in months.
    pub term_months: u32,
    /// Points per priority point of a matched need.
    pub per_priority_point: i32,
    /// Points when the cadre's unit is twinned with the village.
    pub twinning_bonus: i32,
}

impl BatchInput {
    /// A batch with the defaults: 20–30 pairs, one cadre per village, young cadres only (≤ 40),
    /// 24-month terms, 10 points per priority point, 5 for twinning.
    pub fn new(name: impl Into<String>, county_code: impl Into<String>, reference_date: NaiveDate) -> Self {
        BatchInput {
            name: name.into(),
            county_code: county_code.into(),
            min_size: DEFAULT_MIN_SIZE,
            max_size: DEFAULT_MAX_SIZE,
            per_village: 1,
            young_max_age: Some(super::DEFAULT_YOUNG_MAX_AGE),
            reference_date,
            term_months: DEFAULT_TERM_MONTHS,
            per_priority_point: DEFAULT_PER_PRIORITY_POINT,
            twinning_bonus: DEFAULT_TWINNING_BONUS,
        }
    }

    /// The settings as a person would type them (for [`create_batch`]).
    pub fn raw(&self) -> crate::kind::Raw {
        crate::kind::Raw::of([
            ("name", self.name.clone()),
            ("county", self.county_code.clone()),
            ("reference_date", self.reference_date.to_string()),
            ("min_size", self.min_size.to_string()),
            ("max_size", self.max_size.to_string()),
            ("per_village", self.per_village.to_string()),
            (
                "young_max_age",
                self.young_max_age.map(|a| a.to_string()).unwrap_or_default(),
            ),
            ("term_months", self.term_months.to_string()),
            ("per_priority_point", self.per_priority_point.to_string()),
            ("twinning_bonus", self.twinning_bonus.to_string()),
        ])
    }
}

/// A dispatch batch as shown to users and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Batch {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// County (12 digits).
    pub county_code: String,
    /// Its name.
    pub county_name: Option<String>,
    /// Smallest number of pairs.
    pub min_size: i32,
    /// Largest number of pairs.
    pub max_size: i32,
    /// Most cadres per village.
    pub per_village: i32,
    /// Young age limit in years; `None`: any age.
    pub young_max_age: Option<i32>,
    /// Ages are computed on this date; residencies start on it.
    #[schema(value_type = String, format = Date)]
    pub reference_date: NaiveDate,
    /// Residency length in months.
    pub term_months: i32,
    /// Points per priority point of a matched need.
    pub per_priority_point: i32,
    /// Points for twinning.
    pub twinning_bonus: i32,
    /// `draft` or `confirmed` (confirmed when `confirmed_at` is set).
    pub status: String,
    /// When the plan was last run with the current settings and rules (`None`: never, or a
    /// change since, which leaves the last plan out of date).
    #[schema(value_type = Option<String>)]
    pub planned_at: Option<chrono::NaiveDateTime>,
    /// The stored plan predates a change of the settings, pins or forbidden pairs: it is shown
    /// as the last plan, marked out of date, and cannot be confirmed until run again.
    pub plan_outdated: bool,
    /// When the last run found no plan: the reason's key (the optimiser's
    /// [`Infeasible::key`](ringline_core::dispatch::Infeasible::key)).
    pub plan_error_key: Option<String>,
    /// … and its message (English; translate by the key).
    pub plan_error: Option<String>,
    /// Pairs in the stored plan; `None` (withheld) for a caller whose scope does not cover the
    /// whole county, as the count includes pairs outside it.
    pub pairs: Option<i64>,
    /// Total score of the stored plan; withheld like `pairs`.
    pub total_score: Option<i64>,
    /// Residencies created by confirmation; withheld like `pairs`.
    pub residencies: Option<i64>,
    /// When confirmed.
    #[schema(value_type = Option<String>)]
    pub confirmed_at: Option<chrono::NaiveDateTime>,
    /// By whom (from the audit log).
    pub confirmed_by: Option<String>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// Created (UTC).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
    /// By whom (from the audit log).
    pub created_by: Option<String>,
}

impl Batch {
    /// Whether the batch can still be planned and changed.
    pub fn is_draft(&self) -> bool {
        self.status == DRAFT
    }

    /// The score weights.
    pub fn weights(&self) -> opt::Weights {
        opt::Weights {
            per_priority_point: i64::from(self.per_priority_point),
            twinning_bonus: i64::from(self.twinning_bonus),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dispatch_batches)]
struct BatchRow {
    id: i64,
    name: String,
    county_code: String,
    min_size: i32,
    max_size: i32,
    per_village: i32,
    young_max_age: Option<i32>,
    reference_date: NaiveDate,
    term_months: i32,
    per_priority_point: i32,
    twinning_bonus: i32,
    planned_at: Option<chrono::NaiveDateTime>,
    plan_error: Option<String>,
    confirmed_at: Option<chrono::NaiveDateTime>,
    illustrative: bool,
    created_at: chrono::NaiveDateTime,
}

impl BatchRow {
    fn is_draft(&self) -> bool {
        self.confirmed_at.is_none()
    }

    /// The stored infeasibility reason as (key, message).
    fn error(&self) -> Option<(String, String)> {
        self.plan_error.as_deref().map(split_error)
    }

    fn rules(&self) -> opt::Rules {
        let size = |n: i32| usize::try_from(n).unwrap_or(0);
        opt::Rules {
            min_size: size(self.min_size),
            max_size: size(self.max_size),
            per_village: size(self.per_village),
            young_max_age: self.young_max_age.and_then(|a| u32::try_from(a).ok()),
            pinned: Vec::new(),
            forbidden: Vec::new(),
        }
    }

    fn weights(&self) -> opt::Weights {
        opt::Weights {
            per_priority_point: i64::from(self.per_priority_point),
            twinning_bonus: i64::from(self.twinning_bonus),
        }
    }
}

/// A stored `plan_error` ("key: message") as (key, message).
fn split_error(s: &str) -> (String, String) {
    match s.split_once(": ") {
        Some((k, m)) => (k.to_string(), m.to_string()),
        None => (String::new(), s.to_string()),
    }
}

fn batch_rows(conn: &mut DbConn, access: &Access, id: Option<i64>) -> DbResult<Vec<BatchRow>> {
    let mut q = dispatch_batches::table.select(BatchRow::as_select()).into_boxed();
    if let Some(id) = id {
        q = q.filter(dispatch_batches::id.eq(id));
    }
    let rows: Vec<BatchRow> = q
        .order((dispatch_batches::reference_date.desc(), dispatch_batches::id.desc()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|b| access.sees_county(&b.county_code))
        .collect())
}

fn batch_row(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<BatchRow>> {
    Ok(batch_rows(conn, access, Some(id))?.into_iter().next())
}

fn to_batches(conn: &mut DbConn, access: &Access, rows: Vec<BatchRow>) -> DbResult<Vec<Batch>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let scores: Vec<(i64, i64)> = batch_pairs::table
        .filter(batch_pairs::batch_id.eq_any(&ids))
        .select((batch_pairs::batch_id, batch_pairs::score))
        .load(conn)?;
    let mut plan: HashMap<i64, (i64, i64)> = HashMap::new();
    for (b, s) in scores {
        let e = plan.entry(b).or_default();
        e.0 += 1;
        e.1 += s;
    }
    let stays: HashMap<i64, i64> = residencies::table
        .filter(residencies::batch_id.eq_any(&ids))
        .group_by(residencies::batch_id)
        .select((residencies::batch_id, count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let names = division_names(conn, rows.iter().map(|r| r.county_code.clone()))?;
    let id_texts: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut who: HashMap<(String, String), String> = HashMap::new();
    let entries: Vec<(String, String, String)> = audit_log::table
        .filter(audit_log::entity.eq("dispatch_batch"))
        .filter(audit_log::entity_id.eq_any(&id_texts))
        .filter(audit_log::action.eq_any(["create", "confirm"]))
        .order(audit_log::id.asc())
        .select((audit_log::entity_id, audit_log::action, audit_log::username))
        .load(conn)?;
    for (id, action, user) in entries {
        who.insert((id, action), user);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (pairs, total_score) = plan.get(&r.id).copied().unwrap_or_default();
            // Whole-batch figures count pairs across the county: only for callers covering it.
            let whole = access.covers_county(&r.county_code);
            let error = r.error();
            let id_text = r.id.to_string();
            Batch {
                plan_outdated: r.planned_at.is_none() && pairs > 0,
                status: if r.is_draft() { DRAFT } else { CONFIRMED }.to_string(),
                plan_error_key: error.as_ref().map(|e| e.0.clone()),
                plan_error: error.map(|e| e.1),
                confirmed_by: who.get(&(id_text.clone(), "confirm".to_string())).cloned(),
                created_by: who.get(&(id_text, "create".to_string())).cloned(),
                county_name: names.get(&r.county_code).cloned(),
                pairs: whole.then_some(pairs),
                total_score: whole.then_some(total_score),
                residencies: whole.then(|| stays.get(&r.id).copied().unwrap_or(0)),
                id: r.id,
                name: r.name,
                county_code: r.county_code,
                min_size: r.min_size,
                max_size: r.max_size,
                per_village: r.per_village,
                young_max_age: r.young_max_age,
                reference_date: r.reference_date,
                term_months: r.term_months,
                per_priority_point: r.per_priority_point,
                twinning_bonus: r.twinning_bonus,
                planned_at: r.planned_at,
                confirmed_at: r.confirmed_at,
                illustrative: r.illustrative,
                created_at: r.created_at,
            }
        })
        .collect())
}

/// The batches of the counties the caller sees, newest reference date first.
pub fn batches(conn: &mut DbConn, access: &Access) -> DbResult<Vec<Batch>> {
    let rows = batch_rows(conn, access, None)?;
    to_batches(conn, access, rows)
}

/// One batch; `None` when unknown or outside the caller's scope.
pub fn batch(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Batch>> {
    let rows = batch_rows(conn, access, Some(id))?;
    Ok(to_batches(conn, access, rows)?.into_iter().next())
}

/// A batch by id or exact name.
pub fn find_batch(conn: &mut DbConn, access: &Access, id_or_name: &str) -> DbResult<Option<Batch>> {
    let wanted = id_or_name.trim();
    let rows: Vec<BatchRow> = batch_rows(conn, access, None)?
        .into_iter()
        .filter(|b| b.name == wanted || wanted.parse::<i64>().is_ok_and(|id| id == b.id))
        .collect();
    // An exact name wins over an id that happens to look the same.
    let pick = rows
        .iter()
        .position(|b| b.name == wanted)
        .or((!rows.is_empty()).then_some(0));
    let rows = pick.map(|i| vec![rows[i].clone()]).unwrap_or_default();
    Ok(to_batches(conn, access, rows)?.into_iter().next())
}

/// The batch to show when none is named: the newest draft, else the newest batch.
pub fn default_batch(conn: &mut DbConn, access: &Access) -> DbResult<Option<Batch>> {
    let rows = batch_rows(conn, access, None)?;
    let pick = rows
        .iter()
        .position(BatchRow::is_draft)
        .or((!rows.is_empty()).then_some(0));
    let rows = pick.map(|i| vec![rows[i].clone()]).unwrap_or_default();
    Ok(to_batches(conn, access, rows)?.into_iter().next())
}

/// Creates a draft batch from its settings, checked as the record kind
/// [`Batches`](super::batch_kind::Batches) checks a form (needs [`Permission::Dispatch`] and a
/// scope covering the county; audited). Returns its id.
///
/// # Errors
/// [`WriteError::Invalid`](crate::kind::WriteError) with each problem's rule key
/// (`dispatch-size-range`, `dispatch-per-village`, `dispatch-young-max-age`, `dispatch-term`,
/// `dispatch-weights`, `dispatch-batch-county`, `key-taken-dispatch` for a name in use …).
pub fn create_batch(conn: &mut DbConn, access: &Access, input: &BatchInput) -> Result<i64, crate::kind::WriteError> {
    create_batch_as(conn, access, input, false)
}

/// [`create_batch`], marking the batch illustrative (the demo generator).
pub(crate) fn create_batch_as(
    conn: &mut DbConn,
    access: &Access,
    input: &BatchInput,
    illustrative: bool,
) -> Result<i64, crate::kind::WriteError> {
    let mut cx = crate::kind::Cx::new(conn, access, crate::clock::Clock::current());
    cx.illustrative = illustrative;
    let id = crate::kind::write::create::<super::batch_kind::Batches>(&mut cx, &input.raw())?;
    id.parse()
        .map_err(|_| crate::kind::WriteError::Db(crate::db::DbError::Task("a batch id is a number".into())))
}

/// Whether the caller may act on the batch `id` now: it is a draft they see, in a county their
/// scope covers, and they have [`Permission::Dispatch`] (pages ask before anything else).
///
/// # Errors
/// [`DispatchError::Forbidden`], [`DispatchError::NotFound`], [`DispatchError::Confirmed`].
pub fn may_act(conn: &mut DbConn, access: &Access, id: i64) -> Result<(), DispatchError> {
    require(access, Permission::Dispatch)?;
    draft_row(conn, access, id).map(|_| ())
}

/// A draft batch the caller may change: one they see ([`DispatchError::NotFound`] otherwise)
/// whose whole county their scope covers ([`DispatchError::Forbidden`] otherwise: a batch's
/// plan and residencies span the county, so acting on it from a town or a zone would write
/// across the scope).
fn draft_row(conn: &mut DbConn, access: &Access, id: i64) -> Result<BatchRow, DispatchError> {
    let row = batch_row(conn, access, id)?.ok_or(DispatchError::NotFound)?;
    if !access.covers_county(&row.county_code) {
        return Err(DispatchError::Forbidden);
    }
    if !row.is_draft() {
        return Err(DispatchError::Confirmed);
    }
    Ok(row)
}

/// Marks the stored plan out of date (after a change of settings or rules): the pairs stay, to
/// be shown as the last plan, until the batch is run again.
pub(crate) fn mark_outdated(conn: &mut DbConn, id: i64) -> DbResult<()> {
    diesel::update(dispatch_batches::table.find(id))
        .set((
            dispatch_batches::planned_at.eq(None::<chrono::NaiveDateTime>),
            dispatch_batches::plan_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pins and forbidden pairs

/// Whether a pair is pinned (must be in the plan) or forbidden (must not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Must be in the plan.
    Pin,
    /// Must not be in the plan.
    Forbid,
}

impl RuleKind {
    /// `pin` or `forbid`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Pin => "pin",
            RuleKind::Forbid => "forbid",
        }
    }

    /// Parses `pin` or `forbid`.
    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "pin" => Some(RuleKind::Pin),
            "forbid" => Some(RuleKind::Forbid),
            _ => None,
        }
    }
}

/// A pinned or forbidden pair of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BatchRule {
    /// The cadre's id.
    pub cadre_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The cadre's birth year.
    pub cadre_birth_year: i32,
    /// The cadre's source unit or town.
    pub cadre_source: Option<String>,
    /// The village (12 digits); `None` when it lies outside the caller's scope (the rule is
    /// shown for its cadre).
    pub village_code: Option<String>,
    /// Its name; `None` like the code.
    pub village_name: Option<String>,
    /// `pin` or `forbid`.
    pub kind: String,
    /// When set (UTC).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
    /// By whom.
    pub created_by: String,
}

/// The pins and forbidden pairs of a batch the caller sees (empty otherwise), by cadre name.
pub fn rules(conn: &mut DbConn, access: &Access, batch_id: i64) -> DbResult<Vec<BatchRule>> {
    let Some(b) = batch_row(conn, access, batch_id)? else {
        return Ok(Vec::new());
    };
    let whole = access.covers_county(&b.county_code);
    let rows: Vec<(i64, String, String, String, String, chrono::NaiveDateTime, String)> = batch_rules::table
        .inner_join(cadres::table)
        .filter(batch_rules::batch_id.eq(batch_id))
        .order((cadres::name.asc(), batch_rules::village_code.asc()))
        .select((
            batch_rules::cadre_id,
            cadres::name,
            cadres::division_code,
            batch_rules::village_code,
            batch_rules::kind,
            batch_rules::created_at,
            batch_rules::created_by,
        ))
        .load(conn)?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| whole || access.sees_code(&r.2) || access.sees_code(&r.3))
        .collect();
    let names = division_names(
        conn,
        rows.iter().filter(|r| access.sees_code(&r.3)).map(|r| r.3.clone()),
    )?;
    let tags = super::cadre_tags(conn, &rows.iter().map(|r| r.0).collect::<Vec<_>>())?;
    Ok(rows
        .into_iter()
        .map(
            |(cadre_id, cadre_name, _, village_code, kind, created_at, created_by)| BatchRule {
                cadre_birth_year: tags.get(&cadre_id).map_or(0, |t| t.birth_year),
                cadre_source: tags.get(&cadre_id).and_then(|t| t.source.clone()),
                cadre_id,
                cadre_name,
                village_name: names.get(&village_code).cloned(),
                village_code: access.sees_code(&village_code).then_some(village_code),
                kind,
                created_at,
                created_by,
            },
        )
        .collect())
}

/// The cadre's scope key when the cadre is on the county's roster and visible to the caller.
fn county_cadre(conn: &mut DbConn, access: &Access, county: &str, cadre_id: i64) -> Result<String, DispatchError> {
    let division: Option<String> = cadres::table
        .find(cadre_id)
        .filter(cadres::retired_on.is_null())
        .select(cadres::division_code)
        .first(conn)
        .optional()?;
    match division {
        Some(d) if super::in_county(&d, county) && access.sees_code(&d) => Ok(d),
        _ => Err(DispatchError::NotFound),
    }
}

/// Pins (`RuleKind::Pin`) or forbids a pair in a draft batch, replacing an earlier rule for the
/// same pair, and marks the stored plan out of date (run it again). Needs [`Permission::Dispatch`]; the
/// cadre must be on the county's roster and the village an active village of the county, both
/// visible; audited.
pub fn set_rule(
    conn: &mut DbConn,
    access: &Access,
    batch_id: i64,
    cadre_id: i64,
    village: &str,
    kind: RuleKind,
) -> Result<(), DispatchError> {
    require(access, Permission::Dispatch)?;
    crate::db::write_transaction(conn, |conn| {
        let b = draft_row(conn, access, batch_id)?;
        county_cadre(conn, access, &b.county_code, cadre_id)?;
        let village = visible_village(conn, access, village)?;
        if !super::in_county(&village, &b.county_code) {
            return Err(DispatchError::NotFound);
        }
        let before: Option<String> = batch_rules::table
            .find((batch_id, cadre_id, &village))
            .select(batch_rules::kind)
            .first(conn)
            .optional()?;
        diesel::delete(batch_rules::table.find((batch_id, cadre_id, &village))).execute(conn)?;
        diesel::insert_into(batch_rules::table)
            .values((
                batch_rules::batch_id.eq(batch_id),
                batch_rules::cadre_id.eq(cadre_id),
                batch_rules::village_code.eq(&village),
                batch_rules::kind.eq(kind.as_str()),
                batch_rules::created_at.eq(now()),
                batch_rules::created_by.eq(&access.username),
            ))
            .execute(conn)?;
        mark_outdated(conn, batch_id)?;
        let id_text = format!("{batch_id}:{cadre_id}:{village}");
        audit::record(
            conn,
            access,
            Change {
                action: if before.is_some() { "update" } else { "create" },
                entity: "batch_rule",
                entity_id: &id_text,
                before: before.map(|k| serde_json::json!({"kind": k})),
                after: Some(serde_json::json!({"kind": kind.as_str()})),
                scope: scope_prefix(&b.county_code),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// Removes the pin or forbidden mark of a pair in a draft batch (marking the stored plan out of
/// date). Needs [`Permission::Dispatch`]; audited. Returns false when the pair had
/// none.
pub fn remove_rule(
    conn: &mut DbConn,
    access: &Access,
    batch_id: i64,
    cadre_id: i64,
    village: &str,
) -> Result<bool, DispatchError> {
    require(access, Permission::Dispatch)?;
    crate::db::write_transaction(conn, |conn| {
        let b = draft_row(conn, access, batch_id)?;
        let village = ringline_core::division::DivisionCode::parse(village)
            .map(|c| c.as_str().to_string())
            .map_err(|e| DispatchError::invalid(e.key(), e.to_string()))?;
        let before: Option<String> = batch_rules::table
            .find((batch_id, cadre_id, &village))
            .select(batch_rules::kind)
            .first(conn)
            .optional()?;
        let Some(before) = before else {
            return Ok(false);
        };
        diesel::delete(batch_rules::table.find((batch_id, cadre_id, &village))).execute(conn)?;
        mark_outdated(conn, batch_id)?;
        let id_text = format!("{batch_id}:{cadre_id}:{village}");
        audit::record(
            conn,
            access,
            Change {
                action: "delete",
                entity: "batch_rule",
                entity_id: &id_text,
                before: Some(serde_json::json!({"kind": before})),
                scope: scope_prefix(&b.county_code),
                ..Default::default()
            },
        )?;
        Ok(true)
    })
}

// ---------------------------------------------------------------------------------------------
// Inputs and the plan

/// What the optimiser is given for a batch (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Eligible roster, by id.
    pub cadres: Vec<opt::Cadre>,
    /// Villages with needs, by code.
    pub villages: Vec<opt::VillageNeed>,
    /// Twinning pairs of the county.
    pub twinning: opt::Twinning,
    /// Hard rules with the pins and forbidden pairs.
    pub rules: opt::Rules,
    /// The stated score.
    pub weights: opt::Weights,
}

fn build_inputs(conn: &mut DbConn, b: &BatchRow) -> DbResult<Inputs> {
    let busy = residencies::table
        .filter(residencies::end_date.ge(b.reference_date))
        .select(residencies::cadre_id);
    let rows: Vec<(i64, NaiveDate, Option<i64>, Option<String>)> = cadres::table
        .filter(county_filter!(cadres::table, cadres::division_code, &b.county_code))
        .filter(cadres::retired_on.is_null())
        .filter(diesel::dsl::not(cadres::id.eq_any(busy)))
        .order(cadres::id.asc())
        .select((
            cadres::id,
            cadres::birth_date,
            cadres::source_unit_id,
            cadres::home_village,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let skills = skills_of(conn, &ids)?;
    let cadres = rows
        .into_iter()
        .map(|(id, birth, unit_id, home_village)| opt::Cadre {
            id,
            age: u32::try_from(age_on(birth, b.reference_date)).unwrap_or(0),
            skills: skills.get(&id).cloned().unwrap_or_default(),
            unit_id,
            home_village,
        })
        .collect();
    let active = divisions::table
        .filter(divisions::status.eq(crate::divisions::ACTIVE))
        .filter(divisions::level.eq("village"))
        .select(divisions::code);
    let needs: Vec<(String, String, i32)> = village_needs::table
        .filter(county_filter!(
            village_needs::table,
            village_needs::village_code,
            &b.county_code
        ))
        .filter(village_needs::village_code.eq_any(active))
        .order((
            village_needs::village_code.asc(),
            village_needs::priority.desc(),
            village_needs::skill.asc(),
        ))
        .select((
            village_needs::village_code,
            village_needs::skill,
            village_needs::priority,
        ))
        .load(conn)?;
    // Villages whose running residencies already take every place stay out of the batch.
    let hosting: Vec<(String, i64)> = residencies::table
        .filter(residencies::end_date.ge(b.reference_date))
        .filter(county_filter!(
            residencies::table,
            residencies::village_code,
            &b.county_code
        ))
        .group_by(residencies::village_code)
        .select((residencies::village_code, count_star()))
        .load(conn)?;
    let full: std::collections::HashSet<String> = hosting
        .into_iter()
        .filter(|(_, n)| *n >= i64::from(b.per_village))
        .map(|(v, _)| v)
        .collect();
    let mut grouped: BTreeMap<String, Vec<(String, u8)>> = BTreeMap::new();
    for (v, s, p) in needs.into_iter().filter(|n| !full.contains(&n.0)) {
        grouped.entry(v).or_default().push((s, u8::try_from(p).unwrap_or(0)));
    }
    let villages = grouped
        .into_iter()
        .map(|(code, skills)| opt::VillageNeed { code, skills })
        .collect();
    let twins: Vec<(i64, String)> = twinning::table
        .filter(county_filter!(twinning::table, twinning::village_code, &b.county_code))
        .select((twinning::unit_id, twinning::village_code))
        .load(conn)?;
    let marks: Vec<(i64, String, String)> = batch_rules::table
        .filter(batch_rules::batch_id.eq(b.id))
        .order((batch_rules::cadre_id.asc(), batch_rules::village_code.asc()))
        .select((batch_rules::cadre_id, batch_rules::village_code, batch_rules::kind))
        .load(conn)?;
    let mut rules = b.rules();
    for (c, v, k) in marks {
        match RuleKind::parse(&k) {
            Some(RuleKind::Pin) => rules.pinned.push((c, v)),
            Some(RuleKind::Forbid) => rules.forbidden.push((c, v)),
            None => {}
        }
    }
    Ok(Inputs {
        cadres,
        villages,
        twinning: twins.into_iter().collect(),
        rules,
        weights: b.weights(),
    })
}

/// The optimiser's inputs for a batch the caller sees (module docs); `None` when unknown or
/// outside the scope, and for a caller whose scope does not cover the whole county (the inputs
/// are the county's roster and villages). For pages that explain a plan or a refused pin.
pub fn inputs(conn: &mut DbConn, access: &Access, batch_id: i64) -> DbResult<Option<Inputs>> {
    match batch_row(conn, access, batch_id)? {
        Some(b) if access.covers_county(&b.county_code) => build_inputs(conn, &b).map(Some),
        _ => Ok(None),
    }
}

/// A matched need in a score breakdown, with the skill's labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SkillPoints {
    /// Skill key.
    pub skill: String,
    /// Chinese label.
    pub zh: String,
    /// English label.
    pub en: String,
    /// The need's priority (1–3).
    pub priority: u8,
    /// priority × points per priority point.
    pub points: i64,
}

/// Why a pair scores what it scores: the stated score, part by part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// The village's needs the cadre meets, most urgent first.
    pub skills: Vec<SkillPoints>,
    /// The twinning bonus when the cadre's unit is twinned with the village, else 0.
    pub twinning: i64,
    /// Sum of the parts.
    pub total: i64,
}

impl Breakdown {
    /// From the optimiser's breakdown, with labels from the skill list.
    pub fn from_core(b: &opt::ScoreBreakdown, skills: &[Skill]) -> Breakdown {
        let label = |key: &str| {
            skills
                .iter()
                .find(|s| s.key == key)
                .map_or_else(|| (key.to_string(), key.to_string()), |s| (s.zh.clone(), s.en.clone()))
        };
        Breakdown {
            skills: b
                .skills
                .iter()
                .map(|(skill, priority, points)| {
                    let (zh, en) = label(skill);
                    SkillPoints {
                        skill: skill.clone(),
                        zh,
                        en,
                        priority: *priority,
                        points: *points,
                    }
                })
                .collect(),
            twinning: b.twinning,
            total: b.total,
        }
    }

    /// The breakdown in words, e.g. `agriculture (priority 3) 30 + twinned unit 5 = 35`, or in
    /// Chinese `农业种植(优先级3) 30 + 结对帮扶单位 5 = 35` (`lang` starting with `zh`).
    pub fn words(&self, lang: &str) -> String {
        let zh = lang.starts_with("zh");
        let mut parts: Vec<String> = self
            .skills
            .iter()
            .map(|s| {
                if zh {
                    format!("{}(优先级{}) {}", s.zh, s.priority, s.points)
                } else {
                    format!("{} (priority {}) {}", s.en, s.priority, s.points)
                }
            })
            .collect();
        if self.twinning != 0 {
            parts.push(if zh {
                format!("结对帮扶单位 {}", self.twinning)
            } else {
                format!("twinned unit {}", self.twinning)
            });
        }
        if parts.is_empty() {
            parts.push(if zh { "无匹配需求 0" } else { "no need matched 0" }.to_string());
        }
        format!("{} = {}", parts.join(" + "), self.total)
    }
}

/// One pair of a plan, with everything a page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlannedPair {
    /// The cadre's id.
    pub cadre_id: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// Age on the batch's reference date.
    pub cadre_age: i32,
    /// The cadre's birth year (with the source, tells two cadres of one name apart).
    pub cadre_birth_year: i32,
    /// The cadre's source unit or town.
    pub cadre_source: Option<String>,
    /// The cadre's skills (keys).
    pub cadre_skills: Vec<String>,
    /// The village (12 digits); `None` when it lies outside the caller's scope (the pair is
    /// shown for its cadre, who is inside).
    pub village_code: Option<String>,
    /// Its name; `None` like the code.
    pub village_name: Option<String>,
    /// Its town (12 digits); `None` like the code.
    pub town_code: Option<String>,
    /// The town's name; `None` like the code.
    pub town_name: Option<String>,
    /// The pair's score.
    pub score: i64,
    /// How the score is made up.
    pub breakdown: Breakdown,
    /// Pinned by a user rather than chosen by the optimiser.
    pub pinned: bool,
}

/// A batch with its stored plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Plan {
    /// The batch (its `plan_error` tells why there is no plan after a failed run).
    pub batch: Batch,
    /// The pairs the caller sees (module docs), by village code.
    pub pairs: Vec<PlannedPair>,
    /// Total score of the whole plan; `None` (withheld) for a caller whose scope does not cover
    /// the whole county, as it includes pairs outside the scope.
    pub total_score: Option<i64>,
}

/// A planned cadre: name, birth date, source unit, source town, scope key.
type PairPerson = (String, NaiveDate, Option<i64>, Option<String>, String);

/// The stored plan of a batch the caller sees; `None` when unknown or outside the scope. Its
/// pairs are empty when the batch was never run or the last run was infeasible
/// ([`Batch::plan_error`]); after a change of the settings or rules they are the last plan,
/// out of date ([`Batch::plan_outdated`]).
pub fn stored_plan(conn: &mut DbConn, access: &Access, batch_id: i64) -> DbResult<Option<Plan>> {
    let Some(b) = batch(conn, access, batch_id)? else {
        return Ok(None);
    };
    let rows: Vec<(i64, String, i64, String, bool)> = batch_pairs::table
        .filter(batch_pairs::batch_id.eq(batch_id))
        .order((batch_pairs::village_code.asc(), batch_pairs::cadre_id.asc()))
        .select((
            batch_pairs::cadre_id,
            batch_pairs::village_code,
            batch_pairs::score,
            batch_pairs::breakdown_json,
            batch_pairs::pinned,
        ))
        .load(conn)?;
    let whole = access.covers_county(&b.county_code);
    let total_score = whole.then(|| rows.iter().map(|r| r.2).sum());
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let people: HashMap<i64, PairPerson> = cadres::table
        .filter(cadres::id.eq_any(&ids))
        .select((
            cadres::id,
            (
                cadres::name,
                cadres::birth_date,
                cadres::source_unit_id,
                cadres::source_town,
                cadres::division_code,
            ),
        ))
        .load::<(i64, PairPerson)>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| whole || access.sees_code(&r.1) || people.get(&r.0).is_some_and(|p| access.sees_code(&p.4)))
        .collect();
    let skill_list = skills(conn)?;
    let cadre_skills = skills_of(conn, &ids)?;
    let units = super::unit_names(conn, people.values().filter_map(|p| p.2))?;
    // A village outside the scope is neither coded nor named, nor is its town.
    let names = division_names(
        conn,
        rows.iter()
            .filter(|r| access.sees_code(&r.1))
            .flat_map(|r| [Some(r.1.clone()), town_code_of(&r.1)])
            .flatten()
            .chain(people.values().filter_map(|p| p.3.clone())),
    )?;
    let pairs = rows
        .into_iter()
        .map(|(cadre_id, village_code, score, json, pinned)| {
            let core: opt::ScoreBreakdown = serde_json::from_str(&json).unwrap_or(opt::ScoreBreakdown {
                skills: Vec::new(),
                twinning: 0,
                total: score,
            });
            let person = people.get(&cadre_id);
            let village_code = access.sees_code(&village_code).then_some(village_code);
            let town_code = village_code.as_deref().and_then(town_code_of);
            PlannedPair {
                cadre_id,
                cadre_name: person.map(|p| p.0.clone()).unwrap_or_default(),
                cadre_age: person.map_or(0, |p| age_on(p.1, b.reference_date)),
                cadre_birth_year: person.map_or(0, |p| p.1.year()),
                cadre_source: person.and_then(|p| match (p.2, &p.3) {
                    (Some(u), _) => units.get(&u).cloned(),
                    (None, Some(t)) => names.get(t).cloned(),
                    _ => None,
                }),
                cadre_skills: cadre_skills.get(&cadre_id).cloned().unwrap_or_default(),
                village_name: village_code.as_ref().and_then(|v| names.get(v).cloned()),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                village_code,
                score,
                breakdown: Breakdown::from_core(&core, &skill_list),
                pinned,
            }
        })
        .collect();
    Ok(Some(Plan {
        batch: b,
        pairs,
        total_score,
    }))
}

/// Runs the optimiser on a draft batch and stores the plan (replacing the last one), or, when
/// no plan keeps the hard rules, stores and returns the reason. Needs [`Permission::Dispatch`];
/// audited (action `plan`).
///
/// # Errors
/// [`DispatchError::Infeasible`] with the optimiser's reason naming the rule (its key is
/// [`DispatchError::code`]); [`DispatchError::NotFound`]; [`DispatchError::Confirmed`].
pub fn run(conn: &mut DbConn, access: &Access, batch_id: i64) -> Result<Plan, DispatchError> {
    require(access, Permission::Dispatch)?;
    let outcome = crate::db::write_transaction(conn, |conn| -> Result<Result<(), opt::Infeasible>, DispatchError> {
        let b = draft_row(conn, access, batch_id)?;
        let i = build_inputs(conn, &b)?;
        let result = opt::plan(&i.cadres, &i.villages, &i.twinning, &i.rules, &i.weights);
        diesel::delete(batch_pairs::table.filter(batch_pairs::batch_id.eq(batch_id))).execute(conn)?;
        let at = now();
        let (detail, outcome) = match result {
            Ok(plan) => {
                let rows: Vec<_> = plan
                    .pairs
                    .iter()
                    .map(|p| {
                        (
                            batch_pairs::batch_id.eq(batch_id),
                            batch_pairs::cadre_id.eq(p.cadre),
                            batch_pairs::village_code.eq(p.village.clone()),
                            batch_pairs::score.eq(p.score.total),
                            batch_pairs::breakdown_json.eq(serde_json::to_string(&p.score).unwrap_or_default()),
                            batch_pairs::pinned.eq(p.pinned),
                        )
                    })
                    .collect();
                crate::insert_rows!(&mut *conn, batch_pairs::table, &rows, 1_000);
                diesel::update(dispatch_batches::table.find(batch_id))
                    .set((
                        dispatch_batches::planned_at.eq(Some(at)),
                        dispatch_batches::plan_error.eq(None::<String>),
                    ))
                    .execute(conn)?;
                (
                    format!(
                        "{} pairs, total score {} ({} eligible cadres, {} villages with needs)",
                        plan.pairs.len(),
                        plan.total_score,
                        i.cadres.len(),
                        i.villages.len()
                    ),
                    Ok(()),
                )
            }
            Err(e) => {
                diesel::update(dispatch_batches::table.find(batch_id))
                    .set((
                        dispatch_batches::planned_at.eq(Some(at)),
                        dispatch_batches::plan_error.eq(Some(format!("{}: {e}", e.key()))),
                    ))
                    .execute(conn)?;
                (format!("infeasible: {}", e.key()), Err(e))
            }
        };
        let id_text = batch_id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "plan",
                entity: "dispatch_batch",
                entity_id: &id_text,
                detail,
                scope: scope_prefix(&b.county_code),
                ..Default::default()
            },
        )?;
        Ok(outcome)
    })?;
    match outcome {
        Ok(()) => stored_plan(conn, access, batch_id)?.ok_or(DispatchError::NotFound),
        Err(e) => Err(DispatchError::Infeasible(e)),
    }
}

/// Confirms a draft batch's stored plan: re-plans inside the transaction and refuses when the
/// result differs ([`DispatchError::PlanOutdated`]), creates one residency per pair (start = the
/// reference date, end = [`term_end`] after the term) and marks the batch confirmed. Needs
/// [`Permission::Dispatch`]; audited. Returns the new residencies' ids.
///
/// # Errors
/// [`DispatchError::NoPlan`] without a stored plan; [`DispatchError::PlanOutdated`];
/// [`DispatchError::Confirmed`]; [`DispatchError::NotFound`].
pub fn confirm(conn: &mut DbConn, access: &Access, batch_id: i64) -> Result<Vec<i64>, DispatchError> {
    require(access, Permission::Dispatch)?;
    crate::db::write_transaction(conn, |conn| {
        let b = draft_row(conn, access, batch_id)?;
        let mut stored: Vec<(i64, String, i64)> = batch_pairs::table
            .filter(batch_pairs::batch_id.eq(batch_id))
            .select((batch_pairs::cadre_id, batch_pairs::village_code, batch_pairs::score))
            .load(conn)?;
        if b.plan_error.is_some() || stored.is_empty() {
            return Err(DispatchError::NoPlan);
        }
        if b.planned_at.is_none() {
            // The last plan predates a change of the settings or rules.
            return Err(DispatchError::PlanOutdated);
        }
        let i = build_inputs(conn, &b)?;
        let fresh = opt::plan(&i.cadres, &i.villages, &i.twinning, &i.rules, &i.weights)
            .map_err(|_| DispatchError::PlanOutdated)?;
        let mut now_pairs: Vec<(i64, String, i64)> = fresh
            .pairs
            .iter()
            .map(|p| (p.cadre, p.village.clone(), p.score.total))
            .collect();
        stored.sort();
        now_pairs.sort();
        if stored != now_pairs {
            return Err(DispatchError::PlanOutdated);
        }
        let start = b.reference_date;
        let end = term_end(start, u32::try_from(b.term_months).unwrap_or(24));
        let at = now();
        let mut ids = Vec::with_capacity(stored.len());
        for (cadre, village, _) in &stored {
            let id: i64 = diesel::insert_into(residencies::table)
                .values((
                    residencies::batch_id.eq(batch_id),
                    residencies::cadre_id.eq(cadre),
                    residencies::village_code.eq(village),
                    residencies::start_date.eq(start),
                    residencies::end_date.eq(end),
                    residencies::illustrative.eq(b.illustrative),
                    residencies::created_at.eq(at),
                ))
                .returning(residencies::id)
                .get_result(conn)?;
            ids.push(id);
        }
        diesel::update(dispatch_batches::table.find(batch_id))
            .set((dispatch_batches::confirmed_at.eq(Some(at)),))
            .execute(conn)?;
        let id_text = batch_id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "confirm",
                entity: "dispatch_batch",
                entity_id: &id_text,
                detail: format!(
                    "{} residencies from {start} to {end}, total score {}",
                    ids.len(),
                    fresh.total_score
                ),
                scope: scope_prefix(&b.county_code),
                ..Default::default()
            },
        )?;
        Ok(ids)
    })
}

/// Why a cadre may or may not go to a village in a batch, and what the pair would score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PairCheck {
    /// The cadre's id.
    pub cadre_id: i64,
    /// The village (12 digits).
    pub village_code: String,
    /// Whether the cadre is eligible at all (on the county's roster, no residency running on
    /// the reference date).
    pub eligible: bool,
    /// Whether the village has needs (is among the optimiser's villages).
    pub has_needs: bool,
    /// The rule that excludes the pair: `age`, `home_village` or `forbidden`
    /// ([`opt::Rule::as_str`]); `None` when allowed.
    pub rule: Option<String>,
    /// That rule in words (English).
    pub rule_text: Option<String>,
    /// The pair's score, when the cadre is eligible and the village has needs.
    pub breakdown: Option<Breakdown>,
}

/// Explains one pair of a batch the caller sees (for a pin dialog or a "why not" link).
///
/// # Errors
/// [`DispatchError::NotFound`] for an unknown or invisible batch;
/// [`DispatchError::Forbidden`] when the caller's scope does not cover the batch's county (the
/// explanation draws on the county's whole roster and villages).
pub fn explain_pair(
    conn: &mut DbConn,
    access: &Access,
    batch_id: i64,
    cadre_id: i64,
    village: &str,
) -> Result<PairCheck, DispatchError> {
    let b = batch_row(conn, access, batch_id)?.ok_or(DispatchError::NotFound)?;
    if !access.covers_county(&b.county_code) {
        return Err(DispatchError::Forbidden);
    }
    let village = ringline_core::division::DivisionCode::parse(village)
        .map(|c| c.as_str().to_string())
        .map_err(|e| DispatchError::invalid(e.key(), e.to_string()))?;
    let i = build_inputs(conn, &b)?;
    let cadre = i.cadres.iter().find(|c| c.id == cadre_id);
    let need = i.villages.iter().find(|v| v.code == village);
    let verdict = cadre.map(|c| opt::check_pair(c, &village, &i.rules));
    let skill_list = skills(conn)?;
    let breakdown = match (cadre, need) {
        (Some(c), Some(v)) => opt::score(c, v, &i.twinning, &i.weights).map(|s| Breakdown::from_core(&s, &skill_list)),
        _ => None,
    };
    let rule = verdict.and_then(Result::err);
    Ok(PairCheck {
        cadre_id,
        eligible: cadre.is_some(),
        has_needs: need.is_some(),
        rule: rule.map(|r| r.as_str().to_string()),
        rule_text: rule.map(|r| r.to_string()),
        breakdown,
        village_code: village,
    })
}

/// One pair of a plan as JSON (the API's plan and `dispatch plan --format json`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PairJson {
    /// The cadre's id.
    pub cadre: i64,
    /// The cadre's name.
    pub cadre_name: String,
    /// The village's 12-digit code; empty when the village lies outside the reader's scope
    /// (the API's scoped plan, where the pair is shown for its cadre).
    pub village: String,
    /// The village's name; `null` when it lies outside the reader's scope.
    pub village_name: Option<String>,
    /// The town's name; `null` like the village's.
    pub town_name: Option<String>,
    /// The pair's score.
    pub score: i64,
    /// How the score is made up.
    pub breakdown: Breakdown,
    /// The breakdown in words (English).
    pub explanation: String,
    /// Pinned by a user.
    pub pinned: bool,
}

/// A plan as JSON (the API's plan and `dispatch plan --format json`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PlanJson {
    /// The batch's id.
    pub batch_id: i64,
    /// The batch's name.
    pub batch: String,
    /// `draft` or `confirmed`.
    pub status: String,
    /// Smallest batch.
    pub min_size: i32,
    /// Largest batch.
    pub max_size: i32,
    /// Ages are computed on this date.
    pub reference_date: chrono::NaiveDate,
    /// The stored plan predates a change of the batch's settings, pins or forbidden pairs: the
    /// last plan, to be run again before it can be confirmed.
    pub outdated: bool,
    /// The pairs, by village code.
    pub pairs: Vec<PairJson>,
    /// Sum of the pairs' scores of the whole plan; `null` when the reader's scope does not
    /// cover the batch's county (the API's scoped plan), as the sum includes pairs outside it.
    pub total_score: Option<i64>,
}

/// A plan as the JSON document the API answers and `dispatch plan --format json` prints.
pub fn plan_json(plan: &Plan) -> PlanJson {
    PlanJson {
        batch_id: plan.batch.id,
        batch: plan.batch.name.clone(),
        status: plan.batch.status.clone(),
        min_size: plan.batch.min_size,
        max_size: plan.batch.max_size,
        reference_date: plan.batch.reference_date,
        outdated: plan.batch.plan_outdated,
        pairs: plan
            .pairs
            .iter()
            .map(|p| PairJson {
                cadre: p.cadre_id,
                cadre_name: p.cadre_name.clone(),
                village: p.village_code.clone().unwrap_or_default(),
                village_name: p.village_name.clone(),
                town_name: p.town_name.clone(),
                score: p.score,
                explanation: p.breakdown.words("en"),
                breakdown: p.breakdown.clone(),
                pinned: p.pinned,
            })
            .collect(),
        total_score: plan.total_score,
    }
}
