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

on_both_backends!(demo_batch_on_the_web, residency_on_the_web);

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
    let (status, batches) = viewer.get_json("/api/v1/dispatch/batches").await;
    assert_eq!(status, 200);
    assert_eq!(batches.as_array().map(Vec::len), Some(2), "{batches}");

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

    // Forbid the first pair: the plan is cleared; Run finds another without it.
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
    assert!(pairs(&plan).is_empty(), "{plan}");
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

    // Removing the forbidden mark clears the plan again.
    let r = admin
        .post_form(
            &format!("/dispatch/{id}/rules/remove"),
            &[("cadre_id", &c0.to_string()), ("village", &v0)],
        )
        .await;
    assert_eq!(r.status, 303);
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert!(pairs(&plan).is_empty());

    // Confirming without a plan is refused; after a run it creates one residency per pair.
    assert_eq!(
        admin.post_form(&format!("/dispatch/{id}/confirm"), &[]).await.status,
        422
    );
    assert_eq!(admin.post_form(&format!("/dispatch/{id}/run"), &[]).await.status, 303);
    let (_, plan) = admin.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    let n = pairs(&plan).len() as i64;
    assert_eq!(
        admin.post_form(&format!("/dispatch/{id}/confirm"), &[]).await.status,
        303
    );
    let b = batch::batch(&mut app.conn(), &Access::system(), id)
        .expect("read")
        .expect("batch");
    assert_eq!(b.status, "confirmed");
    assert_eq!(b.residencies, n);
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
