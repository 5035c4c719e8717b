//! Links between registry records, for the detail pages (SPEC C3): the party organizations
//! covering a unit, the units an organization covers, the members a unit employs.
//!
//! Like [`super::query`], every function takes the caller's [`Access`] and restricts by the
//! records' `division_code` in SQL; a record that is unknown or outside the scope yields nothing.
//! What lies outside the scope is only counted, never named: a unit may be covered by an
//! organization of another town (a joint organization), and an organization may cover units
//! the caller does not see.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use crate::access::{Access, CodeFilter};
use crate::db::schema::{divisions, members, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbResult};

/// Restricts a boxed query's division code column `$col` to the caller's scope.
macro_rules! in_scope {
    ($q:expr, $col:expr, $access:expr) => {{
        let mut q = $q;
        match $access.code_filter() {
            CodeFilter::None => {}
            CodeFilter::Range(start, end) => {
                q = q.filter($col.ge(start));
                if let Some(end) = end {
                    q = q.filter($col.lt(end));
                }
            }
            CodeFilter::List(codes) => q = q.filter($col.eq_any(codes)),
        }
        q
    }};
}

/// Whether the unit `id` exists within the caller's scope.
fn unit_visible(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<bool> {
    let q = in_scope!(
        units::table.filter(units::id.eq(id)).into_boxed(),
        units::division_code,
        access
    );
    Ok(q.select(units::id).first::<i64>(conn).optional()?.is_some())
}

/// Whether the party organization `id` exists within the caller's scope.
fn org_visible(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<bool> {
    let q = in_scope!(
        party_orgs::table.filter(party_orgs::id.eq(id)).into_boxed(),
        party_orgs::division_code,
        access
    );
    Ok(q.select(party_orgs::id).first::<i64>(conn).optional()?.is_some())
}

/// The organizations covering a unit: ids of those visible to the caller (ordered by code),
/// and the establishment modes of those outside the scope. Empty when the unit is unknown or
/// outside the scope.
pub fn covering_orgs(conn: &mut DbConn, access: &Access, unit_id: i64) -> DbResult<(Vec<i64>, Vec<String>)> {
    if !unit_visible(conn, access, unit_id)? {
        return Ok((Vec::new(), Vec::new()));
    }
    let all: Vec<(i64, String)> = party_org_units::table
        .inner_join(party_orgs::table)
        .filter(party_org_units::unit_id.eq(unit_id))
        .order(party_orgs::code.asc())
        .select((party_orgs::id, party_orgs::mode))
        .load(conn)?;
    let ids: Vec<i64> = all.iter().map(|(id, _)| *id).collect();
    let visible: Vec<i64> = in_scope!(
        party_orgs::table.filter(party_orgs::id.eq_any(&ids)).into_boxed(),
        party_orgs::division_code,
        access
    )
    .select(party_orgs::id)
    .load(conn)?;
    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    for (id, mode) in all {
        if visible.contains(&id) {
            shown.push(id);
        } else {
            hidden.push(mode);
        }
    }
    Ok((shown, hidden))
}

/// A unit named on another record's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind key.
    pub kind: String,
    /// Village/community or town code.
    pub division_code: String,
    /// Its name.
    pub division_name: Option<String>,
    /// Generated for the demo.
    pub illustrative: bool,
}

/// The units an organization covers: at most `limit` of those within the caller's scope
/// (ordered by division and name), how many are within the scope, and how many there are in
/// all. Nothing when the organization is unknown or outside the scope.
pub fn covered_units(
    conn: &mut DbConn,
    access: &Access,
    org_id: i64,
    limit: i64,
) -> DbResult<(Vec<UnitRef>, i64, i64)> {
    if !org_visible(conn, access, org_id)? {
        return Ok((Vec::new(), 0, 0));
    }
    let all: i64 = party_org_units::table
        .filter(party_org_units::party_org_id.eq(org_id))
        .count()
        .get_result(conn)?;
    let linked = || {
        party_org_units::table
            .filter(party_org_units::party_org_id.eq(org_id))
            .select(party_org_units::unit_id)
    };
    let visible: i64 = in_scope!(
        units::table.filter(units::id.eq_any(linked())).into_boxed(),
        units::division_code,
        access
    )
    .count()
    .get_result(conn)?;
    let rows: Vec<(i64, String, String, String, bool)> = in_scope!(
        units::table.filter(units::id.eq_any(linked())).into_boxed(),
        units::division_code,
        access
    )
    .order((units::division_code.asc(), units::name.asc(), units::id.asc()))
    .limit(limit)
    .select((
        units::id,
        units::name,
        units::kind,
        units::division_code,
        units::illustrative,
    ))
    .load(conn)?;
    let mut codes: Vec<String> = rows.iter().map(|r| r.3.clone()).collect();
    codes.sort();
    codes.dedup();
    let names: HashMap<String, String> = divisions::table
        .filter(divisions::code.eq_any(&codes))
        .select((divisions::code, divisions::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let refs = rows
        .into_iter()
        .map(|(id, name, kind, division_code, illustrative)| UnitRef {
            division_name: names.get(&division_code).cloned(),
            id,
            name,
            kind,
            division_code,
            illustrative,
        })
        .collect();
    Ok((refs, visible, all))
}

/// Ids of the members employed by a unit (`employer_unit_id`) within the caller's scope,
/// ordered by name, paged, with their total. Nothing when the unit is unknown or outside the
/// scope.
pub fn employed_members(
    conn: &mut DbConn,
    access: &Access,
    unit_id: i64,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<i64>, i64)> {
    if !unit_visible(conn, access, unit_id)? {
        return Ok((Vec::new(), 0));
    }
    let total: i64 = in_scope!(
        members::table
            .filter(members::employer_unit_id.eq(unit_id))
            .into_boxed(),
        members::division_code,
        access
    )
    .count()
    .get_result(conn)?;
    let ids: Vec<i64> = in_scope!(
        members::table
            .filter(members::employer_unit_id.eq(unit_id))
            .into_boxed(),
        members::division_code,
        access
    )
    .order((members::name.asc(), members::id.asc()))
    .limit(limit)
    .offset(offset)
    .select(members::id)
    .load(conn)?;
    Ok((ids, total))
}
