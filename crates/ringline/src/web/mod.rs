//! The web layer: HTML pages (askama templates, zh-CN/en) and the JSON API under `/api/v1`.
//! Only this module knows HTTP. Each feature module exposes a `router()`; they are merged in
//! [`router`]. Sessions are read by extractors ([`PageUser`], [`ApiUser`]), never by handlers.

pub mod admin;
pub mod api;
pub mod dispatch;
pub mod dispatch_export;
pub mod economy;
pub mod export;
pub mod held;
pub mod imports;
pub mod map;
pub mod openapi;
pub mod pages;
pub mod records;
pub mod registry;
pub mod registry_api;
pub mod uploads;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::access::{Access, Permission, Scope};
use crate::auth::{self, Role, SessionUser};
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::i18n::{Lang, Tr};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ringline_session";
/// Name of the language cookie (`zh-CN` or `en`).
pub const LANG_COOKIE: &str = "ringline_lang";

/// Shared state of all handlers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Database pool.
    pub db: Db,
    /// Effective configuration.
    pub config: Arc<Config>,
    /// Running and recent import jobs of this instance.
    pub jobs: Arc<imports::Jobs>,
    /// The clock ("today" in China time); fixed in tests.
    pub clock: crate::clock::Clock,
}

/// Errors answered by handlers. Each has a stable code (also the i18n key `error-<code>`);
/// internal errors are logged with their cause and shown only as "internal".
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Unknown record, or one outside the caller's scope (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// No valid session.
    #[error("not logged in")]
    Unauthorized,
    /// Bad credentials at login.
    #[error("wrong username or password")]
    BadCredentials,
    /// The role lacks the permission.
    #[error("your role may not do this")]
    Forbidden,
    /// Too many failed logins.
    #[error("too many failed logins")]
    Throttled {
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// Missing or wrong CSRF token on an unsafe request.
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    /// Invalid request parameters.
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// What to fix.
        message: String,
    },
    /// The database is busy (a long import holds SQLite's write lock).
    #[error("the database is busy")]
    Busy,
    /// Another writer changed the same records first (a unique key taken at the same moment,
    /// or an import's records changed since they were checked): nothing was written; check
    /// again. The stable code is also the i18n key `error-<code>`.
    #[error("changed by someone else at the same moment")]
    Conflict(&'static str),
    /// A request the framework refused before a handler ran (malformed query, path, JSON or
    /// form; wrong content type; body too large).
    #[error("{message}")]
    Rejected {
        /// HTTP status chosen by the framework.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// The framework's explanation (English).
        message: String,
    },
    /// The record cannot change this way (already retired, referred to, changed since).
    #[error("{message}")]
    Refused {
        /// Stable code (also the key `error-<code>` of its translation).
        code: &'static str,
        /// What is wrong (English).
        message: String,
    },
    /// The input has problems, each naming its field.
    #[error("the input has problems")]
    Invalid(Vec<crate::import::Issue>),
    /// Anything else; details go to the log only.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not-found",
            AppError::Unauthorized => "unauthorized",
            AppError::BadCredentials => "bad-credentials",
            AppError::Csrf => "csrf",
            AppError::Forbidden => "forbidden",
            AppError::Throttled { .. } => "too-many-attempts",
            AppError::BadRequest { code, .. } => code,
            AppError::Busy => "busy",
            AppError::Conflict(code) => code,
            AppError::Rejected { code, .. } => code,
            AppError::Refused { code, .. } => code,
            AppError::Invalid(_) => "invalid-input",
            AppError::Internal(_) => "internal",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Csrf | AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Rejected { status, .. } => *status,
            AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Message for users in `lang` (the English message for request errors that carry their
    /// own text).
    pub fn message(&self, t: Tr) -> String {
        match self {
            AppError::BadRequest { message, .. } => message.clone(),
            AppError::Rejected { message, .. } => format!("{} ({message})", t.get("error-invalid-request")),
            AppError::Refused { code, message } => t
                .try_args(&format!("error-{code}"), &[])
                .unwrap_or_else(|| message.clone()),
            AppError::Invalid(issues) => {
                let texts: Vec<String> = issues
                    .iter()
                    .map(|i| {
                        let text = i.text(t);
                        if i.field.is_empty() {
                            text
                        } else {
                            format!("{}: {text}", i.field)
                        }
                    })
                    .collect();
                format!("{} {}", t.get("error-invalid-input"), texts.join(" "))
            }
            AppError::Throttled { retry_after_secs } => t.args(
                "error-too-many-attempts",
                &[("minutes", ((retry_after_secs + 59) / 60).to_string())],
            ),
            other => t.get(&format!("error-{}", other.code())),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_busy() {
            AppError::Busy
        } else if e.is_conflict() {
            AppError::Conflict("conflict")
        } else {
            AppError::Internal(e.to_string())
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(DbError::Query(e))
    }
}

/// JSON error body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Error detail.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `unauthorized`, `not-found`, `invalid-level`.
    pub code: String,
    /// Human-readable message (English).
    pub message: String,
    /// For `invalid-input`: every problem, with the `field` it concerns, a stable `key` and the
    /// `message` (English).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub issues: Vec<crate::import::Issue>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let t = Tr(Lang::En);
        let message = match self {
            AppError::Csrf => t.get("error-csrf-api"),
            _ => self.message(t),
        };
        let issues = match &self {
            AppError::Invalid(issues) => issues.clone(),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                issues,
            },
        };
        let mut resp = (self.status(), Json(body)).into_response();
        if let AppError::Busy = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        if let AppError::Throttled { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The language of a request: the language cookie, else `Accept-Language`.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    let jar = CookieJar::from_headers(headers);
    if let Some(l) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return l;
    }
    Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

/// Who a route is for. Every route is registered with one, in [`routes`], and the guard
/// middleware enforces it before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone (login page, health check, static files).
    Public,
    /// Any logged-in user; data is filtered by their scope.
    Login,
    /// Logged-in users whose role has this permission.
    Perm(Permission),
}

/// One registered route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path pattern (axum syntax, `{param}`).
    pub path: &'static str,
    /// Who may call it.
    pub guard: Guard,
}

/// A route with its handler.
pub type Route = (RouteSpec, MethodRouter<AppState>);

/// Shorthand for building a [`Route`].
pub fn route(method: Method, path: &'static str, guard: Guard, handler: MethodRouter<AppState>) -> Route {
    (RouteSpec { method, path, guard }, handler)
}

/// Every route of the application. The router is built from this list only, so no route can
/// exist without a guard, and the access tests enumerate it.
pub fn routes() -> Vec<Route> {
    let mut r = vec![route(Method::GET, "/healthz", Guard::Public, get(healthz))];
    r.extend(pages::routes());
    r.extend(imports::routes());
    r.extend(held::routes());
    r.extend(registry::routes());
    r.extend(records::routes());
    r.extend(api::routes());
    r.extend(registry_api::routes());
    r.extend(dispatch::routes());
    r.extend(dispatch_export::routes());
    r.extend(economy::routes());
    r
}

/// The specs of [`routes`].
pub fn route_specs() -> Vec<RouteSpec> {
    routes().into_iter().map(|(s, _)| s).collect()
}

/// The logged-in caller, resolved by the guard middleware and read by handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session's user.
    pub user: SessionUser,
    /// Role and scope, for the data layer.
    pub access: Access,
    /// The raw session token.
    pub token: String,
    /// Translator for the request's language.
    pub t: Tr,
    /// Request path (for the language switch).
    pub path: String,
}

/// Page handlers read the caller as `PageUser`.
pub type PageUser = Caller;
/// API handlers read the caller as `ApiUser`.
pub type ApiUser = Caller;

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| AppError::Internal("route without a login guard asked for the caller".into()))
    }
}

/// The language of a request for pages that need no login.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Tr);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(Tr(request_lang(&parts.headers))))
    }
}

/// The client address: the socket peer, or the first `X-Forwarded-For` entry when
/// `trust_proxy` is configured (only behind a proxy that sets it).
pub fn client_ip(headers: &HeaderMap, extensions: &axum::http::Extensions, trust_proxy: bool) -> String {
    if trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return ip.to_string();
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client address of a request (see [`client_ip`]).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(
            &parts.headers,
            &parts.extensions,
            state.config.trust_proxy,
        )))
    }
}

async fn resolve_caller(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, SessionUser, Access)>, AppError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    state
        .db
        .run(move |c| {
            let Some(user) = auth::session_user(c, &token)? else {
                return Ok(None);
            };
            let (Some(role), Ok(scope)) = (Role::parse(&user.role), Scope::parse(&user.scope)) else {
                return Ok(None);
            };
            let access = Access::resolve(c, user.user_id, &user.username, role, scope)?;
            Ok::<_, DbError>(Some((token, user, access)))
        })
        .await
        .map_err(AppError::from)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// An `Origin` header naming another origin than the request's own — another scheme, host or
/// port — or none that can be compared (`null`, no scheme): a cross-site request. The host must
/// equal the `Host` header (case aside). The scheme must be the one the browser used: the
/// proxy's `X-Forwarded-Proto` when `trust_proxy` is set and the header is present, else
/// `https` when `secure_cookies` is set (the setting for HTTPS), else `http` or `https` (a plain
/// deployment, or a proxy not declared; its cookies travel unencrypted either way).
fn cross_origin(headers: &HeaderMap, config: &Config) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some((scheme, origin_host)) = origin.split_once("://") else {
        return true;
    };
    if !origin_host.eq_ignore_ascii_case(host) {
        return true;
    }
    let scheme = scheme.to_ascii_lowercase();
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| config.trust_proxy && !v.is_empty());
    match forwarded {
        Some(proto) => scheme != proto,
        None if config.secure_cookies => scheme != "https",
        None => !matches!(scheme.as_str(), "http" | "https"),
    }
}

/// Largest URL-encoded form body read for the CSRF check (8 MiB); uploads may be larger
/// ([`imports::UPLOAD_LIMIT`], also the limit of every request body).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Checks the CSRF token of an unsafe request: the `X-CSRF-Token` header, or the form field
/// `csrf_token` of a URL-encoded or multipart form (the body is read and put back). Returns the
/// request to pass on, or `None` when the token is missing or wrong.
async fn check_csrf(req: Request, expected: &str) -> Option<Request> {
    if let Some(sent) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return (sent == expected).then_some(req);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if content_type.starts_with("multipart/form-data") {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, imports::UPLOAD_LIMIT).await.ok()?;
        let fields = imports::multipart_fields(&content_type, bytes.clone()).await.ok()?;
        let sent = fields
            .iter()
            .find(|(k, _, _)| k == "csrf_token")
            .map(|(_, _, v)| v.clone());
        return (sent.as_deref() == Some(expected.as_bytes()))
            .then(|| Request::from_parts(parts, axum::body::Body::from(bytes)));
    }
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    if !form {
        return None;
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.ok()?;
    let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|v| v.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v));
    (field.as_deref() == Some(expected)).then(|| Request::from_parts(parts, axum::body::Body::from(bytes)))
}

async fn guard_mw(State((state, guard)): State<(AppState, Guard)>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let t = Tr(request_lang(req.headers()));
    let fail = |e: AppError| {
        if api {
            e.into_response()
        } else {
            pages::error_page(t, e)
        }
    };
    if is_unsafe(req.method()) && cross_origin(req.headers(), &state.config) {
        return fail(AppError::Csrf);
    }
    if guard == Guard::Public {
        return next.run(req).await;
    }
    let (token, user, access) = match resolve_caller(&state, req.headers()).await {
        Ok(Some(c)) => c,
        Ok(None) if api => return AppError::Unauthorized.into_response(),
        Ok(None) => {
            let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return Redirect::to(&format!("/login?next={}", urlencode(next_url))).into_response();
        }
        Err(e) => return fail(e),
    };
    if let Guard::Perm(p) = guard
        && !access.can(p)
    {
        return fail(AppError::Forbidden);
    }
    let mut req = req;
    if is_unsafe(req.method()) {
        match check_csrf(req, &user.csrf_token).await {
            Some(r) => req = r,
            None => return fail(AppError::Csrf),
        }
    }
    let path = req.uri().path().to_string();
    let caller = Caller {
        user,
        access,
        token,
        t,
        path,
    };
    req.extensions_mut().insert(caller.clone());
    let response = next.run(req).await;
    // An error page rendered without the caller (see `pages::error_page`) gets the full frame:
    // the navigation of a logged-in user, so a refused form or a missing record is not a dead
    // end.
    match response.extensions().get::<pages::ErrorShown>().cloned() {
        Some(shown) => pages::error_page_for(&caller, response.status(), shown),
        None => response,
    }
}

/// Percent-encodes a string for a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The session cookie for a new session.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// The session cookie as a removal target (`jar.remove(clear_session_cookie())`).
pub fn clear_session_cookie() -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE).path("/").build()
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    state
        .db
        .run(|c| {
            use diesel::connection::SimpleConnection;
            c.batch_execute("SELECT 1").map_err(DbError::from)
        })
        .await?;
    Ok(Json(Health {
        status: "ok",
        database: state.db.backend().as_str(),
    }))
}

/// Content-Security-Policy of every response: no inline scripts, no framing, nothing loaded
/// from other origins (the product works without internet).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The whole application router: every route of [`routes`] behind its guard, and the security
/// headers on every response.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in routes() {
        let guarded = handler.route_layer(middleware::from_fn_with_state((state.clone(), spec.guard), guard_mw));
        router = router.route(spec.path, guarded);
    }
    let mut router = router
        .fallback(fallback)
        .with_state(state.clone())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ));
    if state.config.secure_cookies {
        router = router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    router
        // Inside `plain_errors`, so an oversized body gets a page or a JSON error too.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(imports::UPLOAD_LIMIT))
        .layer(middleware::from_fn(plain_errors))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// The framework's message with every value it quotes replaced by `…`: a value sent in the
/// wrong shape may be a password or a phone number, and is not repeated. serde quotes strings
/// in double quotes (`invalid type: string "yes"`, with backslash escapes inside) and other
/// values in backticks (`integer `5``, `unknown variant `x``); axum quotes path values in
/// backticks. Kept are names that say what to fix and hold no data: a field name
/// (`missing field `password``), a type (`to a `i64``) and whatever follows "expected" (the
/// allowed variants or tokens, `expected one of `zone`, `town``).
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => {
                // A Debug-formatted string: up to the next unescaped quote.
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"…\"");
            }
            '`' => {
                let keep = out.contains("expected") || ["field ", "to a ", "to an "].iter().any(|p| out.ends_with(p));
                let quoted: String = chars.by_ref().take_while(|c| *c != '`').collect();
                out.push('`');
                out.push_str(if keep { &quoted } else { "…" });
                out.push('`');
            }
            c => out.push(c),
        }
    }
    out
}

/// Turns the framework's plain-text refusals (malformed query, path, form or JSON; wrong content
/// type; body too large) into the product's error format: JSON under `/api/`, a page elsewhere.
async fn plain_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let t = Tr(request_lang(req.headers()));
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() && plain) {
        return resp;
    }
    // A 405 says which methods the path has; the new answer keeps that.
    let allow = resp.headers().get(header::ALLOW).cloned();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = crate::import::shorten(&without_quoted_values(String::from_utf8_lossy(&bytes).trim()), 300);
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        _ => "invalid-request",
    };
    let e = AppError::Rejected { status, code, message };
    let mut resp = if api {
        e.into_response()
    } else {
        pages::error_page(t, e)
    };
    if let Some(allow) = allow {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    resp
}

async fn fallback(req: Request) -> Response {
    let t = Tr(request_lang(req.headers()));
    if req.uri().path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        pages::error_page(t, AppError::NotFound)
    }
}

/// A bound, ready-to-run server (port 0 picks a free port, as tests do).
///
/// HTTP/1.1 through hyper, with two read timeouts so a slow client cannot hold a connection
/// (and its memory) open: the whole request header must arrive within
/// [`Config::header_timeout_secs`] (hyper's `header_read_timeout`; it also ends a kept-alive
/// connection idle for that long), and a request body may pause at most
/// [`Config::body_timeout_secs`] between two chunks (tower-http's `TimeoutBody`; a steady slow
/// upload goes on). Both are logged at debug level only.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: std::time::Duration,
    body_timeout: std::time::Duration,
}

impl Server {
    /// Binds `config.bind` with a router over `db`, and removes the uploads that instances
    /// which no longer run left in the data folder (see [`uploads`]).
    pub async fn bind(config: Config, db: Db) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(&config.bind).await?;
        crate::cadres::set_young_max_age(config.young_max_age);
        let header_timeout = std::time::Duration::from_secs(config.header_timeout_secs);
        let body_timeout = std::time::Duration::from_secs(config.body_timeout_secs);
        let jobs = imports::Jobs::new(config.data_dir().join(uploads::UPLOADS_FOLDER));
        match jobs.remove_leftovers() {
            Ok(0) => {}
            Ok(n) => tracing::info!(instances = n, "removed uploads left by instances that stopped"),
            Err(e) => tracing::warn!(error = %e, "could not remove uploads left by stopped instances"),
        }
        let state = AppState {
            db,
            config: Arc::new(config),
            jobs: Arc::new(jobs),
            clock: crate::clock::Clock::current(),
        };
        Ok(Server {
            listener,
            app: router(state),
            header_timeout,
            body_timeout,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the future `shutdown` completes, then lets the open connections finish
    /// their requests.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(self.header_timeout);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    // The peer left before it was accepted: nothing to do.
                    Err(e) if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                    ) => continue,
                    // Out of file descriptors and the like: wait, rather than spin.
                    Err(e) => {
                        tracing::error!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let (app, body_timeout) = (self.app.clone(), self.body_timeout);
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req =
                    req.map(|b| axum::body::Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)));
                req.extensions_mut().insert(ConnectInfo(remote));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended");
                }
            });
        }
        drop(self.listener);
        graceful.shutdown().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{cross_origin, without_quoted_values};
    use crate::config::Config;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_origin_compares_scheme_host_and_port() {
        let plain = Config::default();
        let https = Config {
            secure_cookies: true,
            ..Config::default()
        };
        let proxied = Config {
            trust_proxy: true,
            ..Config::default()
        };
        let host = ("host", "zone.example:8080");
        // No Origin (same-site navigation of old browsers, command-line clients): allowed.
        assert!(!cross_origin(&headers(&[host]), &plain));
        assert!(!cross_origin(
            &headers(&[host, ("origin", "http://zone.example:8080")]),
            &plain
        ));
        assert!(!cross_origin(
            &headers(&[host, ("origin", "HTTP://Zone.Example:8080")]),
            &plain
        ));
        // Another host or port.
        assert!(cross_origin(
            &headers(&[host, ("origin", "http://evil.example:8080")]),
            &plain
        ));
        assert!(cross_origin(
            &headers(&[host, ("origin", "http://zone.example:8081")]),
            &plain
        ));
        // The same host under a scheme no page of this site has.
        for origin in [
            "ftp://zone.example:8080",
            "chrome-extension://zone.example:8080",
            "null",
            "zone.example:8080",
        ] {
            assert!(cross_origin(&headers(&[host, ("origin", origin)]), &plain), "{origin}");
        }
        // Behind HTTPS (secure cookies), a plain-HTTP page of the same host is another origin.
        assert!(cross_origin(
            &headers(&[host, ("origin", "http://zone.example:8080")]),
            &https
        ));
        assert!(!cross_origin(
            &headers(&[host, ("origin", "https://zone.example:8080")]),
            &https
        ));
        // A trusted proxy says which scheme the browser used.
        let fwd = ("x-forwarded-proto", "https");
        assert!(!cross_origin(
            &headers(&[host, fwd, ("origin", "https://zone.example:8080")]),
            &proxied
        ));
        assert!(cross_origin(
            &headers(&[host, fwd, ("origin", "http://zone.example:8080")]),
            &proxied
        ));
        // An untrusted one is ignored.
        assert!(cross_origin(
            &headers(&[host, fwd, ("origin", "http://zone.example:8080")]),
            &https
        ));
        assert!(!cross_origin(
            &headers(&[
                host,
                ("x-forwarded-proto", "ftp"),
                ("origin", "https://zone.example:8080")
            ]),
            &plain
        ));
    }

    #[test]
    fn quoted_values_are_not_repeated() {
        assert_eq!(
            without_quoted_values("invalid type: integer `13812345678`, expected a string at line 1 column 45"),
            "invalid type: integer `…`, expected a string at line 1 column 45"
        );
        assert_eq!(
            without_quoted_values("missing field `password`"),
            "missing field `password`"
        );
        assert_eq!(
            without_quoted_values("invalid value: `x` and `y`"),
            "invalid value: `…` and `…`"
        );
        // serde quotes strings in double quotes, escapes included.
        assert_eq!(
            without_quoted_values(r#"invalid type: string "yes", expected a boolean at line 1 column 16"#),
            r#"invalid type: string "…", expected a boolean at line 1 column 16"#
        );
        assert_eq!(
            without_quoted_values(r#"invalid type: string "a \"secret\" b", expected i64"#),
            r#"invalid type: string "…", expected i64"#
        );
        // The user's value is dropped, the allowed variants kept.
        assert_eq!(
            without_quoted_values("unknown variant `hunter2`, expected one of `skip`, `update`"),
            "unknown variant `…`, expected one of `skip`, `update`"
        );
        // axum's path refusal: the value goes, the type stays.
        assert_eq!(
            without_quoted_values("Invalid URL: Cannot parse `13812345678x` to a `i64`"),
            "Invalid URL: Cannot parse `…` to a `i64`"
        );
        // An unclosed quote hides the rest.
        assert_eq!(without_quoted_values(r#"bad "1381234"#), r#"bad "…""#);
    }
}
