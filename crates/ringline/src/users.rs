//! User administration (SPEC C10): create users with a role and a scope, list them, disable and
//! enable them, reset and change passwords. Every change is checked against the acting user's
//! [`Access`] (only roles with [`Permission::ManageUsers`], only scopes within their own) and
//! written to the audit log in the same transaction. Passwords never reach the log.

use diesel::prelude::*;
use ringline_core::mask::mask_phone;
use serde::Serialize;

use crate::access::{Access, Permission, Scope, zone_counties};
use crate::audit::{self, Change};
use crate::auth::{Role, hash_password, verify_password};
use crate::db::schema::{divisions, sessions, users, zones};
use crate::db::{DbConn, DbError, now};

/// Shortest accepted password (NIST SP 800-63B asks for at least 8; we ask for 10).
pub const MIN_PASSWORD_LEN: usize = 10;

/// A user as listed (no password hash; the phone masked unless unmasked explicitly).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// Role, kebab-case.
    pub role: String,
    /// Scope: a division code or `zone:ID`.
    pub scope: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Phone, masked (`138****5678`).
    pub phone_masked: Option<String>,
    /// Created (UTC).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
    /// Last successful login (UTC).
    #[schema(value_type = Option<String>)]
    pub last_login_at: Option<chrono::NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct Row {
    id: i64,
    username: String,
    role: String,
    scope: String,
    disabled: bool,
    created_at: chrono::NaiveDateTime,
    display_name: String,
    phone: Option<String>,
    last_login_at: Option<chrono::NaiveDateTime>,
}

impl From<Row> for UserView {
    fn from(r: Row) -> Self {
        UserView {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
            scope: r.scope,
            disabled: r.disabled,
            phone_masked: r.phone.as_deref().map(mask_phone),
            created_at: r.created_at,
            last_login_at: r.last_login_at,
        }
    }
}

/// A new user.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    /// Login name: 2–32 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// Password, at least [`MIN_PASSWORD_LEN`] characters.
    pub password: String,
    /// Role, kebab-case (`town-admin` …).
    pub role: String,
    /// Scope: a 12-digit division code or `zone:ID`.
    pub scope: String,
    /// Full name.
    #[serde(default)]
    pub display_name: String,
    /// Mobile phone (personal data: stored, shown masked).
    #[serde(default)]
    pub phone: Option<String>,
}

/// Why a user change was refused. Each has a stable code ([`UserError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Bad username.
    #[error("username {0:?} must be 2–32 letters, digits, '.', '_' or '-'")]
    InvalidUsername(String),
    /// Too short or trivial.
    #[error("the password must have at least {MIN_PASSWORD_LEN} characters and not be one repeated character")]
    WeakPassword,
    /// Taken.
    #[error("the username {0:?} is already taken")]
    Duplicate(String),
    /// Unknown role.
    #[error(
        "unknown role {0:?}; use county-admin, town-admin, village-reporter, unit-admin, dispatched-cadre or viewer"
    )]
    UnknownRole(String),
    /// Malformed scope.
    #[error("scope {0:?} is neither a 12-digit division code nor zone:ID")]
    BadScope(String),
    /// The scope names nothing that exists.
    #[error("scope {0:?} names no active division or zone")]
    UnknownScope(String),
    /// The scope lies outside the acting user's own.
    #[error("you may only give scopes within your own")]
    ScopeNotGrantable,
    /// The acting user lacks the permission.
    #[error("your role may not manage users")]
    Forbidden,
    /// No such user (or outside the acting user's scope).
    #[error("no such user")]
    NotFound,
    /// The old password was wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// A bad display name.
    #[error("name: {0}")]
    BadName(ringline_core::text::NameError),
    /// A phone number that is not 5–20 digits (with optional +, - or spaces). The value is not
    /// repeated in the message: it is personal data.
    #[error("the phone number is not valid: use 5–20 digits, optionally with +, - or spaces")]
    BadPhone,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for UserError {
    fn from(e: diesel::result::Error) -> Self {
        UserError::Db(DbError::Query(e))
    }
}

impl UserError {
    /// Stable code (also the i18n key `error-<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            UserError::InvalidUsername(_) => "invalid-username",
            UserError::WeakPassword => "weak-password",
            UserError::Duplicate(_) => "duplicate-username",
            UserError::UnknownRole(_) => "unknown-role",
            UserError::BadScope(_) => "bad-scope",
            UserError::UnknownScope(_) => "unknown-scope",
            UserError::ScopeNotGrantable => "scope-not-grantable",
            UserError::Forbidden => "forbidden",
            UserError::NotFound => "not-found",
            UserError::WrongPassword => "wrong-password",
            UserError::BadPhone => "bad-phone",
            UserError::BadName(e) => e.key(),
            UserError::Db(_) => "internal",
        }
    }
}

/// Checks a username.
pub fn validate_username(s: &str) -> Result<(), UserError> {
    let n = s.chars().count();
    if (2..=32).contains(&n) && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        Ok(())
    } else {
        Err(UserError::InvalidUsername(s.to_string()))
    }
}

/// Checks a new password.
pub fn validate_password(p: &str) -> Result<(), UserError> {
    let mut chars = p.chars();
    let first = chars.next();
    if p.chars().count() < MIN_PASSWORD_LEN || first.is_some_and(|f| p.chars().all(|c| c == f)) {
        return Err(UserError::WeakPassword);
    }
    Ok(())
}

fn validate_phone(p: &str) -> Result<String, UserError> {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let ok = p.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ')) && (5..=20).contains(&digits);
    if ok {
        Ok(p.trim().to_string())
    } else {
        Err(UserError::BadPhone)
    }
}

fn scope_exists(conn: &mut DbConn, scope: &Scope) -> Result<bool, UserError> {
    Ok(match scope {
        Scope::All => false,
        Scope::Division(c) => {
            divisions::table
                .filter(divisions::code.eq(c.as_str()).and(divisions::status.eq("active")))
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
        Scope::Zone(id) => zones::table.filter(zones::id.eq(id)).count().get_result::<i64>(conn)? > 0,
    })
}

fn require(by: &Access) -> Result<(), UserError> {
    if by.can(Permission::ManageUsers) {
        Ok(())
    } else {
        Err(UserError::Forbidden)
    }
}

fn load(conn: &mut DbConn, id: i64) -> Result<Option<Row>, UserError> {
    Ok(users::table.find(id).select(Row::as_select()).first(conn).optional()?)
}

/// A user the acting user may manage (their scope lies within the actor's), else `NotFound`.
fn managed(conn: &mut DbConn, by: &Access, id: i64) -> Result<Row, UserError> {
    let row = load(conn, id)?.ok_or(UserError::NotFound)?;
    let scope = Scope::parse(&row.scope).map_err(|_| UserError::NotFound)?;
    let zones = zone_counties(conn)?;
    if by.may_grant(&scope, &zones) {
        Ok(row)
    } else {
        Err(UserError::NotFound)
    }
}

fn snapshot(r: &Row) -> serde_json::Value {
    serde_json::json!({
        "username": r.username, "display_name": r.display_name, "role": r.role,
        "scope": r.scope, "disabled": r.disabled,
        "phone": r.phone.as_deref().map(mask_phone),
    })
}

/// The audit scope of a stored scope string: the division's significant code prefix, `zone:ID`
/// for a zone (read by that zone and by readers covering its county, not by every town of the
/// county: [`audit::search`]), or `""`.
fn scope_key(scope: &str) -> String {
    match Scope::parse(scope) {
        Ok(Scope::Division(c)) => c.prefix().to_string(),
        Ok(s @ Scope::Zone(_)) => s.as_string(),
        _ => String::new(),
    }
}

/// The audit scope of a user (by id), from their stored scope.
fn user_key(conn: &mut DbConn, id: i64) -> Result<String, UserError> {
    let scope: String = users::table.find(id).select(users::scope).first(conn)?;
    Ok(scope_key(&scope))
}

/// The audit scope covering two: the same one, else the longest code prefix both share, cut to
/// a level boundary (2, 4, 6, 9 or 12), a zone counting as its county.
fn common_key(conn: &mut DbConn, a: &str, b: &str) -> Result<String, UserError> {
    if a == b {
        return Ok(a.to_string());
    }
    let zones = zone_counties(conn)?;
    let area = |k: &str| match Scope::parse(k) {
        Ok(Scope::Zone(id)) => zones
            .get(&id)
            .and_then(|c| ringline_core::division::DivisionCode::parse(c).ok())
            .map(|c| c.prefix().to_string())
            .unwrap_or_default(),
        _ => k.to_string(),
    };
    let (a, b) = (area(a), area(b));
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let n = [12, 9, 6, 4, 2, 0].into_iter().find(|&l| l <= n).unwrap_or(0);
    Ok(a[..n].to_string())
}

/// Records a change to user `id` in the audit log, under the user's own area (`scope`
/// overrides it, e.g. when a change moves the user between areas).
fn audit_user(conn: &mut DbConn, by: &Access, id: i64, scope: Option<String>, c: Change<'_>) -> Result<(), UserError> {
    let id_text = id.to_string();
    let scope = match scope {
        Some(s) => s,
        None => user_key(conn, id)?,
    };
    audit::record(
        conn,
        by,
        Change {
            entity: "user",
            entity_id: &id_text,
            scope,
            ..c
        },
    )?;
    Ok(())
}

/// Creates a user; returns the id.
pub fn create(conn: &mut DbConn, by: &Access, u: &NewUser) -> Result<i64, UserError> {
    require(by)?;
    let username = u.username.trim();
    validate_username(username)?;
    validate_password(&u.password)?;
    let role = Role::parse(u.role.trim()).ok_or_else(|| UserError::UnknownRole(u.role.clone()))?;
    let scope = Scope::parse(&u.scope).map_err(|_| UserError::BadScope(u.scope.clone()))?;
    if !by.may_grant(&scope, &zone_counties(conn)?) {
        return Err(UserError::ScopeNotGrantable);
    }
    let display_name = match u.display_name.trim() {
        "" => String::new(),
        n => ringline_core::text::check_name(n, 60).map_err(UserError::BadName)?,
    };
    let phone = match u.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(validate_phone(p)?),
        None => None,
    };
    let hash = hash_password(&u.password);
    crate::db::write_transaction(conn, |conn| {
        if !scope_exists(conn, &scope)? {
            return Err(UserError::UnknownScope(u.scope.clone()));
        }
        let taken: i64 = users::table
            .filter(users::username.eq(username))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(UserError::Duplicate(username.to_string()));
        }
        let at = now();
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::password_hash.eq(&hash),
                users::role.eq(role.as_str()),
                users::scope.eq(scope.as_string()),
                users::disabled.eq(false),
                users::created_at.eq(at),
                users::password_changed_at.eq(at),
                users::display_name.eq(&display_name),
                users::phone.eq(&phone),
            ))
            .returning(users::id)
            .get_result(conn)?;
        let row = load(conn, id)?.ok_or(UserError::NotFound)?;
        audit_user(
            conn,
            by,
            id,
            None,
            Change {
                action: "create",
                after: Some(snapshot(&row)),
                ..Default::default()
            },
        )?;
        Ok(id)
    })
}

/// Users the acting user may manage, by username.
pub fn list(conn: &mut DbConn, by: &Access) -> Result<Vec<UserView>, UserError> {
    require(by)?;
    let rows: Vec<Row> = users::table
        .order(users::username.asc())
        .select(Row::as_select())
        .load(conn)?;
    let zones = zone_counties(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| Scope::parse(&r.scope).is_ok_and(|s| by.may_grant(&s, &zones)))
        .map(UserView::from)
        .collect())
}

/// One user the acting user may manage.
pub fn get(conn: &mut DbConn, by: &Access, id: i64) -> Result<UserView, UserError> {
    require(by)?;
    Ok(managed(conn, by, id)?.into())
}

/// Usernames of the users the acting user may manage (their scope lies within the actor's).
pub fn usernames_within(conn: &mut DbConn, by: &Access) -> Result<Vec<String>, UserError> {
    let rows: Vec<(String, String)> = users::table.select((users::username, users::scope)).load(conn)?;
    let zones = zone_counties(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, s)| Scope::parse(s).is_ok_and(|s| by.may_grant(&s, &zones)))
        .map(|(u, _)| u)
        .collect())
}

/// The id of a username (for the command line).
pub fn id_of(conn: &mut DbConn, username: &str) -> Result<i64, UserError> {
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(conn)
        .optional()?
        .ok_or(UserError::NotFound)
}

/// Disables or enables a user; disabling ends all their sessions.
pub fn set_disabled(conn: &mut DbConn, by: &Access, id: i64, disabled: bool) -> Result<(), UserError> {
    require(by)?;
    crate::db::write_transaction(conn, |conn| {
        let before = managed(conn, by, id)?;
        if by.user_id == Some(id) && disabled {
            return Err(UserError::Forbidden);
        }
        diesel::update(users::table.find(id))
            .set(users::disabled.eq(disabled))
            .execute(conn)?;
        if disabled {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
        }
        let after = load(conn, id)?.ok_or(UserError::NotFound)?;
        audit_user(
            conn,
            by,
            id,
            None,
            Change {
                action: if disabled { "disable" } else { "enable" },
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

fn set_password(conn: &mut DbConn, id: i64, password: &str) -> Result<(), UserError> {
    let hash = hash_password(password);
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::password_changed_at.eq(now())))
        .execute(conn)?;
    // A password change ends every session of the user.
    diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Changes to a user's account; absent fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    /// Disable (true) or enable (false); disabling ends the user's sessions.
    pub disabled: Option<bool>,
    /// New role, kebab-case.
    pub role: Option<String>,
    /// New scope: a division code or `zone:ID`.
    pub scope: Option<String>,
    /// New full name (`""` clears it).
    pub display_name: Option<String>,
    /// New phone (`""` clears it).
    pub phone: Option<String>,
}

/// Applies `ch` to a user the actor manages, in one audited transaction. A change of role or
/// scope ends the user's sessions (their rights changed); nobody changes their own role or
/// scope, so an administrator cannot lock themselves out.
pub fn update(conn: &mut DbConn, by: &Access, id: i64, ch: &UserChanges) -> Result<(), UserError> {
    require(by)?;
    let role = match ch.role.as_deref().map(str::trim) {
        Some(r) => Some(Role::parse(r).ok_or_else(|| UserError::UnknownRole(r.to_string()))?),
        None => None,
    };
    let scope = match ch.scope.as_deref().map(str::trim) {
        Some(sc) => Some(Scope::parse(sc).map_err(|_| UserError::BadScope(sc.to_string()))?),
        None => None,
    };
    let display_name = match ch.display_name.as_deref().map(str::trim) {
        Some("") => Some(String::new()),
        Some(n) => Some(ringline_core::text::check_name(n, 60).map_err(UserError::BadName)?),
        None => None,
    };
    let phone = match ch.phone.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(p) => Some(Some(validate_phone(p)?)),
        None => None,
    };
    crate::db::write_transaction(conn, |conn| {
        let before = managed(conn, by, id)?;
        if by.user_id == Some(id) && (role.is_some() || scope.is_some() || ch.disabled == Some(true)) {
            return Err(UserError::Forbidden);
        }
        if let Some(sc) = &scope {
            if !by.may_grant(sc, &zone_counties(conn)?) {
                return Err(UserError::ScopeNotGrantable);
            }
            if !scope_exists(conn, sc)? {
                return Err(UserError::UnknownScope(sc.as_string()));
            }
        }
        if let Some(r) = role {
            diesel::update(users::table.find(id))
                .set(users::role.eq(r.as_str()))
                .execute(conn)?;
        }
        if let Some(sc) = &scope {
            diesel::update(users::table.find(id))
                .set(users::scope.eq(sc.as_string()))
                .execute(conn)?;
        }
        if let Some(n) = &display_name {
            diesel::update(users::table.find(id))
                .set(users::display_name.eq(n))
                .execute(conn)?;
        }
        if let Some(p) = &phone {
            diesel::update(users::table.find(id))
                .set(users::phone.eq(p))
                .execute(conn)?;
        }
        if let Some(d) = ch.disabled {
            diesel::update(users::table.find(id))
                .set(users::disabled.eq(d))
                .execute(conn)?;
        }
        let rights_changed = role.is_some_and(|r| r.as_str() != before.role)
            || scope.as_ref().is_some_and(|sc| sc.as_string() != before.scope)
            || ch.disabled == Some(true);
        if rights_changed {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
        }
        let after = load(conn, id)?.ok_or(UserError::NotFound)?;
        let after_key = user_key(conn, id)?;
        let key = common_key(conn, &scope_key(&before.scope), &after_key)?;
        audit_user(
            conn,
            by,
            id,
            Some(key),
            Change {
                action: "update",
                before: Some(snapshot(&before)),
                after: Some(snapshot(&after)),
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// Sets a new password for another user (administrators); ends all their sessions.
pub fn reset_password(conn: &mut DbConn, by: &Access, id: i64, password: &str) -> Result<(), UserError> {
    require(by)?;
    validate_password(password)?;
    crate::db::write_transaction(conn, |conn| {
        managed(conn, by, id)?;
        set_password(conn, id, password)?;
        audit_user(
            conn,
            by,
            id,
            None,
            Change {
                action: "password-reset",
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// Changes one's own password after checking the current one; ends all one's sessions.
pub fn change_own_password(conn: &mut DbConn, by: &Access, current: &str, new: &str) -> Result<(), UserError> {
    let id = by.user_id.ok_or(UserError::NotFound)?;
    validate_password(new)?;
    crate::db::write_transaction(conn, |conn| {
        let hash: String = users::table.find(id).select(users::password_hash).first(conn)?;
        if !verify_password(&hash, current) {
            return Err(UserError::WrongPassword);
        }
        set_password(conn, id, new)?;
        audit_user(
            conn,
            by,
            id,
            None,
            Change {
                action: "password-change",
                ..Default::default()
            },
        )?;
        Ok(())
    })
}

/// The unmasked phone of a user, for roles with [`Permission::Unmask`]; the view is audited.
pub fn unmask_phone(conn: &mut DbConn, by: &Access, id: i64) -> Result<Option<String>, UserError> {
    if !by.can(Permission::Unmask) {
        return Err(UserError::Forbidden);
    }
    crate::db::write_transaction(conn, |conn| {
        let row = load(conn, id)?.ok_or(UserError::NotFound)?;
        let scope = Scope::parse(&row.scope).map_err(|_| UserError::NotFound)?;
        if !by.may_grant(&scope, &zone_counties(conn)?) {
            return Err(UserError::NotFound);
        }
        audit_user(
            conn,
            by,
            id,
            None,
            Change {
                action: "unmask",
                detail: "phone".into(),
                ..Default::default()
            },
        )?;
        Ok(row.phone)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert!(validate_username("zhang.san").is_ok());
        assert!(validate_username("张三").is_ok());
        assert!(validate_username("a").is_err());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("x;drop").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("aaaaaaaaaaaa").is_err());
        assert!(validate_password("correct horse").is_ok());
        assert!(validate_phone("13812345678").is_ok());
        assert!(validate_phone("0971-5512345").is_ok());
        assert!(validate_phone("call me").is_err());
    }
}
