//! Imports of the economy kinds (SPEC C4, C5, C8): lead products, development chains, brands,
//! collective income and income targets from the fixtures `tests/fixtures/economy/b_*` (see
//! `tests/fixtures/README.md` for what each row tests), on both backends. Bad rows are named by row,
//! column, value and reason and nothing is written; amounts land as the fen computed by hand;
//! re-imports are unchanged; updates are audited; town administrators stay in their town.
//!
//! The seeded program (大通县"一环三线"党建示范带) runs 2026–2028, so its five baseline years
//! 2021–2025 and 2026–2028 are the years accepted for Datong's villages.

use std::path::Path;

use chrono::Datelike;
use diesel::prelude::*;
use ringline::access::{Access, Scope};
use ringline::auth::Role;
use ringline::db::DbConn;
use ringline::db::schema::{audit_log, brands, collective_income, development_chains, income_targets, lead_products};
use ringline::i18n::{Lang, Tr};
use ringline::import::framework::{self, OnExisting, Options, Report};
use ringline::import::spec;
use serde_json::Value;

use crate::harness::{TestApp, fixture, xlsx_cells};
use crate::registry_import::load_units_and_orgs;

const DONGXIA: &str = "630121103000";

fn run(conn: &mut DbConn, who: &Access, kind: &str, path: &Path, apply: bool, on_existing: OnExisting) -> Report {
    let kind = spec::kind(kind).expect("known kind");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_string();
    framework::import_file(
        conn,
        who,
        kind,
        path,
        &name,
        Options {
            on_existing,
            apply,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("import runs")
    .0
}

/// Imports a fixture of `tests/fixtures/economy` as the system.
fn import(conn: &mut DbConn, kind: &str, file: &str, apply: bool, on_existing: OnExisting) -> Report {
    run(
        conn,
        &Access::system(),
        kind,
        &fixture(&format!("economy/{file}")),
        apply,
        on_existing,
    )
}

/// `(line, column header, rule)` of each error, sorted.
fn places(r: &Report) -> Vec<(usize, String, String)> {
    let mut v: Vec<_> = r
        .errors
        .iter()
        .map(|i| (i.line, i.column.clone(), i.key.clone()))
        .collect();
    v.sort();
    v
}

fn expect(list: &[(usize, &str, &str)]) -> Vec<(usize, String, String)> {
    list.iter()
        .map(|(l, c, k)| (*l, c.to_string(), k.to_string()))
        .collect()
}

/// Rows of the five economy tables: products, chains, brands, income, targets.
fn economy_counts(conn: &mut DbConn) -> [i64; 5] {
    let c = framework::counts(conn).expect("counts");
    [c["products"], c["chains"], c["brands"], c["income"], c["targets"]]
}

fn access(conn: &mut DbConn, role: Role, scope: &str) -> Access {
    Access::resolve(conn, 4243, "economy-tester", role, Scope::parse(scope).expect("scope")).expect("access")
}

/// The current year in China (UTC+8), as the import judges it.
fn this_year() -> i32 {
    (chrono::Utc::now() + chrono::Duration::hours(8)).year()
}

type IncomeRow = (String, i32, String, i64);

fn income_rows(conn: &mut DbConn) -> Vec<IncomeRow> {
    let mut rows: Vec<IncomeRow> = collective_income::table
        .select((
            collective_income::village_code,
            collective_income::year,
            collective_income::source,
            collective_income::amount_fen,
        ))
        .load(conn)
        .expect("income");
    rows.sort();
    rows
}

/// The last audit entry of an entity's updates: (entity id, before, after).
fn last_update(conn: &mut DbConn, entity: &str) -> (String, String, String) {
    let (id, before, after): (String, Option<String>, Option<String>) = audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::action.eq("update"))
        .order(audit_log::id.desc())
        .select((audit_log::entity_id, audit_log::before_json, audit_log::after_json))
        .first(conn)
        .unwrap_or_else(|e| panic!("an update of {entity} audited: {e}"));
    (id, before.expect("before"), after.expect("after"))
}

async fn income_errors_are_named_and_nothing_is_written(app: TestApp) {
    let mut conn = app.conn();
    for apply in [false, true] {
        let r = import(&mut conn, "income", "b_income_errors.csv", apply, OnExisting::Skip);
        assert!(!r.applied && !r.ok());
        assert_eq!(
            places(&r),
            expect(&[
                (2, "金额(元)", "amount-negative"),
                (3, "金额(元)", "amount-not-numeric"),
                (4, "村代码", "division-unknown"),
                (5, "收入来源", "income-source-unknown"),
                (6, "年度", "year-outside-program"),
                (7, "村代码", "division-wrong-level"),
                (9, "收入来源", "duplicate-in-file"),
                (10, "年度", "value-missing"),
                (11, "金额(元)", "amount-too-precise"),
            ]),
            "every bad row named once, with its column (apply = {apply})"
        );
        assert_eq!(economy_counts(&mut conn), [0; 5], "nothing written (apply = {apply})");
    }
    let r = import(&mut conn, "income", "b_income_errors.csv", false, OnExisting::Skip);
    let at = |line: usize| r.errors.iter().find(|i| i.line == line).expect("an issue on the line");
    // The place: file, sheet (none for CSV), row, column and value.
    let neg = at(2);
    assert_eq!(
        (neg.file.as_str(), neg.sheet.as_deref(), neg.value.as_str()),
        ("b_income_errors.csv", None, "-500")
    );
    assert!(
        neg.to_string()
            .starts_with("b_income_errors.csv, line 2, column 金额(元): "),
        "{neg}"
    );
    assert_eq!(
        (at(3).value.as_str(), at(4).value.as_str(), at(5).value.as_str()),
        ("五千元", "630121103299", "彩票收入")
    );
    assert_eq!((at(6).value.as_str(), at(7).value.as_str()), ("2020", "630121103000"));
    assert_eq!(
        at(9).value,
        "630121103204 / 2025 / 服务收入",
        "服务 is 服务收入, as on row 8"
    );
    // The reasons in Chinese and English.
    let (zh, en) = (Tr(Lang::Zh), Tr(Lang::En));
    assert_eq!(neg.text(zh), "金额 -500 为负数；金额不能小于0。");
    assert_eq!(neg.text(en), "The amount -500 is negative; amounts are zero or more.");
    assert_eq!(
        at(3).text(zh),
        "“五千元”不是金额；请以元为单位填写数字，可带小数点，如 12345.67、12,345.67 或 1.2万。"
    );
    assert_eq!(
        at(5).text(zh),
        "“彩票收入”不是收入来源；请从以下选择：经营收入、发包及上交收入、投资收益、服务收入、补助收入、其他收入。"
    );
    assert_eq!(
        at(6).text(zh),
        "年度 2020 不在该村所在县示范带的建设期内（可填 2021–2028 年：建设期及其前5年基期）；请核对年度。"
    );
    assert_eq!(
        at(6).text(en),
        "The year 2020 is outside the program of this village's county: 2021 to 2028 (the program's years and the five baseline years before them); check the year."
    );
    assert_eq!(at(7).text(zh), "这是乡镇级代码；此处需要村(社区)代码。");
    assert_eq!(at(9).text(zh), "与第 8 行重复；同一文件中每条记录只能出现一次。");
    assert_eq!(at(10).text(zh), "“年度”为必填项，请填写。");
    assert_eq!(
        at(11).text(en),
        "12.345 is more precise than a fen; use at most 2 decimals (6 with 万)."
    );
}

async fn income_imports_to_exact_fen(app: TestApp) {
    let mut conn = app.conn();
    let dry = import(&mut conn, "income", "b_income.csv", false, OnExisting::Skip);
    assert!(dry.ok(), "{:?}", dry.errors);
    assert_eq!((dry.rows, dry.new, dry.applied), (7, 7, false));
    assert_eq!(economy_counts(&mut conn), [0; 5], "a dry run writes nothing");
    let r = import(&mut conn, "income", "b_income.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 7);
    // By hand, 1 yuan = 100 fen: "12,345.60" → 1,234,560; 5万 = 50,000 yuan → 5,000,000;
    // ¥3000元 → 300,000; ０.５万 = 5,000 yuan → 500,000; 1234.5 → 123,450; 0 → 0;
    // "1,000,000.00" → 100,000,000. Sources: 服务 is services, "investment returns" the English
    // label, contracting_leasing the key; "2025年" is 2025.
    let s = |v: &str| v.to_string();
    assert_eq!(
        income_rows(&mut conn),
        vec![
            (s("630121101001"), 2025, s("other"), 0),
            (s("630121103201"), 2025, s("operating"), 1_234_560),
            (s("630121103201"), 2025, s("subsidies"), 5_000_000),
            (s("630121103201"), 2026, s("contracting_leasing"), 300_000),
            (s("630121103202"), 2025, s("investment_returns"), 500_000),
            (s("630121103202"), 2025, s("services"), 123_450),
            (s("630121103203"), 2026, s("contracting_leasing"), 100_000_000),
        ]
    );
    // The same file again: unchanged.
    let again = import(&mut conn, "income", "b_income.csv", true, OnExisting::Skip);
    assert_eq!((again.new, again.updated, again.unchanged, again.skipped), (0, 0, 7, 0));

    // A changed amount: skipped by default, updated on request with the amounts audited.
    let text = crate::harness::fixture_text("economy/b_income.csv").replacen("12,345.60", "12,345.70", 1);
    let changed = app.write_file("income_changed.csv", text.as_bytes());
    let system = Access::system();
    let r = run(&mut conn, &system, "income", &changed, true, OnExisting::Skip);
    assert_eq!((r.updated, r.unchanged, r.skipped), (0, 6, 1));
    assert_eq!(
        income_rows(&mut conn)[1].3,
        1_234_560,
        "skipped: the stored amount stays"
    );
    let r = run(&mut conn, &system, "income", &changed, true, OnExisting::Update);
    assert_eq!((r.updated, r.unchanged, r.skipped, r.applied), (1, 6, 0, true));
    assert_eq!(income_rows(&mut conn)[1].3, 1_234_570);
    // The audit entry names the record by its id and keeps the values as typed, in yuan.
    let (id, before, after) = last_update(&mut conn, "collective_income");
    let stored: i64 = collective_income::table
        .filter(collective_income::village_code.eq("630121103201"))
        .filter(collective_income::year.eq(2025))
        .filter(collective_income::source.eq("operating"))
        .select(collective_income::id)
        .first(&mut conn)
        .expect("the row");
    assert_eq!(id, stored.to_string());
    let (before, after): (Value, Value) = (
        serde_json::from_str(&before).expect("json"),
        serde_json::from_str(&after).expect("json"),
    );
    assert_eq!(
        (before["amount"].as_str(), after["amount"].as_str()),
        (Some("12345.60"), Some("12345.70"))
    );
    assert_eq!(
        (
            after["village"].as_str(),
            after["year"].as_str(),
            after["source"].as_str()
        ),
        (Some("630121103201"), Some("2025"), Some("operating"))
    );
    let r = run(&mut conn, &system, "income", &changed, true, OnExisting::Update);
    assert_eq!((r.new, r.updated, r.unchanged), (0, 0, 7));

    // A column headed in 万元 holds 万 (2.5 → 25,000 yuan); an amount written with 元 is yuan.
    let wan = app.write_file(
        "income_wan.csv",
        "村代码,年度,收入来源,金额(万元)\n630121103205,2025,经营收入,2.5\n630121103205,2025,补助收入,3000元\n"
            .as_bytes(),
    );
    let r = run(&mut conn, &system, "income", &wan, true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    let rows = income_rows(&mut conn);
    let get = |v: &str, src: &str| rows.iter().find(|r| r.0 == v && r.2 == src).map(|r| r.3).expect("row");
    assert_eq!(get("630121103205", "operating"), 2_500_000);
    assert_eq!(get("630121103205", "subsidies"), 300_000);

    // An XLSX with number cells: 12345.6 → 1,234,560 fen; 99.99 → 9,999 fen; the year a number.
    let path = app.dir.path().join("income.xlsx");
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in ["村代码", "年度", "收入来源", "金额(元)"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).expect("header");
        }
        for (r, (source, amount)) in [("经营收入", 12345.6), ("投资收益", 99.99)].iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, "630121103206").expect("c");
            ws.write_number(r, 1, 2025.0).expect("c");
            ws.write_string(r, 2, *source).expect("c");
            ws.write_number(r, 3, *amount).expect("c");
        }
        wb.save(&path).expect("save");
    }
    let r = run(&mut conn, &system, "income", &path, true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    let rows = income_rows(&mut conn);
    let of = |src: &str| {
        rows.iter()
            .find(|r| r.0 == "630121103206" && r.2 == src)
            .map(|r| (r.1, r.3))
    };
    assert_eq!(of("operating"), Some((2025, 1_234_560)));
    assert_eq!(of("investment_returns"), Some((2025, 9_999)));
}

async fn years_follow_the_program(app: TestApp) {
    let mut conn = app.conn();
    let system = Access::system();
    let year = this_year();
    let keys = |r: &Report| r.errors.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    let file = |name: &str, kind_header: &str, rows: &[(i32, &str)]| {
        let mut text = format!("村代码,年度,{kind_header}\n");
        for (y, rest) in rows {
            text.push_str(&format!("630121103201,{y},{rest}\n"));
        }
        app.write_file(name, text.as_bytes())
    };
    // The five baseline years before the program (2021–2025) are accepted; 2020 is not.
    let p = file(
        "base.csv",
        "收入来源,金额(元)",
        &[(2021, "经营收入,1"), (2020, "补助收入,1")],
    );
    let r = run(&mut conn, &system, "income", &p, false, OnExisting::Skip);
    assert_eq!(keys(&r), vec!["year-outside-program"]);
    assert_eq!(r.errors[0].line, 3);
    // Next year: income is refused as not yet begun (or as outside the program once 2028 is
    // past); a target for it is accepted while the program runs.
    let next = year + 1;
    let p = file("next.csv", "收入来源,金额(元)", &[(next, "经营收入,1")]);
    let r = run(&mut conn, &system, "income", &p, false, OnExisting::Skip);
    let within = next <= 2028;
    assert_eq!(
        keys(&r),
        vec![if within { "year-future" } else { "year-outside-program" }]
    );
    let p = file("next_target.csv", "目标收入(元)", &[(next, "50000")]);
    let r = run(&mut conn, &system, "targets", &p, false, OnExisting::Skip);
    assert_eq!(r.ok(), within, "{:?}", r.errors);
    // Lead products follow the income rule.
    let p = file(
        "next_product.csv",
        "产品名称,产品类别",
        &[(next, "牦牛肉,畜牧养殖"), (2026, "青稞,种植业")],
    );
    let r = run(&mut conn, &system, "products", &p, false, OnExisting::Skip);
    assert_eq!((r.errors.len(), r.errors[0].line, r.new), (1, 2, 1));

    // Where no program covers the county, any year from 1949 to next year; income not after
    // this year. (The seeded program is moved to another county for this.)
    use ringline::db::schema::programs;
    diesel::update(programs::table)
        .set(programs::county_code.eq("630123000000"))
        .execute(&mut conn)
        .expect("move the program");
    let p = file(
        "free.csv",
        "收入来源,金额(元)",
        &[(2020, "经营收入,1"), (1948, "补助收入,1"), (next, "服务收入,1")],
    );
    let r = run(&mut conn, &system, "income", &p, false, OnExisting::Skip);
    assert_eq!(
        places(&r),
        expect(&[(3, "年度", "year-out-of-range"), (4, "年度", "year-future")])
    );
    assert_eq!(
        r.errors[0].text(Tr(Lang::Zh)),
        format!("年度 1948 不在 1949 年至 {next} 年之间；请核对年度。")
    );
    let p = file(
        "free_targets.csv",
        "目标收入(元)",
        &[(next, "50000"), (year + 2, "50000")],
    );
    let r = run(&mut conn, &system, "targets", &p, false, OnExisting::Skip);
    assert_eq!(places(&r), expect(&[(3, "年度", "year-out-of-range")]));
    assert_eq!(economy_counts(&mut conn), [0; 5]);
}

async fn products_chains_brands_and_targets(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let system = Access::system();

    // Lead products.
    let dry = import(&mut conn, "products", "b_products.csv", false, OnExisting::Skip);
    assert!(dry.ok(), "{:?}", dry.errors);
    assert_eq!((dry.new, economy_counts(&mut conn)[0]), (5, 0));
    let r = import(&mut conn, "products", "b_products.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    type P = (
        String,
        i32,
        String,
        String,
        Option<f64>,
        String,
        Option<i64>,
        Option<i32>,
        Option<i64>,
    );
    let load = |conn: &mut DbConn| {
        let mut v: Vec<P> = lead_products::table
            .select((
                lead_products::village_code,
                lead_products::year,
                lead_products::name,
                lead_products::category,
                lead_products::scale,
                lead_products::scale_unit,
                lead_products::output_value_fen,
                lead_products::households,
                lead_products::income_per_household_fen,
            ))
            .load(conn)
            .expect("products");
        v.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
        v
    };
    let s = |v: &str| v.to_string();
    // By hand: "3,600,000" yuan → 360,000,000 fen; "12,000.50" → 1,200,050; 4.2万 = 42,000
    // yuan → 4,200,000; 960000 → 96,000,000; 8000 → 800,000; 1500000 → 150,000,000;
    // 6500 → 650,000. Categories by label (畜牧养殖, 种植业, 乡村旅游) or key.
    assert_eq!(
        load(&mut conn),
        vec![
            (
                s("630121101201"),
                2025,
                s("鸡腿葱"),
                s("planting"),
                Some(500.0),
                s("亩"),
                None,
                Some(60),
                None
            ),
            (
                s("630121103201"),
                2025,
                s("牦牛肉"),
                s("livestock"),
                Some(1200.0),
                s("头"),
                Some(360_000_000),
                Some(85),
                Some(1_200_050)
            ),
            (
                s("630121103201"),
                2026,
                s("牦牛肉"),
                s("livestock"),
                Some(1350.0),
                s("头"),
                Some(4_200_000),
                Some(90),
                None
            ),
            (
                s("630121103202"),
                2025,
                s("青稞"),
                s("planting"),
                Some(800.0),
                s("亩"),
                Some(96_000_000),
                Some(120),
                Some(800_000)
            ),
            (
                s("630121103204"),
                2025,
                s("乡村旅游"),
                s("tourism"),
                None,
                s(""),
                Some(150_000_000),
                Some(40),
                Some(650_000)
            ),
        ]
    );
    let again = import(&mut conn, "products", "b_products.csv", true, OnExisting::Skip);
    assert_eq!((again.new, again.unchanged), (0, 5));
    // A file with fewer columns updates what it holds; the other columns keep their values.
    let p = app.write_file(
        "households.csv",
        "村代码,年度,产品名称,产品类别,带动户数\n630121103201,2025,牦牛肉,畜牧养殖,88\n".as_bytes(),
    );
    let r = run(&mut conn, &system, "products", &p, true, OnExisting::Update);
    assert_eq!((r.updated, r.applied), (1, true), "{:?}", r.errors);
    let yak = load(&mut conn).into_iter().nth(1).expect("牦牛肉 2025");
    assert_eq!(
        (yak.4, yak.6, yak.7, yak.8),
        (Some(1200.0), Some(360_000_000), Some(88), Some(1_200_050))
    );
    let (_, before, after) = last_update(&mut conn, "lead_product");
    assert!(
        before.contains("\"households\":\"85\"") && after.contains("\"households\":\"88\""),
        "{before} → {after}"
    );

    // Development chains: links by organization code and name, unit credit code and name.
    let r = import(&mut conn, "chains", "b_chains.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 3);
    assert_eq!(
        r.warnings
            .iter()
            .map(|w| (w.line, w.column.as_str(), w.key.as_str()))
            .collect::<Vec<_>>(),
        vec![(3, "产品", "chain-product-unknown")],
        "鸡腿葱电商 is none of 佰胜's lead products"
    );
    use ringline::db::schema::{party_orgs, units};
    let org = |conn: &mut DbConn, code: &str| -> i64 {
        party_orgs::table
            .filter(party_orgs::code.eq(code))
            .select(party_orgs::id)
            .first(conn)
            .expect("org")
    };
    let unit = |conn: &mut DbConn, name: &str| -> i64 {
        units::table
            .filter(units::name.eq(name))
            .select(units::id)
            .first(conn)
            .expect("unit")
    };
    type Links = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let links = |conn: &mut DbConn, village: &str| -> Links {
        development_chains::table
            .filter(development_chains::village_code.eq(village))
            .select((
                development_chains::branch_org_id,
                development_chains::association_unit_id,
                development_chains::company_unit_id,
                development_chains::market_unit_id,
            ))
            .first(conn)
            .expect("chain")
    };
    let coop = unit(&mut conn, "东峡镇青稞种植专业合作社");
    let trade = unit(&mut conn, "大通县东峡商贸有限公司");
    assert_eq!(
        links(&mut conn, "630121103201"),
        (
            Some(org(&mut conn, "630121103201")),
            Some(coop),
            Some(unit(&mut conn, "大通东峡牦牛肉加工有限公司")),
            Some(trade)
        ),
        "all four links"
    );
    assert_eq!(
        links(&mut conn, "630121101001"),
        (
            Some(org(&mut conn, "630121101001")),
            None,
            Some(unit(&mut conn, "城关镇鸡腿葱电商有限公司")),
            None
        ),
        "branch by full name"
    );
    let again = import(&mut conn, "chains", "b_chains.csv", true, OnExisting::Skip);
    assert_eq!((again.new, again.unchanged), (0, 3));
    // Only a market column: the other links stay; skipped unless updates are asked for.
    let p = app.write_file(
        "market.csv",
        "村代码,产品,市场\n630121103202,青稞,大通县东峡商贸有限公司\n".as_bytes(),
    );
    let r = run(&mut conn, &system, "chains", &p, true, OnExisting::Skip);
    assert_eq!((r.skipped, r.updated), (1, 0));
    let r = run(&mut conn, &system, "chains", &p, true, OnExisting::Update);
    assert_eq!((r.skipped, r.updated), (0, 1));
    assert_eq!(links(&mut conn, "630121103202"), (None, Some(coop), None, Some(trade)));
    // The audit entry keeps the links as typed: the market by its credit code (or its name when
    // it has none), empty before.
    let (_, before, after) = last_update(&mut conn, "development_chain");
    let (code, name): (Option<String>, String) = units::table
        .find(trade)
        .select((units::credit_code, units::name))
        .first(&mut conn)
        .expect("the market");
    let market = code.unwrap_or(name);
    assert!(
        before.contains("\"market\":\"\"") && after.contains(&format!("\"market\":\"{market}\"")),
        "{before} → {after}"
    );

    // Brands: owner a village or a unit, zone by its name or short name, level by label or key.
    let r = import(&mut conn, "brands", "b_brands.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 3);
    use ringline::db::schema::zones;
    let zone = |conn: &mut DbConn, name: &str| -> i64 {
        zones::table
            .filter(zones::name.eq(name))
            .select(zones::id)
            .first(conn)
            .expect("zone")
    };
    type B = (String, Option<i64>, Option<String>, String, Option<i64>, String, i32);
    let mut stored: Vec<B> = brands::table
        .select((
            brands::name,
            brands::owner_unit_id,
            brands::owner_village,
            brands::division_code,
            brands::zone_id,
            brands::level,
            brands::year,
        ))
        .load(&mut conn)
        .expect("brands");
    stored.sort_by_key(|b| b.6);
    assert_eq!(
        stored,
        vec![
            (
                s("青稞党建"),
                Some(coop),
                None,
                s("630121103202"),
                None,
                s("province"),
                2023
            ),
            (
                s("牦乡红"),
                None,
                Some(s("630121103201")),
                s("630121103201"),
                Some(zone(&mut conn, "东峡线")),
                s("county"),
                2024
            ),
            (
                s("红色电商"),
                Some(unit(&mut conn, "城关镇鸡腿葱电商有限公司")),
                None,
                s("630121101001"),
                Some(zone(&mut conn, "一环 商贸经济示范区")),
                s("city"),
                2025
            ),
        ]
    );
    let again = import(&mut conn, "brands", "b_brands.csv", true, OnExisting::Skip);
    assert_eq!((again.new, again.unchanged), (0, 3));

    // Targets: 5万 → 5,000,000 fen; "100,000" → 10,000,000; 60000 → 6,000,000.
    let r = import(&mut conn, "targets", "b_targets.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    let mut t: Vec<(String, i32, i64)> = income_targets::table
        .select((
            income_targets::village_code,
            income_targets::year,
            income_targets::target_fen,
        ))
        .load(&mut conn)
        .expect("targets");
    t.sort();
    assert_eq!(
        t,
        vec![
            (s("630121103201"), 2026, 5_000_000),
            (s("630121103201"), 2027, 6_000_000),
            (s("630121103202"), 2026, 10_000_000),
        ]
    );
    let p = app.write_file(
        "target.csv",
        "村代码,年度,目标收入(元)\n630121103202,2026,12万\n".as_bytes(),
    );
    let r = run(&mut conn, &system, "targets", &p, true, OnExisting::Update);
    assert_eq!(r.updated, 1);
    let (id, before, after) = last_update(&mut conn, "income_target");
    let stored: i64 = income_targets::table
        .filter(income_targets::village_code.eq("630121103202"))
        .filter(income_targets::year.eq(2026))
        .select(income_targets::id)
        .first(&mut conn)
        .expect("the target");
    assert_eq!(id, stored.to_string());
    // 100,000 yuan before, 12万 = 120,000 yuan after.
    assert!(
        before.contains("\"target\":\"100000.00\"") && after.contains("\"target\":\"120000.00\""),
        "{before} → {after}"
    );
    assert_eq!(economy_counts(&mut conn), [5, 3, 3, 0, 3]);
}

async fn economy_errors_name_their_rows(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    for apply in [false, true] {
        let r = import(&mut conn, "products", "b_products_errors.csv", apply, OnExisting::Skip);
        assert_eq!(
            places(&r),
            expect(&[
                (2, "产品类别", "cell-not-a-choice"),
                (3, "规模单位", "scale-unpaired"),
                (4, "产值(元)", "amount-negative"),
                (5, "村代码", "division-wrong-level"),
                (6, "年度", "year-outside-program"),
                (7, "带动户数", "cell-not-a-whole-number"),
                (9, "产品名称", "duplicate-in-file"),
                (10, "产品名称", "value-missing"),
            ]),
            "products, apply = {apply}"
        );
        let r = import(&mut conn, "chains", "b_chains_errors.csv", apply, OnExisting::Skip);
        assert_eq!(
            places(&r),
            expect(&[
                (2, "协会/合作社", "unit-not-found"),
                (3, "党支部", "org-not-found"),
                (4, "村代码", "division-wrong-level"),
                (5, "产品", "value-missing"),
                (7, "产品", "duplicate-in-file"),
                (8, "公司", "unit-not-found"),
            ]),
            "chains, apply = {apply}"
        );
        let r = import(&mut conn, "brands", "b_brands_errors.csv", apply, OnExisting::Skip);
        assert_eq!(
            places(&r),
            expect(&[
                (2, "品牌级别", "cell-not-a-choice"),
                (3, "所属单位或村", "division-wrong-level"),
                (4, "所属单位或村", "brand-owner-not-found"),
                (5, "所属示范带", "zone-not-found"),
                (6, "命名年度", "year-out-of-range"),
                (8, "品牌名称", "duplicate-in-file"),
            ]),
            "brands, apply = {apply}"
        );
        let r = import(&mut conn, "targets", "b_targets_errors.csv", apply, OnExisting::Skip);
        assert_eq!(
            places(&r),
            expect(&[
                (2, "年度", "year-outside-program"),
                (3, "目标收入(元)", "amount-negative"),
                (4, "目标收入(元)", "amount-not-numeric"),
                (6, "年度", "duplicate-in-file"),
            ]),
            "targets, apply = {apply}"
        );
        assert_eq!(economy_counts(&mut conn), [0; 5], "nothing written (apply = {apply})");
    }
    // Values and reasons.
    let zh = Tr(Lang::Zh);
    let r = import(&mut conn, "brands", "b_brands_errors.csv", false, OnExisting::Skip);
    let at = |line: usize| r.errors.iter().find(|i| i.line == line).expect("issue");
    assert_eq!(at(2).value, "乡级");
    assert_eq!(at(2).text(zh), "不是可选的值；请从以下选择：县级、市级、省级、国家级。");
    assert_eq!(
        at(5).text(zh),
        "所属单位或村所在县没有名为“西环线”的示范带；请按示范带页面上的名称填写。"
    );
    assert!(at(4).text(zh).contains("“不存在的公司”"), "{}", at(4).text(zh));
    assert_eq!(
        at(6).text(zh),
        format!("年度 1900 不在 1949 年至 {} 年之间；请核对年度。", this_year())
    );
    let r = import(&mut conn, "chains", "b_chains_errors.csv", false, OnExisting::Skip);
    let at = |line: usize| r.errors.iter().find(|i| i.line == line).expect("issue");
    assert_eq!(
        (at(2).value.as_str(), at(8).value.as_str()),
        ("不存在的合作社", "91630121MA7XDY0A1Z")
    );
    assert_eq!(
        at(2).text(zh),
        "没有信用代码或名称为“不存在的合作社”的登记单位；请先导入该单位或核对名称。"
    );
    let r = import(&mut conn, "products", "b_products_errors.csv", false, OnExisting::Skip);
    let unpaired = r.errors.iter().find(|i| i.line == 3).expect("line 3");
    assert_eq!(unpaired.text(zh), "规模和规模单位须同时填写或同时留空。");
}

async fn town_admin_is_refused_outside_scope(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let dongxia = access(&mut conn, Role::TownAdmin, DONGXIA);
    // 佰胜 (630121101001) and 上毛佰胜 (630121101201) are in 城关镇.
    let r = run(
        &mut conn,
        &dongxia,
        "income",
        &fixture("economy/b_income.csv"),
        true,
        OnExisting::Skip,
    );
    assert_eq!(places(&r), expect(&[(7, "村代码", "outside-scope")]));
    assert_eq!(r.errors[0].value, "630121101001");
    assert_eq!(
        r.errors[0].message,
        "630121101001 is outside your area; only records within your scope can be imported"
    );
    assert_eq!(
        r.errors[0].text(Tr(Lang::Zh)),
        "超出您的管理范围；只能导入本辖区的数据。"
    );
    let r = run(
        &mut conn,
        &dongxia,
        "products",
        &fixture("economy/b_products.csv"),
        true,
        OnExisting::Skip,
    );
    assert_eq!(places(&r), expect(&[(5, "村代码", "outside-scope")]));
    let r = run(
        &mut conn,
        &dongxia,
        "brands",
        &fixture("economy/b_brands.csv"),
        true,
        OnExisting::Skip,
    );
    assert_eq!(
        places(&r),
        expect(&[(3, "所属单位或村", "outside-scope")]),
        "红色电商's owner is in 城关镇"
    );
    assert_eq!(economy_counts(&mut conn), [0; 5], "nothing written");

    // A brand the county stored for 城关镇 cannot be taken over from 东峡镇.
    let r = import(&mut conn, "brands", "b_brands.csv", true, OnExisting::Skip);
    assert!(r.applied, "{:?}", r.errors);
    let p = app.write_file(
        "takeover.csv",
        "品牌名称,所属单位或村,品牌级别,命名年度\n红色电商,630121103201,市级,2025\n".as_bytes(),
    );
    let r = run(&mut conn, &dongxia, "brands", &p, true, OnExisting::Update);
    assert_eq!(places(&r), expect(&[(2, "品牌名称", "outside-scope")]));
    let division: String = brands::table
        .filter(brands::name.eq("红色电商"))
        .select(brands::division_code)
        .first(&mut conn)
        .expect("brand");
    assert_eq!(division, "630121101001");
    // Within the town the same administrator imports.
    let p = app.write_file(
        "own.csv",
        "村代码,年度,收入来源,金额(元)\n630121103201,2025,经营收入,100\n".as_bytes(),
    );
    let r = run(&mut conn, &dongxia, "income", &p, true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    // A viewer may not import at all.
    let viewer = access(&mut conn, Role::Viewer, "630121000000");
    let err = framework::import_file(
        &mut conn,
        &viewer,
        spec::kind("income").expect("income"),
        &fixture("economy/b_income.csv"),
        "b_income.csv",
        Options::default(),
        &mut |_, _, _| {},
    );
    assert!(matches!(err, Err(framework::ImportError::Forbidden)));
}

async fn templates_page_api_and_command_line(app: TestApp) {
    // Templates: the headers people use, the source drop-down in each language.
    for (lang, headers, labels) in [
        (
            "zh-CN",
            vec!["村代码", "年度", "收入来源", "金额(元)"],
            "经营收入,发包及上交收入,投资收益",
        ),
        (
            "en",
            vec!["Village", "Year", "Source", "Amount"],
            "operating,contracting and leasing",
        ),
    ] {
        let bytes =
            ringline::import::workbook::template(spec::kind("income").expect("income"), lang).expect("template");
        assert_eq!(xlsx_cells(&bytes)[0], headers, "{lang}");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet1.xml").expect("sheet"), &mut xml)
            .expect("xml");
        assert!(xml.contains(labels), "{lang}: drop-down of sources");
    }
    // The import page offers every economy kind; its template downloads.
    let s = app.admin().await;
    let page = s.get("/import").await;
    let html = page.text();
    for (key, name) in [
        ("products", "主导产品"),
        ("chains", "发展链条"),
        ("brands", "党建品牌"),
        ("income", "村集体经济收入"),
        ("targets", "收入目标"),
    ] {
        assert!(
            html.contains(&format!("<option value=\"{key}\">{name}</option>")),
            "{key}"
        );
    }
    let t = s.get("/import/templates/brands.xlsx?lang=zh-CN").await;
    assert_eq!(t.status, reqwest::StatusCode::OK);
    assert_eq!(
        xlsx_cells(&t.body)[0],
        vec!["品牌名称", "所属单位或村", "所属示范带", "品牌级别", "命名年度"]
    );
    // The API answers the dry run's report.
    let r = s
        .client
        .post(s.url("/api/v1/import/income?filename=income.csv"))
        .header("X-CSRF-Token", s.csrf.clone())
        .body(std::fs::read(fixture("economy/b_income_errors.csv")).expect("fixture"))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "a rejected file");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(9));
    assert_eq!(
        (v["errors"][0]["line"].as_u64(), v["errors"][0]["column"].as_str()),
        (Some(2), Some("金额(元)"))
    );

    // The command line (SQLite only: the binary is given the database file).
    if app.backend != crate::harness::Backend::Sqlite {
        return;
    }
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ringline"))
            .arg("--database-url")
            .arg(app.dir.path().join("ringline.db"))
            .args(args)
            .current_dir(app.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("RINGLINE_CONFIG")
            .env("LANG", "C")
            .output()
            .expect("the ringline binary runs")
    };
    let out = app.dir.path().join("targets.xlsx");
    let o = cli(&["import", "template", "targets", "--out", out.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        xlsx_cells(&std::fs::read(&out).expect("template"))[0],
        vec!["村代码", "年度", "目标收入(元)"]
    );
    let bad = fixture("economy/b_income_errors.csv");
    let o = cli(&["import", "income", bad.to_str().expect("path"), "--apply"]);
    assert_eq!(o.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("error: b_income_errors.csv, row 2, column 金额(元): The amount -500 is negative"),
        "{stdout}"
    );
    let good = fixture("economy/b_income.csv");
    let o = cli(&["import", "income", good.to_str().expect("path"), "--apply"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let mut conn = app.conn();
    assert_eq!(economy_counts(&mut conn)[3], 7);
}

on_both_backends!(
    income_errors_are_named_and_nothing_is_written,
    income_imports_to_exact_fen,
    years_follow_the_program,
    products_chains_brands_and_targets,
    economy_errors_name_their_rows,
    town_admin_is_refused_outside_scope,
    templates_page_api_and_command_line,
);
