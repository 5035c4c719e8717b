//! Zone membership through the library: recomputation after a rename, and include/exclude
//! overrides (SPEC C2).

use diesel::prelude::*;
use ringline::db::DbConn;
use ringline::db::schema::zone_overrides;
use ringline::import::divisions::{self as imp, Options};
use ringline::zones;

use crate::calls;
use crate::datong::ZONE_MEMBER_COUNTS;
use crate::harness::{TestApp, fixture_text};

/// The default program's id and its zones' ids in display order.
fn ids(conn: &mut DbConn) -> (i64, Vec<i64>) {
    let pid = calls::program_id(conn);
    let zs = calls::zones_of(conn, pid);
    (pid, zs.into_iter().map(|z| z.id).collect())
}

fn counts(conn: &mut DbConn, pid: i64) -> Vec<i64> {
    calls::zones_of(conn, pid).into_iter().map(|z| z.member_count).collect()
}

fn add_override(conn: &mut DbConn, zone_id: i64, code: &str, action: &str) {
    diesel::insert_into(zone_overrides::table)
        .values((
            zone_overrides::zone_id.eq(zone_id),
            zone_overrides::division_code.eq(code),
            zone_overrides::action.eq(action),
            zone_overrides::note.eq("test"),
        ))
        .execute(conn)
        .expect("insert override");
}

async fn recompute_after_a_rename_keeps_membership(app: TestApp) {
    let mut conn = app.conn();
    let (pid, zone_ids) = ids(&mut conn);
    assert_eq!(counts(&mut conn, pid), ZONE_MEMBER_COUNTS);
    let before = calls::zone_members(&mut conn, zone_ids[1]);

    let renamed =
        fixture_text("datong_dongxia.csv").replace("630121103201,南滩村委会,", "630121103201,南滩新村村委会,");
    let path = app.write_file("renamed.csv", renamed.as_bytes());
    let opts = Options::default();
    let r = imp::read(&path, &opts).expect("read");
    let plan = imp::plan(&mut conn, r.incoming, r.files, r.issues, &opts).expect("plan");
    assert_eq!(plan.counts().renamed, 1);
    calls::apply(&mut conn, &plan, "renamed.csv").expect("apply");
    zones::recompute_program(&mut conn, pid).expect("recompute");
    zones::recompute_program(&mut conn, pid).expect("recomputing twice changes nothing");

    assert_eq!(counts(&mut conn, pid), ZONE_MEMBER_COUNTS);
    let after = calls::zone_members(&mut conn, zone_ids[1]);
    let codes = |ms: &[zones::ZoneMember]| ms.iter().map(|m| m.code.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&after), codes(&before), "the same villages, by code");
    let m = after.iter().find(|m| m.code == "630121103201").expect("still a member");
    assert_eq!(m.name, "南滩新村村委会");
    assert_eq!(m.reason, "geometry_approximate");
    assert!(calls::overlaps(&mut conn, pid).is_empty());
}

async fn overrides_include_and_exclude_villages(app: TestApp) {
    let mut conn = app.conn();
    let (pid, zone_ids) = ids(&mut conn);
    let ring = zone_ids[0];

    // 沙岱村委会 (青山乡) has its own point, far outside every zone: WGS-84 haversine from
    // 桥头镇's seat 31.855 km (computed by hand from its GCJ-02 point 101.407278, 37.110734).
    let outsider = "630121201206";
    let in_any =
        |conn: &mut DbConn, code: &str| calls::membership_map(conn, pid).get(code).cloned().unwrap_or_default();
    assert!(in_any(&mut conn, outsider).is_empty());
    add_override(&mut conn, ring, outsider, "include");
    // An exclude beats the geometry: 闇门滩村委会 is 0.436 km from the centre.
    add_override(&mut conn, ring, "630121100202", "exclude");
    // An include of a code that is not a village of the county is ignored.
    add_override(&mut conn, ring, "630123100001", "include");
    zones::recompute_program(&mut conn, pid).expect("recompute");

    let members = calls::zone_members(&mut conn, ring);
    assert_eq!(members.len() as i64, ZONE_MEMBER_COUNTS[0], "one in, one out");
    let m = members.iter().find(|m| m.code == outsider).expect("included");
    assert_eq!(m.reason, "include_list");
    assert_eq!(m.name, "沙岱村委会");
    assert!(!m.approximate);
    assert!((m.distance_km.expect("distance") - 31.855).abs() < 0.01, "{m:?}");
    assert!(
        members
            .iter()
            .all(|m| m.code != "630121100202" && m.code != "630123100001")
    );
    assert_eq!(in_any(&mut conn, outsider), [ring]);

    // Including a village of another zone makes an overlap, reported as a warning. 上治泉村委会
    // is in the 城关线 (1.830 km from its path; see api.rs).
    add_override(&mut conn, ring, "630121207201", "include");
    zones::recompute_program(&mut conn, pid).expect("recompute");
    let overlaps = calls::overlaps(&mut conn, pid);
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(overlaps[0].code, "630121207201");
    assert_eq!(overlaps[0].name, "上治泉村委会");
    let mut expected = vec![ring, zone_ids[2]];
    expected.sort();
    assert_eq!(overlaps[0].zone_ids, expected);

    // Removing the overrides restores the computed membership.
    diesel::delete(zone_overrides::table)
        .execute(&mut *conn)
        .expect("delete overrides");
    zones::recompute_program(&mut conn, pid).expect("recompute");
    assert_eq!(counts(&mut conn, pid), ZONE_MEMBER_COUNTS);
    assert!(calls::overlaps(&mut conn, pid).is_empty());
}

async fn set_override_accepts_only_active_villages_of_the_county(app: TestApp) {
    let mut conn = app.conn();
    let (pid, zone_ids) = ids(&mut conn);
    let ring = zone_ids[0];
    for code in ["630121201000", "630121000000", "630123100001", "630121299299", "bogus"] {
        let r = calls::set_override(&mut conn, ring, code, Some("include"), "test");
        assert!(matches!(r, Err(zones::ZoneError::NotAVillage(_))), "{code}: {r:?}");
    }
    let r = calls::set_override(&mut conn, 999_999, "630121201206", Some("include"), "test");
    assert!(matches!(r, Err(zones::ZoneError::UnknownZone(999_999))), "{r:?}");
    assert!(calls::overrides(&mut conn, ring).is_empty());

    // Through the library call, membership is recomputed at once.
    calls::set_override(&mut conn, ring, "630121201206", Some("include"), "对口帮扶").expect("include");
    let listed = calls::overrides(&mut conn, ring);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].division_code.as_str(),
            listed[0].action.as_str(),
            listed[0].note.as_str()
        ),
        ("630121201206", "include", "对口帮扶")
    );
    let mut expected = ZONE_MEMBER_COUNTS.to_vec();
    expected[0] += 1;
    assert_eq!(counts(&mut conn, pid), expected);
    calls::set_override(&mut conn, ring, "630121201206", None, "").expect("off the list");
    assert!(calls::overrides(&mut conn, ring).is_empty());
    assert_eq!(counts(&mut conn, pid), ZONE_MEMBER_COUNTS);
}

on_both_backends!(
    recompute_after_a_rename_keeps_membership,
    overrides_include_and_exclude_villages,
    set_override_accepts_only_active_villages_of_the_county,
);
