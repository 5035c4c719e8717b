//! The registry's JSON API under `/api/v1` (SPEC C3): units, party organizations, members
//! (masked; unmasking needs the permission and is audited) and the two coverages. The paths are
//! listed in the OpenAPI document of [`super::api`].
//!
//! Lists take their filters and `limit` (1–1000, default 100) and `offset`, and answer
//! `{"items": [...], "total": N, "limit": L, "offset": O}`. A filter value that is not allowed
//! answers 422 with a stable code (`invalid-kind`, `invalid-mode`, `invalid-status`,
//! `invalid-under`, `invalid-home-community`, `invalid-by`, `invalid-lacking`, `invalid-limit`,
//! `invalid-offset`) and a message naming what is allowed. A record that is unknown or outside
//! the caller's scope answers 404.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::api::Paging;
use super::registry::{coverage_by, lacking};
use super::{ApiUser, AppError, AppState, ErrorBody, Guard, Route, route};
use crate::access::Permission;
use crate::registry::coverage::{self, CoverageRow};
use crate::registry::query::{self, Unit};
use crate::zones;

/// Registry API routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    vec![
        route(
            M::POST,
            "/api/v1/members/{id}/unmask",
            Perm(Permission::Unmask),
            post(unmask_member),
        ),
        route(M::GET, "/api/v1/coverage", Login, get(get_coverage)),
        route(M::GET, "/api/v1/coverage/uncovered", Login, get(list_uncovered)),
    ]
}

/// A page of units.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitList {
    /// The units, ordered by division code and name.
    pub items: Vec<Unit>,
    /// Total matching.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

/// A member's unmasked personal data.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnmaskedMember {
    /// Member id.
    pub id: i64,
    /// The full citizen ID number.
    pub id_number: String,
    /// The full phone, if any.
    pub phone: Option<String>,
}

/// A member's full ID number and phone (needs the unmask permission and `X-CSRF-Token`; every
/// call is recorded in the audit log). The answer is not to be cached.
#[utoipa::path(post, path = "/api/v1/members/{id}/unmask", params(("id" = i64, Path)), tag = "registry",
    responses((status = 200, body = UnmaskedMember), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unmask_member(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let access = u.access;
    let (id_number, phone) = state
        .db
        .run(move |c| query::member_unmasked(c, &access, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut resp = Json(UnmaskedMember { id, id_number, phone }).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Query of the coverage table.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// `town` (default), `zone` or `county`.
    #[param(schema_with = super::openapi::coverage_by_param)]
    pub by: Option<String>,
    /// For `by=zone`: the program (default: the first visible program).
    pub program: Option<i64>,
}

/// Organization and work coverage of non-public enterprises and social organizations in the
/// caller's scope, per town, zone or county. Rates are fractions from 0 to 1, absent for a
/// group without such units.
#[utoipa::path(get, path = "/api/v1/coverage", params(CoverageQuery), tag = "registry",
    responses((status = 200, body = [CoverageRow]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_coverage(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<CoverageQuery>,
) -> Result<Json<Vec<CoverageRow>>, AppError> {
    let by = coverage_by(&q.by)?;
    let access = u.access;
    let rows = state
        .db
        .run(move |c| {
            if let Some(id) = q.program {
                zones::program(c, &access, id)?.ok_or(AppError::NotFound)?;
            }
            Ok::<_, AppError>(coverage::coverage(c, &access, by, q.program)?)
        })
        .await?;
    Ok(Json(rows))
}

/// Query of the list of uncovered units.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UncoveredQuery {
    /// The coverage the units lack: `organization` (default) or `work`.
    #[param(schema_with = super::openapi::lacking_param)]
    pub lacking: Option<String>,
    /// Only units within this division subtree (a town or village code).
    #[param(schema_with = super::openapi::division_code_param)]
    pub under: Option<String>,
}

/// Non-public enterprises and social organizations in the caller's scope lacking organization
/// or work coverage.
#[utoipa::path(get, path = "/api/v1/coverage/uncovered", params(UncoveredQuery, Paging), tag = "registry",
    responses((status = 200, body = UnitList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_uncovered(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<UncoveredQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<UnitList>, AppError> {
    let kind = lacking(&q.lacking)?;
    let under = super::registry::division_code("under", "invalid-under", &q.under)?;
    let (limit, offset) = p.checked()?;
    let access = u.access;
    let (items, total) = state
        .db
        .run(move |c| coverage::uncovered(c, &access, Some(kind), under, limit, offset))
        .await?;
    Ok(Json(UnitList {
        items,
        total,
        limit,
        offset,
    }))
}
