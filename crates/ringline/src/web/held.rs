//! Held import rows on the web ([`crate::import::held`]): the list a county user decides from
//! (`GET /import/held`, `GET /api/v1/import/held`), and the decision — transfer the record or
//! discard the row (`POST /import/held/{id}`, `POST /api/v1/import/held/{id}`). The data layer
//! scopes both (a row is shown only to callers who see both its places) and masks personal data;
//! deciding needs [`Permission::Import`] (the route guard and the data layer check it).

use askama::Template;
use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Chrome, error_page, html};
use super::{ApiUser, AppError, AppState, Guard, PageUser, Route, route};
use crate::access::Permission;
use crate::import::held::{self, Decision, HeldError, HeldRow};

/// Held-row routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    let imp = Perm(Permission::Import);
    vec![
        route(M::GET, "/import/held", Login, get(held_page)),
        route(M::POST, "/import/held/{id}", imp, post(decide_form)),
        route(M::GET, "/api/v1/import/held", Login, get(api_held)),
        route(M::POST, "/api/v1/import/held/{id}", imp, post(api_decide)),
    ]
}

/// The web error for a refused decision.
fn app_error(e: HeldError) -> AppError {
    match e {
        HeldError::Db(e) => AppError::from(e),
        HeldError::Forbidden => AppError::Forbidden,
        HeldError::NotFound => AppError::NotFound,
        HeldError::Stale(message) => AppError::BadRequest {
            code: "held-row-stale",
            message,
        },
    }
}

#[derive(Template)]
#[template(path = "held.html")]
struct HeldPage {
    c: Chrome,
    rows: Vec<(HeldRow, String)>,
    can_decide: bool,
}

async fn held_page(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| held::list(c, &access)).await {
        Ok(rows) => html(&HeldPage {
            c: Chrome::of(&u),
            rows: rows
                .into_iter()
                .map(|r| {
                    let kind = u.t.get(&format!("held-kind-{}", r.kind));
                    (r, kind)
                })
                .collect(),
            can_decide: u.access.can(Permission::Import),
        }),
        Err(e) => error_page(u.t, e.into()),
    }
}

/// The decision form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `transfer` (apply the row to the record) or `discard` (drop the row).
    pub decision: String,
}

fn decision(b: &DecisionBody) -> Result<Decision, AppError> {
    Decision::parse(&b.decision).ok_or_else(|| AppError::BadRequest {
        code: "invalid-decision",
        message: "decision must be transfer or discard".into(),
    })
}

/// POST /import/held/{id} — transfers or discards a held row, then back to the list.
async fn decide_form(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<DecisionBody>,
) -> Response {
    let d = match decision(&f) {
        Ok(d) => d,
        Err(e) => return error_page(u.t, e),
    };
    let access = u.access.clone();
    match state.db.run(move |c| held::decide(c, &access, id, d)).await {
        Ok(()) => Redirect::to("/import/held").into_response(),
        Err(e) => error_page(u.t, app_error(e)),
    }
}

/// GET /api/v1/import/held — the held import rows the caller sees (both places in their scope),
/// ID numbers and phones masked.
#[utoipa::path(get, path = "/api/v1/import/held", responses((status = 200, body = Vec<HeldRow>), (status = 401)))]
pub async fn api_held(State(state): State<AppState>, u: ApiUser) -> Result<Json<Vec<HeldRow>>, AppError> {
    let access = u.access.clone();
    Ok(Json(state.db.run(move |c| held::list(c, &access)).await?))
}

/// POST /api/v1/import/held/{id} — `{"decision": "transfer"}` applies the row to the record
/// (audited as a transfer), `{"decision": "discard"}` drops it; 204. 404 for a row the caller
/// does not see; 422 `held-row-stale` when the record or the row's organization or source is
/// gone.
#[utoipa::path(
    post,
    path = "/api/v1/import/held/{id}",
    params(("id" = i64, Path, description = "Held row id")),
    request_body = DecisionBody,
    responses((status = 204), (status = 403), (status = 404), (status = 422))
)]
pub async fn api_decide(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> Result<StatusCode, AppError> {
    let d = decision(&b)?;
    let access = u.access.clone();
    state
        .db
        .run(move |c| held::decide(c, &access, id, d).map_err(app_error))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
