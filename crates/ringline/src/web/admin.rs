//! Administration pages: users (list, create, disable/enable, reset password, unmask phone),
//! one's own password, and the audit log with its XLSX export. The guards in `pages::routes`
//! admit only roles with the needed permission; the data layer checks again.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::api::{AuditQuery, Paging};
use super::pages::{Chrome, error_page, html};
use super::{AppError, AppState, PageUser, clear_session_cookie};
use crate::audit;
use crate::auth::Role;
use crate::i18n::Tr;
use crate::users::{self, NewUser, UserError, UserView};

/// A user error in the page language (the English text only when no translation exists).
fn user_error(t: Tr, e: UserError) -> String {
    let key = format!("error-{}", e.code());
    let s = t.get(&key);
    if s == key { e.to_string() } else { s }
}

/// Names of scopes (division or zone) for display, keyed by the stored scope string.
fn scope_names(
    conn: &mut crate::db::DbConn,
    access: &crate::access::Access,
    users: &[UserView],
) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    let codes: Vec<String> = users
        .iter()
        .map(|u| u.scope.clone())
        .filter(|s| !s.starts_with("zone:"))
        .collect();
    for d in crate::divisions::get_many(conn, access, &codes)? {
        out.insert(d.code, d.name);
    }
    for u in users {
        if let Some(id) = u.scope.strip_prefix("zone:").and_then(|i| i.parse::<i64>().ok())
            && let Some(z) = crate::zones::zone(conn, access, id)?
        {
            out.insert(u.scope.clone(), z.name);
        }
    }
    Ok(out)
}

fn list_with_names(
    conn: &mut crate::db::DbConn,
    access: &crate::access::Access,
) -> Result<(Vec<UserView>, HashMap<String, String>), AppError> {
    let list = users::list(conn, access)?;
    let names = scope_names(conn, access, &list)?;
    Ok((list, names))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserView>,
    scope_names: HashMap<String, String>,
    roles: Vec<(String, String)>,
    error: Option<String>,
    form: NewUserForm,
}

/// The create-user form as posted.
#[derive(Deserialize, Default, Clone)]
pub struct NewUserForm {
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    scope: String,
    #[serde(default)]
    phone: String,
}

fn roles(t: Tr) -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), t.get(&format!("role-{}", r.as_str()))))
        .collect()
}

/// GET /admin/users
pub async fn users_page(State(state): State<AppState>, u: PageUser) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| list_with_names(c, &access)).await {
        Ok((list, scope_names)) => html(&UsersPage {
            roles: roles(u.t),
            c: Chrome::of(&u),
            users: list,
            scope_names,
            error: None,
            form: NewUserForm {
                role: "viewer".into(),
                ..Default::default()
            },
        }),
        Err(e) => error_page(u.t, e),
    }
}

/// POST /admin/users
pub async fn users_create(State(state): State<AppState>, u: PageUser, Form(f): Form<NewUserForm>) -> Response {
    let access = u.access.clone();
    let n = NewUser {
        username: f.username.clone(),
        password: f.password.clone(),
        role: f.role.clone(),
        scope: f.scope.clone(),
        display_name: f.display_name.clone(),
        phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
    };
    let result = state.db.run(move |c| users::create(c, &access, &n)).await;
    match result {
        Ok(id) => Redirect::to(&format!("/admin/users/{id}")).into_response(),
        Err(e) => {
            let access = u.access.clone();
            let (list, scope_names) = state
                .db
                .run(move |c| list_with_names(c, &access))
                .await
                .unwrap_or_default();
            let page = UsersPage {
                roles: roles(u.t),
                c: Chrome::of(&u),
                users: list,
                scope_names,
                error: Some(user_error(u.t, e)),
                form: NewUserForm {
                    password: String::new(),
                    ..f
                },
            };
            (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    c: Chrome,
    user: UserView,
    roles: Vec<(String, String)>,
    role: String,
    phone: Option<String>,
    message: Option<String>,
    error: Option<String>,
    can_unmask: bool,
}

async fn show_user(
    state: &AppState,
    u: &PageUser,
    id: i64,
    phone: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| users::get(c, &access, id)).await {
        Ok(user) => {
            let status = if error.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let page = UserPage {
                roles: roles(u.t),
                role: u.t.get(&format!("role-{}", user.role)),
                c: Chrome::of(u),
                user,
                phone,
                message,
                error,
                can_unmask: u.access.can(crate::access::Permission::Unmask),
            };
            (status, html(&page)).into_response()
        }
        Err(e) => error_page(u.t, e.into()),
    }
}

/// GET /admin/users/{id}
pub async fn user_page(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    show_user(&state, &u, id, None, None, None).await
}

async fn set_disabled(state: AppState, u: PageUser, id: i64, disabled: bool) -> Response {
    let access = u.access.clone();
    match state
        .db
        .run(move |c| users::set_disabled(c, &access, id, disabled))
        .await
    {
        Ok(()) => {
            let msg = u.t.get(if disabled { "user-disabled" } else { "user-enabled" });
            show_user(&state, &u, id, None, Some(msg), None).await
        }
        Err(e) => show_user(&state, &u, id, None, None, Some(user_error(u.t, e))).await,
    }
}

/// POST /admin/users/{id}/disable
pub async fn user_disable(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    set_disabled(state, u, id, true).await
}

/// POST /admin/users/{id}/enable
pub async fn user_enable(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    set_disabled(state, u, id, false).await
}

/// The password form as posted.
#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// POST /admin/users/{id}/password
pub async fn user_password(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let access = u.access.clone();
    match state
        .db
        .run(move |c| users::reset_password(c, &access, id, &f.password))
        .await
    {
        Ok(()) => show_user(&state, &u, id, None, Some(u.t.get("user-password-reset")), None).await,
        Err(e) => show_user(&state, &u, id, None, None, Some(user_error(u.t, e))).await,
    }
}

/// The edit form of a user as posted.
#[derive(Deserialize)]
pub struct EditForm {
    role: Option<String>,
    scope: Option<String>,
    display_name: Option<String>,
    phone: Option<String>,
}

/// POST /admin/users/{id} — change role, scope, name and phone.
pub async fn user_update(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<EditForm>,
) -> Response {
    let access = u.access.clone();
    // Fields left out (or a role/scope left empty) stay as they are.
    let changes = users::UserChanges {
        role: f.role.filter(|r| !r.trim().is_empty()),
        scope: f.scope.filter(|s| !s.trim().is_empty()),
        display_name: f.display_name,
        // An unchanged masked number means "keep the phone".
        phone: f.phone.filter(|p| !p.contains('*')),
        disabled: None,
    };
    match state.db.run(move |c| users::update(c, &access, id, &changes)).await {
        Ok(()) => show_user(&state, &u, id, None, Some(u.t.get("user-updated")), None).await,
        Err(e) => show_user(&state, &u, id, None, None, Some(user_error(u.t, e))).await,
    }
}

/// POST /admin/users/{id}/unmask
pub async fn user_unmask(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let access = u.access.clone();
    match state.db.run(move |c| users::unmask_phone(c, &access, id)).await {
        Ok(phone) => {
            let phone = Some(phone.unwrap_or_default());
            show_user(&state, &u, id, phone, Some(u.t.get("user-unmask-audited")), None).await
        }
        Err(e) => error_page(u.t, e.into()),
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    error: Option<String>,
}

/// GET /account/password
pub async fn password_form(u: PageUser) -> Response {
    html(&PasswordPage {
        c: Chrome::of(&u),
        error: None,
    })
}

/// The own-password form as posted.
#[derive(Deserialize)]
pub struct OwnPasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// POST /account/password
pub async fn password_change(
    State(state): State<AppState>,
    u: PageUser,
    jar: CookieJar,
    Form(f): Form<OwnPasswordForm>,
) -> Response {
    if f.new != f.confirm {
        let page = PasswordPage {
            error: Some(u.t.get("error-password-mismatch")),
            c: Chrome::of(&u),
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response();
    }
    let access = u.access.clone();
    match state
        .db
        .run(move |c| users::change_own_password(c, &access, &f.current, &f.new))
        .await
    {
        Ok(()) => (jar.remove(clear_session_cookie()), Redirect::to("/login?changed=1")).into_response(),
        Err(e) => {
            let page = PasswordPage {
                error: Some(user_error(u.t, e)),
                c: Chrome::of(&u),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageView {
    c: Chrome,
    entries: Vec<audit::Entry>,
    count_label: String,
    q: AuditForm,
    next: Option<String>,
    prev: Option<String>,
    export: String,
}

/// The audit filters as strings, for refilling the form.
#[derive(Default)]
struct AuditForm {
    username: String,
    action: String,
    entity: String,
    entity_id: String,
    from: String,
    to: String,
}

fn query_string(q: &AuditQuery, offset: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (k, v) in [
        ("username", &q.username),
        ("action", &q.action),
        ("entity", &q.entity),
        ("entity_id", &q.entity_id),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            pairs.push((k, v.clone()));
        }
    }
    if let Some(d) = q.from {
        pairs.push(("from", d.to_string()));
    }
    if let Some(d) = q.to {
        pairs.push(("to", d.to_string()));
    }
    if offset > 0 {
        pairs.push(("offset", offset.to_string()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Rows per audit page.
const AUDIT_PAGE: i64 = 50;

/// GET /audit
pub async fn audit_page(
    State(state): State<AppState>,
    u: PageUser,
    Query(q): Query<AuditQuery>,
    Query(p): Query<Paging>,
) -> Response {
    let offset = match p.checked() {
        Ok((_, offset)) => offset,
        Err(e) => return error_page(u.t, e),
    };
    let search = q.search();
    let access = u.access.clone();
    let (entries, total) = match state
        .db
        .run(move |c| audit::search(c, &access, &search, AUDIT_PAGE, offset))
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(u.t, e.into()),
    };
    let next = (offset + AUDIT_PAGE < total).then(|| query_string(&q, offset + AUDIT_PAGE));
    let prev = (offset > 0).then(|| query_string(&q, (offset - AUDIT_PAGE).max(0)));
    let export = query_string(&q, 0);
    let form = AuditForm {
        username: q.username.clone().unwrap_or_default(),
        action: q.action.clone().unwrap_or_default(),
        entity: q.entity.clone().unwrap_or_default(),
        entity_id: q.entity_id.clone().unwrap_or_default(),
        from: q.from.map(|d| d.to_string()).unwrap_or_default(),
        to: q.to.map(|d| d.to_string()).unwrap_or_default(),
    };
    let count_label = u.t.args("audit-count", &[("count", total.to_string())]);
    html(&AuditPageView {
        c: Chrome::of(&u),
        entries,
        count_label,
        q: form,
        next,
        prev,
        export,
    })
}

/// Most rows in one XLSX export.
const EXPORT_LIMIT: i64 = 100_000;

/// GET /audit.xlsx — the filtered audit log as a workbook (newest first, at most 100,000 rows).
pub async fn audit_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<AuditQuery>) -> Response {
    let search = q.search();
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |c| {
            let (entries, _) = audit::search(c, &access, &search, EXPORT_LIMIT, 0)?;
            audit_workbook(t, &entries).map_err(|e| AppError::Internal(e.to_string()))
        })
        .await;
    match result {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.xlsx\""),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(t, e),
    }
}

/// Writes audit entries to an XLSX workbook with a bold, frozen header row.
pub fn audit_workbook(t: Tr, entries: &[audit::Entry]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let keys = [
        "audit-col-id",
        "col-when",
        "audit-col-user",
        "audit-col-action",
        "audit-col-entity",
        "audit-col-record",
        "audit-col-before",
        "audit-col-after",
        "audit-col-detail",
    ];
    let headers: Vec<String> = keys.iter().map(|k| t.get(k)).collect();
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.username.clone(),
                e.action.clone(),
                e.entity.clone(),
                e.entity_id.clone(),
                e.before_json.clone().unwrap_or_default(),
                e.after_json.clone().unwrap_or_default(),
                e.detail.clone(),
            ]
        })
        .collect();
    super::export::workbook(&t.get("audit-sheet"), &headers, &rows)
}
