//! Dispatch pages (SPEC C7): the list of dispatch batches, a batch with its rules and its stored
//! plan (every pair explained), and the changes a county administrator makes there — run the
//! optimiser, pin or forbid a pair, remove a pin, confirm the batch (creating residencies). Also
//! the JSON routes `GET /api/v1/dispatch/batches`, `GET /api/v1/dispatch/batches/{id}/plan` and
//! `POST /api/v1/dispatch/batches/{id}/run`.
//!
//! Reads go through the scoped data layer ([`crate::cadres::batch`]); changes need
//! [`Permission::Dispatch`] (checked by the route guard and again by the data layer) and a
//! scope covering the batch's county. A village outside the caller's scope is neither coded
//! nor named, and whole-batch totals are withheld from callers who do not cover the county
//! (both done by the data layer).

use std::collections::BTreeSet;

use askama::Template;
use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Chrome, error_page, html};
use super::{ApiUser, AppError, AppState, Guard, PageUser, Route, route};
use crate::access::{Access, Permission};
use crate::cadres::batch::{self, Batch, BatchRule, Plan, PlannedPair, RuleKind};
use crate::cadres::residency::{self, AttendanceMonth, LeaveFilter, LeaveRequest, Residency, ResidencyFilter, WorkLog};
use crate::cadres::{self, AgeRule, Cadre, CadreFilter, DispatchError, Skill};
use crate::cli::dispatch_cmd::{PlanJson, plan_json};
use crate::i18n::Tr;

/// Dispatch routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    let d = Permission::Dispatch;
    let rec = Permission::RecordResidency;
    vec![
        route(M::GET, "/dispatch", Login, get(batches_page)),
        route(M::GET, "/dispatch/{id}", Login, get(batch_page)),
        route(M::POST, "/dispatch/{id}/run", Perm(d), post(run_form)),
        route(M::POST, "/dispatch/{id}/confirm", Perm(d), post(confirm_form)),
        route(M::POST, "/dispatch/{id}/rules", Perm(d), post(rule_form)),
        route(M::POST, "/dispatch/{id}/rules/remove", Perm(d), post(remove_rule_form)),
        route(M::GET, "/cadres", Login, get(cadres_page)),
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
        route(M::POST, "/residencies/{id}/leave", Perm(rec), post(leave_form)),
        route(M::POST, "/residencies/{id}/evaluation", Perm(d), post(evaluation_form)),
        route(
            M::POST,
            "/leave/{id}/decide",
            Perm(Permission::DecideLeave),
            post(decide_form),
        ),
        route(M::GET, "/api/v1/dispatch/batches", Login, get(api_batches)),
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
        other => AppError::BadRequest {
            code: other.code(),
            message: other.to_string(),
        },
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
    /// Village code when the caller sees it (needed by the remove form).
    pub village_code: Option<String>,
    /// Kind label.
    pub kind: String,
}

#[derive(Template)]
#[template(path = "dispatch_batches.html")]
struct BatchesPage {
    c: Chrome,
    rows: Vec<BatchView>,
}

async fn batches_page(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| batch::batches(c, &access)).await {
        Ok(rows) => html(&BatchesPage {
            c: Chrome::of(&u),
            rows: rows.into_iter().map(|b| batch_view(u.t, b)).collect(),
        }),
        Err(e) => error_page(u.t, e.into()),
    }
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
    /// Eligible cadres for the pin/forbid form: id, name and age.
    eligible: Vec<(i64, String, i32)>,
    can_change: bool,
    draft: bool,
    weights: String,
    residencies: String,
    summary: String,
}

async fn batch_page(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
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
                let ids: BTreeSet<i64> = batch::inputs(c, &access, id)?
                    .map(|i| i.cadres.iter().map(|x| x.id).collect())
                    .unwrap_or_default();
                let ages = AgeRule {
                    on: plan.batch.reference_date,
                    young_max_age: plan
                        .batch
                        .young_max_age
                        .and_then(|a| u32::try_from(a).ok())
                        .unwrap_or(cadres::DEFAULT_YOUNG_MAX_AGE),
                };
                let (roster, _) = cadres::cadres(c, &access, &CadreFilter::default(), ages, 5_000, 0)?;
                eligible = roster
                    .into_iter()
                    .filter(|x| ids.contains(&x.id))
                    .map(|x| (x.id, x.name, x.age))
                    .collect();
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
    let weights = t.args(
        "dispatch-weights",
        &[
            ("per", b.per_priority_point.to_string()),
            ("twin", b.twinning_bonus.to_string()),
        ],
    );
    let residencies = match b.residencies {
        Some(n) => t.args("dispatch-residencies", &[("count", n.to_string())]),
        None => String::new(),
    };
    let summary = match total_score {
        Some(total) => t.args(
            "dispatch-plan-summary",
            &[("pairs", pairs.len().to_string()), ("total", total.to_string())],
        ),
        None => t.args("dispatch-plan-summary-scoped", &[("pairs", pairs.len().to_string())]),
    };
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
                r,
            })
            .collect(),
        eligible,
        can_change,
        draft,
        v: batch_view(t, b),
    })
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

/// POST /dispatch/{id}/confirm — one residency per planned pair.
async fn confirm_form(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| batch::confirm(c, &access, id)).await {
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

/// POST /dispatch/{id}/rules — pins or forbids a pair (clears the stored plan).
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

/// Cadres listed on one roster page.
const ROSTER_PAGE: i64 = 500;

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

fn ages(state: &AppState) -> AgeRule {
    AgeRule {
        on: chrono::Utc::now().date_naive(),
        young_max_age: state.config.young_max_age,
    }
}

#[derive(Template)]
#[template(path = "cadres.html")]
struct CadresPage {
    c: Chrome,
    rows: Vec<CadreView>,
    count_label: String,
    young_rule: String,
    any_illustrative: bool,
}

async fn cadres_page(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    let rule = ages(&state);
    let result = state
        .db
        .run(move |c| {
            let skills = cadres::skills(c)?;
            let (rows, total) = cadres::cadres(c, &access, &CadreFilter::default(), rule, ROSTER_PAGE, 0)?;
            Ok::<_, AppError>((skills, rows, total))
        })
        .await;
    let (skills, rows, total) = match result {
        Ok(r) => r,
        Err(e) => return error_page(u.t, e),
    };
    let t = u.t;
    html(&CadresPage {
        c: Chrome::of(&u),
        count_label: t.args(
            "cadre-count",
            &[("shown", rows.len().to_string()), ("total", total.to_string())],
        ),
        any_illustrative: rows.iter().any(|r| r.illustrative),
        rows: rows.into_iter().map(|r| cadre_view(t, &skills, r)).collect(),
        young_rule: t.args("cadre-young-rule", &[("age", rule.young_max_age.to_string())]),
    })
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
}

async fn cadre_page(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    let rule = ages(&state);
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
    html(&CadrePage {
        c: Chrome::of(&u),
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
    /// Status label.
    pub status: String,
    /// Approver level label.
    pub level: String,
    /// Whether the caller may approve or reject it now.
    pub decidable: bool,
}

fn leave_view(t: Tr, access: &Access, l: LeaveRequest) -> LeaveView {
    LeaveView {
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
    evaluation: String,
    logs: Vec<WorkLog>,
    months: Vec<AttendanceMonth>,
    leave: Vec<LeaveView>,
    grades: Vec<(String, String)>,
    today: String,
    can_record: bool,
    can_evaluate: bool,
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
        today: chrono::Utc::now().date_naive().to_string(),
        can_record: u.access.can(Permission::RecordResidency),
        can_evaluate: u.access.can(Permission::Dispatch),
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

async fn log_form(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>, Form(f): Form<LogForm>) -> Response {
    let day = match date("date", &f.date) {
        Ok(d) => d,
        Err(e) => return error_page(u.t, e),
    };
    let access = u.access.clone();
    match state
        .db
        .run(move |c| residency::add_work_log(c, &access, id, day, &f.content))
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => error_page(u.t, app_error(e)),
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
    /// The last months: (month, days, compliant).
    pub months: Vec<(String, i32, bool)>,
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
                on: Some(chrono::Utc::now().date_naive()),
                ..Default::default()
            };
            let (list, _) = residency::residencies(c, &access, &filter, 1_000, 0)?;
            let mut rows = Vec::with_capacity(list.len());
            for r in list {
                let mut months = residency::attendance(c, &access, r.id)?;
                months.sort_by(|a, b| b.month.cmp(&a.month));
                months.truncate(BOARD_MONTHS);
                rows.push(BoardRow {
                    months: months.into_iter().map(|m| (m.month, m.days, m.compliant)).collect(),
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

/// GET /api/v1/dispatch/batches — the batches the caller sees.
#[utoipa::path(get, path = "/api/v1/dispatch/batches", responses((status = 200, body = Vec<Batch>), (status = 401)))]
pub async fn api_batches(State(state): State<AppState>, u: ApiUser) -> Result<Json<Vec<Batch>>, AppError> {
    let access = u.access.clone();
    let mut rows = state.db.run(move |c| batch::batches(c, &access)).await?;
    for b in &mut rows {
        if !u.access.sees_code(&b.county_code) {
            b.county_code = String::new();
        }
    }
    Ok(Json(rows))
}

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
