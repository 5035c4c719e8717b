//! Storage: one code path for SQLite and PostgreSQL.
//!
//! [`DbConn`] is a diesel `MultiConnection` over both backends, so ordinary diesel queries are
//! written once. Where the two backends differ in semantics (bulk upserts), code matches on the
//! variant. Connections come from an r2d2 pool; every call from async code goes through
//! [`Db::run`], which moves the blocking work onto tokio's blocking pool.

pub mod query;
pub mod schema;

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Migrations for SQLite, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, embedded in the binary.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The connection enum and the types `diesel::MultiConnection` generates for it (which carry no
/// docs of their own).
#[allow(missing_docs)]
mod connection {
    use diesel::pg::PgConnection;
    use diesel::sqlite::SqliteConnection;

    /// A connection to either backend.
    #[derive(diesel::MultiConnection)]
    pub enum DbConn {
        /// PostgreSQL (`postgres://…` or `postgresql://…`).
        Pg(PgConnection),
        /// SQLite (a file path, optionally prefixed `sqlite://`).
        Sqlite(SqliteConnection),
    }
}

pub use connection::{DbConn, MultiBackend};

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend for a URL: `postgres://` and `postgresql://` are PostgreSQL, anything else is
    /// a SQLite file path (with or without `sqlite://`).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed. (The cause is part of the message, not a separate source, so error
    /// chains do not print it twice.)
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    /// No connection could be had from the pool.
    #[error("could not get a database connection: {0}")]
    Pool(r2d2::PoolError),
    /// Connecting failed.
    #[error("could not connect to the database: {0}")]
    Connect(diesel::ConnectionError),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The blocking task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
    /// The SQLite database's lock file could not be opened or locked.
    #[error("could not lock the database {path}: {cause}")]
    Lock {
        /// The lock file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::Query(e)
    }
}

impl From<r2d2::PoolError> for DbError {
    fn from(e: r2d2::PoolError) -> Self {
        DbError::Pool(e)
    }
}

impl From<diesel::ConnectionError> for DbError {
    fn from(e: diesel::ConnectionError) -> Self {
        DbError::Connect(e)
    }
}

impl DbError {
    /// Whether the error is SQLite's "database is locked" (another writer held the lock past the
    /// busy timeout) or a pool timeout: worth retrying later, not a fault.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Query(e) => e.to_string().contains("database is locked"),
            DbError::Pool(_) => true,
            _ => false,
        }
    }

    /// Whether a unique constraint (a primary key, a natural key) refused a write: another
    /// writer stored a record with the same key after this one looked (on PostgreSQL, whose
    /// writers do not wait for each other's reads). Not a fault of the data or of the code:
    /// the change is to be checked again.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Result of storage calls.
pub type DbResult<T> = Result<T, DbError>;

/// The file path of a SQLite URL (`sqlite://` removed).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// The lock file of a SQLite database: its path with `.lock` appended (`ringline.db.lock`).
///
/// Every [`Db`] on a SQLite file holds a shared lock on it (`flock(2)` through
/// [`std::fs::File::lock_shared`]) for as long as it lives, so a running server or command is
/// visible to `ringline restore`, which needs the exclusive lock. The kernel releases the lock
/// when the process ends, however it ends, so a crash leaves no stale lock behind. The file
/// itself stays (empty); deleting it while ringline runs defeats the check.
pub fn lock_path(db_path: &Path) -> PathBuf {
    let mut p = db_path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Opens (creating it) the lock file of the SQLite database at `db_path`.
pub fn open_lock_file(db_path: &Path) -> DbResult<File> {
    let path = lock_path(db_path);
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|cause| DbError::Lock {
            path: path.display().to_string(),
            cause,
        })
}

/// Takes the shared "in use" lock of the SQLite database at `db_path` (see [`lock_path`]),
/// waiting while `ringline restore` holds it exclusively.
fn lock_in_use(db_path: &Path) -> DbResult<File> {
    let file = open_lock_file(db_path)?;
    let lock_error = |cause| DbError::Lock {
        path: lock_path(db_path).display().to_string(),
        cause,
    };
    match file.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            tracing::warn!("waiting for the restore of {} to finish", db_path.display());
            file.lock_shared().map_err(lock_error)?;
        }
        Err(TryLockError::Error(e)) => return Err(lock_error(e)),
    }
    Ok(file)
}

/// Opens one connection for `url` and applies the per-connection settings (for SQLite: WAL,
/// foreign keys, a 30 s busy timeout, synchronous=NORMAL).
pub fn establish(url: &str) -> DbResult<DbConn> {
    match Backend::of_url(url) {
        Backend::Postgres => Ok(DbConn::Pg(PgConnection::establish(url)?)),
        Backend::Sqlite => {
            let path = sqlite_path(url);
            let mut c = SqliteConnection::establish(path)?;
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                 PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;",
            )?;
            Ok(DbConn::Sqlite(c))
        }
    }
}

/// r2d2 manager creating [`DbConn`]s for one URL.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> DbResult<DbConn> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> DbResult<()> {
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// A pooled handle to the database; cheap to clone. On SQLite it holds the database's shared
/// "in use" lock (see [`lock_path`]) until the last clone is dropped.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    _in_use: Option<Arc<File>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish()
    }
}

impl Db {
    /// Connects to `url` (SQLite file or `postgres://…`), creating a SQLite file if missing,
    /// and applies the embedded migrations. On SQLite it first takes the shared "in use" lock
    /// (see [`lock_path`]), waiting while a restore runs.
    pub fn open(url: &str) -> DbResult<Db> {
        let backend = Backend::of_url(url);
        let in_use = match backend {
            Backend::Sqlite => Some(Arc::new(lock_in_use(Path::new(sqlite_path(url)))?)),
            Backend::Postgres => None,
        };
        // Connect once directly, so a wrong path or an unreachable server fails at once with
        // its own message instead of after the pool's timeout.
        drop(establish(url)?);
        // SQLite serialises writers; a small pool avoids lock contention between them.
        let size = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 10,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(35))
            .build(Manager { url: url.to_string() })?;
        let db = Db {
            pool,
            backend,
            _in_use: in_use,
        };
        db.migrate()?;
        Ok(db)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool, for blocking code (CLI, tests, jobs).
    pub fn conn(&self) -> DbResult<r2d2::PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    fn migrate(&self) -> DbResult<()> {
        let mut conn = self.conn()?;
        let result = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| DbError::Migration(e.to_string()))
    }

    /// Runs blocking database work on tokio's blocking pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }
}

/// Runs `f` in a transaction that writes, committing when it returns `Ok` and rolling back
/// otherwise. Every writing transaction goes through here.
///
/// On SQLite the transaction begins with `BEGIN IMMEDIATE`: it takes the database's write lock
/// at once (waiting up to the 30 s busy timeout while another writer holds it) and keeps it to
/// the end. A plain (deferred) transaction would read first and ask for the lock at its first
/// write, and in WAL mode SQLite refuses that upgrade with "database is locked", without
/// waiting, whenever any other connection wrote since the transaction's first read — so a long
/// import would lose to every short write made while it checks its rows. On PostgreSQL it is an
/// ordinary `BEGIN` (writers wait for each other's row locks; see [`lock_writers`] for records
/// that do not exist yet). Called inside another transaction it is a savepoint of that one.
///
/// # Errors
/// `f`'s error, or the database's failure to begin, commit or roll back.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let outermost = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()?
        .is_none();
    if !outermost {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    // The rest as diesel's own `transaction`: the connection's transaction manager knows this
    // transaction now.
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Where writers of one kind of records are serialised by [`lock_writers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteArea<'a> {
    /// Everywhere: excludes every other writer of the kind.
    Everywhere,
    /// One county, by its 6-digit code prefix (`"630121"`): excludes writers of the kind in the
    /// same county and writers [`WriteArea::Everywhere`], not those of other counties.
    County(&'a str),
}

/// Makes writers of records of `kind` (an import kind such as `"units"`, or `"divisions"`) in
/// `area` wait for each other until their transactions end. Call it first thing inside a
/// [`write_transaction`], then read what the write depends on: the reads then see everything a
/// writer before it committed, so two writers cannot both decide that the same record is new.
///
/// On PostgreSQL these are transaction-level advisory locks (`pg_advisory_xact_lock`, released
/// at commit or rollback): key one is a hash of `kind`, key two the county code, or 0 for the
/// whole kind — taken shared by county writers and exclusively by [`WriteArea::Everywhere`],
/// always in that order, so they cannot deadlock. On SQLite nothing is needed: the
/// `BEGIN IMMEDIATE` of [`write_transaction`] already holds the database's only write lock.
///
/// # Errors
/// A database failure; a county code that is not 6 digits.
pub fn lock_writers(conn: &mut DbConn, kind: &str, area: WriteArea) -> DbResult<()> {
    let DbConn::Pg(pg) = conn else {
        return Ok(());
    };
    let key = lock_key(kind);
    let sql = match area {
        WriteArea::Everywhere => format!("SELECT pg_advisory_xact_lock({key}, 0)"),
        WriteArea::County(code) => {
            let county: i32 = code
                .get(..6)
                .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| DbError::Task(format!("{code:?} is not a county code")))?;
            format!("SELECT pg_advisory_xact_lock_shared({key}, 0); SELECT pg_advisory_xact_lock({key}, {county})")
        }
    };
    pg.batch_execute(&sql)?;
    Ok(())
}

/// The first advisory-lock key of a kind: 32-bit FNV-1a of `ringline:KIND`, stable across
/// builds and versions (instances of two versions may share a database during an upgrade).
fn lock_key(kind: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in "ringline:".bytes().chain(kind.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(h.to_ne_bytes())
}

/// Inserts many rows of one table: multi-row `INSERT`s of `chunk` rows on PostgreSQL, one
/// prepared statement per row on SQLite (where diesel's multi-row insert needs every column
/// present). Use inside a transaction.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConn::Pg(c) => {
                for part in rows.chunks($chunk) {
                    diesel::insert_into($table).values(part).execute(c)?;
                }
            }
            $crate::db::DbConn::Sqlite(c) => {
                for row in rows.iter() {
                    diesel::insert_into($table).values(row).execute(c)?;
                }
            }
        }
    }};
}

/// Inserts rows of one table in multi-row statements of `$chunk` rows on both backends and
/// returns the ids the database gave them, in order. Use inside a transaction.
#[macro_export]
macro_rules! insert_returning_ids {
    ($conn:expr, $table:expr, $id:expr, $rows:expr, $chunk:expr) => {{
        let rows = $rows;
        let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
        match $conn {
            $crate::db::DbConn::Pg(c) => {
                for part in rows.chunks($chunk) {
                    ids.extend(
                        diesel::insert_into($table)
                            .values(part)
                            .returning($id)
                            .get_results::<i64>(c)?,
                    );
                }
            }
            $crate::db::DbConn::Sqlite(c) => {
                for part in rows.chunks($chunk) {
                    ids.extend(
                        diesel::insert_into($table)
                            .values(part)
                            .returning($id)
                            .get_results::<i64>(c)?,
                    );
                }
            }
        }
        ids
    }};
}

/// Current UTC time as stored in timestamp columns (seconds precision, UTC, no zone).
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&t)))
}

/// Upper bound for a code-prefix range query: every 12-digit code starting with the digit
/// string `prefix` satisfies `prefix <= code < prefix_end(prefix)`, where the bound is the prefix
/// plus one at the same width (`"630121103"` → `"630121104"`); `None` when the prefix is all nines
/// (no upper bound needed). Digit strings compare the same under every collation, so subtree
/// queries stay index range scans on both backends.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let n: u64 = prefix.parse().ok()?;
    let next = format!("{:0width$}", n + 1, width = prefix.len());
    (next.len() == prefix.len()).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_next_number_at_same_width() {
        assert_eq!(prefix_end("630121103").as_deref(), Some("630121104"));
        assert_eq!(prefix_end("630129").as_deref(), Some("630130"));
        assert_eq!(prefix_end("0109").as_deref(), Some("0110"));
        assert_eq!(prefix_end("99"), None);
        assert!("630121103999" < "630121104" && "630121103000" >= "630121103");
    }

    #[test]
    fn lock_keys_are_fnv1a_of_the_kind() {
        // FNV-1a 32 of the empty string is its offset basis 0x811c9dc5; of "a" 0xe40c292c
        // (the published test vectors): here with the "ringline:" prefix, so compare with a
        // direct computation of the same bytes.
        let fnv = |s: &str| {
            s.bytes()
                .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
        };
        assert_eq!(fnv(""), 0x811c_9dc5);
        assert_eq!(fnv("a"), 0xe40c_292c);
        assert_eq!(
            lock_key("units"),
            i32::from_ne_bytes(fnv("ringline:units").to_ne_bytes())
        );
        assert_ne!(lock_key("units"), lock_key("orgs"));
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::of_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://h/db"), Backend::Postgres);
        assert_eq!(Backend::of_url("ringline.db"), Backend::Sqlite);
        assert_eq!(Backend::of_url("sqlite://x.db"), Backend::Sqlite);
    }
}
