//! `ringline generate`: illustrative registry data (see [`crate::generate`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::db::Db;
use crate::generate::{self, FileFormat, Options, ScaleProgress};
use crate::import::divisions::{self as imp, ImportError};
use crate::seed;

/// How much to generate.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Scale {
    /// The Datong demo: 313 villages, ~2,000 units, 20,000 members.
    #[default]
    County,
    /// One province's real divisions (default Yunnan, 14,888 villages), 1,000,000 members.
    Province,
    /// The whole national table (620,572 villages), 10,000,000 members.
    Nation,
}

/// File format of `--out`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OutFormat {
    /// XLSX (a new file every 1,000,000 rows).
    #[default]
    Xlsx,
    /// CSV, UTF-8 with BOM.
    Csv,
}

/// Arguments of `ringline generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// county: the Datong demo; province: one province of the national table; nation: all of it.
    #[arg(long, value_enum, default_value_t)]
    scale: Scale,
    /// Write units, orgs and members files into this folder instead of the database.
    #[arg(long)]
    out: Option<PathBuf>,
    /// File format of --out.
    #[arg(long, value_enum, default_value_t)]
    format: OutFormat,
    /// Members in all, written exactly (default: county 20,000, province 1,000,000, nation
    /// 10,000,000); at least 3 per village, as every village branch has three members or more.
    #[arg(long)]
    members: Option<usize>,
    /// Folder of the national division table (villages.csv.gz, streets.csv.gz, areas.csv.gz).
    #[arg(long, default_value = "../shared/data/china")]
    data: PathBuf,
    /// For --scale province: the province's 2-digit code (default 53, Yunnan).
    #[arg(long, default_value = generate::DEFAULT_PROVINCE)]
    province: String,
    /// Random seed (the same seed gives the same records).
    #[arg(long, default_value_t = generate::DEMO_SEED)]
    seed: u64,
}

/// Generates the demo into a database that was just created, logging one line.
pub fn first_start_demo(db: &Db) -> Result<()> {
    let mut conn = db.conn()?;
    let started = Instant::now();
    let s = generate::demo(&mut conn, seed::DATONG_COUNTY).context("generating the demo")?;
    if !s.skipped {
        tracing::info!(
            units = s.units,
            orgs = s.orgs,
            members = s.members,
            cadres = s.cadres,
            residencies = s.residencies,
            planned_pairs = s.planned_pairs,
            lead_products = s.economy.products,
            income_village_years = s.economy.village_years,
            chains = s.economy.chains,
            brands = s.economy.brands,
            seconds = started.elapsed().as_secs_f32(),
            "first start: generated the illustrative demo registry, dispatch and economy data (start with --no-demo to leave it out)"
        );
    }
    Ok(())
}

/// Runs `ringline generate`.
pub fn run(config: &Config, args: GenerateArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let opts = Options {
        seed: args.seed,
        ..Default::default()
    };
    let members = args.members.unwrap_or(match args.scale {
        Scale::County => generate::DEMO_MEMBERS,
        Scale::Province => generate::PROVINCE_MEMBERS,
        Scale::Nation => generate::NATION_MEMBERS,
    });
    let prefix = match args.scale {
        Scale::County => seed::DATONG_COUNTY[..6].to_string(),
        Scale::Province => {
            let p = args.province.trim();
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                bail!("--province takes a 2-digit province code, e.g. 53 for Yunnan or 63 for Qinghai");
            }
            p.to_string()
        }
        Scale::Nation => String::new(),
    };
    let villages_file = args.data.join("villages.csv.gz");
    if args.scale != Scale::County && !villages_file.exists() {
        bail!(
            "the national division table is not at {}: give --data DIR, the folder holding villages.csv.gz, \
             streets.csv.gz and areas.csv.gz (see README, \"The national table\")",
            args.data.display()
        );
    }
    if let Some(out) = &args.out {
        let counties = if args.scale == Scale::County {
            generate::counties(&generate::datong_places()?)
        } else {
            eprintln!("Reading {} …", villages_file.display());
            let only = (!prefix.is_empty()).then_some(prefix.as_str());
            generate::counties(&generate::file_places(&villages_file, only)?)
        };
        let villages: usize = counties.iter().map(generate::County::villages).sum();
        check_members(members, villages)?;
        eprintln!(
            "Generating {members} members over {} counties, {villages} villages …",
            counties.len()
        );
        let format = match args.format {
            OutFormat::Xlsx => FileFormat::Xlsx,
            OutFormat::Csv => FileFormat::Csv,
        };
        let terminal = std::io::stderr().is_terminal();
        let w = generate::write_files(&counties, members, &opts, out, format, &mut |done, all| {
            if terminal {
                eprint!("\r{done}/{all} counties");
            } else if done % 100 == 0 || done == all {
                eprintln!("{done}/{all} counties");
            }
        })?;
        if terminal {
            eprintln!();
        }
        eprintln!(
            "Wrote {} units, {} party organizations and {} members in {:.1} s:",
            w.units,
            w.orgs,
            w.members,
            started.elapsed().as_secs_f64()
        );
        for f in &w.files {
            println!("{}", f.display());
        }
        eprintln!("Import them in this order (units, orgs, members) into a database holding their divisions.");
        return Ok(ExitCode::SUCCESS);
    }
    let db = super::open(config)?;
    let mut conn = db.conn()?;
    if args.scale == Scale::County {
        let villages: usize = generate::counties(&generate::datong_places()?)
            .iter()
            .map(generate::County::villages)
            .sum();
        check_members(members, villages)?;
        let s = generate::demo_with(&mut conn, seed::DATONG_COUNTY, members, &opts)?;
        if s.skipped {
            eprintln!(
                "The registry, the dispatch and the economy tables already hold records: the demo is generated \
                 only into empty ones. Nothing was written."
            );
        } else {
            eprintln!(
                "Generated the Datong demo: {} units, {} party organizations, {} members, {} dispatched cadres \
                 ({} in residence, {} planned in the draft batch), {} lead products, collective income of {} \
                 village-years, {} development chains, {} brands ({:.1} s).",
                s.units,
                s.orgs,
                s.members,
                s.cadres,
                s.residencies,
                s.planned_pairs,
                s.economy.products,
                s.economy.village_years,
                s.economy.chains,
                s.economy.brands,
                started.elapsed().as_secs_f64()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    import_divisions(&mut conn, &villages_file, &prefix)?;
    let villages: usize = generate::counties(&generate::stored_places(&mut conn, &prefix)?)
        .iter()
        .map(generate::County::villages)
        .sum();
    check_members(members, villages)?;
    eprintln!(
        "Generating {members} members for the counties under {} (one transaction per county) …",
        if prefix.is_empty() { "the whole table" } else { &prefix }
    );
    let terminal = std::io::stderr().is_terminal();
    let mut last_line = 0usize;
    let p = generate::generate_into_db(&mut conn, &prefix, members, &opts, &mut |p: &ScaleProgress| {
        if terminal {
            eprint!(
                "\r{}/{} counties, {} units, {} organizations, {} members",
                p.counties_done, p.counties, p.units, p.orgs, p.members
            );
        } else if p.members >= last_line + 100_000 || p.counties_done == p.counties {
            last_line = p.members;
            eprintln!(
                "{}/{} counties, {} units, {} organizations, {} members",
                p.counties_done, p.counties, p.units, p.orgs, p.members
            );
        }
    })?;
    if terminal {
        eprintln!();
    }
    eprintln!(
        "Wrote {} units, {} party organizations and {} members into {} counties in {:.1} s{}.",
        p.units,
        p.orgs,
        p.members,
        p.counties - p.skipped,
        started.elapsed().as_secs_f64(),
        if p.skipped > 0 {
            format!(
                "; {} counties already held registry records and were left alone",
                p.skipped
            )
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses a member total that cannot be written exactly over `villages` villages.
fn check_members(members: usize, villages: usize) -> Result<()> {
    let least = generate::min_members(villages);
    if members < least {
        bail!(
            "--members {members} is too few for {villages} villages: every village branch has at least {} members, \
             so give --members {least} or more",
            generate::MIN_BRANCH_MEMBERS
        );
    }
    Ok(())
}

/// Imports the divisions under `prefix` from the national table (a no-op when they are stored).
fn import_divisions(conn: &mut crate::db::DbConn, villages: &Path, prefix: &str) -> Result<()> {
    let opts = imp::Options {
        only: (!prefix.is_empty()).then(|| prefix.to_string()),
        ..Default::default()
    };
    eprintln!("Importing the divisions from {} …", villages.display());
    let plan = match imp::import_file(conn, villages, &opts, true) {
        Ok(plan) => plan,
        Err(ImportError::Invalid(n)) => bail!(
            "the division file has {n} error(s); see `ringline divisions import {}`",
            villages.display()
        ),
        Err(e) => return Err(e.into()),
    };
    let c = plan.counts();
    eprintln!("Divisions: {} new, {} unchanged.", c.new, c.unchanged);
    Ok(())
}
