//! The audit log (SPEC C10): every write leaves an entry (who, when, which record, before →
//! after), every unmasked view too; no password or unmasked phone is ever in it; it can be
//! searched and exported to XLSX; the database refuses to change or delete entries.

use std::collections::BTreeSet;

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use ringline::access::Access;
use ringline::audit::Entry;
use ringline::db::schema::audit_log;
use serde_json::{Value, json};

use crate::calls;
use crate::datong::{COUNTY, DONGXIA};
use crate::harness::{ADMIN_PASSWORD, TestApp, xlsx_cells};

/// 南滩村 (东峡镇).
const NANTAN: &str = "630121103201";

/// The entries after the `skip` first ones.
fn entries_after(app: &TestApp, skip: usize) -> Vec<Entry> {
    calls::audit_rows(&mut app.conn()).into_iter().skip(skip).collect()
}

/// The JSON of an entry's before/after column.
fn parsed(json: &Option<String>) -> Value {
    json.as_deref()
        .map(|s| serde_json::from_str(s).expect("the column holds JSON"))
        .unwrap_or(Value::Null)
}

/// Every text of an entry, for searching it for secrets.
fn all_text(e: &Entry) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        e.username,
        e.action,
        e.entity,
        e.entity_id,
        e.before_json.clone().unwrap_or_default(),
        e.after_json.clone().unwrap_or_default(),
        e.detail
    )
}

async fn every_user_change_is_audited_without_secrets(app: TestApp) {
    let (admin_id, start) = {
        let mut conn = app.conn();
        let admin_id = ringline::users::id_of(&mut conn, "admin").expect("admin");
        (admin_id, calls::audit_rows(&mut conn).len())
    };
    let before_work = ringline::db::now();
    let admin = app.admin().await;

    // Through the API: create, disable, enable, reset, unmask; the user changes their password.
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({"username": "zhao", "password": "zhao-pass-one", "role": "village-reporter",
                   "scope": NANTAN, "display_name": "赵六", "phone": "13812345678"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let path = format!("/api/v1/users/{id}");
    assert_eq!(
        admin.patch_json(&path, json!({"disabled": true})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        admin.patch_json(&path, json!({"disabled": false})).await.0,
        StatusCode::OK
    );
    let (status, _) = admin
        .post_json(&format!("{path}/password"), json!({"password": "zhao-pass-two"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = admin.post_json(&format!("{path}/unmask"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let zhao = app.session("zhao", "zhao-pass-two").await;
    let (status, _) = zhao
        .post_json(
            "/api/v1/account/password",
            json!({"current": "zhao-pass-two", "new": "zhao-pass-three"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Refused changes are not recorded.
    let (status, _) = admin
        .post_json(&format!("{path}/password"), json!({"password": "tiny"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let id_s = id.to_string();
    let entries = entries_after(&app, start);
    let got: Vec<(&str, &str, &str, &str, Option<i64>)> = entries
        .iter()
        .map(|e| {
            (
                e.username.as_str(),
                e.action.as_str(),
                e.entity.as_str(),
                e.entity_id.as_str(),
                e.user_id,
            )
        })
        .collect();
    // PATCH may be recorded as `disable`/`enable` or as a general `update`; before → after
    // says what changed either way (checked below).
    let patch = |e: &(&str, &str, &str, &str, Option<i64>), named: &str| e.1 == named || e.1 == "update";
    let who = Some(admin_id);
    assert_eq!(got.len(), 6, "{got:?}");
    assert_eq!(got[0], ("admin", "create", "user", id_s.as_str(), who));
    assert!(patch(&got[1], "disable") && patch(&got[2], "enable"), "{got:?}");
    for g in &got[1..3] {
        assert_eq!((g.0, g.2, g.3, g.4), ("admin", "user", id_s.as_str(), who));
    }
    assert_eq!(got[3], ("admin", "password-reset", "user", id_s.as_str(), who));
    assert_eq!(got[4], ("admin", "unmask", "user", id_s.as_str(), who));
    assert_eq!(got[5], ("zhao", "password-change", "user", id_s.as_str(), Some(id)));
    let after_work = ringline::db::now();
    for e in &entries {
        assert!(e.at >= before_work && e.at <= after_work, "{e:?} is timed");
    }
    // create: no before; after is the record with the phone masked.
    assert_eq!(entries[0].before_json, None);
    let created = parsed(&entries[0].after_json);
    assert_eq!(
        created,
        json!({"username": "zhao", "display_name": "赵六", "role": "village-reporter",
               "scope": NANTAN, "disabled": false, "phone": "138****5678"})
    );
    // disable / enable: before → after.
    assert_eq!(parsed(&entries[1].before_json)["disabled"], false);
    assert_eq!(parsed(&entries[1].after_json)["disabled"], true);
    assert_eq!(parsed(&entries[2].before_json)["disabled"], true);
    assert_eq!(parsed(&entries[2].after_json)["disabled"], false);
    let mut unchanged = parsed(&entries[1].before_json);
    unchanged["disabled"] = json!(true);
    assert_eq!(unchanged, parsed(&entries[1].after_json), "only `disabled` changed");
    // Passwords: the fact, never the value.
    for e in [&entries[3], &entries[5]] {
        assert_eq!((&e.before_json, &e.after_json), (&None, &None), "{e:?}");
    }
    assert_eq!(entries[4].detail, "phone", "the unmasked field");

    // Through the pages: create, disable, reset.
    let a = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "qian"),
                ("password", "qian-pass-one"),
                ("role", "viewer"),
                ("scope", DONGXIA),
                ("phone", "13900001111"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let qian = ringline::users::id_of(&mut app.conn(), "qian").expect("qian");
    let a = admin.post_form(&format!("/admin/users/{qian}/disable"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = admin
        .post_form(
            &format!("/admin/users/{qian}/password"),
            &[("password", "qian-pass-two")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = admin.post_form(&format!("/admin/users/{qian}/unmask"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    let qian_s = qian.to_string();
    let page_entries: Vec<(String, String, String)> = entries_after(&app, start + entries.len())
        .into_iter()
        .map(|e| (e.username, e.action, e.entity_id))
        .collect();
    let q = |a: &str| ("admin".to_string(), a.to_string(), qian_s.clone());
    assert_eq!(
        page_entries,
        vec![q("create"), q("disable"), q("password-reset"), q("unmask")]
    );

    // No password, hash or unmasked phone anywhere in the log.
    let secrets = [
        "zhao-pass-one",
        "zhao-pass-two",
        "zhao-pass-three",
        "qian-pass-one",
        "qian-pass-two",
        "tiny",
        ADMIN_PASSWORD,
        "13812345678",
        "13900001111",
        "$argon2",
    ];
    for e in calls::audit_rows(&mut app.conn()) {
        let text = all_text(&e);
        for s in secrets {
            assert!(!text.contains(s), "entry {} holds {s:?}: {text}", e.id);
        }
    }

    // The API returns the same entries, newest first.
    let (status, page) = admin
        .get_json(&format!("/api/v1/audit?entity=user&entity_id={id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 6);
    let ids: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    let newest_first: Vec<i64> = entries.iter().rev().map(|e| e.id).collect();
    assert_eq!(ids, newest_first);
    assert_eq!(page["items"][5]["after_json"], json!(entries[0].after_json));
}

async fn audit_search_filters_and_exports(app: TestApp) {
    let (a_id, b_id) = {
        let mut conn = app.conn();
        calls::add_user(&mut conn, "auditor", "auditor-pass-1", "viewer", COUNTY, None);
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        (
            calls::add_user(
                &mut conn,
                "a.user",
                "a-user-pass-1",
                "village-reporter",
                NANTAN,
                Some("13812345678"),
            ),
            calls::add_user(&mut conn, "b.user", "b-user-pass-1", "viewer", DONGXIA, None),
        )
    };
    let admin = app.admin().await;
    let town = app.session("dongxia", "dongxia-pass-1").await;
    for _ in 0..2 {
        let (status, _) = admin
            .post_json(&format!("/api/v1/users/{a_id}/unmask"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let a = town
        .send(Method::POST, &format!("/api/v1/users/{a_id}/unmask"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = admin.post_form(&format!("/admin/users/{b_id}/disable"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);

    let auditor = app.session("auditor", "auditor-pass-1").await;
    let search = |q: String| {
        let auditor = &auditor;
        async move {
            let (status, page) = auditor.get_json(&format!("/api/v1/audit{q}")).await;
            assert_eq!(status, StatusCode::OK, "{q}: {page}");
            page
        }
    };
    let all = search(String::new()).await;
    let total = all["total"].as_i64().expect("total");
    assert_eq!(total, calls::audit_rows(&mut app.conn()).len() as i64);
    let unmasks = search("?action=unmask".into()).await;
    assert_eq!(unmasks["total"], 3);
    let items = unmasks["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|e| e["action"] == "unmask" && e["entity_id"].as_str() == Some(a_id.to_string().as_str()))
    );
    let by_town = search("?action=unmask&username=dongxia".into()).await;
    assert_eq!(by_town["total"], 1);
    let about_b = search(format!("?entity=user&entity_id={b_id}")).await;
    let actions: Vec<&str> = about_b["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["disable", "create"], "newest first");
    let today = chrono::Utc::now().date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let around = search(format!(
        "?from={}&to={}",
        day(today - chrono::Days::new(1)),
        day(today + chrono::Days::new(1))
    ))
    .await;
    assert_eq!(around["total"], total);
    let later = search(format!("?from={}", day(today + chrono::Days::new(1)))).await;
    assert_eq!(later["total"], 0);
    let paged = search("?limit=1&offset=1".into()).await;
    assert_eq!(paged["total"], total);
    assert_eq!(paged["items"].as_array().expect("items").len(), 1);
    assert_eq!(paged["items"][0]["id"], all["items"][1]["id"]);
    let (status, body) = auditor.get_json("/api/v1/audit?limit=0").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid-limit"))
    );

    // The page.
    auditor.english().await;
    let page = auditor.get("/audit?action=unmask").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("/audit.xlsx?action=unmask"),
        "the export keeps the filter"
    );
    assert!(html.contains(">3 entries"), "the count of matches");

    // The export: a header row, then one row per entry, newest first.
    let x = auditor.get("/audit.xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(
        x.header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(x.header("content-disposition").starts_with("attachment;"));
    let rows = xlsx_cells(&x.body);
    assert_eq!(rows.len() as i64, 1 + total);
    // 序号 1…n, then the entry numbers as numbers.
    let typed = crate::harness::xlsx_data(&x.body);
    assert_eq!(typed[1][0], calamine::Data::Float(1.0));
    assert!(matches!(typed[1][1], calamine::Data::Float(_)), "{:?}", typed[1]);
    let ids: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    let api_ids: Vec<String> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].to_string())
        .collect();
    assert_eq!(ids, api_ids);
    let rows = xlsx_cells(&auditor.get("/audit.xlsx?action=unmask").await.body);
    assert_eq!(rows.len(), 1 + 3);
    let a_s = a_id.to_string();
    assert_eq!(
        rows[1..]
            .iter()
            .map(|r| (
                r[3].as_str(),
                r[4].as_str(),
                r[5].as_str(),
                r[6].as_str(),
                r[9].as_str()
            ))
            .collect::<Vec<_>>(),
        vec![
            ("dongxia", "personal data shown", "user", a_s.as_str(), "phone"),
            ("admin", "personal data shown", "user", a_s.as_str(), "phone"),
            ("admin", "personal data shown", "user", a_s.as_str(), "phone"),
        ]
    );
    let create = xlsx_cells(
        &auditor
            .get(&format!("/audit.xlsx?entity_id={a_id}&action=create"))
            .await
            .body,
    );
    assert_eq!(create.len(), 2);
    assert!(create[1][8].contains("138****5678"), "after: {:?}", create[1]);
    assert!(!create.concat().iter().any(|c| c.contains("13812345678")));
}

async fn the_audit_log_refuses_updates_and_deletes(app: TestApp) {
    calls::add_user(&mut app.conn(), "sun", "sun-pass-one", "viewer", DONGXIA, None);
    let mut conn = app.conn();
    let before = format!("{:?}", calls::audit_rows(&mut conn));
    let first: i64 = audit_log::table
        .select(diesel::dsl::min(audit_log::id))
        .first::<Option<i64>>(&mut conn)
        .expect("min id")
        .expect("an entry");
    for sql in [
        "UPDATE audit_log SET action = 'tampered'".to_string(),
        format!("UPDATE audit_log SET detail = 'x', after_json = NULL WHERE id = {first}"),
        "DELETE FROM audit_log".to_string(),
        format!("DELETE FROM audit_log WHERE id = {first}"),
    ] {
        let r = diesel::sql_query(&sql).execute(&mut conn);
        assert!(r.is_err(), "{sql} was allowed");
    }
    let r = diesel::update(audit_log::table)
        .set(audit_log::username.eq("someone-else"))
        .execute(&mut conn);
    assert!(r.is_err(), "a diesel update was allowed");
    let r = diesel::delete(audit_log::table.filter(audit_log::id.eq(first))).execute(&mut conn);
    assert!(r.is_err(), "a diesel delete was allowed");
    assert_eq!(format!("{:?}", calls::audit_rows(&mut conn)), before, "nothing changed");
    drop(conn);
    // Appending still works.
    let n = calls::audit_rows(&mut app.conn()).len();
    calls::add_user(&mut app.conn(), "zhou", "zhou-pass-one", "viewer", DONGXIA, None);
    assert_eq!(calls::audit_rows(&mut app.conn()).len(), n + 1);
}

async fn zone_geometry_changes_and_division_imports_are_audited(app: TestApp) {
    use ringline::core::zone::ZoneGeometry;
    let mut conn = app.conn();
    let line = calls::zone_id(&mut conn, "东峡线");
    let start = calls::audit_rows(&mut conn).len();
    let pid = calls::datong_program_id(&mut conn);
    let zone = calls::zones_of(&mut conn, pid)
        .into_iter()
        .find(|z| z.id == line)
        .expect("东峡线");
    let ZoneGeometry::Line { path, half_width_km } = zone.geometry.clone() else {
        panic!("the 东峡线 is a line")
    };
    assert_eq!(half_width_km, 2.0);
    let wider = ZoneGeometry::Line {
        path,
        half_width_km: 2.5,
    };
    ringline::zones::set_geometry(&mut conn, &Access::system(), line, &wider).expect("set_geometry");
    let new = entries_after(&app, start);
    assert_eq!(new.len(), 1, "{new:?}");
    let e = &new[0];
    assert_eq!(
        (
            e.username.as_str(),
            e.action.as_str(),
            e.entity.as_str(),
            e.entity_id.as_str()
        ),
        ("system", "update", "zone", line.to_string().as_str())
    );
    assert_eq!(e.user_id, None);
    assert_eq!(parsed(&e.before_json)["geometry"]["half_width_km"], 2.0);
    assert_eq!(parsed(&e.before_json)["geometry_note"], "assumption");
    assert_eq!(parsed(&e.after_json)["geometry"]["half_width_km"], 2.5);

    // A dry run writes nothing; an applied import writes one entry with its counts.
    let opts = ringline::import::divisions::Options {
        only: Some("630123".into()),
        ..Default::default()
    };
    let fixture = crate::harness::fixture("national/villages.csv");
    ringline::import::divisions::import_file(&mut conn, &fixture, &opts, false).expect("dry run");
    assert_eq!(
        calls::audit_rows(&mut conn).len(),
        start + 1,
        "a dry run is not a write"
    );
    calls::import(&mut conn, &fixture, &opts);
    let new = entries_after(&app, start + 1);
    assert_eq!(new.len(), 1, "{new:?}");
    let e = &new[0];
    assert_eq!(
        (
            e.username.as_str(),
            e.action.as_str(),
            e.entity.as_str(),
            e.entity_id.as_str()
        ),
        ("system", "import", "division", "630123")
    );
    // 湟源县, its 城关镇 and three communities (tests/fixtures/README.md).
    let counts = parsed(&e.after_json);
    assert_eq!(counts["new"], 5, "{counts}");
    assert_eq!(counts["retired"], 0);
    assert!(e.detail.contains("villages.csv"), "{}", e.detail);
}

/// Putting a village on a zone's include or exclude list, and taking it off, is a write like
/// any other: one entry per change, naming the zone's list and the village, by whoever made it
/// (at 3d57e24 `zones::set_override` wrote no entry).
async fn zone_include_and_exclude_lists_are_audited(app: TestApp) {
    let mut conn = app.conn();
    let line = calls::zone_id(&mut conn, "东峡线");
    // 闇门滩村 (桥头镇), in the ring, not in the 东峡线.
    let code = "630121100202";
    let mut missing = Vec::new();
    for action in [Some("include"), Some("exclude"), None] {
        let start = calls::audit_rows(&mut conn).len();
        calls::set_override(&mut conn, line, code, action, "测试").expect("set_override");
        let new: Vec<Entry> = calls::audit_rows(&mut conn).into_iter().skip(start).collect();
        let about: Vec<&Entry> = new
            .iter()
            .filter(|e| e.entity.starts_with("zone") && e.username == "system" && all_text(e).contains(code))
            .collect();
        if about.len() != 1 {
            missing.push(format!("{action:?}: {} entries {new:?}", about.len()));
        }
    }
    assert!(
        missing.is_empty(),
        "changes of the include/exclude lists not audited:\n{}",
        missing.join("\n")
    );
}

/// BUG (src/audit.rs `search`: "a caller whose scope is a whole county … reads every entry"):
/// Datong's auditor reads the entries made by 湟源县's own county admin about 湟源县's users —
/// usernames, names, scopes — though "every read … is filtered by the caller's scope".
/// Expected: entries by users outside the caller's county are neither listed nor exported.
async fn audit_entries_of_another_county_are_not_shown(app: TestApp) {
    {
        let mut conn = app.conn();
        calls::add_huangyuan(&mut conn);
        calls::add_user(
            &mut conn,
            "hy.admin",
            "hy-admin-pass",
            "county-admin",
            "630123000000",
            None,
        );
        calls::add_user(&mut conn, "auditor", "auditor-pass-1", "viewer", COUNTY, None);
    }
    let hy = app.session("hy.admin", "hy-admin-pass").await;
    let (status, body) = hy
        .post_json(
            "/api/v1/users",
            json!({"username": "hy.reporter", "password": "hy-reporter-pass", "role": "village-reporter",
                   "scope": "630123100001", "display_name": "湟源填报员"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let auditor = app.session("auditor", "auditor-pass-1").await;
    let mut shown = BTreeSet::new();
    let (_, page) = auditor.get_json("/api/v1/audit?username=hy.admin").await;
    if page["total"] != 0 {
        shown.insert(format!("/api/v1/audit?username=hy.admin: total {}", page["total"]));
    }
    for path in ["/api/v1/audit?limit=1000", "/audit", "/audit.xlsx"] {
        let a = auditor.get(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let text = crate::matrix::shown_text(&a);
        if text.contains("hy.reporter") || text.contains("湟源填报员") {
            shown.insert(format!("{path} shows hy.admin's creation of hy.reporter"));
        }
    }
    assert!(shown.is_empty(), "{shown:#?}");
}

on_both_backends!(
    every_user_change_is_audited_without_secrets,
    audit_search_filters_and_exports,
    the_audit_log_refuses_updates_and_deletes,
    zone_geometry_changes_and_division_imports_are_audited,
    zone_include_and_exclude_lists_are_audited,
    audit_entries_of_another_county_are_not_shown,
);
