//! Dispatch pages (SPEC C7): a batch with its rules and its stored plan (every pair explained),
//! and the changes a county administrator makes there — run the optimiser, pin or forbid a
//! pair, remove a pin, confirm the batch (creating residencies, after ticking that it cannot
//! be undone); a cadre's page with the residencies; residency pages with work logs, attendance
//! (confirmed by the town) and leave, and the town and county board. Also the JSON routes
//! `GET /api/v1/dispatch/batches/{id}/plan` and `POST /api/v1/dispatch/batches/{id}/run`.
//!
//! Lists, exports, forms and the JSON API of batches, cadres, twinning, needs and work logs are
//! the generic ones of their record kinds ([`super::records`]); these pages link to them.
//!
//! Reads go through the scoped data layer ([`crate::cadres::batch`]); changes need
//! [`Permission::Dispatch`] (checked by the route guard and again by the data layer) and a
//! scope covering the batch's county. A village outside the caller's scope is neither coded
//! nor named, and whole-batch totals are withheld from callers who do not cover the county
//! (both done by the data layer). No page links to a record the reader cannot open.

use std::collections::BTreeSet;

use askama::Template;
use axum::Json;
use axum::extract::{Form, Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::routing::post;
use serde::Deserialize;

use super::pages::{Chrome, error_page, html};
use super::records::{Actions, SavedQuery};
use super::{ApiUser, AppError, AppState, Guard, PageUser, Route, route};
use crate::access::{Access, Permission};
use crate::cadres::batch::{self, Batch, BatchRule, Plan, PlannedPair, RuleKind};
use crate::cadres::batch::{PlanJson, plan_json};
use crate::cadres::residency::{self, AttendanceMonth, LeaveFilter, LeaveRequest, Residency, ResidencyFilter, WorkLog};
use crate::cadres::{self, AgeRule, Cadre, DispatchError, Skill};
use crate::i18n::Tr;
use crate::kind::KindId;

/// Dispatch routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    let d = Permission::Dispatch;
    let rec = Permission::RecordResidency;
    vec![
        route(M::GET, "/dispatch/{id}", Login, get(batch_page)),
        route(M::POST, "/dispatch/{id}/run", Perm(d), post(run_form)),
        route(M::POST, "/dispatch/{id}/confirm", Perm(d), post(confirm_form)),
        route(M::POST, "/dispatch/{id}/rules", Perm(d), post(rule_form)),
        route(M::POST, "/dispatch/{id}/rules/remove", Perm(d), post(remove_rule_form)),
        route(M::GET, "/cadres/{id}", Login, get(cadre_page)),
        route(M::GET, "/residencies", Login, get(board_page)),
        route(M::GET, "/residencies/{id}", Login, get(residency_page)),
        route(M::POST, "/residencies/{id}/logs", Perm(rec), post(log_form)),
        route(
            M::POST,
            "/residencies/{id}/attendance",
            Perm(rec),
            post(attendance_form),
        ),
        route(
            M::POST,
            "/residencies/{id}/attendance/confirm",
            Perm(Permission::DecideLeave),
            post(confirm_attendance_form),
        ),
        route(M::POST, "/residencies/{id}/leave", Perm(rec), post(leave_form)),
        route(M::POST, "/residencies/{id}/evaluation", Perm(d), post(evaluation_form)),
        route(
            M::POST,
            "/leave/{id}/decide",
            Perm(Permission::DecideLeave),
            post(decide_form),
        ),
        route(M::GET, "/api/v1/dispatch/batches/{id}/plan", Login, get(api_plan)),
        route(M::POST, "/api/v1/dispatch/batches/{id}/run", Perm(d), post(api_run)),
    ]
}

/// The web error for a refused dispatch call.
pub fn app_error(e: DispatchError) -> AppError {
    match e {
        DispatchError::Db(e) => AppError::from(e),
        DispatchError::Forbidden => AppError::Forbidden,
        DispatchError::NotFound => AppError::NotFound,
        DispatchError::Issues(issues) => AppError::Invalid(issues),
        other => AppError::BadRequest {
            code: other.code(),
            message: other.to_string(),
        },
    }
}

impl DispatchError {
    /// The web error for this refusal ([`app_error`]).
    pub fn into_app(self) -> AppError {
        app_error(self)
    }
}

/// The text for a dispatch error key in the page language; `fallback` (English) when the key
/// has no translation.
fn reason(t: Tr, key: &str, fallback: &str) -> String {
    let s = t.get(key);
    if s == key { fallback.to_string() } else { s }
}

// ---------------------------------------------------------------------------------------------
// Views

/// A batch prepared for display.
pub struct BatchView {
    /// The batch.
    pub b: Batch,
    /// Status label.
    pub status: String,
    /// "20–30".
    pub size: String,
    /// Young age limit in words ("≤ 40" or "any age").
    pub age_rule: String,
    /// Why the last run found no plan, translated.
    pub error: Option<String>,
}

fn batch_view(t: Tr, b: Batch) -> BatchView {
    let status = match b.status.as_str() {
        "draft" => t.get("dispatch-status-draft"),
        "confirmed" => t.get("dispatch-status-confirmed"),
        other => other.to_string(),
    };
    let age_rule = match b.young_max_age {
        Some(a) => t.args("dispatch-age-limit", &[("age", a.to_string())]),
        None => t.get("dispatch-any-age"),
    };
    let error = b.plan_error_key.as_ref().map(|k| {
        let english = b.plan_error.clone().unwrap_or_default();
        let english = english
            .strip_prefix(&format!("{k}: "))
            .map(String::from)
            .unwrap_or(english);
        let text = reason(t, k, &english);
        if text == english {
            text
        } else {
            format!("{text} ({english})")
        }
    });
    BatchView {
        status,
        size: format!("{}–{}", b.min_size, b.max_size),
        age_rule,
        error,
        b,
    }
}

/// A planned pair prepared for display.
pub struct PairView {
    /// The pair.
    pub p: PlannedPair,
    /// The cadre: name, birth year and source.
    pub who: String,
    /// Village code when the caller sees it.
    pub village_code: Option<String>,
    /// Each part of the score in words.
    pub parts: Vec<String>,
    /// The breakdown as one sentence.
    pub words: String,
}

fn pair_view(t: Tr, p: PlannedPair) -> PairView {
    let zh = t.lang().code().starts_with("zh");
    let mut parts: Vec<String> = p
        .breakdown
        .skills
        .iter()
        .map(|s| {
            t.args(
                "dispatch-part-skill",
                &[
                    ("skill", if zh { s.zh.clone() } else { s.en.clone() }),
                    ("priority", s.priority.to_string()),
                    ("points", s.points.to_string()),
                ],
            )
        })
        .collect();
    if p.breakdown.twinning != 0 {
        parts.push(t.args(
            "dispatch-part-twinning",
            &[("points", p.breakdown.twinning.to_string())],
        ));
    }
    if parts.is_empty() {
        parts.push(t.get("dispatch-part-none"));
    }
    PairView {
        who: cadre_label(&p.cadre_name, p.cadre_birth_year, p.cadre_source.as_deref()),
        village_code: p.village_code.clone(),
        words: p.breakdown.words(t.lang().code()),
        parts,
        p,
    }
}

/// A pin or forbidden pair prepared for display.
pub struct RuleView {
    /// The rule.
    pub r: BatchRule,
    /// The cadre: name, birth year and source.
    pub who: String,
    /// Village code when the caller sees it (needed by the remove form).
    pub village_code: Option<String>,
    /// Kind label.
    pub kind: String,
}

#[derive(Template)]
#[template(path = "dispatch_batch.html")]
struct BatchPage {
    c: Chrome,
    v: BatchView,
    pairs: Vec<PairView>,
    /// The whole plan's total; withheld from callers who do not cover the county.
    total_score: Option<i64>,
    rules: Vec<RuleView>,
    /// Cadres the pin/forbid form offers: those the batch may plan (no running residency, within
    /// the batch's age limit), each as id and "name (birth year, source) · age".
    eligible: Vec<(i64, String)>,
    can_change: bool,
    draft: bool,
    /// The stored plan predates a change of the settings or rules.
    outdated: bool,
    weights: String,
    residencies: String,
    summary: String,
    /// Edit and delete (a draft), through the generic forms.
    a: Actions,
}

async fn batch_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<SavedQuery>,
) -> Response {
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let plan = batch::stored_plan(c, &access, id)?.ok_or(AppError::NotFound)?;
            // Acting on a batch needs a scope covering its county (the data layer refuses too).
            let can_change = access.can(Permission::Dispatch) && access.covers_county(&plan.batch.county_code);
            let rules = batch::rules(c, &access, id)?;
            let mut eligible = Vec::new();
            if can_change && plan.batch.is_draft() {
                // The optimiser's cadres, less those the age rule excludes everywhere.
                let ids: BTreeSet<i64> = batch::inputs(c, &access, id)?
                    .map(|i| {
                        i.cadres
                            .iter()
                            .filter(|x| i.rules.young_max_age.is_none_or(|max| x.age <= max))
                            .map(|x| x.id)
                            .collect()
                    })
                    .unwrap_or_default();
                let ages = AgeRule {
                    on: plan.batch.reference_date,
                    young_max_age: plan
                        .batch
                        .young_max_age
                        .and_then(|a| u32::try_from(a).ok())
                        .unwrap_or(cadres::DEFAULT_YOUNG_MAX_AGE),
                };
                let (roster, _) = cadres::cadres(c, &access, &cadres::CadreFilter::default(), ages, 5_000, 0)?;
                eligible = roster
                    .into_iter()
                    .filter(|x| ids.contains(&x.id))
                    .collect::<Vec<Cadre>>();
            }
            Ok::<_, AppError>((plan, rules, eligible, can_change))
        })
        .await;
    let (plan, rules, eligible, can_change) = match result {
        Ok(r) => r,
        Err(e) => return error_page(u.t, e),
    };
    let t = u.t;
    let Plan {
        batch: b,
        pairs,
        total_score,
    } = plan;
    let draft = b.is_draft();
    let outdated = b.plan_outdated;
    let weights = t.args(
        "dispatch-weights",
        &[
            ("per", b.per_priority_point.to_string()),
            ("twin", b.twinning_bonus.to_string()),
        ],
    );
    let residencies = match b.residencies {
        Some(n) => t.args("dispatch-residencies-count", &[("count", n.to_string())]),
        None => String::new(),
    };
    let summary = match total_score {
        Some(total) => t.args(
            "dispatch-plan-summary",
            &[("pairs", pairs.len().to_string()), ("total", total.to_string())],
        ),
        None => t.args("dispatch-plan-summary-scoped", &[("pairs", pairs.len().to_string())]),
    };
    let mut a = Actions::new(&u, KindId::Batches, b.id, sq.saved.as_deref());
    a.can_edit &= can_change && draft;
    a.can_retire &= can_change && draft;
    html(&BatchPage {
        weights,
        residencies,
        summary,
        c: Chrome::of(&u),
        pairs: pairs.into_iter().map(|p| pair_view(t, p)).collect(),
        total_score,
        rules: rules
            .into_iter()
            .map(|r| RuleView {
                village_code: r.village_code.clone(),
                kind: if r.kind == "pin" {
                    t.get("dispatch-pinned")
                } else {
                    t.get("dispatch-forbidden")
                },
                who: cadre_label(&r.cadre_name, r.cadre_birth_year, r.cadre_source.as_deref()),
                r,
            })
            .collect(),
        eligible: eligible
            .into_iter()
            .map(|x| {
                let who = cadre_label(&x.name, x.birth_year, x.source_name.as_deref());
                (
                    x.id,
                    t.args("dispatch-eligible", &[("cadre", who), ("age", x.age.to_string())]),
                )
            })
            .collect(),
        can_change,
        draft,
        outdated,
        a,
        v: batch_view(t, b),
    })
}

/// A cadre as lists and pickers show one: "name (birth year, source)" — two cadres may share a
/// name.
pub fn cadre_label(name: &str, birth_year: i32, source: Option<&str>) -> String {
    cadres::CadreTag {
        name: name.to_string(),
        birth_year,
        source: source.map(str::to_string),
        division_code: String::new(),
    }
    .label()
}

fn back(id: i64) -> Response {
    Redirect::to(&format!("/dispatch/{id}")).into_response()
}

/// POST /dispatch/{id}/run — runs the optimiser; an infeasible batch is shown with its reason
/// on the batch page.
async fn run_form(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| batch::run(c, &access, id)).await {
        Ok(_) | Err(DispatchError::Infeasible(_)) => back(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The confirmation form: `understood` must be ticked (confirming cannot be undone).
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    understood: Option<String>,
}

/// POST /dispatch/{id}/confirm — one residency per planned pair; refused (422,
/// `dispatch-confirm-unticked`) unless the box saying it cannot be undone is ticked.
async fn confirm_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let access = u.access.clone();
    let ticked = f.understood.as_deref().map(str::trim).is_some_and(|v| !v.is_empty());
    let result = state
        .db
        .run(move |c| {
            if !ticked {
                // Who may not act on the batch learns that first (404, 403, confirmed).
                batch::may_act(c, &access, id)?;
                return Err(DispatchError::issue(
                    "understood",
                    "",
                    "dispatch-confirm-unticked",
                    "tick the box saying you understand that confirming cannot be undone",
                    Vec::new(),
                ));
            }
            batch::confirm(c, &access, id)
        })
        .await;
    match result {
        Ok(_) => back(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The pin/forbid form.
#[derive(Debug, Deserialize)]
pub struct RuleForm {
    /// The cadre's id.
    cadre_id: String,
    /// The village's code.
    village: String,
    /// `pin` or `forbid` (absent for removal).
    #[serde(default)]
    kind: Option<String>,
}

fn cadre_id(f: &RuleForm) -> Result<i64, AppError> {
    f.cadre_id.trim().parse().map_err(|_| AppError::BadRequest {
        code: "invalid-cadre",
        message: "cadre_id must be a cadre's id (a number)".into(),
    })
}

/// POST /dispatch/{id}/rules — pins or forbids a pair (the stored plan is out of date).
async fn rule_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<RuleForm>,
) -> Response {
    let kind = match f.kind.as_deref().map(str::trim).and_then(RuleKind::parse) {
        Some(k) => k,
        None => {
            return error_page(
                u.t,
                AppError::BadRequest {
                    code: "invalid-kind",
                    message: "kind must be pin or forbid".into(),
                },
            );
        }
    };
    let cadre = match cadre_id(&f) {
        Ok(c) => c,
        Err(e) => return error_page(u.t, e),
    };
    let access = u.access.clone();
    let village = f.village.trim().to_string();
    match state
        .db
        .run(move |c| batch::set_rule(c, &access, id, cadre, &village, kind))
        .await
    {
        Ok(()) => back(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// POST /dispatch/{id}/rules/remove — removes a pin or forbidden mark.
async fn remove_rule_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<RuleForm>,
) -> Response {
    let cadre = match cadre_id(&f) {
        Ok(c) => c,
        Err(e) => return error_page(u.t, e),
    };
    let access = u.access.clone();
    let village = f.village.trim().to_string();
    match state
        .db
        .run(move |c| batch::remove_rule(c, &access, id, cadre, &village))
        .await
    {
        Ok(_) => back(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Cadre roster

/// A cadre prepared for display (ID number and phone masked by the data layer; no division
/// code shown).
pub struct CadreView {
    /// The cadre.
    pub c: Cadre,
    /// Skill labels in the page language.
    pub skills: String,
    /// The current residency in words.
    pub residency: String,
}

/// The labels of skill keys in the page's language, joined by 、 (a key not on the list shows
/// as itself).
pub(super) fn skill_labels(t: Tr, skills: &[Skill], keys: &[String]) -> String {
    let lang = t.lang().code();
    keys.iter()
        .map(|k| {
            skills
                .iter()
                .find(|s| &s.key == k)
                .map_or(k.as_str(), |s| s.label(lang))
        })
        .collect::<Vec<_>>()
        .join("、")
}

fn cadre_view(t: Tr, skills: &[Skill], c: Cadre) -> CadreView {
    let residency = c
        .residency
        .as_ref()
        .map(|r| {
            t.args(
                "cadre-residency-until",
                &[
                    ("village", r.village_name.clone().unwrap_or_default()),
                    ("end", r.end_date.to_string()),
                ],
            )
        })
        .unwrap_or_default();
    CadreView {
        skills: skill_labels(t, skills, &c.skills),
        residency,
        c,
    }
}

/// A residency prepared for display.
pub struct ResidencyView {
    /// The residency.
    pub r: Residency,
    /// Evaluation label.
    pub evaluation: String,
}

#[derive(Template)]
#[template(path = "cadre.html")]
struct CadrePage {
    c: Chrome,
    v: CadreView,
    sex: String,
    residencies: Vec<ResidencyView>,
    /// The reason the cadre left the roster, when retired.
    left: Option<String>,
    a: Actions,
}

async fn cadre_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(sq): Query<SavedQuery>,
) -> Response {
    let access = u.access.clone();
    let rule = AgeRule::today();
    let result = state
        .db
        .run(move |c| {
            let cadre = cadres::cadre(c, &access, id, rule)?.ok_or(AppError::NotFound)?;
            let skills = cadres::skills(c)?;
            let filter = ResidencyFilter {
                cadre_id: Some(id),
                ..Default::default()
            };
            let (history, _) = residency::residencies(c, &access, &filter, 100, 0)?;
            Ok::<_, AppError>((cadre, skills, history))
        })
        .await;
    let (cadre, skills, history) = match result {
        Ok(r) => r,
        Err(e) => return error_page(u.t, e),
    };
    let t = u.t;
    let zh = t.lang().code().starts_with("zh");
    let label = |choices: &[(&str, &str, &str)], key: &str| {
        choices
            .iter()
            .find(|c| c.0 == key)
            .map_or_else(|| key.to_string(), |c| if zh { c.1 } else { c.2 }.to_string())
    };
    let mut a = Actions::new(&u, KindId::Cadres, cadre.id, sq.saved.as_deref());
    let left = cadre.retire_reason.as_deref().map(|r| {
        format!(
            "{} {}",
            label(crate::cadres::kinds::CADRE_LEAVE_REASONS, r),
            cadre.retired_on.map(|d| d.to_string()).unwrap_or_default()
        )
    });
    if left.is_some() {
        a.can_edit = false;
        a.can_retire = false;
    }
    html(&CadrePage {
        c: Chrome::of(&u),
        left,
        a,
        sex: label(crate::import::spec::SEXES, &cadre.sex),
        residencies: history
            .into_iter()
            .map(|r| ResidencyView {
                evaluation: r
                    .evaluation
                    .as_deref()
                    .map(|e| label(residency::GRADES, e))
                    .unwrap_or_default(),
                r,
            })
            .collect(),
        v: cadre_view(t, &skills, cadre),
    })
}

// ---------------------------------------------------------------------------------------------
// Residencies

fn bad(code: &'static str, message: &str) -> AppError {
    AppError::BadRequest {
        code,
        message: message.to_string(),
    }
}

fn date(field: &str, v: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| bad("invalid-date", &format!("{field} must be a date such as 2026-11-01")))
}

fn choice_label(t: Tr, choices: &[(&str, &str, &str)], key: &str) -> String {
    let zh = t.lang().code().starts_with("zh");
    choices
        .iter()
        .find(|c| c.0 == key)
        .map_or_else(|| key.to_string(), |c| if zh { c.1 } else { c.2 }.to_string())
}

/// A leave request prepared for display.
pub struct LeaveView {
    /// The request.
    pub l: LeaveRequest,
    /// The cadre: name, birth year and source.
    pub who: String,
    /// Status label.
    pub status: String,
    /// Approver level label.
    pub level: String,
    /// Whether the caller may approve or reject it now.
    pub decidable: bool,
}

fn leave_view(t: Tr, access: &Access, l: LeaveRequest) -> LeaveView {
    LeaveView {
        who: cadre_label(&l.cadre_name, l.cadre_birth_year, l.cadre_source.as_deref()),
        status: choice_label(t, residency::LEAVE_STATUSES, &l.status),
        level: choice_label(t, residency::APPROVER_LEVELS, &l.approver_level),
        decidable: l.status == "pending" && residency::may_decide(access, &l.approver_level),
        l,
    }
}

#[derive(Template)]
#[template(path = "residency.html")]
struct ResidencyPage {
    c: Chrome,
    r: Residency,
    /// The cadre: name, birth year and source.
    who: String,
    evaluation: String,
    logs: Vec<WorkLog>,
    months: Vec<AttendanceMonth>,
    leave: Vec<LeaveView>,
    grades: Vec<(String, String)>,
    today: String,
    can_record: bool,
    can_evaluate: bool,
    /// The caller may confirm the days a cadre reports (town and county administrators).
    can_confirm: bool,
}

async fn residency_page(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let r = residency::residency(c, &access, id)?.ok_or(AppError::NotFound)?;
            let (logs, _) = residency::work_logs(c, &access, id, 200, 0)?;
            let months = residency::attendance(c, &access, id)?;
            let filter = LeaveFilter {
                residency_id: Some(id),
                ..Default::default()
            };
            let leave = residency::leave_requests(c, &access, &filter)?;
            Ok::<_, AppError>((r, logs, months, leave))
        })
        .await;
    let (r, logs, months, leave) = match result {
        Ok(x) => x,
        Err(e) => return error_page(u.t, e),
    };
    let t = u.t;
    html(&ResidencyPage {
        c: Chrome::of(&u),
        who: cadre_label(&r.cadre_name, r.cadre_birth_year, r.cadre_source.as_deref()),
        evaluation: r
            .evaluation
            .as_deref()
            .map(|e| choice_label(t, residency::GRADES, e))
            .unwrap_or_default(),
        logs,
        months,
        leave: leave.into_iter().map(|l| leave_view(t, &u.access, l)).collect(),
        grades: residency::GRADES
            .iter()
            .map(|g| (g.0.to_string(), choice_label(t, residency::GRADES, g.0)))
            .collect(),
        today: state.clock.today().to_string(),
        can_record: u.access.can(Permission::RecordResidency),
        can_evaluate: u.access.can(Permission::Dispatch),
        can_confirm: u.access.can(Permission::DecideLeave),
        r,
    })
}

fn back_to(id: i64) -> Response {
    Redirect::to(&format!("/residencies/{id}")).into_response()
}

/// The work log form.
#[derive(Debug, Deserialize)]
pub struct LogForm {
    date: String,
    content: String,
}

/// POST /residencies/{id}/logs — a work log entry, checked like any other way in (the record
/// kind `work_logs`): a second entry for the day is refused with the stored one named.
async fn log_form(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>, Form(f): Form<LogForm>) -> Response {
    let access = u.access.clone();
    let clock = state.clock;
    match state
        .db
        .run(move |c| {
            let mut cx = crate::kind::Cx::new(c, &access, clock);
            crate::cadres::work_log::add_for_residency(&mut cx, id, f.date.trim(), &f.content)
        })
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => error_page(u.t, DispatchError::from(e).into_app()),
    }
}

/// The attendance form.
#[derive(Debug, Deserialize)]
pub struct AttendanceForm {
    month: String,
    days: String,
}

async fn attendance_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<AttendanceForm>,
) -> Response {
    let Ok(days) = f.days.trim().parse::<i32>() else {
        return error_page(u.t, bad("invalid-days", "days must be a whole number of days"));
    };
    let access = u.access.clone();
    match state
        .db
        .run(move |c| residency::set_attendance(c, &access, id, f.month.trim(), days))
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The attendance confirmation form: the month confirmed.
#[derive(Debug, Deserialize)]
pub struct ConfirmMonthForm {
    month: String,
}

/// POST /residencies/{id}/attendance/confirm — the town (or county) confirms a month's days.
async fn confirm_attendance_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ConfirmMonthForm>,
) -> Response {
    let access = u.access.clone();
    match state
        .db
        .run(move |c| residency::confirm_attendance(c, &access, id, f.month.trim()))
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The leave request form.
#[derive(Debug, Deserialize)]
pub struct LeaveForm {
    start: String,
    end: String,
    reason: String,
}

async fn leave_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<LeaveForm>,
) -> Response {
    let (start, end) = match (date("start", &f.start), date("end", &f.end)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return error_page(u.t, e),
    };
    let access = u.access.clone();
    match state
        .db
        .run(move |c| residency::request_leave(c, &access, id, start, end, &f.reason))
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The leave decision form: `decision` is `approve` or `reject`.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    decision: String,
    #[serde(default)]
    next: Option<String>,
}

async fn decide_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    let approve = match f.decision.trim() {
        "approve" => true,
        "reject" => false,
        _ => return error_page(u.t, bad("invalid-decision", "decision must be approve or reject")),
    };
    let access = u.access.clone();
    match state
        .db
        .run(move |c| residency::decide_leave(c, &access, id, approve))
        .await
    {
        Ok(l) if f.next.as_deref() == Some("board") => {
            let _ = l;
            Redirect::to("/residencies").into_response()
        }
        Ok(l) => back_to(l.residency_id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// The evaluation form.
#[derive(Debug, Deserialize)]
pub struct EvaluationForm {
    grade: String,
    #[serde(default)]
    comment: String,
}

async fn evaluation_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<EvaluationForm>,
) -> Response {
    let access = u.access.clone();
    match state
        .db
        .run(move |c| {
            let comment = Some(f.comment.as_str()).filter(|c| !c.trim().is_empty());
            residency::evaluate(c, &access, id, f.grade.trim(), comment)
        })
        .await
    {
        Ok(()) => back_to(id),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// A residency on the board with its recent months.
pub struct BoardRow {
    /// The residency.
    pub r: Residency,
    /// The cadre: name, birth year and source.
    pub who: String,
    /// The last months: (month, days, compliant, confirmed by the town).
    pub months: Vec<(String, i32, bool, bool)>,
}

#[derive(Template)]
#[template(path = "residencies.html")]
struct BoardPage {
    c: Chrome,
    rows: Vec<BoardRow>,
    pending: Vec<LeaveView>,
}

/// Months shown per residency on the board.
const BOARD_MONTHS: usize = 3;

async fn board_page(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let filter = ResidencyFilter {
                on: Some(crate::clock::Clock::current().today()),
                ..Default::default()
            };
            let (list, _) = residency::residencies(c, &access, &filter, 1_000, 0)?;
            let mut rows = Vec::with_capacity(list.len());
            for r in list {
                let mut months = residency::attendance(c, &access, r.id)?;
                months.sort_by(|a, b| b.month.cmp(&a.month));
                months.truncate(BOARD_MONTHS);
                rows.push(BoardRow {
                    who: cadre_label(&r.cadre_name, r.cadre_birth_year, r.cadre_source.as_deref()),
                    months: months
                        .into_iter()
                        .map(|m| (m.month, m.days, m.compliant, m.confirmed_at.is_some()))
                        .collect(),
                    r,
                });
            }
            let pending = residency::leave_requests(
                c,
                &access,
                &LeaveFilter {
                    status: Some("pending".into()),
                    ..Default::default()
                },
            )?;
            Ok::<_, AppError>((rows, pending))
        })
        .await;
    let (rows, pending) = match result {
        Ok(x) => x,
        Err(e) => return error_page(u.t, e),
    };
    let t = u.t;
    html(&BoardPage {
        c: Chrome::of(&u),
        rows,
        pending: pending
            .into_iter()
            .map(|l| leave_view(t, &u.access, l))
            .filter(|l| l.decidable)
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// JSON

/// GET /api/v1/dispatch/batches/{id}/plan — the stored plan, as `ringline dispatch plan
/// --format json` prints it.
#[utoipa::path(
    get,
    path = "/api/v1/dispatch/batches/{id}/plan",
    params(("id" = i64, Path, description = "Batch id")),
    responses((status = 200, body = PlanJson), (status = 404))
)]
pub async fn api_plan(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<PlanJson>, AppError> {
    let access = u.access.clone();
    let plan = state
        .db
        .run(move |c| batch::stored_plan(c, &access, id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(plan_json(&plan)))
}

/// POST /api/v1/dispatch/batches/{id}/run — runs the optimiser and answers the new plan; 422
/// with the rule's key (e.g. `dispatch-too-few-pairs`) when no plan keeps the hard rules.
#[utoipa::path(
    post,
    path = "/api/v1/dispatch/batches/{id}/run",
    params(("id" = i64, Path, description = "Batch id")),
    responses((status = 200, body = PlanJson), (status = 403), (status = 404), (status = 422))
)]
pub async fn api_run(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<PlanJson>, AppError> {
    let access = u.access.clone();
    let plan = state
        .db
        .run(move |c| batch::run(c, &access, id).map_err(app_error))
        .await?;
    Ok(Json(plan_json(&plan)))
}
