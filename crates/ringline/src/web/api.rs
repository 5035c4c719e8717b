//! The JSON API under `/api/v1` and its OpenAPI document at `/api/openapi.json`.
//! Every call but `POST /api/v1/session` needs the session cookie; without it the answer is 401
//! with a JSON error. Unsafe calls with a session also need the `X-CSRF-Token` header (the
//! token is returned by `POST /api/v1/session`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use ringline_core::division::Level;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::pages::scope_prefix;
use super::{ApiUser, AppError, AppState, ErrorBody, clear_session_cookie, session_cookie};
use crate::auth;
use crate::divisions::{self, Division, ListFilter};
use crate::zones::{self, OverlapWarning, Program, Zone, ZoneMember};

/// API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route(
            "/api/v1/session",
            axum::routing::post(create_session)
                .delete(delete_session)
                .get(get_session),
        )
        .route("/api/v1/divisions", get(list_divisions))
        .route("/api/v1/divisions/{code}", get(get_division))
        .route("/api/v1/programs", get(list_programs))
        .route("/api/v1/programs/{id}", get(get_program))
        .route("/api/v1/zones", get(list_zones))
        .route("/api/v1/zones/{id}", get(get_zone))
        .route("/api/v1/zones/{id}/members", get(zone_members))
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringline API",
        description = "Party-building demonstration zones: divisions, programs and zones."
    ),
    paths(
        create_session,
        get_session,
        delete_session,
        list_divisions,
        get_division,
        list_programs,
        get_program,
        list_zones,
        get_zone,
        zone_members
    ),
    components(schemas(
        Credentials,
        SessionInfo,
        Division,
        DivisionList,
        Program,
        ProgramDetail,
        Zone,
        ZoneMember,
        OverlapWarning,
        ErrorBody,
        super::ErrorDetail
    ))
)]
pub struct ApiDoc;

async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(s) => ([(axum::http::header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => AppError::Internal(e.to_string()).into_response(),
    }
}

/// Login credentials.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The session's user.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// Username.
    pub username: String,
    /// Role (kebab-case).
    pub role: String,
    /// Scope: the division code whose subtree the user sees.
    pub scope: String,
    /// Token to send as `X-CSRF-Token` on unsafe requests.
    pub csrf_token: String,
}

/// Log in: sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", request_body = Credentials, tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
async fn create_session(State(state): State<AppState>, jar: CookieJar, Json(c): Json<Credentials>) -> Response {
    let result = state
        .db
        .run(move |conn| auth::login(conn, c.username.trim(), &c.password))
        .await;
    match result {
        Ok((token, u)) => {
            let info = SessionInfo {
                username: u.username,
                role: u.role,
                scope: u.scope,
                csrf_token: u.csrf_token,
            };
            (jar.add(session_cookie(token, state.config.secure_cookies)), Json(info)).into_response()
        }
        Err(auth::AuthError::BadCredentials) => AppError::BadCredentials.into_response(),
        Err(auth::AuthError::Db(e)) => AppError::from(e).into_response(),
    }
}

/// The current session.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody)))]
async fn get_session(u: ApiUser) -> Json<SessionInfo> {
    Json(SessionInfo {
        username: u.user.username,
        role: u.user.role,
        scope: u.user.scope,
        csrf_token: u.user.csrf_token,
    })
}

/// Log out (needs `X-CSRF-Token`).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn delete_session(State(state): State<AppState>, u: ApiUser, headers: HeaderMap, jar: CookieJar) -> Response {
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if sent != u.user.csrf_token {
        return AppError::Csrf.into_response();
    }
    let token = u.token.clone();
    if let Err(e) = state.db.run(move |c| auth::logout(c, &token)).await {
        return AppError::from(e).into_response();
    }
    (StatusCode::NO_CONTENT, jar.remove(clear_session_cookie())).into_response()
}

/// Query of the division list.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DivisionQuery {
    /// `province`, `city`, `county`, `town` or `village`.
    pub level: Option<String>,
    /// Only children of this 12-digit code.
    pub parent: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    pub offset: Option<i64>,
}

/// A page of divisions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DivisionList {
    /// The divisions, ordered by code.
    pub items: Vec<Division>,
    /// Total matching.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

fn bad(code: &'static str, message: String) -> AppError {
    AppError::BadRequest { code, message }
}

/// List divisions in the caller's scope.
#[utoipa::path(get, path = "/api/v1/divisions", params(DivisionQuery), tag = "divisions",
    responses((status = 200, body = DivisionList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_divisions(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<DivisionQuery>,
) -> Result<Json<DivisionList>, AppError> {
    let level = match q.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(l.parse::<Level>().map_err(|_| {
            bad(
                "invalid-level",
                format!("level {l:?} is not one of province, city, county, town, village"),
            )
        })?),
        None => None,
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(bad(
            "invalid-limit",
            format!("limit must be between 1 and 1000, not {limit}"),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(bad("invalid-offset", format!("offset must be 0 or more, not {offset}")));
    }
    let filter = ListFilter {
        level,
        parent: q.parent.filter(|p| !p.is_empty()),
        under: Some(scope_prefix(&u.user.scope).to_string()),
        include_retired: false,
    };
    let page = state
        .db
        .run(move |c| {
            let total = divisions::count(c, &filter)?;
            let items = divisions::list(c, &filter, limit, offset)?;
            Ok::<_, AppError>(DivisionList {
                items,
                total,
                limit,
                offset,
            })
        })
        .await?;
    Ok(Json(page))
}

/// One division (404 when unknown or outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/divisions/{code}", params(("code" = String, Path, description = "12-digit NBS code")), tag = "divisions",
    responses((status = 200, body = Division), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_division(
    State(state): State<AppState>,
    u: ApiUser,
    Path(code): Path<String>,
) -> Result<Json<Division>, AppError> {
    let scope = scope_prefix(&u.user.scope).to_string();
    let d = state
        .db
        .run(move |c| divisions::get(c, &code).map_err(AppError::from))
        .await?;
    match d {
        Some(d) if d.code.starts_with(&scope) => Ok(Json(d)),
        _ => Err(AppError::NotFound),
    }
}

fn program_visible(p: &Program, scope: &str) -> bool {
    let county = scope_prefix(&p.county_code);
    let s = scope_prefix(scope);
    county.starts_with(s) || s.starts_with(county)
}

/// Programs visible to the caller.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs",
    responses((status = 200, body = [Program]), (status = 401, body = ErrorBody)))]
async fn list_programs(State(state): State<AppState>, u: ApiUser) -> Result<Json<Vec<Program>>, AppError> {
    let ps = state.db.run(|c| zones::programs(c).map_err(AppError::from)).await?;
    Ok(Json(
        ps.into_iter().filter(|p| program_visible(p, &u.user.scope)).collect(),
    ))
}

/// A program with its zones and overlap warnings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgramDetail {
    /// The program.
    pub program: Program,
    /// Its zones with member counts.
    pub zones: Vec<Zone>,
    /// Villages in more than one zone (a data-integrity warning).
    pub overlaps: Vec<OverlapWarning>,
}

/// One program.
#[utoipa::path(get, path = "/api/v1/programs/{id}", params(("id" = i64, Path)), tag = "programs",
    responses((status = 200, body = ProgramDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_program(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ProgramDetail>, AppError> {
    let scope = u.user.scope.clone();
    let d = state
        .db
        .run(move |c| {
            let program = zones::program(c, id)?
                .filter(|p| program_visible(p, &scope))
                .ok_or(AppError::NotFound)?;
            let zones = zones::zones_of(c, id)?;
            let overlaps = zones::overlaps(c, id)?;
            Ok::<_, AppError>(ProgramDetail {
                program,
                zones,
                overlaps,
            })
        })
        .await?;
    Ok(Json(d))
}

/// Query of the zone list.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ZoneQuery {
    /// Only zones of this program.
    pub program: Option<i64>,
}

/// Zones of the visible programs.
#[utoipa::path(get, path = "/api/v1/zones", params(ZoneQuery), tag = "zones",
    responses((status = 200, body = [Zone]), (status = 401, body = ErrorBody)))]
async fn list_zones(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<ZoneQuery>,
) -> Result<Json<Vec<Zone>>, AppError> {
    let scope = u.user.scope.clone();
    let zs = state
        .db
        .run(move |c| {
            let mut out = Vec::new();
            for p in zones::programs(c)?.into_iter().filter(|p| program_visible(p, &scope)) {
                if q.program.is_none_or(|id| id == p.id) {
                    out.extend(zones::zones_of(c, p.id)?);
                }
            }
            Ok::<_, AppError>(out)
        })
        .await?;
    Ok(Json(zs))
}

async fn visible_zone(state: &AppState, scope: String, id: i64) -> Result<Zone, AppError> {
    state
        .db
        .run(move |c| {
            let z = zones::zone(c, id)?.ok_or(AppError::NotFound)?;
            let p = zones::program(c, z.program_id)?.ok_or(AppError::NotFound)?;
            if program_visible(&p, &scope) {
                Ok(z)
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// One zone.
#[utoipa::path(get, path = "/api/v1/zones/{id}", params(("id" = i64, Path)), tag = "zones",
    responses((status = 200, body = Zone), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_zone(State(state): State<AppState>, u: ApiUser, Path(id): Path<i64>) -> Result<Json<Zone>, AppError> {
    Ok(Json(visible_zone(&state, u.user.scope.clone(), id).await?))
}

/// The member villages of a zone within the caller's scope, each with the reason it is in.
#[utoipa::path(get, path = "/api/v1/zones/{id}/members", params(("id" = i64, Path)), tag = "zones",
    responses((status = 200, body = [ZoneMember]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn zone_members(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ZoneMember>>, AppError> {
    visible_zone(&state, u.user.scope.clone(), id).await?;
    let scope = scope_prefix(&u.user.scope).to_string();
    let ms = state
        .db
        .run(move |c| zones::zone_members(c, id).map_err(AppError::from))
        .await?;
    Ok(Json(ms.into_iter().filter(|m| m.code.starts_with(&scope)).collect()))
}
