//! The registry (SPEC C3): units, party organizations and party members, and the coverage of
//! non-public enterprises and social organisations by party organizations.
//!
//! Storage rows are written by the import framework ([`crate::import::framework`]) and the demo
//! and scale generators ([`crate::generate`]) through the bulk functions here; reads go through
//! the scoped functions of [`query`] and [`coverage`], which take the caller's
//! [`Access`](crate::access::Access) and filter by the record's `division_code` in SQL.
//!
//! Scope keys: a unit is where its `division_code` says (a village/community or a town); a party
//! organization is where its host unit or village is; a member is where their party
//! organization is (copied into `members.division_code` when written, so filters use an index).

pub mod coverage;
pub mod links;
pub mod member;
pub mod org;
pub mod query;
pub mod unit;

use diesel::prelude::*;
use ringline_core::cell;

use crate::db::schema::{members, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbResult};

/// Rows per multi-row insert on PostgreSQL (each row binds at most 16 parameters; PostgreSQL
/// allows 65,535 per statement).
const CHUNK: usize = 2_000;

/// A unit to insert.
#[derive(Debug, Clone, Insertable, Queryable, Selectable, PartialEq)]
#[diesel(table_name = units, treat_none_as_default_value = false)]
pub struct NewUnit {
    /// Full name.
    pub name: String,
    /// One of [`crate::import::spec::UNIT_KINDS`]' keys.
    pub kind: String,
    /// Unified social credit code (GB 32100-2015), 18 characters, or none.
    pub credit_code: Option<String>,
    /// True when the code fails the GB 32100 check (accepted with a warning).
    pub credit_code_unverified: bool,
    /// Village/community or town code (12 digits).
    pub division_code: String,
    /// Street address.
    pub address: String,
    /// WGS-84 longitude, degrees.
    pub lon: Option<f64>,
    /// WGS-84 latitude, degrees.
    pub lat: Option<f64>,
    /// People working there.
    pub headcount: Option<i32>,
    /// Party members the unit reports.
    pub party_member_count: Option<i32>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A party organization to insert.
#[derive(Debug, Clone, Insertable, Queryable, Selectable, PartialEq)]
#[diesel(table_name = party_orgs, treat_none_as_default_value = false)]
pub struct NewOrg {
    /// Organization code (a village's branch: the village's 12-digit code).
    pub code: String,
    /// Full name.
    pub name: String,
    /// `committee`, `general_branch` or `branch`.
    pub kind: String,
    /// Parent organization's id.
    pub parent_id: Option<i64>,
    /// `own`, `joint` or `instructor`.
    pub mode: String,
    /// Host unit's id (exactly one of `unit_id`, `village_code`).
    pub unit_id: Option<i64>,
    /// Host village's code.
    pub village_code: Option<String>,
    /// Where the organization is: the host unit's division or the village.
    pub division_code: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// A party member to insert (also the row a held import row keeps, as JSON).
#[derive(Debug, Clone, Insertable, Queryable, Selectable, PartialEq, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = members, treat_none_as_default_value = false)]
pub struct NewMember {
    /// Name.
    pub name: String,
    /// Citizen ID number, 18 characters (GB 11643-1999). Personal data: never log.
    pub id_number: String,
    /// `male` or `female`, from the ID number.
    pub sex: String,
    /// Birth date, from the ID number.
    pub birth_date: chrono::NaiveDate,
    /// Phone (digits). Personal data: never log.
    pub phone: Option<String>,
    /// `full` or `probationary`.
    pub status: String,
    /// Date of joining the party.
    pub join_date: Option<chrono::NaiveDate>,
    /// Party organization id.
    pub party_org_id: i64,
    /// Employer as written.
    pub employer: String,
    /// The registered unit the employer names, when one matches.
    pub employer_unit_id: Option<i64>,
    /// Community (village) where the member lives, 12-digit code.
    pub home_community: Option<String>,
    /// The party organization's division (scope key).
    pub division_code: String,
    /// Generated for the demo, not real.
    pub illustrative: bool,
    /// Creation time (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// Multi-row inserts on both backends: the row structs bind every column (no `DEFAULT`), which
/// diesel's multi-row insert needs on SQLite.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        match $conn {
            DbConn::Pg(c) => {
                for part in $rows.chunks(CHUNK) {
                    diesel::insert_into($table).values(part).execute(c)?;
                }
            }
            DbConn::Sqlite(c) => {
                for part in $rows.chunks(SQLITE_CHUNK) {
                    diesel::insert_into($table).values(part).execute(c)?;
                }
            }
        }
    }};
}

/// Inserts units in bulk (no audit: callers record one entry per import).
pub fn insert_units(conn: &mut DbConn, rows: &[NewUnit]) -> DbResult<()> {
    insert_all!(conn, units::table, rows);
    Ok(())
}

/// Inserts party organizations in bulk.
pub fn insert_orgs(conn: &mut DbConn, rows: &[NewOrg]) -> DbResult<()> {
    insert_all!(conn, party_orgs::table, rows);
    Ok(())
}

/// Links organizations to the units they cover, `(party_org_id, unit_id)`; existing links are
/// kept.
pub fn link_org_units(conn: &mut DbConn, links: &[(i64, i64)]) -> DbResult<()> {
    let existing: std::collections::HashSet<(i64, i64)> = party_org_units::table
        .select((party_org_units::party_org_id, party_org_units::unit_id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let rows: Vec<_> = links
        .iter()
        .filter(|l| !existing.contains(l))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|&(o, u)| (party_org_units::party_org_id.eq(o), party_org_units::unit_id.eq(u)))
        .collect();
    crate::insert_rows!(&mut *conn, party_org_units::table, &rows, CHUNK);
    Ok(())
}

/// Inserts party members in bulk: PostgreSQL's `COPY … FROM STDIN` (binary), SQLite multi-row
/// `INSERT`s of [`SQLITE_CHUNK`] rows (15 parameters each, under SQLite's 32,766).
pub fn insert_members(conn: &mut DbConn, rows: &[NewMember]) -> DbResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::copy_from(members::table).from_insertable(rows).execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for part in rows.chunks(SQLITE_CHUNK) {
                diesel::insert_into(members::table).values(part).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Rows per multi-row `INSERT` on SQLite (at most 16 parameters each; SQLite allows 32,766).
const SQLITE_CHUNK: usize = 2_000;

/// Ids of stored units by credit code, and by `(name, division_code)` for every unit.
#[derive(Debug, Default, Clone)]
pub struct UnitIndex {
    /// Credit code → id.
    pub by_credit_code: std::collections::HashMap<String, i64>,
    /// (name, division code) → id.
    pub by_name_division: std::collections::HashMap<(String, String), i64>,
    /// Name → ids (several units may share a name in different places).
    pub by_name: std::collections::HashMap<String, Vec<i64>>,
    /// Id → division code.
    pub division_of: std::collections::HashMap<i64, String>,
    /// Ids of the units that have a credit code.
    pub coded: std::collections::HashSet<i64>,
}

/// Loads the [`UnitIndex`] of every stored unit (not scoped: used to resolve references
/// during imports, whose rows are checked against the importer's scope separately).
pub fn unit_index(conn: &mut DbConn) -> DbResult<UnitIndex> {
    let rows: Vec<(i64, String, Option<String>, String)> = units::table
        .select((units::id, units::name, units::credit_code, units::division_code))
        .load(conn)?;
    let mut ix = UnitIndex::default();
    for (id, name, cc, div) in rows {
        if let Some(cc) = cc {
            ix.by_credit_code.insert(cc, id);
            ix.coded.insert(id);
        }
        ix.by_name.entry(name.clone()).or_default().push(id);
        ix.by_name_division.insert((name, div.clone()), id);
        ix.division_of.insert(id, div);
    }
    Ok(ix)
}

/// Ids of stored party organizations by code and by name.
#[derive(Debug, Default, Clone)]
pub struct OrgIndex {
    /// Code → (id, division code).
    pub by_code: std::collections::HashMap<String, (i64, String)>,
    /// Name → ids (names may repeat; a name that names two organizations is ambiguous).
    pub by_name: std::collections::HashMap<String, Vec<i64>>,
    /// Id → (code, division code).
    pub of_id: std::collections::HashMap<i64, (String, String)>,
}

/// Loads the [`OrgIndex`] of every stored party organization.
pub fn org_index(conn: &mut DbConn) -> DbResult<OrgIndex> {
    let rows: Vec<(i64, String, String, String)> = party_orgs::table
        .select((
            party_orgs::id,
            party_orgs::code,
            party_orgs::name,
            party_orgs::division_code,
        ))
        .load(conn)?;
    let mut ix = OrgIndex::default();
    for (id, code, name, div) in rows {
        ix.by_name.entry(name).or_default().push(id);
        ix.by_code.insert(code.clone(), (id, div.clone()));
        ix.of_id.insert(id, (code, div));
    }
    Ok(ix)
}

/// Whether the registry holds any record (the demo is generated only into an empty registry).
pub fn is_empty(conn: &mut DbConn) -> DbResult<bool> {
    let n: i64 = units::table.count().get_result(conn)?;
    let m: i64 = party_orgs::table.count().get_result(conn)?;
    Ok(n == 0 && m == 0)
}

/// A unit reference as typed: a credit code, else a full name (unique among stored units).
pub fn resolve_unit(ix: &UnitIndex, typed: &str) -> Result<i64, (usize, String)> {
    let v = cell::clean(typed);
    if let Ok(code) = cell::code(&v)
        && let Some(&id) = ix.by_credit_code.get(&code)
    {
        return Ok(id);
    }
    let name = cell::name(&v);
    match ix.by_name.get(&name).map(Vec::as_slice) {
        Some([id]) => Ok(*id),
        Some([]) | None => Err((
            0,
            format!("no registered unit has the credit code or name {v:?}; import the unit first or correct the name"),
        )),
        Some(ids) => Err((
            ids.len(),
            format!(
                "{} registered units are named {v:?}; give the unit's credit code instead",
                ids.len()
            ),
        )),
    }
}

/// A party organization as typed: its code, else its full name (unique).
pub fn resolve_org(ix: &OrgIndex, typed: &str) -> Result<(i64, String), (usize, String)> {
    if let Ok(code) = cell::code(typed)
        && let Some((id, div)) = ix.by_code.get(&code)
    {
        return Ok((*id, div.clone()));
    }
    let name = cell::name(typed);
    match ix.by_name.get(&name).map(Vec::as_slice) {
        Some([id]) => ix
            .of_id
            .get(id)
            .map(|(_, div)| (*id, div.clone()))
            .ok_or_else(|| (0, "organization index out of date".to_string())),
        Some([]) | None => Err((
            0,
            format!("no party organization has the code or name {typed:?}; use a code from the organization list"),
        )),
        Some(ids) => Err((
            ids.len(),
            format!(
                "{} party organizations are named {typed:?}; give the organization's code instead",
                ids.len()
            ),
        )),
    }
}
