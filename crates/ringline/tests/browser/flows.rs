//! What a person does, step by step, in the browser: log in, create and edit a party member,
//! retire a unit, import a file and undo it. Each flow runs at both widths, and every page it
//! passes through must fit the window (no sideways scrolling of the page).
//!
//! The texts expected are the Chinese ones of `locales/zh-CN` (the browser asks for `zh-CN`),
//! written out here as a person reads them.

use crate::app::{ADMIN_PASSWORD, App};
use crate::driver::{Browser, Ctx};

at_both_widths!(log_in, create_and_edit_member, retire_unit, import_apply_and_undo);

/// A valid ID number (GB 11643-1999) by hand: address 630121 (大通县), born 1988-05-15,
/// sequence 123 (odd: male). Σ aᵢ·wᵢ over 6 3 0 1 2 1 1 9 8 8 0 5 1 5 1 2 3 with weights
/// 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 = 42+27+0+5+16+4+2+9+48+24+0+45+10+25+8+8+6 = 279;
/// 279 mod 11 = 4; (12 − 4) mod 11 = 8.
const ID_NUMBER: &str = "630121198805151238";
/// The same with a wrong check character.
const ID_NUMBER_TYPO: &str = "630121198805151237";

/// Logs in as `admin` through the login page, from wherever the browser is.
pub async fn log_in_as_admin(b: &Browser) {
    b.goto("/login").await;
    b.fill("input[name=username]", "admin").await;
    b.fill("input[name=password]", ADMIN_PASSWORD).await;
    b.click_to_next_page("section.login button[type=submit]").await;
    let home = b.path().await;
    assert!(
        home.starts_with("/programs/"),
        "the login page leads to the program page, not {home}"
    );
    assert!(b.text("header a.who").await.contains("admin"));
}

/// Flow 1: a page asked for before logging in leads to the login page, which keeps the way
/// back; a wrong password is refused in Chinese with the user name kept; the right one opens
/// the page first asked for.
async fn log_in(cx: Ctx) {
    let b = &cx.b;
    b.goto("/members").await;
    let path = b.path().await;
    assert!(path.starts_with("/login?next="), "{path}");
    assert_eq!(b.value("input[name=next]").await, "/members");
    assert_eq!(
        b.js("return document.documentElement.lang;", vec![]).await,
        "zh-CN",
        "the page is in the browser's language"
    );
    b.assert_fits().await;

    b.fill("input[name=username]", "admin").await;
    b.fill("input[name=password]", "not-the-password").await;
    b.click_to_next_page("section.login button[type=submit]").await;
    assert_eq!(b.text("section.login p.alert").await, "用户名或密码错误。");
    assert_eq!(b.value("input[name=username]").await, "admin", "the name typed is kept");
    assert_eq!(
        b.value("input[name=password]").await,
        "",
        "the password is not sent back"
    );
    assert_eq!(b.value("input[name=next]").await, "/members");
    b.assert_fits().await;

    b.fill("input[name=password]", ADMIN_PASSWORD).await;
    b.click_to_next_page("section.login button[type=submit]").await;
    assert_eq!(b.path().await, "/members");
    assert!(b.text("header a.who").await.contains("admin"));
    assert!(b.has("table.records").await, "the member list is shown");
    b.assert_fits().await;
}

/// Picks the option of the reference picker `#f-{field}` whose label contains `wanted`, as a
/// person does: types `typed`, waits until the list offers only what matches it (so the list
/// came from the lookup, not the page's first options), and takes that option's value.
async fn pick(b: &Browser, field: &str, typed: &str, wanted: &str) -> String {
    let input = format!("#f-{field}");
    b.fill(&input, typed).await;
    let list = format!("#l-{field} option");
    let list = &list;
    let value = b
        .wait_until(&format!("the picker {field} to offer {wanted:?}"), move || async move {
            let options = b
                .js(
                    "return Array.from(document.querySelectorAll(arguments[0]))
                       .map(o => [o.value, o.textContent]);",
                    vec![serde_json::json!(list)],
                )
                .await;
            let options = options.as_array()?.clone();
            let all_match =
                !options.is_empty() && options.iter().all(|o| o[1].as_str().is_some_and(|l| l.contains(typed)));
            if !all_match {
                return None;
            }
            options
                .iter()
                .find(|o| o[1].as_str().is_some_and(|l| l.contains(wanted)))
                .and_then(|o| o[0].as_str().map(str::to_string))
        })
        .await;
    b.fill(&input, &value).await;
    value
}

/// Flow 2: a new party member through `/members/new`. A mistyped ID number is refused next to
/// its field, in Chinese, with everything typed kept; corrected, the member is saved and their
/// page says so. Then the member moves to another organization chosen by name from the picker.
async fn create_and_edit_member(cx: Ctx) {
    cx.app.load_units_and_orgs();
    let b = &cx.b;
    log_in_as_admin(b).await;
    b.goto("/members").await;
    b.click_to_next_page("a.button[href='/members/new']").await;
    assert_eq!(b.path().await, "/members/new");
    assert_eq!(b.text("h1").await, "新建党员");
    b.assert_fits().await;

    b.fill("#f-name", "赵文海").await;
    b.fill("#f-id_number", ID_NUMBER_TYPO).await;
    b.select("#f-status", "full").await;
    let town = pick(b, "party_organization", "东峡镇委员", "中共大通县东峡镇委员会").await;
    assert_eq!(town, "中共大通县东峡镇委员会");
    b.click_to_next_page("form.record-form button[type=submit]").await;

    assert_eq!(b.path().await, "/members/new", "the form comes back");
    assert_eq!(
        b.text(".field.invalid #e-id_number").await,
        "公民身份号码的校验位与前17位不符，可能有输错的数字。"
    );
    assert_eq!(
        b.find_all(".field.invalid").await.len(),
        1,
        "only the ID number is marked"
    );
    assert_eq!(
        b.text("p.alert").await,
        "有些内容需要更正，问题显示在对应栏目旁。尚未保存任何内容。"
    );
    assert_eq!(b.value("#f-id_number").await, ID_NUMBER_TYPO, "what was typed is kept");
    assert_eq!(b.value("#f-name").await, "赵文海");
    assert_eq!(b.value("#f-status").await, "full");
    assert_eq!(b.value("#f-party_organization").await, "中共大通县东峡镇委员会");
    b.assert_fits().await;

    b.fill("#f-id_number", ID_NUMBER).await;
    b.click_to_next_page("form.record-form button[type=submit]").await;
    let page = b.path().await;
    let id = page
        .strip_prefix("/members/")
        .and_then(|p| p.strip_suffix("?saved=created"))
        .unwrap_or_else(|| panic!("the member's page after saving, not {page}"))
        .to_string();
    assert_eq!(b.text("p.flash").await, "已保存：记录已创建。");
    assert_eq!(b.text("h1").await, "赵文海");
    assert_eq!(b.text("dd a[href^='/orgs/']").await, "中共大通县东峡镇委员会");
    let shown = b.text("main").await;
    assert!(!shown.contains(ID_NUMBER), "the ID number is masked on the page");
    assert!(shown.contains("1988-05-15") || shown.contains("男"), "{shown}");
    b.assert_fits().await;

    // Move the member to the yak-meat company's branch, chosen by part of its name.
    b.click_to_next_page(&format!("a.button[href='/members/{id}/edit']"))
        .await;
    assert_eq!(b.text("h1").await, "编辑党员");
    // The stored organization is shown by its code (names need not be unique), which the
    // picker's options show beside each name.
    assert_eq!(b.value("#f-party_organization").await, "630121103000");
    assert_eq!(
        b.value("#f-id_number").await,
        "",
        "the ID number is not sent to the form"
    );
    b.assert_fits().await;
    let branch = pick(b, "party_organization", "牦牛肉", "FZ-DX-001").await;
    assert_eq!(branch, "中共大通东峡牦牛肉加工有限公司支部委员会");
    b.click_to_next_page("form.record-form button[type=submit]").await;
    assert_eq!(b.path().await, format!("/members/{id}?saved=updated"));
    assert_eq!(b.text("p.flash").await, "已保存：修改已写入。");
    assert_eq!(b.text("dd a[href^='/orgs/']").await, branch);
    b.assert_fits().await;
}

/// The names in the first column of a list page's table.
async fn listed_names(b: &Browser) -> Vec<String> {
    b.texts("table.records tbody tr td:first-child a").await
}

/// Flow 3: a unit is retired from its page: reason, confirmation, and it leaves the list.
async fn retire_unit(cx: Ctx) {
    cx.app.load_units_and_orgs();
    let b = &cx.b;
    log_in_as_admin(b).await;
    b.goto("/units").await;
    let before = listed_names(b).await;
    assert_eq!(before.len(), 10, "the fixture's units: {before:?}");
    b.assert_fits().await;

    b.click_text_to_next_page("table.records a", "东峡镇农家乐有限公司")
        .await;
    assert_eq!(b.text("h1").await, "东峡镇农家乐有限公司");
    let id = b
        .path()
        .await
        .strip_prefix("/units/")
        .expect("the unit's page")
        .to_string();
    b.assert_fits().await;
    b.click_to_next_page(&format!("a.button[href='/units/{id}/retire']"))
        .await;
    assert_eq!(b.text("h1").await, "注销/移出单位");
    assert!(
        b.text("p.alert").await.contains("东峡镇农家乐有限公司"),
        "the warning names the unit"
    );
    b.assert_fits().await;

    b.select("select[name=reason]", "deregistered").await;
    b.fill("input[name=note]", "已办理工商注销").await;
    b.click_to_next_page("form[action$='/retire'] button.danger").await;
    assert_eq!(b.path().await, format!("/units?retired_id={id}"));
    assert_eq!(b.text("p.flash").await, "已完成：该记录已注销/移出，不再出现在名单中。");
    let after = listed_names(b).await;
    let mut expected = before.clone();
    expected.retain(|n| n != "东峡镇农家乐有限公司");
    assert_eq!(after, expected, "the unit left the list, the others stay in order");
    b.assert_fits().await;
}

/// Units with two mistakes: line 3's village code names no village (东峡镇 has no 999), line
/// 4's headcount is written in words.
pub const UNITS_WITH_ERRORS: &str =
    "单位名称,单位类型,统一社会信用代码,所在村(社区)代码,地址,经度,纬度,从业人数,党员人数
东峡镇牦牛养殖专业合作社,协会/合作社,,630121103201,南滩村,,,25,3
东峡镇乡村旅游开发有限公司,非公有制企业,,630121103999,,,,18,2
东峡镇电商服务中心,非公有制企业,,630121103200,衙门庄村,,,十八,1
";

/// The same file corrected: 克麻尔村 (630121103203) and 18.
pub const UNITS_FIXED: &str = "单位名称,单位类型,统一社会信用代码,所在村(社区)代码,地址,经度,纬度,从业人数,党员人数
东峡镇牦牛养殖专业合作社,协会/合作社,,630121103201,南滩村,,,25,3
东峡镇乡村旅游开发有限公司,非公有制企业,,630121103203,,,,18,2
东峡镇电商服务中心,非公有制企业,,630121103200,衙门庄村,,,18,1
";

/// The units the files add.
const NEW_UNITS: [&str; 3] = [
    "东峡镇牦牛养殖专业合作社",
    "东峡镇乡村旅游开发有限公司",
    "东峡镇电商服务中心",
];

/// Uploads `file` on `/import` as units and waits for its report; returns the job's path.
pub async fn upload_units(b: &Browser, app: &App, name: &str, text: &str) -> String {
    let path = app.write_file(name, text);
    b.goto("/import").await;
    b.assert_fits().await;
    b.select("select[name=kind]", "units").await;
    b.find("input[type=file][name=file]")
        .await
        .send_keys(&path.display().to_string())
        .await
        .expect("chooses the file");
    b.click_to_next_page("form[action='/import'] button[type=submit]").await;
    let job = b
        .wait_path("the import's page", |p| p.starts_with("/import/jobs/"))
        .await;
    // The check runs in the background; the page reloads itself until the report is there.
    b.find("table.counts").await;
    assert!(b.text("h1").await.contains(name), "the report names the file");
    job
}

/// The first four cells of each row of the table in the section headed `heading` (an import
/// report's: row, column, value, reason).
pub async fn report_rows(b: &Browser, heading: &str) -> Vec<[String; 4]> {
    let rows = b
        .js(
            "for (const s of document.querySelectorAll('main section')) {
               const h = s.querySelector('h2');
               if (h && h.textContent.trim() === arguments[0]) {
                 return Array.from(s.querySelectorAll('tbody tr'))
                   .map(r => Array.from(r.querySelectorAll('td')).map(td => td.textContent.trim()));
               }
             }
             return [];",
            vec![serde_json::json!(heading)],
        )
        .await;
    rows.as_array()
        .expect("an array of rows")
        .iter()
        .map(|r| {
            let cell = |i: usize| r[i].as_str().unwrap_or("").to_string();
            [cell(0), cell(1), cell(2), cell(3)]
        })
        .collect()
}

/// Flow 4: a units file with errors is checked on `/import`; the report names each error's
/// row, column and reason and offers no way to apply. The fixed file passes the check, is
/// applied (its units are listed), and is undone from the link the report gives (its units
/// are gone again).
async fn import_apply_and_undo(cx: Ctx) {
    cx.app.load_units_and_orgs();
    let b = &cx.b;
    log_in_as_admin(b).await;

    upload_units(b, &cx.app, "units-with-errors.csv", UNITS_WITH_ERRORS).await;
    assert_eq!(
        b.text("p.alert[role=alert]").await,
        "发现 2 个问题，未写入任何数据。请在文件中改正后重新上传。"
    );
    let errors = report_rows(b, "错误").await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    let [row, column, value, reason] = &errors[0];
    assert_eq!(row, "3");
    assert!(column.contains("所在村(社区)代码"), "{column}");
    assert_eq!(value, "630121103999");
    assert!(!reason.is_empty());
    let [row, column, value, reason] = &errors[1];
    assert_eq!(row, "4");
    assert!(column.contains("从业人数"), "{column}");
    assert_eq!(value, "十八");
    assert!(!reason.is_empty());
    assert!(
        !b.has("form[action$='/apply']").await,
        "a file with errors cannot be applied"
    );
    b.assert_fits().await;

    let job = upload_units(b, &cx.app, "units-fixed.csv", UNITS_FIXED).await;
    assert_eq!(b.text("p.ok").await, "文件检查通过，尚未写入。请核对数量后确认导入。");
    assert!(report_rows(b, "错误").await.is_empty());
    b.assert_fits().await;
    b.click_to_next_page("form[action$='/apply'] button[type=submit]").await;
    b.wait_until("the import to be applied", move || async move {
        let shown = b.texts("p.ok").await;
        shown.iter().any(|t| t == "导入完成：数据已写入。").then_some(())
    })
    .await;
    let undo = b.with_text("a[href^='/import/runs/']", "撤销这次导入…").await;
    let run = undo
        .attr("href")
        .await
        .expect("the link's address")
        .expect("an address");
    b.assert_fits().await;

    b.goto("/units").await;
    let listed = listed_names(b).await;
    assert_eq!(listed.len(), 13, "10 units and the 3 imported: {listed:?}");
    for n in NEW_UNITS {
        assert!(listed.iter().any(|l| l == n), "{n} is listed after the import");
    }

    b.goto(&job).await;
    b.click_text_to_next_page("a[href^='/import/runs/']", "撤销这次导入…")
        .await;
    assert_eq!(b.path().await, run);
    b.assert_fits().await;
    b.click("input[type=checkbox][name=sure]").await;
    b.click_to_next_page("form[action$='/undo'] button.danger").await;
    assert_eq!(b.text("p.ok").await, "已撤销这次导入。");
    b.assert_fits().await;

    b.goto("/units").await;
    let listed = listed_names(b).await;
    assert_eq!(listed.len(), 10, "the imported units are gone: {listed:?}");
    for n in NEW_UNITS {
        assert!(!listed.iter().any(|l| l == n), "{n} is gone after the undo");
    }
}
