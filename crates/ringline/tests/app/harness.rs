//! Spawns the real application for one test: a fresh database (a SQLite file in a temporary
//! folder, or a new PostgreSQL database created from `RINGLINE_TEST_DATABASE_URL`), the first-start
//! seed (Datong's divisions and the default program), the `admin` account, and the web server on a
//! free port, with an HTTP client that keeps cookies and does not follow redirects.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;
use ringline::config::Config;
use ringline::db::{Db, DbConn, Manager};
use serde_json::Value;

/// Password of the `admin` account in every test app.
pub const ADMIN_PASSWORD: &str = "admin-test-pass";

/// Environment variable naming a PostgreSQL admin URL (a superuser or a role that may
/// `CREATE DATABASE`).
pub const PG_URL_VAR: &str = "RINGLINE_TEST_DATABASE_URL";

/// The database backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server named by [`PG_URL_VAR`].
    Postgres,
}

impl Backend {
    /// The name `/healthz` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A PostgreSQL database created for one test and dropped with it.
struct PgDatabase {
    admin_url: String,
    name: String,
}

/// A running application for one test.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Client with a cookie store; redirects are returned, not followed.
    pub client: reqwest::Client,
    /// The application's database.
    pub db: Db,
    /// Its URL (a SQLite file path, or a PostgreSQL URL with the admin URL's credentials).
    pub url: String,
    /// Which backend this is.
    pub backend: Backend,
    /// Folder holding this test's files (the SQLite database, import fixtures written by the test).
    pub dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    pg: Option<PgDatabase>,
}

/// Builds the URL of database `name` on the server of `admin_url` (same credentials, host and
/// query string).
pub fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_and_path = &base[scheme_end..];
    let authority = match authority_and_path.find('/') {
        Some(i) => &authority_and_path[..i],
        None => authority_and_path,
    };
    let mut url = format!("{}{}/{}", &base[..scheme_end], authority, name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// A client that keeps cookies and returns redirects instead of following them.
pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds")
}

fn create_pg_database(admin_url: &str) -> PgDatabase {
    let bytes: [u8; 8] = rand::random();
    let name = format!("ringline_test_{}", hex::encode(bytes));
    let mut admin = diesel::pg::PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_VAR} ({e}); is PostgreSQL running?"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    PgDatabase {
        admin_url: admin_url.to_string(),
        name,
    }
}

/// Spawns the application on `backend`. Returns `None` (after saying so) for PostgreSQL when
/// [`PG_URL_VAR`] is unset outside CI; panics when it is unset in CI.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    let dir = tempfile::TempDir::new().expect("temporary folder");
    let (url, pg) = match backend {
        Backend::Sqlite => (dir.path().join("ringline.db").display().to_string(), None),
        Backend::Postgres => {
            let Some(admin_url) = std::env::var(PG_URL_VAR).ok().filter(|v| !v.is_empty()) else {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{PG_URL_VAR} must be set in CI");
                }
                eprintln!("skipped: set {PG_URL_VAR} to run on PostgreSQL");
                return None;
            };
            let pg = create_pg_database(&admin_url);
            (database_url(&admin_url, &pg.name), Some(pg))
        }
    };
    let db = Db::open(&url).unwrap_or_else(|e| panic!("opening {backend:?} database: {e}"));
    {
        let mut conn = db.conn().expect("a connection");
        let seeded = ringline::seed::first_start(&mut conn).expect("first start loads Datong");
        assert_eq!(seeded.divisions, 334, "1 county + 20 towns + 313 villages");
        assert!(seeded.program && seeded.boundary);
        ringline::auth::ensure_admin(&mut conn, "630121000000", Some(ADMIN_PASSWORD)).expect("admin account");
    }
    let config = Config {
        database_url: url.clone(),
        bind: "127.0.0.1:0".into(),
        data_dir: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let server = ringline::web::Server::bind(config, db.clone())
        .await
        .expect("binds a free port");
    let addr = server.local_addr().expect("bound address");
    let server = tokio::spawn(async move {
        server.run(std::future::pending::<()>()).await.expect("server runs");
    });
    Some(TestApp {
        base: format!("http://{addr}"),
        client: new_client(),
        db,
        url,
        backend,
        dir,
        server,
        pg,
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(pg) = &self.pg {
            // FORCE ends the connections still held by this app's pool (PostgreSQL 13+).
            let dropped = diesel::pg::PgConnection::establish(&pg.admin_url)
                .map(|mut c| c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name)));
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("warning: could not drop the test database {}", pg.name);
            }
        }
    }
}

impl TestApp {
    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A pooled connection for calling the library directly.
    pub fn conn(&self) -> diesel::r2d2::PooledConnection<Manager> {
        self.db.conn().expect("a database connection")
    }

    /// GET with this app's client (and its cookies).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET succeeds")
    }

    /// GET and parse the body as JSON.
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).await;
        let status = r.status();
        let body = r
            .json::<Value>()
            .await
            .unwrap_or_else(|e| panic!("{path}: JSON body: {e}"));
        (status, body)
    }

    /// Logs in as `admin` through the API; returns the session's CSRF token.
    pub async fn login(&self) -> String {
        self.login_as(&self.client, "admin", ADMIN_PASSWORD).await
    }

    /// Logs `client` in as `username` through the API; returns the session's CSRF token.
    pub async fn login_as(&self, client: &reqwest::Client, username: &str, password: &str) -> String {
        let r = client
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("POST /api/v1/session");
        assert_eq!(r.status(), StatusCode::OK, "{username} logs in");
        let body: Value = r.json().await.expect("JSON");
        body["csrf_token"].as_str().expect("csrf_token").to_string()
    }

    /// Writes `bytes` to `name` in this test's folder and returns the path.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, bytes).expect("write file");
        path
    }
}

/// A client logged in through the API, with its session's CSRF token.
pub struct Session {
    /// The client (its cookie jar holds the session cookie).
    pub client: reqwest::Client,
    /// The session's CSRF token, sent as `X-CSRF-Token` or as the form field `csrf_token`.
    pub csrf: String,
    base: String,
}

/// A response read whole: status, headers and body.
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Reads a response whole.
    pub async fn of(r: reqwest::Response) -> Answer {
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("a response body").to_vec();
        Answer { status, headers, body }
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The code of a JSON error body (`{"error": {"code": …}}`), or "".
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("").to_string()
    }

    /// A header as text, or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

/// A new client logged in as `username` through the API of the server at `base` (another
/// instance serving the same database, for instance).
pub async fn session_on(base: &str, username: &str, password: &str) -> Session {
    let client = new_client();
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("POST /api/v1/session");
    assert_eq!(r.status(), StatusCode::OK, "{username} logs in at {base}");
    let body: Value = r.json().await.expect("JSON");
    let csrf = body["csrf_token"].as_str().expect("csrf_token").to_string();
    Session {
        client,
        csrf,
        base: base.to_string(),
    }
}

impl TestApp {
    /// Logs a new client in as `username` through the API.
    pub async fn session(&self, username: &str, password: &str) -> Session {
        let client = new_client();
        let csrf = self.login_as(&client, username, password).await;
        Session {
            client,
            csrf,
            base: self.base.clone(),
        }
    }

    /// A new client logged in as `admin` (county administrator of Datong).
    pub async fn admin(&self) -> Session {
        self.session("admin", ADMIN_PASSWORD).await
    }

    /// `POST /api/v1/session` from a new client; the answer (200, 401 or 429).
    pub async fn try_login(&self, username: &str, password: &str) -> Answer {
        let r = new_client()
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("POST /api/v1/session");
        Answer::of(r).await
    }
}

impl Session {
    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Switches this client's pages to English (the language cookie), so tests can read them.
    pub async fn english(&self) {
        let a = self.get("/lang/en").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "GET /lang/en");
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        Answer::of(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// GET, expecting JSON.
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let a = self.get(path).await;
        (a.status, a.json())
    }

    /// An unsafe API call with the CSRF header and an optional JSON body.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Answer::of(req.send().await.expect("request")).await
    }

    /// `POST` a JSON body with the CSRF header.
    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let a = self.send(reqwest::Method::POST, path, Some(body)).await;
        (a.status, a.json())
    }

    /// `PATCH` a JSON body with the CSRF header.
    pub async fn patch_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let a = self.send(reqwest::Method::PATCH, path, Some(body)).await;
        (a.status, a.json())
    }

    /// `POST` a form as a page does: the fields plus the `csrf_token` field.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &self.csrf));
        Answer::of(
            self.client
                .post(self.url(path))
                .form(&form)
                .send()
                .await
                .expect("POST form"),
        )
        .await
    }
}

/// The value of the hidden `<input name="{name}" value="…">` of a page.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the page has a hidden {name} field"))
        + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

/// The text of the first `<p class="alert" …>…</p>` of a page, if any.
pub fn alert_of(html: &str) -> Option<String> {
    let start = html.find("class=\"alert\"")?;
    let start = html[start..].find('>')? + start + 1;
    let end = html[start..].find("</p>")? + start;
    Some(html[start..end].to_string())
}

/// The cells of the first sheet of an XLSX workbook, as text.
pub fn xlsx_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).expect("its first sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// The cells of an XLSX workbook's first sheet as calamine reads them (numbers stay numbers).
pub fn xlsx_data(bytes: &[u8]) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).expect("its first sheet");
    range.rows().map(<[calamine::Data]>::to_vec).collect()
}

/// What is wrong with the security headers of a response (SPEC C10: on every page), if anything.
pub fn security_header_problems(h: &reqwest::header::HeaderMap) -> Vec<String> {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut wrong = Vec::new();
    let csp = get("content-security-policy");
    if !csp.contains("default-src 'self'") || !csp.contains("frame-ancestors 'none'") || csp.contains("unsafe-inline") {
        wrong.push(format!("Content-Security-Policy {csp:?}"));
    }
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        if get(name) != value {
            wrong.push(format!("{name} {:?}", get(name)));
        }
    }
    wrong
}

/// Path of a file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Reads a fixture as text.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Counts rows of `divisions` and `division_history` (to check that nothing was written).
pub fn table_counts(conn: &mut DbConn) -> (i64, i64) {
    use ringline::db::schema::{division_history, divisions};
    let d: i64 = divisions::table.count().get_result(conn).expect("count divisions");
    let h: i64 = division_history::table.count().get_result(conn).expect("count history");
    (d, h)
}

/// The value of `name` in the `Set-Cookie` headers of `r`, with the header's attributes.
pub fn set_cookie<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

#[test]
fn database_url_replaces_only_the_database_name() {
    assert_eq!(
        database_url("postgres://postgres:postgres@127.0.0.1/postgres", "x"),
        "postgres://postgres:postgres@127.0.0.1/x"
    );
    assert_eq!(database_url("postgres://u@h:5433", "x"), "postgres://u@h:5433/x");
    assert_eq!(
        database_url("postgresql://u:p@h/db?sslmode=disable", "x"),
        "postgresql://u:p@h/x?sslmode=disable"
    );
}
