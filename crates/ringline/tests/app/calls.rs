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
