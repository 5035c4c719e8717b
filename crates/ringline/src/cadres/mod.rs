//! Dispatched cadres (SPEC C7, 选派干部): the roster, the skill list, twinning, village needs
//! ([this module](self)), dispatch batches and the optimal plan ([`batch`]), and residencies with
//! work logs, attendance, leave and evaluation ([`residency`]).
//!
//! The module is named `cadres` (not `dispatch`) so it does not read like
//! [`ringline_core::dispatch`], the exact optimiser it feeds; that module is imported here as
//! `opt`.
//!
//! # Scope keys
//!
//! Every read takes the caller's [`Access`] and filters in SQL, a record outside the scope
//! answering like a missing one; every write checks a [`Permission`] and the scope, and is
//! audited in its own transaction.
//!
//! | record | scope key |
//! |---|---|
//! | cadre | `cadres.division_code`: the source town, or the source unit's division |
//! | twinning pair, village need | the village (`village_code`) |
//! | batch | its county (`dispatch_batches.county_code`): read with [`Access::sees_county`], acted on only with [`Access::covers_county`] |
//! | planned pair | visible with its batch to callers who cover the whole county; others see the pairs whose village or cadre is in their scope, a village outside it neither coded nor named, and no whole-batch totals |
//! | residency, its work logs, attendance and leave | the village (`residencies.village_code`) |
//!
//! Personal data (ID numbers, phones) leaves this module masked; [`cadre_unmasked`] is the
//! audited exception.
//!
//! # Who may write
//!
//! - [`Permission::Dispatch`] (county administrators): batches, pins and forbidden pairs, runs,
//!   confirmation (these with a scope covering the batch's county), the skill list, evaluations.
//! - [`Permission::Import`] (county and town administrators): the roster, twinning and village
//!   needs within their scope — the record kinds of [`kinds`], written through forms, the API,
//!   the command line and imports with one check each.
//! - [`Permission::RecordResidency`] (county and town administrators, village reporters,
//!   dispatched cadres): work logs ([`work_log`]), attendance, leave requests, for residencies in
//!   their scope.
//! - [`Permission::DecideLeave`] (county and town administrators): leave decisions (a town
//!   administrator decides only town-level requests, up to 3 days, a county administrator any)
//!   and the confirmation of the attendance days a cadre reports.
//!
//! The record kinds ([`crate::kind`]): [`kinds::Cadres`], [`kinds::Twinning`], [`kinds::Needs`],
//! [`work_log::WorkLogs`] and [`batch_kind::Batches`]; the demo generator writes in bulk through
//! [`insert_cadres`], [`insert_twinning`] and [`upsert_needs`].

/// The `WHERE` clause restricting `$col` (a division code column of `$table`) to the caller's
/// scope and, when given, to the subtree `$under` (an `Option<&str>`).
macro_rules! code_scope {
    ($table:ty, $col:expr, $access:expr, $under:expr) => {{
        let mut p: Vec<$crate::registry::query::Pred<$table>> = Vec::new();
        $crate::registry::query::restrict_codes!(p, $col, $access.code_filter());
        if let Some(under) = $under.map(str::trim).filter(|u: &&str| !u.is_empty()) {
            $crate::registry::query::restrict_codes!(p, $col, $crate::registry::query::subtree(under));
        }
        $crate::registry::query::all(p)
    }};
}

pub mod batch;
pub mod batch_kind;
pub mod kinds;
pub mod residency;
pub mod work_log;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use ringline_core::division::DivisionCode;
use ringline_core::mask::{mask_id_number, mask_phone};
use serde::{Deserialize, Serialize};

use crate::access::{Access, CodeFilter, Permission};
use crate::audit::{self, Change};
use crate::db::schema::{
    cadre_skills, cadres, dispatch_batches, divisions, residencies, skill_aliases, skills, twinning, units,
    village_needs,
};
use crate::db::{DbConn, DbError, DbResult, now};
use crate::registry::query::{
    IN_CHUNK, Pred, age_on, all, contains_pattern, division_names, given, restrict_codes, subtree, town_code_of,
};

diesel::define_sql_function! {
    /// Lower case (ASCII on SQLite, all letters on PostgreSQL).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The optimiser's default "young" age limit (SPEC C7: ≤ 40), re-exported for callers.
pub use ringline_core::dispatch::DEFAULT_YOUNG_MAX_AGE;

/// The configured "young" age limit (`young_max_age` in the configuration), set once at start.
static YOUNG_MAX_AGE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(DEFAULT_YOUNG_MAX_AGE);

/// Sets the configured "young" age limit (the web server and the command line, from
/// [`crate::config::Config::young_max_age`]): the roster's "young" column and filter, and a new
/// batch's default limit, judge by it.
pub fn set_young_max_age(years: u32) {
    YOUNG_MAX_AGE.store(years, std::sync::atomic::Ordering::Relaxed);
}

/// The configured "young" age limit (default [`DEFAULT_YOUNG_MAX_AGE`]).
pub fn young_max_age() -> u32 {
    YOUNG_MAX_AGE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Why a dispatch call was refused. [`DispatchError::code`] gives a stable kebab-case code for
/// the API and translations.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The caller's role lacks the permission (or, for leave, the level).
    #[error("your role may not do this")]
    Forbidden,
    /// Unknown record, or one outside the caller's scope (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// Bad input: `code` names the rule, `message` says what to fix (English).
    #[error("{message}")]
    Invalid {
        /// Stable code, e.g. `dispatch-size-range`.
        code: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// No plan keeps every hard rule: the optimiser's reason, naming the rule.
    #[error("{0}")]
    Infeasible(ringline_core::dispatch::Infeasible),
    /// The batch is confirmed: its plan and rules no longer change.
    #[error("the batch is confirmed; its plan and rules can no longer change")]
    Confirmed,
    /// Confirm without a plan.
    #[error("the batch has no plan yet; run the optimiser first")]
    NoPlan,
    /// Confirm after the inputs changed.
    #[error(
        "the roster, village needs, twinning or rules changed since the plan was computed; run the plan again and review it before confirming"
    )]
    PlanOutdated,
    /// A record kind's check refused the input: every problem by field (a work log entered on
    /// the residency page).
    #[error("{}", .0.iter().map(|i| i.message.as_str()).collect::<Vec<_>>().join("; "))]
    Issues(Vec<crate::import::Issue>),
}

impl DispatchError {
    /// Stable code: `internal`, `forbidden`, `not-found`, the code of [`DispatchError::Invalid`],
    /// the optimiser's [`Infeasible::key`](ringline_core::dispatch::Infeasible::key),
    /// `dispatch-batch-confirmed`, `dispatch-no-plan`, `dispatch-plan-outdated` or
    /// `invalid-input` (a kind's check: [`DispatchError::Issues`]).
    pub fn code(&self) -> &'static str {
        match self {
            DispatchError::Db(_) => "internal",
            DispatchError::Forbidden => "forbidden",
            DispatchError::NotFound => "not-found",
            DispatchError::Invalid { code, .. } => code,
            DispatchError::Infeasible(e) => e.key(),
            DispatchError::Confirmed => "dispatch-batch-confirmed",
            DispatchError::NoPlan => "dispatch-no-plan",
            DispatchError::PlanOutdated => "dispatch-plan-outdated",
            DispatchError::Issues(_) => "invalid-input",
        }
    }

    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        DispatchError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A problem with one field, translated by its key (`issue-<key>` with `args`).
    pub(crate) fn issue(
        field: &str,
        value: &str,
        key: &str,
        message: impl Into<String>,
        args: Vec<(&'static str, String)>,
    ) -> Self {
        DispatchError::Issues(vec![crate::import::Issue {
            field: field.to_string(),
            column: field.to_string(),
            value: value.to_string(),
            key: key.to_string(),
            message: message.into(),
            args,
            ..crate::import::Issue::default()
        }])
    }
}

impl From<crate::kind::WriteError> for DispatchError {
    fn from(e: crate::kind::WriteError) -> Self {
        use crate::kind::WriteError as W;
        match e {
            W::Invalid(issues) => DispatchError::Issues(issues),
            W::NotFound => DispatchError::NotFound,
            W::Forbidden => DispatchError::Forbidden,
            W::Conflict("dispatch-batch-confirmed", _) => DispatchError::Confirmed,
            W::Conflict(code, message) => DispatchError::Invalid { code, message },
            W::Db(d) => DispatchError::Db(d),
        }
    }
}

impl From<diesel::result::Error> for DispatchError {
    fn from(e: diesel::result::Error) -> Self {
        DispatchError::Db(DbError::from(e))
    }
}

/// Refuses a caller without `p`.
pub(crate) fn require(access: &Access, p: Permission) -> Result<(), DispatchError> {
    if access.can(p) {
        Ok(())
    } else {
        Err(DispatchError::Forbidden)
    }
}

/// The significant code prefix of a division code (the audit scope of a change there).
pub(crate) fn scope_prefix(code: &str) -> String {
    DivisionCode::parse(code).map_or_else(|_| code.to_string(), |c| c.prefix().to_string())
}

/// The last day `months` months after `start` began: a term starting 2026-11-01 of 24 months
/// ends 2028-10-31.
pub fn term_end(start: NaiveDate, months: u32) -> NaiveDate {
    start
        .checked_add_months(chrono::Months::new(months))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start)
}

/// Born after this date ⇔ at most `max_age` years old on `on` (see [`age_on`]).
pub fn young_cutoff(on: NaiveDate, max_age: u32) -> NaiveDate {
    on.checked_sub_months(chrono::Months::new(12 * (max_age + 1)))
        .unwrap_or(NaiveDate::MIN)
}

// ---------------------------------------------------------------------------------------------
// Skills

/// A skill of the configurable list (`skills` table): what cadres have and villages need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = skills)]
pub struct Skill {
    /// Stable key (`agriculture`, `animal_husbandry`, `e_commerce` …), what the optimiser
    /// compares.
    pub key: String,
    /// Chinese label (农业种植 …).
    pub zh: String,
    /// English label.
    pub en: String,
    /// Display order.
    pub sort_order: i32,
}

impl Skill {
    /// The label in a language (`zh…` Chinese, else English).
    pub fn label(&self, lang: &str) -> &str {
        if lang.starts_with("zh") { &self.zh } else { &self.en }
    }
}

/// The skill list, in display order (public reference data, not scoped).
pub fn skills(conn: &mut DbConn) -> DbResult<Vec<Skill>> {
    Ok(skills::table
        .order((skills::sort_order.asc(), skills::key.asc()))
        .select(Skill::as_select())
        .load(conn)?)
}

/// A skill label people type, a label in both languages (pages show the reader's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Label {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// The skill list with the old labels of renamed skills: what a file, form or API body may
/// name a skill by.
#[derive(Debug, Clone, Default)]
pub struct SkillList {
    /// The skills, in display order.
    pub skills: Vec<Skill>,
    /// Old labels still accepted: `(alias, skill key)`.
    pub aliases: Vec<(String, String)>,
}

impl SkillList {
    /// Loads the list and the aliases.
    pub fn load(conn: &mut DbConn) -> DbResult<SkillList> {
        let aliases = skill_aliases::table
            .order(skill_aliases::alias.asc())
            .select((skill_aliases::alias, skill_aliases::skill))
            .load(conn)?;
        Ok(SkillList {
            skills: skills(conn)?,
            aliases,
        })
    }

    /// The key of the skill `typed` names: its key, a current label in either language, or an
    /// old label of a renamed skill (case, spaces and full-width forms ignored).
    ///
    /// # Errors
    /// The current Chinese labels joined with `、`, for the message naming what is allowed.
    pub fn resolve(&self, typed: &str) -> Result<String, String> {
        let view: Vec<(&str, &str, &str)> = self
            .skills
            .iter()
            .map(|s| (s.key.as_str(), s.zh.as_str(), s.en.as_str()))
            .chain(self.aliases.iter().map(|(a, k)| (k.as_str(), a.as_str(), a.as_str())))
            .collect();
        match ringline_core::cell::choice(typed, &view) {
            Ok(k) => Ok(k.to_string()),
            Err(_) => Err(self.skills.iter().map(|s| s.zh.as_str()).collect::<Vec<_>>().join("、")),
        }
    }

    /// The labels of a skill key (the key itself in both when it is not on the list).
    pub fn label(&self, key: &str) -> Label {
        match self.skills.iter().find(|s| s.key == key) {
            Some(s) => Label {
                zh: s.zh.clone(),
                en: s.en.clone(),
            },
            None => Label {
                zh: key.to_string(),
                en: key.to_string(),
            },
        }
    }
}

/// Adds a skill or renames an existing one (by key); a renamed skill keeps its old labels as
/// aliases, so files and forms written with them still name it. Needs [`Permission::Dispatch`];
/// audited.
///
/// # Errors
/// [`DispatchError::Invalid`] (`dispatch-skill-key`, `dispatch-skill-label`) for a key that is
/// not 1–32 lower-case letters, digits or `_`, or an empty or invisible-character label;
/// `dispatch-skill-label-taken` for a label another skill has (or had).
pub fn set_skill(conn: &mut DbConn, access: &Access, skill: &Skill) -> Result<(), DispatchError> {
    require(access, Permission::Dispatch)?;
    let key = skill.key.trim();
    if key.is_empty()
        || key.len() > 32
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(DispatchError::invalid(
            "dispatch-skill-key",
            "a skill key has 1–32 lower-case letters, digits or '_', e.g. e_commerce",
        ));
    }
    let zh = ringline_core::text::check_name(&skill.zh, 40)
        .map_err(|e| DispatchError::invalid("dispatch-skill-label", format!("Chinese label: {e}")))?;
    let en = ringline_core::text::check_name(&skill.en, 60)
        .map_err(|e| DispatchError::invalid("dispatch-skill-label", format!("English label: {e}")))?;
    crate::db::write_transaction(conn, |conn| {
        let list = SkillList::load(conn)?;
        // A label names one skill: another skill's label or old label is refused.
        for label in [&zh, &en] {
            if let Ok(other) = list.resolve(label)
                && other != key
            {
                return Err(DispatchError::invalid(
                    "dispatch-skill-label-taken",
                    format!("the label {label:?} names the skill {other:?}; choose another label"),
                ));
            }
        }
        let before: Option<Skill> = list.skills.iter().find(|s| s.key == key).cloned();
        let after = Skill {
            key: key.to_string(),
            zh: zh.clone(),
            en: en.clone(),
            sort_order: skill.sort_order,
        };
        if let Some(b) = &before {
            diesel::update(skills::table.find(key))
                .set((
                    skills::zh.eq(&after.zh),
                    skills::en.eq(&after.en),
                    skills::sort_order.eq(after.sort_order),
                ))
                .execute(conn)?;
            // The old labels stay accepted; a label in use again is no longer an alias.
            for old in [&b.zh, &b.en] {
                let fold = |s: &str| s.trim().to_lowercase();
                if fold(old) != fold(&after.zh) && fold(old) != fold(&after.en) {
                    diesel::delete(skill_aliases::table.find(old)).execute(conn)?;
                    diesel::insert_into(skill_aliases::table)
                        .values((skill_aliases::alias.eq(old), skill_aliases::skill.eq(key)))
                        .execute(conn)?;
                }
            }
            diesel::delete(skill_aliases::table.filter(skill_aliases::alias.eq_any([&after.zh, &after.en])))
                .execute(conn)?;
        } else {
            diesel::insert_into(skills::table)
                .values((
                    skills::key.eq(&after.key),
                    skills::zh.eq(&after.zh),
                    skills::en.eq(&after.en),
                    skills::sort_order.eq(after.sort_order),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            access,
            Change {
                action: if before.is_some() { "update" } else { "create" },
                entity: "skill",
                entity_id: key,
                before: before.map(|b| serde_json::json!(b)),
                after: Some(serde_json::json!(after)),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The roster

/// A cadre to insert (import framework, demo generator; a held import row keeps it as JSON).
#[derive(Debug, Clone, PartialEq, Insertable, Serialize, Deserialize)]
#[diesel(table_name = cadres, treat_none_as_default_value = false)]
pub struct NewCadre {
    /// Name.
    pub name: String,
    /// Citizen ID number, 18 characters (GB 11643-1999). Personal data: never log.
    pub id_number: String,
    /// `male` or `female`, from the ID number.
    pub sex: String,
    /// From the ID number.
    pub birth_date: NaiveDate,
    /// Phone (digits). Personal data: never log.
    pub phone: Option<String>,
    /// Source unit (exactly one of `source_unit_id`, `source_town`).
    pub source_unit_id: Option<i64>,
    /// Source town (12-digit code).
    pub source_town: Option<String>,
    /// Home village (12-digit code).
    pub home_village: Option<String>,
    /// Scope key: the source town, or the source unit's division.
    pub division_code: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// Inserts cadres and their skills (`skills[i]` belongs to `rows[i]`, keys of the skill list);
/// no audit (callers record one entry per import or generation). Returns the new ids in the
/// order of `rows`.
pub fn insert_cadres(conn: &mut DbConn, rows: &[NewCadre], skills: &[Vec<String>]) -> DbResult<Vec<i64>> {
    crate::insert_rows!(&mut *conn, cadres::table, rows, 1_000);
    let mut ids = HashMap::new();
    let numbers: Vec<&str> = rows.iter().map(|r| r.id_number.as_str()).collect();
    for part in numbers.chunks(IN_CHUNK) {
        let found: Vec<(String, i64)> = cadres::table
            .filter(cadres::id_number.eq_any(part))
            .select((cadres::id_number, cadres::id))
            .load(conn)?;
        ids.extend(found);
    }
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| {
            ids.get(&r.id_number)
                .copied()
                .ok_or_else(|| DbError::Task("an inserted cadre was not found".into()))
        })
        .collect::<DbResult<_>>()?;
    let links: Vec<(i64, Vec<String>)> = ids.iter().copied().zip(skills.iter().cloned()).collect();
    for (id, keys) in links {
        replace_cadre_skills(conn, id, &keys)?;
    }
    Ok(ids)
}

/// Sets a cadre's skills to `keys` (keys of the skill list; repeats ignored). No audit.
pub fn replace_cadre_skills(conn: &mut DbConn, cadre_id: i64, keys: &[String]) -> DbResult<()> {
    diesel::delete(cadre_skills::table.filter(cadre_skills::cadre_id.eq(cadre_id))).execute(conn)?;
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort();
    keys.dedup();
    let rows: Vec<_> = keys
        .into_iter()
        .map(|k| (cadre_skills::cadre_id.eq(cadre_id), cadre_skills::skill.eq(k.clone())))
        .collect();
    crate::insert_rows!(&mut *conn, cadre_skills::table, &rows, 1_000);
    Ok(())
}

/// Whether the dispatch tables hold no cadre and no batch (the demo writes only into empty
/// ones).
pub fn is_empty(conn: &mut DbConn) -> DbResult<bool> {
    let c: i64 = cadres::table.count().get_result(conn)?;
    let b: i64 = dispatch_batches::table.count().get_result(conn)?;
    Ok(c == 0 && b == 0)
}

/// How ages and "young" are judged in roster views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRule {
    /// The date ages are computed on (a batch's reference date, or today).
    pub on: NaiveDate,
    /// Cadres of this age or younger are young (configurable; default
    /// [`DEFAULT_YOUNG_MAX_AGE`]).
    pub young_max_age: u32,
}

impl AgeRule {
    /// Ages on `on` with the default limit of 40.
    pub fn on(on: NaiveDate) -> AgeRule {
        AgeRule {
            on,
            young_max_age: DEFAULT_YOUNG_MAX_AGE,
        }
    }

    /// Ages today (China time) with the configured limit ([`young_max_age`]).
    pub fn today() -> AgeRule {
        AgeRule {
            on: crate::clock::Clock::current().today(),
            young_max_age: young_max_age(),
        }
    }
}

/// A cadre's residency that has not ended on the roster's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CurrentResidency {
    /// Residency id.
    pub id: i64,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
}

/// A cadre on the roster (选派干部名册) as shown to users and the API, personal data masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cadre {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `male` or `female`.
    pub sex: String,
    /// Birth date (from the ID number).
    pub birth_date: NaiveDate,
    /// Its year: with the source, what tells two cadres of one name apart.
    pub birth_year: i32,
    /// Age in whole years on the [`AgeRule`]'s date.
    pub age: i32,
    /// Whether the age is within the [`AgeRule`]'s young limit.
    pub young: bool,
    /// Citizen ID number, masked (`6301**********123X`).
    pub id_number: String,
    /// Phone, masked (`138****5678`).
    pub phone: Option<String>,
    /// Source unit's id (a county unit), when the cadre comes from one.
    pub source_unit_id: Option<i64>,
    /// Source town (12 digits), when the cadre is a town cadre.
    pub source_town: Option<String>,
    /// Name of the source unit or town.
    pub source_name: Option<String>,
    /// Home village (12 digits).
    pub home_village: Option<String>,
    /// Its name.
    pub home_village_name: Option<String>,
    /// Scope key: the source town or the source unit's division (12 digits).
    pub division_code: String,
    /// Skill keys, sorted.
    pub skills: Vec<String>,
    /// Their labels, in the same order.
    pub skill_labels: Vec<Label>,
    /// A residency that has not ended on the [`AgeRule`]'s date (the cadre is then not
    /// available for a new batch).
    pub residency: Option<CurrentResidency>,
    /// That residency's village name (for lists).
    pub residency_village: Option<String>,
    /// Its last day.
    #[schema(value_type = Option<String>, format = Date)]
    pub residency_end: Option<NaiveDate>,
    /// When the cadre left the roster (retired records only).
    #[schema(value_type = Option<String>, format = Date)]
    pub retired_on: Option<NaiveDate>,
    /// Why ([`kinds::CADRE_LEAVE_REASONS`]).
    pub retire_reason: Option<String>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cadres)]
struct CadreRow {
    id: i64,
    name: String,
    sex: String,
    birth_date: NaiveDate,
    id_number: String,
    phone: Option<String>,
    source_unit_id: Option<i64>,
    source_town: Option<String>,
    home_village: Option<String>,
    division_code: String,
    illustrative: bool,
    retired_on: Option<NaiveDate>,
    retire_reason: Option<String>,
}

/// Filters of the roster.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CadreFilter {
    /// Only cadres whose scope key lies in this division subtree (a town code: its town cadres
    /// and the units there).
    pub under: Option<String>,
    /// Only names containing this text.
    pub q: Option<String>,
    /// Only cadres with this skill (key).
    pub skill: Option<String>,
    /// `true`: only young cadres; `false`: only older ones (on the [`AgeRule`]).
    pub young: Option<bool>,
    /// `true`: only cadres without a residency ending on or after the [`AgeRule`]'s date;
    /// `false`: only those with one.
    pub available: Option<bool>,
    /// Only cadres of this source unit.
    pub unit_id: Option<i64>,
    /// Also cadres who left the roster.
    #[serde(default)]
    pub retired: bool,
}

fn cadre_pred(access: &Access, f: &CadreFilter, ages: AgeRule) -> Pred<cadres::table> {
    let mut p: Vec<Pred<cadres::table>> = Vec::new();
    restrict_codes!(p, cadres::division_code, access.code_filter());
    if let Some(under) = given(&f.under) {
        restrict_codes!(p, cadres::division_code, subtree(under));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(cadres::name).like(pattern).escape('\\')));
    }
    if let Some(skill) = given(&f.skill) {
        p.push(Box::new(
            cadres::id.eq_any(
                cadre_skills::table
                    .filter(cadre_skills::skill.eq(skill.to_string()))
                    .select(cadre_skills::cadre_id),
            ),
        ));
    }
    let cutoff = young_cutoff(ages.on, ages.young_max_age);
    match f.young {
        Some(true) => p.push(Box::new(cadres::birth_date.gt(cutoff))),
        Some(false) => p.push(Box::new(cadres::birth_date.le(cutoff))),
        None => {}
    }
    let busy = residencies::table
        .filter(residencies::end_date.ge(ages.on))
        .select(residencies::cadre_id);
    match f.available {
        Some(true) => p.push(Box::new(diesel::dsl::not(cadres::id.eq_any(busy)))),
        Some(false) => p.push(Box::new(cadres::id.eq_any(busy))),
        None => {}
    }
    if let Some(unit) = f.unit_id {
        p.push(Box::new(cadres::source_unit_id.assume_not_null().eq(unit)));
    }
    if !f.retired {
        p.push(Box::new(cadres::retired_on.is_null()));
    }
    all(p)
}

/// The roster within the caller's scope matching `filter`, ordered by scope key, name and id,
/// with the total number of matches. Ages and "young" are judged by `ages`; ID numbers and
/// phones are masked.
pub fn cadres(
    conn: &mut DbConn,
    access: &Access,
    filter: &CadreFilter,
    ages: AgeRule,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Cadre>, i64)> {
    let total: i64 = cadres::table
        .filter(cadre_pred(access, filter, ages))
        .count()
        .get_result(conn)?;
    let rows: Vec<CadreRow> = cadres::table
        .filter(cadre_pred(access, filter, ages))
        .order((cadres::division_code.asc(), cadres::name.asc(), cadres::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(CadreRow::as_select())
        .load(conn)?;
    Ok((with_cadre_details(conn, rows, ages)?, total))
}

/// One cadre, masked; `None` when unknown or outside the caller's scope.
pub fn cadre(conn: &mut DbConn, access: &Access, id: i64, ages: AgeRule) -> DbResult<Option<Cadre>> {
    let all = CadreFilter {
        retired: true,
        ..CadreFilter::default()
    };
    let row: Option<CadreRow> = cadres::table
        .filter(cadres::id.eq(id))
        .filter(cadre_pred(access, &all, ages))
        .select(CadreRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => with_cadre_details(conn, vec![r], ages)?.into_iter().next(),
        None => None,
    })
}

/// A cadre's unmasked ID number and phone for a caller with [`Permission::Unmask`]; `None`
/// without it, or when unknown or outside the scope. Each view is audited (action `unmask`,
/// entity `cadre`) in the same transaction.
pub fn cadre_unmasked(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<(String, Option<String>)>> {
    if !access.can(Permission::Unmask) {
        return Ok(None);
    }
    crate::db::write_transaction(conn, |conn| {
        let all = CadreFilter {
            retired: true,
            ..CadreFilter::default()
        };
        let row: Option<(String, Option<String>, String)> = cadres::table
            .filter(cadres::id.eq(id))
            .filter(cadre_pred(access, &all, AgeRule::today()))
            .select((cadres::id_number, cadres::phone, cadres::division_code))
            .first(conn)
            .optional()?;
        let Some((id_number, phone, division)) = row else {
            return Ok(None);
        };
        let id_text = id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "unmask",
                entity: "cadre",
                entity_id: &id_text,
                detail: "id_number,phone".into(),
                scope: scope_prefix(&division),
                ..Default::default()
            },
        )?;
        Ok(Some((id_number, phone)))
    })
}

/// Names of units by id (not scoped: a source unit's name is shown with the cadre).
pub(crate) fn unit_names(conn: &mut DbConn, ids: impl IntoIterator<Item = i64>) -> DbResult<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for part in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String)> = units::table
            .filter(units::id.eq_any(part))
            .select((units::id, units::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// What tells a cadre apart wherever cadres are listed or picked: the name, the birth year and
/// the source unit or town (two cadres may share a name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CadreTag {
    /// Name.
    pub name: String,
    /// Birth year.
    pub birth_year: i32,
    /// Source unit or town.
    pub source: Option<String>,
    /// Scope key (the source town or the source unit's division).
    pub division_code: String,
}

impl CadreTag {
    /// "name (birth year, source)", as lists and pickers show a cadre.
    pub fn label(&self) -> String {
        match &self.source {
            Some(s) => format!("{} ({}, {s})", self.name, self.birth_year),
            None => format!("{} ({})", self.name, self.birth_year),
        }
    }
}

/// The [`CadreTag`]s of cadres by id (any scope: a residency or a plan names its cadre).
pub(crate) fn cadre_tags(conn: &mut DbConn, ids: &[i64]) -> DbResult<HashMap<i64, CadreTag>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    type Row = (i64, String, NaiveDate, Option<i64>, Option<String>, String);
    let mut rows: Vec<Row> = Vec::new();
    for part in ids.chunks(IN_CHUNK) {
        rows.extend(
            cadres::table
                .filter(cadres::id.eq_any(part))
                .select((
                    cadres::id,
                    cadres::name,
                    cadres::birth_date,
                    cadres::source_unit_id,
                    cadres::source_town,
                    cadres::division_code,
                ))
                .load::<Row>(conn)?,
        );
    }
    let units = unit_names(conn, rows.iter().filter_map(|r| r.3))?;
    let towns = division_names(conn, rows.iter().filter_map(|r| r.4.clone()))?;
    Ok(rows
        .into_iter()
        .map(|(id, name, birth, unit, town, division_code)| {
            let source = match (unit, &town) {
                (Some(u), _) => units.get(&u).cloned(),
                (None, Some(t)) => towns.get(t).cloned(),
                (None, None) => None,
            };
            (
                id,
                CadreTag {
                    name,
                    birth_year: birth.year(),
                    source,
                    division_code,
                },
            )
        })
        .collect())
}

/// Skill keys of each cadre among `ids`, sorted.
pub(crate) fn skills_of(conn: &mut DbConn, ids: &[i64]) -> DbResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for part in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String)> = cadre_skills::table
            .filter(cadre_skills::cadre_id.eq_any(part))
            .order((cadre_skills::cadre_id, cadre_skills::skill))
            .select((cadre_skills::cadre_id, cadre_skills::skill))
            .load(conn)?;
        for (c, s) in rows {
            out.entry(c).or_default().push(s);
        }
    }
    Ok(out)
}

fn with_cadre_details(conn: &mut DbConn, rows: Vec<CadreRow>, ages: AgeRule) -> DbResult<Vec<Cadre>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let units = unit_names(conn, rows.iter().filter_map(|r| r.source_unit_id))?;
    let skills = skills_of(conn, &ids)?;
    let list = SkillList::load(conn)?;
    let mut current: HashMap<i64, (i64, String, NaiveDate, NaiveDate)> = HashMap::new();
    for part in ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, i64, String, NaiveDate, NaiveDate)> = residencies::table
            .filter(residencies::cadre_id.eq_any(part))
            .filter(residencies::end_date.ge(ages.on))
            .order(residencies::start_date.asc())
            .select((
                residencies::cadre_id,
                residencies::id,
                residencies::village_code,
                residencies::start_date,
                residencies::end_date,
            ))
            .load(conn)?;
        for (c, id, v, s, e) in found {
            current.entry(c).or_insert((id, v, s, e));
        }
    }
    let names = division_names(
        conn,
        rows.iter()
            .flat_map(|r| [r.source_town.clone(), r.home_village.clone()])
            .flatten()
            .chain(current.values().map(|c| c.1.clone())),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let age = age_on(r.birth_date, ages.on);
            let source_name = match (r.source_unit_id, &r.source_town) {
                (Some(u), _) => units.get(&u).cloned(),
                (None, Some(t)) => names.get(t).cloned(),
                (None, None) => None,
            };
            let keys = skills.get(&r.id).cloned().unwrap_or_default();
            let residency = current.get(&r.id).map(|(id, v, s, e)| CurrentResidency {
                id: *id,
                village_name: names.get(v).cloned(),
                village_code: v.clone(),
                start_date: *s,
                end_date: *e,
            });
            Cadre {
                age,
                birth_year: r.birth_date.year(),
                young: u32::try_from(age).is_ok_and(|a| a <= ages.young_max_age),
                id_number: mask_id_number(&r.id_number),
                phone: r.phone.as_deref().map(mask_phone),
                source_name,
                home_village_name: r.home_village.as_ref().and_then(|h| names.get(h).cloned()),
                skill_labels: keys.iter().map(|k| list.label(k)).collect(),
                skills: keys,
                residency_village: residency.as_ref().and_then(|r| r.village_name.clone()),
                residency_end: residency.as_ref().map(|r| r.end_date),
                residency,
                retired_on: r.retired_on,
                retire_reason: r.retire_reason,
                id: r.id,
                name: r.name,
                sex: r.sex,
                birth_date: r.birth_date,
                source_unit_id: r.source_unit_id,
                source_town: r.source_town,
                home_village: r.home_village,
                division_code: r.division_code,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Twinning

/// A twinning pair (结对帮扶): a county unit and a village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TwinningPair {
    /// Id (`UNIT-VILLAGE`, as in URLs).
    pub id: String,
    /// The unit's id.
    pub unit_id: i64,
    /// The unit's id when the caller may open the unit's page (its division is in the scope);
    /// a county unit twinned with a village of a town lies outside the town's scope.
    pub unit_link: Option<i64>,
    /// Its name.
    pub unit_name: String,
    /// Its kind key (`agency`, `soe` …).
    pub unit_kind: String,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// The village's town (12 digits).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

/// The twinning pairs whose village is within the caller's scope (and `under`, a town or
/// village code, when given), by village code and unit name.
pub fn twinning(conn: &mut DbConn, access: &Access, under: Option<&str>) -> DbResult<Vec<TwinningPair>> {
    let rows: Vec<(i64, String, bool)> = twinning::table
        .filter(code_scope!(twinning::table, twinning::village_code, access, under))
        .order((twinning::village_code.asc(), twinning::unit_id.asc()))
        .select((twinning::unit_id, twinning::village_code, twinning::illustrative))
        .load(conn)?;
    let mut unit_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let mut unit_info: HashMap<i64, (String, String, String)> = HashMap::new();
    for part in unit_ids.chunks(IN_CHUNK) {
        let found: Vec<(i64, String, String, String)> = units::table
            .filter(units::id.eq_any(part))
            .select((units::id, units::name, units::kind, units::division_code))
            .load(conn)?;
        unit_info.extend(found.into_iter().map(|(id, n, k, d)| (id, (n, k, d))));
    }
    let names = division_names(
        conn,
        rows.iter()
            .flat_map(|r| [Some(r.1.clone()), town_code_of(&r.1)])
            .flatten(),
    )?;
    let mut out: Vec<TwinningPair> = rows
        .into_iter()
        .map(|(unit_id, village_code, illustrative)| {
            let (unit_name, unit_kind, division) = unit_info.get(&unit_id).cloned().unwrap_or_default();
            let town_code = town_code_of(&village_code);
            TwinningPair {
                id: format!("{unit_id}-{village_code}"),
                unit_id,
                unit_link: access.sees_code(&division).then_some(unit_id),
                unit_name,
                unit_kind,
                village_name: names.get(&village_code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                village_code,
                illustrative,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.village_code, &a.unit_name).cmp(&(&b.village_code, &b.unit_name)));
    Ok(out)
}

/// Inserts twinning pairs `(unit_id, village_code)`; pairs already stored are kept. No audit.
pub fn insert_twinning(conn: &mut DbConn, pairs: &[(i64, String)], illustrative: bool) -> DbResult<usize> {
    let existing: std::collections::HashSet<(i64, String)> = twinning::table
        .select((twinning::unit_id, twinning::village_code))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let at = now();
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<_> = pairs
        .iter()
        .filter(|p| !existing.contains(*p) && seen.insert((*p).clone()))
        .map(|(u, v)| {
            (
                twinning::unit_id.eq(*u),
                twinning::village_code.eq(v.clone()),
                twinning::illustrative.eq(illustrative),
                twinning::created_at.eq(at),
            )
        })
        .collect();
    crate::insert_rows!(&mut *conn, twinning::table, &rows, 1_000);
    Ok(rows.len())
}

/// Checks that `code` is an active village the caller sees; returns it normalised.
pub(crate) fn visible_village(conn: &mut DbConn, access: &Access, code: &str) -> Result<String, DispatchError> {
    let code = DivisionCode::parse(code).map_err(|e| DispatchError::invalid(e.key(), e.to_string()))?;
    let level: Option<String> = divisions::table
        .filter(divisions::code.eq(code.as_str()))
        .filter(divisions::status.eq(crate::divisions::ACTIVE))
        .select(divisions::level)
        .first(conn)
        .optional()?;
    match level {
        Some(l) if l == "village" && access.sees_code(code.as_str()) => Ok(code.as_str().to_string()),
        Some(l) if access.names_code(code.as_str()) => Err(DispatchError::invalid(
            "division-wrong-level",
            format!("{} is a {l} code; a village code is needed", code.as_str()),
        )),
        _ => Err(DispatchError::NotFound),
    }
}

// ---------------------------------------------------------------------------------------------
// Village needs

/// One need of a village: a skill and its priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Need {
    /// Skill key.
    pub skill: String,
    /// 1 (low) to 3 (most urgent).
    pub priority: i32,
}

/// A village with the skills it needs (需求清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VillageNeeds {
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// Its town (12 digits).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// Needs, most urgent first, then by skill key.
    pub needs: Vec<Need>,
}

/// The villages within the caller's scope (and `under`) that need skills, by code.
pub fn needs(conn: &mut DbConn, access: &Access, under: Option<&str>) -> DbResult<Vec<VillageNeeds>> {
    let rows: Vec<(String, String, i32)> = village_needs::table
        .filter(code_scope!(
            village_needs::table,
            village_needs::village_code,
            access,
            under
        ))
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
    let mut grouped: BTreeMap<String, Vec<Need>> = BTreeMap::new();
    for (v, skill, priority) in rows {
        grouped.entry(v).or_default().push(Need { skill, priority });
    }
    let names = division_names(
        conn,
        grouped
            .keys()
            .flat_map(|v| [Some(v.clone()), town_code_of(v)])
            .flatten(),
    )?;
    Ok(grouped
        .into_iter()
        .map(|(village_code, needs)| {
            let town_code = town_code_of(&village_code);
            VillageNeeds {
                village_name: names.get(&village_code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                village_code,
                needs,
            }
        })
        .collect())
}

/// Stores or updates needs `(village_code, skill, priority)` (1–3). No audit.
pub fn upsert_needs(conn: &mut DbConn, rows: &[(String, String, i32)], illustrative: bool) -> DbResult<()> {
    let at = now();
    for (village, skill, priority) in rows {
        let n = diesel::update(
            village_needs::table
                .filter(village_needs::village_code.eq(village))
                .filter(village_needs::skill.eq(skill)),
        )
        .set((
            village_needs::priority.eq(priority),
            village_needs::illustrative.eq(illustrative),
            village_needs::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(village_needs::table)
                .values((
                    village_needs::village_code.eq(village),
                    village_needs::skill.eq(skill),
                    village_needs::priority.eq(priority),
                    village_needs::illustrative.eq(illustrative),
                    village_needs::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Whether `code` lies within the county `county` (both 12-digit codes).
pub(crate) fn in_county(code: &str, county: &str) -> bool {
    match DivisionCode::parse(county) {
        Ok(c) => code.starts_with(c.prefix()),
        Err(_) => false,
    }
}

/// The code range of a county's subtree, for SQL.
pub(crate) fn county_range(county: &str) -> CodeFilter {
    subtree(county)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn terms_end_the_day_before() {
        assert_eq!(term_end(d(2026, 11, 1), 24), d(2028, 10, 31));
        assert_eq!(term_end(d(2025, 5, 1), 24), d(2027, 4, 30));
        assert_eq!(term_end(d(2024, 2, 29), 12), d(2025, 2, 27));
    }

    #[test]
    fn young_cutoff_agrees_with_age() {
        let on = d(2026, 11, 1);
        let cut = young_cutoff(on, 40);
        assert_eq!(cut, d(1985, 11, 1));
        for birth in [d(1985, 11, 1), d(1985, 11, 2), d(1986, 1, 1), d(1980, 1, 1)] {
            assert_eq!(birth > cut, age_on(birth, on) <= 40, "{birth}");
        }
        let leap = d(2028, 2, 29);
        let cut = young_cutoff(leap, 40);
        for birth in [d(1987, 2, 28), d(1987, 3, 1), d(1987, 2, 27)] {
            assert_eq!(birth > cut, age_on(birth, leap) <= 40, "{birth}");
        }
    }
}
