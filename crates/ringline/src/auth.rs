//! Accounts and sessions (SPEC C10, first part): argon2id password hashes, random session
//! tokens of which only a SHA-256 digest is stored, idle and absolute session timeouts, and a
//! per-session CSRF token. Sessions live in the database, so any number of app instances can
//! share one PostgreSQL.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use diesel::prelude::*;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::db::schema::{sessions, users};
use crate::db::{DbConn, DbError, DbResult, now};

/// A session ends after this long without a request (8 hours).
pub const IDLE_TIMEOUT: Duration = Duration::hours(8);
/// A session ends this long after login whatever happens (7 days).
pub const ABSOLUTE_TIMEOUT: Duration = Duration::days(7);

/// The built-in roles (SPEC C10), written in kebab-case everywhere (`county-admin`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// County organization-department staff: plan, assess, report.
    CountyAdmin,
    /// Township staff: review their villages.
    TownAdmin,
    /// Village party-branch secretary: enters data.
    VillageReporter,
    /// Administrator of one unit.
    UnitAdmin,
    /// Cadre dispatched to a village.
    DispatchedCadre,
    /// Read-only leader or auditor.
    Viewer,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 6] = [
        Role::CountyAdmin,
        Role::TownAdmin,
        Role::VillageReporter,
        Role::UnitAdmin,
        Role::DispatchedCadre,
        Role::Viewer,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CountyAdmin => "county-admin",
            Role::TownAdmin => "town-admin",
            Role::VillageReporter => "village-reporter",
            Role::UnitAdmin => "unit-admin",
            Role::DispatchedCadre => "dispatched-cadre",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the kebab-case name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Failed logins counted per account and per address over this window (15 minutes).
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed logins of one account within the window (since its last success) before further
/// attempts are refused.
pub const MAX_ACCOUNT_FAILURES: i64 = 10;
/// Failed logins from one address within the window before further attempts are refused.
pub const MAX_ADDRESS_FAILURES: i64 = 30;

/// Failures of login.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user, wrong password or disabled account (deliberately not told apart).
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many recent failures for the account or the address.
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until the oldest counted failure leaves the window.
        retry_after_secs: i64,
    },
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        AuthError::Db(DbError::Query(e))
    }
}

/// Hashes a password with argon2id (the crate's default parameters: 19 MiB, 2 passes; OWASP's
/// recommended minimum) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts passwords of any practical length")
        .to_string()
}

/// Checks a password against a PHC hash.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A random password of 16 letters and digits (no look-alikes 0/O, 1/l/I).
pub fn random_password() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A stored user.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role, kebab-case.
    pub role: String,
    /// Scope: a division code (subtree), later also a unit or a zone.
    pub scope: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Created (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last password change (UTC).
    pub password_changed_at: chrono::NaiveDateTime,
}

/// Creates a user; fails on a duplicate username.
pub fn create_user(conn: &mut DbConn, username: &str, password: &str, role: Role, scope: &str) -> DbResult<i64> {
    let at = now();
    Ok(diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::password_hash.eq(hash_password(password)),
            users::role.eq(role.as_str()),
            users::scope.eq(scope),
            users::disabled.eq(false),
            users::created_at.eq(at),
            users::password_changed_at.eq(at),
        ))
        .returning(users::id)
        .get_result(conn)?)
}

/// How the admin account was set up on this start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminSetup {
    /// It already existed.
    Existing,
    /// Created with the password from `RINGLINE_ADMIN_PASSWORD`.
    FromEnvironment,
    /// Created with this generated one-time password, to be shown once.
    Generated(String),
}

/// Creates the `admin` account (county admin over `county_code`) when there are no users.
pub fn ensure_admin(conn: &mut DbConn, county_code: &str, env_password: Option<&str>) -> DbResult<AdminSetup> {
    let n: i64 = users::table.count().get_result(conn)?;
    if n > 0 {
        return Ok(AdminSetup::Existing);
    }
    match env_password.filter(|p| !p.is_empty()) {
        Some(p) => {
            create_user(conn, "admin", p, Role::CountyAdmin, county_code)?;
            Ok(AdminSetup::FromEnvironment)
        }
        None => {
            let p = random_password();
            create_user(conn, "admin", &p, Role::CountyAdmin, county_code)?;
            Ok(AdminSetup::Generated(p))
        }
    }
}

/// The user behind a valid session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionUser {
    /// User id.
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Role, kebab-case.
    pub role: String,
    /// Scope division code.
    pub scope: String,
    /// CSRF token to echo in forms and the `X-CSRF-Token` header.
    #[serde(skip)]
    pub csrf_token: String,
}

/// Seconds until login is allowed again for `username` from `ip`, when either has too many
/// recent failures (failures of an account count only since its last successful login).
pub fn throttled(conn: &mut DbConn, username: &str, ip: &str) -> DbResult<Option<i64>> {
    use crate::db::schema::login_attempts as la;
    let at = now();
    let window_start = at - THROTTLE_WINDOW;
    let last_success: Option<chrono::NaiveDateTime> = la::table
        .filter(la::username.eq(username).and(la::success.eq(true)))
        .select(diesel::dsl::max(la::at))
        .first(conn)?;
    let since = last_success.map_or(window_start, |s| s.max(window_start));
    let account: Vec<chrono::NaiveDateTime> = la::table
        .filter(
            la::username
                .eq(username)
                .and(la::success.eq(false))
                .and(la::at.gt(since)),
        )
        .order(la::at.asc())
        .select(la::at)
        .load(conn)?;
    let address: Vec<chrono::NaiveDateTime> = la::table
        .filter(la::ip.eq(ip).and(la::success.eq(false)).and(la::at.gt(window_start)))
        .order(la::at.asc())
        .select(la::at)
        .load(conn)?;
    let wait = |times: &[chrono::NaiveDateTime], max: i64| {
        (times.len() as i64 >= max).then(|| {
            let oldest = times[times.len() - max as usize];
            (oldest + THROTTLE_WINDOW - at).num_seconds().max(1)
        })
    };
    Ok(wait(&account, MAX_ACCOUNT_FAILURES).max(wait(&address, MAX_ADDRESS_FAILURES)))
}

fn record_attempt(conn: &mut DbConn, username: &str, ip: &str, success: bool) -> DbResult<()> {
    use crate::db::schema::login_attempts as la;
    let at = now();
    diesel::insert_into(la::table)
        .values((
            la::at.eq(at),
            la::username.eq(username),
            la::ip.eq(ip),
            la::success.eq(success),
        ))
        .execute(conn)?;
    // Attempts older than a day no longer matter.
    diesel::delete(la::table.filter(la::at.lt(at - Duration::days(1)))).execute(conn)?;
    Ok(())
}

/// Checks credentials and opens a session; returns the raw token for the cookie. Refuses
/// without checking the password while the account or the address `ip` is throttled
/// ([`MAX_ACCOUNT_FAILURES`], [`MAX_ADDRESS_FAILURES`] per [`THROTTLE_WINDOW`]).
pub fn login(conn: &mut DbConn, username: &str, password: &str, ip: &str) -> Result<(String, SessionUser), AuthError> {
    if let Some(retry_after_secs) = throttled(conn, username, ip)? {
        return Err(AuthError::Throttled { retry_after_secs });
    }
    let user: Option<User> = users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    let ok = match &user {
        Some(u) => !u.disabled && verify_password(&u.password_hash, password),
        None => {
            // Spend the same time as a real check so response times do not reveal usernames.
            let _ = verify_password(DUMMY_HASH.as_str(), password);
            false
        }
    };
    record_attempt(conn, username, ip, ok)?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(AuthError::BadCredentials);
    };
    let token = random_token();
    let csrf = random_token();
    let at = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(digest(&token)),
            sessions::user_id.eq(user.id),
            sessions::csrf_token.eq(&csrf),
            sessions::created_at.eq(at),
            sessions::last_seen_at.eq(at),
            sessions::expires_at.eq(at + ABSOLUTE_TIMEOUT),
        ))
        .execute(conn)?;
    // Sessions that ended by timeout are removed here rather than by a background job.
    purge_expired(conn)?;
    diesel::update(users::table.find(user.id))
        .set(users::last_login_at.eq(Some(at)))
        .execute(conn)?;
    Ok((
        token,
        SessionUser {
            user_id: user.id,
            username: user.username,
            role: user.role,
            scope: user.scope,
            csrf_token: csrf,
        },
    ))
}

/// A real argon2id hash of a random password, verified against when the username is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password(&random_password()));

/// The user of a session token, if the session is still valid; refreshes its idle timer.
pub fn session_user(conn: &mut DbConn, token: &str) -> DbResult<Option<SessionUser>> {
    let id = digest(token);
    let row: Option<(String, chrono::NaiveDateTime, chrono::NaiveDateTime, User)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&id))
        .select((
            sessions::csrf_token,
            sessions::last_seen_at,
            sessions::expires_at,
            User::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((csrf, last_seen, expires, user)) = row else {
        return Ok(None);
    };
    let at = now();
    if user.disabled || at >= expires || at - last_seen >= IDLE_TIMEOUT {
        diesel::delete(sessions::table.find(&id)).execute(conn)?;
        return Ok(None);
    }
    // Write the idle timer at most once a minute to spare the database.
    if at - last_seen >= Duration::minutes(1) {
        diesel::update(sessions::table.find(&id))
            .set(sessions::last_seen_at.eq(at))
            .execute(conn)?;
    }
    Ok(Some(SessionUser {
        user_id: user.id,
        username: user.username,
        role: user.role,
        scope: user.scope,
        csrf_token: csrf,
    }))
}

/// Ends a session.
pub fn logout(conn: &mut DbConn, token: &str) -> DbResult<()> {
    diesel::delete(sessions::table.find(digest(token))).execute(conn)?;
    Ok(())
}

/// Deletes expired sessions; returns how many.
pub fn purge_expired(conn: &mut DbConn) -> DbResult<usize> {
    let at = now();
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(at)
                .or(sessions::last_seen_at.le(at - IDLE_TIMEOUT)),
        ),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong horse"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(hash_password("same"), hash_password("same"), "salts differ");
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("town-admin"), Some(Role::TownAdmin));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = random_password();
        assert_eq!(a.len(), 16);
        assert_ne!(a, random_password());
    }
}
