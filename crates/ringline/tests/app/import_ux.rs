//! Imports never drop data silently: unknown headers are warned about with the nearest known
//! header, hidden sheets are skipped and another sheet can be chosen, an error workbook
//! uploaded again is recognised, issues come in file order, risky updates wait for a
//! confirmation, updated rows are listed with stored → new values, a rejected import answers
//! 422, and an applied import can be undone (web, API, command line) while no later change
//! touched its records. Small fixtures are written by each test.

use diesel::prelude::*;
use reqwest::StatusCode;
use ringline::db::schema::members;
use ringline::import::spec;
use serde_json::Value;

use crate::harness::{Session, TestApp, xlsx_cells};
use crate::registry_import::{M1, M2, load_units_and_orgs};

/// Sends a file to the API import; returns the status and the report.
async fn api_import(s: &Session, kind: &str, name: &str, bytes: Vec<u8>, query: &str) -> (StatusCode, Value) {
    let r = s
        .client
        .post(s.url(&format!("/api/v1/import/{kind}?filename={name}{query}")))
        .header("X-CSRF-Token", s.csrf.clone())
        .body(bytes)
        .send()
        .await
        .expect("api import");
    let status = r.status();
    (status, r.json().await.expect("json report"))
}

fn keys(v: &Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .map(|a| a.iter().map(|i| i["key"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

fn name_of(app: &TestApp, id_number: &str) -> Option<String> {
    let mut conn = app.conn();
    members::table
        .filter(members::id_number.eq(id_number))
        .select(members::name)
        .first(&mut conn)
        .optional()
        .expect("query")
}

fn member_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    members::table.count().get_result(&mut conn).expect("count")
}

/// The Chinese header of a members column, as the import names it.
fn zh_header(key: &str) -> &'static str {
    spec::kind("members")
        .and_then(|k| k.columns.iter().find(|c| c.key == key))
        .map(|c| c.zh)
        .expect("known column")
}

async fn unknown_headers_are_warned_with_the_nearest(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    // 手机号 and 报到村（社区） are wordings people use: they are read. 联系电话号码 holds values
    // but is no column (the phone is already read from 手机号): a warning names it and the
    // nearest known header — 联系电话号码 → 联系电话 is 2 deletions, nearer than any other name.
    // 备注 is empty in every row: nothing is lost, no warning.
    let csv = format!(
        "姓名,公民身份号码,党员类别,所在党组织,手机号,报到村（社区）,联系电话号码,备注\n\
         张德明,{M1},正式党员,630121103201,13897012345,630121101001,0971-1234567,\n"
    );
    let (status, v) = api_import(&s, "members", "m.csv", csv.into_bytes(), "&apply=true").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(keys(&v, "warnings"), vec!["header-unknown-column"], "{v}");
    let w = &v["warnings"][0];
    assert_eq!(w["column"], "联系电话号码");
    assert_eq!(w["cell"], "G", "the seventh column");
    assert_eq!(w["field"], "phone", "the nearest known header is the phone's");
    assert_eq!(w["line"], 1, "the header row");
    let text = w["localized"].as_str().unwrap_or_default();
    assert!(text.contains("联系电话号码"), "{text}");
    let mut conn = app.conn();
    let (phone, home): (Option<String>, Option<String>) = members::table
        .filter(members::id_number.eq(M1))
        .select((members::phone, members::home_community))
        .first(&mut conn)
        .expect("imported");
    assert_eq!(phone.as_deref(), Some("13897012345"), "手机号 read as the phone");
    assert_eq!(
        home.as_deref(),
        Some("630121101001"),
        "报到村（社区） read as the home community"
    );
    // The warning's nearest header is the phone column's Chinese header.
    assert!(text.contains(&format!("“{}”", zh_header("phone"))), "{text}");
}

/// A workbook with a hidden first sheet (a lookup list) and two visible ones.
fn three_sheets() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let header = ["姓名", "公民身份号码", "党员类别", "所在党组织"];
    let hidden = wb.add_worksheet();
    hidden.set_name("代码表").expect("name");
    for (c, h) in header.iter().enumerate() {
        hidden.write_string(0, c as u16, *h).expect("cell");
    }
    // A row that would be an error if it were read.
    hidden.write_string(1, 0, "不应读取").expect("cell");
    hidden.set_hidden(true);
    let first = wb.add_worksheet();
    first.set_name("党员").expect("name");
    first.set_active(true);
    for (c, h) in header.iter().enumerate() {
        first.write_string(0, c as u16, *h).expect("cell");
    }
    for (c, v) in ["张德明", M1, "正式党员", "630121103201"].iter().enumerate() {
        first.write_string(1, c as u16, *v).expect("cell");
    }
    let second = wb.add_worksheet();
    second.set_name("备用").expect("name");
    for (c, h) in header.iter().enumerate() {
        second.write_string(0, c as u16, *h).expect("cell");
    }
    for (r, row) in [
        ["张德明", M1, "正式党员", "630121103201"],
        ["李秀英", M2, "正式党员", "FZ-DX-001"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            second.write_string(r as u32 + 1, c as u16, *v).expect("cell");
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

async fn hidden_sheets_are_skipped_and_a_sheet_can_be_chosen(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    let bytes = three_sheets();
    // Default: the first visible sheet, named in the report with the others.
    let (status, v) = api_import(&s, "members", "m.xlsx", bytes.clone(), "").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["sheet"], "党员");
    assert_eq!(
        v["sheets"],
        serde_json::json!(["党员", "备用"]),
        "hidden sheets are not offered"
    );
    assert_eq!((v["rows"].as_u64(), v["new"].as_u64()), (Some(1), Some(1)));
    // Another sheet by name (URL-encoded 备用).
    let (status, v) = api_import(&s, "members", "m.xlsx", bytes.clone(), "&sheet=%E5%A4%87%E7%94%A8").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["sheet"].as_str(), v["new"].as_u64()), (Some("备用"), Some(2)));
    // A sheet that is not there: an error naming the sheets there are.
    let (status, v) = api_import(&s, "members", "m.xlsx", bytes.clone(), "&sheet=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(keys(&v, "errors"), vec!["file-no-such-sheet"]);
    let text = v["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(text.contains("党员, 备用"), "{text}");
    // On the web: the job page names the sheet and offers the other one; choosing it checks
    // that sheet.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", s.csrf.clone())
        .text("kind", "members")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("m.xlsx"));
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("loc")
        .to_string();
    let html = wait_for(&s, &job).await;
    assert!(html.contains("<td>党员</td>"), "{html}");
    assert!(html.contains("<option>备用</option>"), "{html}");
    assert!(!html.contains("代码表"), "the hidden sheet is not offered");
    let a = s.post_form(&format!("{job}/sheet"), &[("sheet", "备用")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let html = wait_for(&s, &job).await;
    assert!(html.contains("<td>备用</td>"), "{html}");
    assert!(html.contains("<tr><th>新增</th><td>2</td></tr>"), "{html}");
    // A sheet that is not in the workbook is refused.
    let a = s.post_form(&format!("{job}/sheet"), &[("sheet", "代码表")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Polls a job page until it stops refreshing.
async fn wait_for(s: &Session, job: &str) -> String {
    for _ in 0..600 {
        let page = s.get(job).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        if !html.contains("http-equiv=\"refresh\"") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

async fn error_workbook_marks_itself_and_issues_come_in_file_order(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    let bytes = std::fs::read(crate::harness::fixture("registry/members_errors.csv")).expect("fixture");
    // A rejected import answers 422 with the report.
    let (status, v) = api_import(&s, "members", "e.csv", bytes.clone(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["ok"], false);
    // File order: by row, then by column letter within a row.
    let places: Vec<(u64, String)> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|i| {
            (
                i["line"].as_u64().unwrap_or(0),
                i["cell"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut sorted = places.clone();
    sorted.sort_by_key(|(l, c)| (*l, c.len(), c.clone()));
    assert_eq!(places, sorted);
    assert!(places.len() >= 10, "{places:?}");
    // The web's error workbook, uploaded again, is recognised.
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", s.csrf.clone())
        .text("kind", "members")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("e.csv"));
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let job = r.headers()[reqwest::header::LOCATION]
        .to_str()
        .expect("loc")
        .to_string();
    let html = wait_for(&s, &job).await;
    assert!(html.contains("发现 10 个问题"), "{html}");
    let x = s.get(&format!("{job}/errors.xlsx")).await;
    assert_eq!(x.status, StatusCode::OK);
    let (status, v) = api_import(&s, "members", "errors.xlsx", x.body.to_vec(), "").await;
    assert!(
        keys(&v, "warnings").contains(&"error-workbook".to_string()),
        "{status} {v}"
    );
    // Its row-number and error columns are not reported as unknown columns.
    assert!(
        !keys(&v, "warnings").contains(&"header-unknown-column".to_string()),
        "{v}"
    );
    // The error workbook's rows are the original rows: still 9 with errors (its own row 1 is
    // the header).
    assert_eq!(xlsx_cells(&x.body).len(), 10);
}

async fn risky_updates_wait_for_confirmation_and_imports_can_be_undone(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let s = app.admin().await;
    let file = std::fs::read(crate::harness::fixture("registry/members.csv")).expect("fixture");
    let (status, v) = api_import(&s, "members", "members.csv", file, "&apply=true").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["applied"], true);
    let first = v["run_id"].as_i64().expect("an import number");
    assert_eq!(member_count(&app), 5);
    // The same ID number under another name, and 李秀英 without her phone: both need a
    // confirmation; each change is listed with its stored and new value.
    let renamed = format!(
        "姓名,公民身份号码,党员类别,所在党组织\n张得明,{M1},正式党员,630121103201\n李秀英,{M2},正式党员,FZ-DX-001\n"
    )
    .into_bytes();
    let update = "&on_existing=update";
    let (status, v) = api_import(&s, "members", "r.csv", renamed.clone(), update).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["updated"], 1, "{v}");
    assert_eq!(v["confirm"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["confirm"][0]["line"], 2);
    let change = &v["changes"][0];
    assert_eq!(
        (change["line"].as_u64(), change["action"].as_str()),
        (Some(2), Some("update"))
    );
    let name = change["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["field"] == "name")
        .expect("the name changes");
    assert_eq!(
        (name["before"].as_str(), name["after"].as_str()),
        (Some("张德明"), Some("张得明"))
    );
    // Applying without the confirmation writes nothing.
    let (status, v) = api_import(&s, "members", "r.csv", renamed.clone(), &format!("{update}&apply=true")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["applied"], false);
    assert_eq!(name_of(&app, M1).as_deref(), Some("张德明"));
    // With it, the update is written and gets an import number.
    let (_, v) = api_import(
        &s,
        "members",
        "r.csv",
        renamed.clone(),
        &format!("{update}&apply=true&confirm=true"),
    )
    .await;
    assert_eq!(v["applied"], true, "{v}");
    let second = v["run_id"].as_i64().expect("number");
    assert_eq!(name_of(&app, M1).as_deref(), Some("张得明"));
    // Undo through the API puts the name back; a second undo is refused.
    let (status, v) = s
        .post_json(&format!("/api/v1/import/runs/{second}/undo"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(name_of(&app, M1).as_deref(), Some("张德明"));
    let a = s
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/import/runs/{second}/undo"),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::CONFLICT, "import-undone-already".into())
    );
    // The audit log names the import undone (its page), not a record that shares its number.
    let audit = s.get("/audit?action=undo").await.text();
    assert!(audit.contains(&format!("href=\"/import/runs/{second}\"")), "{audit}");
    assert!(!audit.contains(&format!("href=\"/members/{second}\"")), "{audit}");
    // The web: the list of applied imports, the import's page, and its undo form, which
    // removes the five members the first import created.
    let page = s.get("/import/runs").await.text();
    assert!(page.contains(&format!("/import/runs/{first}")), "{page}");
    let page = s.get(&format!("/import/runs/{first}")).await.text();
    assert!(page.contains("撤销这次导入"), "{page}");
    let a = s
        .post_form(&format!("/import/runs/{first}/undo"), &[("sure", "on")])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text().contains("已撤销这次导入"), "{}", a.text());
    assert_eq!(member_count(&app), 0);
    // A record changed after its import keeps the import from being undone.
    let file = std::fs::read(crate::harness::fixture("registry/members.csv")).expect("fixture");
    let (_, v) = api_import(&s, "members", "members.csv", file, "&apply=true").await;
    let third = v["run_id"].as_i64().expect("number");
    let id: i64 = members::table
        .filter(members::id_number.eq(M2))
        .select(members::id)
        .first(&mut app.conn())
        .expect("李秀英");
    let (status, v) = s
        .patch_json(
            &format!("/api/v1/members/{id}"),
            serde_json::json!({"phone": "13909710000"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let a = s
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/import/runs/{third}/undo"),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.error_code()),
        (StatusCode::CONFLICT, "import-undo-changed".into())
    );
    assert_eq!(member_count(&app), 5, "nothing undone");
    // A town administrator neither sees nor undoes the county's imports.
    crate::calls::add_user(
        &mut app.conn(),
        "dx-admin",
        "dx-password-1",
        "town-admin",
        "630121103000",
        None,
    );
    let town = app.session("dx-admin", "dx-password-1").await;
    let (status, v) = town.get_json("/api/v1/import/runs").await;
    assert_eq!((status, v.as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");
    let a = town
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/import/runs/{third}/undo"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        town.get(&format!("/import/runs/{third}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The county sees all three.
    let (_, v) = s.get_json("/api/v1/import/runs").await;
    assert_eq!(v.as_array().map(Vec::len), Some(3), "{v}");
}

/// `ringline import … --sheet`, `--confirm-updates`, `import runs` and `import undo`.
async fn the_command_line_chooses_sheets_confirms_and_undoes(app: TestApp) {
    load_units_and_orgs(&mut app.conn());
    let cli = |args: &[&str]| {
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
    };
    let book = app.write_file("m.xlsx", &three_sheets());
    let book = book.to_str().expect("path");
    let out = cli(&["import", "members", book, "--sheet", "备用", "--apply"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("m.xlsx [备用]: 2 row(s)"), "{stdout}");
    assert!(stdout.contains("--sheet NAME"), "names the other sheet: {stdout}");
    assert!(stderr.contains("as import "), "{stderr}");
    assert_eq!(member_count(&app), 2);
    let renamed = app.write_file(
        "r.csv",
        format!("姓名,公民身份号码,党员类别,所在党组织\n张得明,{M1},正式党员,630121103201\n").as_bytes(),
    );
    let renamed = renamed.to_str().expect("path");
    let out = cli(&["import", "members", renamed, "--on-existing", "update", "--apply"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("to confirm:"), "{stdout}");
    assert!(stdout.contains("\"张德明\" → \"张得明\""), "{stdout}");
    assert_eq!(name_of(&app, M1).as_deref(), Some("张德明"));
    let out = cli(&[
        "import",
        "members",
        renamed,
        "--on-existing",
        "update",
        "--apply",
        "--confirm-updates",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(name_of(&app, M1).as_deref(), Some("张得明"));
    let out = cli(&["import", "runs"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("r.csv") && stdout.contains("m.xlsx"), "{stdout}");
    // The newest import is the rename: undo it, then the first one.
    let mut conn = app.conn();
    let ids: Vec<i64> = ringline::db::schema::import_runs::table
        .order(ringline::db::schema::import_runs::id.desc())
        .select(ringline::db::schema::import_runs::id)
        .load(&mut conn)
        .expect("runs");
    let out = cli(&["import", "undo", &ids[0].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(name_of(&app, M1).as_deref(), Some("张德明"));
    let out = cli(&["import", "undo", &ids[1].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(member_count(&app), 0);
    let out = cli(&["import", "undo", &ids[1].to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("undone already"));
}

on_both_backends!(
    unknown_headers_are_warned_with_the_nearest,
    hidden_sheets_are_skipped_and_a_sheet_can_be_chosen,
    error_workbook_marks_itself_and_issues_come_in_file_order,
    risky_updates_wait_for_confirmation_and_imports_can_be_undone,
    the_command_line_chooses_sheets_confirms_and_undoes,
);
