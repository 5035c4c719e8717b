//! Rules the five economy kinds share in their `check` (SPEC C4, C5), the same for an import
//! row, a form and an API body:
//!
//! **Villages** are active village-level divisions (by 12-digit code, "town village" label or
//! a name only one village has) within the caller's scope.
//!
//! **Years** of lead products, income and targets lie within a program covering the village's
//! county (the `programs` table's `start_year..=end_year`, any program whose county contains the
//! village), or among its five baseline years before `start_year` ([`BASELINE_YEARS`]: the
//! starting level and trend the program's growth is measured against); where no program covers
//! the county, any year from [`EARLIEST_YEAR`] to next year. Income and lead products are
//! reported for years that have begun: never after the current year (China time, the
//! application's clock). A brand's year (when it was named) is 1949 to the current year. Years
//! may be written `2025`, `2025年` or `2025年度`.
//!
//! **Amounts** are yuan as people type them ([`Cny::from_yuan_str`]: `12,345.67`, full-width
//! digits, `¥`, `元`, `1.2万`), stored as fen; negative amounts are refused. In a file, a column
//! whose header says 万元 (`金额(万元)`) holds 万: a plain number there is read as that many 万.

use chrono::Datelike;
use diesel::prelude::*;
use ringline_core::division::{DivisionCode, Level};

use super::Cny;
use crate::db::schema::programs;
use crate::db::{DbConn, DbResult};
use crate::kind::{Cx, Values};

/// Which stored records of a kind to load: one by id, or those of some villages.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// The record with this id.
    Id(i64),
    /// The records of these villages (at most 1,000 codes, one `IN` list).
    Villages(&'a [&'a str]),
}

/// First year accepted where no program covers a village's county, and for brands.
pub const EARLIEST_YEAR: i32 = 1949;

/// Years before a program's first year accepted as its baseline history: the five years of a
/// planning period (五年规划), so the years before the program give its starting level and trend
/// (growth, the ≥ ¥50,000 share over time).
pub const BASELINE_YEARS: i32 = 5;

/// The years programs accept, loaded once per check context.
pub struct Years {
    /// Per program: the significant prefix of its county, the first year accepted (its
    /// baseline) and its last year.
    programs: Vec<(String, i32, i32)>,
}

impl Years {
    fn load(conn: &mut DbConn) -> DbResult<Years> {
        let rows: Vec<(String, i32, i32)> = programs::table
            .select((programs::county_code, programs::start_year, programs::end_year))
            .load(conn)?;
        Ok(Years {
            programs: rows
                .into_iter()
                .filter_map(|(county, start, end)| {
                    DivisionCode::parse(&county)
                        .ok()
                        .map(|c| (c.prefix().to_string(), start - BASELINE_YEARS, end))
                })
                .collect(),
        })
    }

    /// The accepted year ranges of the programs covering `division`.
    pub fn windows(&self, division: &str) -> Vec<(i32, i32)> {
        self.programs
            .iter()
            .filter(|(prefix, ..)| division.starts_with(prefix.as_str()))
            .map(|&(_, first, last)| (first, last))
            .collect()
    }
}

/// The required village field `key`: an active village within the caller's scope.
///
/// # Errors
/// Database errors loading the divisions.
pub fn village(v: &mut Values, cx: &mut Cx, key: &str) -> DbResult<Option<String>> {
    let before = v.errors.len();
    let code = v.division(key, cx.divisions()?, &[Level::Village]);
    if code.is_none() && v.errors.len() == before && !v.is_excel_error(key) {
        v.required(key);
    }
    Ok(code.filter(|c| v.in_scope(key, cx.access, c)))
}

fn year_out_of_range(v: &mut Values, typed: &str, first: i32, last: i32) {
    v.error(
        "year",
        typed,
        "year-out-of-range",
        format!("the year {typed} is not between {first} and {last}; check the year"),
    );
    v.args(vec![("first", first.to_string()), ("last", last.to_string())]);
}

/// The `year` of a product, income or target of `village` (module docs); `past_only` refuses
/// years after the current one.
///
/// # Errors
/// Database errors loading the programs.
pub fn program_year(v: &mut Values, cx: &mut Cx, village: Option<&str>, past_only: bool) -> DbResult<Option<i32>> {
    let Some(y) = v.year("year") else {
        return Ok(None);
    };
    let typed = v.clean("year");
    let this_year = cx.today().year();
    let windows = match village {
        Some(d) => cx.cached(Years::load)?.windows(d),
        None => Vec::new(),
    };
    if windows.is_empty() {
        if !(EARLIEST_YEAR..=this_year + 1).contains(&y) {
            year_out_of_range(v, &typed, EARLIEST_YEAR, this_year + 1);
            return Ok(None);
        }
    } else if !windows.iter().any(|&(first, last)| (first..=last).contains(&y)) {
        let first = windows.iter().map(|w| w.0).min().unwrap_or(y);
        let last = windows.iter().map(|w| w.1).max().unwrap_or(y);
        v.error(
            "year",
            &typed,
            "year-outside-program",
            format!(
                "the year {y} is outside the program of this village's county: {first} to {last} (the program's years and the five baseline years before them); check the year"
            ),
        );
        v.args(vec![("first", first.to_string()), ("last", last.to_string())]);
        return Ok(None);
    }
    if past_only && y > this_year {
        v.error(
            "year",
            &typed,
            "year-future",
            format!("the year {y} has not begun; income and output are reported for the current year or earlier ones"),
        );
        return Ok(None);
    }
    Ok(Some(y))
}

/// The `year` a brand was named: [`EARLIEST_YEAR`] to the current year.
pub fn named_year(v: &mut Values, cx: &Cx) -> Option<i32> {
    let y = v.year("year")?;
    let this_year = cx.today().year();
    if (EARLIEST_YEAR..=this_year).contains(&y) {
        Some(y)
    } else {
        let typed = v.clean("year");
        year_out_of_range(v, &typed, EARLIEST_YEAR, this_year);
        None
    }
}

/// An amount field: yuan as typed, in 万 under a 万元 header (module docs).
pub fn amount(v: &mut Values, key: &str) -> Option<Cny> {
    let wan = v.in_wan(key);
    v.amount(key, wan)
}

/// An amount as a person types it back (edit forms, audit entries, undo): yuan with two
/// decimals and no separators, `12345.60`.
pub fn yuan_text(c: Cny) -> String {
    format!("{}.{:02}", c.fen() / 100, c.fen() % 100)
}

/// A decimal as typed back: without a trailing `.0` (`1200`, `2.5`).
pub fn number_text(v: f64) -> String {
    let s = v.to_string();
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_numbers_read_back() {
        // 1,234,560 fen = 12,345.60 yuan; 5 fen = 0.05 yuan.
        assert_eq!(yuan_text(Cny::from_fen(1_234_560).expect("fen")), "12345.60");
        assert_eq!(yuan_text(Cny::from_fen(5).expect("fen")), "0.05");
        assert_eq!(
            Cny::from_yuan_str(&yuan_text(Cny::from_fen(99_999).expect("fen")))
                .expect("parses")
                .fen(),
            99_999
        );
        assert_eq!(number_text(1200.0), "1200");
        assert_eq!(number_text(2.5), "2.5");
    }
}
