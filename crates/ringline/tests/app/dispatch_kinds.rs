//! The dispatch kinds on the record-kind description (SPEC C7): batches, cadres, twinning pairs,
//! village needs and work logs created, changed and retired through the web forms, the JSON API
//! and the command line, each path refusing a bad value with the same rule key as the import;
//! and the walk-through's fixes on the dispatch pages (only eligible cadres offered for a pin,
//! overlapping leave and a second log of a day refused, attendance confirmed by the town, no link
//! a reader cannot open, cadres told apart by birth year and source).
//!
//! The fixture is `dispatch.rs`'s (cadres C1–C4, units 测试单位一 in 东峡镇 and 测试单位二 in
//! 城关镇, villages V1–V4 of 东峡镇, reference date 2026-11-01); ID numbers not in it are those
//! of `tests/fixtures/dispatch/cadres.csv` (valid GB 11643 numbers, see the fixtures' README).

use diesel::prelude::*;
use ringline::access::Access;
use ringline::auth::Role;
use ringline::cadres::batch;
use ringline::cadres::residency::{self, LeaveFilter, ResidencyFilter};
use ringline::db::DbConn;
use ringline::db::schema::units;
use serde_json::{Value, json};

use crate::calls::add_user;
use crate::dispatch::{CHENGGUAN, DONGXIA, V1, V2, V3, V4, access, batch_input, cli, day, fixture_data};
use crate::harness::{Answer, Session, TestApp};

on_both_backends!(
    batches_through_forms_api_and_cli,
    roster_twinning_and_needs_through_forms_api_and_cli,
    work_logs_through_forms_api_and_cli,
    renamed_skills_keep_their_old_labels,
    pin_list_offers_eligible_cadres_told_apart,
    leave_and_attendance_on_the_residency_pages,
    dispatch_pages_link_only_what_the_reader_can_open,
    same_day_logs_joined_by_the_upgrade,
    held_cadre_transferred_by_the_county,
);

/// The issue keys of a refused API call (422, `invalid-input`).
fn issue_keys(a: &Answer) -> Vec<String> {
    assert_eq!(a.status, 422, "{}", a.text());
    let body = a.json();
    assert_eq!(body["error"]["code"], "invalid-input", "{body}");
    body["error"]["issues"]
        .as_array()
        .map(|v| v.iter().filter_map(|i| i["key"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// The path a form's answer redirects to.
fn location(a: &Answer) -> String {
    assert_eq!(a.status, 303, "{}", a.text());
    a.header("location")
}

fn unit_id(conn: &mut DbConn, name: &str) -> i64 {
    units::table
        .filter(units::name.eq(name))
        .select(units::id)
        .first(conn)
        .expect("unit id")
}

/// The command line's exit status and output (SQLite only; `None` on PostgreSQL).
fn run(app: &TestApp, args: &[&str]) -> Option<(bool, String, String)> {
    cli(app, args).map(|o| {
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
}

/// A batch's settings as the form sends them.
fn batch_form<'a>(name: &'a str, min: &'a str, max: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("county", ""),
        ("reference_date", "2026-11-01"),
        ("min_size", min),
        ("max_size", max),
        ("per_village", "1"),
        ("young_max_age", "40"),
        ("term_months", "24"),
        ("per_priority_point", "10"),
        ("twinning_bonus", "5"),
    ]
}

async fn batches_through_forms_api_and_cli(app: TestApp) {
    {
        let mut conn = app.conn();
        fixture_data(&mut conn);
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
    }
    let admin = app.admin().await;

    // The new form starts from the defaults and the administrator's county.
    let form = admin.get("/dispatch/new").await;
    assert_eq!(form.status, 200);
    let html = form.text();
    for v in ["value=\"20\"", "value=\"30\"", "value=\"24\"", "value=\"40\""] {
        assert!(html.contains(v), "{v} in the new form");
    }
    assert!(html.contains("大通回族土族自治县"), "the county is chosen");

    // Created through the form: the batch page, with Edit and Delete for a draft.
    let at = location(
        &admin
            .post_form("/dispatch/new", &batch_form("表单批次", "1", "3"))
            .await,
    );
    assert!(at.starts_with("/dispatch/") && at.ends_with("?saved=created"), "{at}");
    let id: i64 = at["/dispatch/".len()..at.find('?').expect("query")]
        .parse()
        .expect("batch id");
    let page = admin.get(&at).await.text();
    assert!(page.contains("已保存：记录已创建。"), "the saved message");
    assert!(
        page.contains(&format!("href=\"/dispatch/{id}/edit\""))
            && page.contains(&format!("href=\"/dispatch/{id}/retire\""))
    );
    let (_, b) = admin.get_json(&format!("/api/v1/dispatch/{id}")).await;
    assert_eq!(
        (
            b["county_code"].as_str(),
            b["min_size"].as_i64(),
            b["max_size"].as_i64(),
            b["status"].as_str()
        ),
        (Some("630121000000"), Some(1), Some(3), Some("draft"))
    );

    // The same rule on every path: a minimum above the maximum.
    let refused = admin.post_form("/dispatch/new", &batch_form("反了", "30", "20")).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("下限不能大于上限"), "{}", refused.text());
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/dispatch",
            Some(json!({"name": "反了", "reference_date": "2026-11-01", "min_size": 30, "max_size": 20})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["dispatch-size-range"]);
    // A name in use, in the kind's own words.
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/dispatch",
            Some(json!({"name": "表单批次", "reference_date": "2026-11-01"})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["key-taken-dispatch"]);
    // A town's scope does not cover the county: the town administrator may not plan at all.
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    assert_eq!(town.get("/dispatch/new").await.status, 403);

    // Edited through the API and the form; a run, then a change: the plan stays, out of date.
    let (status, changed) = admin
        .patch_json(&format!("/api/v1/dispatch/{id}"), json!({"max_size": 4}))
        .await;
    assert_eq!(
        (status.as_u16(), changed["max_size"].as_i64()),
        (200, Some(4)),
        "{changed}"
    );
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/dispatch/batches/{id}/run"),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let planned = a.json()["pairs"].as_array().map(Vec::len).unwrap_or(0);
    assert!(planned > 0);
    let to = location(
        &admin
            .post_form(&format!("/dispatch/{id}/edit"), &batch_form("表单批次（改）", "1", "3"))
            .await,
    );
    assert_eq!(to, format!("/dispatch/{id}?saved=updated"));
    let (_, b) = admin.get_json(&format!("/api/v1/dispatch/{id}")).await;
    assert_eq!(
        (b["name"].as_str(), b["plan_outdated"].as_bool(), b["pairs"].as_i64()),
        // Names are read as the import reads them: full-width brackets become half-width.
        (Some("表单批次(改)"), Some(true), Some(planned as i64)),
        "{b}"
    );

    // A confirmed batch no longer changes and is not deleted.
    let confirmed = {
        let mut conn = app.conn();
        let sys = Access::system();
        let c = batch::create_batch(&mut conn, &sys, &batch_input("已确认批次", 2, 3)).expect("batch");
        batch::run(&mut conn, &sys, c).expect("plan");
        batch::confirm(&mut conn, &sys, c).expect("confirm");
        c
    };
    let a = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/dispatch/{confirmed}"),
            Some(json!({"max_size": 5})),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.error_code()),
        (409, "dispatch-batch-confirmed".to_string())
    );
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/dispatch/{confirmed}/retire"),
            None,
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.error_code()),
        (409, "dispatch-batch-confirmed".to_string())
    );
    let page = admin.get(&format!("/dispatch/{confirmed}")).await.text();
    assert!(
        !page.contains(&format!("/dispatch/{confirmed}/edit")),
        "no Edit for a confirmed batch"
    );

    // Deleted through the form (a draft): gone from the list.
    let to = location(&admin.post_form(&format!("/dispatch/{id}/retire"), &[]).await);
    assert_eq!(to, format!("/dispatch?retired_id={id}"));
    assert_eq!(admin.get(&format!("/dispatch/{id}")).await.status, 404);

    // The command line: add with the defaults, the same refusal, edit, list, delete.
    if let Some((ok, out, err)) = run(
        &app,
        &[
            "dispatch",
            "add",
            "name=命令行批次",
            "county=630121000000",
            "reference_date=2026-11-01",
        ],
    ) {
        assert!(ok, "{err}");
        let cli_id: i64 = out
            .trim()
            .trim_end_matches('.')
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("an id in {out:?}"));
        let (_, b) = admin.get_json(&format!("/api/v1/dispatch/{cli_id}")).await;
        assert_eq!(
            (
                b["min_size"].as_i64(),
                b["max_size"].as_i64(),
                b["young_max_age"].as_i64()
            ),
            (Some(20), Some(30), Some(40)),
            "the defaults"
        );
        let (ok, _, err) = run(
            &app,
            &[
                "dispatch",
                "add",
                "name=反了",
                "county=630121000000",
                "reference_date=2026-11-01",
                "min_size=30",
                "max_size=20",
            ],
        )
        .expect("sqlite");
        assert!(!ok && err.contains("minimum may not exceed"), "{err}");
        let (ok, _, err) = run(&app, &["dispatch", "edit", &cli_id.to_string(), "young_max_age="]).expect("sqlite");
        assert!(ok, "{err}");
        let (_, b) = admin.get_json(&format!("/api/v1/dispatch/{cli_id}")).await;
        assert_eq!(b["young_max_age"], Value::Null, "empty: any age");
        let (ok, out, _) = run(&app, &["dispatch", "list", "--format", "json"]).expect("sqlite");
        assert!(ok && out.contains("命令行批次") && out.contains("已确认批次"), "{out}");
        let (ok, _, err) = run(&app, &["dispatch", "retire", &cli_id.to_string()]).expect("sqlite");
        assert!(ok, "{err}");
        assert_eq!(admin.get(&format!("/dispatch/{cli_id}")).await.status, 404);
    }
}

async fn roster_twinning_and_needs_through_forms_api_and_cli(app: TestApp) {
    let (f, u1) = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        // A unit of 湟源县, another county.
        crate::calls::add_huangyuan(&mut conn);
        let at = ringline::db::now();
        ringline::registry::insert_units(
            &mut conn,
            &[ringline::registry::NewUnit {
                name: "湟源测试单位".into(),
                kind: "agency".into(),
                credit_code: None,
                credit_code_unverified: false,
                division_code: "630123100001".into(),
                address: String::new(),
                lon: None,
                lat: None,
                headcount: None,
                party_member_count: None,
                illustrative: false,
                created_at: at,
                updated_at: at,
            }],
        )
        .expect("unit");
        let u1 = unit_id(&mut conn, "测试单位一");
        (f, u1)
    };
    let admin = app.admin().await;

    // Cadres: a form, the API, the command line.
    let at = location(
        &admin
            .post_form(
                "/cadres/new",
                &[
                    ("name", "王海明"),
                    ("id_number", "630121199005108711"),
                    ("phone", "13800001111"),
                    ("source", "测试单位一"),
                    ("skills", "农业种植、乡村旅游"),
                    ("home_village", V4),
                ],
            )
            .await,
    );
    let wang: i64 = at["/cadres/".len()..at.find('?').expect("query")]
        .parse()
        .expect("cadre id");
    let (_, c) = admin.get_json(&format!("/api/v1/cadres/{wang}")).await;
    assert_eq!(c["skills"], json!(["agriculture", "tourism"]), "{c}");
    assert_eq!(c["id_number"], "6301**********8711", "masked");
    assert_eq!(
        (c["birth_year"].as_i64(), c["source_name"].as_str()),
        (Some(1990), Some("测试单位一"))
    );
    // An unknown skill: refused by the form and the API as by the import (`skill-unknown`).
    let refused = admin
        .post_form(
            "/cadres/new",
            &[
                ("name", "李秀兰"),
                ("id_number", "630121198803028623"),
                ("source", DONGXIA),
                ("skills", "开飞机"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("开飞机") && refused.text().contains("不在专长清单中"));
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/cadres",
            Some(json!({"name": "李秀兰", "id_number": "630121198803028623", "source": DONGXIA, "skills": ["开飞机"]})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["skill-unknown"]);
    let (status, li) = admin
        .post_json(
            "/api/v1/cadres",
            json!({"name": "李秀兰", "id_number": "630121198803028623", "source": DONGXIA, "skills": ["animal_husbandry", "乡村旅游"]}),
        )
        .await;
    assert_eq!(status, 201, "{li}");
    // Edited: the API (skills), the form (phone kept when left empty, as the form never shows it).
    let (status, c) = admin
        .patch_json(&format!("/api/v1/cadres/{wang}"), json!({"skills": "电子商务"}))
        .await;
    assert_eq!(
        (status.as_u16(), c["skills"].clone()),
        (200, json!(["e_commerce"])),
        "{c}"
    );
    let to = location(
        &admin
            .post_form(
                &format!("/cadres/{wang}/edit"),
                &[
                    ("name", "王海明"),
                    ("id_number", ""),
                    ("phone", ""),
                    ("source", "测试单位二"),
                    ("skills", "电子商务"),
                    ("home_village", ""),
                ],
            )
            .await,
    );
    assert_eq!(to, format!("/cadres/{wang}?saved=updated"));
    let (_, c) = admin.get_json(&format!("/api/v1/cadres/{wang}")).await;
    assert_eq!(
        (
            c["source_name"].as_str(),
            c["division_code"].as_str(),
            c["phone"].as_str(),
            c["home_village"].clone()
        ),
        (Some("测试单位二"), Some(CHENGGUAN), Some("138****1111"), Value::Null)
    );
    // Retired: kept with the reason, off the list; a resident cadre is not retired.
    let to = location(
        &admin
            .post_form(
                &format!("/cadres/{wang}/retire"),
                &[("reason", "transferred"), ("date", "2026-11-10")],
            )
            .await,
    );
    assert_eq!(to, format!("/cadres?retired_id={wang}"));
    let (_, list) = admin.get_json("/api/v1/cadres?limit=1000").await;
    assert!(list["items"].as_array().expect("items").iter().all(|c| c["id"] != wang));
    let page = admin.get(&format!("/cadres/{wang}")).await.text();
    assert!(page.contains("已离开名册") && page.contains("调离"), "{page}");
    {
        let mut conn = app.conn();
        let sys = Access::system();
        let b = batch::create_batch(&mut conn, &sys, &batch_input("驻村批次", 2, 3)).expect("batch");
        batch::run(&mut conn, &sys, b).expect("plan");
        batch::confirm(&mut conn, &sys, b).expect("confirm");
    }
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/cadres/{}/retire", f.c[0]),
            Some(json!({"reason": "transferred"})),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.error_code()),
        (409, "record-not-retirable".to_string()),
        "C1 is resident"
    );
    if let Some((ok, _, err)) = run(
        &app,
        &[
            "cadres",
            "add",
            "name=赵丽娟",
            "id_number=630121199202148640",
            "source=测试单位二",
            "skills=法律服务/财务金融",
        ],
    ) {
        assert!(ok, "{err}");
        let (ok, out, _) = run(&app, &["cadres", "list", "--format", "json", "--q", "赵丽娟"]).expect("sqlite");
        let rows: Value = serde_json::from_str(&out).expect("JSON");
        assert!(ok && rows[0]["skills"] == json!(["finance", "law"]), "{out}");
        let (ok, _, err) = run(
            &app,
            &[
                "cadres",
                "add",
                "name=孙七",
                "id_number=630121199109098757",
                "source=东峡镇",
                "skills=开飞机",
            ],
        )
        .expect("sqlite");
        assert!(!ok && err.contains("not on the skill list"), "{err}");
    }

    // Twinning: a form, the API, the command line; deleted when it ends.
    let to = location(
        &admin
            .post_form("/twinning/new", &[("unit", "测试单位一"), ("village", V1)])
            .await,
    );
    assert_eq!(to, format!("/twinning/{u1}-{V1}?saved=created"));
    assert!(admin.get(&to).await.text().contains("测试单位一"));
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/twinning",
            Some(json!({"unit": "测试单位一", "village": V1})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["key-taken"]);
    // A town's code, as the import refuses it (`division-wrong-level`).
    let refused = admin
        .post_form("/twinning/new", &[("unit", "测试单位一"), ("village", DONGXIA)])
        .await;
    assert_eq!(refused.status, 422);
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/twinning",
            Some(json!({"unit": "测试单位一", "village": DONGXIA})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["division-wrong-level"]);
    // A unit of another county gives no twinning bonus in this county's batches: refused.
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/twinning",
            Some(json!({"unit": "湟源测试单位", "village": V3})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["twinning-other-county"]);
    let to = location(&admin.post_form(&format!("/twinning/{u1}-{V1}/retire"), &[]).await);
    assert_eq!(to, format!("/twinning?retired_id={u1}-{V1}"));
    assert_eq!(admin.get(&format!("/api/v1/twinning/{u1}-{V1}")).await.status, 404);
    if let Some((ok, _, err)) = run(&app, &["twinning", "add", "unit=测试单位一", &format!("village={V3}")]) {
        assert!(ok, "{err}");
        let (ok, _, err) = run(&app, &["twinning", "retire", &format!("{u1}-{V3}")]).expect("sqlite");
        assert!(ok, "{err}");
    }

    // Needs: a form, the API (the import's `priority-out-of-range`), the command line.
    let to = location(
        &admin
            .post_form(
                "/needs/new",
                &[("village", V4), ("skill", "电子商务"), ("priority", "2")],
            )
            .await,
    );
    assert_eq!(to, format!("/needs/{V4}-e_commerce?saved=created"));
    let refused = admin
        .post_form(
            "/needs/new",
            &[("village", V4), ("skill", "法律服务"), ("priority", "4")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("优先级为1、2或3"));
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/needs",
            Some(json!({"village": V4, "skill": "law", "priority": 4})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["priority-out-of-range"]);
    let (status, n) = admin
        .patch_json(&format!("/api/v1/needs/{V4}-e_commerce"), json!({"priority": 3}))
        .await;
    assert_eq!((status.as_u16(), n["priority"].as_i64()), (200, Some(3)), "{n}");
    if let Some((ok, _, err)) = run(&app, &["needs", "edit", &format!("{V4}-e_commerce"), "priority=1"]) {
        assert!(ok, "{err}");
        let (_, n) = admin.get_json(&format!("/api/v1/needs/{V4}-e_commerce")).await;
        assert_eq!(n["priority"].as_i64(), Some(1));
    }
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/needs/{V4}-e_commerce/retire"),
            None,
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.text());
    assert_eq!(admin.get(&format!("/needs/{V4}-e_commerce")).await.status, 404);
}

/// C1's ID number (the fixture's 甲一).
const C1_ID: &str = "630121199603018118";

/// A confirmed batch of the fixture: C1 → V2, C2 → V1, C4 → V4 from 2026-11-01 (dispatch.rs).
/// Returns the residency of each cadre by index (C1, C2, C4).
fn confirmed(conn: &mut DbConn, c: [i64; 4]) -> [i64; 3] {
    let sys = Access::system();
    let b = batch::create_batch(conn, &sys, &batch_input("驻村批次", 2, 3)).expect("batch");
    batch::run(conn, &sys, b).expect("plan");
    batch::confirm(conn, &sys, b).expect("confirm");
    let stay = |conn: &mut DbConn, cadre: i64| -> i64 {
        let filter = ResidencyFilter {
            cadre_id: Some(cadre),
            ..Default::default()
        };
        residency::residencies(conn, &sys, &filter, 1, 0).expect("residency").0[0].id
    };
    [stay(conn, c[0]), stay(conn, c[1]), stay(conn, c[3])]
}

async fn work_logs_through_forms_api_and_cli(app: TestApp) {
    let stays = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        confirmed(&mut conn, f.c)
    };
    let admin = app.admin().await;

    // The API: one log a day; a second for the day is refused in the kind's words.
    let (status, log) = admin
        .post_json(
            "/api/v1/work_logs",
            json!({"id_number": C1_ID, "date": "2026-11-05", "content": "走访农户12户"}),
        )
        .await;
    assert_eq!(status, 201, "{log}");
    assert_eq!(
        (log["residency_id"].as_i64(), log["village_code"].as_str()),
        (Some(stays[0]), Some(V2))
    );
    let id = log["id"].as_i64().expect("id");
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/work_logs",
            Some(json!({"id_number": C1_ID, "date": "2026-11-05", "content": "又一条"})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["key-taken-work-logs"]);
    // The residency page's form: the same refusal, the stored log named by its day.
    let second = admin
        .post_form(
            &format!("/residencies/{}/logs", stays[0]),
            &[("date", "2026-11-05"), ("content", "又一条")],
        )
        .await;
    assert_eq!(second.status, 422);
    assert!(
        second.text().contains("2026-11-05 已有一条驻村日志"),
        "{}",
        second.text()
    );
    let ok = admin
        .post_form(
            &format!("/residencies/{}/logs", stays[0]),
            &[("date", "2026-11-06"), ("content", "召开村“两委”会议")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    // A day before the residency: refused as by the import (`residency-not-found`), on the
    // generic form and the API.
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/work_logs",
            Some(json!({"id_number": C1_ID, "date": "2026-10-01", "content": "驻村前"})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["residency-not-found"]);
    let refused = admin
        .post_form(
            "/work_logs/new",
            &[("id_number", C1_ID), ("date", "2026-10-01"), ("content", "驻村前")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("没有驻村任期"));
    // Edited (the API; the form keeps the ID number, which it never shows) and deleted.
    let (status, changed) = admin
        .patch_json(&format!("/api/v1/work_logs/{id}"), json!({"content": "走访农户15户"}))
        .await;
    assert_eq!(
        (status.as_u16(), changed["content"].as_str()),
        (200, Some("走访农户15户"))
    );
    let to = location(
        &admin
            .post_form(
                &format!("/work_logs/{id}/edit"),
                &[("id_number", ""), ("date", "2026-11-07"), ("content", "整理台账")],
            )
            .await,
    );
    assert_eq!(to, format!("/work_logs/{id}?saved=updated"));
    let (_, changed) = admin.get_json(&format!("/api/v1/work_logs/{id}")).await;
    assert_eq!(
        (changed["date"].as_str(), changed["cadre_name"].as_str()),
        (Some("2026-11-07"), Some("甲一"))
    );
    let to = location(&admin.post_form(&format!("/work_logs/{id}/retire"), &[]).await);
    assert_eq!(to, format!("/work_logs?retired_id={id}"));
    if let Some((ok, _, err)) = run(
        &app,
        &[
            "work_logs",
            "add",
            &format!("id_number={C1_ID}"),
            "date=2026-11-08",
            "content=入户走访",
        ],
    ) {
        assert!(ok, "{err}");
        let (ok, _, err) = run(
            &app,
            &[
                "work_logs",
                "add",
                &format!("id_number={C1_ID}"),
                "date=2026-11-08",
                "content=再记一条",
            ],
        )
        .expect("sqlite");
        assert!(!ok && err.contains("already has a work log for 2026-11-08"), "{err}");
    }
    // A village reporter elsewhere neither sees the log nor names the cadre.
    add_user(
        &mut app.conn(),
        "v1reporter",
        "v1reporter-pass",
        "village-reporter",
        V1,
        None,
    );
    let reporter = app.session("v1reporter", "v1reporter-pass").await;
    let api = reporter
        .send(
            reqwest::Method::POST,
            "/api/v1/work_logs",
            Some(json!({"id_number": C1_ID, "date": "2026-11-09", "content": "x"})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["cadre-not-found"]);
}

async fn renamed_skills_keep_their_old_labels(app: TestApp) {
    {
        let mut conn = app.conn();
        fixture_data(&mut conn);
        let sys = Access::system();
        let renamed = ringline::cadres::Skill {
            key: "agriculture".into(),
            zh: "种植业".into(),
            en: "crop farming".into(),
            sort_order: 10,
        };
        ringline::cadres::set_skill(&mut conn, &sys, &renamed).expect("rename");
        // A label that names another skill (now or before) is refused.
        let taken = ringline::cadres::Skill {
            key: "tourism".into(),
            zh: "农业种植".into(),
            en: "rural tourism".into(),
            sort_order: 70,
        };
        let e = ringline::cadres::set_skill(&mut conn, &sys, &taken).expect_err("an old label of agriculture");
        assert_eq!(e.code(), "dispatch-skill-label-taken");
    }
    let admin = app.admin().await;
    // The old label, the new label and the key all name the skill; others do not.
    // (V2 and V4 need no agriculture yet; 南滩村 630121103201 needs nothing.)
    for (village, typed) in [(V2, "农业种植"), (V4, "种植业"), (NANTAN, "crop farming")] {
        let (status, n) = admin
            .post_json(
                "/api/v1/needs",
                json!({"village": village, "skill": typed, "priority": 1}),
            )
            .await;
        assert_eq!(
            (status.as_u16(), n["skill"].as_str()),
            (201, Some("agriculture")),
            "{typed}: {n}"
        );
    }
    let (_, n) = admin.get_json(&format!("/api/v1/needs/{V2}-agriculture")).await;
    assert_eq!(n["skill_label"], json!({"zh": "种植业", "en": "crop farming"}));
    let api = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/needs",
            Some(json!({"village": V3, "skill": "种地", "priority": 1})),
        )
        .await;
    assert_eq!(issue_keys(&api), ["skill-unknown"]);
    // The import takes the old label too (麻其村 630121103202 needs nothing yet).
    let path = app.dir.path().join("needs_old_label.csv");
    std::fs::write(&path, "村代码,需求专长,优先级\n630121103202,农业种植,2\n").expect("write");
    let (report, _) = ringline::import::framework::import_file(
        &mut app.conn(),
        &Access::system(),
        ringline::import::spec::kind("needs").expect("needs"),
        &path,
        "needs_old_label.csv",
        ringline::import::framework::Options {
            apply: true,
            ..Default::default()
        },
        &mut |_, _, _| {},
    )
    .expect("import runs");
    assert!(report.applied && report.errors.is_empty(), "{:?}", report.errors);
    let (_, n) = admin.get_json("/api/v1/needs/630121103202-agriculture").await;
    assert_eq!(n["priority"].as_i64(), Some(2), "{n}");
}

/// 南滩村 (东峡镇).
const NANTAN: &str = "630121103201";

/// The cadre `<select>` of the pin form: `(value, label)` of each option.
fn pin_options(html: &str) -> Vec<(String, String)> {
    let start = html.find("<select name=\"cadre_id\"").expect("the pin form");
    let end = start + html[start..].find("</select>").expect("end of the select");
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let (value, rest) = o.split_once('"').expect("value");
            let label = rest.trim_start_matches('>').split('<').next().unwrap_or("");
            (value.to_string(), label.to_string())
        })
        .collect()
}

async fn pin_list_offers_eligible_cadres_told_apart(app: TestApp) {
    let (f, namesake, b) = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        // A second 甲一: born 1990 (36 on 2026-11-01, eligible), from 测试单位二.
        let u2 = unit_id(&mut conn, "测试单位二");
        let at = ringline::db::now();
        let ids = ringline::cadres::insert_cadres(
            &mut conn,
            &[ringline::cadres::NewCadre {
                name: "甲一".into(),
                id_number: "630121199005108711".into(),
                sex: "male".into(),
                birth_date: day(1990, 5, 10),
                phone: None,
                source_unit_id: Some(u2),
                source_town: None,
                home_village: None,
                division_code: CHENGGUAN.into(),
                illustrative: false,
                created_at: at,
                updated_at: at,
            }],
            &[vec!["tourism".into()]],
        )
        .expect("namesake");
        let b = batch::create_batch(&mut conn, &Access::system(), &batch_input("待固定批次", 1, 4)).expect("batch");
        (f, ids[0], b)
    };
    let admin = app.admin().await;
    let html = admin.get(&format!("/dispatch/{b}")).await.text();
    let options = pin_options(&html);
    let offered: Vec<i64> = options.iter().map(|o| o.0.parse().expect("id")).collect();
    // C3 is 45 on the reference date, above the batch's limit of 40: not offered.
    let mut expected = vec![f.c[0], f.c[1], f.c[3], namesake];
    expected.sort_unstable();
    let mut got = offered.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "{options:?}");
    assert!(!html.contains("丙三"), "the over-age cadre is not named on the page");
    // Two 甲一: told apart by birth year and source.
    let label = |id: i64| {
        options
            .iter()
            .find(|o| o.0 == id.to_string())
            .map(|o| o.1.clone())
            .unwrap_or_default()
    };
    assert_eq!(label(f.c[0]), "甲一 (1996, 测试单位一)，30 岁");
    assert_eq!(label(namesake), "甲一 (1990, 测试单位二)，36 岁");
    // The roster's picker (lookup) tells them apart the same way.
    let (status, found) = admin.get_json("/api/v1/lookup/cadres?q=甲一").await;
    assert_eq!(status, 200);
    let mut labels: Vec<&str> = found
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["label"].as_str())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["甲一 (1990, 测试单位二)", "甲一 (1996, 测试单位一)"]);
    // With the age rule lifted, C3 may be pinned.
    let any_age = {
        let mut conn = app.conn();
        let mut input = batch_input("不限年龄批次", 1, 4);
        input.young_max_age = None;
        batch::create_batch(&mut conn, &Access::system(), &input).expect("batch")
    };
    let html = admin.get(&format!("/dispatch/{any_age}")).await.text();
    assert!(pin_options(&html).iter().any(|o| o.0 == f.c[2].to_string()));
    // The plan names each pair's cadre the same way.
    assert_eq!(admin.post_form(&format!("/dispatch/{b}/run"), &[]).await.status, 303);
    let html = admin.get(&format!("/dispatch/{b}")).await.text();
    assert!(html.contains("甲一 (1996, 测试单位一)"), "{html}");
}

async fn leave_and_attendance_on_the_residency_pages(app: TestApp) {
    let stays = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        let stays = confirmed(&mut conn, f.c);
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
        add_user(&mut conn, "v2reporter", "v2reporter-pass", "village-reporter", V2, None);
        stays
    };
    let r = stays[0];
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    let reporter = app.session("v2reporter", "v2reporter-pass").await;

    // Leave: a request sharing a day with a pending one is refused; a rejected one frees its days.
    let leave = |s: &'static str, e: &'static str| [("start", s), ("end", e), ("reason", "家中有事")];
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/leave"), &leave("2026-12-02", "2026-12-03"))
            .await
            .status,
        303
    );
    let overlapping = reporter
        .post_form(&format!("/residencies/{r}/leave"), &leave("2026-12-03", "2026-12-05"))
        .await;
    assert_eq!(overlapping.status, 422);
    assert!(
        overlapping.text().contains("2026-12-02 至 2026-12-03") && overlapping.text().contains("已包含其中的日子"),
        "{}",
        overlapping.text()
    );
    let pending = residency::leave_requests(
        &mut app.conn(),
        &Access::system(),
        &LeaveFilter {
            residency_id: Some(r),
            ..Default::default()
        },
    )
    .expect("leave");
    assert_eq!(pending.len(), 1, "nothing written");
    residency::decide_leave(&mut app.conn(), &Access::system(), pending[0].id, false).expect("rejected");
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/leave"), &leave("2026-12-03", "2026-12-05"))
            .await
            .status,
        303,
        "a rejected request does not hold its days"
    );
    // The data layer says the same with the rule's key.
    let e = residency::request_leave(
        &mut app.conn(),
        &access(&mut app.conn(), Role::VillageReporter, V2),
        r,
        day(2026, 12, 5),
        day(2026, 12, 6),
        "x",
    )
    .expect_err("overlaps 12-03 to 12-05");
    assert!(
        matches!(&e, ringline::cadres::DispatchError::Issues(i) if i[0].key == "dispatch-leave-overlap"),
        "{e}"
    );

    // Attendance: the cadre's figure waits for the town; the town confirms; a corrected figure
    // waits again. A reporter may not confirm.
    let month = |days: &'static str| [("month", "2026-11"), ("days", days)];
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/attendance"), &month("22"))
            .await
            .status,
        303
    );
    let page = town.get(&format!("/residencies/{r}")).await.text();
    assert!(
        page.contains("待乡镇确认") && page.contains("attendance/confirm"),
        "{page}"
    );
    // The board lists the residencies running today (the term runs to 2028-10-31).
    if ringline::clock::Clock::system().today() <= day(2028, 10, 31) {
        let board = town.get("/residencies").await.text();
        assert!(board.contains("1 个月待确认"), "{board}");
    }
    assert!(
        !reporter
            .get(&format!("/residencies/{r}"))
            .await
            .text()
            .contains("attendance/confirm"),
        "no confirm button for a reporter"
    );
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/attendance/confirm"), &[("month", "2026-11")])
            .await
            .status,
        403
    );
    assert_eq!(
        town.post_form(&format!("/residencies/{r}/attendance/confirm"), &[("month", "2026-11")])
            .await
            .status,
        303
    );
    let months = residency::attendance(&mut app.conn(), &Access::system(), r).expect("attendance");
    assert_eq!(months[0].confirmed_by.as_deref(), Some("dongxia1"));
    assert!(
        town.get(&format!("/residencies/{r}"))
            .await
            .text()
            .contains("dongxia1 已确认")
    );
    let again = town
        .post_form(&format!("/residencies/{r}/attendance/confirm"), &[("month", "2026-11")])
        .await;
    assert_eq!(again.status, 422, "confirmed already");
    // The same figure again keeps the confirmation; a corrected one loses it.
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/attendance"), &month("22"))
            .await
            .status,
        303
    );
    let months = residency::attendance(&mut app.conn(), &Access::system(), r).expect("attendance");
    assert!(months[0].confirmed_at.is_some(), "unchanged");
    assert_eq!(
        reporter
            .post_form(&format!("/residencies/{r}/attendance"), &month("18"))
            .await
            .status,
        303
    );
    let months = residency::attendance(&mut app.conn(), &Access::system(), r).expect("attendance");
    assert_eq!((months[0].days, months[0].confirmed_by.clone()), (18, None));
    let stay = residency::residency(&mut app.conn(), &Access::system(), r)
        .expect("read")
        .expect("visible");
    assert_eq!(stay.unconfirmed_months, 1);
}

/// The paths of the links on a page that lead to pages (not exports, actions or assets).
fn page_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| {
            h.starts_with('/')
                && !h.starts_with("/static/")
                && !h.starts_with("/lang/")
                && !h.contains(".xlsx")
                && !h.starts_with("/import")
        })
        .collect()
}

/// Whether a path is one of the dispatch pages (the crawl stays among them).
fn dispatch_page(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    [
        "/dispatch",
        "/cadres",
        "/twinning",
        "/needs",
        "/work_logs",
        "/residencies",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Opens `pages` and every dispatch page they lead to (links followed two steps deep), and
/// checks that no link on any of them answers 404 or 403 to the reader. Returns the number of
/// links checked.
async fn check_links(s: &Session, who: &str, pages: &[String]) -> usize {
    let mut checked = 0;
    let mut seen: std::collections::HashSet<String> = pages.iter().cloned().collect();
    let mut level: Vec<String> = pages.to_vec();
    for _ in 0..3 {
        let mut next = Vec::new();
        for page in &level {
            let a = s.get(page).await;
            assert_eq!(a.status, 200, "{who}: {page}");
            for link in page_links(&a.text()) {
                if !seen.insert(link.clone()) {
                    continue;
                }
                let status = s.get(&link).await.status;
                assert!(
                    status != 404 && status != 403,
                    "{who}: {page} links to {link}, which answers {status}"
                );
                checked += 1;
                if status == 200 && dispatch_page(&link) {
                    next.push(link);
                }
            }
        }
        level = next;
    }
    checked
}

async fn dispatch_pages_link_only_what_the_reader_can_open(app: TestApp) {
    let (f, stays, batch_id) = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        let stays = confirmed(&mut conn, f.c);
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
        add_user(&mut conn, "v2reporter", "v2reporter-pass", "village-reporter", V2, None);
        let b = batch::batches(&mut conn, &Access::system()).expect("batches")[0].id;
        residency::add_work_log(&mut conn, &Access::system(), stays[2], day(2026, 11, 3), "走访")
            .expect("a log of C4's residency");
        (f, stays, b)
    };
    // C4 comes from 测试单位二 in 城关镇 and resides in V4 of 东峡镇: the town administrator of
    // 东峡镇 sees the residency, not the cadre's registration.
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    let page = town.get(&format!("/residencies/{}", stays[2])).await.text();
    assert!(
        page.contains("丁四 (1998, 测试单位二)"),
        "named, with birth year and source"
    );
    assert!(!page.contains(&format!("href=\"/cadres/{}\"", f.c[3])), "not linked");
    assert_eq!(town.get(&format!("/cadres/{}", f.c[3])).await.status, 404);
    // The county administrator sees both, linked.
    let admin = app.admin().await;
    let page = admin.get(&format!("/residencies/{}", stays[2])).await.text();
    assert!(page.contains(&format!("href=\"/cadres/{}\"", f.c[3])));

    let mut pages: Vec<String> = [
        "/dispatch",
        "/cadres",
        "/twinning",
        "/needs",
        "/work_logs",
        "/residencies",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    pages.push(format!("/dispatch/{batch_id}"));
    let reporter = app.session("v2reporter", "v2reporter-pass").await;
    let mut checked = 0;
    for (who, s, own) in [
        ("county", &admin, &stays[..]),
        ("town", &town, &stays[..]),
        ("reporter", &reporter, &stays[..1]),
    ] {
        let mut mine = pages.clone();
        mine.extend(own.iter().map(|r| format!("/residencies/{r}")));
        checked += check_links(s, who, &mine).await;
    }
    assert!(checked > 20, "{checked} links followed");
}

/// Earlier versions accepted several logs of one day; the upgrade that makes a day's log unique
/// joins them into the first, in the order written, so nothing is lost. Rehearsed by undoing the
/// upgrade on a current database (dropping the index and forgetting the migration), writing two
/// logs of one day, and opening the database again, which runs the migration.
async fn same_day_logs_joined_by_the_upgrade(app: TestApp) {
    use diesel::connection::SimpleConnection;
    use ringline::cadres::residency::NewWorkLog;
    use ringline::db::schema::work_logs;

    let stays = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        confirmed(&mut conn, f.c)
    };
    let mut conn = app.conn();
    conn.batch_execute("DROP INDEX work_logs_day_idx")
        .expect("index dropped");
    let forgotten = diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = '20261208000004'")
        .execute(&mut conn)
        .expect("migration forgotten");
    assert_eq!(forgotten, 1, "the migration was applied once");
    let at = ringline::db::now();
    let log = |residency_id: i64, date, content: &str| NewWorkLog {
        residency_id,
        date,
        content: content.into(),
        illustrative: false,
        created_at: at,
        created_by: "tester".into(),
    };
    let rows = [
        log(stays[0], day(2026, 11, 3), "上午走访农户"),
        log(stays[0], day(2026, 11, 4), "整理台账"),
        log(stays[0], day(2026, 11, 3), "下午召开村民会议"),
        log(stays[1], day(2026, 11, 3), "另一名干部的日志"),
        log(stays[0], day(2026, 11, 3), "晚上入户"),
    ];
    let mut ids = Vec::new();
    for r in &rows {
        ids.push(
            diesel::insert_into(work_logs::table)
                .values(r)
                .returning(work_logs::id)
                .get_result::<i64>(&mut conn)
                .expect("a log of the day"),
        );
    }
    drop(conn);

    ringline::db::Db::open(&app.url).expect("the database opens and is upgraded");

    let mut conn = app.conn();
    let stored: Vec<(i64, i64, chrono::NaiveDate, String)> = work_logs::table
        .filter(work_logs::id.eq_any(&ids))
        .order(work_logs::id)
        .select((
            work_logs::id,
            work_logs::residency_id,
            work_logs::date,
            work_logs::content,
        ))
        .load(&mut conn)
        .expect("logs");
    assert_eq!(
        stored,
        [
            (
                ids[0],
                stays[0],
                day(2026, 11, 3),
                "上午走访农户\n\n下午召开村民会议\n\n晚上入户".to_string()
            ),
            (ids[1], stays[0], day(2026, 11, 4), "整理台账".to_string()),
            (ids[3], stays[1], day(2026, 11, 3), "另一名干部的日志".to_string()),
        ]
    );
    // The day is unique again.
    assert!(
        diesel::insert_into(work_logs::table)
            .values(&log(stays[0], day(2026, 11, 4), "又一条"))
            .execute(&mut conn)
            .is_err()
    );
}

/// A town imports a cadre registered in another town: the row is held (nothing written), the
/// county, which covers both, transfers it, and the cadre moves to the importing town's roster
/// with the row's skills; the transfer is audited with the ID number masked.
async fn held_cadre_transferred_by_the_county(app: TestApp) {
    let f = {
        let mut conn = app.conn();
        let f = fixture_data(&mut conn);
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
        f
    };
    // 丙三 (C3, 630121198101208136) is on 城关镇's roster.
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    let csv = "姓名,公民身份号码,派出单位,专长\n丙三,630121198101208136,东峡镇,电子商务\n";
    let r = town
        .client
        .post(town.url("/api/v1/import/cadres?filename=c3.csv&apply=true&on_existing=update"))
        .header("X-CSRF-Token", town.csrf.clone())
        .body(csv)
        .send()
        .await
        .expect("import");
    let report = Answer::of(r).await;
    assert_eq!(report.status, 200, "{}", report.text());
    let (_, c3) = app.admin().await.get_json(&format!("/api/v1/cadres/{}", f.c[2])).await;
    assert_eq!(
        (c3["division_code"].as_str(), c3["skills"].clone()),
        (Some(CHENGGUAN), json!(["animal_husbandry", "tourism"])),
        "held: nothing written"
    );
    let admin = app.admin().await;
    let (_, held) = admin.get_json("/api/v1/import/held").await;
    let rows = held.as_array().expect("held rows");
    assert_eq!(rows.len(), 1, "{held}");
    assert_eq!(rows[0]["kind"], "cadres");
    let text = held.to_string();
    assert!(!text.contains("198101208136"), "masked: {text}");
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/import/held/{}", rows[0]["id"]),
            Some(json!({"decision": "transfer"})),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.text());
    let (_, c3) = admin.get_json(&format!("/api/v1/cadres/{}", f.c[2])).await;
    assert_eq!(
        (
            c3["division_code"].as_str(),
            c3["source_name"].as_str(),
            c3["skills"].clone()
        ),
        (Some(DONGXIA), Some("东峡镇"), json!(["e_commerce"])),
        "{c3}"
    );
    // Now on 东峡镇's roster.
    assert_eq!(town.get(&format!("/cadres/{}", f.c[2])).await.status, 200);
    let entries = crate::calls::audit_rows(&mut app.conn());
    let transfer = entries
        .iter()
        .find(|e| e.action == "transfer")
        .expect("the transfer entry");
    assert_eq!(transfer.entity, "cadre");
    let logged = format!("{:?}", transfer);
    assert!(!logged.contains("198101208136"), "masked: {logged}");
}
