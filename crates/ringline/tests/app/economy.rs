//! Collective economy and industry (SPEC C4, C5): summaries per town, zone and county against a
//! hand computation on a fixture, the village-year list and its filters, what a town-scoped and
//! a zone-scoped caller see (links outside the scope counted but not named), the configurable
//! thresholds, the Datong demo, and `ringline economy summary|villages`.
//!
//! The fixture (`tests/fixtures/economy/a_income.csv`, `a_targets.csv`) has six villages over two
//! years, in two towns of two zones. Amounts in yuan:
//!
//! | village | town | zone | 2024 | 2025 | target 2025 |
//! |---|---|---|---|---|---|
//! | A1 杏花庄村 630121103204 | 东峡镇 | 东峡线 | 30,000 + 10,000 = 40,000 (weak) | 35,000 + 15,000 + 2,500.50 = 52,500.50 (ordinary) | 50,000 |
//! | A2 仙米村 630121103205 | 东峡镇 | 东峡线 | 0 (empty shell) | 8,000 (weak) | — |
//! | A3 田家沟村 630121103206 | 东峡镇 | 东峡线 | not reported | 120,000 (strong) | 100,000 |
//! | B1 上毛佰胜村 630121101201 | 城关镇 | 城关线 | 90,000 + 10,000 = 100,000 (strong) | 85,000 + 5,000 = 90,000 (ordinary) | — |
//! | B2 下毛佰胜村 630121101202 | 城关镇 | 城关线 | 49,999.99 (weak) | 50,000.00 (ordinary) | 60,000 |
//! | B3 城关村 630121101204 | 城关镇 | 城关线 | 20,000 (weak) | 0 (empty shell) | — |
//!
//! (Classes under the SPEC defaults: empty-shell 0, weak < 50,000, ordinary < 100,000, strong
//! ≥ 100,000. B1–B3 have no point of their own and sit at 城关镇's seat, on the 城关线 path; every
//! 东峡镇 village sits at its seat, on the 东峡线 path.)

use diesel::prelude::*;
use ringline::access::{Access, Scope};
use ringline::auth::Role;
use ringline::cli::economy_cmd;
use ringline::core::economy::{ChainLink, ClassCounts, Cny, IncomeClass, IncomeSource, Thresholds};
use ringline::db::DbConn;
use ringline::db::schema::{
    audit_log, brands, collective_income, development_chains, income_targets, lead_products, party_orgs, units,
};
use ringline::economy::query::{self, BrandFilter, ChainFilter, IncomeFilter, LinkRef, ProductFilter, SourceAmount};
use ringline::economy::summary::{self, By, SummaryRow};
use ringline::economy::write::{self, NewBrand, NewChain, NewIncome, NewProduct, NewTarget};
use ringline::generate;
use ringline::registry::{self, NewOrg, NewUnit};
use ringline::zones;

use crate::datong;
use crate::harness::{TestApp, fixture_text};

on_both_backends!(
    summary_matches_the_hand_computation,
    village_years_filters_and_thresholds,
    scope_limits_figures_and_hides_links,
    datong_demo_economy,
);

const A1: &str = "630121103204";
const A2: &str = "630121103205";
const A3: &str = "630121103206";
const B1: &str = "630121101201";
const B2: &str = "630121101202";
const B3: &str = "630121101204";
/// 城关镇.
const CHENGGUAN: &str = "630121101000";

/// Fen from a yuan amount written with at most two decimals ("2500.50"), parsed by hand.
fn fen(yuan: &str) -> i64 {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, ""));
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().expect("yuan") * 100 + frac[..2].parse::<i64>().expect("fen")
}

fn cny(fen: i64) -> Cny {
    Cny::from_fen(fen).expect("not negative")
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

/// Writes the fixture's income and targets.
fn load_fixture(conn: &mut DbConn) {
    let rows: Vec<(String, i32, IncomeSource, Cny)> = fixture_text("economy/a_income.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().expect("year"),
                f[2].parse().expect("source"),
                cny(fen(f[3])),
            )
        })
        .collect();
    let income: Vec<NewIncome> = rows
        .iter()
        .map(|(v, y, s, a)| NewIncome {
            village_code: v.to_string(),
            year: *y,
            source: *s,
            amount: *a,
            illustrative: false,
        })
        .collect();
    write::insert_income(conn, &income).expect("income");
    let targets: Vec<NewTarget> = fixture_text("economy/a_targets.csv")
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            NewTarget {
                village_code: f[0].to_string(),
                year: f[1].parse().expect("year"),
                target: cny(fen(f[2])),
                illustrative: false,
            }
        })
        .collect();
    write::insert_targets(conn, &targets).expect("targets");
}

fn access(conn: &mut DbConn, role: Role, scope: &str) -> Access {
    Access::resolve(conn, 4242, "tester", role, Scope::parse(scope).expect("scope")).expect("access")
}

/// The default program's zones, in display order: (id, name).
fn datong_zones(conn: &mut DbConn) -> Vec<(i64, String)> {
    let system = Access::system();
    let program = zones::programs(conn, &system).expect("programs")[0].id;
    zones::zones_of(conn, &system, program)
        .expect("zones")
        .into_iter()
        .map(|z| (z.id, z.name))
        .collect()
}

/// Villages of a town in `data/datong/divisions.csv`.
fn villages_of_town(town: &str) -> usize {
    datong::of_level("village").iter().filter(|v| v.parent == town).count()
}

fn row<'a>(rows: &'a [SummaryRow], key: &str) -> &'a SummaryRow {
    rows.iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("a row {key}"))
}

/// The 2025 figures of 东峡镇's villages (A1–A3), checked wherever they appear.
fn assert_dongxia_2025(r: &SummaryRow) {
    assert_eq!(r.year, 2025);
    assert_eq!(r.reported, 3);
    // 52,500.50 ordinary, 8,000 weak, 120,000 strong.
    assert_eq!(
        r.summary.counts,
        ClassCounts {
            empty_shell: 0,
            weak: 1,
            ordinary: 1,
            strong: 1
        }
    );
    // ≥ 50,000: 52,500.50 and 120,000 → 2 / 3.
    assert!(close(r.summary.share_at_least_50k, 2.0 / 3.0));
    // 52,500.50 + 8,000 + 120,000 = 180,500.50 yuan = 18,050,050 fen.
    assert_eq!(r.summary.total.fen(), 18_050_050);
    // 18,050,050 / 3 = 6,016,683.33… → 6,016,683 fen.
    assert_eq!(r.summary.mean, Some(cny(6_016_683)));
    // Sorted 8,000 | 52,500.50 | 120,000 → 5,250,050 fen.
    assert_eq!(r.summary.median, Some(cny(5_250_050)));
    // Like for like: A1 and A2 reported in 2024 (A3 did not): 40,000 + 0 = 40,000 →
    // 52,500.50 + 8,000 = 60,500.50; (60,500.50 − 40,000) / 40,000 = 20,500.50 / 40,000
    // = 0.5125125. (Counting A3 would give 180,500.50 / 40,000 − 1 = 3.51.)
    assert!(close(r.growth, 2_050_050.0 / 4_000_000.0), "{:?}", r.growth);
    assert!(close(r.growth, 0.5125125));
    // Targets: A1 50,000 + A3 100,000 = 150,000 yuan.
    assert_eq!(r.target_total, Some(cny(15_000_000)));
    assert!(!r.illustrative);
}

/// The 2025 figures of 城关镇's villages (B1–B3).
fn assert_chengguan_2025(r: &SummaryRow) {
    assert_eq!(r.reported, 3);
    // 90,000 ordinary, 50,000.00 ordinary (the lower bound is inclusive), 0 empty shell.
    assert_eq!(
        r.summary.counts,
        ClassCounts {
            empty_shell: 1,
            weak: 0,
            ordinary: 2,
            strong: 0
        }
    );
    // ≥ 50,000: 90,000 and 50,000.00 → 2 / 3.
    assert!(close(r.summary.share_at_least_50k, 2.0 / 3.0));
    // 90,000 + 50,000 + 0 = 140,000 yuan.
    assert_eq!(r.summary.total.fen(), 14_000_000);
    // 14,000,000 / 3 = 4,666,666.67 → 4,666,667 fen.
    assert_eq!(r.summary.mean, Some(cny(4_666_667)));
    assert_eq!(r.summary.median, Some(cny(5_000_000)));
    // All three reported in 2024: 100,000 + 49,999.99 + 20,000 = 169,999.99 → 140,000:
    // (140,000 − 169,999.99) / 169,999.99 = −29,999.99 / 169,999.99 = −2,999,999 / 16,999,999 fen
    // ≈ −0.176471.
    assert!(close(r.growth, -2_999_999.0 / 16_999_999.0), "{:?}", r.growth);
    assert!((r.growth.expect("growth") + 0.176_470_6).abs() < 1e-6);
    // Targets 2025: B2 60,000 (B2's 2024 target does not count).
    assert_eq!(r.target_total, Some(cny(6_000_000)));
}

async fn summary_matches_the_hand_computation(app: TestApp) {
    let mut conn = app.conn();
    load_fixture(&mut conn);
    let system = Access::system();
    let t = Thresholds::default();

    // By town: every one of Datong's 20 towns, with or without income, by code.
    let towns = summary::summary(&mut conn, &system, 2025, By::Town, None, &t).expect("by town");
    let expected: Vec<String> = datong::of_level("town").into_iter().map(|r| r.code).collect();
    assert_eq!(towns.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), expected);
    for r in &towns {
        assert_eq!(r.villages, villages_of_town(&r.key), "{}", r.name);
        if r.key != datong::DONGXIA && r.key != CHENGGUAN {
            assert_eq!(r.reported, 0, "{}", r.name);
            assert_eq!(r.summary.villages, 0);
            assert_eq!(r.summary.counts, ClassCounts::default());
            assert_eq!(
                (r.summary.share_at_least_50k, r.summary.mean, r.growth),
                (None, None, None)
            );
            assert_eq!(r.target_total, None);
        }
    }
    let dongxia = row(&towns, datong::DONGXIA);
    assert_eq!(dongxia.name, "东峡镇");
    assert_eq!(dongxia.villages, 14);
    assert_dongxia_2025(dongxia);
    // 2 of the 3 reported villages are ordinary or strong… and 1 of 3 is weak.
    assert!(close(dongxia.class_share(IncomeClass::Weak), 1.0 / 3.0));
    assert!(close(dongxia.reporting_rate(), 3.0 / 14.0));
    let chengguan = row(&towns, CHENGGUAN);
    assert_eq!(chengguan.villages, 21);
    assert_chengguan_2025(chengguan);

    // By county: all six villages of the 313.
    let county = summary::summary(&mut conn, &system, 2025, By::County, None, &t).expect("by county");
    assert_eq!(county.len(), 1);
    let c = &county[0];
    assert_eq!((c.key.as_str(), c.villages, c.reported), (datong::COUNTY, 313, 6));
    // 0 empty shell (B3), 8,000 weak (A2), 50,000 / 52,500.50 / 90,000 ordinary (B2, A1, B1),
    // 120,000 strong (A3).
    assert_eq!(
        c.summary.counts,
        ClassCounts {
            empty_shell: 1,
            weak: 1,
            ordinary: 3,
            strong: 1
        }
    );
    // ≥ 50,000: 52,500.50, 120,000, 90,000, 50,000 → 4 / 6.
    assert!(close(c.summary.share_at_least_50k, 4.0 / 6.0));
    // 18,050,050 + 14,000,000 = 32,050,050 fen; / 6 = 5,341,675 fen exactly.
    assert_eq!(c.summary.total.fen(), 32_050_050);
    assert_eq!(c.summary.mean, Some(cny(5_341_675)));
    // Sorted 0, 8,000, 50,000 | 52,500.50, 90,000, 120,000: (5,000,000 + 5,250,050) / 2
    // = 5,125,025 fen.
    assert_eq!(c.summary.median, Some(cny(5_125_025)));
    // Like for like (A1, A2, B1, B2, B3): 40,000 + 0 + 169,999.99 = 209,999.99 →
    // 52,500.50 + 8,000 + 140,000 = 200,500.50; −9,499.49 / 209,999.99 = −949,949 / 20,999,999.
    assert!(close(c.growth, -949_949.0 / 20_999_999.0), "{:?}", c.growth);
    assert_eq!(c.target_total, Some(cny(21_000_000)));

    // By zone: the four zones of the default program, in display order; 东峡线 holds A1–A3 of
    // its 37 villages, 城关线 B1–B3 of its 48.
    let zs = datong_zones(&mut conn);
    let by_zone = summary::summary(&mut conn, &system, 2025, By::Zone, None, &t).expect("by zone");
    assert_eq!(
        by_zone
            .iter()
            .map(|r| (r.key.clone(), r.name.clone()))
            .collect::<Vec<_>>(),
        zs.iter().map(|(id, n)| (id.to_string(), n.clone())).collect::<Vec<_>>()
    );
    let counts: Vec<usize> = by_zone.iter().map(|r| r.villages).collect();
    let expected: Vec<usize> = datong::ZONE_MEMBER_COUNTS
        .iter()
        .map(|&n| usize::try_from(n).expect("count"))
        .collect();
    assert_eq!(counts, expected);
    assert_eq!(by_zone[1].name, "东峡线");
    assert_eq!(by_zone[1].name_en.as_deref(), Some("Dongxia line"));
    assert_dongxia_2025(&by_zone[1]);
    assert_eq!(by_zone[2].name, "城关线");
    assert_chengguan_2025(&by_zone[2]);
    for r in [&by_zone[0], &by_zone[3]] {
        assert_eq!((r.reported, r.growth, r.target_total), (0, None, None));
    }
    // The same through an explicit program id.
    let program = zones::programs(&mut conn, &system).expect("programs")[0].id;
    let again = summary::summary(&mut conn, &system, 2025, By::Zone, Some(program), &t).expect("by zone");
    assert_eq!(again, by_zone);
    assert!(
        summary::summary(&mut conn, &system, 2025, By::Zone, Some(program + 100), &t)
            .expect("unknown program")
            .is_empty()
    );

    // 2024: the year before has no data, so no growth; A3 had not reported.
    let towns = summary::summary(&mut conn, &system, 2024, By::Town, None, &t).expect("2024");
    let d = row(&towns, datong::DONGXIA);
    assert_eq!(d.reported, 2);
    // 40,000 weak, 0 empty shell; none ≥ 50,000.
    assert_eq!(
        d.summary.counts,
        ClassCounts {
            empty_shell: 1,
            weak: 1,
            ordinary: 0,
            strong: 0
        }
    );
    assert!(close(d.summary.share_at_least_50k, 0.0));
    assert_eq!(d.growth, None);
    assert_eq!(d.target_total, None);
    let cg = row(&towns, CHENGGUAN);
    // 100,000 strong, 49,999.99 and 20,000 weak: 1 of 3 ≥ 50,000; median 49,999.99.
    assert_eq!(
        cg.summary.counts,
        ClassCounts {
            empty_shell: 0,
            weak: 2,
            ordinary: 0,
            strong: 1
        }
    );
    assert!(close(cg.summary.share_at_least_50k, 1.0 / 3.0));
    assert_eq!(cg.summary.median, Some(cny(4_999_999)));
    assert_eq!(cg.target_total, Some(cny(5_500_000)));

    // The JSON of `ringline economy summary`: fractions and integer fen.
    let json = serde_json::to_value(economy_cmd::summary_json(&county)).expect("json");
    let j = &json[0];
    assert_eq!(j["key"], datong::COUNTY);
    assert_eq!(j["year"], 2025);
    assert_eq!(j["villages"], 313);
    assert_eq!(j["reported"], 6);
    assert_eq!(
        (&j["empty_shell"], &j["weak"], &j["ordinary"], &j["strong"]),
        (&1.into(), &1.into(), &3.into(), &1.into())
    );
    assert!(close(j["share_at_least_50k"].as_f64(), 4.0 / 6.0));
    assert_eq!(j["total_fen"], 32_050_050);
    assert_eq!(j["mean_fen"], 5_341_675);
    assert_eq!(j["median_fen"], 5_125_025);
    assert!(close(j["growth"].as_f64(), -949_949.0 / 20_999_999.0));
    assert_eq!(j["target_total_fen"], 21_000_000);
    let keys: Vec<&str> = j.as_object().expect("object").keys().map(String::as_str).collect();
    let mut expected = vec![
        "key",
        "name",
        "year",
        "villages",
        "reported",
        "empty_shell",
        "weak",
        "ordinary",
        "strong",
        "share_at_least_50k",
        "total_fen",
        "mean_fen",
        "median_fen",
        "growth",
        "target_total_fen",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
}

async fn village_years_filters_and_thresholds(app: TestApp) {
    let mut conn = app.conn();
    load_fixture(&mut conn);
    let system = Access::system();
    let t = Thresholds::default();
    assert_eq!(
        query::income_years(&mut conn, &system).expect("years"),
        vec![2024, 2025]
    );

    // 东峡镇 in 2025, by village code.
    let f = IncomeFilter {
        year: Some(2025),
        under: Some(datong::DONGXIA.into()),
        ..Default::default()
    };
    let (rows, total) = query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("incomes");
    assert_eq!(total, 3);
    let codes: Vec<&str> = rows.iter().map(|r| r.village_code.as_str()).collect();
    assert_eq!(codes, [A1, A2, A3]);
    let a1 = &rows[0];
    assert_eq!(a1.village_name.as_deref(), Some("杏花庄村委会"));
    assert_eq!(a1.town_code.as_deref(), Some(datong::DONGXIA));
    assert_eq!(a1.town_name.as_deref(), Some("东峡镇"));
    // Sources in account order; operating, subsidies and other not reported.
    assert_eq!(
        a1.by_source,
        vec![
            SourceAmount {
                source: IncomeSource::ContractingLeasing,
                amount: cny(3_500_000)
            },
            SourceAmount {
                source: IncomeSource::InvestmentReturns,
                amount: cny(1_500_000)
            },
            SourceAmount {
                source: IncomeSource::Services,
                amount: cny(250_050)
            },
        ]
    );
    assert_eq!(a1.amount(IncomeSource::Operating), None);
    assert_eq!(a1.total, cny(5_250_050));
    assert_eq!(a1.class, IncomeClass::Ordinary);
    assert_eq!(a1.target, Some(cny(5_000_000)));
    // 40,000 → 52,500.50: 12,500.50 / 40,000 = 0.3125125.
    assert_eq!(a1.previous_total, Some(cny(4_000_000)));
    assert!(close(a1.growth, 0.3125125));
    // A2: from 0 growth is undefined; A3: the year before not reported.
    assert_eq!(rows[1].class, IncomeClass::Weak);
    assert_eq!((rows[1].previous_total, rows[1].growth), (Some(Cny::ZERO), None));
    assert_eq!(rows[1].target, None);
    assert_eq!(rows[2].class, IncomeClass::Strong);
    assert_eq!((rows[2].previous_total, rows[2].growth), (None, None));
    assert_eq!(rows[2].target, Some(cny(10_000_000)));

    // One village's history, oldest first.
    let f = IncomeFilter {
        village: Some(B1.into()),
        ..Default::default()
    };
    let (rows, _) = query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("history");
    let history: Vec<(i32, i64, IncomeClass)> = rows.iter().map(|r| (r.year, r.total.fen(), r.class)).collect();
    assert_eq!(
        history,
        vec![
            (2024, 10_000_000, IncomeClass::Strong),
            (2025, 9_000_000, IncomeClass::Ordinary)
        ]
    );
    // 100,000 → 90,000: −0.1.
    assert!(close(rows[1].growth, -0.1));

    // By class over both years: the empty shells are A2 in 2024 and B3 in 2025 (a reported 0).
    let f = IncomeFilter {
        class: Some(IncomeClass::EmptyShell),
        ..Default::default()
    };
    let (rows, total) = query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("empty shells");
    assert_eq!(total, 2);
    // By village code (城关镇 101 before 东峡镇 103), then year.
    assert_eq!(
        rows.iter()
            .map(|r| (r.village_code.as_str(), r.year))
            .collect::<Vec<_>>(),
        vec![(B3, 2025), (A2, 2024)]
    );
    // Paged: the second of the two, with the total still 2.
    let (page, total) = query::incomes(&mut conn, &system, &f, &t, 1, 1).expect("page");
    assert_eq!(total, 2);
    assert_eq!(page.len(), 1);
    assert_eq!((page[0].village_code.as_str(), page[0].year), (A2, 2024));
    // By zone: 城关线 holds B1–B3.
    let chengguan_line = datong_zones(&mut conn)[2].0;
    let f = IncomeFilter {
        year: Some(2025),
        zone_id: Some(chengguan_line),
        ..Default::default()
    };
    let (rows, _) = query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("zone");
    assert_eq!(
        rows.iter().map(|r| r.village_code.as_str()).collect::<Vec<_>>(),
        [B1, B2, B3]
    );
    // A malformed subtree matches nothing.
    let f = IncomeFilter {
        under: Some("not a code".into()),
        ..Default::default()
    };
    assert_eq!(query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("none").1, 0);

    // Other thresholds (weak < 30,000, ordinary < 80,000) change the classes, not the share
    // ≥ 50,000: 2025 county: 0 empty, 8,000 weak, 50,000 and 52,500.50 ordinary, 90,000 and
    // 120,000 strong.
    let low = Thresholds {
        weak_below: Cny::from_yuan(30_000),
        ordinary_below: Cny::from_yuan(80_000),
    };
    let county = summary::summary(&mut conn, &system, 2025, By::County, None, &low).expect("county");
    assert_eq!(
        county[0].summary.counts,
        ClassCounts {
            empty_shell: 1,
            weak: 1,
            ordinary: 2,
            strong: 2
        }
    );
    assert!(close(county[0].summary.share_at_least_50k, 4.0 / 6.0));
    let f = IncomeFilter {
        year: Some(2025),
        class: Some(IncomeClass::Strong),
        ..Default::default()
    };
    let (rows, _) = query::incomes(&mut conn, &system, &f, &low, 100, 0).expect("strong");
    assert_eq!(
        rows.iter().map(|r| r.village_code.as_str()).collect::<Vec<_>>(),
        [B1, A3]
    );

    // The JSON of `ringline economy villages`.
    let f = IncomeFilter {
        year: Some(2025),
        village: Some(A1.into()),
        ..Default::default()
    };
    let (rows, _) = query::incomes(&mut conn, &system, &f, &t, 100, 0).expect("A1");
    let json = serde_json::to_value(economy_cmd::villages_json(&rows)).expect("json");
    let j = &json[0];
    assert_eq!(j["village_code"], A1);
    assert_eq!(j["contracting_leasing_fen"], 3_500_000);
    assert_eq!(j["services_fen"], 250_050);
    assert!(j["operating_fen"].is_null());
    assert_eq!(j["total_fen"], 5_250_050);
    assert_eq!(j["class"], "ordinary");
    assert_eq!(j["previous_total_fen"], 4_000_000);
}

/// Registers a unit and returns its id.
fn unit(conn: &mut DbConn, name: &str, kind: &str, division: &str) -> i64 {
    let at = chrono::Utc::now().naive_utc();
    registry::insert_units(
        conn,
        &[NewUnit {
            name: name.into(),
            kind: kind.into(),
            credit_code: None,
            credit_code_unverified: false,
            division_code: division.into(),
            address: String::new(),
            lon: None,
            lat: None,
            headcount: Some(12),
            party_member_count: None,
            illustrative: false,
            created_at: at,
            updated_at: at,
        }],
    )
    .expect("unit");
    units::table
        .filter(units::name.eq(name))
        .select(units::id)
        .first(conn)
        .expect("unit id")
}

async fn scope_limits_figures_and_hides_links(app: TestApp) {
    let mut conn = app.conn();
    load_fixture(&mut conn);
    let system = Access::system();
    let t = Thresholds::default();
    let town = access(&mut conn, Role::TownAdmin, datong::DONGXIA);
    let other_town = access(&mut conn, Role::TownAdmin, CHENGGUAN);

    // A town administrator's summaries hold their town only.
    let rows = summary::summary(&mut conn, &town, 2025, By::Town, None, &t).expect("by town");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, datong::DONGXIA);
    assert_eq!(rows[0].villages, 14);
    assert_dongxia_2025(&rows[0]);
    let county = summary::summary(&mut conn, &town, 2025, By::County, None, &t).expect("by county");
    assert_eq!(county.len(), 1);
    assert_eq!((county[0].key.as_str(), county[0].villages), (datong::COUNTY, 14));
    assert_dongxia_2025(&county[0]);
    // By zone: the program's four zones, with only the town's villages counted.
    let by_zone = summary::summary(&mut conn, &town, 2025, By::Zone, None, &t).expect("by zone");
    assert_eq!(
        by_zone.iter().map(|r| (r.villages, r.reported)).collect::<Vec<_>>(),
        vec![(0, 0), (14, 3), (0, 0), (0, 0)]
    );
    let (rows, total) = query::incomes(&mut conn, &town, &IncomeFilter::default(), &t, 100, 0).expect("incomes");
    // A1 2024, 2025; A2 2024, 2025; A3 2025.
    assert_eq!(total, 5);
    assert!(rows.iter().all(|r| r.village_code.starts_with("630121103")));
    let f = IncomeFilter {
        village: Some(B1.into()),
        ..Default::default()
    };
    assert_eq!(query::incomes(&mut conn, &town, &f, &t, 100, 0).expect("B1").1, 0);

    // A zone-scoped viewer of 东峡线: that zone's villages (and the towns they lie in).
    let dongxia_line = datong_zones(&mut conn)[1].0;
    let zone = access(&mut conn, Role::Viewer, &format!("zone:{dongxia_line}"));
    let by_zone = summary::summary(&mut conn, &zone, 2025, By::Zone, None, &t).expect("zone viewer");
    assert_eq!(
        by_zone.iter().map(|r| (r.villages, r.reported)).collect::<Vec<_>>(),
        vec![(0, 0), (37, 3), (0, 0), (0, 0)]
    );
    assert_dongxia_2025(&by_zone[1]);
    let towns = summary::summary(&mut conn, &zone, 2025, By::Town, None, &t).expect("zone towns");
    // 东峡线 = 东峡镇 14 + 桦林乡 14 + 向化藏族乡 9 (tests/app/datong.rs).
    assert_eq!(
        towns.iter().map(|r| (r.key.as_str(), r.villages)).collect::<Vec<_>>(),
        vec![("630121103000", 14), ("630121208000", 9), ("630121209000", 14)]
    );
    assert_eq!(query::income_years(&mut conn, &zone).expect("years"), vec![2024, 2025]);

    // A chain in A1 whose company is registered in 城关镇, and brands of both towns.
    let cooperative = unit(&mut conn, "杏花庄牦牛养殖专业合作社", "cooperative", A1);
    let company = unit(&mut conn, "城关牦牛肉食品有限公司", "non_public_enterprise", B1);
    let at = chrono::Utc::now().naive_utc();
    registry::insert_orgs(
        &mut conn,
        &[NewOrg {
            code: A1.into(),
            name: "杏花庄村党支部".into(),
            kind: "branch".into(),
            parent_id: None,
            mode: "own".into(),
            unit_id: None,
            village_code: Some(A1.into()),
            division_code: A1.into(),
            illustrative: false,
            created_at: at,
            updated_at: at,
        }],
    )
    .expect("branch");
    let branch: i64 = party_orgs::table
        .filter(party_orgs::code.eq(A1))
        .select(party_orgs::id)
        .first(&mut *conn)
        .expect("branch id");
    write::insert_chains(
        &mut conn,
        &[NewChain {
            village_code: A1.into(),
            product: "牦牛肉".into(),
            branch_org_id: Some(branch),
            association_unit_id: Some(cooperative),
            company_unit_id: Some(company),
            market_unit_id: None,
            illustrative: false,
        }],
    )
    .expect("chain");
    write::insert_products(
        &mut conn,
        &[
            NewProduct {
                village_code: A1.into(),
                year: 2025,
                name: "牦牛肉".into(),
                category: "livestock".into(),
                scale: Some(320.0),
                scale_unit: "头".into(),
                output_value: Some(Cny::from_yuan(960_000)),
                households: Some(24),
                income_per_household: Some(Cny::from_yuan(21_000)),
                illustrative: false,
            },
            NewProduct {
                village_code: B1.into(),
                year: 2025,
                name: "鸡腿葱".into(),
                category: "planting".into(),
                scale: Some(450.0),
                scale_unit: "亩".into(),
                output_value: Some(Cny::from_yuan(3_600_000)),
                households: Some(150),
                income_per_household: Some(Cny::from_yuan(11_000)),
                illustrative: false,
            },
        ],
    )
    .expect("products");
    write::insert_brands(
        &mut conn,
        &[
            NewBrand {
                name: "杏花庄村“牦牛红·党旗红”".into(),
                owner_unit_id: None,
                owner_village: Some(A1.into()),
                division_code: A1.into(),
                zone_id: Some(dongxia_line),
                level: "county".into(),
                year: 2024,
                illustrative: false,
            },
            NewBrand {
                name: "城关“葱香党旗红”".into(),
                owner_unit_id: Some(company),
                owner_village: None,
                division_code: B1.into(),
                zone_id: None,
                level: "city".into(),
                year: 2025,
                illustrative: false,
            },
        ],
    )
    .expect("brands");

    // The system sees every link named: completeness 3 of 4, the market missing.
    let (chains, _) = query::chains(&mut conn, &system, &ChainFilter::default(), 100, 0).expect("chains");
    assert_eq!(chains.len(), 1);
    let c = &chains[0];
    assert_eq!((c.completeness, c.missing.clone()), (3, vec![ChainLink::Market]));
    assert_eq!(
        c.company,
        Some(LinkRef {
            id: Some(company),
            name: Some("城关牦牛肉食品有限公司".into())
        })
    );
    assert_eq!(
        c.branch.as_ref().and_then(|b| b.name.clone()).as_deref(),
        Some("杏花庄村党支部")
    );
    assert_eq!(c.village_name.as_deref(), Some("杏花庄村委会"));
    // 东峡镇's administrator sees the chain; the 城关镇 company is counted but not named.
    let (chains, total) = query::chains(&mut conn, &town, &ChainFilter::default(), 100, 0).expect("chains");
    assert_eq!(total, 1);
    let c = &chains[0];
    assert_eq!(c.completeness, 3);
    assert_eq!(c.company, Some(LinkRef { id: None, name: None }));
    assert!(c.company.as_ref().is_some_and(LinkRef::is_hidden));
    assert_eq!(
        c.association,
        Some(LinkRef {
            id: Some(cooperative),
            name: Some("杏花庄牦牛养殖专业合作社".into())
        })
    );
    assert_eq!(c.market, None);
    // 城关镇's administrator does not see a chain of a 东峡镇 village.
    assert_eq!(
        query::chains(&mut conn, &other_town, &ChainFilter::default(), 100, 0)
            .expect("chains")
            .1,
        0
    );

    // Products: each town its own; filters by zone and name.
    let (products, _) = query::products(&mut conn, &town, &ProductFilter::default(), 100, 0).expect("products");
    assert_eq!(
        products.iter().map(|p| p.village_code.as_str()).collect::<Vec<_>>(),
        [A1]
    );
    assert_eq!(products[0].town_name.as_deref(), Some("东峡镇"));
    assert_eq!(products[0].output_value, Some(Cny::from_yuan(960_000)));
    let f = ProductFilter {
        zone_id: Some(dongxia_line),
        ..Default::default()
    };
    let (products, _) = query::products(&mut conn, &system, &f, 100, 0).expect("zone products");
    assert_eq!(products.len(), 1);
    let f = ProductFilter {
        q: Some("葱".into()),
        year: Some(2025),
        ..Default::default()
    };
    let (products, _) = query::products(&mut conn, &system, &f, 100, 0).expect("q");
    assert_eq!(
        products.iter().map(|p| p.village_code.as_str()).collect::<Vec<_>>(),
        [B1]
    );

    // Brands: the town sees its village's brand, not the 城关镇 company's.
    let (list, _) = query::brands(&mut conn, &town, &BrandFilter::default(), 100, 0).expect("brands");
    assert_eq!(
        list.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["杏花庄村“牦牛红·党旗红”"]
    );
    assert_eq!(list[0].zone_name.as_deref(), Some("东峡线"));
    assert_eq!(list[0].owner_village_name.as_deref(), Some("杏花庄村委会"));
    // Owned by a unit located in B1: found by the village filter, owner named for the system.
    let f = BrandFilter {
        village: Some(B1.into()),
        ..Default::default()
    };
    let (list, _) = query::brands(&mut conn, &system, &f, 100, 0).expect("B1 brands");
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].owner_unit.as_ref().and_then(|u| u.name.clone()).as_deref(),
        Some("城关牦牛肉食品有限公司")
    );
    let f = BrandFilter {
        level: Some("city".into()),
        ..Default::default()
    };
    assert_eq!(query::brands(&mut conn, &system, &f, 100, 0).expect("city").1, 1);
    assert_eq!(
        query::brands(&mut conn, &other_town, &BrandFilter::default(), 100, 0)
            .expect("b")
            .1,
        1
    );
}

/// JSON values equal but for the last bits of fractions (serde_json's parser does not always
/// round the last digit of a printed `f64` back to the same value).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            close(x.as_f64(), y.as_f64().unwrap_or(f64::NAN))
        }
        _ => a == b,
    }
}

/// Runs the built binary on this app's SQLite database (`None` on PostgreSQL).
fn cli(app: &TestApp, args: &[&str]) -> Option<std::process::Output> {
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

async fn datong_demo_economy(app: TestApp) {
    let mut conn = app.conn();
    let s = generate::demo(&mut conn, datong::COUNTY).expect("demo");
    let e = s.economy;
    assert!(!e.skipped);
    let system = Access::system();
    let t = Thresholds::default();
    let count = |n: Result<i64, diesel::result::Error>| usize::try_from(n.expect("count")).expect("count");

    // Income of every village and community for 2021–2025, targets up to 2026.
    assert_eq!(e.village_years, 313 * 5);
    assert_eq!(e.targets, 313 * 6);
    assert_eq!(
        count(collective_income::table.count().get_result(&mut *conn)),
        e.income_rows
    );
    assert_eq!(count(income_targets::table.count().get_result(&mut *conn)), e.targets);
    assert_eq!(
        query::income_years(&mut conn, &system).expect("years"),
        (2021..=2025).collect::<Vec<_>>()
    );
    // Lead products of every village (not the 24 communities) every year, of the county's own.
    let villages_with_products: std::collections::BTreeSet<String> = lead_products::table
        .filter(lead_products::year.eq(2025))
        .select(lead_products::village_code)
        .load::<String>(&mut *conn)
        .expect("villages")
        .into_iter()
        .collect();
    assert_eq!(villages_with_products.len(), 289);
    let names: Vec<String> = lead_products::table
        .select(lead_products::name)
        .distinct()
        .load(&mut *conn)
        .expect("names");
    assert!(names.iter().all(|n| {
        ["牦牛肉", "鸡腿葱", "油菜", "青稞", "蚕豆", "马铃薯", "乡村旅游"].contains(&n.as_str())
    }));
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(count(lead_products::table.count().get_result(&mut *conn)), e.products);
    // Chains and brands.
    assert_eq!(e.chains, 40);
    assert_eq!(count(development_chains::table.count().get_result(&mut *conn)), 40);
    let (chains, _) = query::chains(&mut conn, &system, &ChainFilter::default(), 100, 0).expect("chains");
    assert!(chains.iter().any(|c| c.completeness == 4), "some chains complete");
    assert!(chains.iter().any(|c| c.completeness < 4), "some links missing");
    assert!(chains.iter().all(|c| c.completeness >= 1));
    assert_eq!(e.brands, 12);
    let (brand_list, _) = query::brands(&mut conn, &system, &BrandFilter::default(), 100, 0).expect("brands");
    assert_eq!(brand_list.len(), 12);
    for level in ["county", "city", "province", "national"] {
        assert!(brand_list.iter().any(|b| b.level == level), "{level}");
    }
    assert!(brand_list.iter().any(|b| b.owner_unit.is_some()));
    assert!(brand_list.iter().any(|b| b.owner_village_code.is_some()));
    assert!(brand_list.iter().all(|b| b.illustrative));
    // Everything illustrative.
    let real = count(
        collective_income::table
            .filter(collective_income::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    ) + count(
        lead_products::table
            .filter(lead_products::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    ) + count(
        brands::table
            .filter(brands::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(real, 0);
    let audited = count(
        audit_log::table
            .filter(audit_log::action.eq("generate"))
            .filter(audit_log::entity.eq("economy"))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(audited, 1);

    // A plausible county that grows: few empty shells left in 2025, a good share weak.
    let first = summary::summary(&mut conn, &system, 2021, By::County, None, &t).expect("2021");
    let last = summary::summary(&mut conn, &system, 2025, By::County, None, &t).expect("2025");
    let (c21, c25) = (&first[0], &last[0]);
    assert_eq!((c25.villages, c25.reported), (313, 313));
    assert!(c21.summary.counts.empty_shell >= 20, "{:?}", c21.summary.counts);
    assert!(
        (1..=10).contains(&c25.summary.counts.empty_shell),
        "{:?}",
        c25.summary.counts
    );
    for class in [IncomeClass::Weak, IncomeClass::Ordinary, IncomeClass::Strong] {
        let share = c25.class_share(class).expect("share");
        assert!((0.15..0.5).contains(&share), "{class}: {share}");
    }
    assert!(c25.summary.share_at_least_50k > c21.summary.share_at_least_50k);
    assert!(c25.growth.is_some_and(|g| g > 0.0), "{:?}", c25.growth);
    assert!(c25.target_total.is_some());
    assert!(c25.illustrative);

    // `ringline economy summary --year 2025 --by zone --format json`: exactly the four zones.
    let zs = datong_zones(&mut conn);
    let rows = summary::summary(&mut conn, &system, 2025, By::Zone, None, &t).expect("by zone");
    let json = serde_json::to_value(economy_cmd::summary_json(&rows)).expect("json");
    let listed: Vec<(String, String)> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().expect("key").to_string(),
                r["name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        zs.iter().map(|(id, n)| (id.to_string(), n.clone())).collect::<Vec<_>>()
    );
    assert_eq!(
        zs.iter().map(|z| z.1.as_str()).collect::<Vec<_>>(),
        ["一环 商贸经济示范区", "东峡线", "城关线", "第三线（川外片区）"]
    );
    for (r, n) in json.as_array().expect("array").iter().zip(datong::ZONE_MEMBER_COUNTS) {
        assert_eq!(r["villages"], n);
        assert_eq!(r["reported"], n);
        let classes: i64 = ["empty_shell", "weak", "ordinary", "strong"]
            .iter()
            .map(|k| r[k].as_i64().expect("count"))
            .sum();
        assert_eq!(classes, n);
    }
    if let Some(out) = cli(
        &app,
        &[
            "economy", "summary", "--year", "2025", "--by", "zone", "--format", "json",
        ],
    ) {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert!(same_json(&printed, &json), "{printed}\n{json}");
        // Without --year: the last full year in China; without --by: zones.
        let out = cli(&app, &["economy", "summary", "--format", "json"]).expect("sqlite");
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(printed.as_array().map(Vec::len), Some(4));
        assert_eq!(printed[0]["year"], summary::default_year());
        // CSV: the same keys as the header, fractions 0–1, fen.
        let out = cli(
            &app,
            &[
                "economy", "summary", "--year", "2025", "--by", "town", "--format", "csv",
            ],
        )
        .expect("sqlite");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "key,name,year,villages,reported,empty_shell,weak,ordinary,strong,share_at_least_50k,total_fen,\
                 mean_fen,median_fen,growth,target_total_fen"
            )
        );
        assert_eq!(lines.count(), 20);
        // Villages of one class, as a table.
        let out = cli(
            &app,
            &[
                "economy",
                "villages",
                "--year",
                "2025",
                "--class",
                "empty_shell",
                "--format",
                "json",
            ],
        )
        .expect("sqlite");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(printed.as_array().map(Vec::len), Some(c25.summary.counts.empty_shell));
        assert!(
            printed
                .as_array()
                .expect("array")
                .iter()
                .all(|r| r["class"] == "empty_shell" && r["total_fen"] == 0)
        );
        let out = cli(&app, &["economy", "villages", "--class", "rich"]).expect("sqlite");
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown income class"));
    }

    // Written once.
    let again = generate::demo(&mut conn, datong::COUNTY).expect("demo again");
    assert!(again.skipped && again.economy.skipped);
    assert_eq!(count(development_chains::table.count().get_result(&mut *conn)), 40);
}
