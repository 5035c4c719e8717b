//! Route guards (ARCHITECTURE.md, "No route without a guard"): the table below is the reviewed
//! list of every route and who may call it; a route added without an entry here fails
//! `every_route_is_in_the_reviewed_table`. The other test calls every registered route
//! anonymously, with a role lacking the permission, and without the CSRF token.

use reqwest::{Method, StatusCode};
use ringline::access::Permission;
use ringline::auth::Role;
use ringline::web::{Guard, route_specs};
use serde_json::Value;

use crate::calls;
use crate::harness::{TestApp, new_client};

/// Every route: method, path, guard.
fn reviewed() -> Vec<(&'static str, &'static str, Guard)> {
    use Guard::{Login, Perm, Public};
    use Permission::{DecideLeave, Dispatch, Import, ManageUsers, ReadAudit, RecordResidency, Unmask};
    vec![
        ("GET", "/healthz", Public),
        // Pages.
        ("GET", "/", Login),
        ("GET", "/login", Public),
        ("POST", "/login", Public),
        ("POST", "/logout", Login),
        ("GET", "/lang/{code}", Public),
        ("GET", "/static/style.css", Public),
        ("GET", "/static/forms.js", Public),
        ("GET", "/programs/{id}", Login),
        ("GET", "/zones/{id}", Login),
        ("GET", "/divisions", Login),
        ("GET", "/divisions/{code}", Login),
        // XLSX exports hold what the page shows, so they need what the page needs.
        ("GET", "/divisions.xlsx", Login),
        ("GET", "/zones/{id}/members.xlsx", Login),
        // Registry (SPEC C3): everyone reads their scope, masked; unmasking needs the permission.
        ("GET", "/units/{id}", Login),
        ("GET", "/orgs/{id}", Login),
        ("GET", "/members/{id}", Login),
        ("POST", "/members/{id}/unmask", Perm(Unmask)),
        ("GET", "/coverage", Login),
        ("GET", "/coverage.xlsx", Login),
        ("GET", "/account/password", Login),
        ("POST", "/account/password", Login),
        ("GET", "/admin/users", Perm(ManageUsers)),
        ("POST", "/admin/users", Perm(ManageUsers)),
        ("GET", "/admin/users/{id}", Perm(ManageUsers)),
        ("POST", "/admin/users/{id}", Perm(ManageUsers)),
        ("POST", "/admin/users/{id}/disable", Perm(ManageUsers)),
        ("POST", "/admin/users/{id}/enable", Perm(ManageUsers)),
        ("POST", "/admin/users/{id}/password", Perm(ManageUsers)),
        ("POST", "/admin/users/{id}/unmask", Perm(ManageUsers)),
        ("GET", "/audit", Perm(ReadAudit)),
        ("GET", "/audit.xlsx", Perm(ReadAudit)),
        // API.
        ("GET", "/api/openapi.json", Public),
        ("POST", "/api/v1/session", Public),
        ("GET", "/api/v1/session", Login),
        ("DELETE", "/api/v1/session", Login),
        ("GET", "/api/v1/divisions", Login),
        ("GET", "/api/v1/divisions/{code}", Login),
        ("GET", "/api/v1/zones/{id}/members", Login),
        ("GET", "/api/v1/programs/{id}/overlaps", Login),
        ("POST", "/api/v1/members/{id}/unmask", Perm(Unmask)),
        ("GET", "/api/v1/coverage", Login),
        ("GET", "/api/v1/coverage/uncovered", Login),
        ("GET", "/api/v1/users", Perm(ManageUsers)),
        ("POST", "/api/v1/users", Perm(ManageUsers)),
        ("GET", "/api/v1/users/{id}", Perm(ManageUsers)),
        ("PATCH", "/api/v1/users/{id}", Perm(ManageUsers)),
        ("POST", "/api/v1/users/{id}/password", Perm(ManageUsers)),
        ("POST", "/api/v1/users/{id}/unmask", Perm(Unmask)),
        ("POST", "/api/v1/account/password", Login),
        ("GET", "/api/v1/audit", Perm(ReadAudit)),
        // Registry imports: county and town administrators; templates for everyone.
        ("GET", "/import", Perm(Import)),
        ("POST", "/import", Perm(Import)),
        ("GET", "/import/templates/{file}", Login),
        ("GET", "/import/jobs/{id}", Perm(Import)),
        ("GET", "/import/jobs/{id}/errors.xlsx", Perm(Import)),
        ("POST", "/import/jobs/{id}/apply", Perm(Import)),
        ("POST", "/import/jobs/{id}/sheet", Perm(Import)),
        ("GET", "/import/runs", Perm(Import)),
        ("GET", "/import/runs/{id}", Perm(Import)),
        ("POST", "/import/runs/{id}/undo", Perm(Import)),
        ("GET", "/api/v1/import/runs", Perm(Import)),
        ("POST", "/api/v1/import/runs/{id}/undo", Perm(Import)),
        ("GET", "/import/held", Login),
        ("POST", "/import/held/{id}", Perm(Import)),
        ("GET", "/api/v1/import/held", Login),
        ("POST", "/api/v1/import/held/{id}", Perm(Import)),
        ("POST", "/api/v1/import/{kind}", Perm(Import)),
        ("GET", "/api/v1/import/templates/{file}", Login),
        ("GET", "/residencies", Login),
        ("GET", "/residencies/{id}", Login),
        ("POST", "/residencies/{id}/logs", Perm(RecordResidency)),
        ("POST", "/residencies/{id}/attendance", Perm(RecordResidency)),
        // The town (or county) confirms the days a cadre reports.
        ("POST", "/residencies/{id}/attendance/confirm", Perm(DecideLeave)),
        ("POST", "/residencies/{id}/leave", Perm(RecordResidency)),
        ("POST", "/residencies/{id}/evaluation", Perm(Dispatch)),
        ("POST", "/leave/{id}/decide", Perm(DecideLeave)),
        ("GET", "/cadres/{id}", Login),
        ("GET", "/dispatch/{id}", Login),
        ("GET", "/dispatch/{id}/plan.xlsx", Login),
        ("GET", "/economy", Login),
        ("GET", "/economy.xlsx", Login),
        ("GET", "/economy/villages.xlsx", Login),
        ("GET", "/economy/zones/{id}", Login),
        ("GET", "/villages/{code}", Login),
        ("GET", "/api/v1/economy/summary", Login),
        ("GET", "/api/v1/economy/villages", Login),
        ("GET", "/static/echarts.min.js", Public),
        ("GET", "/static/charts.js", Public),
        ("POST", "/dispatch/{id}/run", Perm(Dispatch)),
        ("POST", "/dispatch/{id}/confirm", Perm(Dispatch)),
        ("POST", "/dispatch/{id}/rules", Perm(Dispatch)),
        ("POST", "/dispatch/{id}/rules/remove", Perm(Dispatch)),
        ("GET", "/api/v1/dispatch/batches/{id}/plan", Login),
        ("POST", "/api/v1/dispatch/batches/{id}/run", Perm(Dispatch)),
    ]
}

/// Who may write and retire each record kind (SPEC C3, C10: county and town administrators
/// keep the registry within their scope; the economy kinds (C4, C5) are theirs too, as their
/// imports have been; SPEC C7: they keep the roster, twinning and village
/// needs too, whoever records residencies keeps their work logs, and only county
/// administrators plan batches), and whether the kind has a detail page of its own (a cadre's
/// residencies, a batch's plan).
fn reviewed_kinds() -> Vec<(&'static str, Guard, bool)> {
    use Guard::Perm;
    use Permission::{Dispatch, Import, RecordResidency};
    vec![
        // Programs and zones are the county's plan: changing them needs the configure permission
        // (county administrators) and a scope covering the county.
        ("programs", Perm(Permission::Configure), true),
        ("zones", Perm(Permission::Configure), true),
        ("units", Perm(Import), true),
        ("orgs", Perm(Import), true),
        ("members", Perm(Import), true),
        ("products", Perm(Import), false),
        ("chains", Perm(Import), false),
        ("brands", Perm(Import), false),
        ("income", Perm(Import), false),
        ("targets", Perm(Import), false),
        ("cadres", Perm(Import), true),
        ("twinning", Perm(Import), false),
        ("needs", Perm(Import), false),
        ("work_logs", Perm(RecordResidency), false),
        ("dispatch", Perm(Dispatch), true),
    ]
}

/// The generic routes of every record kind (`ringline::web::records`): everyone reads their
/// scope; writing and retiring need the kind's permission.
fn kind_routes() -> Vec<(String, String, Guard)> {
    use Guard::Login;
    let mut out = vec![("GET".to_string(), "/api/v1/lookup/divisions".to_string(), Login)];
    for (k, write, own_page) in reviewed_kinds() {
        let mut add = |m: &str, p: String, g: Guard| out.push((m.to_string(), p, g));
        add("GET", format!("/{k}"), Login);
        add("GET", format!("/{k}.xlsx"), Login);
        add("GET", format!("/{k}/new"), write);
        add("POST", format!("/{k}/new"), write);
        if !own_page {
            add("GET", format!("/{k}/{{id}}"), Login);
        }
        add("GET", format!("/{k}/{{id}}/edit"), write);
        add("POST", format!("/{k}/{{id}}/edit"), write);
        // Programs are never retired: they keep their history.
        if k != "programs" {
            add("GET", format!("/{k}/{{id}}/retire"), write);
            add("POST", format!("/{k}/{{id}}/retire"), write);
            add("POST", format!("/api/v1/{k}/{{id}}/retire"), write);
        }
        add("GET", format!("/api/v1/{k}"), Login);
        add("POST", format!("/api/v1/{k}"), write);
        add("GET", format!("/api/v1/{k}/{{id}}"), Login);
        add("PATCH", format!("/api/v1/{k}/{{id}}"), write);
        add("GET", format!("/api/v1/lookup/{k}"), Login);
    }
    out
}

#[test]
fn every_route_is_in_the_reviewed_table() {
    let key = |m: &str, p: &str, g: Guard| format!("{m} {p} {g:?}");
    let mut registered: Vec<String> = route_specs()
        .into_iter()
        .map(|s| key(s.method.as_str(), s.path, s.guard))
        .collect();
    let mut expected: Vec<String> = reviewed().into_iter().map(|(m, p, g)| key(m, p, g)).collect();
    expected.extend(kind_routes().into_iter().map(|(m, p, g)| key(&m, &p, g)));
    registered.sort();
    expected.sort();
    let unreviewed: Vec<&String> = registered.iter().filter(|r| !expected.contains(r)).collect();
    let missing: Vec<&String> = expected.iter().filter(|e| !registered.contains(e)).collect();
    assert!(
        unreviewed.is_empty() && missing.is_empty(),
        "routes not in the table (add them after deciding their guard): {unreviewed:#?}\n\
         table entries with no such route: {missing:#?}"
    );
}

/// A concrete URL for a route pattern.
fn concrete(path: &str) -> String {
    if path == "/lang/{code}" {
        return "/lang/en".into();
    }
    path.replace("{id}", "1").replace("{code}", "630121100202")
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Sends `method path` with `client`; returns status, `Location` and the JSON error code (API).
async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    method: &Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut req = client.request(method.clone(), app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let code = if path.starts_with("/api/") {
        r.json::<Value>()
            .await
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(String::from))
    } else {
        None
    }
    .unwrap_or_default();
    (status, location, code)
}

async fn every_route_enforces_its_guard(app: TestApp) {
    {
        let mut conn = app.conn();
        // A village reporter has no permission beyond reading its scope.
        calls::create_user(
            &mut conn,
            "reporter",
            "reporter-pass-1",
            Role::VillageReporter,
            "630121100202",
        );
        // A viewer lacks even the residency records a village reporter keeps.
        calls::create_user(&mut conn, "viewer", "viewer-pass-1", Role::Viewer, "630121100202");
    }
    let anonymous = new_client();
    let reporter = new_client();
    app.login_as(&reporter, "reporter", "reporter-pass-1").await;
    let viewer = new_client();
    app.login_as(&viewer, "viewer", "viewer-pass-1").await;
    app.login().await;

    let mut wrong = Vec::new();
    for spec in route_specs() {
        let method = Method::from_bytes(spec.method.as_str().as_bytes()).expect("method");
        let path = concrete(spec.path);
        let api = path.starts_with("/api/");
        let what = format!("{method} {path} ({:?})", spec.guard);

        // Without a session.
        let (status, location, code) = call(&app, &anonymous, &method, &path, &[]).await;
        let refused = if api {
            status == StatusCode::UNAUTHORIZED && code == "unauthorized"
        } else {
            status == StatusCode::SEE_OTHER && location.starts_with("/login?next=")
        };
        let wants_login = spec.guard != Guard::Public;
        if refused != wants_login {
            wrong.push(format!("{what} anonymous: {status} {location} {code}"));
        }

        // A role without the permission.
        if let Guard::Perm(p) = spec.guard {
            let (client, role) = if Role::VillageReporter.can(p) {
                (&viewer, Role::Viewer)
            } else {
                (&reporter, Role::VillageReporter)
            };
            assert!(!role.can(p));
            let (status, _, code) = call(&app, client, &method, &path, &[]).await;
            if status != StatusCode::FORBIDDEN || (api && code != "forbidden") {
                wrong.push(format!("{what} as a {role:?}: {status} {code}"));
            }
        }

        // Unsafe requests: the CSRF token is required, and other sites' requests are refused.
        if is_unsafe(&method) && wants_login {
            let (status, _, code) = call(&app, &app.client, &method, &path, &[]).await;
            if status != StatusCode::FORBIDDEN || (api && code != "csrf") {
                wrong.push(format!("{what} without a CSRF token: {status} {code}"));
            }
        }
        if is_unsafe(&method) {
            let origin = [("Origin", "http://evil.example")];
            let (status, _, _) = call(&app, &app.client, &method, &path, &origin).await;
            if status != StatusCode::FORBIDDEN {
                wrong.push(format!("{what} from another origin: {status}"));
            }
        }
    }
    assert!(wrong.is_empty(), "guards not enforced:\n{}", wrong.join("\n"));

    // Still logged in: none of the refused requests did anything to the session.
    let (status, _) = app.get_json("/api/v1/session").await;
    assert_eq!(status, StatusCode::OK);
}

on_both_backends!(every_route_enforces_its_guard);
