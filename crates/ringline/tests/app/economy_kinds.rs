//! The five economy kinds (SPEC C4, C5) through every way in besides the import: the web
//! forms, the JSON API and the command line create, change and delete lead products,
//! development chains, brands, income rows and targets, each with the one check the import uses —
//! a value the import refuses is refused on every other path with the same rule and text —,
//! within the caller's scope, audited, on both backends. The village profile links the forms;
//! a person's edit makes a demo record real.
//!
//! Amounts by hand: 1 yuan = 100 fen; 万 = 10,000 yuan.

use std::process::Output;

use diesel::prelude::*;
use reqwest::StatusCode;
use ringline::access::Access;
use ringline::db::schema::{audit_log, brands, collective_income, development_chains, income_targets, lead_products};
use ringline::generate;
use ringline::i18n::{Lang, Tr};
use ringline::import::Issue;
use ringline::import::framework::{self, OnExisting, Options};
use ringline::import::spec;
use serde_json::{Value, json};

use crate::calls::add_user;
use crate::datong;
use crate::harness::{Session, TestApp};
use crate::registry_import::load_units_and_orgs;

on_both_backends!(
    every_path_refuses_what_the_import_refuses,
    income_through_forms_api_and_command_line,
    targets_through_forms_api_and_command_line,
    products_through_forms_api_and_command_line,
    chains_through_forms_api_and_command_line,
    brands_through_forms_api_and_command_line,
    a_town_administrator_writes_within_its_town,
    the_village_profile_links_the_forms,
    an_applied_import_is_undone,
    an_edit_makes_a_demo_record_real,
);

/// 南滩村, 麻其村, 克麻尔村, 杏花庄村 (东峡镇); 上毛佰胜村 (城关镇).
const NANTAN: &str = "630121103201";
const MAQI: &str = "630121103202";
const KEMAER: &str = "630121103203";
const XINGHUAZHUANG: &str = "630121103204";
const SHANGMAO: &str = "630121101201";

/// Runs the command line on the app's database.
fn cli(app: &TestApp, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ringline"))
        .arg("--database-url")
        .arg(&app.url)
        .args(args)
        .current_dir(app.dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("RINGLINE_CONFIG")
        .env("LANG", "C")
        .output()
        .expect("the ringline binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The text a form shows under `field`, HTML entities undone.
fn form_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("<p class=\"error\" id=\"e-{field}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find("</p>")? + start;
    Some(
        html[start..end]
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The errors of a dry-run import of `csv` as the system.
fn import_errors(app: &TestApp, kind: &str, csv: &str) -> Vec<Issue> {
    let path = app.write_file(&format!("{kind}-check.csv"), csv.as_bytes());
    framework::import_file(
        &mut app.conn(),
        &Access::system(),
        spec::kind(kind).expect("kind"),
        &path,
        "check.csv",
        Options {
            on_existing: OnExisting::Skip,
            apply: false,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("import runs")
    .0
    .errors
}

/// The audit entries of a record: (action, before, after), oldest first.
fn audit_of(app: &TestApp, entity: &str, id: &str) -> Vec<(String, Option<String>, Option<String>)> {
    audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::entity_id.eq(id))
        .order(audit_log::id.asc())
        .select((audit_log::action, audit_log::before_json, audit_log::after_json))
        .load(&mut app.conn())
        .expect("audit")
}

/// What a value refused by the import looks like on the other paths: the kind, a CSV of one row
/// (the import's headers), the same row as form fields and JSON, the field and the rule.
struct Refusal {
    kind: &'static str,
    csv: &'static str,
    fields: &'static [(&'static str, &'static str)],
    field: &'static str,
    rule: &'static str,
}

const REFUSALS: &[Refusal] = &[
    // 2020 lies before Datong's program window 2021–2028 (2026–2028 and five baseline years).
    Refusal {
        kind: "income",
        csv: "村代码,年度,收入来源,金额(元)\n630121103201,2020,经营收入,100\n",
        fields: &[
            ("village", NANTAN),
            ("year", "2020"),
            ("source", "经营收入"),
            ("amount", "100"),
        ],
        field: "year",
        rule: "year-outside-program",
    },
    Refusal {
        kind: "targets",
        csv: "村代码,年度,目标收入(元)\n630121103201,2026,-1\n",
        fields: &[("village", NANTAN), ("year", "2026"), ("target", "-1")],
        field: "target",
        rule: "amount-negative",
    },
    Refusal {
        kind: "products",
        csv: "村代码,年度,产品名称,产品类别,规模\n630121103201,2025,油菜,种植业,300\n",
        fields: &[
            ("village", NANTAN),
            ("year", "2025"),
            ("name", "油菜"),
            ("category", "种植业"),
            ("scale", "300"),
        ],
        field: "scale_unit",
        rule: "scale-unpaired",
    },
    Refusal {
        kind: "chains",
        csv: "村代码,产品,协会/合作社\n630121103201,牦牛肉,不存在的合作社\n",
        fields: &[
            ("village", NANTAN),
            ("product", "牦牛肉"),
            ("association", "不存在的合作社"),
        ],
        field: "association",
        rule: "unit-not-found",
    },
    Refusal {
        kind: "brands",
        csv: "品牌名称,所属单位或村,所属示范带,品牌级别,命名年度\n先锋岗,630121103202,西环线,县级,2024\n",
        fields: &[
            ("name", "先锋岗"),
            ("owner", MAQI),
            ("zone", "西环线"),
            ("level", "县级"),
            ("year", "2024"),
        ],
        field: "zone",
        rule: "zone-not-found",
    },
];

/// A value the import refuses is refused by the form, the API and the command line with the
/// same rule on the same field, the same words in each language, and nothing is written.
async fn every_path_refuses_what_the_import_refuses(app: TestApp) {
    let s = app.admin().await;
    let (zh, en) = (Tr(Lang::Zh), Tr(Lang::En));
    for r in REFUSALS {
        let errors = import_errors(&app, r.kind, r.csv);
        assert_eq!(errors.len(), 1, "{}: {errors:?}", r.kind);
        let imported = &errors[0];
        assert_eq!(
            (imported.field.as_str(), imported.key.as_str()),
            (r.field, r.rule),
            "{}",
            r.kind
        );

        // The API: 422 with the same issue.
        let body: serde_json::Map<String, Value> = r
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        let (status, v) = s.post_json(&format!("/api/v1/{}", r.kind), Value::Object(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {v}", r.kind);
        assert_eq!(v["error"]["code"], "invalid-input");
        let issues = v["error"]["issues"].as_array().expect("issues");
        assert_eq!(issues.len(), 1, "{}: {v}", r.kind);
        assert_eq!(
            (issues[0]["field"].as_str(), issues[0]["key"].as_str()),
            (Some(r.field), Some(r.rule)),
            "{}",
            r.kind
        );
        assert_eq!(issues[0]["value"], imported.value.as_str(), "{}", r.kind);

        // The form: 422, the problem in the reader's language under its field, what was typed
        // kept.
        let a = s.post_form(&format!("/{}/new", r.kind), r.fields).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.kind);
        let html = a.text();
        assert_eq!(
            form_error(&html, r.field).as_deref(),
            Some(imported.text(zh).as_str()),
            "{}: the form says what the import says",
            r.kind
        );
        for (_, typed) in r.fields.iter().filter(|(k, _)| !matches!(*k, "village" | "owner")) {
            assert!(
                html.contains(&format!("value=\"{typed}\"")) || html.contains(typed),
                "{typed}"
            );
        }

        // The command line: refused, naming the field, in English.
        let mut args = vec![r.kind, "add"];
        let pairs: Vec<String> = r.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        args.extend(pairs.iter().map(String::as_str));
        let o = cli(&app, &args);
        assert!(!o.status.success(), "{}: {}", r.kind, stdout(&o));
        assert!(
            stderr(&o).contains(&format!("{}: {}", r.field, imported.text(en))),
            "{}: {}",
            r.kind,
            stderr(&o)
        );
    }
    let counts = framework::counts(&mut app.conn()).expect("counts");
    for k in ["products", "chains", "brands", "income", "targets"] {
        assert_eq!(counts[k], 0, "nothing written: {k}");
    }
}

/// One way of writing records of a kind: what to type to create one, what to change, and the
/// values the API then reads back (by the record's JSON keys).
struct Way {
    create: Vec<(&'static str, &'static str)>,
    created: Vec<(&'static str, Value)>,
    edit: Vec<(&'static str, &'static str)>,
    edited: Vec<(&'static str, Value)>,
}

fn checks(s: &str, record: &Value, want: &[(&str, Value)]) {
    for (k, v) in want {
        assert_eq!(&record[*k], v, "{s}: {k} of {record}");
    }
}

/// Creates, changes and deletes one record of `kind` through the forms, one through the API and
/// one through the command line; checks the values read back, the audit entries, and that a
/// deleted record is gone.
async fn through_every_path(app: &TestApp, s: &Session, kind: &str, entity: &str, ways: [Way; 3]) {
    let [form, api, line] = ways;

    // The forms: create, read, edit, delete.
    let a = s.post_form(&format!("/{kind}/new"), &form.create).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{kind}: {}", a.text());
    let location = a.header("location");
    let id = location
        .strip_prefix(&format!("/{kind}/"))
        .and_then(|r| r.strip_suffix("?saved=created"))
        .unwrap_or_else(|| panic!("{kind}: redirected to {location}"))
        .to_string();
    let page = s.get(&location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("class=\"flash\""),
        "{kind}: the page says it was saved"
    );
    assert!(
        page.text().contains(&format!("href=\"/{kind}/{id}/retire\">删除…</a>")),
        "{kind}: the record is deleted, not retired"
    );
    let (_, record) = s.get_json(&format!("/api/v1/{kind}/{id}")).await;
    checks(kind, &record, &form.created);
    let edit_page = s.get(&format!("/{kind}/{id}/edit")).await;
    assert_eq!(edit_page.status, StatusCode::OK);
    let a = s.post_form(&format!("/{kind}/{id}/edit"), &form.edit).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{kind}: {}", a.text());
    assert_eq!(a.header("location"), format!("/{kind}/{id}?saved=updated"));
    let (_, record) = s.get_json(&format!("/api/v1/{kind}/{id}")).await;
    checks(kind, &record, &form.edited);
    assert_eq!(s.get(&format!("/{kind}/{id}/retire")).await.status, StatusCode::OK);
    let a = s
        .post_form(&format!("/{kind}/{id}/retire"), &[("note", "录入有误")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{kind}: {}", a.text());
    assert_eq!(a.header("location"), format!("/{kind}?retired_id={id}"));
    let list = s.get(&a.header("location")).await.text();
    assert!(
        list.contains("已完成：该记录已删除"),
        "{kind}: the list says it was deleted"
    );
    assert_eq!(
        s.get(&format!("/api/v1/{kind}/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "{kind}: deleted"
    );
    let actions: Vec<String> = audit_of(app, entity, &id).into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "update", "retire"], "{kind}: audited");
    let retired = audit_of(app, entity, &id).pop().expect("retire entry");
    assert!(
        retired.1.is_some_and(|b| b.starts_with('{') && b.len() > 2),
        "{kind}: the deletion keeps the values"
    );

    // The API: create, change, delete.
    let body: serde_json::Map<String, Value> = api
        .create
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let a = s
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/{kind}"),
            Some(Value::Object(body)),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{kind}: {}", a.text());
    let record = a.json();
    checks(kind, &record, &api.created);
    let id = record["id"].to_string();
    assert_eq!(a.header("location"), format!("/api/v1/{kind}/{id}"));
    let patch: serde_json::Map<String, Value> = api
        .edit
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let (status, record) = s
        .patch_json(&format!("/api/v1/{kind}/{id}"), Value::Object(patch))
        .await;
    assert_eq!(status, StatusCode::OK, "{kind}: {record}");
    checks(kind, &record, &api.edited);
    let a = s
        .send(reqwest::Method::POST, &format!("/api/v1/{kind}/{id}/retire"), None)
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{kind}: {}", a.text());
    assert_eq!(
        s.get(&format!("/api/v1/{kind}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let a = s
        .send(reqwest::Method::POST, &format!("/api/v1/{kind}/{id}/retire"), None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{kind}: deleted once");

    // The command line.
    let args = |cmd: &str, id: Option<&str>, values: &[(&str, &str)]| -> Vec<String> {
        let mut v = vec![kind.to_string(), cmd.to_string()];
        v.extend(id.map(str::to_string));
        v.extend(values.iter().map(|(k, x)| format!("{k}={x}")));
        v
    };
    let run = |v: Vec<String>| {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        let o = cli(app, &refs);
        assert!(o.status.success(), "{kind} {v:?}: {}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    let out = run(args("add", None, &line.create));
    let id = out
        .trim()
        .trim_end_matches('.')
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let show = |id: &str| -> Value {
        let o = cli(app, &[kind, "show", id, "--format", "json"]);
        assert!(o.status.success(), "{kind} show {id}: {}", stderr(&o));
        serde_json::from_str::<Value>(&stdout(&o)).expect("json")[0].clone()
    };
    checks(kind, &show(&id), &line.created);
    run(args("edit", Some(&id), &line.edit));
    checks(kind, &show(&id), &line.edited);
    run(vec![kind.to_string(), "retire".into(), id.clone()]);
    let o = cli(app, &[kind, "show", &id]);
    assert!(!o.status.success(), "{kind}: deleted on the command line");
    let actions: Vec<String> = audit_of(app, entity, &id).into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["create", "update", "retire"], "{kind}: audited");
}

async fn income_through_forms_api_and_command_line(app: TestApp) {
    let s = app.admin().await;
    through_every_path(
        &app,
        &s,
        "income",
        "collective_income",
        [
            // "12,345.60" yuan = 1,234,560 fen; 1.5万 = 15,000 yuan = 1,500,000 fen.
            Way {
                create: vec![
                    ("village", "东峡镇 南滩村委会"),
                    ("year", "2025"),
                    ("source", "operating"),
                    ("amount", "12,345.60"),
                ],
                created: vec![
                    ("village_code", json!(NANTAN)),
                    ("year", json!(2025)),
                    ("source", json!("operating")),
                    ("amount", json!(1_234_560)),
                ],
                edit: vec![("amount", "1.5万")],
                edited: vec![("amount", json!(1_500_000)), ("source", json!("operating"))],
            },
            // 服务 is services; 800 yuan = 80,000 fen; 900.5 yuan = 90,050 fen.
            Way {
                create: vec![
                    ("village", MAQI),
                    ("year", "2025年"),
                    ("source", "服务"),
                    ("amount", "800"),
                ],
                created: vec![("source", json!("services")), ("amount", json!(80_000))],
                edit: vec![("amount", "900.5")],
                edited: vec![("amount", json!(90_050)), ("year", json!(2025))],
            },
            // 5万 = 5,000,000 fen; 60000 yuan = 6,000,000 fen.
            Way {
                create: vec![
                    ("village", KEMAER),
                    ("year", "2024"),
                    ("source", "补助收入"),
                    ("amount", "5万"),
                ],
                created: vec![("source", json!("subsidies")), ("amount", json!(5_000_000))],
                edit: vec![("amount", "60000")],
                edited: vec![("amount", json!(6_000_000))],
            },
        ],
    )
    .await;
    // The same village, year and source twice is refused on the form and the API.
    let (status, first) = s
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2025, "source": "other", "amount": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = s
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2025, "source": "其他收入", "amount": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    assert_eq!(again["error"]["issues"][0]["key"], "key-taken");
    // A record keeps its id when its year is corrected.
    let id = first["id"].as_i64().expect("id");
    let (status, moved) = s
        .patch_json(&format!("/api/v1/income/{id}"), json!({"year": 2024}))
        .await;
    assert_eq!(
        (status, moved["id"].as_i64(), moved["year"].as_i64()),
        (StatusCode::OK, Some(id), Some(2024))
    );
    let stored: i32 = collective_income::table
        .find(id)
        .select(collective_income::year)
        .first(&mut app.conn())
        .expect("row");
    assert_eq!(stored, 2024);
}

async fn targets_through_forms_api_and_command_line(app: TestApp) {
    let s = app.admin().await;
    through_every_path(
        &app,
        &s,
        "targets",
        "income_target",
        [
            // 5万 = 5,000,000 fen; 60000 = 6,000,000 fen.
            Way {
                create: vec![("village", NANTAN), ("year", "2027"), ("target", "5万")],
                created: vec![("year", json!(2027)), ("target", json!(5_000_000))],
                edit: vec![("target", "60000")],
                edited: vec![("target", json!(6_000_000))],
            },
            // "100,000" = 10,000,000 fen; 12万 = 12,000,000 fen.
            Way {
                create: vec![("village", MAQI), ("year", "2026"), ("target", "100,000")],
                created: vec![("village_code", json!(MAQI)), ("target", json!(10_000_000))],
                edit: vec![("target", "12万")],
                edited: vec![("target", json!(12_000_000))],
            },
            // A target may lie ahead within the program (2028); 8万, then 9万.
            Way {
                create: vec![("village", KEMAER), ("year", "2028"), ("target", "8万")],
                created: vec![("year", json!(2028)), ("target", json!(8_000_000))],
                edit: vec![("target", "9万")],
                edited: vec![("target", json!(9_000_000))],
            },
        ],
    )
    .await;
}

async fn products_through_forms_api_and_command_line(app: TestApp) {
    let s = app.admin().await;
    through_every_path(
        &app,
        &s,
        "products",
        "lead_product",
        [
            // "3,600,000" yuan = 360,000,000 fen; "12,000.50" = 1,200,050 fen.
            Way {
                create: vec![
                    ("village", NANTAN),
                    ("year", "2025"),
                    ("name", "牦牛肉"),
                    ("category", "livestock"),
                    ("scale", "1200"),
                    ("scale_unit", "头"),
                    ("output_value", "3,600,000"),
                    ("households", "85"),
                    ("income_per_household", "12,000.50"),
                ],
                created: vec![
                    ("name", json!("牦牛肉")),
                    ("scale", json!(1200.0)),
                    ("output_value", json!(360_000_000)),
                    ("income_per_household", json!(1_200_050)),
                ],
                edit: vec![("households", "88")],
                edited: vec![("households", json!(88)), ("output_value", json!(360_000_000))],
            },
            // 种植业 is planting; 96万 = 960,000 yuan = 96,000,000 fen.
            Way {
                create: vec![
                    ("village", MAQI),
                    ("year", "2025"),
                    ("name", "青稞"),
                    ("category", "种植业"),
                    ("scale", "800"),
                    ("scale_unit", "亩"),
                    ("output_value", "96万"),
                ],
                created: vec![("category", json!("planting")), ("output_value", json!(96_000_000))],
                edit: vec![("households", "120")],
                edited: vec![("households", json!(120)), ("scale_unit", json!("亩"))],
            },
            // 1500000 yuan = 150,000,000 fen.
            Way {
                create: vec![
                    ("village", XINGHUAZHUANG),
                    ("year", "2024"),
                    ("name", "乡村旅游"),
                    ("category", "tourism"),
                    ("output_value", "1500000"),
                ],
                created: vec![("output_value", json!(150_000_000)), ("scale", Value::Null)],
                edit: vec![("households", "40")],
                edited: vec![("households", json!(40))],
            },
        ],
    )
    .await;
}

async fn chains_through_forms_api_and_command_line(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    through_every_path(
        &app,
        &s,
        "chains",
        "development_chain",
        [
            // The branch by its organization code, the cooperative by name: 2 links of 4.
            Way {
                create: vec![
                    ("village", NANTAN),
                    ("product", "牦牛肉"),
                    ("branch", NANTAN),
                    ("association", "东峡镇青稞种植专业合作社"),
                ],
                created: vec![
                    ("association_name", json!("东峡镇青稞种植专业合作社")),
                    ("completeness", json!(2)),
                    ("missing", json!(["company", "market"])),
                ],
                edit: vec![("market", "大通县东峡商贸有限公司")],
                edited: vec![("completeness", json!(3)), ("missing", json!(["company"]))],
            },
            // A company by name, then emptied: 1 link, then none.
            Way {
                create: vec![
                    ("village", "630121101001"),
                    ("product", "鸡腿葱电商"),
                    ("company", "城关镇鸡腿葱电商有限公司"),
                ],
                created: vec![
                    ("company_name", json!("城关镇鸡腿葱电商有限公司")),
                    ("completeness", json!(1)),
                ],
                edit: vec![("company", "")],
                edited: vec![("company_name", Value::Null), ("completeness", json!(0))],
            },
            Way {
                create: vec![
                    ("village", MAQI),
                    ("product", "青稞"),
                    ("association", "东峡镇青稞种植专业合作社"),
                ],
                created: vec![("completeness", json!(1))],
                edit: vec![("market", "大通县东峡商贸有限公司")],
                edited: vec![
                    ("completeness", json!(2)),
                    ("market_name", json!("大通县东峡商贸有限公司")),
                ],
            },
        ],
    )
    .await;
}

async fn brands_through_forms_api_and_command_line(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    through_every_path(
        &app,
        &s,
        "brands",
        "brand",
        [
            // A village's brand in the 东峡线.
            Way {
                create: vec![
                    ("name", "牦乡红"),
                    ("owner", NANTAN),
                    ("zone", "东峡线"),
                    ("level", "county"),
                    ("year", "2024"),
                ],
                created: vec![
                    ("owner_village_code", json!(NANTAN)),
                    ("zone_name", json!("东峡线")),
                    ("level", json!("county")),
                ],
                edit: vec![("level", "省级")],
                edited: vec![("level", json!("province")), ("zone_name", json!("东峡线"))],
            },
            // A unit's brand, the zone by its short name 一环, the level by label, 2025年.
            Way {
                create: vec![
                    ("name", "红色电商"),
                    ("owner", "城关镇鸡腿葱电商有限公司"),
                    ("zone", "一环"),
                    ("level", "市级"),
                    ("year", "2025年"),
                ],
                created: vec![
                    ("owner_unit_name", json!("城关镇鸡腿葱电商有限公司")),
                    ("zone_name", json!("一环 商贸经济示范区")),
                    ("level", json!("city")),
                    ("year", json!(2025)),
                ],
                edit: vec![("zone", "")],
                edited: vec![("zone_name", Value::Null), ("level", json!("city"))],
            },
            Way {
                create: vec![
                    ("name", "青稞党建"),
                    ("owner", "东峡镇青稞种植专业合作社"),
                    ("level", "province"),
                    ("year", "2023"),
                ],
                created: vec![("year", json!(2023)), ("division_code", json!(MAQI))],
                edit: vec![("year", "2022")],
                edited: vec![("year", json!(2022))],
            },
        ],
    )
    .await;
}

/// A town administrator of 东峡镇 writes its villages' records only: a village of 城关镇 is
/// refused as outside its area on the form and the API, and a record there answers 404 to
/// reading, changing and deleting, like one that does not exist.
async fn a_town_administrator_writes_within_its_town(app: TestApp) {
    add_user(
        &mut app.conn(),
        "dongxia",
        "dongxia-pass-1",
        "town-admin",
        "630121103000",
        None,
    );
    let admin = app.admin().await;
    let (status, theirs) = admin
        .post_json(
            "/api/v1/income",
            json!({"village": SHANGMAO, "year": 2025, "source": "operating", "amount": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    let theirs = theirs["id"].as_i64().expect("id");
    let town = app.session("dongxia", "dongxia-pass-1").await;
    let (status, v) = town
        .post_json(
            "/api/v1/income",
            json!({"village": SHANGMAO, "year": 2025, "source": "services", "amount": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        (
            v["error"]["issues"][0]["field"].as_str(),
            v["error"]["issues"][0]["key"].as_str()
        ),
        (Some("village"), Some("outside-scope"))
    );
    let a = town
        .post_form(
            "/income/new",
            &[
                ("village", SHANGMAO),
                ("year", "2025"),
                ("source", "services"),
                ("amount", "100"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        form_error(&a.text(), "village").as_deref(),
        Some("超出您的管理范围；只能导入本辖区的数据。")
    );
    let missing = 999_999;
    for id in [theirs, missing] {
        assert_eq!(town.get(&format!("/income/{id}")).await.status, StatusCode::NOT_FOUND);
        let (status, _) = town
            .patch_json(&format!("/api/v1/income/{id}"), json!({"amount": 1}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let a = town
            .send(reqwest::Method::POST, &format!("/api/v1/income/{id}/retire"), None)
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
    // Within the town it writes, and its list holds only its town's rows.
    let (status, mine) = town
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2025, "source": "operating", "amount": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let (_, list) = town.get_json("/api/v1/income").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["village_code"], NANTAN);
    // A viewer reads but may not write.
    add_user(
        &mut app.conn(),
        "viewer",
        "viewer-pass-1",
        "viewer",
        "630121103000",
        None,
    );
    let viewer = app.session("viewer", "viewer-pass-1").await;
    let (_, list) = viewer.get_json("/api/v1/income").await;
    assert_eq!(list["total"], 1);
    let (status, _) = viewer
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2024, "source": "operating", "amount": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The village profile offers the generic forms to those who may write — new records with
/// the village filled in, an Edit link on each product, chain and brand — and the lists of the
/// village's income rows and targets; a viewer gets the lists only.
async fn the_village_profile_links_the_forms(app: TestApp) {
    let s = app.admin().await;
    let (status, p) = s
        .post_json(
            "/api/v1/products",
            json!({"village": NANTAN, "year": 2025, "name": "牦牛肉", "category": "livestock"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, i) = s
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2025, "source": "operating", "amount": 30000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{i}");
    let html = s.get(&format!("/villages/{NANTAN}")).await.text();
    for link in [
        format!("/income/new?village={NANTAN}"),
        format!("/targets/new?village={NANTAN}"),
        format!("/products/new?village={NANTAN}"),
        format!("/chains/new?village={NANTAN}"),
        format!("/brands/new?owner={NANTAN}"),
        format!("/income?village={NANTAN}"),
        format!("/income?village={NANTAN}&amp;year=2025"),
        format!("/targets?village={NANTAN}"),
        format!("/products/{}/edit", p["id"]),
        format!("/products/{}\"", p["id"]),
    ] {
        assert!(html.contains(&link), "{link} missing from the profile");
    }
    // The new form starts with the village filled in, by its name.
    let form = s.get(&format!("/income/new?village={NANTAN}")).await.text();
    assert!(form.contains("value=\"东峡镇 南滩村委会\""), "{form}");
    // The list of the village's income rows links each row to its record.
    let list = s.get(&format!("/income?village={NANTAN}")).await.text();
    assert!(list.contains(&format!("href=\"/income/{}\"", i["id"])), "{list}");
    assert!(list.contains("¥30,000.00"), "{list}");
    // Lists narrow to a year; a year that is none is refused by name.
    let (_, y) = s.get_json("/api/v1/income?year=2025").await;
    let (_, none) = s.get_json("/api/v1/income?year=2024").await;
    assert_eq!((y["total"].as_i64(), none["total"].as_i64()), (Some(1), Some(0)));
    let a = s.get("/api/v1/income?year=abc").await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-year".to_string())
    );
    // The county page lists the five kinds.
    let county = s.get("/economy").await.text();
    for k in ["/income\"", "/targets\"", "/products\"", "/chains\"", "/brands\""] {
        assert!(county.contains(&format!("href=\"{k}")), "{k}");
    }
    // A viewer sees the lists, no forms.
    add_user(
        &mut app.conn(),
        "viewer",
        "viewer-pass-1",
        "viewer",
        "630121103000",
        None,
    );
    let viewer = app.session("viewer", "viewer-pass-1").await;
    let html = viewer.get(&format!("/villages/{NANTAN}")).await.text();
    assert!(html.contains(&format!("/income?village={NANTAN}")));
    assert!(
        !html.contains("/new?") && !html.contains("/edit\""),
        "no forms for a viewer"
    );
}

/// An applied income import is undone: the rows it created are deleted and the amount it
/// replaced is back, while nothing changed them since.
async fn an_applied_import_is_undone(app: TestApp) {
    let s = app.admin().await;
    let (status, kept) = s
        .post_json(
            "/api/v1/income",
            json!({"village": NANTAN, "year": 2025, "source": "operating", "amount": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    // The file replaces 100 yuan by 200 and adds a row.
    let path = app.write_file(
        "undo.csv",
        format!("村代码,年度,收入来源,金额(元)\n{NANTAN},2025,经营收入,200\n{MAQI},2025,服务收入,300\n").as_bytes(),
    );
    let mut conn = app.conn();
    let system = Access::system();
    let (report, _) = framework::import_file(
        &mut conn,
        &system,
        spec::kind("income").expect("income"),
        &path,
        "undo.csv",
        Options {
            on_existing: OnExisting::Update,
            apply: true,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("import runs");
    assert!(report.applied, "{:?}", report.errors);
    assert_eq!((report.new, report.updated), (1, 1));
    let amounts = |conn: &mut ringline::db::DbConn| -> Vec<(String, i64)> {
        collective_income::table
            .order(collective_income::village_code.asc())
            .select((collective_income::village_code, collective_income::amount_fen))
            .load(conn)
            .expect("rows")
    };
    assert_eq!(
        amounts(&mut conn),
        [(NANTAN.to_string(), 20_000), (MAQI.to_string(), 30_000)]
    );
    ringline::kind::import::undo(&mut conn, &system, report.run_id.expect("run")).expect("undo");
    assert_eq!(
        amounts(&mut conn),
        [(NANTAN.to_string(), 10_000)],
        "as before the import"
    );
}

/// The first demo record of a table and a reader of its mark.
macro_rules! demo_record {
    ($app:expr, $t:ident) => {{
        let id: i64 = $t::table
            .filter($t::illustrative.eq(true))
            .order($t::id)
            .select($t::id)
            .first(&mut $app.conn())
            .expect(concat!("a demo record in ", stringify!($t)));
        let marked = move |app: &TestApp| -> bool {
            $t::table
                .find(id)
                .select($t::illustrative)
                .first(&mut app.conn())
                .expect("the record")
        };
        (id, Box::new(marked) as Box<dyn Fn(&TestApp) -> bool>)
    }};
}

/// A demo record (generated, marked illustrative) that a person edits becomes real: an API
/// edit that changes no value clears the mark of a record of each kind, audited once; the same
/// edit again changes nothing and is not audited.
async fn an_edit_makes_a_demo_record_real(app: TestApp) {
    generate::demo(&mut app.conn(), datong::COUNTY).expect("demo");
    let s = app.admin().await;
    let records = [
        ("income", "collective_income", demo_record!(app, collective_income)),
        ("targets", "income_target", demo_record!(app, income_targets)),
        ("products", "lead_product", demo_record!(app, lead_products)),
        ("chains", "development_chain", demo_record!(app, development_chains)),
        ("brands", "brand", demo_record!(app, brands)),
    ];
    for (kind, entity, (id, marked)) in records {
        assert!(marked(&app), "{kind} {id} is a demo record");
        let path = format!("/api/v1/{kind}/{id}");
        let (_, before) = s.get_json(&path).await;
        let audits = audit_of(&app, entity, &id.to_string()).len();
        let (status, mut after) = s.patch_json(&path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {after}");
        assert!(!marked(&app), "{kind} {id}: a real edit clears the mark");
        // The API says so; every other value stays.
        assert_eq!(
            (&before["illustrative"], &after["illustrative"]),
            (&json!(true), &json!(false))
        );
        after["illustrative"] = json!(true);
        assert_eq!(before, after, "{kind}: the values stay");
        assert_eq!(audit_of(&app, entity, &id.to_string()).len(), audits + 1, "{kind}");
        let (status, _) = s.patch_json(&path, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            audit_of(&app, entity, &id.to_string()).len(),
            audits + 1,
            "{kind}: unchanged"
        );
    }
}
