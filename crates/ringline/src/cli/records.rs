//! The command line of every record kind ([`crate::kind`]), built from its description:
//!
//! - `ringline KIND list [--q TEXT] [--under CODE] [--FILTER VALUE …] [--retired] [--limit N]
//!   [--offset N] [--format table|json|csv]` — the records (personal data masked);
//! - `ringline KIND show ID [--format …]`;
//! - `ringline KIND add FIELD=VALUE …` — checked exactly like a form or an import row;
//! - `ringline KIND edit ID FIELD=VALUE …` — the given fields over the stored ones;
//! - `ringline KIND retire ID [--reason R] [--date YYYY-MM-DD] [--note TEXT]`.
//!
//! The command line acts as the system (every scope); each write is audited as `system`. Some
//! kinds add commands of their own: `ringline dispatch plan|confirm` (a batch's plan) and
//! `ringline cadres skills|set-skill` (the skill list).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Arg, ArgAction, ArgMatches};

use super::{Format, note_page, open};
use crate::access::Access;
use crate::config::Config;
use crate::i18n::{Lang, Tr};
use crate::kind::export::{Places, cell};
use crate::kind::{Cx, Filter, KindId, Raw, Retire, RetireInput, WriteError};

/// A long option's name for a key (`org_id` → `org-id`), kept for the life of the process.
fn long(key: &str) -> &'static str {
    Box::leak(key.replace('_', "-").into_boxed_str())
}

/// The subcommand of a kind (`ringline units …`).
pub fn command(k: KindId) -> clap::Command {
    let d = k.desc();
    let en = Tr(Lang::En);
    let format = || {
        Arg::new("format")
            .long("format")
            .value_parser(["table", "json", "csv"])
            .default_value("table")
            .help("Output format (json: an array of objects; amounts in fen, rates 0–1)")
    };
    let mut list = clap::Command::new("list")
        .about(format!("List {} (personal data masked)", d.name(en).to_lowercase()))
        .arg(
            Arg::new("limit")
                .long("limit")
                .value_parser(clap::value_parser!(i64).range(1..=1_000_000))
                .default_value("100")
                .help("Rows to show"),
        )
        .arg(
            Arg::new("offset")
                .long("offset")
                .value_parser(clap::value_parser!(i64).range(0..))
                .default_value("0")
                .help("Rows to skip"),
        )
        .arg(
            Arg::new("retired")
                .long("retired")
                .action(ArgAction::SetTrue)
                .help("Include retired records"),
        )
        .arg(format());
    for f in d.filters {
        let arg = match f {
            Filter::Text => Arg::new("q").long("q").help("Names containing this text"),
            Filter::Under => Arg::new("under")
                .long("under")
                .help("Within this division subtree (12-digit code)"),
            Filter::Choice(key, choices) => Arg::new(*key).long(long(key)).help(format!(
                "Only this {}: {}",
                d.label(en, key).to_lowercase(),
                choices.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
            )),
            Filter::Flag(key) => Arg::new(*key)
                .long(long(key))
                .action(ArgAction::SetTrue)
                .help(en.get(&format!("{}-filter-{}", d.key, key.replace('_', "-")))),
            Filter::Id(key, kind) => Arg::new(*key)
                .long(long(key))
                .help(format!("Only those of this {} (id)", kind.desc().one(en))),
            Filter::Year(key) => Arg::new(*key)
                .long(long(key))
                .help(format!("Only this {} (e.g. 2025)", d.label(en, key).to_lowercase())),
            Filter::Division(key) => Arg::new(*key)
                .long(long(key))
                .help(format!("Only this {} (division code)", d.label(en, key).to_lowercase())),
        };
        list = list.arg(arg);
    }
    let fields: Vec<String> = d.fields.iter().map(|f| f.key.to_string()).collect();
    let values = || {
        Arg::new("values")
            .num_args(0..)
            .value_name("FIELD=VALUE")
            .help(format!("Values as a person types them; fields: {}", fields.join(", ")))
    };
    let mut c = clap::Command::new(d.key)
        .about(format!("{}: list, show, add, edit, retire", d.name(en)))
        .subcommand_required(true)
        .subcommand(list)
        .subcommand(
            clap::Command::new("show")
                .about(format!("One {}", d.one(en)))
                .arg(Arg::new("id").required(true))
                .arg(format()),
        )
        .subcommand(
            clap::Command::new("add")
                .about(format!("Add a {} (checked like a form or an import row)", d.one(en)))
                .arg(values()),
        )
        .subcommand(
            clap::Command::new("edit")
                .about(format!("Change a {}: the given fields over the stored ones", d.one(en)))
                .arg(Arg::new("id").required(true))
                .arg(values()),
        );
    if d.retire != Retire::Never {
        let reasons = match d.retire {
            Retire::Keep(r) => r.iter().map(|c| c.0).collect::<Vec<_>>().join(", "),
            _ => String::new(),
        };
        c = c.subcommand(
            clap::Command::new("retire")
                .about(format!("Retire a {}", d.one(en)))
                .arg(Arg::new("id").required(true))
                .arg(Arg::new("reason").long("reason").help(format!("Why: {reasons}")))
                .arg(Arg::new("date").long("date").help("Since (YYYY-MM-DD; default today)"))
                .arg(Arg::new("note").long("note").default_value("").help("A note")),
        );
    }
    // Commands of a kind beyond records: planning and confirming a batch, the skill list.
    use clap::Subcommand;
    match k {
        KindId::Batches => super::dispatch_cmd::DispatchCmd::augment_subcommands(c),
        KindId::Cadres => super::dispatch_cmd::CadresCmd::augment_subcommands(c),
        _ => c,
    }
}

fn format_of(m: &ArgMatches) -> Format {
    match m.get_one::<String>("format").map(String::as_str) {
        Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        _ => Format::Table,
    }
}

/// `FIELD=VALUE` arguments, checked against the kind's fields.
fn raw_values(k: KindId, m: &ArgMatches) -> Result<Raw> {
    let d = k.desc();
    let mut raw = Raw::default();
    for v in m.get_many::<String>("values").into_iter().flatten() {
        let Some((key, value)) = v.split_once('=') else {
            bail!("{v:?} is not FIELD=VALUE");
        };
        if d.field(key).is_none() {
            let known: Vec<&str> = d.fields.iter().map(|f| f.key).collect();
            bail!(
                "{key:?} is not a field of {}; the fields are {}",
                d.key,
                known.join(", ")
            );
        }
        raw.set(key, value);
    }
    Ok(raw)
}

fn write_result<T>(r: std::result::Result<T, WriteError>) -> Result<T> {
    let en = Tr(Lang::En);
    match r {
        Ok(v) => Ok(v),
        Err(WriteError::Invalid(issues)) => {
            let lines: Vec<String> = issues
                .iter()
                .map(|i| {
                    if i.field.is_empty() {
                        i.text(en)
                    } else {
                        format!("{}: {}", i.field, i.text(en))
                    }
                })
                .collect();
            bail!("refused:\n  {}", lines.join("\n  "))
        }
        Err(WriteError::NotFound) => bail!("no such record"),
        Err(WriteError::Forbidden) => bail!("this record cannot be changed this way"),
        Err(WriteError::Conflict(_, m)) => bail!("{m}"),
        Err(WriteError::Db(e)) => Err(e.into()),
    }
}

/// Runs `ringline KIND …`.
pub fn run(config: &Config, k: KindId, m: &ArgMatches) -> Result<ExitCode> {
    let d = k.desc();
    let db = open(config)?;
    let mut conn = db.conn()?;
    let access = Access::system();
    let en = Tr(Lang::En);
    let ops = k.ops();
    match m.subcommand() {
        Some(("list", m)) => {
            let mut params = std::collections::HashMap::new();
            for f in d.filters {
                match f {
                    Filter::Flag(key) => {
                        if m.get_flag(key) {
                            params.insert(key.to_string(), "true".to_string());
                        }
                    }
                    other => {
                        if let Some(v) = m.get_one::<String>(other.key()) {
                            params.insert(other.key().to_string(), v.clone());
                        }
                    }
                }
            }
            let mut q =
                crate::web::records::list_query(d, &params, 100).map_err(|e| anyhow::anyhow!("{}", e.message(en)))?;
            q.limit = *m.get_one::<i64>("limit").unwrap_or(&100);
            q.offset = *m.get_one::<i64>("offset").unwrap_or(&0);
            q.retired = m.get_flag("retired");
            let page = ops.list_json(&mut conn, &access, &q)?;
            print(d, format_of(m), &page.items)?;
            note_page(page.items.len(), q.offset, page.total);
        }
        Some(("show", m)) => {
            let id = m.get_one::<String>("id").map(String::as_str).unwrap_or("");
            let r = ops
                .get_json(&mut conn, &access, id)?
                .with_context(|| format!("no {} has the id {id}", d.one(en)))?;
            print(d, format_of(m), std::slice::from_ref(&r))?;
        }
        Some(("add", m)) => {
            let raw = raw_values(k, m)?;
            let mut cx = Cx::new(&mut conn, &access, crate::clock::Clock::current());
            let id = write_result(ops.create(&mut cx, &raw))?;
            println!("Created {} {id}.", d.one(en));
        }
        Some(("edit", m)) => {
            let id = m.get_one::<String>("id").cloned().unwrap_or_default();
            let raw = raw_values(k, m)?;
            let mut cx = Cx::new(&mut conn, &access, crate::clock::Clock::current());
            write_result(ops.edit(&mut cx, &id, &raw))?;
            println!("Changed {} {id}.", d.one(en));
        }
        Some(("retire", m)) => {
            let id = m.get_one::<String>("id").cloned().unwrap_or_default();
            let date = match m.get_one::<String>("date") {
                Some(s) => Some(ringline_core::cell::date(s).map_err(|e| anyhow::anyhow!("--date {s:?}: {e}"))?),
                None => None,
            };
            let how = RetireInput {
                reason: m.get_one::<String>("reason").cloned().unwrap_or_default(),
                date,
                note: m.get_one::<String>("note").cloned().unwrap_or_default(),
            };
            let mut cx = Cx::new(&mut conn, &access, crate::clock::Clock::current());
            write_result(ops.retire(&mut cx, &id, &how))?;
            println!("Retired {} {id}.", d.one(en));
        }
        _ => {
            use clap::FromArgMatches;
            drop(conn);
            return match k {
                KindId::Batches => {
                    super::dispatch_cmd::dispatch(config, super::dispatch_cmd::DispatchCmd::from_arg_matches(m)?)
                }
                KindId::Cadres => {
                    super::dispatch_cmd::cadres_cmd(config, super::dispatch_cmd::CadresCmd::from_arg_matches(m)?)
                }
                _ => bail!("choose list, show, add, edit or retire (see --help)"),
            };
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints records: JSON as the API gives them, a table or CSV of the kind's columns as text.
fn print(d: &crate::kind::Desc, format: Format, records: &[serde_json::Value]) -> Result<()> {
    use std::io::Write;
    let en = Tr(Lang::En);
    let places = Places::default();
    let columns: Vec<&crate::kind::Column> = d.columns.iter().collect();
    match format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, records).map_err(std::io::Error::from)?;
            writeln!(out)?;
            Ok(())
        }
        _ => {
            let mut headers: Vec<&str> = vec!["id"];
            headers.extend(columns.iter().map(|c| c.key));
            super::print_rows(format, &headers, records, |r| {
                let id = match r.get("id") {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) if !v.is_null() => v.to_string(),
                    _ => String::new(),
                };
                std::iter::once(id)
                    .chain(columns.iter().map(|c| match c.show {
                        // Codes print as codes on the command line.
                        crate::kind::Show::Place => r.get(c.key).and_then(|v| v.as_str()).unwrap_or("").to_string(),
                        _ => cell(en, c, r, &places).text(),
                    }))
                    .collect()
            })
        }
    }
}
