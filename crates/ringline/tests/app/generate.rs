//! The demo registry (SPEC §3): generated into the test app's empty registry, checked with plain
//! SQL counts against the bundled divisions, and not generated twice.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use ringline::core::credit_code::CreditCode;
use ringline::core::id_number::IdNumber;
use ringline::db::schema::{audit_log, members, party_org_units, party_orgs, units};
use ringline::generate;

use crate::datong;
use crate::harness::TestApp;

on_both_backends!(demo_fills_an_empty_registry_once);

async fn demo_fills_an_empty_registry_once(app: TestApp) {
    let mut conn = app.conn();
    let s = generate::demo(&mut conn, datong::COUNTY).expect("demo");
    assert!(!s.skipped);
    // 20,000 members by construction; 2,000 units = 1 department + 20 × 3 town agencies, schools
    // and health centres + 313 village committees + 8 SOEs + 1,618 others.
    assert_eq!(s.members, 20_000);
    assert_eq!(s.units, 2_000);

    let villages = datong::of_level("village");
    let towns = datong::of_level("town");
    assert_eq!(villages.len(), 313);
    let count = |n: Result<i64, diesel::result::Error>| n.expect("count");
    let village_branches = count(
        party_orgs::table
            .filter(party_orgs::village_code.eq(party_orgs::code.nullable()))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(
        village_branches, 313,
        "one branch per village, coded with the village code"
    );
    let committees: Vec<String> = party_orgs::table
        .filter(party_orgs::kind.eq("committee"))
        .select(party_orgs::code)
        .order(party_orgs::code)
        .load(&mut *conn)
        .expect("committees");
    let mut expected: Vec<String> = towns.iter().map(|t| t.code.clone()).collect();
    expected.push(datong::COUNTY.to_string());
    expected.sort();
    assert_eq!(committees, expected, "the county's and every town's committee, by code");

    assert_eq!(count(members::table.count().get_result(&mut *conn)), 20_000);
    assert_eq!(count(units::table.count().get_result(&mut *conn)), 2_000);
    assert_eq!(
        count(party_orgs::table.count().get_result(&mut *conn)),
        i64::try_from(s.orgs).expect("fits")
    );
    let not_illustrative = count(
        members::table
            .filter(members::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    ) + count(
        units::table
            .filter(units::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    ) + count(
        party_orgs::table
            .filter(party_orgs::illustrative.eq(false))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(not_illustrative, 0);

    // Members sit where their organization is.
    let misplaced = count(
        members::table
            .inner_join(party_orgs::table)
            .filter(members::division_code.ne(party_orgs::division_code))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(misplaced, 0);
    let ids: Vec<String> = members::table.select(members::id_number).load(&mut *conn).expect("ids");
    for id in &ids {
        let p = IdNumber::parse(id, (2026, 11, 29)).expect("a valid ID number");
        assert_eq!(p.number.address_code(), "630121");
    }
    let codes: Vec<Option<String>> = units::table.select(units::credit_code).load(&mut *conn).expect("codes");
    for c in codes {
        CreditCode::parse_strict(&c.expect("every unit has a code")).expect("a valid credit code");
    }

    // Coverage of non-public enterprises and social organisations: about 70 %.
    let kinds: HashMap<i64, String> = units::table
        .select((units::id, units::kind))
        .load::<(i64, String)>(&mut *conn)
        .expect("units")
        .into_iter()
        .collect();
    let covered: HashSet<i64> = party_org_units::table
        .inner_join(party_orgs::table)
        .filter(party_orgs::mode.ne("instructor"))
        .select(party_org_units::unit_id)
        .load(&mut *conn)
        .expect("links")
        .into_iter()
        .collect();
    let two_new: Vec<i64> = kinds
        .iter()
        .filter(|(_, k)| *k == "non_public_enterprise" || *k == "social_organization")
        .map(|(id, _)| *id)
        .collect();
    let rate = two_new.iter().filter(|id| covered.contains(id)).count() as f64 / two_new.len() as f64;
    assert!((0.6..0.8).contains(&rate), "organization coverage {rate}");

    let entries = count(
        audit_log::table
            .filter(audit_log::action.eq("generate"))
            .filter(audit_log::entity.eq("registry"))
            .count()
            .get_result(&mut *conn),
    );
    assert_eq!(entries, 1);

    // A second run finds the registry in use and writes nothing.
    let again = generate::demo(&mut conn, datong::COUNTY).expect("demo again");
    assert!(again.skipped);
    assert_eq!(count(members::table.count().get_result(&mut *conn)), 20_000);
}
