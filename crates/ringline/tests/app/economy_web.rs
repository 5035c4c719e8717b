//! Economy pages, exports and API (SPEC C4, C5) on a small fixture whose figures are computed by
//! hand below, and the Datong demo's village profile.

use ringline::access::Access;
use ringline::economy::write::{self, NewBrand, NewChain, NewIncome, NewProduct, NewTarget};
use ringline::economy::{Cny, IncomeSource};
use ringline::generate;
use serde_json::Value;

use crate::calls::add_user;
use crate::datong;
use calamine::Data;

use crate::harness::TestApp;

on_both_backends!(
    economy_pages_match_the_hand_computation,
    datong_village_profile,
    village_income_api_pages_like_every_list
);

/// 东峡镇 and three of its villages; 西关村 of 城关镇.
const DONGXIA: &str = "630121103000";
const NANTAN: &str = "630121103201";
const MAQI: &str = "630121103202";
const KEMAER: &str = "630121103203";
const XIGUAN: &str = "630121101200";

fn yuan(y: u32) -> Cny {
    Cny::from_yuan(y)
}

/// The fixture, by hand (yuan):
///
/// | village | 2024    | 2025                                   | class 2025 |
/// |---------|---------|----------------------------------------|------------|
/// | 南滩村  | 40,000  | 30,000 operating + 25,000 subsidies = 55,000 | ordinary |
/// | 麻其村  | —       | 0 (a reported zero)                    | empty shell |
/// | 克麻尔村 | 100,000 | 120,000 contracting                    | strong |
/// | 西关村  | —       | 20,000 operating                       | weak |
///
/// 东峡镇 2025: 3 reported of its 14 villages; classes 1 empty shell, 0 weak, 1 ordinary, 1
/// strong; ≥ ¥50,000: 2 of 3 = 66.7 %; total 175,000; like-for-like growth over 南滩村 and
/// 克麻尔村 (both years): 175,000 / 140,000 − 1 = +25.0 %; 南滩村 alone 55,000 / 40,000 − 1 =
/// +37.5 %. County 2025: 4 reported, ≥ ¥50,000 2 of 4 = 50.0 %. 南滩村's 2025 target 60,000 is
/// not met.
fn fixture(app: &TestApp) {
    let mut conn = app.conn();
    let rows = [
        (NANTAN, 2024, IncomeSource::Operating, 40_000),
        (NANTAN, 2025, IncomeSource::Operating, 30_000),
        (NANTAN, 2025, IncomeSource::Subsidies, 25_000),
        (MAQI, 2025, IncomeSource::Other, 0),
        (KEMAER, 2024, IncomeSource::ContractingLeasing, 100_000),
        (KEMAER, 2025, IncomeSource::ContractingLeasing, 120_000),
        (XIGUAN, 2025, IncomeSource::Operating, 20_000),
    ];
    let income: Vec<NewIncome> = rows
        .iter()
        .map(|(v, y, s, a)| NewIncome {
            village_code: v.to_string(),
            year: *y,
            source: *s,
            amount: yuan(*a),
            illustrative: false,
        })
        .collect();
    write::insert_income(&mut conn, &income).expect("income");
    write::insert_targets(
        &mut conn,
        &[NewTarget {
            village_code: NANTAN.to_string(),
            year: 2025,
            target: yuan(60_000),
            illustrative: false,
        }],
    )
    .expect("targets");
    write::insert_products(
        &mut conn,
        &[NewProduct {
            village_code: NANTAN.into(),
            year: 2025,
            name: "牦牛肉".into(),
            category: "livestock".into(),
            scale: Some(500.0),
            scale_unit: "头".into(),
            output_value: Some(yuan(1_200_000)),
            households: Some(40),
            income_per_household: Some(yuan(8_000)),
            illustrative: false,
        }],
    )
    .expect("products");
    write::insert_chains(
        &mut conn,
        &[NewChain {
            village_code: NANTAN.into(),
            product: "牦牛肉".into(),
            branch_org_id: None,
            association_unit_id: None,
            company_unit_id: None,
            market_unit_id: None,
            illustrative: false,
        }],
    )
    .expect("chains");
    write::insert_brands(
        &mut conn,
        &[NewBrand {
            name: "南滩红色牧场".into(),
            owner_unit_id: None,
            owner_village: Some(NANTAN.into()),
            division_code: NANTAN.into(),
            zone_id: None,
            level: "province".into(),
            year: 2024,
            illustrative: false,
        }],
    )
    .expect("brands");
    add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
}

/// The first sheet of an XLSX workbook: its name and its cells as calamine reads them (numbers
/// as numbers, texts as texts).
fn xlsx_data(bytes: &[u8]) -> (String, Vec<Vec<Data>>) {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).expect("its first sheet");
    (first, range.rows().map(<[Data]>::to_vec).collect())
}

fn row<'a>(rows: &'a Value, key: &str) -> &'a Value {
    rows.as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {rows}"))
}

async fn economy_pages_match_the_hand_computation(app: TestApp) {
    fixture(&app);
    let admin = app.admin().await;
    let town = app.session("dongxia1", "dongxia-pass-123").await;

    // API by town and county.
    let (status, towns) = admin.get_json("/api/v1/economy/summary?year=2025&by=town").await;
    assert_eq!(status, 200, "{towns}");
    let d = row(&towns, DONGXIA);
    assert_eq!(d["villages"], 14);
    assert_eq!(d["reported"], 3);
    assert_eq!(
        (&d["empty_shell"], &d["weak"], &d["ordinary"], &d["strong"]),
        (&Value::from(1), &Value::from(0), &Value::from(1), &Value::from(1))
    );
    assert!((d["share_at_least_50k"].as_f64().expect("share") - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(d["total_fen"], 17_500_000);
    assert!((d["growth"].as_f64().expect("growth") - 0.25).abs() < 1e-12);
    assert_eq!(d["target_total_fen"], 6_000_000);
    let (_, county) = admin.get_json("/api/v1/economy/summary?year=2025&by=county").await;
    let k = row(&county, datong::COUNTY);
    assert_eq!(k["reported"], 4);
    assert_eq!(k["share_at_least_50k"], 0.5);
    // The town admin's county row counts only the town.
    let (_, mine) = town.get_json("/api/v1/economy/summary?year=2025&by=county").await;
    assert_eq!(row(&mine, datong::COUNTY)["reported"], 3);
    let (status, bad) = admin.get_json("/api/v1/economy/summary?year=2025&by=village").await;
    assert_eq!(status, 422, "{bad}");

    // Village-years.
    let (_, v) = admin.get_json("/api/v1/economy/villages?year=2025&class=strong").await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["village_code"], KEMAER);
    let (_, v) = town.get_json("/api/v1/economy/villages?year=2025").await;
    assert_eq!(v["total"], 3, "{v}");

    // The county page: headline and the town row.
    let page = admin.get("/economy?year=2025").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("占 50.0%（4 个中有 2 个）"), "{html}");
    assert!(html.contains("66.7%") && html.contains("+25.0%"), "{html}");
    assert!(html.contains("class=\"chart\" data-option="));
    assert!(html.contains("/static/echarts.min.js"));

    // The village profile.
    let page = admin.get(&format!("/villages/{NANTAN}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for want in [
        "南滩村",
        "牦牛肉",
        "5.50万",
        "+37.5%",
        "6.00万",
        "未完成",
        "0/4",
        "党支部、协会、公司、市场",
        "南滩红色牧场",
        "省级",
        "120.00万",
        "东峡镇",
    ] {
        assert!(html.contains(want), "{want} missing from the profile: {html}");
    }
    assert_eq!(town.get(&format!("/villages/{XIGUAN}")).await.status, 404);
    assert_eq!(
        town.get(&format!("/villages/{DONGXIA}")).await.status,
        404,
        "a town is no village"
    );
    assert_eq!(town.get(&format!("/villages/{NANTAN}")).await.status, 200);

    // Exports: a 序号 column 1…n, counts and years as whole numbers, shares and growth as
    // fractions with a percent format, amounts in yuan as numbers, codes as text, and a sheet
    // named for what it holds.
    let x = admin.get("/economy.xlsx?year=2025&by=town").await;
    assert_eq!(x.status, 200);
    let (sheet, rows) = xlsx_data(&x.body);
    assert_eq!(sheet, "2025年集体经济按乡镇");
    assert_eq!(rows[0][0], Data::String("序号".into()));
    for (i, r) in rows[1..].iter().enumerate() {
        assert_eq!(r[0], Data::Float((i + 1) as f64), "row numbers 1…n");
    }
    let dongxia = rows
        .iter()
        .find(|r| r[1] == Data::String("东峡镇".into()))
        .expect("东峡镇 row");
    // Year 2025; 14 villages, 3 reported; classes 1 empty shell, 0 weak, 1 ordinary, 1 strong.
    let floats = |r: &[Data]| -> Vec<f64> {
        r.iter()
            .map(|d| match d {
                Data::Float(f) => *f,
                Data::Int(i) => *i as f64,
                other => panic!("{other:?} is no number"),
            })
            .collect()
    };
    assert_eq!(floats(&dongxia[2..9]), [2025.0, 14.0, 3.0, 1.0, 0.0, 1.0, 1.0]);
    // ≥ ¥50,000: 2 of 3; total 175,000; mean 17,500,000 / 3 = 5,833,333.33 fen → 5,833,333 fen
    // = 58,333.33 yuan; median 55,000; growth +25 %; target 60,000; reporting 3 of 14.
    let n = floats(&dongxia[9..15]);
    assert!((n[0] - 2.0 / 3.0).abs() < 1e-12, "{n:?}");
    assert_eq!(&n[1..3], [175_000.0, 58_333.33]);
    assert_eq!(n[3], 55_000.0);
    assert!((n[4] - 0.25).abs() < 1e-12, "{n:?}");
    assert_eq!(n[5], 60_000.0);
    assert_eq!(dongxia[15], Data::String(DONGXIA.into()), "the town's code is text");
    assert!((floats(&dongxia[16..17])[0] - 3.0 / 14.0).abs() < 1e-12);

    let x = town.get("/economy/villages.xlsx?year=2025").await;
    let (sheet, rows) = xlsx_data(&x.body);
    assert_eq!(sheet, "2025年各村集体经济收入");
    assert_eq!(rows.len(), 1 + 3);
    assert!(
        rows[1..]
            .iter()
            .all(|r| matches!(&r[1], Data::String(c) if c.starts_with("630121103"))),
        "codes are text"
    );
    let nantan = rows
        .iter()
        .find(|r| r[1] == Data::String(NANTAN.into()))
        .expect("南滩村");
    // 2025: total 55,000 (30,000 operating + 25,000 subsidies), growth 55,000 / 40,000 − 1 =
    // +37.5 %, target 60,000.
    assert_eq!(floats(&nantan[4..6]), [2025.0, 55_000.0]);
    assert_eq!(nantan[6], Data::String("一般村".into()));
    assert!((floats(&nantan[7..8])[0] - 0.375).abs() < 1e-12);
    assert_eq!(floats(&nantan[8..9]), [60_000.0]);
    assert_eq!(nantan[9], Data::Float(30_000.0), "operating");
    assert_eq!(nantan[13], Data::Float(25_000.0), "subsidies");
    assert_eq!(nantan[10], Data::Empty, "no contracting income");

    // The charting library is served from the binary.
    let js = admin.get("/static/echarts.min.js").await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(js.text().contains("echarts"));
}

/// The Datong demo: a village with a development chain has its zone, products, chain, income
/// history (with the chart), brands and party organization on its profile.
async fn datong_village_profile(app: TestApp) {
    let summary = {
        let mut conn = app.conn();
        generate::demo(&mut conn, datong::COUNTY).expect("demo")
    };
    assert!(!summary.skipped);
    let admin = app.admin().await;
    let (_, zones) = admin.get_json("/api/v1/economy/summary?by=zone").await;
    assert_eq!(zones.as_array().map(Vec::len), Some(4), "{zones}");
    // A village with a chain, from the data layer.
    let (chains, _) =
        ringline::economy::query::chains(&mut app.conn(), &Access::system(), &Default::default(), 1_000, 0)
            .expect("chains");
    let chain = chains.first().expect("the demo has development chains");
    let page = admin.get(&format!("/villages/{}", chain.village_code)).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for section in [
        "所属示范带",
        "党组织",
        "历年集体经济收入",
        "主导产业",
        "产业发展链条",
        "党建品牌",
    ] {
        assert!(html.contains(section), "{section}");
    }
    assert!(html.contains(&chain.product));
    assert!(html.contains(&format!("{}/4", chain.completeness)));
    assert!(html.contains("class=\"chart\" data-option="), "the income chart");
    assert!(html.contains("/orgs/"), "the village's party organization");
    assert!(html.contains("示例数据"), "demo data is marked");
}

/// The village income list pages like every API list (limit 1–1000, else 422) and gives each
/// source as an object, as its OpenAPI schema says.
async fn village_income_api_pages_like_every_list(app: TestApp) {
    fixture(&app);
    let admin = app.admin().await;
    // The fixture has 6 village-years: 南滩村 and 克麻尔村 in 2024 and 2025, 麻其村 and 西关村
    // in 2025.
    let (status, all) = admin.get_json("/api/v1/economy/villages").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        (&all["total"], &all["limit"], &all["offset"]),
        (&6.into(), &100.into(), &0.into())
    );
    let (_, page) = admin.get_json("/api/v1/economy/villages?limit=2&offset=1").await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!((&page["limit"], &page["offset"]), (&2.into(), &1.into()));
    for bad in [
        "limit=-1",
        "limit=0",
        "limit=1001",
        "limit=abc",
        "offset=-1",
        "offset=1.5",
    ] {
        let (status, body) = admin.get_json(&format!("/api/v1/economy/villages?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
        let code = if bad.starts_with("limit") {
            "invalid-limit"
        } else {
            "invalid-offset"
        };
        assert_eq!(body["error"]["code"], code, "{bad}");
    }
    // Every other list answers the same.
    for path in [
        "/api/v1/divisions",
        "/api/v1/units",
        "/api/v1/orgs",
        "/api/v1/members",
        "/api/v1/coverage/uncovered",
        "/api/v1/audit",
    ] {
        let (status, body) = admin.get_json(&format!("{path}?limit=1001")).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid-limit", "{path}: {body}");
        let (status, body) = admin.get_json(&format!("{path}?limit=1")).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["limit"], 1, "{path}: {body}");
    }
    // 南滩村 2025: operating 30,000 and subsidies 25,000 yuan, as objects in account order.
    let (_, v) = admin
        .get_json(&format!("/api/v1/economy/villages?year=2025&under={NANTAN}"))
        .await;
    assert_eq!(
        v["items"][0]["by_source"],
        serde_json::json!([
            {"source": "operating", "amount": 3_000_000},
            {"source": "subsidies", "amount": 2_500_000}
        ])
    );
}
