//! Retired divisions (SPEC C1: codes are never reused, only retired, with history): a retirement
//! lists what the records hold on the code; afterwards the code counts in no summary, its pages
//! say when it was retired, and nothing new is attached to it, while its records stay readable.
//! Also: a district imported without its city is warned about, and a real import's update clears
//! the "illustrative" mark of the demo record it overwrites.

use std::path::Path;

use diesel::prelude::*;
use ringline::access::Access;
use ringline::core::economy::{IncomeSource, Thresholds};
use ringline::db::DbConn;
use ringline::db::schema::{collective_income, members, party_orgs, units};
use ringline::economy::query::{self, IncomeFilter};
use ringline::economy::summary::{self, By};
use ringline::generate;
use ringline::import::divisions::{self as imp, Options, Plan};
use ringline::import::framework::{self, OnExisting, Report};
use ringline::import::spec;

use crate::calls;
use crate::datong::{self, QIAOTOU};
use crate::harness::TestApp;

on_both_backends!(
    retiring_a_village_that_holds_records,
    a_district_without_its_city_is_warned_about,
    a_real_import_clears_the_demo_mark
);

/// 闇门滩村委会 of 桥头镇.
const VILLAGE: &str = "630121100202";

fn plan_file(conn: &mut DbConn, path: &Path, opts: &Options) -> Plan {
    let r = imp::read(path, opts).unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    imp::plan(conn, r.incoming, r.files, r.issues, opts).expect("plan")
}

fn import(conn: &mut DbConn, kind: &str, path: &Path, apply: bool, on_existing: OnExisting) -> Report {
    framework::import_file(
        conn,
        &Access::system(),
        spec::kind(kind).expect("known kind"),
        path,
        "file.csv",
        framework::Options {
            on_existing,
            apply,
            // Updates that empty stored values (a demo unit's point) are meant here.
            confirm: true,
            ..Default::default()
        },
        &mut |_, _, _| {},
    )
    .expect("import runs")
    .0
}

fn count(n: QueryResult<i64>) -> i64 {
    n.expect("count")
}

/// Today in China, as the retirement is dated.
fn china_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

async fn retiring_a_village_that_holds_records(app: TestApp) {
    let mut conn = app.conn();
    generate::demo(&mut conn, datong::COUNTY).expect("demo");
    // What the demo holds on the village, counted here with plain SQL.
    let held_members = count(
        members::table
            .filter(members::division_code.eq(VILLAGE))
            .count()
            .get_result(&mut *conn),
    );
    let held_orgs = count(
        party_orgs::table
            .filter(party_orgs::division_code.eq(VILLAGE))
            .count()
            .get_result(&mut *conn),
    );
    let held_income = count(
        collective_income::table
            .filter(collective_income::village_code.eq(VILLAGE))
            .count()
            .get_result(&mut *conn),
    );
    assert!(
        held_members >= 3 && held_orgs >= 1 && held_income >= 5,
        "the demo fills every village"
    );

    // The bundled divisions without the village.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/datong/divisions.csv");
    let text = std::fs::read_to_string(source).expect("divisions.csv");
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with(VILLAGE))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = app.write_file("divisions.csv", without.as_bytes());

    // A dry run without --retire-missing lists the code with what hangs on it, and retires nothing.
    let plan = plan_file(&mut conn, &path, &Options::default());
    assert_eq!(plan.missing.len(), 1);
    assert_eq!(plan.missing[0].code, VILLAGE);
    assert!(plan.retired.is_empty());
    let h = plan.holdings[VILLAGE];
    assert_eq!((h.members, h.orgs, h.income), (held_members, held_orgs, held_income));
    // With it, a warning says what the retirement leaves behind.
    let opts = Options {
        retire_missing: true,
        ..Options::default()
    };
    let plan = plan_file(&mut conn, &path, &opts);
    assert_eq!(plan.retired.len(), 1);
    let w = plan
        .warnings
        .iter()
        .find(|w| w.key == "retired-in-use")
        .expect("a warning for the retired code in use");
    assert_eq!(w.value, VILLAGE);
    assert!(
        w.message.contains(&format!("{held_members} party members"))
            && w.message.contains(&format!("{held_income} income records")),
        "{}",
        w.message
    );
    calls::apply(&mut conn, &plan, "divisions.csv").expect("apply");

    // Summaries count the villages in use: 桥头镇 has one village fewer, and every one of the
    // others reported in 2025 (the demo reports every village 2021–2025).
    let in_town = datong::of_level("village")
        .iter()
        .filter(|r| r.parent == QIAOTOU)
        .count();
    let t = Thresholds::default();
    let towns = summary::summary(&mut conn, &Access::system(), 2025, By::Town, None, &t).expect("summary");
    let row = towns.iter().find(|r| r.key == QIAOTOU).expect("桥头镇");
    assert_eq!((row.villages, row.reported), (in_town - 1, in_town - 1));
    let county = summary::summary(&mut conn, &Access::system(), 2025, By::County, None, &t).expect("summary");
    assert_eq!(county[0].villages, 313 - 1);
    // History stays readable: the village's five years of income.
    let (years, total) = query::incomes(
        &mut conn,
        &Access::system(),
        &IncomeFilter {
            village: Some(VILLAGE.into()),
            ..Default::default()
        },
        &t,
        100,
        0,
    )
    .expect("incomes");
    assert_eq!(total, 5, "{years:?}");

    // The village's division and profile say it was retired, and when.
    let today = china_today().to_string();
    let admin = app.admin().await;
    let (status, d) = admin.get_json(&format!("/api/v1/divisions/{VILLAGE}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (d["status"].as_str(), d["retired_on"].as_str()),
        (Some("retired"), Some(today.as_str()))
    );
    let page = admin.get(&format!("/villages/{VILLAGE}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("已撤销") && html.contains(&format!("已于 {today} 撤销")),
        "{html}"
    );

    // Income for it is refused, saying it was retired and when.
    let income = app.write_file(
        "income.csv",
        format!("village_code,year,source,amount_yuan\n{VILLAGE},2025,operating,1000\n").as_bytes(),
    );
    let r = import(&mut conn, "income", &income, false, OnExisting::Update);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].key, "division-retired");
    assert!(r.errors[0].message.contains(&today), "{}", r.errors[0].message);
    // Nobody new joins its party branch (coded with the village code).
    let member = app.write_file(
        "members.csv",
        format!(
            "姓名,性别,公民身份号码,手机号码,党员类别,入党日期,所在党组织,工作单位,报到社区\n\
             张德明,男,630121198503121519,13897012345,正式党员,2010-07-01,{VILLAGE},,\n"
        )
        .as_bytes(),
    );
    let r = import(&mut conn, "members", &member, false, OnExisting::Skip);
    let keys: Vec<&str> = r.errors.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["org-division-retired"], "{:?}", r.errors);
    assert!(r.errors[0].message.contains(&today));
}

async fn a_district_without_its_city_is_warned_about(app: TestApp) {
    let mut conn = app.conn();
    // 城东区 of 西宁市 (630100), with no 西宁市 stored and none in the file.
    let path = app.write_file(
        "districts.csv",
        "code,name,level,parent_code\n630102000000,城东区,county,630100000000\n".as_bytes(),
    );
    let opts = Options {
        only: Some("630102".into()),
        ..Options::default()
    };
    let plan = plan_file(&mut conn, &path, &opts);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let w: Vec<&str> = plan.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(w, ["parent-missing"]);
    assert_eq!(plan.warnings[0].value, "630102000000");
    assert!(
        plan.warnings[0].message.contains("city 630100000000"),
        "{}",
        plan.warnings[0].message
    );
    // Datong's own county names its city, not stored either; a file holding the city too is
    // complete and gets no warning.
    let path = app.write_file(
        "with-city.csv",
        "code,name,level,parent_code\n630100000000,西宁市,city,630000000000\n630102000000,城东区,county,630100000000\n"
            .as_bytes(),
    );
    let plan = plan_file(&mut conn, &path, &Options::default());
    let w: Vec<(&str, &str)> = plan
        .warnings
        .iter()
        .map(|w| (w.key.as_str(), w.value.as_str()))
        .collect();
    assert_eq!(
        w,
        [("parent-missing", "630100000000")],
        "only the city's own province is missing"
    );
}

async fn a_real_import_clears_the_demo_mark(app: TestApp) {
    let mut conn = app.conn();
    generate::demo(&mut conn, datong::COUNTY).expect("demo");
    // A demo income record, imported for real with the same amount.
    let (village, year, source, fen): (String, i32, String, i64) = collective_income::table
        .filter(collective_income::illustrative.eq(true))
        .filter(collective_income::year.eq(2025))
        .order((collective_income::village_code, collective_income::source))
        .select((
            collective_income::village_code,
            collective_income::year,
            collective_income::source,
            collective_income::amount_fen,
        ))
        .first(&mut *conn)
        .expect("a demo income record");
    assert!(source.parse::<IncomeSource>().is_ok());
    let path = app.write_file(
        "income.csv",
        format!(
            "village_code,year,source,amount_yuan\n{village},{year},{source},{}.{:02}\n",
            fen / 100,
            fen % 100
        )
        .as_bytes(),
    );
    // Skipping leaves the demo record alone (it is a demo record, not the same record)…
    let r = import(&mut conn, "income", &path, true, OnExisting::Skip);
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!((r.new, r.updated, r.unchanged, r.skipped), (0, 0, 0, 1));
    // …updating makes it real: same amount, no mark.
    let r = import(&mut conn, "income", &path, true, OnExisting::Update);
    assert_eq!((r.new, r.updated, r.unchanged, r.skipped), (0, 1, 0, 0));
    let (amount, illustrative): (i64, bool) = collective_income::table
        .filter(collective_income::village_code.eq(&village))
        .filter(collective_income::year.eq(year))
        .filter(collective_income::source.eq(&source))
        .select((collective_income::amount_fen, collective_income::illustrative))
        .first(&mut *conn)
        .expect("the record");
    assert_eq!((amount, illustrative), (fen, false));
    // Imported again, it is unchanged.
    let r = import(&mut conn, "income", &path, true, OnExisting::Update);
    assert_eq!((r.updated, r.unchanged), (0, 1));

    // A demo unit updated by a real import (one more person employed) is real afterwards.
    type UnitRow = (
        i64,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<i32>,
        Option<i32>,
    );
    let (id, name, kind, credit, division, address, headcount, pmc): UnitRow = units::table
        .filter(units::illustrative.eq(true))
        .filter(units::credit_code.is_not_null())
        .order(units::id)
        .select((
            units::id,
            units::name,
            units::kind,
            units::credit_code,
            units::division_code,
            units::address,
            units::headcount,
            units::party_member_count,
        ))
        .first(&mut *conn)
        .expect("a demo unit with a credit code");
    let label = spec::UNIT_KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, zh, _)| *zh)
        .expect("a kind");
    let path = app.write_file(
        "units.csv",
        format!(
            "单位名称,单位类型,统一社会信用代码,所在村(社区)代码,地址,经度,纬度,从业人数,党员人数\n\
             {name},{label},{},{division},{address},,,{},{}\n",
            credit.expect("code"),
            headcount.unwrap_or(0) + 1,
            pmc.map(|n| n.to_string()).unwrap_or_default()
        )
        .as_bytes(),
    );
    let r = import(&mut conn, "units", &path, true, OnExisting::Update);
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!(r.updated, 1);
    let illustrative: bool = units::table
        .find(id)
        .select(units::illustrative)
        .first(&mut *conn)
        .expect("the unit");
    assert!(!illustrative, "a real update clears the mark");
}
