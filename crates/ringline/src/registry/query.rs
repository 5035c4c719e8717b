//! Scoped reads of units, party organizations and members (lists, filters, detail).
//!
//! Every function takes the caller's [`Access`] and restricts the record's `division_code` in SQL
//! (`units.division_code`, `party_orgs.division_code`, `members.division_code`): a record outside
//! the scope is invisible, and the `get`-style functions answer `Ok(None)` for it exactly as for a
//! missing id. Lists are paged (`limit`, `offset`) and return the total count of matches; the
//! derived figures (member counts, coverage flags, names) are loaded with grouped queries for the
//! page's ids only, so nothing loads a whole table to count it.
//!
//! Personal data (citizen ID numbers, phones) leaves this module masked
//! ([`ringline_core::mask`]); the unmasked values are available only through
//! [`member_unmasked`], which needs [`Permission::Unmask`] and is audited.
//!
//! Derived counts are properties of the record and count every row that refers to it, whatever
//! its area: a unit's `registered_members` counts all members whose employer it is, an
//! organization's `covered_units` all units it covers. Names of related registry records (a
//! parent organization, a member's organization, a host unit) are given only when that record is
//! itself visible to the caller; division names are public reference data and always given.

use std::collections::HashMap;

use diesel::dsl::{count_star, not};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use ringline_core::division::DivisionCode;
use ringline_core::mask::{mask_id_number, mask_phone};
use serde::{Deserialize, Serialize};

use crate::access::{Access, CodeFilter, Permission};
use crate::audit::{self, Change};
use crate::db::schema::{members, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbResult};

/// Unit kinds whose coverage SPEC C3 measures: non-public enterprises and social organisations
/// (两新组织).
pub const COVERAGE_KINDS: [&str; 2] = ["non_public_enterprise", "social_organization"];

/// Establishment modes that give a unit organization coverage (own or joint organization).
pub const ORG_COVERAGE_MODES: [&str; 2] = ["own", "joint"];

/// Establishment modes that give a unit work coverage (any of the three).
pub const WORK_COVERAGE_MODES: [&str; 3] = ["own", "joint", "instructor"];

pub use crate::db::query::town_code_of;
pub(crate) use crate::db::query::{
    IN_CHUNK, Pred, all, contains_pattern, division_names, given, lower, restrict_codes, subtree,
};

/// Age in whole years on `today` of someone born on `birth`.
pub fn age_on(birth: chrono::NaiveDate, today: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0)
}

fn dedup_ids(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------------
// Units

/// A unit (单位) as shown to users and the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unit {
    /// Id.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Kind key: `agency`, `soe`, `non_public_enterprise`, `social_organization`,
    /// `cooperative`, `market`, `village_committee` or `other`.
    pub kind: String,
    /// Unified social credit code (GB 32100-2015), 18 characters.
    pub credit_code: Option<String>,
    /// True when the credit code fails the GB 32100 check (an early pilot code, accepted with a
    /// warning).
    pub credit_code_unverified: bool,
    /// Where the unit is: a village/community or town code (12 digits).
    pub division_code: String,
    /// Name of that division.
    pub division_name: Option<String>,
    /// The town the unit is in (12 digits: the first 9 of `division_code`, then `000`).
    pub town_code: Option<String>,
    /// Street address.
    pub address: String,
    /// WGS-84 longitude, degrees.
    pub lon: Option<f64>,
    /// WGS-84 latitude, degrees.
    pub lat: Option<f64>,
    /// People working there (persons).
    pub headcount: Option<i32>,
    /// Party members the unit reports (persons; may differ from `registered_members`).
    pub party_member_count: Option<i32>,
    /// Registered party members whose employer is this unit (persons).
    pub registered_members: i64,
    /// Organization coverage: covered by at least one party organization established on its own
    /// or jointly (`own`, `joint`).
    pub org_covered: bool,
    /// Work coverage: covered by any party organization, including an instructor only.
    pub work_covered: bool,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
struct UnitRow {
    id: i64,
    name: String,
    kind: String,
    credit_code: Option<String>,
    credit_code_unverified: bool,
    division_code: String,
    address: String,
    lon: Option<f64>,
    lat: Option<f64>,
    headcount: Option<i32>,
    party_member_count: Option<i32>,
    illustrative: bool,
}

/// Filters for listing units.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Only this kind (a key of the unit kinds).
    pub kind: Option<String>,
    /// Only units within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only units whose name contains this text.
    pub q: Option<String>,
    /// `true`: only non-public enterprises and social organisations without organization
    /// coverage (the list of uncovered units, SPEC C3). `false` or absent: no restriction.
    pub uncovered: Option<bool>,
    /// Include retired units (deregistered, merged); by default they are left out.
    #[serde(default)]
    pub retired: bool,
}

/// Which coverage a unit lacks, for the lists of uncovered units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lacking {
    /// No own or joint organization covers it.
    Org,
    /// No organization at all covers it.
    Work,
}

/// Ids of the units covered by an organization of one of `modes` (a subquery).
macro_rules! covered_ids {
    ($modes:expr) => {
        party_org_units::table
            .inner_join(party_orgs::table)
            .filter(party_orgs::mode.eq_any($modes))
            .filter(party_orgs::dissolved_on.is_null())
            .select(party_org_units::unit_id)
    };
}

/// The `WHERE` clause of a unit list: scope, filter, and optionally a coverage the unit lacks
/// (which restricts to [`COVERAGE_KINDS`]).
fn unit_pred(access: &Access, f: &UnitFilter, lacking: Option<Lacking>) -> Pred<units::table> {
    let mut p: Vec<Pred<units::table>> = Vec::new();
    restrict_codes!(p, units::division_code, access.code_filter());
    if !f.retired {
        p.push(Box::new(units::retired_on.is_null()));
    }
    if let Some(under) = given(&f.under) {
        restrict_codes!(p, units::division_code, subtree(under));
    }
    if let Some(kind) = given(&f.kind) {
        p.push(Box::new(units::kind.eq(kind.to_string())));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(units::name).like(pattern).escape('\\')));
    }
    let lacking = lacking.or((f.uncovered == Some(true)).then_some(Lacking::Org));
    if let Some(l) = lacking {
        p.push(Box::new(units::kind.eq_any(COVERAGE_KINDS)));
        match l {
            Lacking::Org => p.push(Box::new(not(units::id.eq_any(covered_ids!(ORG_COVERAGE_MODES))))),
            Lacking::Work => p.push(Box::new(not(units::id.eq_any(covered_ids!(WORK_COVERAGE_MODES))))),
        }
    }
    all(p)
}

/// The `WHERE` clause restricting units to the caller's scope only.
fn unit_scope(access: &Access) -> Pred<units::table> {
    unit_pred(access, &UnitFilter::default(), None)
}

/// Lists units (scope, filter, lacking coverage) with the total count; shared with
/// [`super::coverage::uncovered`].
pub(crate) fn unit_list(
    conn: &mut DbConn,
    access: &Access,
    f: &UnitFilter,
    lacking: Option<Lacking>,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Unit>, i64)> {
    let total: i64 = units::table
        .filter(unit_pred(access, f, lacking))
        .count()
        .get_result(conn)?;
    let rows: Vec<UnitRow> = units::table
        .filter(unit_pred(access, f, lacking))
        .order((units::division_code.asc(), units::name.asc(), units::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(UnitRow::as_select())
        .load(conn)?;
    Ok((with_unit_details(conn, rows)?, total))
}

/// The units within the caller's scope matching `filter`, ordered by division code and name,
/// with the total number of matches.
pub fn units(
    conn: &mut DbConn,
    access: &Access,
    filter: &UnitFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Unit>, i64)> {
    unit_list(conn, access, filter, None, limit, offset)
}

/// One unit; `None` when unknown or outside the caller's scope.
pub fn unit(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Unit>> {
    let row: Option<UnitRow> = units::table
        .filter(units::id.eq(id))
        .filter(unit_scope(access))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => with_unit_details(conn, vec![r])?.into_iter().next(),
        None => None,
    })
}

/// The coverage modes linked to each of `ids`.
fn modes_of_units(conn: &mut DbConn, ids: &[i64]) -> DbResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String)> = party_org_units::table
            .inner_join(party_orgs::table)
            .filter(party_org_units::unit_id.eq_any(chunk))
            .select((party_org_units::unit_id, party_orgs::mode))
            .load(conn)?;
        for (u, m) in rows {
            out.entry(u).or_default().push(m);
        }
    }
    Ok(out)
}

/// Adds division names, registered member counts and coverage flags to a page of units.
fn with_unit_details(conn: &mut DbConn, rows: Vec<UnitRow>) -> DbResult<Vec<Unit>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let names = division_names(conn, rows.iter().map(|r| r.division_code.clone()))?;
    let mut registered: HashMap<i64, i64> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let counts: Vec<(Option<i64>, i64)> = members::table
            .filter(members::employer_unit_id.eq_any(chunk))
            .filter(members::left_on.is_null())
            .group_by(members::employer_unit_id)
            .select((members::employer_unit_id, count_star()))
            .load(conn)?;
        registered.extend(counts.into_iter().filter_map(|(u, n)| Some((u?, n))));
    }
    let modes = modes_of_units(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let m = modes.get(&r.id).map(Vec::as_slice).unwrap_or_default();
            Unit {
                registered_members: registered.get(&r.id).copied().unwrap_or(0),
                org_covered: m.iter().any(|m| ORG_COVERAGE_MODES.contains(&m.as_str())),
                work_covered: m.iter().any(|m| WORK_COVERAGE_MODES.contains(&m.as_str())),
                division_name: names.get(&r.division_code).cloned(),
                town_code: town_code_of(&r.division_code),
                id: r.id,
                name: r.name,
                kind: r.kind,
                credit_code: r.credit_code,
                credit_code_unverified: r.credit_code_unverified,
                division_code: r.division_code,
                address: r.address,
                lon: r.lon,
                lat: r.lat,
                headcount: r.headcount,
                party_member_count: r.party_member_count,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

/// Names of the units among `ids` visible to the caller.
fn visible_unit_names(conn: &mut DbConn, access: &Access, ids: &[i64]) -> DbResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String)> = units::table
            .filter(units::id.eq_any(chunk))
            .filter(unit_scope(access))
            .select((units::id, units::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Party organizations

/// A party organization (党组织) as shown to users and the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PartyOrg {
    /// Id.
    pub id: i64,
    /// Organization code (a village's branch: the village's 12-digit code).
    pub code: String,
    /// Full name.
    pub name: String,
    /// `committee`, `general_branch` or `branch`.
    pub kind: String,
    /// Parent organization's id.
    pub parent_id: Option<i64>,
    /// Parent organization's code (when the parent is visible to the caller).
    pub parent_code: Option<String>,
    /// Parent organization's name (when the parent is visible to the caller).
    pub parent_name: Option<String>,
    /// Establishment mode: `own`, `joint` (with other units) or `instructor` (a party-building
    /// instructor only).
    pub mode: String,
    /// Host unit's id (an organization is hosted by a unit or by a village).
    pub unit_id: Option<i64>,
    /// Host unit's name.
    pub unit_name: Option<String>,
    /// Host village's code (12 digits).
    pub village_code: Option<String>,
    /// Host village's name.
    pub village_name: Option<String>,
    /// Where the organization is: the host unit's division or the host village (12 digits).
    pub division_code: String,
    /// Registered members of this organization (persons).
    pub members: i64,
    /// Units this organization covers (its host and, for a joint organization or an
    /// instructor, the other units of its remit).
    pub covered_units: i64,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = party_orgs)]
struct OrgRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<i64>,
    mode: String,
    unit_id: Option<i64>,
    village_code: Option<String>,
    division_code: String,
    illustrative: bool,
}

/// Filters for listing party organizations.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgFilter {
    /// Only this kind (`committee`, `general_branch`, `branch`).
    pub kind: Option<String>,
    /// Only this establishment mode (`own`, `joint`, `instructor`).
    pub mode: Option<String>,
    /// Only organizations within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only organizations whose name contains this text.
    pub q: Option<String>,
    /// Include dissolved organizations; by default they are left out.
    #[serde(default)]
    pub retired: bool,
}

fn org_pred(access: &Access, f: &OrgFilter) -> Pred<party_orgs::table> {
    let mut p: Vec<Pred<party_orgs::table>> = Vec::new();
    restrict_codes!(p, party_orgs::division_code, access.code_filter());
    if !f.retired {
        p.push(Box::new(party_orgs::dissolved_on.is_null()));
    }
    if let Some(under) = given(&f.under) {
        restrict_codes!(p, party_orgs::division_code, subtree(under));
    }
    if let Some(kind) = given(&f.kind) {
        p.push(Box::new(party_orgs::kind.eq(kind.to_string())));
    }
    if let Some(mode) = given(&f.mode) {
        p.push(Box::new(party_orgs::mode.eq(mode.to_string())));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(party_orgs::name).like(pattern).escape('\\')));
    }
    all(p)
}

fn org_scope(access: &Access) -> Pred<party_orgs::table> {
    org_pred(access, &OrgFilter::default())
}

/// The party organizations within the caller's scope matching `filter`, ordered by code, with
/// the total number of matches.
pub fn orgs(
    conn: &mut DbConn,
    access: &Access,
    filter: &OrgFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<PartyOrg>, i64)> {
    let total: i64 = party_orgs::table
        .filter(org_pred(access, filter))
        .count()
        .get_result(conn)?;
    let rows: Vec<OrgRow> = party_orgs::table
        .filter(org_pred(access, filter))
        .order(party_orgs::code.asc())
        .limit(limit)
        .offset(offset)
        .select(OrgRow::as_select())
        .load(conn)?;
    Ok((with_org_details(conn, access, rows)?, total))
}

/// One party organization; `None` when unknown or outside the caller's scope.
pub fn org(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<PartyOrg>> {
    let row: Option<OrgRow> = party_orgs::table
        .filter(party_orgs::id.eq(id))
        .filter(org_scope(access))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => with_org_details(conn, access, vec![r])?.into_iter().next(),
        None => None,
    })
}

/// The direct children of a party organization visible to the caller, ordered by code; empty
/// when the organization itself is unknown or outside the scope.
pub fn org_children(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Vec<PartyOrg>> {
    let parent_visible = party_orgs::table
        .filter(party_orgs::id.eq(id))
        .filter(org_scope(access))
        .select(party_orgs::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if !parent_visible {
        return Ok(Vec::new());
    }
    let rows: Vec<OrgRow> = party_orgs::table
        .filter(party_orgs::parent_id.eq(id))
        .filter(org_scope(access))
        .order(party_orgs::code.asc())
        .select(OrgRow::as_select())
        .load(conn)?;
    with_org_details(conn, access, rows)
}

/// Codes and names of the organizations among `ids` visible to the caller.
fn visible_orgs(conn: &mut DbConn, access: &Access, ids: &[i64]) -> DbResult<HashMap<i64, (String, String)>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(i64, String, String)> = party_orgs::table
            .filter(party_orgs::id.eq_any(chunk))
            .filter(org_scope(access))
            .select((party_orgs::id, party_orgs::code, party_orgs::name))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, code, name)| (id, (code, name))));
    }
    Ok(out)
}

/// Adds parents, hosts, member and covered-unit counts to a page of organizations.
fn with_org_details(conn: &mut DbConn, access: &Access, rows: Vec<OrgRow>) -> DbResult<Vec<PartyOrg>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let parents = visible_orgs(conn, access, &dedup_ids(rows.iter().filter_map(|r| r.parent_id)))?;
    let hosts = visible_unit_names(conn, access, &dedup_ids(rows.iter().filter_map(|r| r.unit_id)))?;
    let villages = division_names(conn, rows.iter().filter_map(|r| r.village_code.clone()))?;
    let mut member_counts: HashMap<i64, i64> = HashMap::new();
    let mut unit_counts: HashMap<i64, i64> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let m: Vec<(i64, i64)> = members::table
            .filter(members::party_org_id.eq_any(chunk))
            .filter(members::left_on.is_null())
            .group_by(members::party_org_id)
            .select((members::party_org_id, count_star()))
            .load(conn)?;
        member_counts.extend(m);
        let u: Vec<(i64, i64)> = party_org_units::table
            .filter(party_org_units::party_org_id.eq_any(chunk))
            .group_by(party_org_units::party_org_id)
            .select((party_org_units::party_org_id, count_star()))
            .load(conn)?;
        unit_counts.extend(u);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let parent = r.parent_id.and_then(|p| parents.get(&p));
            PartyOrg {
                parent_code: parent.map(|p| p.0.clone()),
                parent_name: parent.map(|p| p.1.clone()),
                unit_name: r.unit_id.and_then(|u| hosts.get(&u).cloned()),
                village_name: r.village_code.as_ref().and_then(|v| villages.get(v).cloned()),
                members: member_counts.get(&r.id).copied().unwrap_or(0),
                covered_units: unit_counts.get(&r.id).copied().unwrap_or(0),
                id: r.id,
                code: r.code,
                name: r.name,
                kind: r.kind,
                parent_id: r.parent_id,
                mode: r.mode,
                unit_id: r.unit_id,
                village_code: r.village_code,
                division_code: r.division_code,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Members

/// A party member (党员) as shown to users and the API, with personal data masked.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `male` or `female` (from the ID number).
    pub sex: String,
    /// Age today in whole years. The birth date itself is not shown: with the masked ID number
    /// (first 4 and last 4 characters) it would give the whole number back; it comes only with
    /// the audited unmask.
    pub age: i32,
    /// Citizen ID number, masked: the first 4 and last 4 characters kept
    /// (`6301**********123X`).
    pub id_number: String,
    /// Phone, masked (`138****5678`).
    pub phone: Option<String>,
    /// `full` or `probationary`.
    pub status: String,
    /// Date of joining the party.
    pub join_date: Option<chrono::NaiveDate>,
    /// Party organization's id.
    pub party_org_id: i64,
    /// Party organization's code (when visible to the caller).
    pub party_org_code: Option<String>,
    /// Party organization's name (when visible to the caller).
    pub party_org_name: Option<String>,
    /// Employer as written.
    pub employer: String,
    /// The registered unit the employer names, when one matched.
    pub employer_unit_id: Option<i64>,
    /// Community (village) where the member lives (12 digits).
    pub home_community: Option<String>,
    /// Name of that community.
    pub home_community_name: Option<String>,
    /// The party organization's division (12 digits): where the member is listed.
    pub division_code: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = members)]
struct MemberRow {
    id: i64,
    name: String,
    id_number: String,
    sex: String,
    birth_date: chrono::NaiveDate,
    phone: Option<String>,
    status: String,
    join_date: Option<chrono::NaiveDate>,
    party_org_id: i64,
    employer: String,
    employer_unit_id: Option<i64>,
    home_community: Option<String>,
    division_code: String,
    illustrative: bool,
}

/// Filters for listing members.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Only this status (`full`, `probationary`).
    pub status: Option<String>,
    /// Only members of this party organization (id).
    pub org_id: Option<i64>,
    /// Only members listed within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only members whose name contains this text.
    pub q: Option<String>,
    /// Only members living in this community (a village code; a town code takes all its
    /// villages).
    pub home_community: Option<String>,
    /// Include members who left the register (transferred out, deceased, suspended).
    #[serde(default)]
    pub retired: bool,
}

fn member_pred(access: &Access, f: &MemberFilter) -> Pred<members::table> {
    let mut p: Vec<Pred<members::table>> = Vec::new();
    restrict_codes!(p, members::division_code, access.code_filter());
    if !f.retired {
        p.push(Box::new(members::left_on.is_null()));
    }
    if let Some(under) = given(&f.under) {
        restrict_codes!(p, members::division_code, subtree(under));
    }
    if let Some(status) = given(&f.status) {
        p.push(Box::new(members::status.eq(status.to_string())));
    }
    if let Some(org) = f.org_id {
        p.push(Box::new(members::party_org_id.eq(org)));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(members::name).like(pattern).escape('\\')));
    }
    if let Some(home) = given(&f.home_community) {
        match subtree(home) {
            CodeFilter::Range(start, end) => {
                p.push(Box::new(members::home_community.assume_not_null().ge(start)));
                if let Some(end) = end {
                    p.push(Box::new(members::home_community.assume_not_null().lt(end)));
                }
            }
            _ => p.push(Box::new(false.into_sql::<Bool>())),
        }
    }
    all(p)
}

/// The members within the caller's scope matching `filter`, ordered by division code, name and
/// id, with the total number of matches. ID numbers and phones are masked.
pub fn members(
    conn: &mut DbConn,
    access: &Access,
    filter: &MemberFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Member>, i64)> {
    let total: i64 = members::table
        .filter(member_pred(access, filter))
        .count()
        .get_result(conn)?;
    let rows: Vec<MemberRow> = members::table
        .filter(member_pred(access, filter))
        .order((members::division_code.asc(), members::name.asc(), members::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(MemberRow::as_select())
        .load(conn)?;
    Ok((with_member_details(conn, access, rows)?, total))
}

/// One member, masked; `None` when unknown or outside the caller's scope.
pub fn member(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<Member>> {
    let row: Option<MemberRow> = members::table
        .filter(members::id.eq(id))
        .filter(member_pred(access, &MemberFilter::default()))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => with_member_details(conn, access, vec![r])?.into_iter().next(),
        None => None,
    })
}

/// A member's unmasked citizen ID number and phone, for a caller with
/// [`Permission::Unmask`]; `None` without it, or when the member is unknown or outside the
/// caller's scope. Each view is recorded in the audit log (action `unmask`, entity `member`,
/// detail `id_number,phone`, under the member's division) in the same transaction.
pub fn member_unmasked(conn: &mut DbConn, access: &Access, id: i64) -> DbResult<Option<(String, Option<String>)>> {
    if !access.can(Permission::Unmask) {
        return Ok(None);
    }
    crate::db::write_transaction(conn, |conn| {
        let row: Option<(String, Option<String>, String)> = members::table
            .filter(members::id.eq(id))
            .filter(member_pred(access, &MemberFilter::default()))
            .select((members::id_number, members::phone, members::division_code))
            .first(conn)
            .optional()?;
        let Some((id_number, phone, division_code)) = row else {
            return Ok(None);
        };
        let scope = DivisionCode::parse(&division_code)
            .map(|c| c.prefix().to_string())
            .unwrap_or(division_code);
        let id_text = id.to_string();
        audit::record(
            conn,
            access,
            Change {
                action: "unmask",
                entity: "member",
                entity_id: &id_text,
                detail: "id_number,phone".into(),
                scope,
                ..Default::default()
            },
        )?;
        Ok(Some((id_number, phone)))
    })
}

/// Masks personal data and adds organization and community names to a page of members.
fn with_member_details(conn: &mut DbConn, access: &Access, rows: Vec<MemberRow>) -> DbResult<Vec<Member>> {
    let orgs = visible_orgs(conn, access, &dedup_ids(rows.iter().map(|r| r.party_org_id)))?;
    let homes = division_names(conn, rows.iter().filter_map(|r| r.home_community.clone()))?;
    let today = crate::clock::Clock::current().today();
    Ok(rows
        .into_iter()
        .map(|r| {
            let org = orgs.get(&r.party_org_id);
            Member {
                age: age_on(r.birth_date, today),
                id_number: mask_id_number(&r.id_number),
                phone: r.phone.as_deref().map(mask_phone),
                party_org_code: org.map(|o| o.0.clone()),
                party_org_name: org.map(|o| o.1.clone()),
                home_community_name: r.home_community.as_ref().and_then(|h| homes.get(h).cloned()),
                id: r.id,
                name: r.name,
                sex: r.sex,
                status: r.status,
                join_date: r.join_date,
                party_org_id: r.party_org_id,
                employer: r.employer,
                employer_unit_id: r.employer_unit_id,
                home_community: r.home_community,
                division_code: r.division_code,
                illustrative: r.illustrative,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_whole_years() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(age_on(d(1990, 1, 1), d(2026, 1, 1)), 36);
        assert_eq!(age_on(d(1990, 6, 15), d(2026, 6, 14)), 35);
        assert_eq!(age_on(d(1990, 6, 15), d(2026, 6, 15)), 36);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 2, 28)), 25);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 3, 1)), 26);
    }

    #[test]
    fn name_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern(Some("  ")), None);
        assert_eq!(contains_pattern(None), None);
        assert_eq!(contains_pattern(Some("大通")).as_deref(), Some("%大通%"));
        assert_eq!(contains_pattern(Some("A_b%")).as_deref(), Some("%a\\_b\\%%"));
    }

    #[test]
    fn town_codes() {
        assert_eq!(town_code_of("630121103201").as_deref(), Some("630121103000"));
        assert_eq!(town_code_of("630121103000").as_deref(), Some("630121103000"));
        assert_eq!(town_code_of("6301"), None);
    }

    #[test]
    fn subtrees() {
        assert_eq!(
            subtree("630121103000"),
            CodeFilter::Range("630121103".into(), Some("630121104".into()))
        );
        assert_eq!(subtree("not a code"), CodeFilter::List(Vec::new()));
    }
}
