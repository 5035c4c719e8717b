//! Dispatch pages and API (SPEC C7) over HTTP, on the generated Datong demo: the demo batch's
//! page shows its 20–30 pairs, each explained; Run, Pin and Forbid change the stored plan; only
//! a county administrator changes anything; confirming creates one residency per pair.

use ringline::access::Access;
use ringline::cadres::batch;
use ringline::cadres::residency::{self, LeaveFilter, ResidencyFilter};
use ringline::cadres::{self, AgeRule, CadreFilter};
use ringline::generate;
use serde_json::Value;

use crate::calls::add_user;
use crate::datong;
use crate::harness::TestApp;

on_both_backends!(demo_batch_on_the_web, residency_on_the_web, dispatch_exports);

const DONGXIA: &str = "630121103000";

/// (cadre, village, score, pinned) of each pair of the plan answered by the API.
fn pairs(plan: &Value) -> Vec<(i64, String, i64, bool)> {
    plan["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p["cadre"].as_i64().expect("cadre"),
                p["village"].as_str().expect("village").to_string(),
                p["score"].as_i64().expect("score"),
                p["pinned"].as_bool().expect("pinned"),
            )
        })
        .collect()
}

async fn demo_batch_on_the_web(app: TestApp) {
    let id = {
        let mut conn = app.conn();
        generate::demo(&mut conn, datong::COUNTY).expect("demo");
        add_user(&mut conn, "viewer1", "viewer-pass-123", "viewer", datong::COUNTY, None);
        batch::default_batch(&mut conn, &Access::system())
            .expect("read")
            .expect("the demo batch")
            .id
    };
    let (town_cadre, outside_cadre) = {
        let mut conn = app.conn();
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
        let (all, _) = cadres::cadres(
            &mut conn,
            &Access::system(),
            &CadreFilter::default(),
            AgeRule::today(),
            1_000,
            0,
        )
        .expect("roster");
        let inside = all.iter().find(|c| c.division_code.starts_with("630121103"));
        let outside = all.iter().find(|c| !c.division_code.starts_with("630121103"));
        (inside.map(|c| c.id), outside.expect("a cadre outside 东峡镇").id)
    };
    let admin = app.admin().await;
    let viewer = app.session("viewer1", "viewer-pass-123").await;

    // The list links to the batch.
    let list = admin.get("/dispatch").await;
    assert_eq!(list.status, 200);
    let text = list.text();
    assert!(text.contains(generate::DEMO_BATCH), "{text}");
    assert!(text.contains(&format!("href=\"/dispatch/{id}\"")));
    // The batches' list is the record kind's (`/api/v1/dispatch`).
    let (status, batches) = viewer.get_json("/api/v1/dispatch").await;
    assert_eq!(status, 200);
    assert_eq!(batches["items"].as_array().map(Vec::len), Some(2), "{batches}");

    // The stored plan: 20–30 pairs, each with a breakdown adding up to its score.
    let (status, plan) = viewer.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert_eq!(status, 200, "{plan}");
    let first = pairs(&plan);
    assert!((20..=30).contains(&first.len()), "{}", first.len());
    let mut total = 0;
    for p in plan["pairs"].as_array().expect("pairs") {
        let score = p["score"].as_i64().expect("score");
        let parts: i64 = p["breakdown"]["skills"]
            .as_array()
            .expect("skills")
            .iter()
            .map(|s| s["points"].as_i64().expect("points"))
            .sum::<i64>()
            + p["breakdown"]["twinning"].as_i64().expect("twinning");
        assert_eq!(parts, score, "{p}");
        assert_eq!(p["village"].as_str().map(str::len), Some(12));
        total += score;
    }
    assert_eq!(plan["total_score"].as_i64(), Some(total));

    // The page: every pair with its explanation, the total, and the buttons for the admin only.
    let page = admin.get(&format!("/dispatch/{id}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(html.matches("<ul class=\"parts\">").count(), first.len());
    assert!(html.contains(&format!("共 {} 对，总分 {total}", first.len())), "{html}");
    assert!(html.contains("重新计算") && html.contains("确认选派") && html.contains("固定"));
    assert!(html.contains("优先级"));
    let seen = viewer.get(&format!("/dispatch/{id}")).await;
    assert_eq!(seen.status, 200);
    assert!(!seen.text().contains("重新计算"));
    assert_eq!(seen.text().matches("<ul class=\"parts\">").count(), first.len());

    // The roster: masked ID numbers; a town admin sees only the cadres of the town.
    let roster = viewer.get("/cadres").await;
    assert_eq!(roster.status, 200);
    assert!(roster.text().contains("<a href=\"/cadres/"));
    let detail = admin.get(&format!("/cadres/{outside_cadre}")).await;
    assert_eq!(detail.status, 200);
    assert!(detail.text().contains("*"), "masked ID number");
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    assert_eq!(town.get(&format!("/cadres/{outside_cadre}")).await.status, 404);
    if let Some(inside) = town_cadre {
        assert_eq!(town.get(&format!("/cadres/{inside}")).await.status, 200);
    }
    assert_eq!(town.get("/cadres").await.status, 200);

    // A viewer may not run, pin or confirm.
    assert_eq!(viewer.post_form(&format!("/dispatch/{id}/run"), &[]).await.status, 403);
    let api = viewer
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/dispatch/batches/{id}/run"),
            None,
        )
        .await;
    assert_eq!(api.status, 403);
    assert_eq!(api.error_code(), "forbidden");
    assert_eq!(
        viewer.post_form(&format!("/dispatch/{id}/confirm"), &[]).await.status,
        403
    );

    // Forbid the first pair: the last plan stays, marked out of date (and the page shows it so,
    // without the confirmation); Run finds another without it.
    let (c0, v0, _, _) = first[0].clone();
    let (_, v1, _, _) = first[1].clone();
    let r = admin
        .post_form(
            &format!("/dispatch/{id}/rules"),
            &[("cadre_id", &c0.to_string()), ("village", &v0), ("kind", "forbid")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert_eq!(pairs(&plan), first, "the last plan stays: {plan}");
    assert_eq!(plan["outdated"].as_bool(), Some(true), "{plan}");
    let html = admin.get(&format!("/dispatch/{id}")).await.text();
    assert!(html.contains("方案已过期") && !html.contains("还没有方案"), "{html}");
    assert!(
        !html.contains("确认选派"),
        "an out-of-date plan is not offered for confirmation"
    );
    assert_eq!(admin.post_form(&format!("/dispatch/{id}/run"), &[]).await.status, 303);
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    let after = pairs(&plan);
    assert!((20..=30).contains(&after.len()));
    assert!(
        !after.iter().any(|p| p.0 == c0 && p.1 == v0),
        "the forbidden pair is planned"
    );
    assert!(plan["total_score"].as_i64() <= Some(total));
    assert!(admin.get(&format!("/dispatch/{id}")).await.text().contains("已排除"));

    // Pin the first cadre to the second pair's village: the API run plans it, marked pinned.
    let r = admin
        .post_form(
            &format!("/dispatch/{id}/rules"),
            &[("cadre_id", &c0.to_string()), ("village", &v1), ("kind", "pin")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let a = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/dispatch/batches/{id}/run"),
            None,
        )
        .await;
    let (status, plan) = (a.status, a.json());
    assert_eq!(status, 200, "{plan}");
    let pinned = pairs(&plan);
    assert!(pinned.iter().any(|p| p.0 == c0 && p.1 == v1 && p.3), "{plan}");
    let html = admin.get(&format!("/dispatch/{id}")).await.text();
    assert!(html.contains("<span class=\"tag pinned\">"));

    // Removing the forbidden mark leaves the plan out of date again.
    let r = admin
        .post_form(
            &format!("/dispatch/{id}/rules/remove"),
            &[("cadre_id", &c0.to_string()), ("village", &v0)],
        )
        .await;
    assert_eq!(r.status, 303);
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert_eq!(plan["outdated"].as_bool(), Some(true), "{plan}");

    // Confirming an out-of-date plan is refused; after a run, confirming without ticking that
    // it cannot be undone is refused, and with it creates one residency per pair.
    let tick = [("understood", "yes")];
    assert_eq!(
        admin.post_form(&format!("/dispatch/{id}/confirm"), &tick).await.status,
        422
    );
    assert_eq!(admin.post_form(&format!("/dispatch/{id}/run"), &[]).await.status, 303);
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert_eq!(plan["outdated"].as_bool(), Some(false), "{plan}");
    let n = pairs(&plan).len() as i64;
    let html = admin.get(&format!("/dispatch/{id}")).await.text();
    let (plan_at, confirm_at) = (html.find("class=\"plan"), html.find("name=\"understood\""));
    assert!(
        plan_at.is_some() && confirm_at.is_some() && plan_at < confirm_at,
        "the confirmation comes after the plan"
    );
    let unticked = admin.post_form(&format!("/dispatch/{id}/confirm"), &[]).await;
    assert_eq!(unticked.status, 422);
    assert!(unticked.text().contains("不能撤销"), "{}", unticked.text());
    assert_eq!(
        batch::batch(&mut app.conn(), &Access::system(), id)
            .expect("read")
            .expect("batch")
            .status,
        "draft",
        "nothing was confirmed"
    );
    assert_eq!(
        admin.post_form(&format!("/dispatch/{id}/confirm"), &tick).await.status,
        303
    );
    let b = batch::batch(&mut app.conn(), &Access::system(), id)
        .expect("read")
        .expect("batch");
    assert_eq!(b.status, "confirmed");
    assert_eq!(b.residencies, Some(n));
    // The confirmed cadre's page lists the residency.
    let history = admin.get(&format!("/cadres/{c0}")).await.text();
    assert!(history.contains(&format!("href=\"/dispatch/{id}\"")), "{history}");
    let html = admin.get(&format!("/dispatch/{id}")).await.text();
    assert!(html.contains("已确认") && !html.contains("重新计算"));
    assert_eq!(admin.post_form(&format!("/dispatch/{id}/run"), &[]).await.status, 422);
}

async fn residency_on_the_web(app: TestApp) {
    let r = {
        let mut conn = app.conn();
        generate::demo(&mut conn, datong::COUNTY).expect("demo");
        let (list, _) = residency::residencies(&mut conn, &Access::system(), &ResidencyFilter::default(), 1, 0)
            .expect("residencies");
        let r = list.into_iter().next().expect("the demo has residencies");
        let town = format!("{}000", &r.village_code[..9]);
        add_user(&mut conn, "town1", "town-pass-1234", "town-admin", &town, None);
        add_user(&mut conn, "viewer1", "viewer-pass-123", "viewer", datong::COUNTY, None);
        r
    };
    let id = r.id;
    let admin = app.admin().await;
    let town = app.session("town1", "town-pass-1234").await;
    let viewer = app.session("viewer1", "viewer-pass-123").await;

    let page = town.get(&format!("/residencies/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("name=\"content\""));
    assert!(
        !viewer
            .get(&format!("/residencies/{id}"))
            .await
            .text()
            .contains("name=\"content\"")
    );

    // A work log entry.
    let day = (r.start_date + chrono::Days::new(3)).to_string();
    let a = town
        .post_form(
            &format!("/residencies/{id}/logs"),
            &[("date", &day), ("content", "走访脱贫户，了解春耕需求")],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert!(
        town.get(&format!("/residencies/{id}"))
            .await
            .text()
            .contains("走访脱贫户，了解春耕需求")
    );
    let denied = viewer
        .post_form(&format!("/residencies/{id}/logs"), &[("date", &day), ("content", "x")])
        .await;
    assert_eq!(denied.status, 403);

    // Attendance under 20 days is flagged.
    let month = r.start_date.format("%Y-%m").to_string();
    let a = town
        .post_form(
            &format!("/residencies/{id}/attendance"),
            &[("month", &month), ("days", "15")],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let html = town.get(&format!("/residencies/{id}")).await.text();
    assert!(html.contains("未满20天"), "{html}");

    // Leave: the town decides 2 days, not 5.
    let d = |n: u64| (r.start_date + chrono::Days::new(n)).to_string();
    for (start, end) in [(d(40), d(41)), (d(50), d(54))] {
        let a = town
            .post_form(
                &format!("/residencies/{id}/leave"),
                &[("start", &start), ("end", &end), ("reason", "家中有事")],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text());
    }
    let leave = residency::leave_requests(
        &mut app.conn(),
        &Access::system(),
        &LeaveFilter {
            residency_id: Some(id),
            status: Some("pending".into()),
            ..Default::default()
        },
    )
    .expect("leave");
    let two = leave.iter().find(|l| l.days == 2).expect("2-day request").id;
    let five = leave.iter().find(|l| l.days == 5).expect("5-day request").id;
    let board = town.get("/residencies").await;
    assert_eq!(board.status, 200);
    let board = board.text();
    assert!(board.contains(&format!("action=\"/leave/{two}/decide\"")));
    assert!(!board.contains(&format!("action=\"/leave/{five}/decide\"")));
    assert_eq!(
        town.post_form(&format!("/leave/{five}/decide"), &[("decision", "approve")])
            .await
            .status,
        403
    );
    let a = town
        .post_form(&format!("/leave/{two}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(
        viewer
            .post_form(&format!("/leave/{five}/decide"), &[("decision", "approve")])
            .await
            .status,
        403
    );
    let a = admin
        .post_form(&format!("/leave/{five}/decide"), &[("decision", "approve")])
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let html = admin.get(&format!("/residencies/{id}")).await.text();
    assert_eq!(html.matches("已批准").count(), 2, "{html}");

    // The county evaluates; the town may not.
    assert_eq!(
        town.post_form(&format!("/residencies/{id}/evaluation"), &[("grade", "competent")])
            .await
            .status,
        403
    );
    let a = admin
        .post_form(
            &format!("/residencies/{id}/evaluation"),
            &[("grade", "excellent"), ("comment", "群众认可")],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let html = admin.get(&format!("/residencies/{id}")).await.text();
    assert!(html.contains("优秀") && html.contains("群众认可"));
}

/// The roster, needs, plan and work-log exports: what the data layer gives each caller, masked,
/// the needs export importable back unchanged, and nothing outside a town admin's scope.
async fn dispatch_exports(app: TestApp) {
    use ringline::import::framework::{self, OnExisting, Options};
    let (id, roster, needs, logs) = {
        let mut conn = app.conn();
        generate::demo(&mut conn, datong::COUNTY).expect("demo");
        add_user(&mut conn, "dongxia1", "dongxia-pass-123", "town-admin", DONGXIA, None);
        let sys = Access::system();
        let id = batch::default_batch(&mut conn, &sys).expect("read").expect("batch").id;
        let (roster, _) =
            cadres::cadres(&mut conn, &sys, &CadreFilter::default(), AgeRule::today(), 10_000, 0).expect("roster");
        let needs = cadres::needs(&mut conn, &sys, None).expect("needs");
        let (res, _) =
            residency::residencies(&mut conn, &sys, &ResidencyFilter::default(), 10_000, 0).expect("residencies");
        let logs: Vec<(String, String)> = res
            .iter()
            .flat_map(|r| {
                let (l, _) = residency::work_logs(&mut app.conn(), &sys, r.id, 100_000, 0).expect("logs");
                l.into_iter()
                    .map(|l| (r.village_code.clone(), l.content))
                    .collect::<Vec<_>>()
            })
            .collect();
        (id, roster, needs, logs)
    };
    let admin = app.admin().await;
    let town = app.session("dongxia1", "dongxia-pass-123").await;
    let cells = |a: &crate::harness::Answer| {
        assert_eq!(a.status, 200, "{}", a.text());
        crate::harness::xlsx_cells(&a.body)
    };

    // Roster: one row per cadre, ID numbers masked; the town admin gets the town's cadres.
    // (The record kind's export: a number column first, then the kind's columns.)
    let all = cells(&admin.get("/cadres.xlsx").await);
    assert_eq!(all.len(), 1 + roster.len());
    let id_col = all[0]
        .iter()
        .position(|h| h == "公民身份号码")
        .expect("the ID number column");
    assert!(
        all[1..]
            .iter()
            .all(|r| r[id_col].len() == 18 && r[id_col].contains('*')),
        "{all:?}"
    );
    let mine = cells(&town.get("/cadres.xlsx").await);
    let in_town = roster
        .iter()
        .filter(|c| c.division_code.starts_with("630121103"))
        .count();
    assert_eq!(mine.len(), 1 + in_town);

    // Needs: one row per village and skill, headed like the needs import (after the number
    // column of the record kind's export, with the village's and town's names beside).
    let n = cells(&admin.get("/needs.xlsx").await);
    let expected: usize = needs.iter().map(|v| v.needs.len()).sum();
    assert!(expected > 0);
    assert_eq!(n.len(), 1 + expected);
    assert_eq!(
        (n[0][1].as_str(), n[0][4].as_str(), n[0][5].as_str()),
        ("村代码", "需求专长", "优先级")
    );
    let town_needs = cells(&town.get("/needs.xlsx").await);
    let expected_town: usize = needs
        .iter()
        .filter(|v| v.village_code.starts_with("630121103"))
        .map(|v| v.needs.len())
        .sum();
    assert_eq!(town_needs.len(), 1 + expected_town);
    assert!(town_needs[1..].iter().all(|r| r[1].starts_with("630121103")));
    // Imported back, every row matches; as these are demo records, a real import would update
    // each one only to clear its demo mark (the values are the same).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("needs.xlsx");
    std::fs::write(&path, &admin.get("/needs.xlsx").await.body).expect("write");
    let (report, _) = framework::import_file(
        &mut app.conn(),
        &Access::system(),
        ringline::import::spec::kind("needs").expect("needs kind"),
        &path,
        "needs.xlsx",
        Options {
            on_existing: OnExisting::Update,
            apply: false,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("import runs");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.unchanged, report.new, report.updated), (0, 0, expected));

    // Plan: one row per pair and a total row equal to the API's total.
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    let p = cells(&admin.get(&format!("/dispatch/{id}/plan.xlsx")).await);
    let planned = pairs(&plan);
    assert_eq!(p.len(), 1 + planned.len() + 1);
    let total: i64 = p[1..=planned.len()]
        .iter()
        .map(|r| r[8].parse::<i64>().expect("score"))
        .sum();
    assert_eq!(Some(total), plan["total_score"].as_i64());
    // 序号 first, then the plan's columns; scores are numbers.
    assert_eq!(p.last().expect("total row")[11], total.to_string());
    let codes: Vec<String> = p[1..=planned.len()].iter().map(|r| r[1].clone()).collect();
    let mut api_codes: Vec<String> = planned.iter().map(|q| q.1.clone()).collect();
    api_codes.sort();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, api_codes);
    // The town admin sees the plan's pairs with the villages outside the town withheld (code,
    // name and town), and no total row: the total counts pairs outside the town.
    let tp = cells(&town.get(&format!("/dispatch/{id}/plan.xlsx")).await);
    assert!(tp.len() > 1, "the town's cadres and villages have pairs");
    assert!(tp.iter().all(|r| r[1] != "总分"), "no total row");
    for r in &tp[1..] {
        assert!(
            r[1].starts_with("630121103") || (r[1].is_empty() && r[2].is_empty() && r[3].is_empty()),
            "{r:?}"
        );
    }
    assert_eq!(town.get("/dispatch/999999/plan.xlsx").await.status, 404);

    // Work logs (the record kind's export, `/work_logs.xlsx`): every entry once; the town
    // admin only the town's.
    let l = cells(&admin.get("/work_logs.xlsx").await);
    assert_eq!(l.len(), 1 + logs.len());
    let tl = cells(&town.get("/work_logs.xlsx").await);
    assert_eq!(
        tl.len(),
        1 + logs.iter().filter(|(v, _)| v.starts_with("630121103")).count()
    );
    let code_col = tl[0]
        .iter()
        .position(|h| h == "村代码")
        .expect("the village code column");
    assert!(tl[1..].iter().all(|r| r[code_col].starts_with("630121103")));
}
