//! XLSX exports of dispatched cadres (SPEC C7): the roster, village needs, a batch's plan and
//! work logs. Every export reads through the scoped data layer with the caller's `Access`, so it
//! holds exactly what the caller's pages show; ID numbers and phones stay masked, and a plan's
//! villages outside the caller's scope have their codes withheld (as in the plan API).
//!
//! The needs export starts with the columns of the `needs` import (村代码, 需求专长, 优先级), so
//! an edited copy can be imported back.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::dispatch::skill_labels;
use super::registry::{choice_label, export, headers, illustrative_cell, stream_rows, stream_workbook};
use super::{AppError, AppState, Guard, PageUser, Route, route};
use crate::cadres::batch;
use crate::cadres::residency::{self, ResidencyFilter};
use crate::cadres::{self, AgeRule, Cadre, CadreFilter, Skill};
use crate::i18n::Tr;
use crate::import::spec::SEXES;
use crate::registry::query::division_names;

/// Export routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::Login;
    use Method as M;
    vec![
        route(M::GET, "/cadres.xlsx", Login, get(roster_xlsx)),
        route(M::GET, "/needs.xlsx", Login, get(needs_xlsx)),
        route(M::GET, "/dispatch/{id}/plan.xlsx", Login, get(plan_xlsx)),
        route(M::GET, "/work-logs.xlsx", Login, get(logs_xlsx)),
    ]
}

/// Query of the roster export: the roster page's filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RosterQuery {
    under: Option<String>,
    q: Option<String>,
    skill: Option<String>,
}

const ROSTER_HEADERS: [&str; 12] = [
    "col-name",
    "cadre-col-sex",
    "dispatch-col-cadre-age",
    "cadre-col-young",
    "cadre-col-id-number",
    "cadre-col-phone",
    "dispatch-col-source",
    "cadre-col-home-code",
    "cadre-col-home",
    "cadre-col-skills",
    "cadre-col-residency",
    "illustrative",
];

fn roster_row(t: Tr, skills: &[Skill], c: Cadre) -> Vec<String> {
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
    vec![
        c.name.clone(),
        choice_label(t, SEXES, &c.sex),
        c.age.to_string(),
        if c.young {
            t.get("dispatch-yes")
        } else {
            t.get("dispatch-no")
        },
        c.id_number.clone(),
        c.phone.clone().unwrap_or_default(),
        c.source_name.clone().unwrap_or_default(),
        c.home_village.clone().unwrap_or_default(),
        c.home_village_name.clone().unwrap_or_default(),
        skill_labels(t, skills, &c.skills),
        residency,
        illustrative_cell(t, c.illustrative),
    ]
}

/// GET /cadres.xlsx — the roster in the caller's scope, masked.
async fn roster_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<RosterQuery>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let ages = AgeRule {
        on: chrono::Utc::now().date_naive(),
        young_max_age: state.config.young_max_age,
    };
    let filter = CadreFilter {
        under: q.under,
        q: q.q,
        skill: q.skill,
        ..Default::default()
    };
    export(&state, t, "cadres.xlsx", move |c| {
        let skills = cadres::skills(c)?;
        stream_workbook(&t.get("nav-cadres"), &headers(t, &ROSTER_HEADERS), |limit, offset| {
            let (rows, _) = cadres::cadres(c, &access, &filter, ages, limit, offset)?;
            Ok(rows.into_iter().map(|r| roster_row(t, &skills, r)).collect())
        })
    })
    .await
}

/// Query of exports restricted to a division subtree.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UnderQuery {
    under: Option<String>,
}

const NEEDS_HEADERS: [&str; 5] = [
    "needs-col-village-code",
    "needs-col-skill",
    "needs-col-priority",
    "needs-col-village-name",
    "col-town",
];

/// GET /needs.xlsx — village needs in the caller's scope, one row per village and skill.
async fn needs_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<UnderQuery>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    export(&state, t, "needs.xlsx", move |c| {
        let skills = cadres::skills(c)?;
        let villages = cadres::needs(c, &access, q.under.as_deref())?;
        let mut rows = Vec::new();
        for v in villages {
            for n in &v.needs {
                rows.push(vec![
                    v.village_code.clone(),
                    skill_labels(t, &skills, std::slice::from_ref(&n.skill)),
                    n.priority.to_string(),
                    v.village_name.clone().unwrap_or_default(),
                    v.town_name.clone().unwrap_or_default(),
                ]);
            }
        }
        stream_rows(&t.get("needs-title"), &headers(t, &NEEDS_HEADERS), rows)
    })
    .await
}

const PLAN_HEADERS: [&str; 11] = [
    "needs-col-village-code",
    "dispatch-col-village",
    "col-town",
    "dispatch-col-cadre",
    "dispatch-col-cadre-age",
    "dispatch-col-source",
    "cadre-col-skills",
    "dispatch-col-score",
    "dispatch-col-why",
    "dispatch-pinned",
    "dispatch-col-total",
];

/// The plan's rows as the caller may see them (villages outside the scope and the total of a
/// county the caller does not cover are withheld by the data layer).
fn plan_rows(t: Tr, skills: &[Skill], plan: &batch::Plan) -> Vec<Vec<String>> {
    let lang = t.lang().code();
    let mut rows: Vec<Vec<String>> = plan
        .pairs
        .iter()
        .map(|p| {
            vec![
                p.village_code.clone().unwrap_or_default(),
                p.village_name.clone().unwrap_or_default(),
                p.town_name.clone().unwrap_or_default(),
                p.cadre_name.clone(),
                p.cadre_age.to_string(),
                p.cadre_source.clone().unwrap_or_default(),
                skill_labels(t, skills, &p.cadre_skills),
                p.score.to_string(),
                p.breakdown.words(lang),
                if p.pinned { t.get("dispatch-yes") } else { String::new() },
                String::new(),
            ]
        })
        .collect();
    if let Some(sum) = plan.total_score.filter(|_| !plan.pairs.is_empty()) {
        let mut total = vec![String::new(); PLAN_HEADERS.len()];
        total[0] = t.get("dispatch-col-total");
        total[10] = sum.to_string();
        rows.push(total);
    }
    rows
}

/// GET /dispatch/{id}/plan.xlsx — a batch's stored plan with each pair's score breakdown and
/// the total; 404 like a missing batch outside the scope.
async fn plan_xlsx(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    export(&state, t, "plan.xlsx", move |c| {
        let plan = batch::stored_plan(c, &access, id)?.ok_or(AppError::NotFound)?;
        let skills = cadres::skills(c)?;
        let rows = plan_rows(t, &skills, &plan);
        stream_rows(&plan.batch.name, &headers(t, &PLAN_HEADERS), rows)
    })
    .await
}

/// Query of the work log export.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogsQuery {
    under: Option<String>,
    batch: Option<i64>,
    cadre: Option<i64>,
}

const LOG_HEADERS: [&str; 7] = [
    "dispatch-col-cadre",
    "needs-col-village-code",
    "dispatch-col-village",
    "res-date",
    "res-log-content",
    "res-entered-by",
    "illustrative",
];

/// GET /work-logs.xlsx — work logs of the residencies in the caller's scope (optionally of one
/// batch, one cadre or one town), by village, cadre and date.
async fn logs_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<LogsQuery>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let filter = ResidencyFilter {
        under: q.under,
        batch_id: q.batch,
        cadre_id: q.cadre,
        on: None,
    };
    export(&state, t, "work-logs.xlsx", move |c| {
        stream_workbook(&t.get("res-logs"), &headers(t, &LOG_HEADERS), |limit, offset| {
            let logs = residency::scoped_work_logs(c, &access, &filter, limit, offset)?;
            let names = division_names(c, logs.iter().map(|l| l.village_code.clone()))?;
            Ok(logs
                .into_iter()
                .map(|l| {
                    vec![
                        l.cadre_name,
                        l.village_code.clone(),
                        names.get(&l.village_code).cloned().unwrap_or_default(),
                        l.log.date.to_string(),
                        l.log.content,
                        l.log.created_by,
                        illustrative_cell(t, l.log.illustrative),
                    ]
                })
                .collect())
        })
    })
    .await
}
