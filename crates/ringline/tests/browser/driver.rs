//! Headless Chromium driven through chromedriver (WebDriver) with fantoccini.
//!
//! - The programs are found through `RINGLINE_CHROMEDRIVER` and `RINGLINE_CHROMIUM` (paths), else
//!   on `PATH` (`chromedriver`; `chromium`, `chromium-browser` or `google-chrome`). When one is
//!   missing a test prints "skipped" and passes — except with `CI=true`, where it fails.
//! - One chromedriver serves the test process, on a free port of 127.0.0.1; it is started by
//!   the first test that needs it and stopped when the last running test closes its browser.
//! - Each test gets its own browser: a fresh profile folder, headless, at the width it asks for,
//!   in Chinese (`zh-CN`), closed (and its profile removed) when the test ends, pass or fail.

use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::app::App;

/// How long a wait for the page (an element, a navigation, a condition) may last.
const WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// The window a flow runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 1366×900, the most common office screen.
    Desktop,
    /// 390×844, a current phone held upright (CSS pixels).
    Phone,
}

impl Width {
    /// Width and height in CSS pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Width::Desktop => (1366, 900),
            Width::Phone => (390, 844),
        }
    }

    /// `desktop` or `phone`, for file names.
    pub fn name(self) -> &'static str {
        match self {
            Width::Desktop => "desktop",
            Width::Phone => "phone",
        }
    }
}

/// The two programs a browser test needs.
#[derive(Debug, Clone)]
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// `var` when set (a path), else the first of `names` found on `PATH`.
fn find_program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The programs, or `None` (after printing "skipped") when one is missing outside CI. Panics
/// when one is missing and `CI=true`: CI installs them (`.ci/run`).
fn tools() -> Option<Tools> {
    let chromedriver = find_program("RINGLINE_CHROMEDRIVER", &["chromedriver"]);
    let chromium = find_program("RINGLINE_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    match (chromedriver, chromium) {
        (Some(chromedriver), Some(chromium)) => Some(Tools { chromedriver, chromium }),
        (d, c) => {
            let missing = match (d, c) {
                (None, None) => "chromedriver and chromium",
                (None, _) => "chromedriver",
                _ => "chromium",
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{missing} not found, and CI must run the browser tests: install Debian's chromium and \
                     chromium-driver, or set RINGLINE_CHROMEDRIVER / RINGLINE_CHROMIUM"
                );
            }
            eprintln!(
                "skipped: {missing} not found (install chromium and chromium-driver, or set \
                 RINGLINE_CHROMEDRIVER / RINGLINE_CHROMIUM)"
            );
            None
        }
    }
}

/// The test process's chromedriver and how many browsers use it.
struct Shared {
    users: usize,
    running: Option<(Child, u16, tempfile::NamedTempFile)>,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    users: 0,
    running: None,
});

/// A use of the shared chromedriver; the last one dropped stops it.
struct Lease {
    port: u16,
}

impl Lease {
    /// Starts chromedriver if no test of this process runs it, and waits until it answers.
    async fn take(chromedriver: &std::path::Path) -> Lease {
        let port = {
            let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
            shared.users += 1;
            match &shared.running {
                Some((_, port, _)) => *port,
                None => match start_chromedriver(chromedriver) {
                    Ok(r) => {
                        let port = r.1;
                        shared.running = Some(r);
                        port
                    }
                    Err(e) => {
                        shared.users -= 1;
                        panic!("{e}");
                    }
                },
            }
        };
        let lease = Lease { port };
        let deadline = Instant::now() + WAIT;
        loop {
            if status_ready(port).await {
                return lease;
            }
            if Instant::now() > deadline {
                panic!(
                    "chromedriver did not answer on port {port} within {WAIT:?}: {}",
                    chromedriver_log()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        shared.users = shared.users.saturating_sub(1);
        if shared.users == 0
            && let Some((mut child, _, _)) = shared.running.take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What chromedriver wrote so far (for a failure message).
fn chromedriver_log() -> String {
    let shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    let Some((_, _, log)) = &shared.running else {
        return String::new();
    };
    let mut text = String::new();
    let _ = std::fs::File::open(log.path()).and_then(|mut f| f.read_to_string(&mut text));
    text
}

/// Starts chromedriver on a free port of 127.0.0.1, its output in a temporary file.
fn start_chromedriver(program: &std::path::Path) -> Result<(Child, u16, tempfile::NamedTempFile), String> {
    // A port the system just handed out and took back: free, unless something takes it in the
    // moment before chromedriver binds it (then chromedriver fails and the test says so).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let log = tempfile::NamedTempFile::new().map_err(|e| format!("a log file: {e}"))?;
    let out = log.reopen().map_err(|e| e.to_string())?;
    let err = log.reopen().map_err(|e| e.to_string())?;
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    Ok((child, port, log))
}

/// Whether chromedriver on `port` answers `GET /status` with `ready: true`.
async fn status_ready(port: u16) -> bool {
    let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/status")).await else {
        return false;
    };
    let Ok(v) = r.json::<Value>().await else {
        return false;
    };
    v["value"]["ready"].as_bool() == Some(true)
}

/// A browser session on the application under test.
#[derive(Clone)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// The application's base URL.
    pub base: String,
    /// The window this browser was opened at.
    pub width: Width,
    /// What Chromium draws around the page, (width, height) in CSS pixels: the window is this
    /// much larger than the page's viewport.
    frame: (u32, u32),
}

/// What a flow gets: the application and a browser on it.
#[derive(Clone)]
pub struct Ctx {
    /// The application (shared with the clean-up after the flow).
    pub app: Arc<App>,
    /// The browser.
    pub b: Browser,
}

/// Runs `flow` at `width` on a freshly spawned application, in a new browser that is closed
/// afterwards even when the flow fails (the failure is then passed on). Prints "skipped" and
/// returns when the browser programs are missing outside CI.
pub async fn run<F, Fut>(width: Width, flow: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(tools) = tools() else {
        return;
    };
    let app = Arc::new(App::spawn().await);
    let lease = Lease::take(&tools.chromedriver).await;
    let profile = tempfile::TempDir::new().expect("a profile folder");
    let (client, frame) = connect(&tools, lease.port, width, profile.path()).await;
    let b = Browser {
        client: client.clone(),
        base: app.base.clone(),
        width,
        frame,
    };
    let outcome = tokio::spawn(flow(Ctx { app: app.clone(), b })).await;
    if let Err(e) = client.close().await {
        eprintln!("warning: closing the browser: {e}");
    }
    drop(lease);
    drop(profile);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("the flow did not finish: {e}"),
        }
    }
}

/// Opens a headless Chromium through the chromedriver on `port`, at `width`, in Chinese, with a
/// fresh profile in `profile`. Returns the client and the size of the window's frame.
async fn connect(tools: &Tools, port: u16, width: Width, profile: &std::path::Path) -> (Client, (u32, u32)) {
    let (w, h) = width.size();
    let args = vec![
        "--headless".to_string(),
        // Chromium runs as root on the build machines.
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        // No connection beyond the application: on a closed network Chromium's own (updates,
        // sync, QUIC probes) are refused and slow it down.
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        "--lang=zh-CN".into(),
        format!("--window-size={w},{h}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": tools.chromium.display().to_string(),
            "args": args,
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| panic!("chromedriver opens a Chromium session: {e}\n{}", chromedriver_log()));
    // The window's size includes what Chromium draws around the page (even headless): make
    // the page itself (the viewport) exactly w × h.
    let viewport = || async {
        let v = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("the window's size");
        (v[0].as_u64().unwrap_or(0) as u32, v[1].as_u64().unwrap_or(0) as u32)
    };
    client.set_window_size(w, h).await.expect("sets the window size");
    let (iw, ih) = viewport().await;
    let frame = (w.saturating_sub(iw), h.saturating_sub(ih));
    client
        .set_window_size(w + frame.0, h + frame.1)
        .await
        .expect("sets the window size");
    let inner = viewport().await;
    assert_eq!(inner, (w, h), "the page gets the whole window");
    (client, frame)
}

/// Whether `e` is worth another look (the page changed under the command).
fn transient(e: &fantoccini::error::CmdError) -> bool {
    use fantoccini::error::{CmdError, ErrorStatus};
    matches!(e, CmdError::Standard(w) if matches!(
        w.error,
        ErrorStatus::NoSuchElement | ErrorStatus::StaleElementReference | ErrorStatus::JavascriptError
    ))
}

impl Browser {
    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` and waits until it has loaded.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.wait_loaded().await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Waits until `check` answers `Some`, looking again every [`POLL`]; panics with `what`
    /// after [`WAIT`].
    pub async fn wait_until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = check().await {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what}; the page is {} at {}",
                    self.path().await,
                    self.width.name()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the document has loaded.
    async fn wait_loaded(&self) {
        self.wait_until("the page to load", move || async move {
            match self.client.execute("return document.readyState", vec![]).await {
                Ok(v) if v == "complete" => Some(()),
                _ => None,
            }
        })
        .await;
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        match self.client.current_url().await {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            },
            Err(e) => format!("(unknown: {e})"),
        }
    }

    /// The first element matching `css`, waiting until there is one.
    pub async fn find(&self, css: &str) -> Element {
        self.wait_until(&format!("an element {css}"), move || async move {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => Some(e),
                Err(e) if transient(&e) => None,
                Err(e) => panic!("finding {css}: {e}"),
            }
        })
        .await
    }

    /// Every element matching `css` now (none is no error).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding {css}: {e}"))
    }

    /// Whether an element matches `css` now.
    pub async fn has(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The visible text of the first element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        self.wait_until(&format!("the text of {css}"), move || async move {
            let e = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e,
                Err(e) if transient(&e) => return None,
                Err(e) => panic!("finding {css}: {e}"),
            };
            match e.text().await {
                Ok(t) => Some(t),
                Err(e) if transient(&e) => None,
                Err(e) => panic!("reading {css}: {e}"),
            }
        })
        .await
    }

    /// The texts of every element matching `css` now.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(e.text().await.unwrap_or_else(|e| panic!("reading {css}: {e}")));
        }
        out
    }

    /// The current value of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        e.prop("value")
            .await
            .unwrap_or_else(|e| panic!("the value of {css}: {e}"))
            .unwrap_or_default()
    }

    /// Types `text` into the field matching `css`, after emptying it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Types the date `y-m-d` into the date field matching `css` with the keyboard, as a person
    /// does: the field emptied, then the year, month and day in the order the browser shows
    /// them (its locale's, as `Intl.DateTimeFormat` reports it). Month and day move on after two
    /// digits; the year takes up to six, so an arrow key moves on from it. Checks that the field
    /// took the date.
    pub async fn type_date(&self, css: &str, y: i32, m: u32, d: u32) {
        let order = self
            .js(
                "return new Intl.DateTimeFormat(undefined, {year: 'numeric', month: '2-digit', day: '2-digit'})
                   .formatToParts(new Date(2027, 2, 1)).filter(p => p.type !== 'literal').map(p => p.type);",
                vec![],
            )
            .await;
        let right = char::from(fantoccini::key::Key::Right);
        let mut keys = String::new();
        for part in order.as_array().expect("the date's parts") {
            match part.as_str() {
                Some("year") => keys.push_str(&format!("{y:04}{right}")),
                Some("month") => keys.push_str(&format!("{m:02}")),
                Some("day") => keys.push_str(&format!("{d:02}")),
                other => panic!("a date part {other:?}"),
            }
        }
        let e = self.find(css).await;
        e.clear().await.unwrap_or_else(|err| panic!("clearing {css}: {err}"));
        e.send_keys(&keys)
            .await
            .unwrap_or_else(|err| panic!("typing into {css}: {err}"));
        assert_eq!(
            self.value(css).await,
            format!("{y:04}-{m:02}-{d:02}"),
            "{css} took the date (parts typed in the order {order})"
        );
    }

    /// Chooses the option of value `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value:?} in {css}: {e}"));
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Clicks the element matching `css` (a link or a submit button) and waits until the next
    /// page has loaded.
    pub async fn click_to_next_page(&self, css: &str) {
        let e = self.find(css).await;
        self.follow(&e, css).await;
    }

    /// Clicks the first element matching `css` whose text contains `text`, and waits until the
    /// next page has loaded.
    pub async fn click_text_to_next_page(&self, css: &str, text: &str) {
        let e = self.with_text(css, text).await;
        self.follow(&e, &format!("{css} {text:?}")).await;
    }

    /// The first element matching `css` whose text contains `text`, waiting until there is one.
    pub async fn with_text(&self, css: &str, text: &str) -> Element {
        self.wait_until(&format!("{css} showing {text:?}"), move || async move {
            for e in self.client.find_all(Locator::Css(css)).await.ok()? {
                if e.text().await.ok()?.contains(text) {
                    return Some(e);
                }
            }
            None
        })
        .await
    }

    /// Clicks `e` and waits until the next page has loaded: the current document is marked,
    /// and the wait ends once a document without the mark is complete.
    async fn follow(&self, e: &Element, what: &str) {
        self.js("window.__ringlineOld = true;", vec![]).await;
        e.click().await.unwrap_or_else(|err| panic!("clicking {what}: {err}"));
        self.wait_until(&format!("the page after clicking {what}"), move || async move {
            match self
                .client
                .execute(
                    "return window.__ringlineOld !== true && document.readyState === 'complete';",
                    vec![],
                )
                .await
            {
                Ok(Value::Bool(true)) => Some(()),
                _ => None,
            }
        })
        .await;
    }

    /// Waits until the page's path (and query) satisfies `check`; returns it.
    pub async fn wait_path(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let check = &check;
        self.wait_until(what, move || async move {
            let p = self.path().await;
            check(&p).then_some(p)
        })
        .await
    }

    /// `(document width, window width)`: `document.documentElement.scrollWidth` and
    /// `window.innerWidth`, in CSS pixels.
    pub async fn widths(&self) -> (u64, u64) {
        let v = self
            .js(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await;
        (v[0].as_u64().unwrap_or(u64::MAX), v[1].as_u64().unwrap_or(0))
    }

    /// What is wrong when the page is wider than the window (the page itself would scroll
    /// sideways; a wide table may scroll inside its own box): the widths, the elements that
    /// stick out and a screenshot. `None` when it fits.
    pub async fn overflow(&self) -> Option<String> {
        let (doc, win) = self.widths().await;
        if doc <= win {
            return None;
        }
        let culprits = self
            .js(
                "const w = window.innerWidth; const out = [];
                 for (const e of document.body.querySelectorAll('*')) {
                   const r = e.getBoundingClientRect();
                   if (r.right > w + 0.5 && out.length < 8) {
                     out.push(e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).replace(/ /g, '.') : '')
                       + ' right=' + Math.round(r.right));
                   }
                 }
                 return out;",
                vec![],
            )
            .await;
        let path = self.path().await;
        let name: String = path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let shot = self.save_screenshot(&format!("too-wide{name}")).await;
        Some(format!(
            "{path} is {doc} px wide in a {win} px window ({}); sticking out: {culprits}; screenshot {}",
            self.width.name(),
            shot.display()
        ))
    }

    /// Asserts that the page is no wider than the window (see [`Browser::overflow`]).
    pub async fn assert_fits(&self) {
        if let Some(wrong) = self.overflow().await {
            panic!("{wrong}");
        }
    }

    /// A screenshot of the page's first two screens (the window made as tall as the page, at
    /// most twice its height, then put back), written as `<name>-<width>.png` into the folder of `RINGLINE_SCREENSHOTS`
    /// or else `ringline-screenshots` in the system's temporary folder. Returns the file's path.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let (w, h) = self.width.size();
        let height = self
            .js("return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(u64::from(h))
            .clamp(u64::from(h), 2 * u64::from(h));
        let (fw, fh) = self.frame;
        let _ = self.client.set_window_size(w + fw, height as u32 + fh).await;
        let png = self.client.screenshot().await;
        let _ = self.client.set_window_size(w + fw, h + fh).await;
        let png = png.unwrap_or_else(|e| panic!("a screenshot: {e}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let path = dir.join(format!("{name}-{}.png", self.width.name()));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }
}

/// Where screenshots go: `RINGLINE_SCREENSHOTS`, else `ringline-screenshots` in the system's
/// temporary folder.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("RINGLINE_SCREENSHOTS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ringline-screenshots"))
}
