//! Collective-economy figures per zone, town or county for one year (SPEC C5): villages, how many
//! reported, villages per income class, the headline share of villages with at least ¥50,000,
//! sum, mean and median income, like-for-like growth and the sum of targets.
//!
//! Rules:
//! - A village *reported* in a year when it has any income row for that year; its total is the
//!   sum over its sources (a reported 0 is an empty-shell village, not a missing report).
//! - Figures ([`Summary`]: class counts, share ≥ ¥50,000, total, mean, median) are computed by
//!   [`summarise`] over the totals of the group's villages that reported, classes under the
//!   configured [`Thresholds`].
//! - Summaries describe the divisions in use: `villages` counts the group's active villages (and
//!   communities) within the caller's scope, and only their income, targets and growth count. A
//!   retired village leaves the summaries of every year (so `reported ≤ villages` always); its
//!   own records stay readable on its profile and in the village income list.
//! - Growth is *like-for-like*: over the villages that reported both in the year before and in
//!   the year, `(Σ this year − Σ year before) / Σ year before`; `None` when no village reported
//!   in both years or their sum the year before was 0. Villages reporting for the first time do
//!   not inflate it.
//! - Groups: a town or county holds the villages whose code lies under it; a zone holds its
//!   member villages (`zone_members`); a village in two zones counts in both. Towns (and
//!   counties) of the scope are listed even without any income (reported 0).
//! - Everything is restricted to the caller's scope: a town administrator sees their town only.
//!
//! Units: amounts in fen ([`Cny`]), shares and growth as fractions 0–1 (growth may be negative).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use ringline_core::division::Level;
use serde::Serialize;

use super::query::{IncomeFilter, income_pred, totals};
use super::{Cny, IncomeClass, Summary, Thresholds, growth_rate, summarise};
use crate::access::{Access, Scope};
use crate::db::schema::{divisions, income_targets};
use crate::db::{DbConn, DbResult};
use crate::divisions::ACTIVE;
use crate::registry::query::{Pred, all, division_names, restrict_codes};
use crate::zones;

/// How the summary is grouped: [`By::Zone`], [`By::Town`] or [`By::County`] (the same choice as
/// the coverage figures).
pub use crate::registry::coverage::By;

/// The collective economy of one group (zone, town or county) in one year.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    /// Zone id, town code or county code (12 digits).
    pub key: String,
    /// Zone, town or county name (Chinese).
    pub name: String,
    /// English name (zones only; divisions have none).
    pub name_en: Option<String>,
    /// The year.
    pub year: i32,
    /// Active villages of the group within the caller's scope (retired ones count in no
    /// summary).
    pub villages: usize,
    /// Of those, villages with income reported this year.
    pub reported: usize,
    /// Figures over the reported villages' totals: class counts, the share with at least
    /// ¥50,000 (a fraction 0–1), total, mean and median (fen).
    #[schema(value_type = Object)]
    pub summary: Summary,
    /// Like-for-like growth as a fraction (0.1 = +10 %): villages that reported both this year
    /// and the year before; `None` when there are none or their previous sum is 0.
    pub growth: Option<f64>,
    /// Sum of this year's targets of the group's villages (fen); `None` when none has a target.
    #[schema(value_type = Option<i64>)]
    pub target_total: Option<Cny>,
    /// True when any figure behind the row is illustrative (demo data).
    pub illustrative: bool,
}

impl SummaryRow {
    /// Fraction (0–1) of the reported villages that are of `class`; `None` when none reported.
    pub fn class_share(&self, class: IncomeClass) -> Option<f64> {
        (self.reported > 0).then(|| self.summary.counts.get(class) as f64 / self.reported as f64)
    }

    /// Fraction (0–1) of the villages that reported this year; `None` for a group without
    /// villages.
    pub fn reporting_rate(&self) -> Option<f64> {
        (self.villages > 0).then(|| self.reported as f64 / self.villages as f64)
    }
}

/// Today's date in China (UTC+8, no daylight saving), for defaults such as the summary year.
pub fn china_today() -> chrono::NaiveDate {
    crate::clock::Clock::current().today()
}

/// The default year of summaries: the last full year in China today ([`super::last_full_year`]).
pub fn default_year() -> i32 {
    super::last_full_year(china_today())
}

/// The code at `level` containing the 12-digit `code`: its first digits, zero-padded.
fn ancestor_at(code: &str, level: Level) -> Option<String> {
    let n = level.prefix_len();
    (code.len() == 12 && code.is_ascii()).then(|| format!("{:0<12}", &code[..n]))
}

/// What the summary knows about each village in scope for the year.
struct Villages {
    /// Active villages in scope: the only ones counted.
    known: BTreeSet<String>,
    /// This year's totals (and whether illustrative).
    current: HashMap<String, (Cny, bool)>,
    /// The year before's totals.
    before: HashMap<String, Cny>,
    /// This year's targets.
    targets: HashMap<String, Cny>,
}

impl Villages {
    fn load(conn: &mut DbConn, access: &Access, year: i32) -> DbResult<Villages> {
        let mut current = HashMap::new();
        let mut before = HashMap::new();
        for y in [year - 1, year] {
            let f = IncomeFilter {
                year: Some(y),
                ..Default::default()
            };
            let (rows, codes) = totals(conn, income_pred(access, &f))?;
            for r in rows {
                let code = codes[r.village].clone();
                if y == year {
                    current.insert(code, (r.total, r.illustrative));
                } else {
                    before.insert(code, r.total);
                }
            }
        }
        let mut p: Vec<Pred<income_targets::table>> = Vec::new();
        restrict_codes!(p, income_targets::village_code, access.code_filter());
        let target_rows: Vec<(String, i64)> = income_targets::table
            .filter(all(p))
            .filter(income_targets::year.eq(year))
            .select((income_targets::village_code, income_targets::target_fen))
            .load(conn)?;
        let targets = target_rows
            .into_iter()
            .map(|(v, fen)| (v, Cny::from_fen(fen).unwrap_or_default()))
            .collect();
        let mut p: Vec<Pred<divisions::table>> = Vec::new();
        restrict_codes!(p, divisions::code, access.code_filter());
        let active: Vec<String> = divisions::table
            .filter(all(p))
            .filter(divisions::level.eq(Level::Village.as_str()))
            .filter(divisions::status.eq(ACTIVE))
            .select(divisions::code)
            .load(conn)?;
        let known: BTreeSet<String> = active.into_iter().collect();
        Ok(Villages {
            known,
            current,
            before,
            targets,
        })
    }

    /// The row of a group of villages.
    fn row<'a>(
        &self,
        key: String,
        name: String,
        name_en: Option<String>,
        year: i32,
        group: impl IntoIterator<Item = &'a String>,
        t: &Thresholds,
    ) -> SummaryRow {
        let mut villages = 0;
        let mut reported = Vec::new();
        let mut illustrative = false;
        let (mut then, mut now, mut both) = (Cny::ZERO, Cny::ZERO, 0usize);
        let mut target_total: Option<Cny> = None;
        for code in group {
            if !self.known.contains(code) {
                continue;
            }
            villages += 1;
            if let Some(target) = self.targets.get(code) {
                target_total = Some(target_total.unwrap_or_default().saturating_add(*target));
            }
            let Some(&(total, demo)) = self.current.get(code) else {
                continue;
            };
            reported.push(total);
            illustrative |= demo;
            if let Some(&previous) = self.before.get(code) {
                then = then.saturating_add(previous);
                now = now.saturating_add(total);
                both += 1;
            }
        }
        SummaryRow {
            key,
            name,
            name_en,
            year,
            villages,
            reported: reported.len(),
            summary: summarise(&reported, t),
            growth: if both > 0 { growth_rate(then, now) } else { None },
            target_total,
            illustrative,
        }
    }
}

/// The collective economy in `year` per group within the caller's scope, classes under `t`:
///
/// - [`By::Zone`]: one row per zone of the program `program_id` (default: the first program
///   visible to the caller, as [`zones::programs`] lists them — the newest), in display order;
///   empty when the program is unknown or not visible;
/// - [`By::Town`]: one row per active town visible in the scope, with or without income (a
///   caller scoped to a village sees its town's row with only its village), ordered by code;
/// - [`By::County`]: likewise per county.
///
/// # Errors
/// Database errors.
pub fn summary(
    conn: &mut DbConn,
    access: &Access,
    year: i32,
    by: By,
    program_id: Option<i64>,
    t: &Thresholds,
) -> DbResult<Vec<SummaryRow>> {
    Ok(summaries(conn, access, year, &[by], program_id, t)?
        .pop()
        .unwrap_or_default())
}

/// [`summary`] for each grouping of `bys` in turn (one list of rows per grouping, in the same
/// order), reading the year's village figures once.
///
/// # Errors
/// Database errors.
pub fn summaries(
    conn: &mut DbConn,
    access: &Access,
    year: i32,
    bys: &[By],
    program_id: Option<i64>,
    t: &Thresholds,
) -> DbResult<Vec<Vec<SummaryRow>>> {
    let v = Villages::load(conn, access, year)?;
    bys.iter()
        .map(|by| match by {
            By::Zone => by_zone(conn, access, &v, year, program_id, t),
            By::Town => by_level(conn, access, &v, year, Level::Town, t),
            By::County => by_level(conn, access, &v, year, Level::County, t),
        })
        .collect()
}

fn by_level(
    conn: &mut DbConn,
    access: &Access,
    v: &Villages,
    year: i32,
    level: Level,
    t: &Thresholds,
) -> DbResult<Vec<SummaryRow>> {
    let mut groups: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    // Every active division of the level within the scope, with or without villages (for a
    // zone: the towns and county of its villages, named for context; the figures count only
    // its villages).
    let mut p: Vec<Pred<divisions::table>> = Vec::new();
    restrict_codes!(p, divisions::code, access.names_filter());
    let codes: Vec<String> = divisions::table
        .filter(all(p))
        .filter(divisions::level.eq(level.as_str()))
        .filter(divisions::status.eq(ACTIVE))
        .select(divisions::code)
        .load(conn)?;
    for code in codes {
        groups.entry(code).or_default();
    }
    // A scope deeper than the level: the division of the level containing it.
    if let Scope::Division(c) = &access.scope
        && c.level() > level
        && let Some(a) = ancestor_at(c.as_str(), level)
    {
        groups.entry(a).or_default();
    }
    for code in &v.known {
        if let Some(key) = ancestor_at(code, level) {
            groups.entry(key).or_default().push(code);
        }
    }
    let names = division_names(conn, groups.keys().cloned())?;
    Ok(groups
        .into_iter()
        .map(|(key, members)| {
            let name = names.get(&key).cloned().unwrap_or_else(|| key.clone());
            v.row(key, name, None, year, members, t)
        })
        .collect())
}

fn by_zone(
    conn: &mut DbConn,
    access: &Access,
    v: &Villages,
    year: i32,
    program_id: Option<i64>,
    t: &Thresholds,
) -> DbResult<Vec<SummaryRow>> {
    Ok(zones::zones_with_members(conn, access, program_id)?
        .into_iter()
        .map(|(z, members)| {
            // Only villages count (`Villages::row` skips any other code as not `known`).
            v.row(z.id.to_string(), z.name, Some(z.name_en), year, &members, t)
        })
        .collect())
}

/// One row of `economy summary --format json` (and of its CSV): amounts in fen, fractions 0–1.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SummaryJson {
    /// Zone id, town code or county code.
    pub key: String,
    /// Zone, town or county name.
    pub name: String,
    /// The year.
    pub year: i32,
    /// Villages of the group.
    pub villages: usize,
    /// Villages that reported income this year.
    pub reported: usize,
    /// Empty-shell villages (income 0).
    pub empty_shell: usize,
    /// Weak villages.
    pub weak: usize,
    /// Ordinary villages.
    pub ordinary: usize,
    /// Strong villages.
    pub strong: usize,
    /// Fraction (0–1) of the reported villages with at least 50,000 yuan.
    pub share_at_least_50k: Option<f64>,
    /// Total income of the reported villages, fen.
    pub total_fen: i64,
    /// Mean income, fen.
    pub mean_fen: Option<i64>,
    /// Median income, fen.
    pub median_fen: Option<i64>,
    /// Like-for-like growth over the year before, a fraction.
    pub growth: Option<f64>,
    /// Sum of the villages' targets for the year, fen.
    pub target_total_fen: Option<i64>,
}

/// The rows `economy summary --format json` prints.
pub fn summary_json(rows: &[SummaryRow]) -> Vec<SummaryJson> {
    rows.iter()
        .map(|r| SummaryJson {
            key: r.key.clone(),
            name: r.name.clone(),
            year: r.year,
            villages: r.villages,
            reported: r.reported,
            empty_shell: r.summary.counts.empty_shell,
            weak: r.summary.counts.weak,
            ordinary: r.summary.counts.ordinary,
            strong: r.summary.counts.strong,
            share_at_least_50k: r.summary.share_at_least_50k,
            total_fen: r.summary.total.fen(),
            mean_fen: r.summary.mean.map(Cny::fen),
            median_fen: r.summary.median.map(Cny::fen),
            growth: r.growth,
            target_total_fen: r.target_total.map(Cny::fen),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ancestor_at("63", Level::Town), None);
    }

    #[test]
    fn default_year_is_the_year_before() {
        // Whatever today is, the default is last year in China.
        assert_eq!(default_year(), chrono::Datelike::year(&china_today()) - 1);
    }
}
