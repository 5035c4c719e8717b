//! Registry benchmarks (BENCHMARKS.md): importing member rows from XLSX — the bare calamine read
//! of the same file, the dry run and the apply — on SQLite and (when
//! `RINGLINE_BENCH_DATABASE_URL` names an admin PostgreSQL URL) PostgreSQL; and coverage at
//! province scale on SQLite.
//!
//! ```sh
//! cargo bench -p ringline --bench registry -- import [ROWS]      # default 100000
//! cargo bench -p ringline --bench registry -- coverage [MEMBERS] # default 1000000
//! ```
//!
//! Each figure is one wall-clock measurement of a release build; nothing here asserts a time.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use ringline::access::Access;
use ringline::db::Db;
use ringline::import::framework::{self, OnExisting, Options};
use ringline::import::spec;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.first().map(String::as_str) {
        Some("coverage") => coverage(args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(1_000_000)),
        Some("import") | None => import(args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(100_000)),
        Some(other) => anyhow::bail!("unknown benchmark {other:?}; use import or coverage"),
    }
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// A database with the Datong seed and demo (the member file names the demo's branches).
fn prepared(url: &str) -> Result<Db> {
    let db = Db::open(url)?;
    let mut conn = db.conn()?;
    ringline::seed::first_start(&mut conn)?;
    ringline::generate::demo(&mut conn, ringline::seed::DATONG_COUNTY)?;
    Ok(db)
}

/// Reads every cell of the file's first sheet with calamine alone (streamed, as the importer
/// does), returning the number of non-empty cells.
fn bare_read(path: &Path) -> Result<usize> {
    use calamine::{DataType, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let sheet = wb.sheet_names().first().cloned().context("no sheet")?;
    let mut cells = wb.worksheet_cells_reader(&sheet)?;
    let mut n = 0;
    while let Some(c) = cells.next_cell()? {
        if !c.get_value().is_empty() {
            n += 1;
        }
    }
    Ok(n)
}

fn import(rows: usize) -> Result<()> {
    let dir = tempfile::TempDir::new()?;
    let file = dir.path().join(format!("members_{rows}.xlsx"));
    let t = Instant::now();
    ringline::generate::member_file(&file, rows, 7)?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "generated {} ({rows} rows, {:.1} MiB) in {:.2} s",
        file.display(),
        size as f64 / 1048576.0,
        secs(t)
    );
    let t = Instant::now();
    let cells = bare_read(&file)?;
    let bare = secs(t);
    println!("calamine alone: {cells} cells in {bare:.2} s");
    let t = Instant::now();
    let raw = ringline::import::table::read_raw(&file, framework::MAX_ROWS + 100)?;
    let read = secs(t);
    let t = Instant::now();
    let sheet = framework::locate_header(raw, &spec::MEMBERS).map_err(|e| anyhow::anyhow!("{:?}", e.first()))?;
    println!(
        "the importer's reader: {} rows in {read:.2} s; header located in {:.3} s",
        sheet.rows.len(),
        secs(t)
    );
    let mut backends = vec![(
        "SQLite".to_string(),
        dir.path().join("bench.db").display().to_string(),
        None,
    )];
    if let Ok(admin) = std::env::var("RINGLINE_BENCH_DATABASE_URL") {
        let name = format!("ringline_bench_{}", std::process::id());
        admin_sql(&admin, &format!("CREATE DATABASE {name}"))?;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => anyhow::bail!("RINGLINE_BENCH_DATABASE_URL has no database name"),
        };
        backends.push(("PostgreSQL".to_string(), url, Some((admin, name))));
    }
    println!();
    println!("| backend | calamine read | dry run | apply | apply ÷ read |");
    println!("|---|---|---|---|---|");
    for (label, url, cleanup) in backends {
        let result = (|| -> Result<(f64, f64)> {
            let db = prepared(&url)?;
            let mut conn = db.conn()?;
            let run = |conn: &mut ringline::db::DbConn, apply: bool| -> Result<(f64, framework::Report)> {
                let t = Instant::now();
                let (r, _) = framework::import_file(
                    conn,
                    &Access::system(),
                    &spec::MEMBERS,
                    &file,
                    "members.xlsx",
                    Options {
                        on_existing: OnExisting::Skip,
                        apply,
                        illustrative: false,
                        expected: None,
                    },
                    &mut |_, _, _| {},
                )?;
                Ok((secs(t), r))
            };
            let (dry, r) = run(&mut conn, false)?;
            anyhow::ensure!(
                r.ok() && r.new == rows,
                "dry run: {} new, errors {:?}",
                r.new,
                r.errors.first()
            );
            let (apply, r) = run(&mut conn, true)?;
            anyhow::ensure!(r.applied && r.new == rows, "apply: {} new", r.new);
            Ok((dry, apply))
        })();
        if let Some((admin, name)) = cleanup {
            let _ = admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
        let (dry, apply) = result?;
        println!(
            "| {label} | {bare:.2} s | {dry:.2} s | {apply:.2} s | {:.2} |",
            apply / bare
        );
    }
    Ok(())
}

fn admin_sql(admin: &str, sql: &str) -> Result<()> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut c = diesel::PgConnection::establish(admin)?;
    c.batch_execute(sql)?;
    Ok(())
}

fn coverage(members: usize) -> Result<()> {
    use ringline::registry::coverage::{By, coverage, uncovered};
    let data = Path::new("../shared/data/china/villages.csv.gz");
    let data = if data.exists() {
        data.to_path_buf()
    } else {
        Path::new("../../../shared/data/china/villages.csv.gz").to_path_buf()
    };
    anyhow::ensure!(data.exists(), "the national table is not at ../shared/data/china");
    let dir = tempfile::TempDir::new()?;
    let url = dir.path().join("province.db").display().to_string();
    let db = Db::open(&url)?;
    let mut conn = db.conn()?;
    ringline::seed::first_start(&mut conn)?;
    let province = ringline::generate::DEFAULT_PROVINCE;
    let t = Instant::now();
    let opts = ringline::import::divisions::Options {
        only: Some(province.to_string()),
        with_parents: true,
        ..Default::default()
    };
    let plan = ringline::import::divisions::import_file(&mut conn, &data, &opts, false)?;
    anyhow::ensure!(plan.errors.is_empty(), "division errors: {:?}", plan.errors.first());
    ringline::import::divisions::apply(&mut conn, &Access::system(), &plan, "bench", &mut |_, _| {})?;
    println!("divisions of province {province} imported in {:.1} s", secs(t));
    let t = Instant::now();
    let p = ringline::generate::generate_into_db(
        &mut conn,
        province,
        members,
        &ringline::generate::Options::default(),
        &mut |_| {},
    )?;
    println!(
        "generated {} units, {} organizations, {} members in {:.1} s",
        p.units,
        p.orgs,
        p.members,
        secs(t)
    );
    println!();
    println!("| query | rows | time |");
    println!("|---|---|---|");
    for (label, by) in [("by town", By::Town), ("by zone", By::Zone), ("by county", By::County)] {
        let t = Instant::now();
        let rows = coverage(&mut conn, &Access::system(), by, None)?;
        println!("| coverage {label} | {} | {:.3} s |", rows.len(), secs(t));
    }
    let t = Instant::now();
    let (page, total) = uncovered(&mut conn, &Access::system(), None, None, 100, 0)?;
    println!(
        "| uncovered units, first page of 100 (of {total}) | {} | {:.3} s |",
        page.len(),
        secs(t)
    );
    Ok(())
}
