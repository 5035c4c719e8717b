//! Command line: `serve`, `divisions list|import|history`, `zones list|members`, `units list`,
//! `orgs list`, `members list`, `coverage`, `dispatch plan|batches|confirm`, `cadres list|skills`,
//! `economy summary|villages`, `backup`, `restore`.
//! Every list command takes `--format table|json|csv` (json: an array of objects).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use ringline_core::division::Level;
use ringline_core::geo::{Crs, LonLat, to_wgs84};
use ringline_core::zone::ZoneGeometry;
use serde::Serialize;

use crate::access::Access;
use crate::auth::{self, AdminSetup};
use crate::config::Config;
use crate::db::Db;
use crate::divisions::{self, ListFilter};
use crate::import::divisions::{self as imp, ImportError, Options};
use crate::{seed, zones};

pub mod dispatch_cmd;
pub mod economy_cmd;
mod generate_cmd;
mod import;
mod records;

/// ringline — party-building demonstration zones that drive rural industry.
#[derive(Debug, Parser)]
#[command(name = "ringline", version, about)]
pub struct Cli {
    /// Database: a SQLite file path (default ./ringline.db) or postgres://user:pass@host/db.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Configuration file (default ./ringline.toml when present).
    #[arg(long, global = true, env = "RINGLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (first start loads Datong's divisions and default program).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "RINGLINE_BIND")]
        bind: Option<String>,
        /// Do not generate the illustrative demo registry (units, party organizations, members)
        /// on first start: for a real deployment.
        #[arg(long)]
        no_demo: bool,
    },
    /// Divisions (county → town → village, NBS codes).
    #[command(subcommand)]
    Divisions(DivisionsCmd),
    /// Programs' zones.
    #[command(subcommand)]
    Zones(ZonesCmd),
    /// User accounts (works while the server runs).
    #[command(subcommand)]
    Users(UsersCmd),
    /// Import units, party organizations or members from XLSX/CSV (dry run unless --apply),
    /// or write an import template.
    Import(import::ImportArgs),
    /// Organization and work coverage of non-public enterprises and social organisations
    /// (rates are fractions 0–1).
    Coverage {
        /// Group by town, zone or county.
        #[arg(long, value_enum, default_value_t)]
        by: crate::registry::coverage::By,
        /// For --by zone: the program (id); default the newest program.
        #[arg(long)]
        program: Option<i64>,
        /// Output format (json: an array with key, name, units, org_covered, work_covered,
        /// org_rate, work_rate).
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Generate illustrative registry data: the county demo, or province/nation scale data for
    /// benchmarks, into the database or into import files (--out).
    Generate(generate_cmd::GenerateArgs),
    /// Collective economy of villages (村集体经济): summaries per zone, town or county, and
    /// each village's income by source.
    #[command(subcommand)]
    Economy(economy_cmd::EconomyCmd),
    /// Write a consistent copy of the SQLite database to FILE, also while a server writes to it.
    /// For PostgreSQL: prints the pg_dump command to run (exit status 2).
    Backup {
        /// The backup file to create (never overwritten).
        file: PathBuf,
    },
    /// Put a backup FILE back in place of the SQLite database. Refused while a server or
    /// another command uses the database; the replaced database is kept beside it as
    /// `<database>.before-restore-<time>`. For PostgreSQL: prints the pg_restore command to run
    /// (exit status 2).
    Restore {
        /// The backup file (made by `ringline backup`).
        file: PathBuf,
    },
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Create a user.
    Add {
        /// Login name.
        name: String,
        /// Role: county-admin, town-admin, village-reporter, unit-admin, dispatched-cadre, viewer.
        #[arg(long)]
        role: String,
        /// Scope: a 12-digit division code (the subtree the user works on) or zone:ID.
        #[arg(long)]
        scope: String,
        /// Password (at least 10 characters); also read from RINGLINE_NEW_PASSWORD. Without
        /// either, a random one is generated and printed once.
        #[arg(long, env = "RINGLINE_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Full name.
        #[arg(long, default_value = "")]
        display_name: String,
        /// Mobile phone (stored as personal data, shown masked).
        #[arg(long)]
        phone: Option<String>,
    },
    /// List users.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Disable a user and end their sessions.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a new password and end all the user's sessions.
    ResetPassword {
        /// Login name.
        name: String,
        /// The new password; without it a random one is generated and printed once.
        #[arg(long, env = "RINGLINE_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// Output format of list commands.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Aligned table for people.
    #[default]
    Table,
    /// JSON array of objects.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Level names accepted by `--level`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// Province.
    Province,
    /// City (prefecture).
    City,
    /// County.
    County,
    /// Town or township.
    Town,
    /// Village or community.
    Village,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Province => Level::Province,
            LevelArg::City => Level::City,
            LevelArg::County => Level::County,
            LevelArg::Town => Level::Town,
            LevelArg::Village => Level::Village,
        }
    }
}

/// Coordinate systems accepted by `--crs`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CrsArg {
    /// WGS-84 (GPS).
    Wgs84,
    /// GCJ-02 (AMap, Tencent and other Chinese web maps).
    Gcj02,
    /// BD-09 (Baidu maps).
    Bd09,
}

/// Division commands.
#[derive(Debug, Subcommand)]
pub enum DivisionsCmd {
    /// List divisions.
    List {
        /// Only this level.
        #[arg(long, value_enum)]
        level: Option<LevelArg>,
        /// Only children of this code.
        #[arg(long)]
        parent: Option<String>,
        /// Include retired codes.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Import divisions from CSV (UTF-8 or GBK), CSV.GZ or XLSX; a dry run unless --apply.
    Import {
        /// The file: the project layout (code,name,level,parent_code,…) or a national table
        /// file (villages/streets/areas/cities/provinces).
        file: PathBuf,
        /// Coordinate system of lng/lat columns whose header does not name one.
        #[arg(long, value_enum, default_value = "wgs84")]
        crs: CrsArg,
        /// Only codes starting with these digits (e.g. 63 for Qinghai).
        #[arg(long)]
        only: Option<String>,
        /// Write the changes (otherwise nothing is written).
        #[arg(long)]
        apply: bool,
        /// Retire the stored codes the file covers but does not list (for a complete new edition
        /// of the table). Without it they are only reported.
        #[arg(long)]
        retire_missing: bool,
        /// Output format of the report.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show the history (created, renamed, retired …) of one code.
    History {
        /// 12-digit code.
        code: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Zone commands.
#[derive(Debug, Subcommand)]
pub enum ZonesCmd {
    /// List zones with member counts.
    List {
        /// Only this program (id).
        #[arg(long)]
        program: Option<i64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List the member villages of a zone with the reason each is in.
    Members {
        /// Zone id or exact name (Chinese or English).
        zone: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Put a village on a zone's include list (a member whatever the geometry says).
    Include {
        /// Zone id or name.
        zone: String,
        /// 12-digit village code.
        code: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Put a village on a zone's exclude list (never a member).
    Exclude {
        /// Zone id or name.
        zone: String,
        /// 12-digit village code.
        code: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Take a village off a zone's include and exclude lists.
    Reset {
        /// Zone id or name.
        zone: String,
        /// 12-digit village code.
        code: String,
    },
    /// Replace a zone's geometry. A POINT is a division code (its stored point) or LON,LAT.
    SetGeometry {
        /// Zone id or name.
        zone: String,
        /// Ring: the centre POINT.
        #[arg(long, conflicts_with_all = ["through", "polygon"], requires = "outer_km")]
        ring_centre: Option<String>,
        /// Ring: inner radius in km.
        #[arg(long, default_value_t = 0.0)]
        inner_km: f64,
        /// Ring: outer radius in km.
        #[arg(long)]
        outer_km: Option<f64>,
        /// Line: the POINTs it runs through, in order (repeat the flag).
        #[arg(long, num_args = 1.., requires = "half_width_km")]
        through: Vec<String>,
        /// Line: corridor half-width in km.
        #[arg(long)]
        half_width_km: Option<f64>,
        /// Polygon: a GeoJSON file with a Polygon (outer ring used).
        #[arg(long)]
        polygon: Option<PathBuf>,
        /// Coordinate system of LON,LAT points and of the polygon file.
        #[arg(long, value_enum, default_value = "wgs84")]
        crs: CrsArg,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    // The record kinds' commands (`ringline units list`, …) come from their descriptions; a kind
    // that also has commands of its own (`zones members`, `zones set-geometry`) keeps them, and
    // gains the generic ones it lacks.
    let mut command = Cli::command();
    let mut own: std::collections::HashMap<&str, Vec<String>> = std::collections::HashMap::new();
    for &k in crate::kind::KindId::ALL {
        let generic = records::command(k);
        if let Some(existing) = command.find_subcommand(k.key()) {
            let names: Vec<String> = existing.get_subcommands().map(|s| s.get_name().to_string()).collect();
            let extra: Vec<clap::Command> = generic
                .get_subcommands()
                .filter(|s| !names.iter().any(|n| n == s.get_name()))
                .cloned()
                .collect();
            own.insert(k.key(), names);
            command = command.mut_subcommand(k.key(), |c| c.subcommands(extra));
        } else {
            command = command.subcommand(generic);
        }
    }
    let matches = command.get_matches();
    let kind = matches.subcommand().and_then(|(name, m)| {
        let k = crate::kind::KindId::parse(name)?;
        let bespoke = own
            .get(name)
            .is_some_and(|names| m.subcommand_name().is_some_and(|s| names.iter().any(|n| n == s)));
        (!bespoke).then(|| (k, m.clone()))
    });
    let cli = match kind {
        Some(_) => None,
        None => match Cli::from_arg_matches(&matches) {
            Ok(c) => Some(c),
            Err(e) => e.exit(),
        },
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RINGLINE_LOG")
                .unwrap_or_else(|_| "ringline=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match (cli, kind) {
        (Some(cli), _) => run(cli),
        (None, Some((k, m))) => Config::load(
            matches.get_one::<PathBuf>("config").map(PathBuf::as_path),
            |key| std::env::var(key).ok(),
            matches.get_one::<String>("database_url").cloned(),
            None,
        )
        .map_err(anyhow::Error::from)
        .and_then(|config| records::run(&config, k, &m)),
        (None, None) => Ok(ExitCode::FAILURE),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Output piped into `head` and the like: the reader left; not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open(config: &Config) -> Result<Db> {
    open_seeded(config).map(|(db, _)| db)
}

/// [`open`], also telling what the first-start seeding did.
fn open_seeded(config: &Config) -> Result<(Db, seed::Seeded)> {
    crate::cadres::set_young_max_age(config.young_max_age);
    let db = Db::open(&config.database_url)
        .with_context(|| format!("opening the database {}", config.database_display()))?;
    let mut conn = db.conn()?;
    let s = seed::first_start(&mut conn).context("loading the bundled Datong data")?;
    if s.divisions > 0 {
        eprintln!(
            "First start: created the database {} with Datong's {} divisions and the default program with its zones.",
            config.database_display(),
            s.divisions
        );
    }
    Ok((db, s))
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let bind_flag = match &cli.command {
        Command::Serve { bind, .. } => bind.clone(),
        _ => None,
    };
    let config = Config::load(
        cli.config.as_deref(),
        |k| std::env::var(k).ok(),
        cli.database_url.clone(),
        bind_flag,
    )?;
    match cli.command {
        Command::Serve { no_demo, .. } => serve(config, no_demo),
        Command::Divisions(cmd) => divisions_cmd(&config, cmd),
        Command::Zones(cmd) => zones_cmd(&config, cmd),
        Command::Users(cmd) => users_cmd(&config, cmd),
        Command::Import(args) => import::run(&config, args),
        Command::Coverage { by, program, format } => coverage_cmd(&config, by, program, format),
        Command::Generate(args) => generate_cmd::run(&config, args),
        Command::Economy(cmd) => economy_cmd::economy(&config, cmd),
        Command::Backup { file } => backup_cmd(&config, &file),
        Command::Restore { file } => restore_cmd(&config, &file),
    }
}

/// Exit status of `backup`/`restore` on PostgreSQL: nothing was done, the commands to run were
/// printed.
const NOT_DONE: u8 = 2;

fn pg_tools_intro() -> &'static str {
    "ringline does not copy a PostgreSQL database itself: PostgreSQL's pg_dump takes a consistent \
     snapshot while servers run, and pg_restore loads it back in one transaction. Use their \
     versions of the server's major version or newer; they ask for the password, or read it \
     from PGPASSWORD or ~/.pgpass."
}

fn backup_cmd(config: &Config, file: &std::path::Path) -> Result<ExitCode> {
    use crate::backup;
    let url = &config.database_url;
    if crate::db::Backend::of_url(url) == crate::db::Backend::Postgres {
        let shown = backup::without_password(url);
        let name = file.display().to_string();
        println!("{}", pg_tools_intro());
        println!();
        println!("Back up (while servers run):");
        println!("  {}", backup::shell_line(&backup::pg_dump_args(&shown, &name)));
        println!();
        println!("Restore (with every ringline server of the database stopped):");
        println!("  {}", backup::shell_line(&backup::pg_restore_args(&shown, &name)));
        return Ok(ExitCode::from(NOT_DONE));
    }
    let path = std::path::Path::new(crate::db::sqlite_path(url));
    if !path.is_file() {
        bail!(backup::BackupError::Missing(path.display().to_string()));
    }
    let db = Db::open(url).with_context(|| format!("opening the database {}", config.database_display()))?;
    let written = backup::backup_sqlite(&db, file)?;
    println!(
        "Backed up {} to {} in {:.2} s: {:.1} MiB, integrity and foreign keys checked, {} audit entries.",
        config.database_display(),
        written.path.display(),
        written.seconds,
        written.checked.bytes as f64 / (1024.0 * 1024.0),
        written.checked.audit_entries
    );
    Ok(ExitCode::SUCCESS)
}

fn restore_cmd(config: &Config, file: &std::path::Path) -> Result<ExitCode> {
    use crate::backup;
    let url = &config.database_url;
    if crate::db::Backend::of_url(url) == crate::db::Backend::Postgres {
        let shown = backup::without_password(url);
        println!("{}", pg_tools_intro());
        println!();
        println!("Stop every ringline server of the database, then restore with:");
        println!(
            "  {}",
            backup::shell_line(&backup::pg_restore_args(&shown, &file.display().to_string()))
        );
        println!(
            "(The file is one written by: {})",
            backup::shell_line(&backup::pg_dump_args(&shown, "FILE"))
        );
        return Ok(ExitCode::from(NOT_DONE));
    }
    let target = std::path::Path::new(crate::db::sqlite_path(url));
    let restored = backup::restore_sqlite(target, file)?;
    // Brings a backup from an older version up to date, as any start does.
    drop(Db::open(url).with_context(|| format!("opening the restored database {}", config.database_display()))?);
    println!(
        "Restored {} from {}: integrity and foreign keys checked, {} audit entries.",
        config.database_display(),
        file.display(),
        restored.checked.audit_entries
    );
    if let Some(kept) = restored.kept {
        println!("The database it replaced is kept as {}.", kept.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(config: Config, no_demo: bool) -> Result<ExitCode> {
    let (db, seeded) = open_seeded(&config)?;
    if seeded.divisions > 0 && !no_demo {
        generate_cmd::first_start_demo(&db)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        // Bind before creating the admin account, so a busy port does not swallow the password.
        let server = crate::web::Server::bind(config.clone(), db.clone()).await.with_context(|| {
            format!(
                "listening on {} (is another program using it? choose another address with --bind, e.g. --bind 127.0.0.1:8081)",
                config.bind
            )
        })?;
        let setup = {
            let mut conn = db.conn()?;
            auth::ensure_admin(&mut conn, seed::DATONG_COUNTY, config.admin_password.as_deref())?
        };
        let addr = server.local_addr()?;
        println!("ringline is running at http://{addr}/  (database: {})", config.database_display());
        match setup {
            AdminSetup::Generated(p) => {
                println!("Created the account 'admin' with the password: {p}");
                println!("It is shown only this once: keep it safe, or set a new one later with");
                println!("`ringline users reset-password admin`. Change it after logging in (click your name).");
            }
            AdminSetup::FromEnvironment => {
                println!("Created the account 'admin' with the password from RINGLINE_ADMIN_PASSWORD.")
            }
            AdminSetup::Existing => {}
        }
        println!("Press Ctrl+C to stop.");
        let _ = std::io::stdout().flush();
        server.run(shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP "CSV injection"); numbers are kept.
fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Prints rows in the chosen format. `headers` name the table/CSV columns; JSON uses the serde
/// field names of `rows`.
fn print_rows<T: Serialize>(
    format: Format,
    headers: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            // As an io::Error, so a reader that left (`| head`) is recognised as a broken pipe.
            serde_json::to_writer_pretty(&mut out, rows).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(headers)?;
            for r in rows {
                w.write_record(cells(r).iter().map(|c| csv_safe(c).into_owned()))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
            t.set_header(headers.to_vec());
            for r in rows {
                t.add_row(cells(r));
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} row(s)", rows.len())?;
        }
    }
    Ok(())
}

fn divisions_cmd(config: &Config, cmd: DivisionsCmd) -> Result<ExitCode> {
    let db = open(config)?;
    let mut conn = db.conn()?;
    match cmd {
        DivisionsCmd::List {
            level,
            parent,
            all,
            format,
        } => {
            let filter = ListFilter {
                level: level.map(Into::into),
                parent,
                under: None,
                include_retired: all,
            };
            let rows = divisions::list(&mut conn, &Access::system(), &filter, i64::MAX, 0)?;
            print_rows(
                format,
                &[
                    "code",
                    "name",
                    "level",
                    "parent_code",
                    "lon",
                    "lat",
                    "approximate",
                    "status",
                ],
                &rows,
                |d| {
                    vec![
                        d.code.clone(),
                        d.name.clone(),
                        d.level.clone(),
                        d.parent_code.clone().unwrap_or_default(),
                        d.lon.map(|v| format!("{v:.6}")).unwrap_or_default(),
                        d.lat.map(|v| format!("{v:.6}")).unwrap_or_default(),
                        d.approximate.to_string(),
                        d.status.clone(),
                    ]
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        DivisionsCmd::History { code, format } => {
            let rows = divisions::history(&mut conn, &Access::system(), &code)?;
            if rows.is_empty() && divisions::get(&mut conn, &Access::system(), &code)?.is_none() {
                bail!("no division has the code {code}");
            }
            print_rows(format, &["at", "event", "old_name", "new_name", "source"], &rows, |h| {
                vec![
                    h.at.to_string(),
                    h.event.clone(),
                    h.old_name.clone().unwrap_or_default(),
                    h.new_name.clone().unwrap_or_default(),
                    h.source.clone(),
                ]
            })?;
            Ok(ExitCode::SUCCESS)
        }
        DivisionsCmd::Import {
            file,
            crs,
            only,
            apply,
            retire_missing,
            format,
        } => {
            let opts = Options {
                crs: crs_of(crs),
                only,
                with_parents: true,
                retire_missing,
            };
            let terminal = std::io::stderr().is_terminal();
            eprintln!("Reading {} …", file.display());
            let r = imp::read(&file, &opts)?;
            eprintln!(
                "Checking {} rows against the database …",
                r.incoming.len() + r.issues.len()
            );
            let plan = imp::plan(&mut conn, r.incoming, r.files, r.issues, &opts)?;
            report(&plan, opts.only.as_deref(), format)?;
            if !plan.errors.is_empty() {
                eprintln!(
                    "{} error(s): nothing was written. Fix the file and run again.",
                    plan.errors.len()
                );
                return Ok(ExitCode::from(2));
            }
            if apply {
                let source = file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("import")
                    .to_string();
                let mut last = 0usize;
                let result = imp::apply(&mut conn, &Access::system(), &plan, &source, &mut |done, total| {
                    if terminal && (done - last >= 1000 || done == total) {
                        eprint!("\rWriting … {done}/{total}");
                        last = done;
                    }
                });
                if terminal {
                    eprintln!();
                }
                let c = plan.counts();
                let changes = c.new + c.renamed + c.updated + c.retired + c.reinstated;
                match result {
                    Ok(()) if changes == 0 => {
                        eprintln!("Applied: the file matches the database; nothing needed changing.")
                    }
                    Ok(()) => eprintln!("Applied: the changes above were written."),
                    Err(ImportError::Invalid(n)) => {
                        eprintln!("{n} error(s): nothing was written.");
                        return Ok(ExitCode::from(2));
                    }
                    Err(e) => return Err(e.into()),
                }
            } else {
                eprintln!("Dry run: nothing was written. Run again with --apply to write these changes.");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn crs_of(c: CrsArg) -> Crs {
    match c {
        CrsArg::Wgs84 => Crs::Wgs84,
        CrsArg::Gcj02 => Crs::Gcj02,
        CrsArg::Bd09 => Crs::Bd09,
    }
}

/// A zone by id or by exact Chinese or English name.
fn zone_id(conn: &mut crate::db::DbConn, zone: &str) -> Result<i64> {
    if let Ok(id) = zone.parse::<i64>() {
        if zones::zone(conn, &Access::system(), id)?.is_none() {
            bail!("no zone has the id {id}; see `ringline zones list`");
        }
        return Ok(id);
    }
    for p in zones::programs(conn, &Access::system())? {
        for z in zones::zones_of(conn, &Access::system(), p.id)? {
            if z.name == zone || z.name_en.eq_ignore_ascii_case(zone) {
                return Ok(z.id);
            }
        }
    }
    bail!("no zone is named {zone:?}; see `ringline zones list`")
}

/// A point given as a division code (its stored WGS-84 point) or as `LON,LAT` in `crs`.
fn resolve_point(conn: &mut crate::db::DbConn, s: &str, crs: Crs) -> Result<LonLat> {
    if let Some((lon, lat)) = s.split_once(',') {
        let lon: f64 = lon
            .trim()
            .parse()
            .with_context(|| format!("longitude in {s:?} is not a number"))?;
        let lat: f64 = lat
            .trim()
            .parse()
            .with_context(|| format!("latitude in {s:?} is not a number"))?;
        let p = LonLat { lon, lat };
        if !ringline_core::geo::in_china(p) {
            bail!("the point {s} lies outside China; give LON,LAT (longitude first)");
        }
        return Ok(to_wgs84(crs, p));
    }
    let d = divisions::get(conn, &Access::system(), s)?.with_context(|| format!("no division has the code {s}"))?;
    match (d.lon, d.lat, d.approximate) {
        (Some(lon), Some(lat), false) => Ok(LonLat { lon, lat }),
        _ => bail!("{} ({s}) has no point of its own; give LON,LAT instead", d.name),
    }
}

fn report(plan: &imp::Plan, only: Option<&str>, format: Format) -> Result<()> {
    let counts = plan.counts();
    if let Format::Json = format {
        #[derive(Serialize)]
        struct Report<'a> {
            counts: imp::Counts,
            #[serde(flatten)]
            plan: &'a imp::Plan,
        }
        println!("{}", serde_json::to_string_pretty(&Report { counts, plan })?);
        return Ok(());
    }
    for f in &plan.files {
        println!(
            "{}: {} rows read{}{}",
            f.file,
            f.rows,
            match only {
                Some(p) if f.kept != f.rows => format!(", {} with codes starting {p}", f.kept),
                _ => String::new(),
            },
            f.encoding.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    println!(
        "Covers codes under {:?} at levels {}",
        if plan.coverage.is_empty() {
            "(all)"
        } else {
            plan.coverage.as_str()
        },
        plan.levels.join(", ")
    );
    for (label, n) in [
        ("new", counts.new),
        ("renamed", counts.renamed),
        ("updated", counts.updated),
        ("unchanged", counts.unchanged),
        ("retired", counts.retired),
        ("missing", counts.missing),
        ("reinstated", counts.reinstated),
        ("errors", counts.errors),
        ("warnings", counts.warnings),
    ] {
        println!("  {label:<11} {n}");
    }
    for r in &plan.renamed {
        println!("  renamed  {} {} → {}", r.code, r.old_name, r.new_name);
    }
    let holds = |code: &str| {
        plan.holdings
            .get(code)
            .map(|h| format!(" — holds {}", h.describe()))
            .unwrap_or_default()
    };
    for r in plan.retired.iter().take(50) {
        println!("  retired  {} {}{}", r.code, r.old_name, holds(&r.code));
    }
    if plan.retired.len() > 50 {
        println!("  … and {} more retired", plan.retired.len() - 50);
    }
    if plan.retired.is_empty() && !plan.missing.is_empty() {
        println!(
            "  {} stored code(s) under {:?} are not in the file; they are kept (add --retire-missing to retire them):",
            plan.missing.len(),
            if plan.coverage.is_empty() {
                "(all)"
            } else {
                plan.coverage.as_str()
            }
        );
        for r in plan.missing.iter().take(20) {
            println!("    {} {}{}", r.code, r.old_name, holds(&r.code));
        }
        let in_use = plan
            .missing
            .iter()
            .filter(|r| plan.holdings.contains_key(&r.code))
            .count();
        if in_use > 0 {
            println!(
                "  {in_use} of them hold records: retiring keeps the records, readable, but nothing new can be recorded \
                 for a retired code and it leaves every summary; move the records to the codes that replace them, or \
                 retire knowingly with --retire-missing"
            );
        }
        if plan.missing.len() > 20 {
            println!("    … and {} more", plan.missing.len() - 20);
        }
    }
    for w in &plan.warnings {
        println!("warning: {w}");
    }
    for e in &plan.errors {
        println!("error: {e}");
    }
    if plan.errors.len() > 10 {
        let mut by_key: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for e in &plan.errors {
            *by_key.entry(e.key.as_str()).or_default() += 1;
        }
        let summary: Vec<String> = by_key.iter().map(|(k, n)| format!("{n} × {k}")).collect();
        println!("errors by kind: {}", summary.join(", "));
    }
    Ok(())
}

#[derive(Serialize)]
struct ZoneRow {
    id: i64,
    program_id: i64,
    name: String,
    name_en: String,
    kind: String,
    theme: String,
    area: String,
    member_count: i64,
    geometry: ringline_core::zone::ZoneGeometry,
    geometry_note: Option<String>,
}

fn zones_cmd(config: &Config, cmd: ZonesCmd) -> Result<ExitCode> {
    let db = open(config)?;
    let mut conn = db.conn()?;
    match cmd {
        ZonesCmd::List { program, format } => {
            let mut rows = Vec::new();
            for p in zones::programs(&mut conn, &Access::system())? {
                if program.is_none_or(|id| id == p.id) {
                    for z in zones::zones_of(&mut conn, &Access::system(), p.id)? {
                        rows.push(ZoneRow {
                            id: z.id,
                            program_id: z.program_id,
                            name: z.name,
                            name_en: z.name_en,
                            kind: z.kind,
                            theme: z.theme,
                            area: z.area,
                            member_count: z.member_count,
                            geometry: z.geometry,
                            geometry_note: z.geometry_note,
                        });
                    }
                }
            }
            print_rows(
                format,
                &[
                    "id",
                    "program_id",
                    "name",
                    "name_en",
                    "kind",
                    "theme",
                    "area",
                    "member_count",
                ],
                &rows,
                |z| {
                    vec![
                        z.id.to_string(),
                        z.program_id.to_string(),
                        z.name.clone(),
                        z.name_en.clone(),
                        z.kind.clone(),
                        z.theme.clone(),
                        z.area.clone(),
                        z.member_count.to_string(),
                    ]
                },
            )?;
            for p in zones::programs(&mut conn, &Access::system())? {
                let ov = zones::overlaps(&mut conn, &Access::system(), p.id)?;
                if !ov.is_empty() {
                    eprintln!(
                        "warning: {} village(s) are in more than one zone of program {}:",
                        ov.len(),
                        p.id
                    );
                    for o in ov {
                        eprintln!("  {} {} in zones {:?}", o.code, o.name, o.zone_ids);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ZonesCmd::Include { zone, code, note } => {
            let id = zone_id(&mut conn, &zone)?;
            zones::set_override(&mut conn, &Access::system(), id, &code, Some("include"), &note)?;
            eprintln!("{code} is on the include list of zone {id}; membership recomputed.");
            Ok(ExitCode::SUCCESS)
        }
        ZonesCmd::Exclude { zone, code, note } => {
            let id = zone_id(&mut conn, &zone)?;
            zones::set_override(&mut conn, &Access::system(), id, &code, Some("exclude"), &note)?;
            eprintln!("{code} is on the exclude list of zone {id}; membership recomputed.");
            Ok(ExitCode::SUCCESS)
        }
        ZonesCmd::Reset { zone, code } => {
            let id = zone_id(&mut conn, &zone)?;
            zones::set_override(&mut conn, &Access::system(), id, &code, None, "")?;
            eprintln!("{code} is on neither list of zone {id}; membership recomputed.");
            Ok(ExitCode::SUCCESS)
        }
        ZonesCmd::SetGeometry {
            zone,
            ring_centre,
            inner_km,
            outer_km,
            through,
            half_width_km,
            polygon,
            crs,
        } => {
            let id = zone_id(&mut conn, &zone)?;
            let crs = crs_of(crs);
            let geometry = if let Some(c) = ring_centre {
                let centre = resolve_point(&mut conn, &c, crs)?;
                ZoneGeometry::Ring {
                    centre,
                    inner_km,
                    outer_km: outer_km.unwrap_or_default(),
                }
            } else if !through.is_empty() {
                let path = through
                    .iter()
                    .map(|p| resolve_point(&mut conn, p, crs))
                    .collect::<Result<Vec<_>>>()?;
                ZoneGeometry::Line {
                    path,
                    half_width_km: half_width_km.unwrap_or_default(),
                }
            } else if let Some(file) = polygon {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                let rings =
                    crate::seed::polygon_rings(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let ring = rings.into_iter().next().context("the file has no polygon")?;
                ZoneGeometry::Polygon {
                    ring: ring.into_iter().map(|p| to_wgs84(crs, p)).collect(),
                }
            } else {
                bail!(
                    "give --ring-centre with --outer-km, --through (twice or more) with --half-width-km, or --polygon FILE"
                );
            };
            zones::set_geometry(&mut conn, &Access::system(), id, &geometry)?;
            let z = zones::zone(&mut conn, &Access::system(), id)?.context("zone vanished")?;
            eprintln!("Zone {id} now has {} member(s).", z.member_count);
            Ok(ExitCode::SUCCESS)
        }
        ZonesCmd::Members { zone, format } => {
            let id = zone_id(&mut conn, &zone)?;
            let rows = zones::zone_members(&mut conn, &Access::system(), id)?;
            print_rows(
                format,
                &["code", "name", "town_name", "reason", "distance_km", "approximate"],
                &rows,
                |m| {
                    vec![
                        m.code.clone(),
                        m.name.clone(),
                        m.town_name.clone().unwrap_or_default(),
                        m.reason.clone(),
                        m.distance_km.map(|d| format!("{d:.3}")).unwrap_or_default(),
                        m.approximate.to_string(),
                    ]
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn users_cmd(config: &Config, cmd: UsersCmd) -> Result<ExitCode> {
    use crate::users;
    let db = open(config)?;
    let mut conn = db.conn()?;
    let sys = Access::system();
    let password_or_random = |p: Option<String>| match p {
        Some(p) => (p, false),
        None => (auth::random_password(), true),
    };
    match cmd {
        UsersCmd::Add {
            name,
            role,
            scope,
            password,
            display_name,
            phone,
        } => {
            let (password, generated) = password_or_random(password);
            let n = users::NewUser {
                username: name.clone(),
                password: password.clone(),
                role,
                scope,
                display_name,
                phone,
            };
            let id = users::create(&mut conn, &sys, &n)?;
            eprintln!("Created user {name} (id {id}).");
            if generated {
                println!("One-time password for {name}: {password}");
            }
        }
        UsersCmd::List { format } => {
            let rows = users::list(&mut conn, &sys)?;
            print_rows(
                format,
                &[
                    "id",
                    "username",
                    "display_name",
                    "role",
                    "scope",
                    "disabled",
                    "phone",
                    "last_login_at",
                ],
                &rows,
                |u| {
                    vec![
                        u.id.to_string(),
                        u.username.clone(),
                        u.display_name.clone(),
                        u.role.clone(),
                        u.scope.clone(),
                        u.disabled.to_string(),
                        u.phone_masked.clone().unwrap_or_default(),
                        u.last_login_at.map(|t| t.to_string()).unwrap_or_default(),
                    ]
                },
            )?;
        }
        UsersCmd::Disable { name } => {
            let id = users::id_of(&mut conn, &name).with_context(|| format!("no user is named {name:?}"))?;
            users::set_disabled(&mut conn, &sys, id, true)?;
            eprintln!("Disabled {name}; their sessions have ended.");
        }
        UsersCmd::Enable { name } => {
            let id = users::id_of(&mut conn, &name).with_context(|| format!("no user is named {name:?}"))?;
            users::set_disabled(&mut conn, &sys, id, false)?;
            eprintln!("Enabled {name}.");
        }
        UsersCmd::ResetPassword { name, password } => {
            let id = users::id_of(&mut conn, &name).with_context(|| format!("no user is named {name:?}"))?;
            let (password, generated) = password_or_random(password);
            users::reset_password(&mut conn, &sys, id, &password)?;
            eprintln!("Set a new password for {name}; their sessions have ended.");
            if generated {
                println!("One-time password for {name}: {password}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses an `--under`-style value that is not a division code.
fn check_code(flag: &str, value: &Option<String>) -> Result<()> {
    if let Some(v) = value
        && ringline_core::division::DivisionCode::parse(v).is_err()
    {
        bail!("{flag} {v:?} is not a division code (12 digits, e.g. 630121103000)");
    }
    Ok(())
}

/// Says on stderr when a list shows only part of its matches.
fn note_page(shown: usize, offset: i64, total: i64) {
    if (shown as i64) < total {
        eprintln!(
            "Showing rows {}–{} of {total}; use --limit and --offset for others.",
            offset.saturating_add(1),
            offset.saturating_add(shown as i64)
        );
    }
}

fn coverage_cmd(
    config: &Config,
    by: crate::registry::coverage::By,
    program: Option<i64>,
    format: Format,
) -> Result<ExitCode> {
    use crate::registry::coverage::{self, By};
    let db = open(config)?;
    let mut conn = db.conn()?;
    if let Some(id) = program {
        if !matches!(by, By::Zone) {
            bail!("--program applies to --by zone only");
        }
        if zones::program(&mut conn, &Access::system(), id)?.is_none() {
            bail!("no program has the id {id}; see `ringline zones list`");
        }
    }
    let rows = coverage::coverage(&mut conn, &Access::system(), by, program)?;
    // Tables show rates as percentages; CSV and JSON as fractions 0–1.
    let rate = |r: Option<f64>| match (r, format) {
        (None, _) => String::new(),
        (Some(r), Format::Table) => format!("{:.1}%", r * 100.0),
        (Some(r), _) => format!("{r:.4}"),
    };
    print_rows(
        format,
        &[
            "key",
            "name",
            "units",
            "org_covered",
            "work_covered",
            "org_rate",
            "work_rate",
        ],
        &rows,
        |c| {
            vec![
                c.key.clone(),
                c.name.clone(),
                c.units.to_string(),
                c.org_covered.to_string(),
                c.work_covered.to_string(),
                rate(c.org_rate),
                rate(c.work_rate),
            ]
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on Ctrl+C or, on Unix, SIGTERM (as sent by service managers), so the server
/// finishes the requests in flight before it stops.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
