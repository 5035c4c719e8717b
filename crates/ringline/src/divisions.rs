//! Divisions (SPEC C1): the county → town → village tree keyed by the 12-digit NBS statistical
//! code, its listing with effective points, and its history of renames and retirements.
//!
//! The code is its own materialized path: a subtree is the range of codes that start with the
//! node's significant prefix ([`ringline_core::division::DivisionCode::prefix`]), queried as
//! `prefix <= code < prefix_end` so both backends use the primary-key index.

use diesel::prelude::*;
use ringline_core::division::{DivisionCode, Level};
use ringline_core::geo::LonLat;
use serde::Serialize;

use crate::access::{Access, CodeFilter};
use crate::db::schema::{division_history, divisions};
use crate::db::{DbConn, DbResult, prefix_end};

/// Division status: in use, or retired by a re-import that no longer lists it.
pub const ACTIVE: &str = "active";
/// See [`ACTIVE`].
pub const RETIRED: &str = "retired";

/// A stored division row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = divisions)]
pub struct DivisionRow {
    /// 12-digit NBS code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// `province` … `village`.
    pub level: String,
    /// Parent's code (absent for roots).
    pub parent_code: Option<String>,
    /// NBS urban-rural class code (111 … 220), when known.
    pub urban_rural_code: Option<String>,
    /// Own longitude, WGS-84 degrees.
    pub lon: Option<f64>,
    /// Own latitude, WGS-84 degrees.
    pub lat: Option<f64>,
    /// `active` or `retired`.
    pub status: String,
    /// When the row was first stored (UTC).
    pub created_at: chrono::NaiveDateTime,
    /// When it last changed (UTC).
    pub updated_at: chrono::NaiveDateTime,
    /// When it was retired (UTC).
    pub retired_at: Option<chrono::NaiveDateTime>,
}

impl DivisionRow {
    /// The division's own point, if it has one.
    pub fn own_point(&self) -> Option<LonLat> {
        Some(LonLat {
            lon: self.lon?,
            lat: self.lat?,
        })
    }
}

/// A division as shown to users and the API: with its effective point (its own, or its town
/// seat's, then marked approximate).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Division {
    /// 12-digit NBS statistical code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// `province`, `city`, `county`, `town` or `village`.
    pub level: String,
    /// Parent code.
    pub parent_code: Option<String>,
    /// Parent name, when the parent is stored.
    pub parent_name: Option<String>,
    /// Town kind (`sub_district`, `town`, `township`, `town_like`) or village kind
    /// (`residents_committee`, `villagers_committee`, …) from the code.
    pub kind: Option<String>,
    /// NBS urban-rural class code.
    pub urban_rural_code: Option<String>,
    /// Effective longitude, WGS-84 degrees.
    pub lon: Option<f64>,
    /// Effective latitude, WGS-84 degrees.
    pub lat: Option<f64>,
    /// True when the point is the town seat's, not the division's own.
    pub approximate: bool,
    /// `active` or `retired`.
    pub status: String,
    /// The day (China time) a retired division was retired; its records stay readable, but
    /// nothing new is attached to it.
    pub retired_on: Option<chrono::NaiveDate>,
}

/// The date in China (UTC+8, no daylight saving) of a stored UTC timestamp.
pub fn china_date(at: chrono::NaiveDateTime) -> chrono::NaiveDate {
    crate::clock::in_china(at).date()
}

/// Every retired division: code → the day (China time) it was retired.
pub fn retired(conn: &mut DbConn) -> DbResult<std::collections::HashMap<String, chrono::NaiveDate>> {
    let rows: Vec<(String, Option<chrono::NaiveDateTime>, chrono::NaiveDateTime)> = divisions::table
        .filter(divisions::status.eq(RETIRED))
        .select((divisions::code, divisions::retired_at, divisions::updated_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, at, updated)| (code, china_date(at.unwrap_or(updated))))
        .collect())
}

/// Filters for listing divisions.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this level.
    pub level: Option<Level>,
    /// Only children of this code.
    pub parent: Option<String>,
    /// Only codes within this subtree prefix (e.g. the user's scope or a county).
    pub under: Option<String>,
    /// Include retired divisions.
    pub include_retired: bool,
}

/// Counts the divisions matching `filter`.
pub fn count(conn: &mut DbConn, access: &Access, filter: &ListFilter) -> DbResult<i64> {
    let q = apply_filter(divisions::table.into_boxed(), access, filter);
    Ok(q.count().get_result(conn)?)
}

fn apply_filter<'a>(
    mut q: divisions::BoxedQuery<'a, crate::db::MultiBackend>,
    access: &Access,
    filter: &ListFilter,
) -> divisions::BoxedQuery<'a, crate::db::MultiBackend> {
    match access.names_filter() {
        CodeFilter::None => {}
        CodeFilter::Range(start, end) => {
            q = q.filter(divisions::code.ge(start));
            if let Some(end) = end {
                q = q.filter(divisions::code.lt(end));
            }
        }
        CodeFilter::List(codes) => q = q.filter(divisions::code.eq_any(codes)),
    }
    if let Some(level) = filter.level {
        q = q.filter(divisions::level.eq(level.as_str()));
    }
    if let Some(parent) = &filter.parent {
        q = q.filter(divisions::parent_code.eq(parent.clone()));
    }
    if let Some(prefix) = &filter.under {
        q = q.filter(divisions::code.ge(prefix.clone()));
        if let Some(end) = prefix_end(prefix) {
            q = q.filter(divisions::code.lt(end));
        }
    }
    if !filter.include_retired {
        q = q.filter(divisions::status.eq(ACTIVE));
    }
    q
}

/// Lists the divisions in `access`'s scope matching `filter`, ordered by code, with effective
/// points.
pub fn list(
    conn: &mut DbConn,
    access: &Access,
    filter: &ListFilter,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<Division>> {
    let q = apply_filter(divisions::table.into_boxed(), access, filter);
    let rows: Vec<DivisionRow> = q
        .order(divisions::code.asc())
        .limit(limit)
        .offset(offset)
        .select(DivisionRow::as_select())
        .load(conn)?;
    with_parents(conn, rows)
}

/// One division by code (active or retired); `None` when unknown or outside the scope (for a
/// zone scope, the towns and county of its villages are named: [`Access::names_code`]).
pub fn get(conn: &mut DbConn, access: &Access, code: &str) -> DbResult<Option<Division>> {
    if !access.names_code(code) {
        return Ok(None);
    }
    let row: Option<DivisionRow> = divisions::table
        .find(code)
        .select(DivisionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(r) => with_parents(conn, vec![r])?.into_iter().next(),
        None => None,
    })
}

/// Resolves parent names and approximate points for `rows` with one extra query.
fn with_parents(conn: &mut DbConn, rows: Vec<DivisionRow>) -> DbResult<Vec<Division>> {
    let mut parent_codes: Vec<String> = rows.iter().filter_map(|r| r.parent_code.clone()).collect();
    parent_codes.sort();
    parent_codes.dedup();
    let mut parents = std::collections::HashMap::new();
    for chunk in parent_codes.chunks(500) {
        let found: Vec<DivisionRow> = divisions::table
            .filter(divisions::code.eq_any(chunk))
            .select(DivisionRow::as_select())
            .load(conn)?;
        for p in found {
            parents.insert(p.code.clone(), p);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let parent = r.parent_code.as_ref().and_then(|c| parents.get(c));
            let (point, approximate) = effective_point(&r, parent);
            let kind = DivisionCode::parse(&r.code).ok().and_then(|c| match c.level() {
                Level::Town => c.town_kind().map(|k| k.as_str().to_string()),
                Level::Village => c.village_kind().map(|k| k.as_str().to_string()),
                _ => None,
            });
            Division {
                parent_name: parent.map(|p| p.name.clone()),
                kind,
                lon: point.map(|p| p.lon),
                lat: point.map(|p| p.lat),
                approximate,
                code: r.code,
                name: r.name,
                level: r.level,
                parent_code: r.parent_code,
                urban_rural_code: r.urban_rural_code,
                retired_on: (r.status == RETIRED).then(|| china_date(r.retired_at.unwrap_or(r.updated_at))),
                status: r.status,
            }
        })
        .collect())
}

/// The point a division is drawn and measured at: its own, else (villages only) its town
/// seat's, which is then approximate.
pub fn effective_point(row: &DivisionRow, parent: Option<&DivisionRow>) -> (Option<LonLat>, bool) {
    match row.own_point() {
        Some(p) => (Some(p), false),
        None if row.level == Level::Village.as_str() => match parent.and_then(DivisionRow::own_point) {
            Some(p) => (Some(p), true),
            None => (None, false),
        },
        None => (None, false),
    }
}

/// All active villages under `prefix` with their effective points, ordered by code, whatever
/// the caller's scope: for zone membership, which is a property of the data, not of a view.
pub fn villages_with_points(conn: &mut DbConn, prefix: &str) -> DbResult<Vec<Division>> {
    let filter = ListFilter {
        level: Some(Level::Village),
        under: Some(prefix.to_string()),
        ..Default::default()
    };
    list(conn, &Access::system(), &filter, i64::MAX, 0)
}

/// A history entry (created, renamed, retired, reinstated, updated).
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = division_history)]
pub struct HistoryEntry {
    /// Row id.
    pub id: i64,
    /// Division code.
    pub code: String,
    /// `created`, `renamed`, `updated`, `retired` or `reinstated`.
    pub event: String,
    /// Name before the event.
    pub old_name: Option<String>,
    /// Name after the event.
    pub new_name: Option<String>,
    /// Where the change came from (the import file name).
    pub source: String,
    /// When (UTC).
    pub at: chrono::NaiveDateTime,
}

/// The history of one code, oldest first (empty outside the scope).
pub fn history(conn: &mut DbConn, access: &Access, code: &str) -> DbResult<Vec<HistoryEntry>> {
    if !access.names_code(code) {
        return Ok(Vec::new());
    }
    Ok(division_history::table
        .filter(division_history::code.eq(code))
        .order(division_history::id.asc())
        .select(HistoryEntry::as_select())
        .load(conn)?)
}

/// Divisions for a list of codes (any status) within the scope, in no particular order.
pub fn get_many(conn: &mut DbConn, access: &Access, codes: &[String]) -> DbResult<Vec<Division>> {
    let codes: Vec<String> = codes.iter().filter(|c| access.names_code(c)).cloned().collect();
    let mut out = Vec::with_capacity(codes.len());
    for chunk in codes.chunks(500) {
        let rows: Vec<DivisionRow> = divisions::table
            .filter(divisions::code.eq_any(chunk))
            .select(DivisionRow::as_select())
            .load(conn)?;
        out.extend(with_parents(conn, rows)?);
    }
    Ok(out)
}

/// What the records hold on one division code: how many records of each kind name it. A
/// retirement lists these, so an import retires a code knowingly; the records stay, readable,
/// but nothing new is attached to a retired code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Holdings {
    /// Party members registered with an organization of the division.
    pub members: i64,
    /// Party members whose home community it is.
    pub residents: i64,
    /// Party organizations of the division (its village branch, the organizations of units there).
    pub orgs: i64,
    /// Units registered there.
    pub units: i64,
    /// Collective income records (one per year and source).
    pub income: i64,
    /// Income targets.
    pub targets: i64,
    /// Lead products.
    pub products: i64,
    /// Development chains.
    pub chains: i64,
    /// Party-building brands it owns or lies in.
    pub brands: i64,
    /// Dispatched cadres from there (home village, source town) or registered there.
    pub cadres: i64,
    /// Residencies of dispatched cadres there.
    pub residencies: i64,
    /// Village needs.
    pub needs: i64,
    /// Twinning pairs.
    pub twinning: i64,
    /// Zones' include or exclude entries.
    pub zone_overrides: i64,
    /// User accounts scoped to it.
    pub users: i64,
}

impl Holdings {
    /// Whether nothing names the code.
    pub fn is_empty(&self) -> bool {
        *self == Holdings::default()
    }

    /// The non-zero counts in words: "61 party members, 5 party organizations, …".
    pub fn describe(&self) -> String {
        [
            (self.members, "party members"),
            (self.residents, "party members living there"),
            (self.orgs, "party organizations"),
            (self.units, "units"),
            (self.income, "income records"),
            (self.targets, "income targets"),
            (self.products, "lead products"),
            (self.chains, "development chains"),
            (self.brands, "brands"),
            (self.cadres, "dispatched cadres"),
            (self.residencies, "residencies"),
            (self.needs, "village needs"),
            (self.twinning, "twinning pairs"),
            (self.zone_overrides, "zone include/exclude entries"),
            (self.users, "user accounts"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Counts, for each of `codes`, the records that name it exactly ([`Holdings`]); codes that
/// nothing names are left out.
pub fn holdings(conn: &mut DbConn, codes: &[String]) -> DbResult<std::collections::BTreeMap<String, Holdings>> {
    use crate::db::schema::{
        brands, cadres, collective_income, development_chains, income_targets, lead_products, members, party_orgs,
        residencies, twinning, units, users, village_needs, zone_overrides,
    };
    let mut out: std::collections::BTreeMap<String, Holdings> = std::collections::BTreeMap::new();
    // Adds 1 to `field` of the code in `column` for every row of `table` naming one of the codes.
    macro_rules! tally {
        ($table:ident, $column:expr, $field:ident) => {
            for chunk in codes.chunks(500) {
                let found: Vec<String> = $table::table
                    .filter($column.eq_any(chunk))
                    .select($column)
                    .load(conn)?;
                for code in found {
                    out.entry(code).or_default().$field += 1;
                }
            }
        };
        ($table:ident, $column:expr, $field:ident, nullable) => {
            for chunk in codes.chunks(500) {
                let found: Vec<Option<String>> = $table::table
                    .filter($column.eq_any(chunk))
                    .select($column)
                    .load(conn)?;
                for code in found.into_iter().flatten() {
                    out.entry(code).or_default().$field += 1;
                }
            }
        };
    }
    tally!(members, members::division_code, members);
    tally!(members, members::home_community, residents, nullable);
    tally!(party_orgs, party_orgs::division_code, orgs);
    tally!(units, units::division_code, units);
    tally!(collective_income, collective_income::village_code, income);
    tally!(income_targets, income_targets::village_code, targets);
    tally!(lead_products, lead_products::village_code, products);
    tally!(development_chains, development_chains::village_code, chains);
    tally!(brands, brands::division_code, brands);
    tally!(cadres, cadres::division_code, cadres);
    tally!(residencies, residencies::village_code, residencies);
    tally!(village_needs, village_needs::village_code, needs);
    tally!(twinning, twinning::village_code, twinning);
    tally!(zone_overrides, zone_overrides::division_code, zone_overrides);
    tally!(users, users::scope, users);
    Ok(out)
}
