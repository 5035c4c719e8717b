//! `ringline economy summary|villages`: the collective economy of villages (SPEC C5) on the
//! command line, acting as the system (full scope), classes under the configured thresholds
//! (`income_weak_below`, `income_ordinary_below`).
//!
//! Tables show amounts in yuan and rates as percentages; JSON and CSV give amounts as integer
//! fen and rates as fractions 0–1, with the same keys (JSON: an array of objects).

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use serde::Serialize;

use super::{Format, check_code, note_page, open, print_rows};
use crate::access::Access;
use crate::config::Config;
use crate::economy::query::{self, IncomeFilter, VillageYear};
use crate::economy::summary::{self, By};
use crate::economy::{Cny, IncomeClass, IncomeSource};
use crate::zones;

/// `ringline economy …`.
#[derive(Debug, Subcommand)]
pub enum EconomyCmd {
    /// Collective income per zone, town or county for one year: villages, how many reported,
    /// villages per class (empty-shell, weak, ordinary, strong), the share with at least
    /// ¥50,000, total, mean and median income, like-for-like growth and the sum of targets.
    Summary {
        /// The year (default: the last full year, i.e. last year in China).
        #[arg(long)]
        year: Option<i32>,
        /// Group by zone (of a program), town or county.
        #[arg(long, value_enum, default_value = "zone")]
        by: By,
        /// For --by zone: the program (id); default the newest program.
        #[arg(long)]
        program: Option<i64>,
        /// Output format (json: an array of objects with key, name, year, villages, reported,
        /// empty_shell, weak, ordinary, strong, share_at_least_50k, total_fen, mean_fen,
        /// median_fen, growth, target_total_fen; fractions 0–1, amounts in fen).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The collective income of each village in one year, by source, with its class, target and
    /// growth over the year before; ordered by village code.
    Villages {
        /// The year (default: the last full year).
        #[arg(long)]
        year: Option<i32>,
        /// Only villages within this division (a town or village code).
        #[arg(long)]
        under: Option<String>,
        /// Only villages of this class: empty_shell, weak, ordinary or strong (or 空壳村, 薄弱村,
        /// 一般村, 强村).
        #[arg(long, value_parser = parse_class)]
        class: Option<IncomeClass>,
        /// At most this many rows.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// Skip this many rows first.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Output format (amounts in fen in JSON and CSV).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

fn parse_class(s: &str) -> Result<IncomeClass, String> {
    s.parse::<IncomeClass>().map_err(|e| e.to_string())
}

pub use crate::economy::summary::{SummaryJson, summary_json};

/// One row of `economy villages --format json` (and of its CSV): amounts in fen (`null` for a
/// source not reported), growth a fraction.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VillageJson {
    /// Village code.
    pub village_code: String,
    /// Village name.
    pub village_name: Option<String>,
    /// Town code.
    pub town_code: Option<String>,
    /// Town name.
    pub town_name: Option<String>,
    /// The year.
    pub year: i32,
    /// Operating income 经营收入, fen.
    pub operating_fen: Option<i64>,
    /// Contracting and leasing income 发包及上交收入, fen.
    pub contracting_leasing_fen: Option<i64>,
    /// Investment returns 投资收益, fen.
    pub investment_returns_fen: Option<i64>,
    /// Service income 服务收入, fen.
    pub services_fen: Option<i64>,
    /// Subsidies 补助收入, fen.
    pub subsidies_fen: Option<i64>,
    /// Other income 其他收入, fen.
    pub other_fen: Option<i64>,
    /// Total, fen.
    pub total_fen: i64,
    /// Target for the year, fen.
    pub target_fen: Option<i64>,
    /// `empty_shell`, `weak`, `ordinary` or `strong`.
    pub class: String,
    /// Total of the year before, fen.
    pub previous_total_fen: Option<i64>,
    /// Growth over the year before, a fraction.
    pub growth: Option<f64>,
}

/// The rows `economy villages --format json` prints.
pub fn villages_json(rows: &[VillageYear]) -> Vec<VillageJson> {
    rows.iter()
        .map(|r| {
            let fen = |s: IncomeSource| r.amount(s).map(Cny::fen);
            VillageJson {
                village_code: r.village_code.clone(),
                village_name: r.village_name.clone(),
                town_code: r.town_code.clone(),
                town_name: r.town_name.clone(),
                year: r.year,
                operating_fen: fen(IncomeSource::Operating),
                contracting_leasing_fen: fen(IncomeSource::ContractingLeasing),
                investment_returns_fen: fen(IncomeSource::InvestmentReturns),
                services_fen: fen(IncomeSource::Services),
                subsidies_fen: fen(IncomeSource::Subsidies),
                other_fen: fen(IncomeSource::Other),
                total_fen: r.total.fen(),
                target_fen: r.target.map(Cny::fen),
                class: r.class.as_str().to_string(),
                previous_total_fen: r.previous_total.map(Cny::fen),
                growth: r.growth,
            }
        })
        .collect()
}

/// A fraction as tables show it (a percentage) or as CSV gives it (0–1).
fn fraction(v: Option<f64>, format: Format) -> String {
    match (v, format) {
        (None, _) => String::new(),
        (Some(v), Format::Table) => format!("{:.1}%", v * 100.0),
        (Some(v), _) => format!("{v:.4}"),
    }
}

/// An amount as tables show it (yuan) or as CSV gives it (fen).
fn amount(v: Option<i64>, format: Format) -> String {
    match (v, format) {
        (None, _) => String::new(),
        (Some(fen), Format::Table) => Cny::from_fen(fen).map(|c| c.to_string()).unwrap_or_default(),
        (Some(fen), _) => fen.to_string(),
    }
}

/// Column headers: the JSON keys, with amounts in yuan in tables.
fn headers(keys: &[&'static str], format: Format) -> Vec<String> {
    keys.iter()
        .map(|k| match (format, k.strip_suffix("_fen")) {
            (Format::Table, Some(stem)) => format!("{stem} (yuan)"),
            _ => (*k).to_string(),
        })
        .collect()
}

/// Says on stderr when nothing was reported for the year, naming the years that have data.
fn note_years(conn: &mut crate::db::DbConn, year: i32) -> Result<()> {
    let years = query::income_years(conn, &Access::system())?;
    if !years.contains(&year) {
        if years.is_empty() {
            eprintln!("No collective income is recorded yet (import it, or run `ringline generate` for the demo).");
        } else {
            let list: Vec<String> = years.iter().map(i32::to_string).collect();
            eprintln!(
                "No collective income is recorded for {year}; years with income: {}.",
                list.join(", ")
            );
        }
    }
    Ok(())
}

/// Runs `ringline economy …`.
pub fn economy(config: &Config, cmd: EconomyCmd) -> Result<ExitCode> {
    let system = Access::system();
    let thresholds = &config.income_thresholds;
    match cmd {
        EconomyCmd::Summary {
            year,
            by,
            program,
            format,
        } => {
            let db = open(config)?;
            let mut conn = db.conn()?;
            if let Some(id) = program {
                if by != By::Zone {
                    bail!("--program applies to --by zone only");
                }
                if zones::program(&mut conn, &system, id)?.is_none() {
                    bail!("no program has the id {id}; see `ringline zones list`");
                }
            }
            let year = year.unwrap_or_else(summary::default_year);
            let rows = summary::summary(&mut conn, &system, year, by, program, thresholds)?;
            let json = summary_json(&rows);
            const KEYS: [&str; 15] = [
                "key",
                "name",
                "year",
                "villages",
                "reported",
                "empty_shell",
                "weak",
                "ordinary",
                "strong",
                "share_at_least_50k",
                "total_fen",
                "mean_fen",
                "median_fen",
                "growth",
                "target_total_fen",
            ];
            let heads = headers(&KEYS, format);
            let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
            print_rows(format, &heads, &json, |r| {
                vec![
                    r.key.clone(),
                    r.name.clone(),
                    r.year.to_string(),
                    r.villages.to_string(),
                    r.reported.to_string(),
                    r.empty_shell.to_string(),
                    r.weak.to_string(),
                    r.ordinary.to_string(),
                    r.strong.to_string(),
                    fraction(r.share_at_least_50k, format),
                    amount(Some(r.total_fen), format),
                    amount(r.mean_fen, format),
                    amount(r.median_fen, format),
                    fraction(r.growth, format),
                    amount(r.target_total_fen, format),
                ]
            })?;
            note_years(&mut conn, year)?;
            Ok(ExitCode::SUCCESS)
        }
        EconomyCmd::Villages {
            year,
            under,
            class,
            limit,
            offset,
            format,
        } => {
            check_code("--under", &under)?;
            let db = open(config)?;
            let mut conn = db.conn()?;
            let year = year.unwrap_or_else(summary::default_year);
            let filter = IncomeFilter {
                year: Some(year),
                under,
                class,
                ..Default::default()
            };
            let (rows, total) = query::incomes(&mut conn, &system, &filter, thresholds, limit, offset)?;
            let json = villages_json(&rows);
            const KEYS: [&str; 16] = [
                "village_code",
                "village_name",
                "town_code",
                "town_name",
                "year",
                "operating_fen",
                "contracting_leasing_fen",
                "investment_returns_fen",
                "services_fen",
                "subsidies_fen",
                "other_fen",
                "total_fen",
                "target_fen",
                "class",
                "previous_total_fen",
                "growth",
            ];
            let heads = headers(&KEYS, format);
            let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
            print_rows(format, &heads, &json, |r| {
                vec![
                    r.village_code.clone(),
                    r.village_name.clone().unwrap_or_default(),
                    r.town_code.clone().unwrap_or_default(),
                    r.town_name.clone().unwrap_or_default(),
                    r.year.to_string(),
                    amount(r.operating_fen, format),
                    amount(r.contracting_leasing_fen, format),
                    amount(r.investment_returns_fen, format),
                    amount(r.services_fen, format),
                    amount(r.subsidies_fen, format),
                    amount(r.other_fen, format),
                    amount(Some(r.total_fen), format),
                    amount(r.target_fen, format),
                    r.class.clone(),
                    amount(r.previous_total_fen, format),
                    fraction(r.growth, format),
                ]
            })?;
            note_page(rows.len(), offset, total);
            note_years(&mut conn, year)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
