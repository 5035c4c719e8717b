//! Flow 5, the dispatch of cadres (SPEC C7) in the browser: a batch created through its form,
//! the plan run, a pair pinned (the plan goes out of date and cannot be confirmed until run
//! again), the plan run again with the pin kept, and the batch confirmed.
//!
//! The data are a small county demo (`generate::demo_with`, 1,000 members): its roster of
//! dispatched cadres, village needs and twinning; the batch is new and the demo's own batches
//! are left alone.

use ringline::generate;

use crate::app::COUNTY;
use crate::driver::{Browser, Ctx};
use crate::flows::{log_in_as_admin, report_rows};

at_both_widths!(plan_pin_and_confirm_a_batch);

/// The new batch's name.
const BATCH: &str = "2027年第一批驻村干部选派";

/// The plan's rows: (cadre, village) as the page shows them.
async fn plan_rows(b: &Browser) -> Vec<(String, String)> {
    let rows = b
        .js(
            "return Array.from(document.querySelectorAll('table.plan tbody tr'))
               .map(r => [r.cells[0].textContent.trim(), r.cells[2].textContent.trim()]);",
            vec![],
        )
        .await;
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or("").to_string(),
                r[1].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Flow 5: create, plan, pin, plan again, confirm.
async fn plan_pin_and_confirm_a_batch(cx: Ctx) {
    {
        let mut conn = cx.app.conn();
        generate::demo_with(&mut conn, COUNTY, 1000, &generate::Options::default()).expect("the demo");
    }
    let b = &cx.b;
    log_in_as_admin(b).await;
    b.goto("/dispatch").await;
    b.assert_fits().await;
    b.click_to_next_page("a.button[href='/dispatch/new']").await;
    assert_eq!(b.text("h1").await, "新建选派批次");
    b.assert_fits().await;

    b.fill("#f-name", BATCH).await;
    b.type_date("#f-reference_date", 2027, 3, 1).await;
    b.fill("#f-min_size", "5").await;
    b.fill("#f-max_size", "10").await;
    b.click_to_next_page("form.record-form button[type=submit]").await;
    let page = b.path().await;
    let id = page
        .strip_prefix("/dispatch/")
        .and_then(|p| p.strip_suffix("?saved=created"))
        .unwrap_or_else(|| panic!("the batch's page after saving, not {page}"))
        .to_string();
    assert_eq!(b.text("p.flash").await, "已保存：记录已创建。");
    assert_eq!(b.text("h1").await, BATCH);
    b.assert_fits().await;

    assert_eq!(fact(b, "状态").await, "草稿");
    assert!(
        !b.has("form[action$='/confirm']").await,
        "nothing to confirm before a plan"
    );

    b.click_to_next_page(&format!("form[action='/dispatch/{id}/run'] button"))
        .await;
    let plan = plan_rows(b).await;
    assert!((5..=10).contains(&plan.len()), "5 to 10 pairs: {plan:?}");
    assert!(b.has("form[action$='/confirm']").await, "a fresh plan may be confirmed");
    assert!(
        b.find_all("table.plan .tag.pinned").await.is_empty(),
        "nothing pinned yet"
    );
    b.assert_fits().await;

    // Pin the plan's last pair from its row.
    let pinned = plan.last().expect("a pair").clone();
    b.click_to_next_page("table.plan tbody tr:last-child form:has(input[name=kind][value=pin]) button")
        .await;
    assert_eq!(b.path().await, format!("/dispatch/{id}"));
    let rules = report_rows(b, "固定与排除的配对").await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    // The rule names the cadre as the plan does, and the village by name and code.
    let code = |village: &str| village.rsplit(' ').next().unwrap_or_default().to_string();
    assert_eq!(
        (rules[0][0].as_str(), code(&rules[0][1]), rules[0][2].as_str()),
        (pinned.0.as_str(), code(&pinned.1), "已固定"),
        "the rule names the pair: {rules:?}"
    );
    assert_eq!(code(&pinned.1).len(), 12, "a village code: {pinned:?}");
    assert_eq!(
        b.text("p.alert.outdated").await,
        "方案已过期：批次设置或固定、排除的配对在计算之后有改动。下面是上次计算的方案，请重新计算后再确认。"
    );
    assert!(
        !b.has("form[action$='/confirm']").await,
        "an outdated plan cannot be confirmed"
    );
    b.assert_fits().await;

    // Run again: the pinned pair is in the plan, marked.
    b.click_to_next_page(&format!("form[action='/dispatch/{id}/run'] button"))
        .await;
    assert!(!b.has("p.alert.outdated").await);
    let again = plan_rows(b).await;
    assert!(
        again.contains(&(format!("{} 已固定", pinned.0), pinned.1.clone())),
        "{pinned:?} in {again:?}"
    );
    assert_eq!(b.find_all("table.plan .tag.pinned").await.len(), 1);
    b.assert_fits().await;

    // Confirm, the box ticked (the browser holds the form back until then).
    b.click("input[type=checkbox][name=understood]").await;
    b.click_to_next_page("form[action$='/confirm'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, format!("/dispatch/{id}"));
    assert_eq!(fact(b, "状态").await, "已确认");
    assert!(!fact(b, "确认于").await.is_empty(), "the confirmation is dated");
    for gone in ["/run", "/confirm", "/rules"] {
        assert!(
            !b.has(&format!("form[action$='{gone}']")).await,
            "a confirmed batch has no {gone} form"
        );
    }
    assert_eq!(plan_rows(b).await, again, "the confirmed plan is the last one run");
    b.assert_fits().await;
}

/// The value of the fact `label` of the page's `dl.facts`.
async fn fact(b: &Browser, label: &str) -> String {
    let v = b
        .js(
            "for (const dt of document.querySelectorAll('dl.facts dt')) {
               if (dt.textContent.trim() === arguments[0]) {
                 return dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : '';
               }
             }
             return null;",
            vec![serde_json::json!(label)],
        )
        .await;
    v.as_str().unwrap_or_else(|| panic!("no fact {label}")).to_string()
}
