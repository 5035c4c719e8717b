//! The registry's pages, exports and JSON API (SPEC C3) over the imported fixtures
//! (`tests/fixtures/registry`, see its README), on both backends.
//!
//! The fixture by hand (units.csv, orgs.csv, members.csv):
//! - 东峡镇 (630121103): 东峡镇人民政府 (agency, town code), 大通东峡牦牛肉加工有限公司 (non-public,
//!   南滩村, own branch FZ-DX-001), 大通县东峡商贸有限公司 (non-public, 南滩村, hosts the joint
//!   branch FZ-DX-002), 东峡镇青稞种植专业合作社 (cooperative, not counted, 麻其村, in FZ-DX-002),
//!   东峡镇志愿者协会 (social, 衙门庄村, instructor only ZD-DX-001), 东峡镇农家乐有限公司
//!   (non-public, 麻其村, nothing). Counted 4; organization coverage 2 (牦牛肉, 商贸) → 50.0%;
//!   work coverage 3 (and 志愿者协会) → 75.0%.
//! - 城关镇 (630121101): 城关镇人民政府 (agency), at 佰胜居委会 城关镇鸡腿葱电商有限公司 (non-public,
//!   hosts the joint FZ-CG-001), 城关镇老年协会 (social, in FZ-CG-001), 城关镇个体商户联合会商贸部
//!   (non-public, nothing; its credit code fails the check). Counted 3; 2 → 66.7%; 2 → 66.7%.
//! - 大通县: 7 counted; 4 → 57.1%; 5 → 71.4%. Lacking organization coverage: 志愿者协会, 农家乐,
//!   商贸部; lacking work coverage: 农家乐, 商贸部.
//! - Members: 张德明 (南滩村支部), 李秀英 (FZ-DX-001, works at 牦牛肉, lives in 佰胜居委会 of
//!   城关镇), 马福财 (东峡镇党委), 韩玉兰 (FZ-CG-001, probationary), 祁生春 (佰胜社区支部).

use std::collections::BTreeSet;

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use ringline::access::Access;
use ringline::db::DbConn;
use ringline::db::schema::{members, party_orgs, units};
use ringline::import::framework::{self, OnExisting, Options};
use ringline::import::spec;
use serde_json::Value;

use crate::calls;
use crate::datong::{self, COUNTY, DONGXIA};
use crate::harness::{Answer, TestApp, fixture, xlsx_cells};
use crate::matrix::{codes_in, shown_text};
use crate::registry_import::{M1, M2, M3, M4, M5};

/// 城关镇.
const CHENGGUAN: &str = "630121101000";

/// The fixture's phones, unmasked.
const PHONES: [&str; 3] = ["13897012345", "13909718888", "15500971234"];

/// The units of 东峡镇 and of 城关镇 in the fixture.
const DONGXIA_UNITS: [&str; 6] = [
    "大通县东峡镇人民政府",
    "大通东峡牦牛肉加工有限公司",
    "东峡镇青稞种植专业合作社",
    "大通县东峡商贸有限公司",
    "东峡镇志愿者协会",
    "东峡镇农家乐有限公司",
];
const CHENGGUAN_UNITS: [&str; 4] = [
    "大通县城关镇人民政府",
    "城关镇鸡腿葱电商有限公司",
    "城关镇老年协会",
    "城关镇个体商户联合会商贸部",
];

/// Imports the units, party organizations and members fixtures (as the command line does).
pub fn load_registry(conn: &mut DbConn) {
    crate::registry_import::load_units_and_orgs(conn);
    let kind = spec::kind("members").expect("the members kind");
    let (r, _) = framework::import_file(
        conn,
        &Access::system(),
        kind,
        &fixture("registry/members.csv"),
        "members.csv",
        Options {
            on_existing: OnExisting::Skip,
            apply: true,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("import runs");
    assert!(r.ok() && r.applied && r.new == 5, "{:?}", r.errors);
}

fn unit_id(conn: &mut DbConn, name: &str) -> i64 {
    units::table
        .filter(units::name.eq(name))
        .select(units::id)
        .first(conn)
        .unwrap_or_else(|_| panic!("unit {name}"))
}

fn org_id(conn: &mut DbConn, code: &str) -> i64 {
    party_orgs::table
        .filter(party_orgs::code.eq(code))
        .select(party_orgs::id)
        .first(conn)
        .unwrap_or_else(|_| panic!("organization {code}"))
}

fn member_id(conn: &mut DbConn, name: &str) -> i64 {
    members::table
        .filter(members::name.eq(name))
        .select(members::id)
        .first(conn)
        .unwrap_or_else(|_| panic!("member {name}"))
}

/// The `<tr>` of an HTML table holding `needle` (the first one).
fn row_of(html: &str, needle: &str) -> String {
    let at = html.find(needle).unwrap_or_else(|| panic!("the page shows {needle}"));
    let start = html[..at].rfind("<tr").expect("a row");
    let end = html[at..].find("</tr>").expect("row end") + at;
    html[start..end].to_string()
}

/// The texts of the cells of a table row (tags removed, trimmed).
fn cells(row: &str) -> Vec<String> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').map(|i| i + 1).unwrap_or(0)..];
            let c = c.split("</td>").next().unwrap_or("");
            let mut text = String::new();
            let mut in_tag = false;
            for ch in c.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    _ if !in_tag => text.push(ch),
                    _ => {}
                }
            }
            text.trim().to_string()
        })
        .collect()
}

/// The `name`s of a JSON list's items.
fn names(v: &Value) -> BTreeSet<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.text());
    assert_eq!(a.error_code(), code, "{}", a.text());
    assert!(!a.json()["error"]["message"].as_str().unwrap_or("").is_empty());
}

async fn coverage_shows_the_hand_computed_rates(app: TestApp) {
    load_registry(&mut app.conn());
    let admin = app.admin().await;

    // The page, by town (the default), by county and by zone.
    let page = admin.get("/coverage").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(
        cells(&row_of(&html, ">东峡镇<")),
        ["东峡镇", "4", "2", "50.0%", "3", "75.0%"]
    );
    assert_eq!(
        cells(&row_of(&html, ">城关镇<")),
        ["城关镇", "3", "2", "66.7%", "2", "66.7%"]
    );
    assert_eq!(
        cells(&row_of(&html, ">桥头镇<")),
        ["桥头镇", "0", "0", "—", "0", "—"],
        "a town without units has no rate"
    );
    let county = admin.get("/coverage?by=county").await.text();
    assert_eq!(cells(&row_of(&county, "57.1%"))[1..], ["7", "4", "57.1%", "5", "71.4%"]);
    // The export holds numbers: counts as integers, rates as fractions shown as percentages
    // (东峡镇: 4 counted, 2 → 2/4 = 0.5, 3 → 3/4 = 0.75), codes as text, 序号 1…n.
    use calamine::Data;
    let x = crate::harness::xlsx_data(&admin.get("/coverage.xlsx").await.body);
    let dongxia = x
        .iter()
        .find(|r| r.get(2) == Some(&Data::String("东峡镇".into())))
        .expect("东峡镇 row");
    assert_eq!(
        dongxia[1..],
        [
            Data::String("630121103000".into()),
            Data::String("东峡镇".into()),
            Data::Float(4.0),
            Data::Float(2.0),
            Data::Float(0.5),
            Data::Float(3.0),
            Data::Float(0.75)
        ]
    );
    assert_eq!(x[1][0], Data::Float(1.0));
    // Divisions: coordinates as numbers (WGS-84 degrees).
    let d = crate::harness::xlsx_data(&admin.get("/divisions.xlsx").await.body);
    assert!(
        d[1..]
            .iter()
            .any(|r| matches!(r.get(7), Some(Data::Float(lon)) if (100.0..103.0).contains(lon))),
        "{:?}",
        &d[..3]
    );
    let zones = admin.get("/coverage?by=zone").await.text();
    assert_eq!(
        cells(&row_of(&zones, "东峡线")),
        ["东峡线", "4", "2", "50.0%", "3", "75.0%"],
        "every village of 东峡镇 is on the 东峡线; the town government is no village"
    );

    // Uncovered units: lacking organization coverage by default, work coverage on request.
    let uncovered = html[html.find("<h2>").expect("the uncovered section")..].to_string();
    for name in ["东峡镇志愿者协会", "东峡镇农家乐有限公司", "城关镇个体商户联合会商贸部"]
    {
        assert!(uncovered.contains(name), "{name} lacks organization coverage");
    }
    assert!(!uncovered.contains("大通东峡牦牛肉加工有限公司"));
    let work = admin.get("/coverage?lacking=work").await.text();
    let work = &work[work.find("<h2>").expect("the uncovered section")..];
    assert!(work.contains("东峡镇农家乐有限公司") && work.contains("城关镇个体商户联合会商贸部"));
    assert!(!work.contains("东峡镇志愿者协会"), "an instructor gives work coverage");

    // The API.
    let (status, rows) = admin.get_json("/api/v1/coverage?by=town").await;
    assert_eq!(status, StatusCode::OK);
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 20, "every town of Datong");
    let row = |key: &str| rows.iter().find(|r| r["key"] == key).expect("a row").clone();
    let d = row(DONGXIA);
    assert_eq!(
        (&d["name"], &d["units"], &d["org_covered"], &d["work_covered"]),
        (
            &Value::from("东峡镇"),
            &Value::from(4),
            &Value::from(2),
            &Value::from(3)
        )
    );
    assert_eq!(
        (d["org_rate"].as_f64(), d["work_rate"].as_f64()),
        (Some(0.5), Some(0.75))
    );
    let c = row(CHENGGUAN);
    assert_eq!(
        (&c["units"], &c["org_covered"], &c["work_covered"]),
        (&Value::from(3), &Value::from(2), &Value::from(2))
    );
    assert!(row("630121100000")["org_rate"].is_null(), "桥头镇 has no units");
    let (_, county) = admin.get_json("/api/v1/coverage?by=county").await;
    assert_eq!(county.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            &county[0]["key"],
            &county[0]["units"],
            &county[0]["org_covered"],
            &county[0]["work_covered"]
        ),
        (&Value::from(COUNTY), &Value::from(7), &Value::from(4), &Value::from(5))
    );
    let (_, zones) = admin.get_json("/api/v1/coverage?by=zone").await;
    let line = zones
        .as_array()
        .expect("zones")
        .iter()
        .find(|z| z["name"] == "东峡线")
        .expect("东峡线")
        .clone();
    assert_eq!(
        (&line["units"], &line["org_covered"], &line["work_covered"]),
        (&Value::from(4), &Value::from(2), &Value::from(3))
    );
    assert_error(
        &admin.get("/api/v1/coverage?by=village").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-by",
    );
    assert!(
        admin.get("/api/v1/coverage?by=village").await.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("town, zone, county"))
    );
    assert_error(
        &admin.get("/api/v1/coverage?by=zone&program=999999").await,
        StatusCode::NOT_FOUND,
        "not-found",
    );

    let (_, u) = admin.get_json("/api/v1/coverage/uncovered").await;
    assert_eq!(
        names(&u),
        set(&["东峡镇志愿者协会", "东峡镇农家乐有限公司", "城关镇个体商户联合会商贸部"])
    );
    assert_eq!(u["total"], 3);
    let (_, u) = admin.get_json("/api/v1/coverage/uncovered?lacking=work").await;
    assert_eq!(names(&u), set(&["东峡镇农家乐有限公司", "城关镇个体商户联合会商贸部"]));
    let (_, u) = admin
        .get_json(&format!(
            "/api/v1/coverage/uncovered?lacking=work&under={DONGXIA}&limit=10"
        ))
        .await;
    assert_eq!(names(&u), set(&["东峡镇农家乐有限公司"]));
    assert_error(
        &admin.get("/api/v1/coverage/uncovered?lacking=all").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-lacking",
    );

    // The export.
    let x = admin.get("/coverage.xlsx?by=town").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.header("content-disposition").contains("coverage-town.xlsx"));
    let rows = xlsx_cells(&x.body);
    assert_eq!(rows.len(), 21, "a header and the 20 towns");
    let d = rows.iter().find(|r| r[1] == DONGXIA).expect("东峡镇");
    assert_eq!(d[2..], ["东峡镇", "4", "2", "0.5", "3", "0.75"]);
    let rows = xlsx_cells(&admin.get("/coverage.xlsx?by=county").await.body);
    // 4/7 and 5/7 as fractions (shown as 57.1% and 71.4% by the cell format).
    assert_eq!(rows[1][..5], ["1", COUNTY, "大通回族土族自治县", "7", "4"]);
    assert!((rows[1][5].parse::<f64>().unwrap_or(0.0) - 4.0 / 7.0).abs() < 1e-12);

    // English.
    admin.english().await;
    let en = admin.get("/coverage").await.text();
    assert!(en.contains("By town") && en.contains("Organization coverage rate"));
}

async fn personal_data_is_masked_and_unmasking_is_audited(app: TestApp) {
    let (zhang, zhang_unit, fz) = {
        let mut conn = app.conn();
        load_registry(&mut conn);
        calls::add_user(&mut conn, "viewer1", "viewer1-pass-1", "viewer", COUNTY, None);
        calls::add_user(
            &mut conn,
            "chengguan",
            "chengguan-pass-1",
            "town-admin",
            CHENGGUAN,
            None,
        );
        (
            member_id(&mut conn, "张德明"),
            unit_id(&mut conn, "大通东峡牦牛肉加工有限公司"),
            org_id(&mut conn, "FZ-DX-001"),
        )
    };
    let admin = app.admin().await;
    let unmasked: Vec<&str> = [M1, M2, M3, M4, M5].into_iter().chain(PHONES).collect();
    for path in [
        "/members".to_string(),
        "/members.xlsx".into(),
        "/api/v1/members".into(),
        format!("/members/{zhang}"),
        format!("/api/v1/members/{zhang}"),
        format!("/orgs/{fz}"),
        format!("/units/{zhang_unit}"),
    ] {
        let a = admin.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let text = shown_text(&a);
        for secret in &unmasked {
            assert!(!text.contains(secret), "{path} shows an unmasked number");
        }
    }
    let list = admin.get("/members").await.text();
    assert!(
        list.contains("6301**********1519") && list.contains("138****2345"),
        "masked forms"
    );
    let (_, m) = admin.get_json(&format!("/api/v1/members/{zhang}")).await;
    assert_eq!(
        (m["id_number"].as_str(), m["phone"].as_str()),
        (Some("6301**********1519"), Some("138****2345"))
    );

    // Unmasking through the page: shown on the response, audited; the next view is masked.
    let page = admin.get(&format!("/members/{zhang}")).await.text();
    assert!(
        page.contains(&format!("action=\"/members/{zhang}/unmask\"")),
        "a county admin may unmask"
    );
    let audited = |app: &TestApp| {
        calls::audit_rows(&mut app.conn())
            .into_iter()
            .filter(|e| e.action == "unmask" && e.entity == "member")
            .collect::<Vec<_>>()
    };
    assert!(audited(&app).is_empty());
    let a = admin.post_form(&format!("/members/{zhang}/unmask"), &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("cache-control"), "no-store");
    let text = a.text();
    assert!(
        text.contains(M1) && text.contains(PHONES[0]),
        "the full numbers are shown once"
    );
    let entries = audited(&app);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].username.as_str(), entries[0].entity_id.clone()),
        ("admin", zhang.to_string())
    );
    assert!(!admin.get(&format!("/members/{zhang}")).await.text().contains(M1));

    // Through the API.
    let a = admin
        .send(Method::POST, &format!("/api/v1/members/{zhang}/unmask"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let body = a.json();
    assert_eq!(
        (body["id_number"].as_str(), body["phone"].as_str()),
        (Some(M1), Some(PHONES[0]))
    );
    assert_eq!(audited(&app).len(), 2);

    // A viewer may not; a town admin of 城关镇 cannot reach a member of 东峡镇.
    let viewer = app.session("viewer1", "viewer1-pass-1").await;
    assert!(
        !viewer
            .get(&format!("/members/{zhang}"))
            .await
            .text()
            .contains("/unmask\"")
    );
    assert_eq!(
        viewer.post_form(&format!("/members/{zhang}/unmask"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_error(
        &viewer
            .send(Method::POST, &format!("/api/v1/members/{zhang}/unmask"), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let town = app.session("chengguan", "chengguan-pass-1").await;
    assert_eq!(
        town.post_form(&format!("/members/{zhang}/unmask"), &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_error(
        &town
            .send(Method::POST, &format!("/api/v1/members/{zhang}/unmask"), None)
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert_eq!(audited(&app).len(), 2, "refused views are not recorded as views");
}

async fn dongxia_town_admin_sees_only_dongxia_records(app: TestApp) {
    let (chengguan_unit, li) = {
        let mut conn = app.conn();
        load_registry(&mut conn);
        calls::add_user(&mut conn, "dongxia", "dongxia-pass-1", "town-admin", DONGXIA, None);
        (
            unit_id(&mut conn, "城关镇鸡腿葱电商有限公司"),
            member_id(&mut conn, "李秀英"),
        )
    };
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let (status, list) = town.get_json("/api/v1/units?limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&list), set(&DONGXIA_UNITS));
    assert_eq!(list["total"], 6);
    let page = town.get("/units").await.text();
    for name in DONGXIA_UNITS {
        assert!(page.contains(name), "{name}");
    }
    for name in CHENGGUAN_UNITS {
        assert!(!page.contains(name), "{name} is outside 东峡镇");
    }
    let rows = xlsx_cells(&town.get("/units.xlsx").await.body);
    let exported: BTreeSet<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(exported, set(&DONGXIA_UNITS));
    // A unit of 城关镇 answers like one that does not exist.
    for path in [format!("/units/{chengguan_unit}"), "/units/999999".into()] {
        assert_eq!(town.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        assert_error(
            &town.get(&format!("/api/v1{path}")).await,
            StatusCode::NOT_FOUND,
            "not-found",
        );
    }
    assert_eq!(
        town.get(&format!("/units/{chengguan_unit}")).await.body,
        town.get("/units/999999").await.body
    );
    let (_, orgs) = town.get_json("/api/v1/orgs").await;
    assert_eq!(
        orgs["total"], 5,
        "东峡镇党委, 南滩村支部, FZ-DX-001, FZ-DX-002, ZD-DX-001"
    );
    let (_, ms) = town.get_json("/api/v1/members").await;
    assert_eq!(names(&ms), set(&["张德明", "李秀英", "马福财"]));
    // 李秀英 lives in 城关镇: the community is named, its code withheld.
    let (_, m) = town.get_json(&format!("/api/v1/members/{li}")).await;
    assert!(m["home_community"].is_null(), "{m}");
    assert_eq!(m["home_community_name"], "佰胜居委会");
    let (_, cov) = town.get_json("/api/v1/coverage?by=town").await;
    let keys: Vec<&str> = cov
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(keys, [DONGXIA]);

    // No page, export or answer names a place outside 东峡镇 (its ancestors excepted).
    let mut allowed: BTreeSet<String> = datong::rows()
        .into_iter()
        .filter(|r| r.code == DONGXIA || r.parent == DONGXIA)
        .map(|r| r.code)
        .collect();
    allowed.extend([COUNTY.to_string(), "630100000000".into(), "630000000000".into()]);
    for path in [
        "/units",
        "/units.xlsx",
        "/orgs",
        "/orgs.xlsx",
        "/members",
        "/members.xlsx",
        "/coverage",
        "/coverage?by=county",
        "/coverage?by=zone",
        "/coverage.xlsx",
        "/api/v1/units",
        "/api/v1/orgs",
        "/api/v1/members",
        "/api/v1/coverage",
        "/api/v1/coverage/uncovered",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("/members/{li}")])
    {
        let a = town.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        let outside: Vec<String> = codes_in(&shown_text(&a)).difference(&allowed).cloned().collect();
        assert!(outside.is_empty(), "{path} shows {outside:?}");
    }
}

async fn lists_filter_page_export_and_refuse_bad_values(app: TestApp) {
    let (fz, joint) = {
        let mut conn = app.conn();
        load_registry(&mut conn);
        (org_id(&mut conn, "FZ-DX-001"), org_id(&mut conn, "FZ-DX-002"))
    };
    let admin = app.admin().await;
    let get = |path: &'static str| {
        let admin = &admin;
        async move { admin.get_json(path).await.1 }
    };
    let v = get("/api/v1/units?kind=non_public_enterprise&under=630121103000").await;
    assert_eq!(
        names(&v),
        set(&[
            "大通东峡牦牛肉加工有限公司",
            "大通县东峡商贸有限公司",
            "东峡镇农家乐有限公司"
        ])
    );
    let v = get("/api/v1/units?uncovered=true").await;
    assert_eq!(
        names(&v),
        set(&["东峡镇志愿者协会", "东峡镇农家乐有限公司", "城关镇个体商户联合会商贸部"])
    );
    let v = get("/api/v1/units?q=%E5%95%86%E8%B4%B8").await; // 商贸
    assert_eq!(
        names(&v),
        set(&["大通县东峡商贸有限公司", "城关镇个体商户联合会商贸部"])
    );
    let v = get("/api/v1/units?limit=3&offset=9").await;
    assert_eq!(
        (v["items"].as_array().map(Vec::len), &v["total"]),
        (Some(1), &Value::from(10))
    );
    let unverified = get("/api/v1/units?q=%E5%95%86%E8%B4%B8%E9%83%A8").await; // 商贸部
    assert_eq!(unverified["items"][0]["credit_code_unverified"], true);

    let kind = admin.get("/api/v1/units?kind=shop").await;
    assert_error(&kind, StatusCode::UNPROCESSABLE_ENTITY, "invalid-kind");
    assert!(
        kind.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("non_public_enterprise"))
    );
    assert_error(
        &admin.get("/api/v1/units?under=east").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-under",
    );
    assert_error(
        &admin.get("/api/v1/units?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-limit",
    );
    assert_error(
        &admin.get("/api/v1/units?limit=1001").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-limit",
    );
    assert_error(
        &admin.get("/api/v1/orgs?mode=x").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-mode",
    );
    assert_error(
        &admin.get("/api/v1/orgs?kind=cell").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-kind",
    );
    let status = admin.get("/api/v1/members?status=%E5%9B%A2%E5%91%98").await; // 团员
    assert_error(&status, StatusCode::UNPROCESSABLE_ENTITY, "invalid-status");
    assert!(
        status.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("full, probationary"))
    );
    assert_eq!(
        admin.get("/units?kind=shop").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let v = get("/api/v1/orgs?mode=joint").await;
    assert_eq!(
        names(&v),
        set(&[
            "中共东峡镇非公企业联合支部委员会",
            "中共城关镇鸡腿葱电商有限公司联合支部委员会"
        ])
    );
    assert_eq!(get("/api/v1/orgs?kind=committee").await["total"], 2);
    assert_eq!(
        names(&get("/api/v1/members?status=probationary").await),
        set(&["韩玉兰"])
    );
    let (_, v) = admin.get_json(&format!("/api/v1/members?org_id={fz}")).await;
    assert_eq!(names(&v), set(&["李秀英"]));
    let v = get("/api/v1/members?home_community=630121101001").await;
    assert_eq!(names(&v), set(&["李秀英", "韩玉兰", "祁生春"]));

    // Pages keep the filters in their export link; exports hold what the filters select.
    let page = admin.get("/units?uncovered=true").await.text();
    assert!(page.contains("东峡镇志愿者协会") && !page.contains("大通东峡牦牛肉加工有限公司"));
    assert!(page.contains("/units.xlsx?uncovered=true"));
    let rows = xlsx_cells(&admin.get(&format!("/units.xlsx?under={CHENGGUAN}")).await.body);
    let exported: BTreeSet<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(exported, set(&CHENGGUAN_UNITS));
    let u10 = rows
        .iter()
        .find(|r| r[1] == "城关镇个体商户联合会商贸部")
        .expect("商贸部");
    // 序号, name, kind, credit code, code fails the check, place, place code, …
    assert_eq!(
        (u10[3].as_str(), u10[4].as_str(), u10[5].as_str(), u10[6].as_str()),
        ("91630121MA7XCG0G10", "是", "城关镇 › 佰胜居委会", "630121101001")
    );
    assert_eq!(xlsx_cells(&admin.get("/orgs.xlsx").await.body).len(), 9);
    let rows = xlsx_cells(&admin.get("/members.xlsx").await.body);
    assert_eq!(rows.len(), 6);
    assert!(
        rows[1..].iter().all(|r| r[4].starts_with("6301**********")),
        "masked (no birth date column)"
    );
    // The birth date with the masked number (first 4, last 4) would give the whole number back.
    let (_, members) = admin.get_json("/api/v1/members").await;
    let first = &members["items"][0];
    assert!(first["age"].is_i64() && first.get("birth_date").is_none(), "{first}");
    assert_eq!(
        xlsx_cells(&admin.get("/members.xlsx?status=probationary").await.body).len(),
        2
    );
    let page = admin.get(&format!("/members?org_id={joint}")).await.text();
    assert!(
        page.contains("中共东峡镇非公企业联合支部委员会"),
        "the page names the organization"
    );
}

async fn detail_pages_link_the_records(app: TestApp) {
    let (committee, joint, coop, yak, shop, li) = {
        let mut conn = app.conn();
        load_registry(&mut conn);
        calls::add_user(&mut conn, "maqi", "maqi-pass-1", "unit-admin", "630121103202", None);
        (
            org_id(&mut conn, DONGXIA),
            org_id(&mut conn, "FZ-DX-002"),
            unit_id(&mut conn, "东峡镇青稞种植专业合作社"),
            unit_id(&mut conn, "大通东峡牦牛肉加工有限公司"),
            unit_id(&mut conn, "城关镇个体商户联合会商贸部"),
            member_id(&mut conn, "李秀英"),
        )
    };
    let admin = app.admin().await;
    let page = admin.get(&format!("/orgs/{committee}")).await.text();
    for child in [
        "中共大通县东峡镇南滩村支部委员会",
        "中共大通东峡牦牛肉加工有限公司支部委员会",
        "中共东峡镇非公企业联合支部委员会",
        "东峡镇志愿者协会党建指导员",
    ] {
        assert!(page.contains(child), "{child}");
    }
    assert!(page.contains("马福财"), "its member");
    assert!(page.contains(&format!("/members?org_id={committee}")));
    let page = admin.get(&format!("/orgs/{joint}")).await.text();
    assert!(page.contains("大通县东峡商贸有限公司") && page.contains("东峡镇青稞种植专业合作社"));
    let page = admin.get(&format!("/units/{coop}")).await.text();
    assert!(
        page.contains("中共东峡镇非公企业联合支部委员会"),
        "the joint branch covers it"
    );
    let page = admin.get(&format!("/units/{yak}")).await.text();
    assert!(page.contains("李秀英"), "she works there");
    assert!(page.contains("101.800000, 37.040000"), "its point");
    assert!(admin.get(&format!("/units/{shop}")).await.text().contains("未通过校验"));
    let page = admin.get(&format!("/members/{li}")).await.text();
    assert!(page.contains("佰胜居委会") && page.contains("630121101001"));
    assert!(
        page.contains(&format!("/units/{yak}")),
        "the employer links to the unit"
    );
    let (_, org) = admin.get_json(&format!("/api/v1/orgs/{joint}")).await;
    assert_eq!(
        (org["mode"].as_str(), org["covered_units"].as_i64()),
        (Some("joint"), Some(2))
    );
    let (_, unit) = admin.get_json(&format!("/api/v1/units/{yak}")).await;
    assert_eq!(
        (unit["registered_members"].as_i64(), unit["org_covered"].as_bool()),
        (Some(1), Some(true))
    );

    // The unit admin of 麻其村 sees its cooperative covered, not by whom (南滩村 is outside).
    let maqi = app.session("maqi", "maqi-pass-1").await;
    let page = maqi.get(&format!("/units/{coop}")).await.text();
    assert!(!page.contains("中共东峡镇非公企业联合支部委员会"));
    assert!(page.contains("另有 1 个不在您管理范围内的党组织覆盖该单位（联合组建）"));
    assert_eq!(maqi.get(&format!("/orgs/{joint}")).await.status, StatusCode::NOT_FOUND);

    // The navigation links to the registry pages; the OpenAPI document lists the API.
    for link in [
        "href=\"/units\"",
        "href=\"/orgs\"",
        "href=\"/members\"",
        "href=\"/coverage\"",
    ] {
        assert!(page.contains(link), "{link}");
    }
    let (_, doc) = admin.get_json("/api/openapi.json").await;
    for path in [
        "/api/v1/units",
        "/api/v1/units/{id}",
        "/api/v1/orgs",
        "/api/v1/orgs/{id}",
        "/api/v1/members",
        "/api/v1/members/{id}",
        "/api/v1/members/{id}/unmask",
        "/api/v1/coverage",
        "/api/v1/coverage/uncovered",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    for schema in [
        "Unit",
        "PartyOrg",
        "Member",
        "CoverageRow",
        "UnitList",
        "UnmaskedMember",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

async fn illustrative_records_are_marked(app: TestApp) {
    let yak = {
        let mut conn = app.conn();
        load_registry(&mut conn);
        unit_id(&mut conn, "大通东峡牦牛肉加工有限公司")
    };
    let admin = app.admin().await;
    assert!(
        !admin.get("/units").await.text().contains("tag illustrative"),
        "real records are not marked"
    );
    diesel::update(units::table.filter(units::id.eq(yak)))
        .set(units::illustrative.eq(true))
        .execute(&mut app.conn())
        .expect("mark illustrative");
    let list = admin.get("/units").await.text();
    assert!(cells(&row_of(&list, "大通东峡牦牛肉加工有限公司"))[0].contains("示例数据"));
    assert!(!cells(&row_of(&list, "大通县东峡商贸有限公司"))[0].contains("示例数据"));
    assert!(admin.get(&format!("/units/{yak}")).await.text().contains("示例数据"));
    let rows = xlsx_cells(&admin.get("/units.xlsx").await.body);
    let last = rows[0].len() - 1;
    let yak_row = rows.iter().find(|r| r[1] == "大通东峡牦牛肉加工有限公司").expect("row");
    assert_eq!(yak_row[last], "示例数据");
    let (_, u) = admin.get_json(&format!("/api/v1/units/{yak}")).await;
    assert_eq!(u["illustrative"], true);
    admin.english().await;
    assert!(admin.get("/units").await.text().contains("Illustrative"));
}

on_both_backends!(
    coverage_shows_the_hand_computed_rates,
    personal_data_is_masked_and_unmasking_is_audited,
    dongxia_town_admin_sees_only_dongxia_records,
    lists_filter_page_export_and_refuse_bad_values,
    detail_pages_link_the_records,
    illustrative_records_are_marked,
);
