//! Backup and restore of the database.
//!
//! **SQLite** is done here. [`backup_sqlite`] writes a consistent copy with `VACUUM INTO`, which
//! reads one snapshot of the database in a read transaction: writers (a running server, an
//! import) go on meanwhile in WAL mode, and the copy holds exactly the transactions committed
//! before the snapshot began. The copy is written beside its final name, checked
//! (`PRAGMA integrity_check`, `PRAGMA foreign_key_check`), synced and only then renamed, so a
//! crash never leaves a half-written backup under the chosen name. [`restore_sqlite`] puts a
//! backup back: it takes the database's lock exclusively ([`crate::db::lock_path`]: every
//! running server or command holds it shared, and the kernel releases it when a process ends),
//! so it is refused while anything uses the database; it checks a copy of the backup, keeps the
//! replaced database beside it (`ringline.db.before-restore-…`) and swaps the file in with one
//! `rename`, so at every moment the database is either the old one or the restored one.
//!
//! **PostgreSQL** has its own tools, which do it right: `pg_dump` takes a consistent snapshot
//! while servers run and `pg_restore` loads it in one transaction. [`pg_dump_args`] and
//! [`pg_restore_args`] are the commands ringline prints for a PostgreSQL URL.

use std::collections::BTreeSet;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};

use crate::db::{Db, DbConn, DbError, SQLITE_MIGRATIONS, open_lock_file};

/// Errors of backup and restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database or backup file named does not exist.
    #[error("there is no database file at {0}")]
    Missing(String),
    /// The backup's name is taken.
    #[error("{0} already exists; choose a new file name (a backup never overwrites a file)")]
    Exists(String),
    /// The file to restore is not a ringline SQLite database.
    #[error("{file} is not a ringline SQLite database: {reason}")]
    NotABackup {
        /// The file.
        file: String,
        /// What is missing.
        reason: String,
    },
    /// The file fails SQLite's integrity or foreign-key check.
    #[error("{file} is damaged: {report}")]
    Damaged {
        /// The file.
        file: String,
        /// What the check said (first lines).
        report: String,
    },
    /// The backup was written by a newer ringline (its schema has migrations this one lacks).
    #[error(
        "{file} was written by a newer version of ringline (its schema has migration {version}, unknown to this one); restore it with that version"
    )]
    Newer {
        /// The file.
        file: String,
        /// The first unknown migration.
        version: String,
    },
    /// A running server or command holds the database.
    #[error(
        "the database {0} is in use by a running ringline (a server or another command): stop it, then restore again"
    )]
    InUse(String),
    /// Restoring a file onto itself.
    #[error("{0} is the database itself; name a backup file")]
    SameFile(String),
    /// The storage layer failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A file operation failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |cause| BackupError::Io {
        path: path.display().to_string(),
        cause,
    }
}

fn query_error(e: diesel::result::Error) -> BackupError {
    BackupError::Db(DbError::Query(e))
}

/// What a checked SQLite database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Size in bytes.
    pub bytes: u64,
    /// Schema migrations applied (diesel's versions, e.g. `20261129000005`).
    pub migrations: usize,
    /// Rows of the audit log.
    pub audit_entries: i64,
}

/// A backup written by [`backup_sqlite`].
#[derive(Debug, Clone)]
pub struct Written {
    /// The backup file.
    pub path: PathBuf,
    /// What it holds (checked after writing).
    pub checked: Checked,
    /// Seconds taken.
    pub seconds: f64,
}

/// A restore done by [`restore_sqlite`].
#[derive(Debug, Clone)]
pub struct Restored {
    /// What the restored database holds (checked before it was put in place).
    pub checked: Checked,
    /// Where the replaced database was kept (`None` when there was none).
    pub kept: Option<PathBuf>,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A string literal for SQL: quoted, inner quotes doubled.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn utf8_path(path: &Path) -> Result<&str, BackupError> {
    path.to_str().ok_or_else(|| BackupError::Io {
        path: path.display().to_string(),
        cause: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not valid UTF-8"),
    })
}

/// `path` with `suffix` appended to its file name (`ringline.db` → `ringline.db.partial`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Removes a file if it exists.
fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path)(e)),
        _ => Ok(()),
    }
}

/// Flushes a file's contents and then its folder's entry to disk.
fn sync_file_and_folder(path: &Path) -> Result<(), BackupError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(io_error(path))?;
    sync_folder(path)
}

fn sync_folder(path: &Path) -> Result<(), BackupError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder).and_then(|f| f.sync_all()).map_err(io_error(folder))
}

/// Checks the SQLite database file at `path`: a SQLite file, `PRAGMA integrity_check` "ok",
/// no `PRAGMA foreign_key_check` violation, ringline's schema with no migration unknown to this
/// build. Opens it read-write (SQLite may need to create its shared-memory file).
///
/// # Errors
/// [`BackupError::Missing`], [`BackupError::NotABackup`], [`BackupError::Damaged`],
/// [`BackupError::Newer`], [`BackupError::Io`], [`BackupError::Db`].
pub fn check_sqlite_file(path: &Path) -> Result<Checked, BackupError> {
    let file = path.display().to_string();
    let mut head = [0u8; 16];
    {
        use std::io::Read;
        let mut f = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BackupError::Missing(file.clone()),
            _ => io_error(path)(e),
        })?;
        let n = f.read(&mut head).map_err(io_error(path))?;
        if n < head.len() || &head != b"SQLite format 3\0" {
            return Err(BackupError::NotABackup {
                file,
                reason: "it is not a SQLite database file".into(),
            });
        }
    }
    let bytes = std::fs::metadata(path).map_err(io_error(path))?.len();
    let mut conn = SqliteConnection::establish(utf8_path(path)?).map_err(DbError::from)?;
    let report: Vec<String> = diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
        .load::<TextRow>(&mut conn)
        .map_err(|e| BackupError::Damaged {
            file: file.clone(),
            report: e.to_string(),
        })?
        .into_iter()
        .map(|r| r.value)
        .collect();
    if report != ["ok"] {
        return Err(BackupError::Damaged {
            file,
            report: format!(
                "PRAGMA integrity_check: {}",
                report.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            ),
        });
    }
    let orphans = diesel::sql_query("SELECT count(*) AS n FROM pragma_foreign_key_check")
        .get_result::<CountRow>(&mut conn)
        .map_err(query_error)?
        .n;
    if orphans > 0 {
        return Err(BackupError::Damaged {
            file,
            report: format!("PRAGMA foreign_key_check: {orphans} row(s) refer to missing rows"),
        });
    }
    let has_schema = diesel::sql_query(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' \
         AND name IN ('__diesel_schema_migrations', 'divisions', 'audit_log')",
    )
    .get_result::<CountRow>(&mut conn)
    .map_err(query_error)?
    .n;
    if has_schema != 3 {
        return Err(BackupError::NotABackup {
            file,
            reason: "it has no ringline tables".into(),
        });
    }
    let applied: Vec<String> = diesel::sql_query("SELECT version AS value FROM __diesel_schema_migrations")
        .load::<TextRow>(&mut conn)
        .map_err(query_error)?
        .into_iter()
        .map(|r| r.value)
        .collect();
    let known = known_sqlite_migrations()?;
    if let Some(unknown) = applied.iter().find(|v| !known.contains(*v)) {
        return Err(BackupError::Newer {
            file,
            version: unknown.clone(),
        });
    }
    let audit_entries = diesel::sql_query("SELECT count(*) AS n FROM audit_log")
        .get_result::<CountRow>(&mut conn)
        .map_err(query_error)?
        .n;
    Ok(Checked {
        bytes,
        migrations: applied.len(),
        audit_entries,
    })
}

/// The versions of the SQLite migrations embedded in this build.
fn known_sqlite_migrations() -> Result<BTreeSet<String>, BackupError> {
    let migrations = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(|e| BackupError::Db(DbError::Migration(e.to_string())))?;
    Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
}

/// Writes a consistent copy of the SQLite database `db` to `out` (which must not exist), also
/// while other connections and processes write to it, and checks it (see the module docs).
///
/// # Errors
/// [`BackupError::Exists`] when `out` exists; [`BackupError::Db`] when the database cannot be
/// read (`VACUUM INTO` also fails when the disk is full); [`BackupError::Io`];
/// [`BackupError::Damaged`] should the copy fail its check.
pub fn backup_sqlite(db: &Db, out: &Path) -> Result<Written, BackupError> {
    let started = Instant::now();
    if out.exists() {
        return Err(BackupError::Exists(out.display().to_string()));
    }
    let partial = with_suffix(out, ".partial");
    remove_if_present(&partial)?;
    {
        let mut conn = db.conn()?;
        let DbConn::Sqlite(c) = &mut *conn else {
            return Err(BackupError::NotABackup {
                file: out.display().to_string(),
                reason: "the database is not SQLite".into(),
            });
        };
        c.batch_execute(&format!("VACUUM INTO {}", sql_string(utf8_path(&partial)?)))
            .map_err(query_error)?;
    }
    let checked = match check_sqlite_file(&partial) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    sync_file_and_folder(&partial)?;
    if out.exists() {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::Exists(out.display().to_string()));
    }
    std::fs::rename(&partial, out).map_err(io_error(out))?;
    sync_folder(out)?;
    Ok(Written {
        path: out.to_path_buf(),
        checked,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Replaces the SQLite database at `target` with the backup `from` (see the module docs). The
/// replaced database, if any, is kept as `<target>.before-restore-<UTC time>`. Afterwards open
/// the database as usual ([`Db::open`] brings an older backup's schema up to date).
///
/// # Errors
/// [`BackupError::InUse`] while a server or command holds the database; the errors of
/// [`check_sqlite_file`] for a file that is not a sound ringline backup (then nothing changed);
/// [`BackupError::SameFile`]; [`BackupError::Io`].
pub fn restore_sqlite(target: &Path, from: &Path) -> Result<Restored, BackupError> {
    if !from.is_file() {
        return Err(BackupError::Missing(from.display().to_string()));
    }
    if let (Ok(a), Ok(b)) = (target.canonicalize(), from.canonicalize())
        && a == b
    {
        return Err(BackupError::SameFile(from.display().to_string()));
    }
    let from_wal = with_suffix(from, "-wal");
    if std::fs::metadata(&from_wal).is_ok_and(|m| m.len() > 0) {
        return Err(BackupError::NotABackup {
            file: from.display().to_string(),
            reason: format!(
                "it has a write-ahead log beside it ({}), so it is a live database, not a backup; make one with `ringline backup`",
                from_wal.display()
            ),
        });
    }
    let lock = open_lock_file(target)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(BackupError::InUse(target.display().to_string())),
        Err(TryLockError::Error(cause)) => {
            return Err(BackupError::Io {
                path: crate::db::lock_path(target).display().to_string(),
                cause,
            });
        }
    }
    let staged = with_suffix(target, ".restoring");
    for p in [
        staged.clone(),
        with_suffix(&staged, "-wal"),
        with_suffix(&staged, "-shm"),
    ] {
        remove_if_present(&p)?;
    }
    std::fs::copy(from, &staged).map_err(io_error(&staged))?;
    let checked = match check_sqlite_file(&staged) {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    sync_file_and_folder(&staged)?;
    let kept = if target.exists() {
        // Fold the old database's write-ahead log into it, so the file kept is whole and no
        // log of the old database is left to be replayed onto the restored one.
        {
            let mut old = SqliteConnection::establish(utf8_path(target)?).map_err(DbError::from)?;
            old.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(query_error)?;
        }
        for p in [with_suffix(target, "-wal"), with_suffix(target, "-shm")] {
            remove_if_present(&p)?;
        }
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = with_suffix(target, &format!(".before-restore-{stamp}"));
        if std::fs::hard_link(target, &kept).is_err() {
            std::fs::copy(target, &kept).map_err(io_error(&kept))?;
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged, target).map_err(io_error(target))?;
    sync_folder(target)?;
    drop(lock);
    Ok(Restored { checked, kept })
}

/// A command's arguments as one line a POSIX shell runs as it is (arguments with other
/// characters than letters, digits and `_./:=@,+-` single-quoted).
pub fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@,+-".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PostgreSQL URL without its password (`postgres://user:secret@host/db` →
/// `postgres://user@host/db`), for commands shown on screen: `pg_dump` and `pg_restore` then
/// ask for the password, or read it from `PGPASSWORD` or `~/.pgpass`.
pub fn without_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}@{host}");
    }
    url.to_string()
}

/// `pg_dump` writing a consistent snapshot of the database at `url` to `file` in PostgreSQL's
/// custom format (compressed; what `pg_restore` reads). It runs while servers write.
pub fn pg_dump_args(url: &str, file: &str) -> Vec<String> {
    vec![
        "pg_dump".into(),
        "--format=custom".into(),
        format!("--file={file}"),
        format!("--dbname={url}"),
    ]
}

/// `pg_restore` loading `file` (written by [`pg_dump_args`]) into the database at `url` in one
/// transaction: existing ringline tables are dropped and recreated (`--clean --if-exists`), so
/// it works on the old database and on an empty one (`createdb`); objects are owned by the user
/// restoring (`--no-owner`). Run it with every ringline server of that database stopped.
pub fn pg_restore_args(url: &str, file: &str) -> Vec<String> {
    vec![
        "pg_restore".into(),
        "--clean".into(),
        "--if-exists".into(),
        "--no-owner".into(),
        "--single-transaction".into(),
        format!("--dbname={url}"),
        file.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes_what_a_shell_would_split() {
        let args: Vec<String> = [
            "pg_dump",
            "--file=a b.dump",
            "--dbname=postgres://u@h/db?sslmode=require&x=1",
            "it's",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            shell_line(&args),
            r"pg_dump '--file=a b.dump' '--dbname=postgres://u@h/db?sslmode=require&x=1' 'it'\''s'"
        );
    }

    #[test]
    fn password_left_out_of_shown_urls() {
        assert_eq!(
            without_password("postgres://ringline:s3cret@db.local/ringline"),
            "postgres://ringline@db.local/ringline"
        );
        assert_eq!(without_password("postgresql://u@h/db"), "postgresql://u@h/db");
    }

    #[test]
    fn sql_string_doubles_quotes() {
        assert_eq!(sql_string("/tmp/o'neil.db"), "'/tmp/o''neil.db'");
    }
}
