//! `ringline import KIND FILE [--apply]` and `ringline import template KIND --out FILE`: the
//! registry import framework ([`crate::import::framework`]) on the command line, acting as the
//! system (full scope). A progress bar is drawn on a terminal; the exit code is 2 when anything
//! in the file is rejected (nothing is then written).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use crate::access::Access;
use crate::config::Config;
use crate::i18n::{Lang, Tr};
use crate::import::framework::{self, OnExisting, Options, Report, Stage};
use crate::import::{Issue, shorten, spec, workbook};

/// `ringline import …`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ImportArgs {
    /// `template KIND --out FILE`.
    #[command(subcommand)]
    pub sub: Option<ImportSub>,
    /// What the file holds: units, orgs (party organizations), members, cadres, twinning, needs,
    /// work_logs, products (lead products), chains (development chains), brands, income
    /// (collective income) or targets (income targets).
    #[arg(required = true)]
    pub kind: Option<String>,
    /// The file: .xlsx, .xls, .ods, .csv (UTF-8, GBK or GB18030) or .csv.gz.
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Write the records (default: a dry run that only reports).
    #[arg(long)]
    pub apply: bool,
    /// What to do with a row whose key matches a stored record that differs.
    #[arg(long, value_enum, default_value = "skip")]
    pub on_existing: OnExisting,
    /// Also write the rows with errors, bad cells marked, to this XLSX file.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Output: text lines or a JSON report.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Language of the messages (default: from LANG; Chinese when it starts with zh).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
}

/// `ringline import template`.
#[derive(Debug, Subcommand)]
pub enum ImportSub {
    /// Write an import template (headers with notes, drop-down lists) as XLSX.
    Template {
        /// The kind, as for an import (units, orgs, members, … income, targets).
        kind: String,
        /// Output file (.xlsx).
        #[arg(long)]
        out: PathBuf,
        /// Language of headers and notes.
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
    },
}

/// Report output.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// One line per problem and a summary.
    Text,
    /// The report as JSON.
    Json,
}

/// Language of messages and templates.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// Chinese (templates get the headers people use).
    Zh,
    /// English.
    En,
}

fn kind_of(key: &str) -> Result<&'static spec::KindSpec> {
    spec::kind(key).with_context(|| {
        let known: Vec<&str> = spec::kinds().iter().map(|k| k.key).collect();
        format!("unknown kind {key:?}; use one of: {}", known.join(", "))
    })
}

/// Runs `ringline import …`.
pub fn run(config: &Config, args: ImportArgs) -> Result<ExitCode> {
    if let Some(ImportSub::Template { kind, out, lang }) = args.sub {
        let kind = kind_of(&kind)?;
        let lang = match lang {
            LangArg::Zh => "zh-CN",
            LangArg::En => "en",
        };
        let bytes = workbook::template(kind, lang).context("writing the template")?;
        std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("Wrote the {} template to {}.", kind.en, out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(kind), Some(file)) = (args.kind, args.file) else {
        bail!("give the kind and the file: ringline import members FILE");
    };
    let kind = kind_of(&kind)?;
    let tr = Tr(match args.lang {
        Some(LangArg::Zh) => Lang::Zh,
        Some(LangArg::En) => Lang::En,
        None if std::env::var("LANG").is_ok_and(|l| l.starts_with("zh")) => Lang::Zh,
        None => Lang::En,
    });
    let db = super::open(config)?;
    let mut conn = db.conn()?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("import")
        .to_string();
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len} rows ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    });
    let mut progress = |stage: Stage, done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_message(match stage {
                Stage::Reading => "reading",
                Stage::Checking => "checking",
                Stage::Writing => "writing",
            });
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let opts = Options {
        on_existing: args.on_existing,
        apply: args.apply,
        illustrative: false,
        confirm: false,
        expected: None,
    };
    let (report, sheet) =
        framework::import_file(&mut conn, &Access::system(), kind, &file, &name, opts, &mut progress)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let (Some(out), Some(sheet)) = (&args.errors, &sheet)
        && !report.errors.is_empty()
    {
        let source = workbook::ErrorSource {
            file: &sheet.file,
            sheet: sheet.sheet.as_deref(),
            headers: &sheet.headers,
            rows: &sheet.rows,
        };
        let bytes = workbook::error_workbook(&source, &report.errors, &|i| i.text(tr), tr.lang().code())
            .context("writing the error workbook")?;
        std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("Wrote the rows with errors to {}.", out.display());
    }
    print_report(&report, args.format, tr, args.errors.is_some())?;
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// One problem as a line: place, then the message in the chosen language and the value.
fn line(i: &Issue, tr: Tr) -> String {
    let mut out = i.file.clone();
    if let Some(s) = &i.sheet {
        out.push_str(&format!(" [{s}]"));
    }
    let zh = tr.lang() == Lang::Zh;
    if i.line > 0 {
        out.push_str(&if zh {
            format!("，第 {} 行", i.line)
        } else {
            format!(", row {}", i.line)
        });
    }
    if !i.column.is_empty() {
        out.push_str(&if zh {
            format!("，“{}”列", i.column)
        } else {
            format!(", column {}", i.column)
        });
    }
    out.push_str(if zh { "：" } else { ": " });
    let text = i.text(tr);
    out.push_str(&text);
    if !i.value.is_empty() && !text.contains(&format!("“{}”", i.value)) && !text.contains(&format!(" {} ", i.value))
    {
        let v = shorten(&i.value, 80);
        out.push_str(&if zh {
            format!("（值：{v:?}）")
        } else {
            format!(" (value: {v:?})")
        });
    }
    out
}

fn print_report(r: &Report, format: ReportFormat, tr: Tr, wrote_errors: bool) -> Result<()> {
    if let ReportFormat::Json = format {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    for e in &r.errors {
        println!("error: {}", line(e, tr));
    }
    for w in &r.warnings {
        println!("warning: {}", line(w, tr));
    }
    let place = match &r.sheet {
        Some(s) => format!("{} [{s}]", r.file),
        None => r.file.clone(),
    };
    if r.header_line == 0 {
        println!("{place}: no rows were read; {} error(s)", r.errors.len());
    } else {
        println!(
            "{place}: {} row(s) below the header on row {}: {} new, {} to update, {} unchanged, {} skipped; {} error(s), {} warning(s)",
            r.rows,
            r.header_line,
            r.new,
            r.updated,
            r.unchanged,
            r.skipped,
            r.errors.len(),
            r.warnings.len()
        );
    }
    if !r.errors.is_empty() {
        if wrote_errors {
            eprintln!("Nothing was written. Fix the rows above and run again.");
        } else {
            eprintln!(
                "Nothing was written. Fix the rows above and run again (--errors FILE.xlsx marks the bad cells)."
            );
        }
    } else if r.applied && r.new + r.updated > 0 {
        eprintln!(
            "Applied: {} new and {} updated record(s) were written.",
            r.new, r.updated
        );
    } else if r.skipped > 0 && r.new + r.updated == 0 {
        eprintln!(
            "Nothing was written: {} row(s) match a stored record that differs and were skipped; use --on-existing update to overwrite them.",
            r.skipped
        );
    } else if r.new + r.updated > 0 {
        eprintln!("Dry run: nothing was written. Run again with --apply to write these records.");
    } else {
        eprintln!("Nothing to write: the file matches the database.");
    }
    Ok(())
}
