//! The application under test: a fresh SQLite database in a temporary folder with the first-start
//! seed (Datong's divisions and the default program) and the `admin` account (county
//! administrator of Datong), served on a free port of 127.0.0.1 — as `tests/app/harness.rs` does,
//! SQLite only (these tests are about pages, not the database).

use std::path::{Path, PathBuf};

use ringline::access::Access;
use ringline::config::Config;
use ringline::db::{Db, DbConn};
use ringline::import::framework::{self, OnExisting, Options};
use ringline::import::spec;

/// Password of the `admin` account.
pub const ADMIN_PASSWORD: &str = "admin-browser-pass";

/// Datong county's division code.
pub const COUNTY: &str = "630121000000";

/// A running application.
pub struct App {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The application's database.
    pub db: Db,
    /// Folder of the database, the uploads and the files a test writes.
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl App {
    /// Spawns the application on a new SQLite database.
    pub async fn spawn() -> App {
        let dir = tempfile::TempDir::new().expect("a temporary folder");
        let url = dir.path().join("ringline.db").display().to_string();
        let db = Db::open(&url).unwrap_or_else(|e| panic!("opening the database: {e}"));
        {
            let mut conn = db.conn().expect("a connection");
            ringline::seed::first_start(&mut conn).expect("first start loads Datong");
            ringline::auth::ensure_admin(&mut conn, COUNTY, Some(ADMIN_PASSWORD)).expect("the admin account");
        }
        let config = Config {
            database_url: url,
            bind: "127.0.0.1:0".into(),
            data_dir: Some(dir.path().to_path_buf()),
            ..Config::default()
        };
        let server = ringline::web::Server::bind(config, db.clone())
            .await
            .expect("binds a free port");
        let addr = server.local_addr().expect("the bound address");
        let server = tokio::spawn(async move {
            server.run(std::future::pending::<()>()).await.expect("the server runs");
        });
        App {
            base: format!("http://{addr}"),
            db,
            dir,
            server,
        }
    }

    /// A pooled connection for calling the library directly.
    pub fn conn(&self) -> diesel::r2d2::PooledConnection<ringline::db::Manager> {
        self.db.conn().expect("a database connection")
    }

    /// Writes `text` to `name` in this app's folder and returns the path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("writes the file");
        path
    }

    /// Imports the registry fixtures `tests/fixtures/registry/units.csv` (10 units) and
    /// `orgs.csv` (8 party organizations) as the command line does.
    pub fn load_units_and_orgs(&self) {
        let mut conn = self.conn();
        assert_eq!(import(&mut conn, "units", &fixture("registry/units.csv")), 10);
        assert_eq!(import(&mut conn, "orgs", &fixture("registry/orgs.csv")), 8);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Path of a file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Imports `path` as `kind` and applies it; returns how many records it created.
fn import(conn: &mut DbConn, kind: &str, path: &Path) -> usize {
    let kind = spec::kind(kind).expect("a known kind");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_string();
    let (r, _) = framework::import_file(
        conn,
        &Access::system(),
        kind,
        path,
        &name,
        Options {
            on_existing: OnExisting::Skip,
            apply: true,
            illustrative: false,
            confirm: false,
            expected: None,
        },
        &mut |_, _, _| {},
    )
    .expect("the import runs");
    assert!(r.ok() && r.applied, "{name}: {:?}", r.errors);
    r.new
}
