//! Authentication (SPEC C10): login throttling per account and per address, session timeouts,
//! session tokens stored only as digests, and the session cookie's attributes.

use diesel::prelude::*;
use reqwest::StatusCode;
use ringline::db::schema::sessions;
use sha2::{Digest, Sha256};

use crate::calls;
use crate::datong::DONGXIA;
use crate::harness::{ADMIN_PASSWORD, Answer, TestApp, alert_of, hidden_input, new_client, set_cookie};

/// The English text of the throttling message (locales/en/main.ftl).
const THROTTLED: &str = "Too many failed logins for this account or from this address.";

/// Logs in through the form with `Accept-Language: en`; the answer.
async fn form_login(app: &TestApp, username: &str, password: &str) -> Answer {
    let client = new_client();
    let html = client
        .get(app.url("/login"))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("GET /login")
        .text()
        .await
        .expect("page");
    let token = hidden_input(&html, "csrf_token");
    let r = client
        .post(app.url("/login"))
        .header("Accept-Language", "en")
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", token.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("POST /login");
    Answer::of(r).await
}

/// Asserts a 429 answer of the API: code, message and a `Retry-After` within the window.
fn assert_throttled(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{what}: {}", a.text());
    assert_eq!(a.error_code(), "too-many-attempts", "{what}");
    let message = a.json()["error"]["message"].as_str().unwrap_or("").to_string();
    assert!(message.starts_with(THROTTLED), "{what}: {message}");
    let retry: i64 = a
        .header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("{what}: a Retry-After in seconds, not {:?}", a.header("retry-after")));
    // The window is 15 minutes and the test takes less than one.
    assert!((840..=900).contains(&retry), "{what}: Retry-After {retry}");
}

async fn forty_wrong_passwords_are_throttled_per_account_then_per_address(app: TestApp) {
    calls::add_user(&mut app.conn(), "target", "target-pass-1", "viewer", DONGXIA, None);
    for attempt in 1..=40 {
        let a = app.try_login("target", &format!("guess-{attempt:02}")).await;
        if attempt <= 10 {
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
            assert_eq!(a.error_code(), "bad-credentials", "attempt {attempt}");
        } else {
            assert_throttled(&a, &format!("attempt {attempt}"));
        }
        assert!(set_cookie_of(&a).is_none(), "no session for attempt {attempt}");
    }
    // Now even the right password is refused, through the API and the form.
    assert_throttled(&app.try_login("target", "target-pass-1").await, "the right password");
    let a = form_login(&app, "target", "target-pass-1").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    let alert = alert_of(&a.text()).expect("the page says why");
    assert!(alert.starts_with(THROTTLED) && alert.contains("15"), "{alert}");
    assert!(set_cookie_of(&a).is_none());

    // Another account from the same address still logs in: the address has 10 failures.
    assert_eq!(app.try_login("admin", ADMIN_PASSWORD).await.status, StatusCode::OK);
    // Twenty more failures (unknown usernames, one attempt each) make 30 for the address.
    for n in 1..=20 {
        let a = app.try_login(&format!("ghost-{n:02}"), "whatever-pass").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "ghost {n}");
    }
    assert_throttled(&app.try_login("admin", ADMIN_PASSWORD).await, "admin after 30");
    assert_throttled(&app.try_login("ghost-99", "whatever-pass").await, "a new name");
    let a = form_login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(alert_of(&a.text()).is_some_and(|m| m.starts_with(THROTTLED)));
    // Without `trust_proxy`, a forwarded-for header does not give another address.
    let r = new_client()
        .post(app.url("/api/v1/session"))
        .header("X-Forwarded-For", "10.9.8.7")
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("POST");
    assert_throttled(&Answer::of(r).await, "X-Forwarded-For");
    // Throttled attempts are not counted as failures (they never reach the password check).
    use ringline::db::schema::login_attempts as la;
    let failures: i64 = la::table
        .filter(la::success.eq(false))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(failures, 30);
}

/// The session cookie set by an answer, if any.
fn set_cookie_of(a: &Answer) -> Option<String> {
    a.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ringline_session=") && !v.starts_with("ringline_session=;"))
        .map(String::from)
}

async fn a_successful_login_restarts_the_account_count(app: TestApp) {
    calls::add_user(&mut app.conn(), "forgetful", "forgetful-pass", "viewer", DONGXIA, None);
    for round in 0..2 {
        if round == 1 {
            // Timestamps are whole seconds: let the next failures fall after the success.
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        for n in 1..=9 {
            let a = app.try_login("forgetful", "not-it-at-all").await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "round {round}, attempt {n}");
        }
        // Eighteen failures in all, but never ten since the last success.
        let a = app.try_login("forgetful", "forgetful-pass").await;
        assert_eq!(a.status, StatusCode::OK, "round {round}: nine failures do not block");
    }
}

/// The stored id of a session token: its SHA-256, in hex.
fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Logs a new client in as `username`; returns the client and the raw session token.
async fn login_with_token(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, String) {
    let client = new_client();
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = set_cookie(&r, "ringline_session").expect("a session cookie");
    let token = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("a value");
    (client, token)
}

async fn session_status(app: &TestApp, client: &reqwest::Client) -> StatusCode {
    client
        .get(app.url("/api/v1/session"))
        .send()
        .await
        .expect("GET")
        .status()
}

async fn sessions_end_after_the_idle_and_absolute_timeouts(app: TestApp) {
    calls::add_user(&mut app.conn(), "idle", "idle-pass-123", "viewer", DONGXIA, None);
    let (idle, idle_token) = login_with_token(&app, "idle", "idle-pass-123").await;
    let (old, old_token) = login_with_token(&app, "idle", "idle-pass-123").await;
    let (recent, recent_token) = login_with_token(&app, "idle", "idle-pass-123").await;
    let (fresh, _) = login_with_token(&app, "idle", "idle-pass-123").await;

    // Only the token's digest is stored; the absolute timeout is 7 days from login.
    let mut conn = app.conn();
    let stored: Vec<(String, chrono::NaiveDateTime, chrono::NaiveDateTime)> = sessions::table
        .select((sessions::id, sessions::created_at, sessions::expires_at))
        .load(&mut conn)
        .expect("sessions");
    assert_eq!(stored.len(), 4);
    for t in [&idle_token, &old_token, &recent_token] {
        assert_eq!(t.len(), 64, "a 256-bit token");
        assert!(stored.iter().any(|(id, _, _)| *id == digest(t)), "the digest is stored");
        assert!(stored.iter().all(|(id, _, _)| id != t), "the token itself is not");
    }
    for (_, created, expires) in &stored {
        assert_eq!(*expires - *created, chrono::Duration::days(7));
    }

    let now = ringline::db::now();
    let set_last_seen = |conn: &mut ringline::db::DbConn, token: &str, at: chrono::NaiveDateTime| {
        diesel::update(sessions::table.filter(sessions::id.eq(digest(token))))
            .set(sessions::last_seen_at.eq(at))
            .execute(conn)
            .expect("update")
    };
    // Idle for 9 hours (> 8): ended, and removed.
    assert_eq!(
        set_last_seen(&mut conn, &idle_token, now - chrono::Duration::hours(9)),
        1
    );
    // Past the absolute timeout.
    diesel::update(sessions::table.filter(sessions::id.eq(digest(&old_token))))
        .set(sessions::expires_at.eq(now - chrono::Duration::minutes(1)))
        .execute(&mut conn)
        .expect("update");
    // Idle for 7 hours: still valid, and the request renews the idle timer.
    set_last_seen(&mut conn, &recent_token, now - chrono::Duration::hours(7));
    drop(conn);

    assert_eq!(session_status(&app, &idle).await, StatusCode::UNAUTHORIZED);
    assert_eq!(session_status(&app, &old).await, StatusCode::UNAUTHORIZED);
    let page = idle.get(app.url("/divisions")).send().await.expect("GET");
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "pages send an ended session to the login"
    );
    assert_eq!(session_status(&app, &recent).await, StatusCode::OK);
    assert_eq!(session_status(&app, &fresh).await, StatusCode::OK);

    let mut conn = app.conn();
    let left: Vec<(String, chrono::NaiveDateTime)> = sessions::table
        .select((sessions::id, sessions::last_seen_at))
        .load(&mut conn)
        .expect("sessions");
    let ids: Vec<&String> = left.iter().map(|(id, _)| id).collect();
    assert!(
        !ids.contains(&&digest(&idle_token)) && !ids.contains(&&digest(&old_token)),
        "ended sessions are deleted"
    );
    let renewed = left
        .iter()
        .find(|(id, _)| *id == digest(&recent_token))
        .map(|(_, at)| *at)
        .expect("the recent session");
    assert!(
        renewed >= now - chrono::Duration::minutes(1),
        "the idle timer restarted: {renewed}"
    );
}

async fn session_cookies_are_http_only_lax_and_not_secure_by_default(app: TestApp) {
    let check = |what: &str, cookie: &str| {
        let attrs: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attrs.contains(&"httponly".to_string()), "{what}: {cookie}");
        assert!(attrs.contains(&"samesite=lax".to_string()), "{what}: {cookie}");
        assert!(attrs.contains(&"path=/".to_string()), "{what}: {cookie}");
        assert!(!attrs.contains(&"secure".to_string()), "{what}: {cookie}");
    };
    let a = app.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK);
    check("API login", &set_cookie_of(&a).expect("a session cookie"));
    assert!(
        a.header("strict-transport-security").is_empty(),
        "no HSTS without secure_cookies"
    );
    let a = form_login(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    check("form login", &set_cookie_of(&a).expect("a session cookie"));

    // Logging out clears the cookie.
    let s = app.admin().await;
    let a = s.send(reqwest::Method::DELETE, "/api/v1/session", None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let cleared = a.header("set-cookie").to_ascii_lowercase();
    assert!(
        cleared.starts_with("ringline_session=;") && (cleared.contains("max-age=0") || cleared.contains("expires=")),
        "{cleared}"
    );
}

on_both_backends!(
    forty_wrong_passwords_are_throttled_per_account_then_per_address,
    a_successful_login_restarts_the_account_count,
    sessions_end_after_the_idle_and_absolute_timeouts,
    session_cookies_are_http_only_lax_and_not_secure_by_default,
);
