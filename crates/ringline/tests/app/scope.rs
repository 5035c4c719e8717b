//! The limits of a scope, reproduced on the Datong demo and the registry fixtures (findings of a
//! review against the release binary): a zone scope reaches its villages, not their towns' own
//! records; acting on a dispatch batch needs a scope covering its county; an import does not tell
//! the importer who is registered elsewhere (held rows); batch plans and the audit log withhold
//! what lies outside the reader's scope.

use std::collections::BTreeSet;

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use ringline::access::Access;
use ringline::cadres::batch;
use ringline::cadres::{self, AgeRule, CadreFilter};
use ringline::db::schema::{
    audit_log, batch_pairs, batch_rules, cadres as cadre_t, dispatch_batches, held_rows, members, party_orgs,
    residencies, units,
};
use ringline::generate;
use serde_json::{Value, json};

use crate::calls::{self, add_user};
use crate::datong::{self, COUNTY, DONGXIA, TAER};
use crate::harness::{Answer, Session, TestApp, xlsx_cells};

on_both_backends!(
    a_zone_reaches_its_villages_not_their_towns,
    acting_on_a_batch_needs_the_whole_county,
    an_import_does_not_tell_who_is_registered_elsewhere,
    plans_and_the_audit_log_withhold_what_lies_outside,
);

/// 城关镇.
const CHENGGUAN: &str = "630121101000";
/// 韩玉兰 of the registry fixtures: a member of FZ-CG-001 (城关镇, at 佰胜社区 630121101001).
const HAN_YULAN: &str = "630121200002290648";
/// A number nobody has, masked exactly like 韩玉兰's (`6301**********0648`): GB 11643-valid,
/// 1990-01-07, female (17th digit 4).
const NEW_LIKE_HAN: &str = "630121199001070648";
/// 李秀兰 of the cadre fixture: a town cadre of 城关镇.
const LI_XIULAN: &str = "630121198803028623";
/// A number nobody has, masked like 李秀兰's (`6301**********8623`): 1991-01-02, female.
const NEW_LIKE_LI: &str = "630121199101028623";

/// `POST /api/v1/import/{kind}` with a CSV body.
async fn import_api(s: &Session, kind: &str, file: &str, csv: &str, apply: bool, update: bool) -> Answer {
    let path = format!(
        "/api/v1/import/{kind}?filename={file}&apply={apply}&on_existing={}",
        if update { "update" } else { "skip" }
    );
    let r = s
        .client
        .post(s.url(&path))
        .header("X-CSRF-Token", s.csrf.clone())
        .body(csv.to_string())
        .send()
        .await
        .expect("API import");
    Answer::of(r).await
}

fn audit_count(conn: &mut ringline::db::DbConn) -> i64 {
    audit_log::table.count().get_result(conn).expect("count audit")
}

/// The division codes of a list answer's items.
fn item_divisions(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["division_code"].as_str().expect("division_code").to_string())
        .collect()
}

/// A town admin scoped to the ring zone, which holds one village of 塔尔镇 (河州庄村; datong.rs),
/// sees, unmasks, lists and re-imports only the records of the zone's villages: the demo's
/// 塔尔镇 town-level records (its government, committee and their members) answer like missing
/// ones, and a re-import of a town unit changes nothing.
async fn a_zone_reaches_its_villages_not_their_towns(app: TestApp) {
    let (zone, villages, member, unit) = {
        let mut conn = app.conn();
        generate::demo(&mut conn, COUNTY).expect("demo");
        let pid = calls::datong_program_id(&mut conn);
        let ring = calls::zones_of(&mut conn, pid)[0].id;
        let villages: BTreeSet<String> = calls::zone_members(&mut conn, ring)
            .into_iter()
            .map(|m| m.code)
            .collect();
        assert_eq!(villages.len() as i64, datong::ZONE_MEMBER_COUNTS[0]);
        assert_eq!(
            villages.iter().filter(|v| v.starts_with("630121102")).count(),
            1,
            "one village of 塔尔镇"
        );
        add_user(
            &mut conn,
            "ring.admin",
            "ring-admin-pass",
            "town-admin",
            &format!("zone:{ring}"),
            None,
        );
        let member: i64 = members::table
            .filter(members::division_code.eq(TAER))
            .select(members::id)
            .first(&mut conn)
            .expect("the demo has members of 塔尔镇's town organizations");
        let unit: (i64, String, String, String, Option<i32>) = units::table
            .filter(units::division_code.eq(TAER))
            .filter(units::credit_code.is_not_null())
            .select((
                units::id,
                units::name,
                units::kind,
                units::credit_code.assume_not_null(),
                units::headcount,
            ))
            .first(&mut conn)
            .expect("the demo has units of 塔尔镇 at the town's code");
        (ring, villages, member, unit)
    };
    let s = app.session("ring.admin", "ring-admin-pass").await;
    let list: Vec<String> = villages.iter().cloned().collect();

    // The town-level member answers like a missing one, and nothing is unmasked or audited.
    let audit_before = audit_count(&mut app.conn());
    for path in [
        format!("/api/v1/members/{member}/unmask"),
        format!("/members/{member}/unmask"),
    ] {
        let a = if path.starts_with("/api/") {
            s.send(Method::POST, &path, None).await
        } else {
            s.post_form(&path, &[]).await
        };
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.text());
    }
    assert_eq!(
        s.get(&format!("/api/v1/members/{member}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get(&format!("/api/v1/units/{}", unit.0)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(audit_count(&mut app.conn()), audit_before, "nothing unmasked");

    // The lists hold exactly the records of the zone's villages (counted straight from the
    // tables).
    let mut conn = app.conn();
    let expected_members: i64 = members::table
        .filter(members::division_code.eq_any(&list))
        .count()
        .get_result(&mut conn)
        .expect("count");
    let expected_units: i64 = units::table
        .filter(units::division_code.eq_any(&list))
        .count()
        .get_result(&mut conn)
        .expect("count");
    let expected_orgs: i64 = party_orgs::table
        .filter(party_orgs::division_code.eq_any(&list))
        .count()
        .get_result(&mut conn)
        .expect("count");
    drop(conn);
    for (path, expected) in [
        ("/api/v1/members?limit=1000", expected_members),
        ("/api/v1/units?limit=1000", expected_units),
        ("/api/v1/orgs?limit=1000", expected_orgs),
    ] {
        let (status, body) = s.get_json(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["total"].as_i64(), Some(expected), "{path}");
        let outside: BTreeSet<String> = item_divisions(&body)
            .into_iter()
            .filter(|d| !villages.contains(d))
            .collect();
        assert!(outside.is_empty(), "{path} lists records at {outside:?}");
    }
    // The towns are still named for context: the division page of 塔尔镇 answers.
    assert_eq!(s.get(&format!("/divisions/{TAER}")).await.status, StatusCode::OK);

    // The roster export lists no cadre of a town (the demo's town cadres are keyed by their town).
    let rows = xlsx_cells(&s.get("/cadres.xlsx").await.body);
    let (roster, _) = cadres::cadres(
        &mut app.conn(),
        &Access::system(),
        &CadreFilter::default(),
        AgeRule::today(),
        10_000,
        0,
    )
    .expect("roster");
    let in_zone = roster.iter().filter(|c| villages.contains(&c.division_code)).count();
    assert_eq!(
        rows.len(),
        1 + in_zone,
        "the header and the cadres keyed by a zone village"
    );

    // Re-importing the town unit with a new address and headcount is refused and writes nothing.
    let csv = format!(
        "单位名称,单位类型,统一社会信用代码,所在村(社区)代码,地址,从业人数\n{},{},{},{TAER},改过的地址,999\n",
        unit.1, unit.2, unit.3
    );
    for apply in [false, true] {
        let a = import_api(&s, "units", "units.csv", &csv, apply, true).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
        let r = a.json();
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["applied"], false);
        assert_eq!(r["updated"], 0);
        assert_eq!(r["errors"][0]["key"], "outside-scope", "{r}");
    }
    let (address, headcount): (String, Option<i32>) = units::table
        .find(unit.0)
        .select((units::address, units::headcount))
        .first(&mut app.conn())
        .expect("unit");
    assert_ne!(address, "改过的地址");
    assert_eq!(headcount, unit.4);
    let _ = zone;
}

/// A county administrator scoped to one town, and one scoped to a zone, may read the county's
/// demo batch but not run, pin, forbid or confirm it: 403, and nothing is written.
async fn acting_on_a_batch_needs_the_whole_county(app: TestApp) {
    let id = {
        let mut conn = app.conn();
        generate::demo(&mut conn, COUNTY).expect("demo");
        let ring = calls::zone_id(&mut conn, "城关线");
        add_user(
            &mut conn,
            "town.county",
            "town-county-pass",
            "county-admin",
            DONGXIA,
            None,
        );
        add_user(
            &mut conn,
            "zone.county",
            "zone-county-pass",
            "county-admin",
            &format!("zone:{ring}"),
            None,
        );
        batch::default_batch(&mut conn, &Access::system())
            .expect("read")
            .expect("the demo's draft batch")
            .id
    };
    let state = |app: &TestApp| {
        let mut conn = app.conn();
        let planned: Option<chrono::NaiveDateTime> = dispatch_batches::table
            .find(id)
            .select(dispatch_batches::planned_at)
            .first(&mut conn)
            .expect("batch");
        let pairs: i64 = batch_pairs::table
            .filter(batch_pairs::batch_id.eq(id))
            .count()
            .get_result(&mut conn)
            .expect("pairs");
        let rules: i64 = batch_rules::table.count().get_result(&mut conn).expect("rules");
        let stays: i64 = residencies::table.count().get_result(&mut conn).expect("residencies");
        (planned, pairs, rules, stays, audit_count(&mut conn))
    };
    let before = state(&app);
    assert!(before.1 > 0, "the demo batch has a stored plan");
    let village = {
        let plan = batch::stored_plan(&mut app.conn(), &Access::system(), id)
            .expect("read")
            .expect("plan");
        (
            plan.pairs[0].cadre_id.to_string(),
            plan.pairs[0]
                .village_code
                .clone()
                .expect("the system sees every village"),
        )
    };
    for (user, password) in [("town.county", "town-county-pass"), ("zone.county", "zone-county-pass")] {
        let s = app.session(user, password).await;
        let run = s
            .send(Method::POST, &format!("/api/v1/dispatch/batches/{id}/run"), None)
            .await;
        assert_eq!(run.status, StatusCode::FORBIDDEN, "{user}: {}", run.text());
        assert_eq!(run.error_code(), "forbidden");
        for (path, form) in [
            (format!("/dispatch/{id}/run"), vec![]),
            (
                format!("/dispatch/{id}/rules"),
                vec![
                    ("cadre_id", village.0.as_str()),
                    ("village", village.1.as_str()),
                    ("kind", "pin"),
                ],
            ),
            (
                format!("/dispatch/{id}/rules/remove"),
                vec![("cadre_id", village.0.as_str()), ("village", village.1.as_str())],
            ),
            (format!("/dispatch/{id}/confirm"), vec![]),
        ] {
            let a = s.post_form(&path, &form).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{user} {path}");
        }
        // Reading stays: the batch page, without the buttons.
        let page = s.get(&format!("/dispatch/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{user}");
        assert!(
            !page.text().contains(&format!("action=\"/dispatch/{id}/run\"")),
            "{user}"
        );
    }
    assert_eq!(state(&app), before, "nothing written");
}

/// The dry-run and applied reports of a member (and a cadre) row whose ID number belongs to a
/// record in another town are byte-identical, file name apart, to those of a number nobody has;
/// nothing is written to the record; the county sees the held rows (masked, both sides named)
/// and transfers or discards them, each audited; nobody else sees them.
async fn an_import_does_not_tell_who_is_registered_elsewhere(app: TestApp) {
    {
        let mut conn = app.conn();
        crate::registry_web::load_registry(&mut conn);
        use ringline::import::{framework, spec};
        let (r, _) = framework::import_file(
            &mut conn,
            &Access::system(),
            spec::kind("cadres").expect("kind"),
            &crate::harness::fixture("dispatch/cadres.csv"),
            "cadres.csv",
            framework::Options {
                apply: true,
                ..Default::default()
            },
            &mut |_, _, _| {},
        )
        .expect("import runs");
        assert!(r.applied, "{:?}", r.errors);
        add_user(&mut conn, "dx.admin", "dx-admin-pass", "town-admin", DONGXIA, None);
        add_user(&mut conn, "dx.viewer", "dx-viewer-pass", "viewer", DONGXIA, None);
        add_user(&mut conn, "cg.admin", "cg-admin-pass", "town-admin", CHENGGUAN, None);
        add_user(&mut conn, "county.viewer", "county-viewer-pass", "viewer", COUNTY, None);
    }
    let town = app.session("dx.admin", "dx-admin-pass").await;
    let members_file =
        |number: &str| format!("姓名,公民身份号码,党员类别,所在党组织\n韩玉兰,{number},正式党员,630121103201\n");
    let cadres_file = |number: &str| format!("姓名,公民身份号码,派出单位,专长\n李秀兰,{number},东峡镇,畜牧养殖\n");
    // A report with its file names (and the import's number, a sequence both imports draw from)
    // blanked.
    let without_file = |mut v: Value| {
        v["file"] = json!("");
        if v.get("run_id").is_some() {
            v["run_id"] = json!(null);
        }
        for list in ["errors", "warnings"] {
            if let Some(items) = v[list].as_array_mut() {
                for i in items {
                    i["file"] = json!("");
                }
            }
        }
        v.to_string()
    };
    // A work log naming a cadre of another town is answered like one naming a number nobody has
    // (before the cadre rows below add that number to 东峡镇's roster).
    let log = |number: &str| format!("公民身份号码,日期,工作内容\n{number},2026-11-05,走访农户。\n");
    let held = import_api(&town, "work_logs", "held.csv", &log(LI_XIULAN), false, false).await;
    let new = import_api(&town, "work_logs", "new.csv", &log(NEW_LIKE_LI), false, false).await;
    let (h, n) = (held.json(), new.json());
    assert_eq!(n["errors"][0]["key"], "cadre-not-found", "{n}");
    assert_eq!(without_file(h.clone()), without_file(n.clone()), "work logs: {h} / {n}");
    for (kind, file, stored, fresh) in [
        ("members", members_file as fn(&str) -> String, HAN_YULAN, NEW_LIKE_HAN),
        ("cadres", cadres_file as fn(&str) -> String, LI_XIULAN, NEW_LIKE_LI),
    ] {
        for apply in [false, true] {
            let audit_before = crate::calls::audit_rows(&mut app.conn()).len();
            let held = import_api(&town, kind, "held.csv", &file(stored), apply, false).await;
            let new = import_api(&town, kind, "new.csv", &file(fresh), apply, false).await;
            assert_eq!((held.status, new.status), (StatusCode::OK, StatusCode::OK));
            let (h, n) = (held.json(), new.json());
            assert_eq!(
                (n["ok"].clone(), n["new"].clone(), n["applied"].clone()),
                (json!(true), json!(1), json!(apply))
            );
            assert_eq!(
                without_file(h.clone()),
                without_file(n.clone()),
                "{kind} apply={apply}: {h} / {n}"
            );
            // The two imports' audit entries differ only by the file name too.
            let entries: Vec<String> = crate::calls::audit_rows(&mut app.conn())
                .into_iter()
                .skip(audit_before)
                .map(|e| {
                    format!(
                        "{} {} {} {}",
                        e.action,
                        e.entity,
                        e.scope,
                        without_run(&e.detail.replace("held.csv", "new.csv"))
                    )
                })
                .collect();
            assert_eq!(entries.len(), if apply { 2 } else { 0 }, "{entries:?}");
            if apply {
                assert_eq!(entries[0], entries[1]);
            }
        }
    }
    // Nothing was written to the records: 韩玉兰 is still in FZ-CG-001 at 佰胜社区, 李秀兰 still a
    // cadre of 城关镇; the new numbers were stored.
    let mut conn = app.conn();
    let han: (String, String) = members::table
        .filter(members::id_number.eq(HAN_YULAN))
        .inner_join(party_orgs::table)
        .select((party_orgs::code, members::division_code))
        .first(&mut conn)
        .expect("韩玉兰");
    assert_eq!(han, ("FZ-CG-001".to_string(), "630121101001".to_string()));
    let li: (Option<String>, String) = cadre_t::table
        .filter(cadre_t::id_number.eq(LI_XIULAN))
        .select((cadre_t::source_town, cadre_t::division_code))
        .first(&mut conn)
        .expect("李秀兰");
    assert_eq!(li, (Some(CHENGGUAN.to_string()), CHENGGUAN.to_string()));
    for (n, table_has) in [
        (
            NEW_LIKE_HAN,
            members::table
                .filter(members::id_number.eq(NEW_LIKE_HAN))
                .count()
                .get_result::<i64>(&mut conn),
        ),
        (
            NEW_LIKE_LI,
            cadre_t::table
                .filter(cadre_t::id_number.eq(NEW_LIKE_LI))
                .count()
                .get_result::<i64>(&mut conn),
        ),
    ] {
        assert_eq!(table_has.expect("count"), 1, "{n} stored");
    }
    let held_count: i64 = held_rows::table.count().get_result(&mut conn).expect("held");
    assert_eq!(held_count, 2, "one held row per kind");
    drop(conn);

    // Only a user covering both towns sees them; personal data masked, both sides named.
    for (user, password) in [
        ("dx.admin", "dx-admin-pass"),
        ("dx.viewer", "dx-viewer-pass"),
        ("cg.admin", "cg-admin-pass"),
    ] {
        let s = app.session(user, password).await;
        let (status, list) = s.get_json("/api/v1/import/held").await;
        assert_eq!(
            (status, list.as_array().map(Vec::len)),
            (StatusCode::OK, Some(0)),
            "{user}"
        );
        assert!(!s.get("/import/held").await.text().contains("韩玉兰"), "{user}");
    }
    let viewer = app.session("county.viewer", "county-viewer-pass").await;
    let (_, list) = viewer.get_json("/api/v1/import/held").await;
    let rows = list.as_array().expect("held rows");
    assert_eq!(rows.len(), 2, "{list}");
    let member_row = rows.iter().find(|r| r["kind"] == "members").expect("the member row");
    assert_eq!(member_row["id_number"], "6301**********0648");
    assert_eq!(member_row["record_place"], "中共城关镇鸡腿葱电商有限公司联合支部委员会");
    assert_eq!(member_row["row_place"], "中共大通县东峡镇南滩村支部委员会");
    assert_eq!(
        (member_row["file"].clone(), member_row["line"].clone()),
        (json!("held.csv"), json!(2))
    );
    let cadre_row = rows.iter().find(|r| r["kind"] == "cadres").expect("the cadre row");
    assert_eq!(cadre_row["record_place"], "城关镇");
    assert_eq!(cadre_row["row_place"], "东峡镇");
    let page = viewer.get("/import/held").await.text();
    assert!(
        page.contains("6301**********0648") && !page.contains(HAN_YULAN),
        "masked on the page"
    );
    assert!(!list.to_string().contains(HAN_YULAN) && !list.to_string().contains(LI_XIULAN));
    // A viewer may not decide; the importer's town admin does not see them to decide.
    let member_id = member_row["id"].as_i64().expect("id");
    let cadre_id = cadre_row["id"].as_i64().expect("id");
    let a = viewer
        .send(
            Method::POST,
            &format!("/api/v1/import/held/{member_id}"),
            Some(json!({"decision": "transfer"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = town
        .send(
            Method::POST,
            &format!("/api/v1/import/held/{member_id}"),
            Some(json!({"decision": "transfer"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // The county transfers the member (to 南滩村's branch) and discards the cadre row.
    let admin = app.admin().await;
    let a = admin
        .send(
            Method::POST,
            &format!("/api/v1/import/held/{member_id}"),
            Some(json!({"decision": "transfer"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text());
    let a = admin
        .post_form(&format!("/import/held/{cadre_id}"), &[("decision", "discard")])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
    let mut conn = app.conn();
    let han: (String, String) = members::table
        .filter(members::id_number.eq(HAN_YULAN))
        .inner_join(party_orgs::table)
        .select((party_orgs::code, members::division_code))
        .first(&mut conn)
        .expect("韩玉兰");
    assert_eq!(
        han,
        ("630121103201".to_string(), "630121103201".to_string()),
        "transferred"
    );
    let li: (Option<String>, String) = cadre_t::table
        .filter(cadre_t::id_number.eq(LI_XIULAN))
        .select((cadre_t::source_town, cadre_t::division_code))
        .first(&mut conn)
        .expect("李秀兰");
    assert_eq!(
        li,
        (Some(CHENGGUAN.to_string()), CHENGGUAN.to_string()),
        "discarded: unchanged"
    );
    assert_eq!(held_rows::table.count().get_result::<i64>(&mut conn).expect("held"), 0);
    // Both decisions are audited: the transfer under the county (both towns), masked; the
    // discard under the record's town only, which 东峡镇's readers do not read.
    let entries = crate::calls::audit_rows(&mut conn);
    let transfer = entries
        .iter()
        .find(|e| e.action == "transfer")
        .expect("the transfer entry");
    assert_eq!(
        (
            transfer.entity.as_str(),
            transfer.scope.as_str(),
            transfer.username.as_str()
        ),
        ("member", "630121", "admin")
    );
    let after = transfer.after_json.clone().expect("after");
    assert!(
        after.contains("6301**********0648") && !after.contains(HAN_YULAN),
        "{after}"
    );
    let discard = entries
        .iter()
        .find(|e| e.action == "discard")
        .expect("the discard entry");
    assert_eq!(
        (discard.entity.as_str(), discard.scope.as_str()),
        ("held_row", "630121101")
    );
    drop(conn);
    let dx_viewer = app.session("dx.viewer", "dx-viewer-pass").await;
    let (_, audit) = dx_viewer.get_json("/api/v1/audit?limit=1000").await;
    assert!(!audit.to_string().contains("\"discard\""), "{audit}");
}

/// A town viewer of a batch's plan sees the pairs of the town's cadres going elsewhere without
/// the village's name or town, and no whole-batch totals, on the page, the API and the XLSX; a
/// zone user created as the command line does (the system actor) is audited under the zone, as
/// is an import by a zone administrator, so a town's viewer reads neither.
async fn plans_and_the_audit_log_withhold_what_lies_outside(app: TestApp) {
    let (id, town, outside_village, outside_name) = {
        let mut conn = app.conn();
        generate::demo(&mut conn, COUNTY).expect("demo");
        let system = Access::system();
        let b = batch::default_batch(&mut conn, &system).expect("read").expect("batch");
        let plan = batch::stored_plan(&mut conn, &system, b.id)
            .expect("read")
            .expect("plan");
        let (roster, _) =
            cadres::cadres(&mut conn, &system, &CadreFilter::default(), AgeRule::today(), 10_000, 0).expect("roster");
        // A pair whose cadre is keyed in one town and whose village lies in another.
        let (town, village, name) = plan
            .pairs
            .iter()
            .find_map(|p| {
                let c = roster.iter().find(|c| c.id == p.cadre_id)?;
                let v = p.village_code.clone()?;
                let town = format!("{}000", &c.division_code[..9]);
                (!v.starts_with(&town[..9])).then(|| (town, v, p.village_name.clone().expect("named")))
            })
            .expect("the demo plan sends some cadre outside their town");
        add_user(&mut conn, "t.viewer", "t-viewer-pass", "viewer", &town, None);
        (b.id, town, village, name)
    };
    let s = app.session("t.viewer", "t-viewer-pass").await;
    let (status, plan) = s.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plan["total_score"], Value::Null, "{plan}");
    let pairs = plan["pairs"].as_array().expect("pairs");
    assert!(
        pairs.iter().any(|p| p["village"] == ""),
        "a pair with the village withheld"
    );
    for p in pairs.iter().filter(|p| p["village"] == "") {
        assert_eq!(
            (p["village_name"].clone(), p["town_name"].clone()),
            (Value::Null, Value::Null),
            "{p}"
        );
    }
    assert!(!plan.to_string().contains(&outside_name) && !plan.to_string().contains(&outside_village));
    let (_, batches) = s.get_json("/api/v1/dispatch").await;
    for b in batches["items"].as_array().expect("batches") {
        assert_eq!(
            (b["pairs"].clone(), b["total_score"].clone(), b["residencies"].clone()),
            (Value::Null, Value::Null, Value::Null),
            "{b}"
        );
    }
    let page = s.get(&format!("/dispatch/{id}")).await.text();
    assert!(!page.contains(&outside_name), "the page names {outside_name}");
    assert!(!page.contains("<tfoot>"), "no total row");
    let xlsx = xlsx_cells(&s.get(&format!("/dispatch/{id}/plan.xlsx")).await.body);
    let text: String = xlsx.iter().map(|r| r.join("\t")).collect::<Vec<_>>().join("\n");
    assert!(
        !text.contains(&outside_name) && !text.contains(&outside_village),
        "{text}"
    );
    assert!(
        !xlsx
            .iter()
            .any(|r| r.first().is_some_and(|c| c == "总分" || c == "Total score")),
        "no total row: {text}"
    );
    // The county's viewer still sees everything.
    let county = {
        add_user(&mut app.conn(), "c.viewer", "c-viewer-pass", "viewer", COUNTY, None);
        app.session("c.viewer", "c-viewer-pass").await
    };
    let (_, full) = county.get_json(&format!("/api/v1/dispatch/batches/{id}/plan")).await;
    assert!(full["total_score"].as_i64().is_some());
    assert!(full.to_string().contains(&outside_name));

    // A zone user created by the system, and a zone administrator's import: not in the town
    // viewer's audit log; in the county's and the zone's.
    let zone = calls::zone_id(&mut app.conn(), "城关线");
    let zone_scope = format!("zone:{zone}");
    add_user(
        &mut app.conn(),
        "zone.viewer",
        "zone-viewer-pass",
        "viewer",
        &zone_scope,
        None,
    );
    add_user(
        &mut app.conn(),
        "zone.admin",
        "zone-admin-pass",
        "town-admin",
        &zone_scope,
        None,
    );
    let zone_admin = app.session("zone.admin", "zone-admin-pass").await;
    // A unit at 西关村 (城关镇, in the 城关线).
    let a = import_api(
        &zone_admin,
        "units",
        "zone-units.csv",
        "单位名称,单位类型,所在村(社区)代码\n西关村审计测试合作社,协会/合作社,630121101200\n",
        true,
        false,
    )
    .await;
    assert_eq!(a.json()["applied"], true, "{}", a.text());
    let town_readable = s.get_json("/api/v1/audit?limit=1000").await.1.to_string();
    let _ = town;
    for name in ["zone.viewer", "zone.admin", "zone-units.csv"] {
        assert!(!town_readable.contains(name), "the town viewer reads {name}");
    }
    for (who, reader) in [
        ("county", county),
        ("zone", app.session("zone.viewer", "zone-viewer-pass").await),
    ] {
        let readable = reader.get_json("/api/v1/audit?limit=1000").await.1.to_string();
        for name in ["zone.viewer", "zone-units.csv"] {
            assert!(readable.contains(name), "the {who} reader misses {name}");
        }
    }
}

/// An audit detail with the import's number (a sequence) blanked: `(import 4)` → `(import N)`.
fn without_run(detail: &str) -> String {
    match detail.find("(import ") {
        Some(i) => {
            let rest = &detail[i + 8..];
            let end = rest.find(')').unwrap_or(rest.len());
            format!("{}(import N{}", &detail[..i], &rest[end..])
        }
        None => detail.to_string(),
    }
}
