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
use super::registry::{coverage_by, lacking, member_filter, org_filter, redact_member, unit_filter};
use super::{ApiUser, AppError, AppState, ErrorBody, Guard, Route, route};
use crate::access::Permission;
use crate::registry::coverage::{self, CoverageRow};
use crate::registry::query::{self, Member, PartyOrg, Unit};
use crate::zones;

/// Registry API routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    vec![
        route(M::GET, "/api/v1/units", Login, get(list_units)),
        route(M::GET, "/api/v1/units/{id}", Login, get(get_unit)),
        route(M::GET, "/api/v1/orgs", Login, get(list_orgs)),
        route(M::GET, "/api/v1/orgs/{id}", Login, get(get_org)),
        route(M::GET, "/api/v1/members", Login, get(list_members)),
        route(M::GET, "/api/v1/members/{id}", Login, get(get_member)),
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

/// A page of party organizations.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgList {
    /// The organizations, ordered by code.
    pub items: Vec<PartyOrg>,
    /// Total matching.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

/// A page of members (ID numbers and phones masked; `home_community` is absent when it lies
/// outside the caller's scope, its name is given).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberList {
    /// The members, ordered by division code and name.
    pub items: Vec<Member>,
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

/// Query of the unit list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Only this kind: `agency`, `soe`, `non_public_enterprise`, `social_organization`,
    /// `cooperative`, `market`, `village_committee` or `other`.
    #[param(schema_with = super::openapi::unit_kind_param)]
    pub kind: Option<String>,
    /// Only units within this division subtree (a town or village code).
    #[param(schema_with = super::openapi::division_code_param)]
    pub under: Option<String>,
    /// Only units whose name contains this text.
    pub q: Option<String>,
    /// `true`: only non-public enterprises and social organizations without organization
    /// coverage.
    pub uncovered: Option<bool>,
}

/// List units in the caller's scope.
#[utoipa::path(get, path = "/api/v1/units", params(UnitQuery, Paging), tag = "registry",
    responses((status = 200, body = UnitList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<UnitQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<UnitList>, AppError> {
    let filter = unit_filter(&q.kind, &q.under, &q.q, q.uncovered)?;
    let (limit, offset) = p.checked()?;
    let access = u.access;
    let (items, total) = state
        .db
        .run(move |c| query::units(c, &access, &filter, limit, offset))
        .await?;
    Ok(Json(UnitList {
        items,
        total,
        limit,
        offset,
    }))
}

/// One unit (404 when unknown or outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/units/{id}", params(("id" = i64, Path)), tag = "registry",
    responses((status = 200, body = Unit), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_unit(State(state): State<AppState>, u: ApiUser, Path(id): Path<i64>) -> Result<Json<Unit>, AppError> {
    let access = u.access;
    let unit = state.db.run(move |c| query::unit(c, &access, id)).await?;
    unit.map(Json).ok_or(AppError::NotFound)
}

/// Query of the party organization list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Only this kind: `committee`, `general_branch` or `branch`.
    #[param(schema_with = super::openapi::org_kind_param)]
    pub kind: Option<String>,
    /// Only this establishment mode: `own`, `joint` or `instructor`.
    #[param(schema_with = super::openapi::org_mode_param)]
    pub mode: Option<String>,
    /// Only organizations within this division subtree (a town or village code).
    #[param(schema_with = super::openapi::division_code_param)]
    pub under: Option<String>,
    /// Only organizations whose name contains this text.
    pub q: Option<String>,
}

/// List party organizations in the caller's scope.
#[utoipa::path(get, path = "/api/v1/orgs", params(OrgQuery, Paging), tag = "registry",
    responses((status = 200, body = OrgList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<OrgQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<OrgList>, AppError> {
    let filter = org_filter(&q.kind, &q.mode, &q.under, &q.q)?;
    let (limit, offset) = p.checked()?;
    let access = u.access;
    let (items, total) = state
        .db
        .run(move |c| query::orgs(c, &access, &filter, limit, offset))
        .await?;
    Ok(Json(OrgList {
        items,
        total,
        limit,
        offset,
    }))
}

/// One party organization (404 when unknown or outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/orgs/{id}", params(("id" = i64, Path)), tag = "registry",
    responses((status = 200, body = PartyOrg), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<PartyOrg>, AppError> {
    let access = u.access;
    let org = state.db.run(move |c| query::org(c, &access, id)).await?;
    org.map(Json).ok_or(AppError::NotFound)
}

/// Query of the member list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Only this status: `full` or `probationary`.
    #[param(schema_with = super::openapi::member_status_param)]
    pub status: Option<String>,
    /// Only members listed within this division subtree (a town or village code).
    #[param(schema_with = super::openapi::division_code_param)]
    pub under: Option<String>,
    /// Only members of this party organization (id).
    pub org_id: Option<i64>,
    /// Only members whose name contains this text.
    pub q: Option<String>,
    /// Only members living in this community (a village code; a town code takes its villages).
    #[param(schema_with = super::openapi::division_code_param)]
    pub home_community: Option<String>,
}

/// List members in the caller's scope, with ID numbers and phones masked.
#[utoipa::path(get, path = "/api/v1/members", params(MemberQuery, Paging), tag = "registry",
    responses((status = 200, body = MemberList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<MemberQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<MemberList>, AppError> {
    let filter = member_filter(&q.status, &q.under, q.org_id, &q.q, &q.home_community)?;
    let (limit, offset) = p.checked()?;
    let access = u.access;
    let (items, total) = state
        .db
        .run(move |c| {
            let (items, total) = query::members(c, &access, &filter, limit, offset)?;
            let items = items.into_iter().map(|m| redact_member(&access, m)).collect();
            Ok::<_, AppError>((items, total))
        })
        .await?;
    Ok(Json(MemberList {
        items,
        total,
        limit,
        offset,
    }))
}

/// One member, masked (404 when unknown or outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/members/{id}", params(("id" = i64, Path)), tag = "registry",
    responses((status = 200, body = Member), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_member(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Member>, AppError> {
    let access = u.access;
    let m = state
        .db
        .run(move |c| Ok::<_, AppError>(query::member(c, &access, id)?.map(|m| redact_member(&access, m))))
        .await?;
    m.map(Json).ok_or(AppError::NotFound)
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
