//! The library calls the tests make, in one place: reads run with full access (as the command
//! line does), so a change of signature is adapted here rather than in every test.

use std::collections::HashMap;
use std::path::Path;

use ringline::access::Access;
use ringline::db::DbConn;
use ringline::divisions::{self, Division, HistoryEntry, ListFilter};
use ringline::import::divisions::{self as imp, ImportError, Options, Plan};
use ringline::zones::{self, OverlapWarning, Override, Zone, ZoneError, ZoneMember};

/// Full access, as the command line has.
fn system() -> Access {
    Access::system()
}

/// One division by code, any status.
pub fn division(conn: &mut DbConn, code: &str) -> Option<Division> {
    divisions::get(conn, &system(), code).expect("divisions::get")
}

/// The history of a code, oldest first.
pub fn history(conn: &mut DbConn, code: &str) -> Vec<HistoryEntry> {
    divisions::history(conn, &system(), code).expect("divisions::history")
}

/// Counts divisions matching `filter`.
pub fn count(conn: &mut DbConn, filter: &ListFilter) -> i64 {
    divisions::count(conn, &system(), filter).expect("divisions::count")
}

/// Applies an import plan.
pub fn apply(conn: &mut DbConn, plan: &Plan, source: &str) -> Result<(), ImportError> {
    imp::apply(conn, &system(), plan, source, &mut |_, _| {})
}

/// Reads, plans and applies a file.
pub fn import(conn: &mut DbConn, path: &Path, opts: &Options) -> Plan {
    imp::import_file(conn, path, opts, true).unwrap_or_else(|e| panic!("importing {}: {e}", path.display()))
}

/// The id of the default (only) program.
pub fn program_id(conn: &mut DbConn) -> i64 {
    let ps = zones::programs(conn, &system()).expect("zones::programs");
    assert_eq!(ps.len(), 1, "one program");
    ps[0].id
}

/// The zones of a program in display order.
pub fn zones_of(conn: &mut DbConn, program_id: i64) -> Vec<Zone> {
    zones::zones_of(conn, &system(), program_id).expect("zones::zones_of")
}

/// The members of a zone, by code.
pub fn zone_members(conn: &mut DbConn, zone_id: i64) -> Vec<ZoneMember> {
    zones::zone_members(conn, &system(), zone_id).expect("zones::zone_members")
}

/// Zone ids per village code.
pub fn membership_map(conn: &mut DbConn, program_id: i64) -> HashMap<String, Vec<i64>> {
    zones::membership_map(conn, &system(), program_id).expect("zones::membership_map")
}

/// Villages in more than one zone.
pub fn overlaps(conn: &mut DbConn, program_id: i64) -> Vec<OverlapWarning> {
    zones::overlaps(conn, &system(), program_id).expect("zones::overlaps")
}

/// A zone's include/exclude entries.
pub fn overrides(conn: &mut DbConn, zone_id: i64) -> Vec<Override> {
    zones::overrides(conn, &system(), zone_id).expect("zones::overrides")
}

/// Puts a village on a zone's include or exclude list, or off both.
pub fn set_override(
    conn: &mut DbConn,
    zone_id: i64,
    code: &str,
    action: Option<&str>,
    note: &str,
) -> Result<(), ZoneError> {
    zones::set_override(conn, &system(), zone_id, code, action, note)
}

/// Creates a user with a role and a division scope.
pub fn create_user(conn: &mut DbConn, username: &str, password: &str, role: ringline::auth::Role, scope: &str) {
    ringline::auth::create_user(conn, username, password, role, scope).expect("create user");
}

/// Creates a user through the user administration with full access, as `ringline users add`
/// does (validated and audited as `system`); returns the id.
pub fn add_user(
    conn: &mut DbConn,
    username: &str,
    password: &str,
    role: &str,
    scope: &str,
    phone: Option<&str>,
) -> i64 {
    let n = ringline::users::NewUser {
        username: username.into(),
        password: password.into(),
        role: role.into(),
        scope: scope.into(),
        display_name: format!("{username} 测试"),
        phone: phone.map(String::from),
    };
    ringline::users::create(conn, &system(), &n).unwrap_or_else(|e| panic!("creating {username}: {e}"))
}

/// Every row of the audit log, oldest first, read straight from the table.
pub fn audit_rows(conn: &mut DbConn) -> Vec<ringline::audit::Entry> {
    use diesel::prelude::*;
    use ringline::db::schema::audit_log;
    audit_log::table
        .order(audit_log::id.asc())
        .select(ringline::audit::Entry::as_select())
        .load(conn)
        .expect("read audit_log")
}

/// 湟源县 (630123) beside Datong in the same database: its county, 城关镇 and three communities
/// from the national fixture, and a program of its own with one ring zone. Returns the program's
/// and the zone's ids.
pub fn add_huangyuan(conn: &mut DbConn) -> (i64, i64) {
    use ringline::core::geo::LonLat;
    use ringline::core::zone::ZoneGeometry;
    let opts = Options {
        only: Some("630123".into()),
        ..Default::default()
    };
    import(conn, &crate::harness::fixture("national/villages.csv"), &opts);
    let pid = zones::create_program(
        conn,
        &zones::NewProgram {
            name: "湟源县示范带".into(),
            name_en: "Huangyuan zones".into(),
            county_code: "630123000000".into(),
            start_year: 2026,
            end_year: 2028,
            description: String::new(),
        },
    )
    .expect("create program");
    let zid = zones::create_zone(
        conn,
        pid,
        &zones::NewZone {
            name: "湟源环".into(),
            name_en: "Huangyuan ring".into(),
            theme: "commerce_economy".into(),
            area: "城关".into(),
            goals: String::new(),
            geometry: ZoneGeometry::Ring {
                centre: LonLat {
                    lon: 101.2562,
                    lat: 36.6823,
                },
                inner_km: 0.0,
                outer_km: 5.0,
            },
            geometry_note: None,
            allow_overlap: false,
            sort_order: 1,
        },
    )
    .expect("create zone");
    zones::recompute_program(conn, pid).expect("recompute");
    (pid, zid)
}

/// The id of Datong's program (whatever other programs exist).
pub fn datong_program_id(conn: &mut DbConn) -> i64 {
    zones::programs(conn, &system())
        .expect("zones::programs")
        .into_iter()
        .find(|p| p.county_code == "630121000000")
        .expect("Datong's program")
        .id
}

/// The id of a zone of Datong's program by its Chinese name.
pub fn zone_id(conn: &mut DbConn, name: &str) -> i64 {
    let pid = datong_program_id(conn);
    zones_of(conn, pid)
        .into_iter()
        .find(|z| z.name == name)
        .unwrap_or_else(|| panic!("a zone named {name}"))
        .id
}

/// Units matching `filter` (all of them), with the total.
pub fn units(
    conn: &mut DbConn,
    filter: &ringline::registry::query::UnitFilter,
) -> (Vec<ringline::registry::query::Unit>, i64) {
    ringline::registry::query::units(conn, &system(), filter, i64::MAX, 0).expect("registry::query::units")
}

/// Party organizations matching `filter` (all of them), with the total.
pub fn orgs(
    conn: &mut DbConn,
    filter: &ringline::registry::query::OrgFilter,
) -> (Vec<ringline::registry::query::PartyOrg>, i64) {
    ringline::registry::query::orgs(conn, &system(), filter, i64::MAX, 0).expect("registry::query::orgs")
}

/// Members matching `filter` (all of them, masked), with the total.
pub fn members(
    conn: &mut DbConn,
    filter: &ringline::registry::query::MemberFilter,
) -> (Vec<ringline::registry::query::Member>, i64) {
    ringline::registry::query::members(conn, &system(), filter, i64::MAX, 0).expect("registry::query::members")
}

/// Coverage rows grouped by town, zone or county.
pub fn coverage(
    conn: &mut DbConn,
    by: ringline::registry::coverage::By,
    program_id: Option<i64>,
) -> Vec<ringline::registry::coverage::CoverageRow> {
    ringline::registry::coverage::coverage(conn, &system(), by, program_id).expect("registry::coverage::coverage")
}

/// Units lacking organization (`None`, `"org"`) or work (`"work"`) coverage, with the total.
pub fn uncovered(
    conn: &mut DbConn,
    kind: Option<&str>,
    under: Option<&str>,
) -> (Vec<ringline::registry::query::Unit>, i64) {
    ringline::registry::coverage::uncovered(conn, &system(), kind, under.map(String::from), i64::MAX, 0)
        .expect("registry::coverage::uncovered")
}
