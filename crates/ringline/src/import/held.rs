//! Held import rows (ARCHITECTURE, invariants "held rows").
//!
//! For the kinds whose natural key is personal data — party members and dispatched cadres, keyed
//! by the citizen ID number — a row whose number belongs to a record outside the importer's
//! scope must not tell the importer that the person is registered elsewhere. The import answers
//! it exactly like a new record (same counts, report and warnings, in the dry run and the apply;
//! the framework's `Op::Held`) and, on apply, writes nothing to the record: the row is kept
//! here. A user whose scope covers both the record and the row (the county) sees the held rows
//! ([`list`]), with both sides named and personal data masked, and [`decide`]s each: **transfer**
//! the record (the row applied as an update — for a member, an organizational relationship
//! transfer to the importer's organization; for a cadre, a move to the importer's roster) or
//! **discard** the row. Both are audited.
//!
//! A held row is visible to a caller who sees both its divisions ([`Access::sees_code`] of the
//! record's and of the row's), filtered in SQL; deciding also needs [`Permission::Import`].

use diesel::prelude::*;
use ringline_core::division::DivisionCode;
use ringline_core::mask::{mask_id_number, mask_phone};
use serde::{Deserialize, Serialize};

use super::framework::ImportError;
use crate::access::{Access, Permission};
use crate::audit::{self, Change};
use crate::cadres::kinds::{Cadres, CheckedCadre};
use crate::db::schema::{cadres, held_rows, members, party_orgs, units};
use crate::db::{DbConn, DbError, DbResult, now};
use crate::kind::Kind;
use crate::registry::NewMember;
use crate::registry::member::Members;
use crate::registry::query::{Pred, all, division_names, restrict_codes};

/// The kinds whose rows may be held.
pub const KINDS: [&str; 2] = ["members", "cadres"];

/// A held row as listed: personal data masked, both sides named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HeldRow {
    /// Id.
    pub id: i64,
    /// `members` or `cadres`.
    pub kind: String,
    /// The name in the row.
    pub name: String,
    /// The citizen ID number, masked (`6301**********123X`).
    pub id_number: String,
    /// The phone in the row, masked.
    pub phone: Option<String>,
    /// The stored record (a member's or a cadre's id).
    pub record_id: i64,
    /// Its name as stored (`None` when the record no longer exists).
    pub record_name: Option<String>,
    /// Where it is: the member's party organization, or the cadre's source unit or town.
    pub record_place: Option<String>,
    /// Its division (scope key, 12 digits) when the row was held.
    pub record_division: String,
    /// That division's name.
    pub record_division_name: Option<String>,
    /// Where the row would put it: the organization, or the source unit or town, in the row.
    pub row_place: Option<String>,
    /// The row's division (scope key, 12 digits).
    pub row_division: String,
    /// That division's name.
    pub row_division_name: Option<String>,
    /// The imported file.
    pub file: String,
    /// The row in it, as the importer sees it.
    pub line: i64,
    /// Who imported it.
    pub held_by: String,
    /// When (UTC).
    #[schema(value_type = String)]
    pub held_at: chrono::NaiveDateTime,
}

/// What to do with a held row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Apply the row to the record as an update (the record moves to the row's place).
    Transfer,
    /// Drop the row; the record stays as it is.
    Discard,
}

impl Decision {
    /// Parses `transfer` or `discard`.
    pub fn parse(s: &str) -> Option<Decision> {
        match s.trim() {
            "transfer" => Some(Decision::Transfer),
            "discard" => Some(Decision::Discard),
            _ => None,
        }
    }
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum HeldError {
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The role may not import (and so may not decide held rows).
    #[error("your role may not decide held rows")]
    Forbidden,
    /// No held row with this id within the caller's scope.
    #[error("no such held row")]
    NotFound,
    /// The row can no longer be transferred; the message says why and what to do.
    #[error("{0}")]
    Stale(String),
}

impl From<diesel::result::Error> for HeldError {
    fn from(e: diesel::result::Error) -> Self {
        HeldError::Db(DbError::from(e))
    }
}

impl From<ImportError> for HeldError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Db(d) => HeldError::Db(d),
            ImportError::Forbidden => HeldError::Forbidden,
            ImportError::Changed => {
                HeldError::Stale("another import changed this record meanwhile; check the held row again".into())
            }
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = held_rows)]
struct Row {
    id: i64,
    kind: String,
    record_id: i64,
    record_division: String,
    row_division: String,
    row_json: String,
    file: String,
    line: i64,
    held_by: String,
    held_at: chrono::NaiveDateTime,
}

/// Where a held row belongs: the stored record, its division, the row's division, the row's line.
pub struct Place<'a> {
    /// The stored record's id.
    pub record_id: i64,
    /// The stored record's division (scope key).
    pub record_division: &'a str,
    /// The division (scope key) the row would give it.
    pub row_division: &'a str,
    /// The row's line in the file.
    pub line: usize,
}

/// Keeps a row of `kind`, serialised as JSON, for the county (inside the import's transaction of
/// the generic import of [`crate::kind`]), replacing an earlier held row for the same record and
/// place. Not audited on its own: the import's one entry, identical to that of an import of a
/// new record, covers it, and the decision is audited.
pub fn hold_json(conn: &mut DbConn, access: &Access, kind: &str, h: &Place, json: &str, file: &str) -> DbResult<()> {
    diesel::delete(
        held_rows::table
            .filter(held_rows::kind.eq(kind))
            .filter(held_rows::record_id.eq(h.record_id))
            .filter(held_rows::row_division.eq(&h.row_division)),
    )
    .execute(conn)?;
    diesel::insert_into(held_rows::table)
        .values((
            held_rows::kind.eq(kind),
            held_rows::record_id.eq(h.record_id),
            held_rows::record_division.eq(&h.record_division),
            held_rows::row_division.eq(&h.row_division),
            held_rows::row_json.eq(json),
            held_rows::file.eq(file),
            held_rows::line.eq(i64::try_from(h.line).unwrap_or(i64::MAX)),
            held_rows::held_by.eq(&access.username),
            held_rows::held_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Both divisions of a held row within the caller's scope, in SQL.
fn visible(access: &Access) -> Pred<held_rows::table> {
    let mut p: Vec<Pred<held_rows::table>> = Vec::new();
    restrict_codes!(p, held_rows::record_division, access.code_filter());
    restrict_codes!(p, held_rows::row_division, access.code_filter());
    all(p)
}

/// The held rows the caller sees (both sides in their scope), oldest first, personal data
/// masked.
pub fn list(conn: &mut DbConn, access: &Access) -> DbResult<Vec<HeldRow>> {
    let rows: Vec<Row> = held_rows::table
        .filter(visible(access))
        .order(held_rows::id.asc())
        .select(Row::as_select())
        .load(conn)?;
    let divisions = division_names(
        conn,
        rows.iter()
            .flat_map(|r| [r.record_division.clone(), r.row_division.clone()]),
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (name, id_number, phone, row_place, record) = match r.kind.as_str() {
            "cadres" => {
                let c: CheckedCadre = parse(&r.row_json)?;
                let place = cadre_source(conn, c.cadre.source_unit_id, c.cadre.source_town.as_deref())?;
                let stored: Option<(String, Option<i64>, Option<String>)> = cadres::table
                    .find(r.record_id)
                    .select((cadres::name, cadres::source_unit_id, cadres::source_town))
                    .first(conn)
                    .optional()?;
                let record = match stored {
                    Some((n, unit, town)) => Some((n, cadre_source(conn, unit, town.as_deref())?)),
                    None => None,
                };
                (c.cadre.name, c.cadre.id_number, c.cadre.phone, place, record)
            }
            _ => {
                let m: NewMember = parse(&r.row_json)?;
                let place = org_name(conn, m.party_org_id)?;
                let stored: Option<(String, i64)> = members::table
                    .find(r.record_id)
                    .select((members::name, members::party_org_id))
                    .first(conn)
                    .optional()?;
                let record = match stored {
                    Some((n, org)) => Some((n, org_name(conn, org)?)),
                    None => None,
                };
                (m.name, m.id_number, m.phone, place, record)
            }
        };
        let (record_name, record_place) = match record {
            Some((n, p)) => (Some(n), p),
            None => (None, None),
        };
        out.push(HeldRow {
            id: r.id,
            name,
            id_number: mask_id_number(&id_number),
            phone: phone.as_deref().map(mask_phone),
            record_id: r.record_id,
            record_name,
            record_place,
            record_division_name: divisions.get(&r.record_division).cloned(),
            record_division: r.record_division,
            row_place,
            row_division_name: divisions.get(&r.row_division).cloned(),
            row_division: r.row_division,
            kind: r.kind,
            file: r.file,
            line: r.line,
            held_by: r.held_by,
            held_at: r.held_at,
        });
    }
    Ok(out)
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> DbResult<T> {
    serde_json::from_str(json).map_err(|e| DbError::Task(format!("a held row does not parse: {e}")))
}

fn org_name(conn: &mut DbConn, id: i64) -> DbResult<Option<String>> {
    Ok(party_orgs::table
        .find(id)
        .select(party_orgs::name)
        .first(conn)
        .optional()?)
}

fn cadre_source(conn: &mut DbConn, unit: Option<i64>, town: Option<&str>) -> DbResult<Option<String>> {
    Ok(match (unit, town) {
        (Some(u), _) => units::table.find(u).select(units::name).first(conn).optional()?,
        (None, Some(t)) => division_names(conn, [t.to_string()])?.remove(t),
        (None, None) => None,
    })
}

/// The audit scope of a division code: its significant prefix.
fn area(code: &str) -> String {
    DivisionCode::parse(code)
        .map(|d| d.prefix().to_string())
        .unwrap_or_default()
}

/// The audit scope covering two division codes: the longest significant prefix they share.
fn common_prefix(a: &str, b: &str) -> String {
    let (a, b) = (area(a), area(b));
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let n = [12, 9, 6, 4, 2, 0]
        .into_iter()
        .find(|&l| l <= n.min(a.len()))
        .unwrap_or(0);
    a[..n].to_string()
}

/// Transfers or discards a held row the caller sees. Needs [`Permission::Import`]; audited in
/// the same transaction: a transfer as an update of the record (before → after, personal data
/// masked) under the area covering both places, a discard under the record's area (never the
/// importer's alone, whose readers must not learn of the record).
///
/// # Errors
/// [`HeldError::Forbidden`] without the permission; [`HeldError::NotFound`] for a row that is
/// unknown or not entirely in the scope; [`HeldError::Stale`] when a transfer is no longer
/// possible (the record or the row's organization or source is gone, or has moved out of the
/// scope): discard the row and import it again.
pub fn decide(conn: &mut DbConn, access: &Access, id: i64, decision: Decision) -> Result<(), HeldError> {
    if !access.can(Permission::Import) {
        return Err(HeldError::Forbidden);
    }
    conn.transaction(|conn| {
        let r: Row = held_rows::table
            .filter(held_rows::id.eq(id))
            .filter(visible(access))
            .select(Row::as_select())
            .first(conn)
            .optional()?
            .ok_or(HeldError::NotFound)?;
        let id_text = r.id.to_string();
        match decision {
            Decision::Discard => {
                // Under the record's own area: a discard changes nothing of the importer's.
                audit::record(
                    conn,
                    access,
                    Change {
                        action: "discard",
                        entity: "held_row",
                        entity_id: &id_text,
                        detail: format!("{}: {} row {} (record {})", r.kind, r.file, r.line, r.record_id),
                        scope: area(&r.record_division),
                        ..Default::default()
                    },
                )?;
            }
            Decision::Transfer => {
                let (entity, before, after, division) = match r.kind.as_str() {
                    "cadres" => transfer_cadre(conn, access, &r)?,
                    _ => transfer_member(conn, access, &r)?,
                };
                let record_text = r.record_id.to_string();
                audit::record(
                    conn,
                    access,
                    Change {
                        action: "transfer",
                        entity,
                        entity_id: &record_text,
                        before: Some(before),
                        after: Some(after),
                        detail: format!("held row {}: {} row {}", r.id, r.file, r.line),
                        scope: common_prefix(&r.record_division, &division),
                    },
                )?;
            }
        }
        diesel::delete(held_rows::table.find(r.id)).execute(conn)?;
        Ok(())
    })
}

type Transferred = (&'static str, serde_json::Value, serde_json::Value, String);

fn stale(what: &str) -> HeldError {
    HeldError::Stale(format!(
        "{what}; the row cannot be transferred — discard it and import the row again"
    ))
}

fn transfer_member(conn: &mut DbConn, access: &Access, r: &Row) -> Result<Transferred, HeldError> {
    let mut m: NewMember = parse(&r.row_json)?;
    let stored = crate::registry::member::load_by_numbers(conn, &[m.id_number.as_str()])?.remove(&m.id_number);
    let before = match stored {
        Some((id, s)) if id == r.record_id && access.sees_code(&s.division_code) => s,
        _ => return Err(stale("the member is no longer registered where the row was held")),
    };
    // The member goes where the organization is now.
    let org: Option<String> = party_orgs::table
        .find(m.party_org_id)
        .select(party_orgs::division_code)
        .first(conn)
        .optional()?;
    match org {
        Some(d) if access.sees_code(&d) => m.division_code = d,
        _ => return Err(stale("the row's party organization no longer exists in your area")),
    }
    if m.employer_unit_id
        .is_some_and(|u| !unit_exists(conn, u).unwrap_or(false))
    {
        m.employer_unit_id = None;
    }
    m.updated_at = now();
    Members::update(conn, &r.record_id.to_string(), &m)?;
    Ok(("member", member_json(&before), member_json(&m), m.division_code))
}

/// A member as the audit log keeps it: ID number and phone masked.
fn member_json(m: &NewMember) -> serde_json::Value {
    serde_json::json!({
        "name": m.name, "id_number": mask_id_number(&m.id_number),
        "phone": m.phone.as_deref().map(mask_phone), "status": m.status,
        "join_date": m.join_date, "party_org_id": m.party_org_id, "employer": m.employer,
        "employer_unit_id": m.employer_unit_id, "home_community": m.home_community,
    })
}

fn unit_exists(conn: &mut DbConn, id: i64) -> DbResult<bool> {
    Ok(units::table
        .find(id)
        .select(units::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// A cadre as the audit log keeps it: ID number and phone masked.
fn cadre_json(c: &CheckedCadre) -> serde_json::Value {
    let n = &c.cadre;
    serde_json::json!({
        "name": n.name, "id_number": mask_id_number(&n.id_number),
        "phone": n.phone.as_deref().map(mask_phone), "source_unit_id": n.source_unit_id,
        "source_town": n.source_town, "home_village": n.home_village,
        "division_code": n.division_code, "skills": c.skills,
    })
}

fn transfer_cadre(conn: &mut DbConn, access: &Access, r: &Row) -> Result<Transferred, HeldError> {
    let mut c: CheckedCadre = parse(&r.row_json)?;
    let stored = crate::cadres::kinds::load_by_numbers(conn, std::slice::from_ref(&c.cadre.id_number))?
        .remove(&c.cadre.id_number);
    let before = match stored {
        Some((id, s)) if id == r.record_id && access.sees_code(&s.cadre.division_code) => s,
        _ => return Err(stale("the cadre is no longer on the roster where the row was held")),
    };
    // The cadre's scope key is where the source is now.
    let division = match (c.cadre.source_unit_id, &c.cadre.source_town) {
        (Some(u), _) => units::table
            .find(u)
            .select(units::division_code)
            .first::<String>(conn)
            .optional()?,
        (None, Some(t)) => Some(t.clone()),
        (None, None) => None,
    };
    match division {
        Some(d) if access.sees_code(&d) => c.cadre.division_code = d,
        _ => return Err(stale("the row's source unit or town is no longer in your area")),
    }
    c.cadre.updated_at = now();
    Cadres::update(conn, &r.record_id.to_string(), &c)?;
    Ok(("cadre", cadre_json(&before), cadre_json(&c), c.cadre.division_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_parse() {
        assert_eq!(Decision::parse("transfer"), Some(Decision::Transfer));
        assert_eq!(Decision::parse(" discard "), Some(Decision::Discard));
        assert_eq!(Decision::parse("apply"), None);
    }

    #[test]
    fn the_audit_area_of_two_places_is_their_common_ancestor() {
        // 南滩村 (东峡镇) and 西关村 (城关镇): the county 630121.
        assert_eq!(common_prefix("630121103201", "630121101200"), "630121");
        // Two villages of one town: the town.
        assert_eq!(common_prefix("630121103201", "630121103202"), "630121103");
        // A town and a village in it: the town.
        assert_eq!(common_prefix("630121103000", "630121103201"), "630121103");
        assert_eq!(common_prefix("630121103201", "630121103201"), "630121103201");
    }
}
