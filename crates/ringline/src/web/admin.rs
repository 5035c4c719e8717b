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

/// An audit entry as a person reads it: China time, translated action and record kind, the
/// record's name with a link to its page when it is a record kind the reader may open, and
/// each changed field's label with its value before and after.
struct ShownEntry {
    at: String,
    username: String,
    action: String,
    entity: String,
    record: String,
    link: Option<String>,
    changes: Vec<(String, String, String)>,
    detail: String,
}

/// The text of a JSON value in a change list (strings without quotes; nothing for null).
fn value_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The record kind an audit entry's `entity` names, if it is one described by [`crate::kind`].
fn audited_kind(entity: &str) -> Option<crate::kind::KindId> {
    crate::kind::KindId::ALL
        .iter()
        .copied()
        .find(|k| k.desc().entity == entity)
}

/// An audit entry's `entity` in the page language: a record kind's name for one record, else
/// its `audit-entity-*` label.
pub(super) fn entity_name(t: crate::i18n::Tr, entity: &str) -> String {
    audited_kind(entity).map_or_else(|| t.label("audit-entity", entity), |k| k.desc().one(t))
}

/// Builds [`ShownEntry`]s, looking up the names of the records (within the reader's scope).
fn shown_entries(
    conn: &mut crate::db::DbConn,
    access: &crate::access::Access,
    t: crate::i18n::Tr,
    entries: Vec<audit::Entry>,
) -> crate::db::DbResult<Vec<ShownEntry>> {
    let mut names: std::collections::HashMap<(String, String), Option<String>> = Default::default();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let kind = audited_kind(&e.entity);
        let label = |key: &str| match kind {
            Some(k) => {
                let l = k.desc().label(t, key);
                if l == k.desc().label_key(key) {
                    key.to_string()
                } else {
                    l
                }
            }
            None => t.label("audit-field", key),
        };
        let parse = |j: &Option<String>| -> serde_json::Map<String, serde_json::Value> {
            j.as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default()
        };
        let (before, after) = (parse(&e.before_json), parse(&e.after_json));
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.dedup();
        let mut seen = std::collections::HashSet::new();
        let changes = keys
            .into_iter()
            .filter(|k| seen.insert(k.as_str()))
            .filter(|k| before.get(*k) != after.get(*k))
            .map(|k| (label(k), value_text(before.get(k)), value_text(after.get(k))))
            .collect();
        let (record, link) = match kind {
            // An undo names the import it undid (its number), not a record of the kind.
            _ if e.action == "undo" => (
                t.args("audit-import-number", &[("number", e.entity_id.clone())]),
                Some(format!("/import/runs/{}", e.entity_id)),
            ),
            // An import names its file.
            _ if e.action == "import" => (e.entity_id.clone(), None),
            Some(k) if !e.entity_id.is_empty() => {
                let key = (e.entity.clone(), e.entity_id.clone());
                if !names.contains_key(&key) {
                    let name = k
                        .ops()
                        .get_json(conn, access, &e.entity_id)?
                        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string));
                    names.insert(key.clone(), name);
                }
                match names.get(&key).cloned().flatten() {
                    Some(name) => (name, Some(format!("/{}/{}", k.key(), e.entity_id))),
                    None => (e.entity_id.clone(), None),
                }
            }
            _ => (e.entity_id.clone(), None),
        };
        let entity = entity_name(t, &e.entity);
        let action = t.label("audit-action", &e.action);
        out.push(ShownEntry {
            at: crate::clock::in_china(e.at).format("%Y-%m-%d %H:%M:%S").to_string(),
            username: e.username,
            action,
            entity,
            record,
            link,
            changes,
            detail: e.detail,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageView {
    c: Chrome,
    entries: Vec<ShownEntry>,
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
    let t = u.t;
    let (entries, total) = match state
        .db
        .run(move |c| {
            let (entries, total) = audit::search(c, &access, &search, AUDIT_PAGE, offset)?;
            Ok::<_, crate::db::DbError>((shown_entries(c, &access, t, entries)?, total))
        })
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
            super::export::audit_workbook(t, &entries)
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

#[cfg(test)]
mod label_tests {
    use crate::i18n::{Lang, Tr};

    /// Every `action: "…"` and `entity: "…"` written to the audit log in the sources has a
    /// label in both languages (record kinds use their own names), so the audit page never
    /// shows an English code on a Chinese page.
    #[test]
    fn every_audited_action_and_entity_has_a_label() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("src").flatten() {
                let p = e.path();
                if p.is_dir() {
                    sources(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&p).expect("read"));
                }
            }
        }
        let mut texts = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut texts,
        );
        let kinds: Vec<&str> = crate::kind::KindId::ALL.iter().map(|k| k.desc().entity).collect();
        let mut missing = Vec::new();
        for text in &texts {
            for (prefix, pattern) in [("audit-action", "action: \""), ("audit-entity", "entity: \"")] {
                for part in text.split(pattern).skip(1) {
                    let Some(value) = part.split('"').next() else { continue };
                    let plausible =
                        !value.is_empty() && value.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
                    if !plausible || (prefix == "audit-entity" && kinds.contains(&value)) {
                        continue;
                    }
                    for lang in [Lang::Zh, Lang::En] {
                        let key = format!("{prefix}-{value}");
                        if Tr(lang).get(&key) == key {
                            missing.push(format!("{key} ({lang:?})"));
                        }
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "audit labels missing: {missing:?}");
    }
}
