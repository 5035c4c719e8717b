//! The XLSX export of a dispatch batch's plan (SPEC C7): every pair's breakdown and the total.
//! It reads through the scoped data layer with the caller's `Access`, so it holds exactly what
//! the caller's batch page shows: a plan's villages outside the caller's scope have their codes
//! withheld (as in the plan API), and the total of a county the caller does not cover too. The
//! roster, village needs and work logs export through their record kinds' generic exports
//! (`/cadres.xlsx`, `/needs.xlsx` — headed like the `needs` import, so an edited copy imports
//! back —, `/work_logs.xlsx`).

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;

use super::dispatch::skill_labels;
use super::export::{export, headers, rows_workbook};
use super::{AppError, AppState, Guard, PageUser, Route, route};
use crate::cadres::batch;
use crate::cadres::{self, Skill};
use crate::i18n::Tr;
use crate::kind::export::Cell;

/// Export routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::Login;
    use Method as M;
    vec![route(M::GET, "/dispatch/{id}/plan.xlsx", Login, get(plan_xlsx))]
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
fn plan_rows(t: Tr, skills: &[Skill], plan: &batch::Plan) -> Vec<Vec<Cell>> {
    let lang = t.lang().code();
    let text = |s: Option<&String>| s.map_or(Cell::Empty, |s| Cell::Text(s.clone()));
    let mut rows: Vec<Vec<Cell>> = plan
        .pairs
        .iter()
        .map(|p| {
            vec![
                p.village_code.clone().map_or(Cell::Empty, Cell::Code),
                text(p.village_name.as_ref()),
                text(p.town_name.as_ref()),
                Cell::Text(p.cadre_name.clone()),
                Cell::Int(i64::from(p.cadre_age)),
                text(p.cadre_source.as_ref()),
                Cell::Text(skill_labels(t, skills, &p.cadre_skills)),
                Cell::Int(p.score),
                Cell::Text(p.breakdown.words(lang)),
                if p.pinned {
                    Cell::Text(t.get("dispatch-yes"))
                } else {
                    Cell::Empty
                },
                Cell::Empty,
            ]
        })
        .collect();
    if let Some(sum) = plan.total_score.filter(|_| !plan.pairs.is_empty()) {
        let mut total = vec![Cell::Empty; PLAN_HEADERS.len()];
        total[0] = Cell::Text(t.get("dispatch-col-total"));
        total[10] = Cell::Int(sum);
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
        rows_workbook(&plan.batch.name, t, headers(t, &PLAN_HEADERS), rows)
    })
    .await
}
