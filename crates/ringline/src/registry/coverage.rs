//! Organization and work coverage of non-public enterprises and social organisations (SPEC C3,
//! "two coverages", 两个覆盖).
//!
//! Rules:
//! - Only units of kind `non_public_enterprise` or `social_organization` (两新组织) are counted
//!   ([`COVERAGE_KINDS`]); other units have coverage flags too but enter no rate.
//! - A unit has **organization coverage** (组织覆盖) when `party_org_units` links it to at least
//!   one party organization whose establishment mode is `own` or `joint`.
//! - A unit has **work coverage** (工作覆盖) when it is linked to any party organization (`own`,
//!   `joint` or `instructor`, i.e. at least a party-building instructor). Organization coverage
//!   therefore implies work coverage.
//! - A unit counts once however many organizations cover it. Coverage is a property of the
//!   unit: the covering organization may lie outside the caller's scope.
//! - Rates are fractions from 0 to 1 (`covered / units`), `None` for a group with no such units.
//! - All counts are of units within the caller's scope.
//!
//! Groups: by town (the first 9 digits of the unit's `division_code`), by county (the first 6),
//! or by zone of a program (units whose `division_code` is a member village of the zone in
//! `zone_members`). A unit registered at a town code, not a village, belongs to no zone: zones
//! are made of villages. A village in two zones counts in both.
//!
//! The counting is done in SQL: three `GROUP BY division_code` queries (units; organization
//! covered; work covered) return at most one row per village or town holding units, which are
//! then summed per group. At province scale (≈100,000 units) that is a few thousand rows.

use std::collections::{BTreeMap, HashMap};

use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use ringline_core::division::Level;
use serde::{Deserialize, Serialize};

use super::query::{self, COVERAGE_KINDS, Lacking, ORG_COVERAGE_MODES, Unit, UnitFilter, WORK_COVERAGE_MODES};
use crate::access::{Access, CodeFilter, Scope};
use crate::db::schema::{divisions, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbResult, MultiBackend};
use crate::divisions::ACTIVE;
use crate::zones;

/// Coverage of one group (town, zone or county).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// Town or county code (12 digits), or zone id.
    pub key: String,
    /// Town, county or zone name.
    pub name: String,
    /// Non-public enterprises and social organisations in the group (units).
    pub units: i64,
    /// Of those, units with organization coverage (own or joint party organization).
    pub org_covered: i64,
    /// Of those, units with work coverage (any party organization, instructor included).
    pub work_covered: i64,
    /// `org_covered / units`, a fraction from 0 to 1; absent when `units` is 0.
    pub org_rate: Option<f64>,
    /// `work_covered / units`, a fraction from 0 to 1; absent when `units` is 0.
    pub work_rate: Option<f64>,
}

/// How coverage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// One row per town (乡镇), including towns without units.
    #[default]
    Town,
    /// One row per zone of a program.
    Zone,
    /// One row per county.
    County,
}

/// Counts of one division code or group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    units: i64,
    org: i64,
    work: i64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.units += o.units;
        self.org += o.org;
        self.work += o.work;
    }

    fn row(self, key: String, name: String) -> CoverageRow {
        let rate = |n: i64| (self.units > 0).then(|| n as f64 / self.units as f64);
        CoverageRow {
            key,
            name,
            units: self.units,
            org_covered: self.org,
            work_covered: self.work,
            org_rate: rate(self.org),
            work_rate: rate(self.work),
        }
    }
}

type Pred = Box<dyn diesel::BoxableExpression<units::table, MultiBackend, SqlType = Bool>>;

/// Units of the coverage kinds within the caller's scope, optionally only those covered by an
/// organization of one of `modes`.
fn counted_units(access: &Access, modes: Option<&'static [&'static str]>) -> Pred {
    let mut p: Pred = Box::new(units::kind.eq_any(COVERAGE_KINDS).and(units::retired_on.is_null()));
    match access.code_filter() {
        CodeFilter::None => {}
        CodeFilter::Range(start, end) => {
            p = Box::new(p.and(units::division_code.ge(start)));
            if let Some(end) = end {
                p = Box::new(p.and(units::division_code.lt(end)));
            }
        }
        CodeFilter::List(codes) => p = Box::new(p.and(units::division_code.eq_any(codes))),
    }
    if let Some(modes) = modes {
        let covered = party_org_units::table
            .inner_join(party_orgs::table)
            .filter(party_orgs::mode.eq_any(modes))
            .filter(party_orgs::dissolved_on.is_null())
            .select(party_org_units::unit_id);
        p = Box::new(p.and(units::id.eq_any(covered)));
    }
    p
}

/// Counts per division code of the caller's units of the coverage kinds.
fn counts_by_division(conn: &mut DbConn, access: &Access) -> DbResult<BTreeMap<String, Counts>> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    let grouped = |conn: &mut DbConn, modes: Option<&'static [&'static str]>| -> DbResult<Vec<(String, i64)>> {
        Ok(units::table
            .filter(counted_units(access, modes))
            .group_by(units::division_code)
            .select((units::division_code, count_star()))
            .load(conn)?)
    };
    for (code, n) in grouped(conn, None)? {
        out.entry(code).or_default().units = n;
    }
    for (code, n) in grouped(conn, Some(&ORG_COVERAGE_MODES))? {
        out.entry(code).or_default().org = n;
    }
    for (code, n) in grouped(conn, Some(&WORK_COVERAGE_MODES))? {
        out.entry(code).or_default().work = n;
    }
    Ok(out)
}

/// The code at `level` containing `code`: its first `level.prefix_len()` digits, zero-padded.
fn ancestor_at(code: &str, level: Level) -> Option<String> {
    let n = level.prefix_len();
    (code.len() == 12 && code.is_ascii()).then(|| format!("{:0<12}", &code[..n]))
}

/// Coverage per town, zone or county within the caller's scope.
///
/// - [`By::Town`]: one row per active town visible in the scope (including towns without
///   units), plus any other town holding a visible unit, ordered by code; a caller scoped to a
///   village sees the row of its town (with only its village's units).
/// - [`By::County`]: likewise per county.
/// - [`By::Zone`]: one row per zone of the program (`program_id`, default the first program
///   visible to the caller, as [`zones::programs`] lists them), in display order; empty when
///   the program is unknown or not visible.
pub fn coverage(conn: &mut DbConn, access: &Access, by: By, program_id: Option<i64>) -> DbResult<Vec<CoverageRow>> {
    let counts = counts_by_division(conn, access)?;
    match by {
        By::Town => by_level(conn, access, &counts, Level::Town),
        By::County => by_level(conn, access, &counts, Level::County),
        By::Zone => by_zone(conn, access, &counts, program_id),
    }
}

fn by_level(
    conn: &mut DbConn,
    access: &Access,
    counts: &BTreeMap<String, Counts>,
    level: Level,
) -> DbResult<Vec<CoverageRow>> {
    let mut groups: BTreeMap<String, Counts> = BTreeMap::new();
    // Every active division of the level within the scope, with or without units (for a zone:
    // the towns and county of its villages, named for context; the counts are its villages').
    let mut q = divisions::table
        .filter(divisions::level.eq(level.as_str()))
        .filter(divisions::status.eq(ACTIVE))
        .into_boxed();
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
    for code in q.select(divisions::code).load::<String>(conn)? {
        groups.entry(code).or_default();
    }
    // A scope deeper than the level: the division of the level containing it.
    if let Scope::Division(c) = &access.scope
        && c.level() > level
        && let Some(a) = ancestor_at(c.as_str(), level)
    {
        groups.entry(a).or_default();
    }
    for (code, c) in counts {
        if let Some(key) = ancestor_at(code, level) {
            groups.entry(key).or_default().add(*c);
        }
    }
    let names = division_names(conn, groups.keys().cloned().collect())?;
    Ok(groups
        .into_iter()
        .map(|(key, c)| {
            let name = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            c.row(key, name)
        })
        .collect())
}

fn division_names(conn: &mut DbConn, codes: Vec<String>) -> DbResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(1_000) {
        let rows: Vec<(String, String)> = divisions::table
            .filter(divisions::code.eq_any(chunk))
            .select((divisions::code, divisions::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

fn by_zone(
    conn: &mut DbConn,
    access: &Access,
    counts: &BTreeMap<String, Counts>,
    program_id: Option<i64>,
) -> DbResult<Vec<CoverageRow>> {
    Ok(zones::zones_with_members(conn, access, program_id)?
        .into_iter()
        .map(|(z, members)| {
            let mut c = Counts::default();
            for code in &members {
                if let Some(m) = counts.get(code) {
                    c.add(*m);
                }
            }
            c.row(z.id.to_string(), z.name)
        })
        .collect())
}

/// Non-public enterprises and social organisations within the caller's scope lacking
/// organization coverage (`kind` `None` or `"org"`) or work coverage (`"work"`), optionally
/// only within the subtree `under`, ordered by division code and name, with the total count.
/// Any other `kind` matches nothing.
pub fn uncovered(
    conn: &mut DbConn,
    access: &Access,
    kind: Option<&str>,
    under: Option<String>,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Unit>, i64)> {
    let lacking = match kind.map(str::trim) {
        None | Some("" | "org") => Lacking::Org,
        Some("work") => Lacking::Work,
        Some(_) => return Ok((Vec::new(), 0)),
    };
    let filter = UnitFilter {
        under,
        ..Default::default()
    };
    query::unit_list(conn, access, &filter, Some(lacking), limit, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_fractions_or_absent() {
        let r = Counts {
            units: 4,
            org: 2,
            work: 3,
        }
        .row("630121103000".into(), "东峡镇".into());
        assert_eq!(r.org_rate, Some(0.5));
        assert_eq!(r.work_rate, Some(0.75));
        let empty = Counts::default().row("x".into(), "x".into());
        assert_eq!((empty.org_rate, empty.work_rate), (None, None));
    }

    #[test]
    fn ancestors() {
        assert_eq!(
            ancestor_at("630121103201", Level::Town).as_deref(),
            Some("630121103000")
        );
        assert_eq!(
            ancestor_at("630121103201", Level::County).as_deref(),
            Some("630121000000")
        );
        assert_eq!(ancestor_at("6301", Level::Town), None);
    }

    #[test]
    fn by_parses_lowercase() {
        let b: By = serde_json::from_str("\"zone\"").expect("zone");
        assert_eq!(b, By::Zone);
        assert_eq!(serde_json::to_string(&By::County).expect("json"), "\"county\"");
    }
}
