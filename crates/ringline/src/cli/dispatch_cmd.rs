//! `ringline dispatch plan|confirm` and `ringline cadres skills|set-skill`: what the command
//! line does with dispatched cadres (SPEC C7) beyond the record kinds' own commands
//! (`ringline dispatch list|show|add|edit|retire` for batches, `ringline cadres list|…` for the
//! roster, [`super::records`]). It acts as the system (full scope; ID numbers and phones stay
//! masked).
//!
//! `dispatch plan` runs the optimiser on a draft batch (storing the plan, as the web does) or
//! shows a confirmed batch's plan; without `--batch` it takes the newest draft batch (the demo's
//! [`DEMO_BATCH`](crate::generate::DEMO_BATCH)). When no plan keeps the hard rules it prints the
//! reason naming the rule and exits with code 2.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};

use super::{Format, open, print_rows};
use crate::access::Access;
use crate::cadres::batch::{self, Batch, Plan};
use crate::cadres::{self, DispatchError, Skill};
use crate::config::Config;

/// `ringline dispatch …` beyond the batch records.
#[derive(Debug, Subcommand)]
pub enum DispatchCmd {
    /// Plan a batch: the optimal cadre → village pairs with each score explained (a draft batch
    /// is run and its plan stored; a confirmed batch shows its confirmed plan). Exit code 2 when
    /// no plan keeps the hard rules.
    Plan {
        /// Batch id or name (default: the newest draft batch, e.g. the demo's).
        #[arg(long)]
        batch: Option<String>,
        /// table: one line per pair with its breakdown in words; json: an object with `pairs`
        /// (cadre, cadre_name, village, village_name, score, breakdown) and `total_score`.
        #[arg(long, value_enum, default_value_t)]
        format: PlanFormat,
    },
    /// Confirm a draft batch's plan: one residency per pair (start = the reference date).
    Confirm {
        /// Batch id or name.
        batch: String,
    },
}

/// `ringline cadres …` beyond the roster records.
#[derive(Debug, Subcommand)]
pub enum CadresCmd {
    /// List the skill list (keys and labels).
    Skills {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Add a skill to the list or rename one.
    SetSkill {
        /// Key (lower-case letters, digits, `_`).
        key: String,
        /// Chinese label.
        #[arg(long)]
        zh: String,
        /// English label.
        #[arg(long)]
        en: String,
        /// Display order.
        #[arg(long, default_value_t = 200)]
        order: i32,
    },
}

/// Output of `dispatch plan`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum PlanFormat {
    /// One line per pair with its breakdown in words.
    #[default]
    Table,
    /// A JSON object with `pairs` and `total_score`.
    Json,
}

pub use crate::cadres::batch::{PairJson, PlanJson, plan_json};

/// A whole-batch figure, or `-` where the scope withholds it (never for the command line, which
/// acts as the system).
fn withheld(n: Option<i64>) -> String {
    n.map_or_else(|| "-".to_string(), |n| n.to_string())
}

fn lang() -> &'static str {
    if std::env::var("LANG").is_ok_and(|l| l.starts_with("zh")) {
        "zh-CN"
    } else {
        "en"
    }
}

fn find(conn: &mut crate::db::DbConn, wanted: Option<&str>) -> Result<Batch> {
    let system = Access::system();
    match wanted {
        Some(w) => batch::find_batch(conn, &system, w)?
            .with_context(|| format!("no dispatch batch has the id or name {w:?}; see `ringline dispatch list`")),
        None => batch::default_batch(conn, &system)?.context(
            "there is no dispatch batch yet: the demo creates one on the first `ringline serve` \
             (or run `ringline generate`), or create one with `ringline dispatch add`; see `ringline dispatch list`",
        ),
    }
}

/// Runs `ringline dispatch …`.
pub fn dispatch(config: &Config, cmd: DispatchCmd) -> Result<ExitCode> {
    let db = open(config)?;
    let mut conn = db.conn()?;
    let system = Access::system();
    match cmd {
        DispatchCmd::Plan { batch: wanted, format } => {
            let b = find(&mut conn, wanted.as_deref())?;
            let plan = if b.is_draft() {
                match batch::run(&mut conn, &system, b.id) {
                    Ok(plan) => plan,
                    Err(DispatchError::Infeasible(e)) => {
                        eprintln!(
                            "No plan for the batch {:?} ({}–{} cadres): {e}. [{}]",
                            b.name,
                            b.min_size,
                            b.max_size,
                            e.key()
                        );
                        return Ok(ExitCode::from(2));
                    }
                    Err(e) => return Err(e.into()),
                }
            } else {
                batch::stored_plan(&mut conn, &system, b.id)?.context("the batch disappeared")?
            };
            print_plan(&plan, format)?;
            Ok(ExitCode::SUCCESS)
        }
        DispatchCmd::Confirm { batch: wanted } => {
            let b = find(&mut conn, Some(&wanted))?;
            match batch::confirm(&mut conn, &system, b.id) {
                Ok(ids) => {
                    let end = cadres::term_end(b.reference_date, u32::try_from(b.term_months).unwrap_or(24));
                    eprintln!(
                        "Confirmed the batch {:?}: {} residencies from {} to {end}.",
                        b.name,
                        ids.len(),
                        b.reference_date
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ (DispatchError::NoPlan | DispatchError::PlanOutdated | DispatchError::Confirmed)) => {
                    eprintln!("The batch {:?} was not confirmed: {e}. [{}]", b.name, e.code());
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn print_plan(plan: &Plan, format: PlanFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &plan_json(plan)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        PlanFormat::Table => {
            let lang = lang();
            let b = &plan.batch;
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
            t.set_header(vec!["village", "town", "cadre", "age", "source", "score", "why"]);
            for p in &plan.pairs {
                t.add_row(vec![
                    format!(
                        "{} {}",
                        p.village_code.clone().unwrap_or_default(),
                        p.village_name.clone().unwrap_or_default()
                    ),
                    p.town_name.clone().unwrap_or_default(),
                    format!("{}{}", p.cadre_name, if p.pinned { " (pinned)" } else { "" }),
                    p.cadre_age.to_string(),
                    p.cadre_source.clone().unwrap_or_default(),
                    p.score.to_string(),
                    p.breakdown.words(lang),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "{} ({}): {} pairs, total score {} (size {}–{}, {} per village, {} on {}; score = \
                 priority × {} per matched need + {} when the cadre's unit is twinned with the village)",
                b.name,
                b.status,
                plan.pairs.len(),
                withheld(plan.total_score),
                b.min_size,
                b.max_size,
                b.per_village,
                b.young_max_age
                    .map_or_else(|| "any age".to_string(), |a| format!("aged ≤ {a}")),
                b.reference_date,
                b.per_priority_point,
                b.twinning_bonus,
            )?;
        }
    }
    Ok(())
}

/// Runs `ringline cadres …`.
pub fn cadres_cmd(config: &Config, cmd: CadresCmd) -> Result<ExitCode> {
    let db = open(config)?;
    let mut conn = db.conn()?;
    let system = Access::system();
    match cmd {
        CadresCmd::Skills { format } => {
            let rows = cadres::skills(&mut conn)?;
            print_rows(format, &["key", "zh", "en", "sort_order"], &rows, |s| {
                vec![s.key.clone(), s.zh.clone(), s.en.clone(), s.sort_order.to_string()]
            })?;
            Ok(ExitCode::SUCCESS)
        }
        CadresCmd::SetSkill { key, zh, en, order } => {
            let skill = Skill {
                key,
                zh,
                en,
                sort_order: order,
            };
            match cadres::set_skill(&mut conn, &system, &skill) {
                Ok(()) => {
                    eprintln!("Saved the skill {:?}.", skill.key);
                    Ok(ExitCode::SUCCESS)
                }
                Err(DispatchError::Invalid { message, .. }) => bail!("{message}"),
                Err(e) => Err(e.into()),
            }
        }
    }
}
