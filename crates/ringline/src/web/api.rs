//! The JSON API under `/api/v1` and its OpenAPI document at `/api/openapi.json`.
//! Every call but `POST /api/v1/session` needs the session cookie; without it the answer is 401
//! with a JSON error. Unsafe calls with a session also need the `X-CSRF-Token` header (the
//! token is returned by `POST /api/v1/session`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum_extra::extract::CookieJar;
use ringline_core::division::Level;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::openapi::StandardAnswers;
use super::{
    ApiUser, AppError, AppState, ClientIp, ErrorBody, Guard, Route, clear_session_cookie, route, session_cookie,
};
use crate::access::Permission;
use crate::audit;
use crate::auth;
use crate::divisions::{self, Division, ListFilter};
use crate::users::{self, NewUser, UserChanges, UserError, UserView};
use crate::zones::{self, OverlapWarning, Program, Zone, ZoneMember};

/// API routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm, Public};
    use Method as M;
    vec![
        route(M::GET, "/api/openapi.json", Public, get(openapi_json)),
        route(M::POST, "/api/v1/session", Public, post(create_session)),
        route(M::GET, "/api/v1/session", Login, get(get_session)),
        route(M::DELETE, "/api/v1/session", Login, delete(delete_session)),
        route(M::GET, "/api/v1/divisions", Login, get(list_divisions)),
        route(M::GET, "/api/v1/divisions/{code}", Login, get(get_division)),
        route(M::GET, "/api/v1/zones/{id}/members", Login, get(zone_members)),
        route(M::GET, "/api/v1/programs/{id}/overlaps", Login, get(program_overlaps)),
        route(M::GET, "/api/v1/users", Perm(Permission::ManageUsers), get(list_users)),
        route(
            M::POST,
            "/api/v1/users",
            Perm(Permission::ManageUsers),
            post(create_user),
        ),
        route(
            M::GET,
            "/api/v1/users/{id}",
            Perm(Permission::ManageUsers),
            get(get_user),
        ),
        route(
            M::PATCH,
            "/api/v1/users/{id}",
            Perm(Permission::ManageUsers),
            patch(update_user),
        ),
        route(
            M::POST,
            "/api/v1/users/{id}/password",
            Perm(Permission::ManageUsers),
            post(reset_user_password),
        ),
        route(
            M::POST,
            "/api/v1/users/{id}/unmask",
            Perm(Permission::Unmask),
            post(unmask_user),
        ),
        route(M::POST, "/api/v1/account/password", Login, post(change_password)),
        route(M::GET, "/api/v1/audit", Perm(Permission::ReadAudit), get(search_audit)),
    ]
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    modifiers(&StandardAnswers),
    info(
        title = "ringline API",
        description = "Party-building demonstration zones: divisions, programs and zones; the registry of units, party organizations and members, and the two coverages."
    ),
    paths(
        create_session,
        get_session,
        delete_session,
        list_divisions,
        get_division,
        zone_members,
        program_overlaps,
        list_users,
        create_user,
        get_user,
        update_user,
        reset_user_password,
        unmask_user,
        change_password,
        search_audit,
        super::registry_api::unmask_member,
        super::registry_api::get_coverage,
        super::registry_api::list_uncovered,
        super::imports::api_import,
        super::imports::api_runs,
        super::imports::api_undo,
        super::imports::template,
        super::held::api_held,
        super::held::api_decide,
        super::dispatch::api_plan,
        super::dispatch::api_run,
        super::economy::api_summary,
        super::economy::api_villages
    ),
    components(schemas(
        Credentials,
        SessionInfo,
        Division,
        DivisionList,
        Program,
        Zone,
        ZoneMember,
        OverlapWarning,
        ErrorBody,
        super::ErrorDetail,
        UserView,
        NewUser,
        UserChanges,
        PasswordBody,
        PasswordChange,
        UnmaskedPhone,
        audit::Entry,
        AuditPage,
        crate::registry::query::Unit,
        crate::registry::query::PartyOrg,
        crate::registry::query::Member,
        crate::registry::coverage::CoverageRow,
        super::imports::ApiReport,
        crate::import::held::HeldRow,
        super::held::DecisionBody,
        crate::cadres::batch::Batch,
        crate::cadres::batch::Breakdown,
        crate::cadres::batch::SkillPoints,
        crate::cadres::batch::PlanJson,
        crate::cadres::batch::PairJson,
        super::registry_api::UnitList,
        super::registry_api::UnmaskedMember,
        super::economy::SummaryApiRow,
        crate::economy::summary::SummaryJson,
        super::economy::VillagesJson,
        crate::economy::query::VillageYear,
        crate::economy::query::SourceAmount,
        crate::import::framework::OnExisting
    ))
)]
pub struct ApiDoc;

async fn openapi_json() -> Response {
    let mut doc = ApiDoc::openapi();
    super::records::add_openapi(&mut doc);
    match doc.to_json() {
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

/// Log in: sets the session cookie. Repeated failures for an account or an address answer 429
/// with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/session", request_body = Credentials, tag = "session",
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(c): Json<Credentials>,
) -> Response {
    let result = state
        .db
        .run(move |conn| auth::login(conn, c.username.trim(), &c.password, &ip))
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
        Err(auth::AuthError::Throttled { retry_after_secs }) => {
            AppError::Throttled { retry_after_secs }.into_response()
        }
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
async fn delete_session(State(state): State<AppState>, u: ApiUser, jar: CookieJar) -> Response {
    let token = u.token.clone();
    if let Err(e) = state.db.run(move |c| auth::logout(c, &token)).await {
        return AppError::from(e).into_response();
    }
    (StatusCode::NO_CONTENT, jar.remove(clear_session_cookie())).into_response()
}

/// Query of the division list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DivisionQuery {
    /// `province`, `city`, `county`, `town` or `village`.
    #[param(schema_with = super::openapi::level_param)]
    pub level: Option<String>,
    /// Only children of this 12-digit code.
    pub parent: Option<String>,
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

/// Largest page of every API list ([`Paging`]).
pub const PAGE_MAX: i64 = 1000;
/// Page size of every API list when `limit` is absent ([`Paging`]).
pub const PAGE_DEFAULT: i64 = 100;

/// Paging of every API list: `limit` rows (1–[`PAGE_MAX`], default [`PAGE_DEFAULT`]) after
/// skipping `offset` rows (0 or more, default 0). Anything that is not a whole number in range
/// (an empty value too) answers 422 (`invalid-limit`, `invalid-offset`) with the allowed range.
/// Handlers take it as a second `Query` beside their filters and call [`Paging::checked`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Rows to return, 1–1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<String>,
    /// Rows to skip, 0 or more (default 0).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64, default = 0)]
    pub offset: Option<String>,
}

impl Paging {
    /// The checked `(limit, offset)`.
    pub fn checked(&self) -> Result<(i64, i64), AppError> {
        let limit = match self.limit.as_deref() {
            None => PAGE_DEFAULT,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=PAGE_MAX).contains(l))
                .ok_or_else(|| {
                    bad(
                        "invalid-limit",
                        format!("limit must be a whole number from 1 to {PAGE_MAX}"),
                    )
                })?,
        };
        let offset = match self.offset.as_deref() {
            None => 0,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or_else(|| bad("invalid-offset", "offset must be a whole number, 0 or more".to_string()))?,
        };
        Ok((limit, offset))
    }
}

/// List divisions in the caller's scope.
#[utoipa::path(get, path = "/api/v1/divisions", params(DivisionQuery, Paging), tag = "divisions",
    responses((status = 200, body = DivisionList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_divisions(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<DivisionQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<DivisionList>, AppError> {
    let level = match q.level.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => Some(l.parse::<Level>().map_err(|_| {
            bad(
                "invalid-level",
                format!("level {l:?} is not one of province, city, county, town, village"),
            )
        })?),
        None => None,
    };
    let (limit, offset) = p.checked()?;
    let filter = ListFilter {
        level,
        parent: q.parent.filter(|p| !p.is_empty()),
        under: None,
        include_retired: false,
    };
    let access = u.access;
    let page = state
        .db
        .run(move |c| {
            let total = divisions::count(c, &access, &filter)?;
            let items = divisions::list(c, &access, &filter, limit, offset)?;
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
    let access = u.access;
    let d = state
        .db
        .run(move |c| divisions::get(c, &access, &code).map_err(AppError::from))
        .await?;
    d.map(Json).ok_or(AppError::NotFound)
}

/// Villages in more than one zone of a program (a data-integrity warning), within the caller's
/// scope.
#[utoipa::path(get, path = "/api/v1/programs/{id}/overlaps", params(("id" = i64, Path)), tag = "programs",
    responses((status = 200, body = [OverlapWarning]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn program_overlaps(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<OverlapWarning>>, AppError> {
    let access = u.access;
    let o = state
        .db
        .run(move |c| {
            zones::program(c, &access, id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>(zones::overlaps(c, &access, id)?)
        })
        .await?;
    Ok(Json(o))
}

/// The member villages of a zone within the caller's scope, each with the reason it is in.
#[utoipa::path(get, path = "/api/v1/zones/{id}/members", params(("id" = i64, Path)), tag = "zones",
    responses((status = 200, body = [ZoneMember]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn zone_members(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ZoneMember>>, AppError> {
    let access = u.access;
    let ms = state
        .db
        .run(move |c| {
            zones::zone(c, &access, id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>(zones::zone_members(c, &access, id)?)
        })
        .await?;
    Ok(Json(ms))
}

impl From<UserError> for AppError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::NotFound => AppError::NotFound,
            UserError::Forbidden => AppError::Forbidden,
            UserError::Db(e) => AppError::from(e),
            other => AppError::BadRequest {
                code: other.code(),
                message: other.to_string(),
            },
        }
    }
}

/// Users the caller manages (scopes within the caller's own).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = [UserView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_users(State(state): State<AppState>, u: ApiUser) -> Result<Json<Vec<UserView>>, AppError> {
    let access = u.access;
    Ok(Json(
        state
            .db
            .run(move |c| users::list(c, &access).map_err(AppError::from))
            .await?,
    ))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser, tag = "users",
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    u: ApiUser,
    Json(n): Json<NewUser>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    let access = u.access;
    let v = state
        .db
        .run(move |c| {
            let id = users::create(c, &access, &n)?;
            users::get(c, &access, id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)), tag = "users",
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(State(state): State<AppState>, u: ApiUser, Path(id): Path<i64>) -> Result<Json<UserView>, AppError> {
    let access = u.access;
    Ok(Json(state.db.run(move |c| users::get(c, &access, id)).await?))
}

/// Change a user: enable/disable, role, scope, name, phone. Unknown fields are refused.
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = UserChanges, tag = "users",
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<UserChanges>,
) -> Result<Json<UserView>, AppError> {
    let access = u.access;
    let v = state
        .db
        .run(move |c| {
            users::update(c, &access, id, &b)?;
            users::get(c, &access, id)
        })
        .await?;
    Ok(Json(v))
}

/// A new password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    /// The new password.
    pub password: String,
}

/// Reset a user's password (ends all their sessions).
#[utoipa::path(post, path = "/api/v1/users/{id}/password", params(("id" = i64, Path)), request_body = PasswordBody, tag = "users",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_user_password(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    Json(b): Json<PasswordBody>,
) -> Result<StatusCode, AppError> {
    let access = u.access;
    state
        .db
        .run(move |c| users::reset_password(c, &access, id, &b.password))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An unmasked phone number.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UnmaskedPhone {
    /// The full number, if any.
    pub phone: Option<String>,
}

/// Show a user's full phone number (audited).
#[utoipa::path(post, path = "/api/v1/users/{id}/unmask", params(("id" = i64, Path)), tag = "users",
    responses((status = 200, body = UnmaskedPhone), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unmask_user(
    State(state): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<UnmaskedPhone>, AppError> {
    let access = u.access;
    let phone = state.db.run(move |c| users::unmask_phone(c, &access, id)).await?;
    Ok(Json(UnmaskedPhone { phone }))
}

/// A change of one's own password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    /// The current password.
    pub current: String,
    /// The new password.
    pub new: String,
}

/// Change one's own password (ends all one's sessions, this one included).
#[utoipa::path(post, path = "/api/v1/account/password", request_body = PasswordChange, tag = "users",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    u: ApiUser,
    jar: CookieJar,
    Json(b): Json<PasswordChange>,
) -> Result<Response, AppError> {
    let access = u.access;
    state
        .db
        .run(move |c| users::change_own_password(c, &access, &b.current, &b.new))
        .await?;
    Ok((StatusCode::NO_CONTENT, jar.remove(clear_session_cookie())).into_response())
}

/// A page of audit entries.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    pub items: Vec<audit::Entry>,
    /// Total matching.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

/// Query of the audit search (its filters; paging is [`Paging`]).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Acting username.
    pub username: Option<String>,
    /// Action.
    pub action: Option<String>,
    /// Entity kind.
    pub entity: Option<String>,
    /// Record id or code.
    pub entity_id: Option<String>,
    /// From date, `YYYY-MM-DD`.
    pub from: Option<chrono::NaiveDate>,
    /// To date, `YYYY-MM-DD`.
    pub to: Option<chrono::NaiveDate>,
}

impl AuditQuery {
    /// The search filters.
    pub fn search(&self) -> audit::Search {
        audit::Search {
            username: self.username.clone(),
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            from: self.from,
            to: self.to,
        }
    }
}

/// Search the audit log.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery, Paging), tag = "audit",
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
async fn search_audit(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<AuditQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<AuditPage>, AppError> {
    let access = u.access;
    let (limit, offset) = p.checked()?;
    let search = q.search();
    let (items, total) = state
        .db
        .run(move |c| audit::search(c, &access, &search, limit, offset).map_err(AppError::from))
        .await?;
    Ok(Json(AuditPage {
        items,
        total,
        limit,
        offset,
    }))
}
