//! Backup and restore (README, "Backup and restore"): a backup taken while records are being
//! written holds every record committed before it began and exactly a prefix of the writes (one
//! consistent snapshot, nothing half-written), and restoring it brings all of them back. On
//! SQLite through `ringline backup` and `ringline restore`; on PostgreSQL through the `pg_dump`
//! and `pg_restore` commands `ringline backup` prints.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ringline::access::Access;
use ringline::cadres::{self, Skill};
use ringline::db::schema::{audit_log, skills};
use ringline::db::{Db, DbConn};

use crate::harness::{Backend, PG_URL_VAR, TestApp, database_url};

on_both_backends!(backup_during_writes_restores_every_committed_record);

/// Runs the built binary with `--database-url url`.
fn ringline(url: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringline"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("RINGLINE_CONFIG")
        .env("LANG", "C")
        .output()
        .expect("the ringline binary runs")
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

/// Runs a PostgreSQL client tool; panics with its output when it fails.
fn run_tool(args: &[String]) {
    let out = Command::new(&args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", args[0]));
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        args[0],
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Key of the `i`-th skill the writer creates: numbered so they sort in order of writing.
fn key(i: usize) -> String {
    format!("backup_{i:06}")
}

/// Creates skills `backup_000001`, `backup_000002`, … one transaction each (the skill and its
/// audit entry), counting in `committed` those whose transaction has returned, until `stop`.
fn writer(db: Db, committed: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut conn = db.conn().expect("a connection for the writer");
        let system = Access::system();
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            let skill = Skill {
                key: key(i),
                zh: format!("备份测试{i}"),
                en: format!("backup test {i}"),
                sort_order: 1000 + i as i32,
            };
            cadres::set_skill(&mut conn, &system, &skill).expect("the skill is written");
            committed.store(i, Ordering::SeqCst);
        }
    })
}

/// The writer's skills in a database, and the keys of their audit entries, in key order.
fn written(conn: &mut DbConn) -> (Vec<String>, Vec<String>) {
    let keys: Vec<String> = skills::table
        .filter(skills::key.like("backup\\_%").escape('\\'))
        .order(skills::key)
        .select(skills::key)
        .load(conn)
        .expect("skills");
    let audited: Vec<String> = audit_log::table
        .filter(audit_log::entity.eq("skill"))
        .filter(audit_log::entity_id.like("backup\\_%").escape('\\'))
        .order(audit_log::entity_id)
        .select(audit_log::entity_id)
        .load(conn)
        .expect("audit entries");
    (keys, audited)
}

async fn backup_during_writes_restores_every_committed_record(app: TestApp) {
    let dir = app.dir.path().to_path_buf();
    let committed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handle = writer(app.db.clone(), committed.clone(), stop.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    while committed.load(Ordering::SeqCst) < 50 {
        assert!(Instant::now() < deadline, "the writer commits 50 skills within 30 s");
        std::thread::sleep(Duration::from_millis(5));
    }

    // The backup, taken while the writer goes on.
    let backup_file = dir.join(match app.backend {
        Backend::Sqlite => "backup.db",
        Backend::Postgres => "backup.dump",
    });
    let backup_name = backup_file.display().to_string();
    let before = committed.load(Ordering::SeqCst);
    match app.backend {
        Backend::Sqlite => {
            let out = ringline(&app.url, &dir, &["backup", &backup_name]);
            assert!(
                out.status.success(),
                "backup: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains("integrity and foreign keys checked"),
                "{}",
                text(&out.stdout)
            );
        }
        Backend::Postgres => {
            // ringline answers with the commands, without the password, and does nothing.
            let out = ringline(&app.url, &dir, &["backup", &backup_name]);
            assert_eq!(out.status.code(), Some(2), "{}{}", text(&out.stdout), text(&out.stderr));
            let shown = text(&out.stdout);
            assert!(shown.contains("pg_dump --format=custom"), "{shown}");
            assert!(shown.contains("pg_restore --clean --if-exists"), "{shown}");
            assert!(!shown.contains(":postgres@"), "no password shown: {shown}");
            assert!(!backup_file.exists(), "nothing written");
            // The same command, with the password, makes the backup.
            run_tool(&ringline::backup::pg_dump_args(&app.url, &backup_name));
        }
    }
    let after = committed.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::SeqCst);
    handle.join().expect("the writer ends");
    let total = committed.load(Ordering::SeqCst);
    assert!(
        after > before,
        "skills were committed while the backup ran ({before} → {after})"
    );
    assert!(total > after);

    // Restore it.
    let (restored_url, pg_restored) = match app.backend {
        Backend::Sqlite => {
            // Refused while the app (its server and pool) holds the database.
            let out = ringline(&app.url, &dir, &["restore", &backup_name]);
            assert!(!out.status.success(), "restore over a database in use is refused");
            assert!(
                text(&out.stderr).contains("is in use by a running ringline"),
                "{}",
                text(&out.stderr)
            );
            // A backup never overwrites a file.
            let out = ringline(&app.url, &dir, &["backup", &backup_name]);
            assert!(!out.status.success(), "the backup's name is taken");
            assert!(text(&out.stderr).contains("already exists"), "{}", text(&out.stderr));
            // Restored in place of another database, which is kept.
            let target = dir.join("restored.db").display().to_string();
            let out = ringline(&target, &dir, &["zones", "list"]);
            assert!(out.status.success(), "a database to replace: {}", text(&out.stderr));
            // A file that is no database is refused, and the database stays as it was.
            let junk = dir.join("notes.db");
            std::fs::write(&junk, "not a database, just notes").expect("a file");
            let size = std::fs::metadata(&target).expect("the database").len();
            let out = ringline(&target, &dir, &["restore", &junk.display().to_string()]);
            assert!(!out.status.success(), "restoring a text file is refused");
            assert!(
                text(&out.stderr).contains("is not a ringline SQLite database"),
                "{}",
                text(&out.stderr)
            );
            assert_eq!(std::fs::metadata(&target).expect("the database").len(), size);
            assert!(
                !Path::new(&format!("{target}.restoring")).exists(),
                "the staged copy is removed"
            );
            let out = ringline(&target, &dir, &["restore", &backup_name]);
            assert!(
                out.status.success(),
                "restore: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            let kept: Vec<_> = std::fs::read_dir(&dir)
                .expect("the test folder")
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("restored.db.before-restore-")
                })
                .collect();
            assert_eq!(kept.len(), 1, "the replaced database is kept");
            assert!(text(&out.stdout).contains("kept as"), "{}", text(&out.stdout));
            (target, None)
        }
        Backend::Postgres => {
            let out = ringline(&app.url, &dir, &["restore", &backup_name]);
            assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains("pg_restore --clean"),
                "{}",
                text(&out.stdout)
            );
            let admin = std::env::var(PG_URL_VAR).expect("set for PostgreSQL tests");
            let name = format!("ringline_test_restored_{}", std::process::id());
            let mut c = diesel::pg::PgConnection::establish(&admin).expect("admin connection");
            // One statement per call: DROP/CREATE DATABASE cannot run in a multi-statement batch.
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("no leftover database");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("an empty database");
            let url = database_url(&admin, &name);
            run_tool(&ringline::backup::pg_restore_args(&url, &backup_name));
            (url, Some((admin, name)))
        }
    };
    {
        let restored = Db::open(&restored_url).expect("the restored database opens");
        let mut conn = restored.conn().expect("a connection");
        let (keys, audited) = written(&mut conn);
        let k = keys.len();
        // Every skill committed before the backup began is there …
        assert!(k >= before, "{k} skills restored, {before} committed before the backup");
        // … and nothing committed after it ended …
        assert!(k <= after, "{k} skills restored, {after} committed when it ended");
        // … as one snapshot: exactly the first k, each with its audit entry.
        let expected: Vec<String> = (1..=k).map(key).collect();
        assert_eq!(keys, expected, "a prefix of the writes");
        assert_eq!(audited, expected, "each with its audit entry");
        assert!(k < total, "the writes after the backup are not in it");
    }
    if app.backend == Backend::Sqlite {
        let checked = ringline::backup::check_sqlite_file(Path::new(&restored_url)).expect("sound");
        assert!(checked.audit_entries as usize >= before);
    }
    if let Some((admin, name)) = pg_restored {
        let mut c = diesel::pg::PgConnection::establish(&admin).expect("admin connection");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop the restored database");
    }
}
