//! The web layer: HTML pages (askama templates, zh-CN/en) and the JSON API under `/api/v1`.
//! Only this module knows HTTP. Each feature module exposes a `router()`; they are merged in
//! [`router`]. Sessions are read by extractors ([`PageUser`], [`ApiUser`]), never by handlers.

pub mod api;
pub mod map;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::{self, SessionUser};
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
            AppError::BadRequest { code, .. } => code,
            AppError::Internal(_) => "internal",
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Message for users in `lang` (the English message for request errors that carry their
    /// own text).
    pub fn message(&self, t: Tr) -> String {
        match self {
            AppError::BadRequest { message, .. } => message.clone(),
            other => t.get(&format!("error-{}", other.code())),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(e.to_string())
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
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.message(Tr(Lang::En)),
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

/// The language of a request: the language cookie, else `Accept-Language`.
pub fn request_lang(parts: &Parts) -> Lang {
    let jar = CookieJar::from_headers(&parts.headers);
    if let Some(l) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return l;
    }
    Lang::from_accept_language(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

async fn session_from_parts(parts: &Parts, state: &AppState) -> Result<Option<(String, SessionUser)>, AppError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let t = token.clone();
    let user = state
        .db
        .run(move |c| auth::session_user(c, &t))
        .await
        .map_err(AppError::from)?;
    Ok(user.map(|u| (token, u)))
}

/// The logged-in user of an API request; 401 JSON otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The user.
    pub user: SessionUser,
    /// The raw session token.
    pub token: String,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session_from_parts(parts, state).await? {
            Some((token, user)) => Ok(ApiUser { user, token }),
            None => Err(AppError::Unauthorized),
        }
    }
}

/// The logged-in user of a page request, with the page language; redirects to the login page
/// otherwise.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// The user.
    pub user: SessionUser,
    /// Translator for the request's language.
    pub t: Tr,
    /// Request path (for the language switch).
    pub path: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let t = Tr(request_lang(parts));
        let path = parts.uri.path().to_string();
        match session_from_parts(parts, state).await {
            Ok(Some((_, user))) => Ok(PageUser { user, t, path }),
            Ok(None) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                Err(Redirect::to(&format!("/login?next={}", urlencode(next))).into_response())
            }
            Err(e) => Err(pages::error_page(t, e)),
        }
    }
}

/// The language of a request for pages that need no login.
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Tr);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(Tr(request_lang(parts))))
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

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
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
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(8 * 1024 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// A bound, ready-to-run server (port 0 picks a free port, as tests do).
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Binds `config.bind` with a router over `db`.
    pub async fn bind(config: Config, db: Db) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(&config.bind).await?;
        let state = AppState {
            db,
            config: Arc::new(config),
        };
        Ok(Server {
            listener,
            app: router(state),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the future `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
