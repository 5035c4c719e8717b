//! User administration (SPEC C10) through the API, the pages and the library functions the
//! command line calls: validation codes, masked phones and audited unmasking, disabling,
//! password resets and changes, each ending the sessions it must end.

use std::sync::{Arc, Mutex};

use reqwest::{Method, StatusCode};
use ringline::access::Access;
use serde_json::{Value, json};

use crate::calls;
use crate::datong::{COUNTY, DONGXIA};
use crate::harness::{ADMIN_PASSWORD, TestApp, alert_of};

/// 南滩村 (东峡镇).
const NANTAN: &str = "630121103201";
/// 西关村 (城关镇).
const XIGUAN: &str = "630121101200";

/// Asserts a JSON error answer.
fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str, what: &str) {
    assert_eq!(status, expected, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: a message"
    );
}

/// The audit entries with this action.
fn audited(app: &TestApp, action: &str) -> Vec<ringline::audit::Entry> {
    calls::audit_rows(&mut app.conn())
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// The number of users.
fn user_count(app: &TestApp) -> usize {
    ringline::users::list(&mut app.conn(), &Access::system())
        .expect("users::list")
        .len()
}

async fn creating_users_checks_every_field(app: TestApp) {
    let line = {
        let mut conn = app.conn();
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        calls::zone_id(&mut conn, "东峡线")
    };
    let admin = app.admin().await;
    let valid = json!({
        "username": "new.user", "password": "new-user-pass-1", "role": "viewer",
        "scope": DONGXIA, "display_name": "新用户", "phone": "13812345678",
    });
    let with = |field: &str, value: &str| {
        let mut b = valid.clone();
        b[field] = json!(value);
        b
    };
    let before = user_count(&app);
    let too_long = "x".repeat(33);
    let cases = [
        ("username", "a", "invalid-username"),
        ("username", "has space", "invalid-username"),
        ("username", "x;drop", "invalid-username"),
        ("username", too_long.as_str(), "invalid-username"),
        ("password", "short", "weak-password"),
        ("password", "aaaaaaaaaaaa", "weak-password"),
        ("username", "admin", "duplicate-username"),
        ("role", "superuser", "unknown-role"),
        ("role", "County-Admin", "unknown-role"),
        ("scope", "63012110300", "bad-scope"),
        ("scope", "zone:x", "bad-scope"),
        // A well-formed village code of 东峡镇 that no village has.
        ("scope", "630121103299", "unknown-scope"),
        // 湟源县 is not within the admin's 大通县, whether or not it is stored.
        ("scope", "630123100000", "scope-not-grantable"),
        ("scope", "all", "scope-not-grantable"),
        ("phone", "138-1234-567x", "bad-phone"),
    ];
    for (field, value, code) in cases {
        let (status, body) = admin.post_json("/api/v1/users", with(field, value)).await;
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            &format!("{field}={value}"),
        );
    }
    assert_eq!(user_count(&app), before, "refused users are not created");
    // As `ringline users add` (full access): a zone that does not exist.
    let n = ringline::users::NewUser {
        username: "cli.user".into(),
        password: "cli-user-pass-1".into(),
        role: "viewer".into(),
        scope: "zone:999".into(),
        display_name: String::new(),
        phone: None,
    };
    let e = ringline::users::create(&mut app.conn(), &Access::system(), &n).expect_err("zone 999");
    assert_eq!(e.code(), "unknown-scope", "{e}");

    let (status, body) = admin.post_json("/api/v1/users", valid.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "new.user");
    assert_eq!(body["role"], "viewer");
    assert_eq!(body["scope"], DONGXIA);
    assert_eq!(body["disabled"], false);
    assert_eq!(body["phone_masked"], "138****5678");
    let text = body.to_string();
    assert!(!text.contains("13812345678") && !text.contains("new-user-pass-1") && !text.contains("argon2"));
    let (status, body) = admin.post_json("/api/v1/users", with("display_name", "again")).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate-username",
        "twice",
    );
    // A zone scope and full-width digits are accepted; the scope is stored normalised.
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "line.viewer", "password": "line-viewer-pass", "role": "viewer",
                   "scope": format!("zone:{line}")}),
        )
        .await;
    assert_eq!(
        (status, &body["scope"]),
        (StatusCode::CREATED, &json!(format!("zone:{line}"))),
        "{body}"
    );
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "wide", "password": "wide-digits-pass", "role": "viewer", "scope": "６３０１２１１０３２０１"}),
        )
        .await;
    assert_eq!(
        (status, &body["scope"]),
        (StatusCode::CREATED, &json!(NANTAN)),
        "{body}"
    );

    // A town admin may not manage users at all (SPEC: only county admins).
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let (status, body) = town.post_json("/api/v1/users", with("username", "by.town")).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden", "town admin creates");
    let (status, body) = town.get_json("/api/v1/users").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden", "town admin lists");

    // The page: the same checks, the error in the page, the password not sent back.
    admin.english().await;
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "page.user"),
                ("password", "Tiny-pw"),
                ("role", "viewer"),
                ("scope", DONGXIA),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = a.text();
    let alert = alert_of(&html).expect("the page says what is wrong");
    assert!(alert.contains("at least 10 characters"), "error-weak-password: {alert}");
    assert!(!html.contains("Tiny-pw"), "the password is not sent back");
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "page.user"),
                ("password", "page-user-pass"),
                ("role", "viewer"),
                ("scope", "630123100000"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_of(&a.text()).is_some_and(|m| m.contains("within your own")));
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "page.user"),
                ("password", "page-user-pass"),
                ("role", "viewer"),
                ("scope", DONGXIA),
                ("phone", "13900001111"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let id = ringline::users::id_of(&mut app.conn(), "page.user").expect("created");
    assert_eq!(a.header("location"), format!("/admin/users/{id}"));
    assert_eq!(
        app.try_login("page.user", "page-user-pass").await.status,
        StatusCode::OK
    );
}

async fn phones_are_masked_and_unmasking_is_audited(app: TestApp) {
    let (dongxia_user, chengguan_user) = {
        let mut conn = app.conn();
        calls::add_user(&mut conn, "viewer", "viewer-pass-1", "viewer", COUNTY, None);
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        (
            calls::add_user(
                &mut conn,
                "nantan",
                "nantan-pass-1",
                "village-reporter",
                NANTAN,
                Some("13812345678"),
            ),
            calls::add_user(
                &mut conn,
                "xiguan",
                "xiguan-pass-1",
                "village-reporter",
                XIGUAN,
                Some("13987654321"),
            ),
        )
    };
    let admin = app.admin().await;
    let full = ["13812345678", "13987654321"];

    // Lists and details show the masked number only.
    let a = admin.get("/api/v1/users").await;
    assert_eq!(a.status, StatusCode::OK);
    let list = a.json();
    let nantan = list
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == "nantan")
        .expect("nantan is listed");
    assert_eq!(nantan["phone_masked"], "138****5678");
    for path in [
        "/api/v1/users".to_string(),
        format!("/api/v1/users/{dongxia_user}"),
        "/admin/users".to_string(),
        format!("/admin/users/{dongxia_user}"),
    ] {
        let a = admin.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let text = a.text();
        assert!(text.contains("138****5678"), "{path} shows the masked number");
        assert!(full.iter().all(|p| !text.contains(p)), "{path} shows a full number");
    }
    assert!(audited(&app, "unmask").is_empty());

    // A county admin unmasks through the API and the page; each view is audited.
    let (status, body) = admin
        .post_json(&format!("/api/v1/users/{dongxia_user}/unmask"), json!({}))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"phone": "13812345678"})));
    let entries = audited(&app, "unmask");
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (
            e.username.as_str(),
            e.entity.as_str(),
            e.entity_id.as_str(),
            e.detail.as_str()
        ),
        ("admin", "user", dongxia_user.to_string().as_str(), "phone")
    );
    let admin_id = ringline::users::id_of(&mut app.conn(), "admin").expect("admin");
    assert_eq!(e.user_id, Some(admin_id));
    let a = admin
        .post_form(&format!("/admin/users/{dongxia_user}/unmask"), &[])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("13812345678"), "the page shows the number");
    assert_eq!(audited(&app, "unmask").len(), 2);
    // Unmasking shows, it does not unmask for good.
    let (_, body) = admin.get_json(&format!("/api/v1/users/{dongxia_user}")).await;
    assert_eq!(body["phone_masked"], "138****5678");

    // A viewer (the auditor) may not unmask, through the API or the page; nothing is recorded.
    let viewer = app.session("viewer", "viewer-pass-1").await;
    let a = viewer
        .send(Method::POST, &format!("/api/v1/users/{dongxia_user}/unmask"), None)
        .await;
    assert_error(a.status, &a.json(), StatusCode::FORBIDDEN, "forbidden", "viewer");
    let a = viewer
        .post_form(&format!("/admin/users/{dongxia_user}/unmask"), &[])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!a.text().contains("13812345678"));
    assert_eq!(audited(&app, "unmask").len(), 2);

    // A town admin may unmask within the town only; outside it the user "does not exist".
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let a = town
        .send(Method::POST, &format!("/api/v1/users/{dongxia_user}/unmask"), None)
        .await;
    assert_eq!((a.status, a.json()), (StatusCode::OK, json!({"phone": "13812345678"})));
    let entries = audited(&app, "unmask");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].username, "dongxia");
    let a = town
        .send(Method::POST, &format!("/api/v1/users/{chengguan_user}/unmask"), None)
        .await;
    assert_error(
        a.status,
        &a.json(),
        StatusCode::NOT_FOUND,
        "not-found",
        "outside the town",
    );
    assert!(!a.text().contains("13987654321"));
    let missing = town.send(Method::POST, "/api/v1/users/999999/unmask", None).await;
    assert_eq!(
        (missing.status, &missing.body),
        (a.status, &a.body),
        "like a missing user"
    );
    assert_eq!(audited(&app, "unmask").len(), 3, "refused unmasks are not recorded");
}

/// Collects what the application logs on this thread (the test's runtime runs the server).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// The process-wide log capture, installed once as the global subscriber. A thread-local
/// subscriber (`set_default`) misses events whose callsite interest another test thread cached
/// while no subscriber was set, which made this test flaky; a global one sees every test's logs,
/// which is a stronger check.
fn global_log() -> Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("ringline=trace,tower_http=debug")
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the tests");
        log
    })
    .clone()
}

async fn phones_and_passwords_stay_out_of_errors_and_logs(app: TestApp) {
    let log = global_log();
    let secrets = [
        "13812345678",
        "13900001234",
        "create-pass-1",
        "wrong-pass-99",
        "Wrong-current-1",
    ];

    let admin = app.admin().await;
    // An invalid phone: the error names the field, not the value.
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "ph", "password": "create-pass-1", "role": "viewer",
                   "scope": DONGXIA, "phone": "13812345678 ext 9"}),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "bad-phone", "phone");
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "ph"),
                ("password", "create-pass-1"),
                ("role", "viewer"),
                ("scope", DONGXIA),
                ("phone", "13812345678#"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = a.text();
    let alert = alert_of(&html).expect("an error message");
    assert!(!alert.contains("13812345678"), "{alert}");
    assert!(!html.contains("create-pass-1"), "the password is not sent back");

    // Ordinary work with personal data and passwords.
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "ph", "password": "create-pass-1", "role": "viewer",
                   "scope": DONGXIA, "phone": "13900001234"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let (status, _) = admin.post_json(&format!("/api/v1/users/{id}/unmask"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let a = app.try_login("ph", "wrong-pass-99").await;
    assert_error(
        a.status,
        &a.json(),
        StatusCode::UNAUTHORIZED,
        "bad-credentials",
        "login",
    );
    assert!(!a.text().contains("wrong-pass-99"));
    let user = app.session("ph", "create-pass-1").await;
    let (status, body) = user
        .post_json(
            "/api/v1/account/password",
            json!({"current": "Wrong-current-1", "new": "whatever-new-1"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong-password",
        "change",
    );
    assert!(!body.to_string().contains("Wrong-current-1"));

    let logged = log.text();
    assert!(
        logged.contains("finished processing request"),
        "the capture works: {logged}"
    );
    for s in secrets {
        assert!(!logged.contains(s), "the log holds {s}");
    }
    assert!(!logged.contains(ADMIN_PASSWORD), "the log holds the admin's password");
}

async fn disabling_a_user_ends_their_sessions(app: TestApp) {
    let (id, admin_id) = {
        let mut conn = app.conn();
        (
            calls::add_user(&mut conn, "zhang", "zhang-pass-12", "village-reporter", NANTAN, None),
            ringline::users::id_of(&mut conn, "admin").expect("admin"),
        )
    };
    let admin = app.admin().await;
    let s1 = app.session("zhang", "zhang-pass-12").await;
    let s2 = app.session("zhang", "zhang-pass-12").await;

    let (status, body) = admin
        .patch_json(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], true);
    for s in [&s1, &s2] {
        let (status, body) = s.get_json("/api/v1/session").await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "after disabling",
        );
    }
    assert_eq!(sessions_of(&app, id), 0, "the sessions are deleted");
    // A disabled account is told apart from a wrong password by nothing.
    let right = app.try_login("zhang", "zhang-pass-12").await;
    let wrong = app.try_login("zhang", "not-the-pass").await;
    assert_eq!((right.status, &right.body), (wrong.status, &wrong.body));
    assert_eq!(right.status, StatusCode::UNAUTHORIZED);

    let (status, body) = admin
        .patch_json(&format!("/api/v1/users/{id}"), json!({"disabled": false}))
        .await;
    assert_eq!((status, &body["disabled"]), (StatusCode::OK, &json!(false)));
    let s3 = app.session("zhang", "zhang-pass-12").await;

    // Through the page.
    let a = admin.post_form(&format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(s3.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("zhang", "zhang-pass-12").await.status,
        StatusCode::UNAUTHORIZED
    );
    let a = admin.post_form(&format!("/admin/users/{id}/enable"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let s4 = app.session("zhang", "zhang-pass-12").await;

    // As `ringline users disable|enable` does it.
    {
        let mut conn = app.conn();
        let id = ringline::users::id_of(&mut conn, "zhang").expect("id_of");
        ringline::users::set_disabled(&mut conn, &Access::system(), id, true).expect("disable");
        assert!(matches!(
            ringline::users::id_of(&mut conn, "nobody"),
            Err(ringline::users::UserError::NotFound)
        ));
    }
    assert_eq!(s4.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("zhang", "zhang-pass-12").await.status,
        StatusCode::UNAUTHORIZED
    );
    ringline::users::set_disabled(&mut app.conn(), &Access::system(), id, false).expect("enable");
    assert_eq!(app.try_login("zhang", "zhang-pass-12").await.status, StatusCode::OK);

    // Nobody disables their own account; unknown users are not found.
    let (status, body) = admin
        .patch_json(&format!("/api/v1/users/{admin_id}"), json!({"disabled": true}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden", "disable oneself");
    assert_eq!(admin.get_json("/api/v1/session").await.0, StatusCode::OK);
    let (status, body) = admin
        .patch_json("/api/v1/users/999999", json!({"disabled": true}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not-found", "unknown user");
}

/// The number of stored sessions of a user.
fn sessions_of(app: &TestApp, user_id: i64) -> i64 {
    use diesel::prelude::*;
    use ringline::db::schema::sessions;
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .count()
        .get_result(&mut app.conn())
        .expect("count sessions")
}

async fn resetting_a_password_ends_the_users_sessions(app: TestApp) {
    let id = calls::add_user(&mut app.conn(), "li", "li-first-pass", "viewer", DONGXIA, None);
    let admin = app.admin().await;
    let s1 = app.session("li", "li-first-pass").await;

    let (status, body) = admin
        .post_json(&format!("/api/v1/users/{id}/password"), json!({"password": "short"}))
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "weak-password", "weak");
    assert_eq!(
        s1.get_json("/api/v1/session").await.0,
        StatusCode::OK,
        "nothing changed"
    );

    let (status, _) = admin
        .post_json(
            &format!("/api/v1/users/{id}/password"),
            json!({"password": "li-second-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s1.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sessions_of(&app, id), 0);
    assert_eq!(
        app.try_login("li", "li-first-pass").await.status,
        StatusCode::UNAUTHORIZED
    );
    let s2 = app.session("li", "li-second-pass").await;

    // Through the page.
    let a = admin
        .post_form(&format!("/admin/users/{id}/password"), &[("password", "li-third-pass")])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        !a.text().contains("li-third-pass"),
        "the page does not repeat the password"
    );
    assert_eq!(s2.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    let s3 = app.session("li", "li-third-pass").await;

    // As `ringline users reset-password` does it.
    {
        let mut conn = app.conn();
        let id = ringline::users::id_of(&mut conn, "li").expect("id_of");
        let weak = ringline::users::reset_password(&mut conn, &Access::system(), id, "x");
        assert!(matches!(weak, Err(ringline::users::UserError::WeakPassword)));
        ringline::users::reset_password(&mut conn, &Access::system(), id, "li-fourth-pass").expect("reset");
    }
    assert_eq!(s3.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_login("li", "li-third-pass").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.try_login("li", "li-fourth-pass").await.status, StatusCode::OK);

    let (status, body) = admin
        .post_json("/api/v1/users/999999/password", json!({"password": "li-fifth-pass"}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not-found", "unknown user");
}

async fn changing_ones_own_password(app: TestApp) {
    let id = calls::add_user(&mut app.conn(), "wang", "wang-first-pass", "viewer", DONGXIA, None);
    let s1 = app.session("wang", "wang-first-pass").await;
    let s2 = app.session("wang", "wang-first-pass").await;

    let (status, body) = s1
        .post_json(
            "/api/v1/account/password",
            json!({"current": "not-my-password", "new": "wang-second-pass"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "wrong-password",
        "wrong current",
    );
    let (status, body) = s1
        .post_json(
            "/api/v1/account/password",
            json!({"current": "wang-first-pass", "new": "short"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak-password",
        "weak new",
    );
    assert_eq!(
        s1.get_json("/api/v1/session").await.0,
        StatusCode::OK,
        "refused changes change nothing"
    );

    let a = s1
        .send(
            Method::POST,
            "/api/v1/account/password",
            Some(json!({"current": "wang-first-pass", "new": "wang-second-pass"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(
        a.header("set-cookie").starts_with("ringline_session="),
        "the cookie is cleared"
    );
    for s in [&s1, &s2] {
        assert_eq!(s.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sessions_of(&app, id), 0, "every session ended");
    assert_eq!(
        app.try_login("wang", "wang-first-pass").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Through the page.
    let s3 = app.session("wang", "wang-second-pass").await;
    s3.english().await;
    let change = async |current: &str, new: &str, confirm: &str| {
        s3.post_form(
            "/account/password",
            &[("current", current), ("new", new), ("confirm", confirm)],
        )
        .await
    };
    let a = change("wang-second-pass", "wang-third-pass", "wang-third-typo").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_of(&a.text()).is_some_and(|m| m.contains("The two new passwords differ")));
    let a = change("not-my-password", "wang-third-pass", "wang-third-pass").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alert_of(&a.text()).is_some_and(|m| m.contains("current password is wrong")));
    assert_eq!(s3.get_json("/api/v1/session").await.0, StatusCode::OK);
    let a = change("wang-second-pass", "wang-third-pass", "wang-third-pass").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header("location"), "/login?changed=1");
    assert_eq!(s3.get_json("/api/v1/session").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.try_login("wang", "wang-third-pass").await.status, StatusCode::OK);
}

/// A zone scope lies within a town's scope only when the zone does (`Access::may_grant`; at
/// 3d57e24 any zone counted as within any division scope): 东峡镇's town admin, who may unmask
/// the phones of users within the town, gets 404 for a user scoped to the 城关线, whose villages
/// lie in other towns, and nothing is audited.
async fn town_admin_cannot_unmask_a_user_of_a_zone_outside_the_town(app: TestApp) {
    let id = {
        let mut conn = app.conn();
        let line = calls::zone_id(&mut conn, "城关线");
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        calls::add_user(
            &mut conn,
            "line.viewer",
            "line-viewer-pass",
            "viewer",
            &format!("zone:{line}"),
            Some("13512345678"),
        )
    };
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let a = town
        .send(Method::POST, &format!("/api/v1/users/{id}/unmask"), None)
        .await;
    let leaked = a.text().contains("13512345678");
    let recorded = audited(&app, "unmask").len();
    assert!(
        a.status == StatusCode::NOT_FOUND && !leaked && recorded == 0,
        "the town admin got {} {} (phone shown: {leaked}, unmask entries: {recorded})",
        a.status,
        a.text()
    );
}

/// "You may only give scopes within your own": Datong's county admin may not give a user the
/// scope of a zone of another county (湟源县), and neither lists nor finds users so scoped (at
/// 3d57e24 they could).
async fn county_admin_cannot_give_or_manage_a_zone_of_another_county(app: TestApp) {
    let (zone, other) = {
        let mut conn = app.conn();
        let (_, zone) = calls::add_huangyuan(&mut conn);
        let other = calls::add_user(
            &mut conn,
            "hy.viewer",
            "hy-viewer-pass",
            "viewer",
            &format!("zone:{zone}"),
            None,
        );
        (zone, other)
    };
    let admin = app.admin().await;
    let mut wrong = Vec::new();
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "hy.two", "password": "hy-two-pass-1", "role": "viewer",
                   "scope": format!("zone:{zone}")}),
        )
        .await;
    if status != StatusCode::UNPROCESSABLE_ENTITY || body["error"]["code"] != "scope-not-grantable" {
        wrong.push(format!("creating a user with 湟源县's zone: {status} {body}"));
    }
    let (_, list) = admin.get_json("/api/v1/users").await;
    if list.to_string().contains("hy.viewer") {
        wrong.push("the user list shows a user of 湟源县's zone".into());
    }
    let (status, _) = admin.get_json(&format!("/api/v1/users/{other}")).await;
    if status != StatusCode::NOT_FOUND {
        wrong.push(format!("GET the user of 湟源县's zone: {status}"));
    }
    let (status, _) = admin
        .patch_json(&format!("/api/v1/users/{other}"), json!({"disabled": true}))
        .await;
    if status != StatusCode::NOT_FOUND {
        wrong.push(format!("disabling the user of 湟源县's zone: {status}"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// BUG (src/web/admin.rs `user_unmask`): the page route admits a town admin (they have the
/// unmask permission), unmasks the phone and writes the `unmask` audit entry, then renders the
/// user page, which needs the user-management permission, and answers 403. So the log records
/// a view of personal data that was never shown, from a request that was refused. Either the
/// number is shown, or the request is refused before anything is recorded.
async fn town_admin_unmasking_through_the_page_shows_the_number_or_records_nothing(app: TestApp) {
    let id = {
        let mut conn = app.conn();
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        calls::add_user(
            &mut conn,
            "nantan",
            "nantan-pass-1",
            "village-reporter",
            NANTAN,
            Some("13812345678"),
        )
    };
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let a = town.post_form(&format!("/admin/users/{id}/unmask"), &[]).await;
    let recorded = audited(&app, "unmask").len();
    let shown = a.status == StatusCode::OK && a.text().contains("13812345678");
    let refused_cleanly = a.status == StatusCode::FORBIDDEN && recorded == 0;
    assert!(
        shown || refused_cleanly,
        "answered {} with the number {}shown, and {recorded} unmask entries recorded",
        a.status,
        if a.text().contains("13812345678") { "" } else { "not " }
    );
}

/// BUG (src/web/mod.rs `plain_errors` / axum's JSON rejection): a phone number or a password
/// sent as a JSON number instead of a string is refused (422), but the refusal quotes the value
/// (serde: "invalid type: integer `13812345678`, expected a string"), so personal data and
/// passwords reach error messages. Expected: the refusal names the field, not the value.
async fn values_of_malformed_requests_are_not_repeated_in_errors(app: TestApp) {
    let admin = app.admin().await;
    let mut echoed = Vec::new();
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "num", "password": "num-pass-12345", "role": "viewer",
                   "scope": DONGXIA, "phone": 13812345678_i64}),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    if body.to_string().contains("13812345678") {
        echoed.push(format!("POST /api/v1/users with a numeric phone: {status} {body}"));
    }
    let r = crate::harness::new_client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "admin", "password": 99887766554433_i64}))
        .send()
        .await
        .expect("POST");
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_client_error(), "{status}");
    if text.contains("99887766554433") {
        echoed.push(format!("POST /api/v1/session with a numeric password: {status} {text}"));
    }
    let (status, body) = admin
        .post_json(
            "/api/v1/account/password",
            json!({"current": ADMIN_PASSWORD, "new": 1234567890123_i64}),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    if body.to_string().contains("1234567890123") {
        echoed.push(format!(
            "POST /api/v1/account/password with a numeric password: {status} {body}"
        ));
    }
    assert!(echoed.is_empty(), "{}", echoed.join("\n"));
}

on_both_backends!(
    creating_users_checks_every_field,
    phones_are_masked_and_unmasking_is_audited,
    phones_and_passwords_stay_out_of_errors_and_logs,
    disabling_a_user_ends_their_sessions,
    resetting_a_password_ends_the_users_sessions,
    changing_ones_own_password,
    town_admin_cannot_unmask_a_user_of_a_zone_outside_the_town,
    county_admin_cannot_give_or_manage_a_zone_of_another_county,
    town_admin_unmasking_through_the_page_shows_the_number_or_records_nothing,
    values_of_malformed_requests_are_not_repeated_in_errors,
);
