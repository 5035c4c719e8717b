//! Dispatched cadres (SPEC C7): the optimal plan of a small batch against a hand computation,
//! pins and forbidden pairs, an infeasible batch naming the rule, confirmation into residencies,
//! attendance, leave levels and who decides them, the Datong demo batch and the JSON of
//! `ringline dispatch plan`, and the four import kinds (`tests/fixtures/dispatch`).
//!
//! ID numbers were computed independently of the code under test (GB 11643-1999 MOD 11-2, the
//! Python lines in `tests/fixtures/README.md`).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use diesel::prelude::*;
use ringline::access::{Access, Scope};
use ringline::auth::Role;
use ringline::cadres::batch::{self, BatchInput, RuleKind};
use ringline::cadres::residency::{self, LeaveFilter, ResidencyFilter};
use ringline::cadres::{self, AgeRule, CadreFilter, DispatchError, NewCadre};
use ringline::db::DbConn;
use ringline::db::schema::{audit_log, residencies, units};
use ringline::generate;
use ringline::import::framework::{self, OnExisting, Options, Report};
use ringline::import::spec;
use ringline::kind::{Cx, KindId, Raw};
use ringline::registry::{self, NewUnit};

use crate::datong;
use crate::harness::{TestApp, fixture};

on_both_backends!(
    plan_is_the_hand_computed_optimum,
    confirmation_attendance_and_leave,
    demo_batch_plans_twenty_to_thirty,
    imports_of_the_dispatch_kinds,
    import_errors_name_their_rows,
);

/// The four villages of the fixture, in 东峡镇.
pub(crate) const V1: &str = "630121103204"; // 杏花庄村委会
pub(crate) const V2: &str = "630121103205"; // 仙米村委会
pub(crate) const V3: &str = "630121103206"; // 田家沟村委会
pub(crate) const V4: &str = "630121103207"; // 尔麻村委会
pub(crate) const DONGXIA: &str = "630121103000";
pub(crate) const CHENGGUAN: &str = "630121101000";

pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Ids of the fixture's cadres C1–C4.
pub(crate) struct Fixture {
    pub(crate) c: [i64; 4],
}

/// The fixture, on the reference date 2026-11-01 (10 points per priority point, 5 for twinning):
///
/// | cadre | age | skills | source | home |
/// |---|---|---|---|---|
/// | C1 | 30 | agriculture, animal_husbandry | unit U1 | – |
/// | C2 | 35 | agriculture, e_commerce | town 东峡镇 | V3 |
/// | C3 | 45 | animal_husbandry, tourism | town 城关镇 | – |
/// | C4 | 28 | tourism | unit U2 | – |
///
/// Needs: V1 agriculture 3, tourism 1; V2 animal_husbandry 3; V3 e_commerce 2, agriculture 1;
/// V4 tourism 2. Twinning: U1–V2, U2–V1.
///
/// Score matrix (points; `×` a pair a rule forbids):
///
/// | | V1 | V2 | V3 | V4 |
/// |---|---|---|---|---|
/// | C1 | 30 (agri 3) | 35 (husbandry 3 + twin 5) | 10 (agri 1) | 0 |
/// | C2 | 30 (agri 3) | 0 | × home village (would be 20 + 10) | 0 |
/// | C3 | × age 45 > 40 | × age | × age | × age |
/// | C4 | 15 (tourism 1 + twin 5) | 0 | 0 | 20 (tourism 2) |
pub(crate) fn fixture_data(conn: &mut DbConn) -> Fixture {
    let at = ringline::db::now();
    let unit = |name: &str, division: &str| NewUnit {
        name: name.into(),
        kind: "agency".into(),
        credit_code: None,
        credit_code_unverified: false,
        division_code: division.into(),
        address: String::new(),
        lon: None,
        lat: None,
        headcount: None,
        party_member_count: None,
        illustrative: false,
        created_at: at,
        updated_at: at,
    };
    registry::insert_units(conn, &[unit("测试单位一", DONGXIA), unit("测试单位二", CHENGGUAN)]).expect("units");
    let unit_id = |conn: &mut DbConn, name: &str| -> i64 {
        units::table
            .filter(units::name.eq(name))
            .select(units::id)
            .first(conn)
            .expect("unit id")
    };
    let (u1, u2) = (unit_id(conn, "测试单位一"), unit_id(conn, "测试单位二"));
    let cadre =
        |name: &str, id: &str, birth: NaiveDate, unit: Option<(i64, &str)>, town: Option<&str>, home: Option<&str>| {
            NewCadre {
                name: name.into(),
                id_number: id.into(),
                sex: if id.as_bytes()[16] % 2 == 1 { "male" } else { "female" }.into(),
                birth_date: birth,
                phone: Some("13800001234".into()),
                source_unit_id: unit.map(|u| u.0),
                source_town: town.map(str::to_string),
                home_village: home.map(str::to_string),
                division_code: unit.map_or_else(|| town.unwrap_or_default().to_string(), |u| u.1.to_string()),
                illustrative: false,
                created_at: at,
                updated_at: at,
            }
        };
    let rows = [
        cadre(
            "甲一",
            "630121199603018118",
            day(1996, 3, 1),
            Some((u1, DONGXIA)),
            None,
            None,
        ),
        cadre(
            "乙二",
            "630121199106158224",
            day(1991, 6, 15),
            None,
            Some(DONGXIA),
            Some(V3),
        ),
        cadre(
            "丙三",
            "630121198101208136",
            day(1981, 1, 20),
            None,
            Some(CHENGGUAN),
            None,
        ),
        cadre(
            "丁四",
            "630121199807078243",
            day(1998, 7, 7),
            Some((u2, CHENGGUAN)),
            None,
            None,
        ),
    ];
    let skills = |s: &[&str]| s.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    let ids = cadres::insert_cadres(
        conn,
        &rows,
        &[
            skills(&["agriculture", "animal_husbandry"]),
            skills(&["agriculture", "e_commerce"]),
            skills(&["animal_husbandry", "tourism"]),
            skills(&["tourism"]),
        ],
    )
    .expect("cadres");
    // Needs and twinning through their record kinds, as a form or the API writes them.
    let system = Access::system();
    let mut cx = Cx::new(conn, &system, ringline::clock::Clock::system());
    for (v, s, p) in [
        (V1, "agriculture", 3),
        (V1, "tourism", 1),
        (V2, "animal_husbandry", 3),
        (V3, "e_commerce", 2),
        (V3, "agriculture", 1),
        (V4, "tourism", 2),
    ] {
        let raw = Raw::of([("village", v), ("skill", s), ("priority", &p.to_string())]);
        KindId::Needs.ops().create(&mut cx, &raw).expect("need");
    }
    for (unit, village) in [("测试单位一", V2), ("测试单位二", V1)] {
        let raw = Raw::of([("unit", unit), ("village", village)]);
        KindId::Twinning.ops().create(&mut cx, &raw).expect("twin");
    }
    let again = KindId::Twinning
        .ops()
        .create(&mut cx, &Raw::of([("unit", "测试单位二"), ("village", V1)]))
        .expect_err("twin again");
    assert_eq!(again.code(), "key-taken", "a pair is stored once");
    Fixture {
        c: [ids[0], ids[1], ids[2], ids[3]],
    }
}

pub(crate) fn batch_input(name: &str, min: u32, max: u32) -> BatchInput {
    BatchInput {
        min_size: min,
        max_size: max,
        ..BatchInput::new(name, datong::COUNTY, day(2026, 11, 1))
    }
}

/// `(cadre, village, score, pinned)` of a plan, sorted.
fn pairs(plan: &batch::Plan) -> Vec<(i64, String, i64, bool)> {
    let mut v: Vec<_> = plan
        .pairs
        .iter()
        .map(|p| {
            (
                p.cadre_id,
                p.village_code.clone().unwrap_or_default(),
                p.score,
                p.pinned,
            )
        })
        .collect();
    v.sort();
    v
}

fn expect(f: &Fixture, list: &[(usize, &str, i64, bool)]) -> Vec<(i64, String, i64, bool)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(c, v, s, p)| (f.c[*c - 1], (*v).to_string(), *s, *p))
        .collect();
    v.sort();
    v
}

async fn plan_is_the_hand_computed_optimum(app: TestApp) {
    let mut conn = app.conn();
    let f = fixture_data(&mut conn);
    let system = Access::system();
    let b = batch::create_batch(&mut conn, &system, &batch_input("测试批次", 2, 3)).expect("batch");

    // The optimum: C1 → V2 (35), C2 → V1 (30), C4 → V4 (20) = 85. C3 is too old; C2 may not
    // go to V3 (home). Every other plan scores less: C1 → V1 leaves V1 to nobody else and C2
    // nothing positive (30 + 20 = 50); any plan of 2 pairs scores at most 35 + 30 = 65.
    let plan = batch::run(&mut conn, &system, b).expect("a plan");
    assert_eq!(
        pairs(&plan),
        expect(&f, &[(1, V2, 35, false), (2, V1, 30, false), (4, V4, 20, false)])
    );
    assert_eq!(plan.total_score, Some(85));
    let c1 = plan.pairs.iter().find(|p| p.cadre_id == f.c[0]).expect("C1");
    assert_eq!(c1.breakdown.twinning, 5);
    assert_eq!(c1.breakdown.skills.len(), 1);
    assert_eq!(
        (
            c1.breakdown.skills[0].skill.as_str(),
            c1.breakdown.skills[0].priority,
            c1.breakdown.skills[0].points
        ),
        ("animal_husbandry", 3, 30)
    );
    assert_eq!(
        c1.breakdown.words("en"),
        "animal husbandry (priority 3) 30 + twinned unit 5 = 35"
    );
    assert_eq!(
        c1.breakdown.words("zh-CN"),
        "畜牧养殖(优先级3) 30 + 结对帮扶单位 5 = 35"
    );
    // What was stored is what the run answered.
    let stored = batch::stored_plan(&mut conn, &system, b)
        .expect("read")
        .expect("visible");
    assert_eq!(pairs(&stored), pairs(&plan));
    assert_eq!(stored.batch.pairs, Some(3));
    assert_eq!(stored.batch.total_score, Some(85));

    // Why not: C3 breaks the age rule everywhere, C2 the home-village rule at V3.
    let why = batch::explain_pair(&mut conn, &system, b, f.c[2], V2).expect("explain");
    assert_eq!(why.rule.as_deref(), Some("age"));
    let why = batch::explain_pair(&mut conn, &system, b, f.c[1], V3).expect("explain");
    assert_eq!(why.rule.as_deref(), Some("home_village"));
    assert_eq!(why.breakdown.map(|b| b.total), Some(30), "20 + 10 had it been allowed");

    // Pin C1 → V1 (30): V1 is taken, C2 has nothing positive left (V2 0, V3 home, V4 0) and
    // stays home (fewest pairs); C4's best is V4 (20). 30 + 20 = 50 with 2 pairs (≥ min 2).
    batch::set_rule(&mut conn, &system, b, f.c[0], V1, RuleKind::Pin).expect("pin");
    // A rule change keeps the last plan, marked out of date, and it cannot be confirmed.
    let outdated = batch::stored_plan(&mut conn, &system, b)
        .expect("read")
        .expect("visible");
    assert_eq!(pairs(&outdated), pairs(&plan), "the last plan stays visible");
    assert!(outdated.batch.plan_outdated && outdated.batch.planned_at.is_none());
    assert!(matches!(
        batch::confirm(&mut conn, &system, b),
        Err(DispatchError::PlanOutdated)
    ));
    let plan = batch::run(&mut conn, &system, b).expect("a plan with the pin");
    assert_eq!(pairs(&plan), expect(&f, &[(1, V1, 30, true), (4, V4, 20, false)]));
    assert_eq!(plan.total_score, Some(50));

    // Forbid C1 → V2 instead: C1's options are V1 30, V3 10, V4 0. C2 → V1 (30), C1 → V3
    // (10), C4 → V4 (20) = 60 beats C1 → V1 (30) + C4 → V4 (20) = 50.
    assert!(batch::remove_rule(&mut conn, &system, b, f.c[0], V1).expect("unpin"));
    batch::set_rule(&mut conn, &system, b, f.c[0], V2, RuleKind::Forbid).expect("forbid");
    let plan = batch::run(&mut conn, &system, b).expect("a plan with the forbidden pair");
    assert_eq!(
        pairs(&plan),
        expect(&f, &[(1, V3, 10, false), (2, V1, 30, false), (4, V4, 20, false)])
    );
    assert_eq!(plan.total_score, Some(60));
    let rules = batch::rules(&mut conn, &system, b).expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (
            rules[0].kind.as_str(),
            rules[0].village_code.as_deref().unwrap_or_default()
        ),
        ("forbid", V2)
    );

    // A pin that breaks the age rule is refused by name.
    batch::set_rule(&mut conn, &system, b, f.c[2], V4, RuleKind::Pin).expect("pin C3");
    let e = batch::run(&mut conn, &system, b).expect_err("C3 is too old");
    assert_eq!(e.code(), "dispatch-pinned-pair-forbidden");
    assert!(e.to_string().contains("age rule"), "{e}");

    // Infeasible: at least 5 cadres, but only C1, C2 and C4 may go anywhere (C3 is 45).
    let big = batch::create_batch(&mut conn, &system, &batch_input("五人批次", 5, 6)).expect("batch");
    let e = batch::run(&mut conn, &system, big).expect_err("too few");
    assert!(matches!(e, DispatchError::Infeasible(_)));
    assert_eq!(e.code(), "dispatch-too-few-eligible-cadres");
    assert!(e.to_string().contains("only 3 cadres"), "{e}");
    let stored = batch::batch(&mut conn, &system, big).expect("read").expect("visible");
    assert_eq!(
        stored.plan_error_key.as_deref(),
        Some("dispatch-too-few-eligible-cadres")
    );
    assert!(stored.plan_error.is_some_and(|m| m.contains("batch size rule")));
    // The command line says the same and exits with code 2.
    if let Some(out) = cli(&app, &["dispatch", "plan", "--batch", "五人批次"]) {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("dispatch-too-few-eligible-cadres") && err.contains("batch size rule"),
            "{err}"
        );
    }

    // The age override (any age) makes C3 eligible: C3 → V2 is allowed.
    let mut any_age = batch_input("不限年龄", 2, 4);
    any_age.young_max_age = None;
    let open = batch::create_batch(&mut conn, &system, &any_age).expect("batch");
    let why = batch::explain_pair(&mut conn, &system, open, f.c[2], V2).expect("explain");
    assert_eq!((why.rule, why.breakdown.map(|b| b.total)), (None, Some(30)));

    // Bad settings are refused with their code; a town administrator may not configure.
    let e = batch::create_batch(&mut conn, &system, &batch_input("反了", 30, 20)).expect_err("min > max");
    assert_eq!(e.code(), "dispatch-size-range");
    let town = access(&mut conn, Role::TownAdmin, DONGXIA);
    let e = batch::run(&mut conn, &town, b).expect_err("town admin");
    assert!(matches!(e, DispatchError::Forbidden));
    // Every batch write is in the audit log.
    let entries: i64 = audit_log::table
        .filter(audit_log::entity.eq_any(["dispatch_batch", "batch_rule"]))
        .count()
        .get_result(&mut *conn)
        .expect("count");
    assert!(entries >= 10, "{entries}");
}

/// Runs the `ringline` binary on the test app's database (SQLite only: the PostgreSQL URL is
/// not kept by the harness); `None` on PostgreSQL.
pub(crate) fn cli(app: &TestApp, args: &[&str]) -> Option<std::process::Output> {
    if app.backend != crate::harness::Backend::Sqlite {
        return None;
    }
    let db = app.dir.path().join("ringline.db");
    Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_ringline"))
            .arg("--database-url")
            .arg(&db)
            .args(args)
            .current_dir(app.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("RINGLINE_CONFIG")
            .env("LANG", "C")
            .output()
            .expect("the ringline binary runs"),
    )
}

pub(crate) fn access(conn: &mut DbConn, role: Role, scope: &str) -> Access {
    Access::resolve(conn, 4242, "tester", role, Scope::parse(scope).expect("scope")).expect("access")
}

async fn confirmation_attendance_and_leave(app: TestApp) {
    let mut conn = app.conn();
    let f = fixture_data(&mut conn);
    let system = Access::system();
    let b = batch::create_batch(&mut conn, &system, &batch_input("测试批次", 2, 3)).expect("batch");
    assert!(matches!(
        batch::confirm(&mut conn, &system, b),
        Err(DispatchError::NoPlan)
    ));
    batch::run(&mut conn, &system, b).expect("plan");
    let ids = batch::confirm(&mut conn, &system, b).expect("confirm");
    assert_eq!(ids.len(), 3);
    let stays: Vec<(i64, String, NaiveDate, NaiveDate)> = residencies::table
        .order(residencies::cadre_id)
        .select((
            residencies::cadre_id,
            residencies::village_code,
            residencies::start_date,
            residencies::end_date,
        ))
        .load(&mut *conn)
        .expect("residencies");
    let mut want = vec![
        (f.c[0], V2.to_string(), day(2026, 11, 1), day(2028, 10, 31)),
        (f.c[1], V1.to_string(), day(2026, 11, 1), day(2028, 10, 31)),
        (f.c[3], V4.to_string(), day(2026, 11, 1), day(2028, 10, 31)),
    ];
    want.sort();
    assert_eq!(stays, want, "24-month terms from the reference date");
    let confirmed = batch::batch(&mut conn, &system, b).expect("read").expect("visible");
    assert_eq!(confirmed.status, "confirmed");
    assert_eq!(confirmed.residencies, Some(3));
    assert_eq!(confirmed.confirmed_by.as_deref(), Some("system"));
    assert!(matches!(
        batch::run(&mut conn, &system, b),
        Err(DispatchError::Confirmed)
    ));
    assert!(matches!(
        batch::set_rule(&mut conn, &system, b, f.c[2], V3, RuleKind::Forbid),
        Err(DispatchError::Confirmed)
    ));
    // The residents are no longer available; the roster says where they are.
    let on = AgeRule::on(day(2026, 11, 15));
    let available = CadreFilter {
        available: Some(true),
        ..Default::default()
    };
    let (free, _) = cadres::cadres(&mut conn, &system, &available, on, 100, 0).expect("roster");
    assert_eq!(free.iter().map(|c| c.id).collect::<Vec<_>>(), vec![f.c[2]]);
    let c1 = cadres::cadre(&mut conn, &system, f.c[0], on)
        .expect("read")
        .expect("C1");
    assert_eq!(c1.residency.as_ref().map(|r| r.village_code.as_str()), Some(V2));
    assert_eq!(c1.id_number, "6301**********8118", "masked");
    assert_eq!(c1.phone.as_deref(), Some("138****1234"));
    assert_eq!((c1.age, c1.young), (30, true));

    let stay = |cadre: i64| -> i64 {
        let (list, _) = residency::residencies(
            &mut app.conn(),
            &Access::system(),
            &ResidencyFilter {
                cadre_id: Some(cadre),
                ..Default::default()
            },
            10,
            0,
        )
        .expect("list");
        list[0].id
    };
    let r1 = stay(f.c[0]);

    // Attendance: 18 days in November is flagged, 22 in December keeps the rule.
    let reporter = access(&mut conn, Role::VillageReporter, V2);
    let nov = residency::set_attendance(&mut conn, &reporter, r1, "2026-11", 18).expect("November");
    assert!(!nov.compliant);
    let dec = residency::set_attendance(&mut conn, &reporter, r1, "2026-12", 22).expect("December");
    assert!(dec.compliant);
    let e = residency::set_attendance(&mut conn, &reporter, r1, "2026-10", 20).expect_err("before the term");
    assert_eq!(e.code(), "dispatch-month");
    let e = residency::set_attendance(&mut conn, &reporter, r1, "2026-11", 31).expect_err("November has 30 days");
    assert_eq!(e.code(), "dispatch-days");
    let months = residency::attendance(&mut conn, &system, r1).expect("attendance");
    assert_eq!(
        months
            .iter()
            .map(|m| (m.month.as_str(), m.days, m.compliant))
            .collect::<Vec<_>>(),
        vec![("2026-11", 18, false), ("2026-12", 22, true)]
    );
    let overview = residency::month_attendance(&mut conn, &system, "2026-11", Some(DONGXIA)).expect("overview");
    assert_eq!(overview.len(), 3, "all three residencies run in November, in 东峡镇");
    assert_eq!(
        overview
            .iter()
            .filter(|r| r.compliant == Some(false))
            .map(|r| r.residency_id)
            .collect::<Vec<_>>(),
        vec![r1]
    );
    assert_eq!(overview.iter().filter(|r| r.days.is_none()).count(), 2, "not reported");

    // Work logs: the village reporter in scope may add one, a viewer may not, a reporter of
    // another village does not see the residency.
    let log =
        residency::add_work_log(&mut conn, &reporter, r1, day(2026, 11, 20), "走访养殖户8户\r\n讲解防疫").expect("log");
    assert!(log > 0);
    let viewer = access(&mut conn, Role::Viewer, DONGXIA);
    assert!(matches!(
        residency::add_work_log(&mut conn, &viewer, r1, day(2026, 11, 21), "x"),
        Err(DispatchError::Forbidden)
    ));
    let elsewhere = access(&mut conn, Role::VillageReporter, V1);
    assert!(matches!(
        residency::add_work_log(&mut conn, &elsewhere, r1, day(2026, 11, 21), "x"),
        Err(DispatchError::NotFound)
    ));
    let (logs, n) = residency::work_logs(&mut conn, &reporter, r1, 10, 0).expect("logs");
    assert_eq!((n, logs[0].content.as_str()), (1, "走访养殖户8户\n讲解防疫"));

    // Leave: 2 days → the town decides, 5 days → the county.
    let cadre_user = access(&mut conn, Role::DispatchedCadre, V2);
    let short = residency::request_leave(&mut conn, &cadre_user, r1, day(2026, 12, 2), day(2026, 12, 3), "家事")
        .expect("2 days");
    assert_eq!(
        (short.days, short.approver_level.as_str(), short.status.as_str()),
        (2, "town", "pending")
    );
    let long =
        residency::request_leave(&mut conn, &cadre_user, r1, day(2027, 1, 4), day(2027, 1, 8), "培训").expect("5 days");
    assert_eq!((long.days, long.approver_level.as_str()), (5, "county"));
    let town = access(&mut conn, Role::TownAdmin, DONGXIA);
    assert!(matches!(
        residency::decide_leave(&mut conn, &town, long.id, true),
        Err(DispatchError::Forbidden)
    ));
    let other_town = access(&mut conn, Role::TownAdmin, CHENGGUAN);
    assert!(matches!(
        residency::decide_leave(&mut conn, &other_town, short.id, true),
        Err(DispatchError::NotFound)
    ));
    assert!(matches!(
        residency::decide_leave(&mut conn, &cadre_user, short.id, true),
        Err(DispatchError::Forbidden)
    ));
    let approved = residency::decide_leave(&mut conn, &town, short.id, true).expect("town approves");
    assert_eq!(
        (approved.status.as_str(), approved.decided_by.as_deref()),
        ("approved", Some("tester"))
    );
    let e = residency::decide_leave(&mut conn, &town, short.id, false).expect_err("already decided");
    assert_eq!(e.code(), "dispatch-leave-decided");
    let county = access(&mut conn, Role::CountyAdmin, datong::COUNTY);
    let rejected = residency::decide_leave(&mut conn, &county, long.id, false).expect("county decides");
    assert_eq!(rejected.status, "rejected");
    let pending = residency::leave_requests(
        &mut conn,
        &town,
        &LeaveFilter {
            status: Some("pending".into()),
            ..Default::default()
        },
    )
    .expect("list");
    assert!(pending.is_empty());
    let all = residency::leave_requests(&mut conn, &other_town, &LeaveFilter::default()).expect("list");
    assert!(all.is_empty(), "outside 城关镇's scope");

    // Evaluation at the end of the term (county).
    residency::evaluate(&mut conn, &system, r1, "称职", Some("完成驻村任务")).expect("evaluate");
    let r = residency::residency(&mut conn, &system, r1)
        .expect("read")
        .expect("visible");
    assert_eq!(r.evaluation.as_deref(), Some("competent"));
    assert_eq!(
        (r.work_logs, r.attendance_months, r.short_months, r.pending_leave),
        (1, 2, 1, 0)
    );
    let e = residency::evaluate(&mut conn, &system, r1, "很好", None).expect_err("unknown grade");
    assert_eq!(e.code(), "dispatch-grade");
    assert!(matches!(
        residency::evaluate(&mut conn, &town, r1, "优秀", None),
        Err(DispatchError::Forbidden)
    ));
    let audited: i64 = audit_log::table
        .filter(audit_log::entity.eq_any(["attendance", "work_log", "leave_request", "residency"]))
        .count()
        .get_result(&mut *conn)
        .expect("count");
    // 2 attendance + 1 log + 2 requests + 2 decisions + 1 evaluation.
    assert_eq!(audited, 8);
}

async fn demo_batch_plans_twenty_to_thirty(app: TestApp) {
    let mut conn = app.conn();
    let s = generate::demo(&mut conn, datong::COUNTY).expect("demo");
    assert_eq!(s.cadres, 60);
    assert_eq!(s.residencies, 12);
    assert!((20..=30).contains(&s.planned_pairs), "{}", s.planned_pairs);
    let system = Access::system();
    let list = batch::batches(&mut conn, &system).expect("batches");
    assert_eq!(
        list.iter()
            .map(|b| (b.name.as_str(), b.status.as_str()))
            .collect::<Vec<_>>(),
        vec![(generate::DEMO_BATCH, "draft"), (generate::EARLIER_BATCH, "confirmed")]
    );
    // 45 of the 60 are young on 2026-11-01.
    let young = CadreFilter {
        young: Some(true),
        ..Default::default()
    };
    let (_, n) = cadres::cadres(&mut conn, &system, &young, AgeRule::on(day(2026, 11, 1)), 1, 0).expect("roster");
    assert_eq!(n, 45);

    // `ringline dispatch plan` without --batch: the newest draft batch, run again.
    let b = batch::default_batch(&mut conn, &system)
        .expect("read")
        .expect("a batch");
    assert_eq!(b.name, generate::DEMO_BATCH);
    let plan = batch::run(&mut conn, &system, b.id).expect("the demo batch is feasible");
    assert!((20..=30).contains(&plan.pairs.len()), "{}", plan.pairs.len());
    let json = serde_json::to_value(ringline::cli::dispatch_cmd::plan_json(&plan)).expect("json");
    let pairs = json["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), plan.pairs.len());
    let mut sum = 0;
    let mut villages = BTreeSet::new();
    let mut people = BTreeSet::new();
    for p in pairs {
        let cadre = p["cadre"].as_i64().expect("cadre id");
        let village = p["village"].as_str().expect("village code");
        assert!(
            village.len() == 12 && village.bytes().all(|c| c.is_ascii_digit()),
            "{village}"
        );
        assert!(village.starts_with("630121"));
        let score = p["score"].as_i64().expect("score");
        assert_eq!(p["breakdown"]["total"].as_i64(), Some(score));
        let parts: i64 = p["breakdown"]["skills"]
            .as_array()
            .expect("skills")
            .iter()
            .map(|s| s["points"].as_i64().expect("points"))
            .sum::<i64>()
            + p["breakdown"]["twinning"].as_i64().expect("twinning");
        assert_eq!(parts, score);
        assert!(score > 0, "every demo pair matches a need");
        assert!(!p["cadre_name"].as_str().unwrap_or_default().is_empty());
        sum += score;
        assert!(villages.insert(village.to_string()), "one cadre per village");
        assert!(people.insert(cadre), "a cadre goes once");
    }
    assert_eq!(json["total_score"].as_i64(), Some(sum));
    // The binary prints the same document (it runs the batch again: the same plan).
    if let Some(out) = cli(&app, &["dispatch", "plan", "--format", "json"]) {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert_eq!(printed["pairs"], json["pairs"]);
        assert_eq!(printed["total_score"], json["total_score"]);
        let table = cli(&app, &["dispatch", "plan"]).expect("sqlite");
        let text = String::from_utf8_lossy(&table.stdout);
        assert!(
            text.contains("(priority 3)") && text.contains(generate::DEMO_BATCH),
            "{text}"
        );
    }

    // Every young, available cadre's pair keeps the hard rules: no home village, no one over 40.
    let (roster, _) = cadres::cadres(
        &mut conn,
        &system,
        &CadreFilter::default(),
        AgeRule::on(day(2026, 11, 1)),
        100,
        0,
    )
    .expect("roster");
    for p in &plan.pairs {
        let c = roster.iter().find(|c| c.id == p.cadre_id).expect("on the roster");
        assert!(c.age <= 40 && c.residency.is_none());
        assert_ne!(c.home_village.as_deref(), p.village_code.as_deref());
    }

    // The earlier batch's residencies have attendance (some months flagged) and leave.
    let earlier = batch::find_batch(&mut conn, &system, generate::EARLIER_BATCH)
        .expect("read")
        .expect("earlier batch");
    let (stays, n) = residency::residencies(
        &mut conn,
        &system,
        &ResidencyFilter {
            batch_id: Some(earlier.id),
            ..Default::default()
        },
        100,
        0,
    )
    .expect("residencies");
    assert_eq!(n, 12);
    assert!(stays.iter().all(|r| r.attendance_months == 18 && r.work_logs > 0));
    assert!(
        stays.iter().map(|r| r.short_months).sum::<i64>() > 0,
        "some months below 20 days"
    );
    let pending = residency::leave_requests(
        &mut conn,
        &system,
        &LeaveFilter {
            status: Some("pending".into()),
            ..Default::default()
        },
    )
    .expect("leave");
    let mut levels: Vec<(&str, i32)> = pending.iter().map(|l| (l.approver_level.as_str(), l.days)).collect();
    levels.sort();
    assert_eq!(levels, vec![("county", 5), ("town", 2)]);

    // Deterministic and written once.
    let again = generate::demo(&mut conn, datong::COUNTY).expect("demo again");
    assert!(again.skipped);
}

fn import(conn: &mut DbConn, kind: &str, file: &str, apply: bool, on_existing: OnExisting) -> Report {
    let kind = spec::kind(kind).expect("known kind");
    let path = fixture(file);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_string();
    framework::import_file(
        conn,
        &Access::system(),
        kind,
        &path,
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

fn load_units(conn: &mut DbConn) {
    let r = import(conn, "units", "registry/units.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
}

async fn imports_of_the_dispatch_kinds(app: TestApp) {
    let mut conn = app.conn();
    load_units(&mut conn);
    let system = Access::system();

    // Cadres: a dry run writes nothing, apply writes four, a second import changes nothing.
    let dry = import(&mut conn, "cadres", "dispatch/cadres.csv", false, OnExisting::Skip);
    assert!(dry.ok(), "{:?}", dry.errors);
    assert_eq!((dry.new, dry.applied), (4, false));
    let r = import(&mut conn, "cadres", "dispatch/cadres.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 4);
    let again = import(&mut conn, "cadres", "dispatch/cadres.csv", true, OnExisting::Skip);
    assert_eq!((again.new, again.unchanged), (0, 4));
    let (roster, n) = cadres::cadres(
        &mut conn,
        &system,
        &CadreFilter::default(),
        AgeRule::on(day(2026, 11, 1)),
        10,
        0,
    )
    .expect("roster");
    assert_eq!(n, 4);
    let by_name = |name: &str| roster.iter().find(|c| c.name == name).expect(name).clone();
    let wang = by_name("王海明");
    assert_eq!(
        wang.source_name.as_deref(),
        Some("大通县东峡镇人民政府"),
        "unit by credit code"
    );
    assert_eq!(wang.division_code, DONGXIA);
    assert_eq!(wang.skills, vec!["agriculture", "e_commerce"], "Chinese labels, 、");
    assert_eq!(wang.home_village.as_deref(), Some("630121103203"));
    assert_eq!((wang.age, wang.sex.as_str()), (36, "male"));
    let li = by_name("李秀兰");
    assert_eq!(
        (li.source_town.as_deref(), li.source_unit_id),
        (Some(CHENGGUAN), None),
        "town by code"
    );
    assert_eq!(li.skills, vec!["animal_husbandry", "tourism"], "keys and labels, ;");
    let ma = by_name("马文斌");
    assert_eq!(ma.source_town.as_deref(), Some(DONGXIA), "town by name");
    assert!(!ma.young, "51 on 2026-11-01");
    let zhao = by_name("赵丽娟");
    assert_eq!(
        zhao.source_name.as_deref(),
        Some("大通县城关镇人民政府"),
        "unit by name"
    );
    assert_eq!(zhao.skills, vec!["finance", "law"], "/ separates too");
    assert_eq!(zhao.phone.as_deref(), Some("139****2222"));

    // Twinning and needs.
    let r = import(&mut conn, "twinning", "dispatch/twinning.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 2);
    assert_eq!(cadres::twinning(&mut conn, &system, None).expect("twinning").len(), 2);
    let r = import(&mut conn, "needs", "dispatch/needs.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 3);
    let needs = cadres::needs(&mut conn, &system, Some(DONGXIA)).expect("needs");
    assert_eq!(needs.len(), 2);
    assert_eq!(
        needs[0]
            .needs
            .iter()
            .map(|n| (n.skill.as_str(), n.priority))
            .collect::<Vec<_>>(),
        vec![("agriculture", 3), ("e_commerce", 2)]
    );

    // A batch of 1–4: 王海明 would score 30 + 20 + 5 at 克麻尔 (630121103203), but it is his
    // home village; 李秀兰 scores 10 at 杏花庄 (tourism 1); the others score 0, 马文斌 is 51.
    // So the plan is 李秀兰 → 杏花庄 alone (fewest pairs at the best score).
    let b = batch::create_batch(&mut conn, &system, &batch_input("导入测试批次", 1, 4)).expect("batch");
    let plan = batch::run(&mut conn, &system, b).expect("plan");
    assert_eq!(pairs(&plan), vec![(li.id, "630121103204".to_string(), 10, false)]);
    batch::confirm(&mut conn, &system, b).expect("confirm");

    // Work logs go to 李秀兰's residency; the re-import finds them unchanged.
    let r = import(&mut conn, "work_logs", "dispatch/work_logs.csv", true, OnExisting::Skip);
    assert!(r.ok() && r.applied, "{:?}", r.errors);
    assert_eq!(r.new, 2);
    let r = import(&mut conn, "work_logs", "dispatch/work_logs.csv", true, OnExisting::Skip);
    assert_eq!((r.new, r.unchanged), (0, 2));

    // Needs: a changed priority is skipped or updated, as chosen.
    let path = app.dir.path().join("needs_changed.csv");
    std::fs::write(&path, "村代码,需求专长,优先级\n630121103204,乡村旅游,3\n").expect("write");
    let kind = spec::kind("needs").expect("kind");
    let run = |conn: &mut DbConn, on_existing| {
        framework::import_file(
            conn,
            &system,
            kind,
            &path,
            "needs_changed.csv",
            Options {
                on_existing,
                apply: true,
                illustrative: false,
                confirm: false,
                expected: None,
            },
            &mut |_, _, _| {},
        )
        .expect("import")
        .0
    };
    let r = run(&mut conn, OnExisting::Skip);
    assert_eq!((r.skipped, r.updated), (1, 0));
    let r = run(&mut conn, OnExisting::Update);
    assert_eq!(r.updated, 1);
    let needs = cadres::needs(&mut conn, &system, Some("630121103204")).expect("needs");
    assert_eq!(needs[0].needs[0].priority, 3);

    // A town administrator imports only within the town.
    let town = access(&mut conn, Role::TownAdmin, DONGXIA);
    let r = framework::import_file(
        &mut conn,
        &town,
        spec::kind("twinning").expect("kind"),
        &fixture("dispatch/twinning.csv"),
        "twinning.csv",
        Options::default(),
        &mut |_, _, _| {},
    )
    .expect("import")
    .0;
    assert_eq!(
        places(&r),
        vec![(3, "结对村代码".to_string(), "outside-scope".to_string())]
    );
}

async fn import_errors_name_their_rows(app: TestApp) {
    let mut conn = app.conn();
    load_units(&mut conn);
    let s = |a: &str| a.to_string();
    for apply in [false, true] {
        let r = import(
            &mut conn,
            "cadres",
            "dispatch/cadres_errors.csv",
            apply,
            OnExisting::Skip,
        );
        assert!(!r.applied);
        assert_eq!(
            places(&r),
            vec![
                (2, s("公民身份号码"), s("id-number-check-failed")),
                (3, s("派出单位"), s("source-not-found")),
                (4, s("专长"), s("skill-unknown")),
                (5, s("家乡村"), s("division-wrong-level")),
                (6, s("姓名"), s("value-missing")),
                (7, s("公民身份号码"), s("duplicate-in-file")),
                (8, s("派出单位"), s("division-wrong-level")),
            ],
            "apply = {apply}"
        );
    }
    let r = import(
        &mut conn,
        "cadres",
        "dispatch/cadres_errors.csv",
        false,
        OnExisting::Skip,
    );
    let id_issue = r.errors.iter().find(|i| i.line == 2).expect("row 2");
    assert_eq!(id_issue.value, "6301**********8750", "ID numbers are quoted masked");
    // The messages exist in both languages.
    let zh = ringline::i18n::Tr(ringline::i18n::Lang::Zh);
    let skill = r.errors.iter().find(|i| i.key == "skill-unknown").expect("skill");
    assert!(
        skill.text(zh).contains("开飞机") && skill.text(zh).contains("农业种植"),
        "{}",
        skill.text(zh)
    );
    let source = r.errors.iter().find(|i| i.key == "source-not-found").expect("source");
    assert!(source.text(zh).contains("不存在的单位"), "{}", source.text(zh));

    let r = import(
        &mut conn,
        "twinning",
        "dispatch/twinning_errors.csv",
        true,
        OnExisting::Skip,
    );
    assert!(!r.applied);
    assert_eq!(
        places(&r),
        vec![
            (2, s("结对单位"), s("unit-not-found")),
            (3, s("结对村代码"), s("division-wrong-level")),
            (5, s("结对村代码"), s("duplicate-in-file")),
            (6, s("结对村代码"), s("value-missing")),
        ]
    );
    let r = import(&mut conn, "needs", "dispatch/needs_errors.csv", true, OnExisting::Skip);
    assert!(!r.applied);
    assert_eq!(
        places(&r),
        vec![
            (2, s("优先级"), s("priority-out-of-range")),
            (3, s("需求专长"), s("skill-unknown")),
            (4, s("村代码"), s("division-unknown")),
            (6, s("需求专长"), s("duplicate-in-file")),
            (7, s("优先级"), s("value-missing")),
        ]
    );
    // Nothing was written by any of them.
    let counts = framework::counts(&mut conn).expect("counts");
    assert_eq!((counts["cadres"], counts["twinning"], counts["needs"]), (0, 0, 0));

    // Work logs need a roster and a residency: import the valid cadres, plan and confirm.
    let r = import(&mut conn, "cadres", "dispatch/cadres.csv", true, OnExisting::Skip);
    assert!(r.ok(), "{:?}", r.errors);
    let r = import(&mut conn, "needs", "dispatch/needs.csv", true, OnExisting::Skip);
    assert!(r.ok(), "{:?}", r.errors);
    let system = Access::system();
    let b = batch::create_batch(&mut conn, &system, &batch_input("日志测试批次", 1, 4)).expect("batch");
    batch::run(&mut conn, &system, b).expect("plan");
    batch::confirm(&mut conn, &system, b).expect("confirm");
    let r = import(
        &mut conn,
        "work_logs",
        "dispatch/work_logs_errors.csv",
        true,
        OnExisting::Skip,
    );
    assert!(!r.applied);
    assert_eq!(
        places(&r),
        vec![
            (2, s("日期"), s("residency-not-found")),
            (3, s("公民身份号码"), s("cadre-not-found")),
            (4, s("日期"), s("residency-not-found")),
            (5, s("日期"), s("cell-not-a-date")),
            (6, s("工作内容"), s("value-missing")),
            (8, s("公民身份号码"), s("duplicate-in-file")),
        ]
    );
    assert_eq!(framework::counts(&mut conn).expect("counts")["work_logs"], 0);
}
