//! The registry import framework (SPEC C3, C8): units, party organizations and members from the
//! fixtures in `tests/fixtures/registry` (see its README for what each row tests), on both
//! backends; the web upload with its dry run, report, error workbook and apply step; coverage of
//! the imported fixture against a hand computation.
//!
//! Fixture identifiers were computed independently of the code under test (a few lines of
//! Python implementing GB 11643-1999 MOD 11-2 and GB 32100-2015 MOD 31, kept in the README).

use std::path::Path;

use diesel::prelude::*;
use ringline::access::Access;
use ringline::db::DbConn;
use ringline::import::framework::{self, OnExisting, Options, Report};
use ringline::import::spec;
use serde_json::Value;

use crate::harness::{TestApp, fixture, xlsx_cells};

/// The fixtures' ID numbers (valid per GB 11643-1999), by member.
pub const M1: &str = "630121198503121519"; // 张德明, male, 1985-03-12
pub const M2: &str = "630121199007012422"; // 李秀英, female, 1990-07-01
pub const M3: &str = "630121197801150030"; // 马福财, male, 1978-01-15
pub const M4: &str = "630121200002290648"; // 韩玉兰, female, 2000-02-29
pub const M5: &str = "630121196508201578"; // 祁生春, male, 1965-08-20 (15-digit 630121650820157)
pub const M8: &str = "63012119700101222X"; // 赵桂花, female, 1970-01-01

fn import(conn: &mut DbConn, kind: &str, path: &Path, apply: bool, on_existing: OnExisting) -> Report {
    import_as(conn, &Access::system(), kind, path, apply, on_existing)
}

fn import_as(conn: &mut DbConn, who: &Access, kind: &str, path: &Path, apply: bool, on_existing: OnExisting) -> Report {
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

fn count(conn: &mut DbConn, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<N>(conn)
        .expect("count")
        .n
}

/// Imports the units and organizations fixtures (both valid).
pub fn load_units_and_orgs(conn: &mut DbConn) {
    let r = import(conn, "units", &fixture("registry/units.csv"), true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 10);
    let r = import(conn, "orgs", &fixture("registry/orgs.csv"), true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 8);
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

async fn member_errors_are_named_and_nothing_is_written(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let bad = fixture("registry/members_errors.csv");
    for apply in [false, true] {
        let r = import(&mut conn, "members", &bad, apply, OnExisting::Skip);
        assert!(!r.applied);
        let s = |a: &str| a.to_string();
        assert_eq!(
            places(&r),
            vec![
                (2, s("公民身份号码"), s("id-number-check-failed")),
                (3, s("性别"), s("sex-mismatch")),
                (4, s("所在党组织"), s("org-not-found")),
                (5, s("入党日期"), s("cell-not-a-date")),
                (6, s("手机号码"), s("cell-bad-phone")),
                (7, s("姓名"), s("value-missing")),
                (8, s("党员类别"), s("cell-not-a-choice")),
                (9, s("入党日期"), s("join-date-under-18")),
                (10, s("公民身份号码"), s("duplicate-in-file")),
                (10, s("报到社区"), s("code-town-part")),
            ],
            "every bad row named once, with its column"
        );
        assert_eq!(count(&mut conn, "members"), 0, "nothing written (apply = {apply})");
    }
    // Personal data is never quoted whole.
    let r = import(&mut conn, "members", &bad, false, OnExisting::Skip);
    let id_issue = r.errors.iter().find(|i| i.line == 2).expect("row 2");
    assert_eq!(id_issue.value, "6301**********1510");
    let phone_issue = r.errors.iter().find(|i| i.line == 6).expect("row 6");
    assert_eq!(phone_issue.value, "***45");
    // Messages in Chinese name the row and what to do.
    let zh = ringline::i18n::Tr(ringline::i18n::Lang::Zh);
    let dup = r
        .errors
        .iter()
        .find(|i| i.key == "duplicate-in-file")
        .expect("duplicate");
    assert_eq!(dup.text(zh), "与第 3 行重复；同一文件中每条记录只能出现一次。");
    let choice = r.errors.iter().find(|i| i.key == "cell-not-a-choice").expect("choice");
    assert_eq!(choice.text(zh), "不是可选的值；请从以下选择：正式党员、预备党员。");

    // The corrected file imports; a second run finds everything unchanged.
    let good = fixture("registry/members.csv");
    let r = import(&mut conn, "members", &good, false, OnExisting::Skip);
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!((r.new, r.applied), (5, false));
    assert_eq!(count(&mut conn, "members"), 0, "a dry run writes nothing");
    let r = import(&mut conn, "members", &good, true, OnExisting::Skip);
    assert!(r.ok() && r.applied);
    assert_eq!(count(&mut conn, "members"), 5);
    let r = import(&mut conn, "members", &good, true, OnExisting::Skip);
    assert_eq!((r.new, r.updated, r.unchanged, r.skipped), (0, 0, 5, 0));

    // Stored values: derived sex and birth date, normalised dates, linked employer.
    use ringline::db::schema::{members, party_orgs, units};
    let (sex, birth, join, org, employer_unit): (
        String,
        chrono::NaiveDate,
        Option<chrono::NaiveDate>,
        String,
        Option<i64>,
    ) = members::table
        .inner_join(party_orgs::table)
        .filter(members::id_number.eq(M2))
        .select((
            members::sex,
            members::birth_date,
            members::join_date,
            party_orgs::code,
            members::employer_unit_id,
        ))
        .first(&mut conn)
        .expect("李秀英");
    assert_eq!(sex, "female");
    assert_eq!(birth.to_string(), "1990-07-01");
    assert_eq!(join.map(|d| d.to_string()).as_deref(), Some("2015-06-30"), "2015/6/30");
    assert_eq!(org, "FZ-DX-001");
    let unit: String = units::table
        .find(employer_unit.expect("employer linked to the registered unit"))
        .select(units::name)
        .first(&mut conn)
        .expect("unit");
    assert_eq!(unit, "大通东峡牦牛肉加工有限公司");
    let (division, join): (String, Option<chrono::NaiveDate>) = members::table
        .filter(members::id_number.eq(M3))
        .select((members::division_code, members::join_date))
        .first(&mut conn)
        .expect("马福财");
    assert_eq!(
        division, "630121103000",
        "a member is where his organization (the town committee) is"
    );
    assert_eq!(join.map(|d| d.to_string()).as_deref(), Some("2001-07-01"), "2001.07.01");

    // A changed row: skipped by default, updated on request; then unchanged.
    let changed = app.write_file(
        "changed.csv",
        fixture_text_replaced("registry/members.csv", "13897012345", "13897010000").as_bytes(),
    );
    let r = import(&mut conn, "members", &changed, true, OnExisting::Skip);
    assert_eq!((r.updated, r.unchanged, r.skipped), (0, 4, 1));
    let r = import(&mut conn, "members", &changed, true, OnExisting::Update);
    assert_eq!((r.updated, r.unchanged, r.skipped, r.applied), (1, 4, 0, true));
    let phone: Option<String> = members::table
        .filter(members::id_number.eq(M1))
        .select(members::phone)
        .first(&mut conn)
        .expect("张德明");
    assert_eq!(phone.as_deref(), Some("13897010000"));
    let r = import(&mut conn, "members", &changed, true, OnExisting::Update);
    assert_eq!((r.new, r.updated, r.unchanged), (0, 0, 5));
}

fn fixture_text_replaced(name: &str, from: &str, to: &str) -> String {
    let text = crate::harness::fixture_text(name);
    assert!(text.contains(from), "{name} contains {from}");
    text.replacen(from, to, 1)
}

async fn messy_spreadsheet_is_normalised(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let r = import(
        &mut conn,
        "members",
        &fixture("registry/members_messy.xlsx"),
        true,
        OnExisting::Skip,
    );
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!(r.header_line, 3, "title row and a header merged over rows 2–3");
    assert_eq!((r.rows, r.new), (5, 5));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert_eq!(
        (r.warnings[0].line, r.warnings[0].key.as_str()),
        (7, "id-number-converted")
    );
    use ringline::db::schema::{members, party_orgs};
    type Got = (
        String,
        String,
        Option<String>,
        String,
        Option<chrono::NaiveDate>,
        String,
        Option<String>,
    );
    let mut rows: Vec<Got> = members::table
        .inner_join(party_orgs::table)
        .select((
            members::name,
            members::id_number,
            members::phone,
            members::status,
            members::join_date,
            party_orgs::code,
            members::home_community,
        ))
        .load(&mut conn)
        .expect("members");
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    let d = |s: &str| Some(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"));
    let s = |v: &str| v.to_string();
    assert_eq!(
        rows,
        vec![
            // 15-digit number converted; join date an Excel serial (43647 = 2019-07-01).
            (
                s("祁生春"),
                s(M5),
                None,
                s("probationary"),
                d("2019-07-01"),
                s("630121101001"),
                Some(s("630121101001"))
            ),
            // Lower-case x; 2015.06.30; "正式" for 正式党员.
            (
                s("赵桂花"),
                s(M8),
                None,
                s("full"),
                d("2015-06-30"),
                s("FZ-DX-001"),
                None
            ),
            // Name typed without the space; 2001年7月1日; organization by full name.
            (
                s("马福财"),
                s(M3),
                None,
                s("full"),
                d("2001-07-01"),
                s("630121103000"),
                None
            ),
            // Full-width digits; "张 德明"; phone with spaces; a date cell; the branch code as a number.
            (
                s("张德明"),
                s(M1),
                Some(s("13897012345")),
                s("full"),
                d("2010-07-01"),
                s("630121103201"),
                None
            ),
            // Full-width organization code; 2026/1/15; +86 and dashes in the phone.
            (
                s("韩玉兰"),
                s(M4),
                Some(s("15500971234")),
                s("probationary"),
                d("2026-01-15"),
                s("FZ-CG-001"),
                Some(s("630121101001"))
            ),
        ]
    );
    // The GBK copy of the valid CSV reads the same.
    let r = import(
        &mut conn,
        "members",
        &fixture("registry/members_gbk.csv"),
        false,
        OnExisting::Skip,
    );
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!(
        (r.rows, r.new),
        (5, 1),
        "four already imported from the XLSX, 李秀英 new"
    );
}

async fn bad_files_get_clear_messages(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let before = count(&mut conn, "members");
    let key_of = |r: &Report| r.errors.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
    // Not a spreadsheet.
    let p = app.write_file("notes.xlsx", b"this is a text file, not a workbook");
    let r = import(&mut conn, "members", &p, true, OnExisting::Skip);
    assert_eq!(key_of(&r), vec!["file-not-spreadsheet"]);
    assert!(r.errors[0].message.contains("notes.xlsx"), "{}", r.errors[0].message);
    // An empty sheet.
    let p = app.dir.path().join("empty.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet();
    wb.save(&p).expect("save");
    let r = import(&mut conn, "members", &p, true, OnExisting::Skip);
    assert_eq!(key_of(&r), vec!["file-empty"]);
    // A missing required column.
    let text = crate::harness::fixture_text("registry/members.csv").replace("公民身份号码", "备注");
    let p = app.write_file("no_id.csv", text.as_bytes());
    let r = import(&mut conn, "members", &p, true, OnExisting::Skip);
    assert_eq!(key_of(&r), vec!["header-missing-column"]);
    assert_eq!(r.errors[0].column, "公民身份号码");
    // No header at all.
    let p = app.write_file("numbers.csv", b"1,2,3\n4,5,6\n");
    let r = import(&mut conn, "members", &p, true, OnExisting::Skip);
    assert_eq!(key_of(&r), vec!["header-not-found"]);
    // A sheet of 1,000,000 rows: refused when the limit is passed, without reading on.
    let p = app.dir.path().join("million.csv");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
        writeln!(f, "姓名,公民身份号码,党员类别,所在党组织").expect("header");
        for i in 0..1_000_000u32 {
            writeln!(f, "p{i},{M1},正式党员,630121103201").expect("row");
        }
    }
    let r = import(&mut conn, "members", &p, true, OnExisting::Skip);
    assert_eq!(key_of(&r), vec!["file-too-many-rows"]);
    assert_eq!(count(&mut conn, "members"), before, "nothing written");
}

async fn coverage_of_imported_fixture(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    use ringline::registry::coverage::{By, coverage};
    let rows = coverage(&mut conn, &Access::system(), By::Town, None).expect("coverage");
    let get = |code: &str| rows.iter().find(|r| r.key == code).expect("town row").clone();
    // 东峡镇 (630121103): non-public enterprises and social organisations are 牦牛肉加工 (own
    // branch), 东峡商贸 (host of a joint branch), 志愿者协会 (instructor only) and 农家乐 (none);
    // the 青稞 cooperative is not counted. Organization coverage 2 of 4, work coverage 3 of 4.
    let dx = get("630121103000");
    assert_eq!((dx.units, dx.org_covered, dx.work_covered), (4, 2, 3));
    assert_eq!((dx.org_rate, dx.work_rate), (Some(0.5), Some(0.75)));
    // 城关镇 (630121101): 鸡腿葱电商 (host of a joint branch), 老年协会 (in that joint branch),
    // 商贸部 (none): 2 of 3 for both.
    let cg = get("630121101000");
    assert_eq!((cg.units, cg.org_covered, cg.work_covered), (3, 2, 2));
    // The county: 7 units, 4 with an organization, 5 with work coverage.
    let county = coverage(&mut conn, &Access::system(), By::County, None).expect("county");
    assert_eq!(county.len(), 1);
    assert_eq!(
        (county[0].units, county[0].org_covered, county[0].work_covered),
        (7, 4, 5)
    );
    // Towns without such units are listed with no rate.
    let empty = get("630121100000");
    assert_eq!((empty.units, empty.org_rate), (0, None));
}

async fn town_admin_imports_only_within_town(app: TestApp) {
    let mut conn = app.conn();
    // 东峡镇's administrator imports the units file: the 城关镇 and county rows are refused.
    let who = Access::resolve(
        &mut conn,
        1,
        "dongxia",
        ringline::auth::Role::TownAdmin,
        ringline::access::Scope::parse("630121103000").expect("scope"),
    )
    .expect("access");
    let r = import_as(
        &mut conn,
        &who,
        "units",
        &fixture("registry/units.csv"),
        true,
        OnExisting::Skip,
    );
    let lines: Vec<usize> = r
        .errors
        .iter()
        .filter(|i| i.key == "outside-scope")
        .map(|i| i.line)
        .collect();
    assert_eq!(
        lines,
        vec![3, 9, 10, 11],
        "城关镇 government and the three 城关镇 units"
    );
    assert_eq!(count(&mut conn, "units"), 0);
    // A viewer may not import at all.
    let viewer = Access::resolve(
        &mut conn,
        1,
        "v",
        ringline::auth::Role::Viewer,
        ringline::access::Scope::parse("630121000000").expect("scope"),
    )
    .expect("access");
    let kind = spec::kind("units").expect("units");
    let err = framework::import_file(
        &mut conn,
        &viewer,
        kind,
        &fixture("registry/units.csv"),
        "units.csv",
        Options::default(),
        &mut |_, _, _| {},
    );
    assert!(matches!(err, Err(framework::ImportError::Forbidden)));
}

async fn web_upload_dry_run_and_apply(app: TestApp) {
    {
        let mut conn = app.conn();
        load_units_and_orgs(&mut conn);
    }
    let s = app.admin().await;
    // Template: the Chinese headers of the members kind, in order.
    let t = s.get("/import/templates/members.xlsx?lang=zh-CN").await;
    assert_eq!(t.status, reqwest::StatusCode::OK);
    let cells = xlsx_cells(&t.body);
    let headers: Vec<&str> = spec::MEMBERS.columns.iter().map(|c| c.zh).collect();
    assert_eq!(cells[0], headers);
    // Upload without the CSRF field: refused.
    let bytes = std::fs::read(fixture("registry/members_errors.csv")).expect("fixture");
    let form = reqwest::multipart::Form::new().text("kind", "members").part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name("members_errors.csv"),
    );
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    // With it: a job page that ends with the report.
    let job = upload(&s, &bytes, "members_errors.csv").await;
    let html = wait_for(&s, &job).await;
    assert!(html.contains("发现 10 个问题"), "{html}");
    assert!(html.contains("与第 3 行重复"), "Chinese messages");
    assert!(
        !html.contains("import/jobs/") || !html.contains("/apply\""),
        "no apply button with errors"
    );
    // The rows with errors as XLSX: 9 rows with their original row numbers.
    let x = s.get(&format!("{job}/errors.xlsx")).await;
    let cells = xlsx_cells(&x.body);
    let first_col: Vec<&str> = cells.iter().skip(1).map(|r| r[0].as_str()).collect();
    assert_eq!(first_col, vec!["2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    // Applying an invalid file is refused.
    let a = s.post_form(&format!("{job}/apply"), &[]).await;
    assert_eq!(a.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    // The corrected file: dry run, then apply.
    let bytes = std::fs::read(fixture("registry/members.csv")).expect("fixture");
    let job = upload(&s, &bytes, "members.csv").await;
    let html = wait_for(&s, &job).await;
    assert!(html.contains("文件检查通过"), "{html}");
    assert_eq!(app_count(&app, "members"), 0);
    let a = s.post_form(&format!("{job}/apply"), &[]).await;
    assert!(a.status.is_redirection() || a.status.is_success(), "{}", a.status);
    let html = wait_for(&s, &job).await;
    assert!(html.contains("导入完成"), "{html}");
    assert_eq!(app_count(&app, "members"), 5);
    // An unknown job is not found.
    let other = s.get(&job.replace("/import/jobs/", "/import/jobs/0")).await;
    assert_eq!(other.status, reqwest::StatusCode::NOT_FOUND);
    // The API: a dry run answers the report as JSON.
    let r = s
        .client
        .post(s.url("/api/v1/import/members?filename=m.csv"))
        .header("X-CSRF-Token", s.csrf.clone())
        .body(std::fs::read(fixture("registry/members_errors.csv")).expect("fixture"))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(10));
    assert_eq!(v["errors"][0]["line"], 2);
}

fn app_count(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.conn();
    count(&mut conn, table)
}

/// Uploads a file through the form; returns the job page's path.
async fn upload(s: &crate::harness::Session, bytes: &[u8], name: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", s.csrf.clone())
        .text("kind", "members")
        .text("on_existing", "skip")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "redirect to the job");
    let loc = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string();
    assert!(loc.starts_with("/import/jobs/"), "{loc}");
    loc
}

/// Polls a job page until it stops refreshing; returns its HTML.
async fn wait_for(s: &crate::harness::Session, job: &str) -> String {
    for _ in 0..600 {
        let page = s.get(job).await;
        assert_eq!(page.status, reqwest::StatusCode::OK);
        let html = page.text();
        if !html.contains("http-equiv=\"refresh\"") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

/// Re-imports change only what the file holds, stay within the importer's area, and keep the
/// registry's rules (findings of a review with bad input).
async fn updates_are_partial_scoped_and_audited(app: TestApp) {
    let mut conn = app.conn();
    load_units_and_orgs(&mut conn);
    let r = import(
        &mut conn,
        "members",
        &fixture("registry/members.csv"),
        true,
        OnExisting::Skip,
    );
    assert!(r.applied);
    use ringline::db::schema::{audit_log, members, party_orgs};
    // A file with only the required columns, applied as an update: the optional columns keep
    // their stored values (张德明's phone, 李秀英's employer and home community).
    let p = app.write_file(
        "minimal.csv",
        format!(
            "姓名,公民身份号码,党员类别,所在党组织\n张德明,{M1},预备党员,630121103201\n李秀英,{M2},正式党员,FZ-DX-001\n"
        )
        .as_bytes(),
    );
    let r = import(&mut conn, "members", &p, true, OnExisting::Update);
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!(
        (r.updated, r.unchanged),
        (1, 1),
        "张德明's status changed; 李秀英 unchanged"
    );
    let (phone, status): (Option<String>, String) = members::table
        .filter(members::id_number.eq(M1))
        .select((members::phone, members::status))
        .first(&mut conn)
        .expect("张德明");
    assert_eq!(
        (phone.as_deref(), status.as_str()),
        (Some("13897012345"), "probationary")
    );
    let (employer, home): (String, Option<String>) = members::table
        .filter(members::id_number.eq(M2))
        .select((members::employer, members::home_community))
        .first(&mut conn)
        .expect("李秀英");
    assert_eq!(
        (employer.as_str(), home.as_deref()),
        ("大通东峡牦牛肉加工有限公司", Some("630121101001"))
    );
    // The update is audited with the values before and after, personal data masked.
    let (before, after): (Option<String>, Option<String>) = audit_log::table
        .filter(audit_log::entity.eq("member"))
        .filter(audit_log::action.eq("update"))
        .select((audit_log::before_json, audit_log::after_json))
        .first(&mut conn)
        .expect("an audit entry for the update");
    let (before, after) = (before.expect("before"), after.expect("after"));
    assert!(
        before.contains("\"full\"") && after.contains("\"probationary\""),
        "{before} → {after}"
    );
    assert!(
        !before.contains(M1) && !after.contains("13897012345"),
        "masked: {after}"
    );

    // A credit code given to a unit stored without one updates it instead of adding a unit.
    let units_before = count(&mut conn, "units");
    let p = app.write_file(
        "coded.csv",
        "单位名称,单位类型,统一社会信用代码,所在村(社区)代码\n东峡镇青稞种植专业合作社,协会/合作社,93630121MA7XDY0B2W,630121103202\n".as_bytes(),
    );
    let r = import(&mut conn, "units", &p, true, OnExisting::Update);
    assert!(r.errors.iter().all(|i| i.key != "duplicate-in-file"), "{:?}", r.errors);
    assert_eq!(count(&mut conn, "units"), units_before, "no second unit");

    // Headers with brackets inside are whole names: 所在村(社区)名称 is not 所在村(社区)代码.
    let p = app.write_file(
        "bracket.csv",
        "单位名称,单位类型,所在村(社区)名称,所在村(社区)代码\n东峡镇试验合作社,协会/合作社,南滩村委会,630121103201\n"
            .as_bytes(),
    );
    let r = import(&mut conn, "units", &p, false, OnExisting::Skip);
    assert!(r.ok(), "{:?}", r.errors);
    assert_eq!(r.new, 1);

    // A committee with subordinate organizations cannot become a branch.
    let p = app.write_file(
        "kind.csv",
        "党组织代码,党组织名称,党组织类别,组建方式,所在单位\n630121103000,中共大通县东峡镇委员会,党支部,单独组建,大通县东峡镇人民政府\n".as_bytes(),
    );
    let r = import(&mut conn, "orgs", &p, true, OnExisting::Update);
    assert_eq!(
        r.errors.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        vec!["org-branch-has-children"]
    );
    let kind: String = party_orgs::table
        .filter(party_orgs::code.eq("630121103000"))
        .select(party_orgs::kind)
        .first(&mut conn)
        .expect("committee");
    assert_eq!(kind, "committee");

    // Nobody under 18 is a party member (born 2010-05-05, check character computed by hand:
    // 63012120100505001 → weighted sum 176, 176 mod 11 = 0, (12 − 0) mod 11 = 1).
    let p = app.write_file(
        "young.csv",
        "姓名,公民身份号码,党员类别,所在党组织\n少年,630121201005050011,正式党员,630121103201\n".as_bytes(),
    );
    let r = import(&mut conn, "members", &p, false, OnExisting::Skip);
    assert_eq!(
        r.errors.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
        vec!["member-under-18"]
    );

    // A town administrator cannot reach into another town through links: a joint unit of
    // 城关镇, or 城关镇's committee as parent.
    let dongxia = Access::resolve(
        &mut conn,
        1,
        "dongxia",
        ringline::auth::Role::TownAdmin,
        ringline::access::Scope::parse("630121103000").expect("scope"),
    )
    .expect("access");
    let p = app.write_file(
        "reach.csv",
        "党组织代码,党组织名称,党组织类别,上级党组织,组建方式,所在单位,联建单位\nDX-X1,东峡试验联合支部,党支部,630121103000,联合组建,大通县东峡商贸有限公司,91630121MA7XCG0E5J\nDX-X2,东峡试验支部,党支部,630121101000,单独组建,大通县东峡商贸有限公司,\n".as_bytes(),
    );
    let r = import_as(&mut conn, &dongxia, "orgs", &p, true, OnExisting::Skip);
    let mut keys: Vec<(String, String)> = r.errors.iter().map(|i| (i.column.clone(), i.key.clone())).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("上级党组织".to_string(), "outside-scope".to_string()),
            ("联建单位".to_string(), "outside-scope".to_string())
        ]
    );
    assert_eq!(count(&mut conn, "party_orgs"), 8, "nothing written");
}

on_both_backends!(
    updates_are_partial_scoped_and_audited,
    member_errors_are_named_and_nothing_is_written,
    messy_spreadsheet_is_normalised,
    bad_files_get_clear_messages,
    coverage_of_imported_fixture,
    town_admin_imports_only_within_town,
    web_upload_dry_run_and_apply,
);

/// A zip bomb dressed as XLSX (a sheet that unpacks to more than 1 GiB) is refused before any
/// XML is parsed, with memory bounded. Backend-independent, so it runs once.
#[test]
fn zip_bomb_is_refused() {
    use std::io::Write;
    let dir = tempfile::TempDir::new().expect("temp");
    let path = dir.path().join("bomb.xlsx");
    {
        let f = std::fs::File::create(&path).expect("create");
        let mut zip = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("xl/worksheets/sheet1.xml", opts).expect("entry");
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..1100 {
            zip.write_all(&chunk).expect("write");
        }
        zip.finish().expect("finish");
    }
    assert!(std::fs::metadata(&path).expect("meta").len() < 8 << 20, "small on disk");
    let err = ringline::import::table::read_raw(&path, 10).expect_err("refused");
    assert!(
        matches!(err, ringline::import::table::ReadError::TooLarge { .. }),
        "{err}"
    );
}

/// Writes the XLSX fixtures of `tests/fixtures/registry` (run with `--ignored` after changing
/// them; the files are committed).
#[test]
#[ignore]
fn write_xlsx_fixtures() {
    let dir = fixture("registry");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("党员名册").expect("name");
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.merge_range(0, 0, 0, 8, "大通县党员花名册（示例）", &rust_xlsxwriter::Format::new())
        .expect("title");
    let plain = rust_xlsxwriter::Format::new();
    for (c, h) in [(0u16, "姓名"), (1, "性别"), (7, "工作单位"), (8, "报到社区")] {
        ws.merge_range(1, c, 2, c, h, &plain).expect("vertical merge");
    }
    ws.merge_range(1, 2, 1, 3, "证件信息", &plain).expect("group");
    ws.merge_range(1, 4, 1, 6, "党籍信息", &plain).expect("group");
    for (c, h) in [
        (2u16, "公民身份号码"),
        (3, "手机号码"),
        (4, "党员类别"),
        (5, "入党日期"),
        (6, "所在党组织"),
    ] {
        ws.write_string(2, c, h).expect("header");
    }
    // Row 4: full-width digits, a space inside the name, a phone with spaces, a date cell, the
    // branch code typed as a number.
    ws.write_string(3, 0, "张 德明").expect("c");
    ws.write_string(3, 1, "男").expect("c");
    ws.write_string(3, 2, "６３０１２１１９８５０３１２１５１９")
        .expect("c");
    ws.write_string(3, 3, " 138 9701 2345 ").expect("c");
    ws.write_string(3, 4, "正式党员").expect("c");
    ws.write_datetime_with_format(
        3,
        5,
        rust_xlsxwriter::ExcelDateTime::from_ymd(2010, 7, 1).expect("d"),
        &date,
    )
    .expect("c");
    ws.write_number(3, 6, 630121103201.0).expect("c");
    // Row 5: lower-case x, 2015.06.30, "正式".
    ws.write_string(4, 0, "赵桂花").expect("c");
    ws.write_string(4, 1, "女").expect("c");
    ws.write_string(4, 2, "63012119700101222x").expect("c");
    ws.write_string(4, 4, "正式").expect("c");
    ws.write_string(4, 5, "2015.06.30").expect("c");
    ws.write_string(4, 6, "FZ-DX-001").expect("c");
    // Row 6: no sex (derived), 2001年7月1日, the organization by full name.
    ws.write_string(5, 0, "马福财").expect("c");
    ws.write_string(5, 2, M3).expect("c");
    ws.write_string(5, 4, "正式党员").expect("c");
    ws.write_string(5, 5, "2001年7月1日").expect("c");
    ws.write_string(5, 6, "中共大通县东峡镇委员会").expect("c");
    // Row 7: a 15-digit first-generation number; an Excel date serial as a plain number.
    ws.write_string(6, 0, "祁生春").expect("c");
    ws.write_string(6, 1, "男").expect("c");
    ws.write_string(6, 2, "630121650820157").expect("c");
    ws.write_string(6, 4, "预备党员").expect("c");
    ws.write_number(6, 5, 43647.0).expect("c");
    ws.write_string(6, 6, "630121101001").expect("c");
    ws.write_string(6, 8, "630121101001").expect("c");
    // Row 8: full-width letters and digits in the organization code, 2026/1/15, +86 phone.
    ws.write_string(7, 0, "韩玉兰").expect("c");
    ws.write_string(7, 1, "女").expect("c");
    ws.write_string(7, 2, M4).expect("c");
    ws.write_string(7, 3, "+86 155-0097-1234").expect("c");
    ws.write_string(7, 4, "预备党员").expect("c");
    ws.write_string(7, 5, "2026/1/15").expect("c");
    ws.write_string(7, 6, "ＦＺ-ＣＧ-００１").expect("c");
    ws.write_string(7, 8, "630121101001").expect("c");
    wb.save(dir.join("members_messy.xlsx")).expect("save");
}
