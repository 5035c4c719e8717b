//! Importing registry records on the web (SPEC C8, import part): templates to download, an
//! upload form, a dry run that runs in the background with a progress bar, the report (every
//! problem with its row and column, in the page language), the rows with errors as XLSX, and
//! the apply step. Also the JSON API's synchronous import.
//!
//! A job lives in this instance's memory (with the uploaded file in the instance's private
//! uploads folder, [`super::uploads`]) for [`JOB_TTL`]; behind a load balancer the job pages need sticky sessions. Only the user who
//! uploaded a file sees its job. The job page refreshes itself (`<meta http-equiv="refresh">`),
//! so the progress bar needs no JavaScript.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Chrome, error_page, html};
use super::{AppError, AppState, Guard, PageUser, Route, route};
use crate::access::{Access, Permission};
use crate::i18n::Tr;
use crate::import::framework::{self, OnExisting, Options, Report, Sheet, Stage};
use crate::import::{Issue, spec, workbook};

/// Largest uploaded file (bytes): 64 MiB, enough for 500,000 member rows as XLSX.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;
/// How long a finished job and its file are kept.
pub const JOB_TTL: Duration = Duration::from_secs(3600);
/// Problems listed on the report page (all of them are in the XLSX).
const SHOWN_ISSUES: usize = 500;

/// Import routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Perm};
    use Method as M;
    let imp = Perm(Permission::Import);
    vec![
        route(M::GET, "/import", imp, get(import_page)),
        route(M::POST, "/import", imp, post(upload)),
        route(M::GET, "/import/templates/{file}", Login, get(template)),
        route(M::GET, "/import/jobs/{id}", imp, get(job_page)),
        route(M::GET, "/import/jobs/{id}/errors.xlsx", imp, get(job_errors_xlsx)),
        route(M::POST, "/import/jobs/{id}/apply", imp, post(job_apply)),
        route(M::POST, "/import/jobs/{id}/sheet", imp, post(job_sheet)),
        route(M::GET, "/import/runs", imp, get(runs_page)),
        route(M::GET, "/import/runs/{id}", imp, get(run_page)),
        route(M::POST, "/import/runs/{id}/undo", imp, post(run_undo)),
        route(M::GET, "/api/v1/import/runs", imp, get(api_runs)),
        route(M::POST, "/api/v1/import/runs/{id}/undo", imp, post(api_undo)),
        route(
            M::POST,
            "/api/v1/import/{kind}",
            imp,
            post(api_import).layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        ),
        route(M::GET, "/api/v1/import/templates/{file}", Login, get(template)),
    ]
}

/// Where a job is.
#[derive(Debug, Clone)]
enum JobState {
    /// Waiting for the import running before it (one at a time per instance).
    Queued,
    Running {
        stage: Stage,
        done: usize,
        total: usize,
    },
    Done(Box<Report>),
    /// The apply found the records changed by another import since the dry run, wrote nothing,
    /// and checked the file again: this is the new dry run's report.
    Rechecked(Box<Report>),
    /// The run stopped (`"busy"` or an internal error); the dry run's report, if any, is kept so
    /// that the apply can be tried again.
    Failed(String, Option<Box<Report>>),
}

#[derive(Debug)]
struct Job {
    user_id: i64,
    kind: &'static spec::KindSpec,
    file: PathBuf,
    name: String,
    on_existing: OnExisting,
    /// The sheet to read (`None`: the first visible one).
    sheet_name: Arc<Mutex<Option<String>>>,
    state: Arc<Mutex<JobState>>,
    sheet: Arc<Mutex<Option<Sheet>>>,
    created: Instant,
}

/// Unfinished import jobs one user may have at a time.
pub const JOBS_PER_USER: usize = 3;

/// The import jobs of this instance, and the uploads' private folder.
#[derive(Debug)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    /// Held while an import runs: imports run one at a time per instance, so they never take
    /// more than one database connection from the pages (SQLite also has only one writer).
    running: Arc<Mutex<()>>,
    /// The uploads: this instance's folder in the data folder, created on first use, readable
    /// by this process's user only, removed when the server stops (or, after a crash, when an
    /// instance starts).
    uploads: super::uploads::Uploads,
}

impl Jobs {
    /// No jobs yet; uploads go to this instance's folder under `uploads` (see
    /// [`super::uploads`]).
    pub fn new(uploads: PathBuf) -> Jobs {
        Jobs {
            jobs: Mutex::default(),
            running: Arc::default(),
            uploads: super::uploads::Uploads::new(uploads),
        }
    }

    /// Removes the uploads left by instances that no longer run (see
    /// [`super::uploads::Uploads::remove_leftovers`]); how many instances left some.
    ///
    /// # Errors
    /// The uploads folder cannot be read or cleaned.
    pub fn remove_leftovers(&self) -> std::io::Result<usize> {
        self.uploads.remove_leftovers()
    }

    /// Forgets jobs older than [`JOB_TTL`] and deletes their files.
    fn sweep(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.retain(|_, j| {
                let keep = j.created.elapsed() < JOB_TTL;
                if !keep {
                    let _ = std::fs::remove_file(&j.file);
                }
                keep
            });
        }
    }

    /// The private upload folder.
    fn dir(&self) -> std::io::Result<PathBuf> {
        self.uploads.dir()
    }

    /// Unfinished jobs of a user.
    fn open_jobs(&self, user_id: i64) -> usize {
        self.jobs.lock().map_or(0, |jobs| {
            jobs.values()
                .filter(|j| j.user_id == user_id)
                .filter(|j| {
                    matches!(
                        j.state.lock().map(|s| s.clone()),
                        Ok(JobState::Queued | JobState::Running { .. })
                    )
                })
                .count()
        })
    }
}

/// Writes an upload readable by this process's user only.
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    super::uploads::create_private(path)?.write_all(data)
}

fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    kinds: Vec<(&'static str, String)>,
    error: Option<String>,
}

async fn import_page(u: PageUser) -> Response {
    page(&u, None)
}

fn page(u: &PageUser, error: Option<String>) -> Response {
    let t = u.t;
    html(&ImportPage {
        c: Chrome::of(u),
        kinds: spec::kinds()
            .iter()
            .map(|k| (k.key, k.name(t.lang().code()).to_string()))
            .collect(),
        error,
    })
}

/// Path of a template: `/import/templates/members.xlsx?lang=en`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TemplatePath {
    /// `KIND.xlsx` (or `KIND`), e.g. `members.xlsx`.
    #[param(schema_with = super::openapi::template_file_param)]
    pub file: String,
}

/// Query of a template.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// `zh-CN` or `en`; default: the page language.
    pub lang: Option<String>,
}

/// The import template of a kind as XLSX (`units.xlsx`, `orgs.xlsx`, `members.xlsx`, and the
/// dispatch and economy kinds), with Chinese or English headers.
#[utoipa::path(
    get,
    path = "/api/v1/import/templates/{file}",
    params(TemplatePath, TemplateQuery),
    responses((status = 200, description = "The template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404))
)]
pub async fn template(
    u: PageUser,
    Path(TemplatePath { file }): Path<TemplatePath>,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, AppError> {
    let key = file.strip_suffix(".xlsx").unwrap_or(&file);
    let kind = spec::kind(key).ok_or(AppError::NotFound)?;
    let lang = match q.lang.as_deref() {
        Some(l) if l.starts_with("en") => "en",
        Some(l) if l.starts_with("zh") => "zh-CN",
        _ => u.t.lang().code(),
    };
    let bytes = workbook::template(kind, lang).map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("{}-template.xlsx", kind.key);
    Ok(xlsx_response(bytes, &name))
}

fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The parts of a `multipart/form-data` body: `(name, file name, bytes)`.
///
/// # Errors
/// A message when the body is not valid multipart.
pub async fn multipart_fields(content_type: &str, body: Bytes) -> Result<Vec<(String, Option<String>, Bytes)>, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| e.to_string())?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or("").to_string();
        let file = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| e.to_string())?;
        out.push((name, file, data));
    }
    Ok(out)
}

/// Most characters kept of an uploaded file name (shown in reports and job pages).
const NAME_MAX: usize = 120;

/// Keeps the last path component of an uploaded file name, without control characters. A name
/// longer than [`NAME_MAX`] characters is shortened in the middle, so its extension — which says
/// how to read the file — survives: `很长的名字…2025年.xlsx`.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: Vec<char> = base.chars().filter(|c| !c.is_control()).collect();
    if clean.iter().collect::<String>().trim().is_empty() {
        return "upload".into();
    }
    if clean.len() <= NAME_MAX {
        return clean.into_iter().collect();
    }
    // The tail kept: the recognised extension, else the last dot's, else nothing; at most 20
    // characters, and a few characters of the name before it.
    let full: String = clean.iter().collect();
    let ext_len = extension(&full)
        .map(|e| e.chars().count())
        .or_else(|| full.rfind('.').map(|i| full[i..].chars().count()))
        .filter(|n| *n <= 20)
        .unwrap_or(0);
    let tail = ext_len + 8;
    let head = NAME_MAX - 1 - tail;
    let mut out: String = clean[..head].iter().collect();
    out.push('…');
    out.extend(&clean[clean.len() - tail..]);
    out
}

/// The extension the readers understand, from the uploaded name.
fn extension(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    [".csv.gz", ".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"]
        .into_iter()
        .find(|e| lower.ends_with(e))
}

async fn upload(State(state): State<AppState>, u: PageUser, req: Request) -> Response {
    let t = u.t;
    upload_inner(State(state), u, req)
        .await
        .unwrap_or_else(|e| error_page(t, e))
}

async fn upload_inner(State(state): State<AppState>, u: PageUser, req: Request) -> Result<Response, AppError> {
    let t = u.t;
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(req.into_body(), UPLOAD_LIMIT).await.map_err(|e| {
        // The body stopped arriving (`Config::body_timeout_secs`), or it is too large.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if c.is::<tower_http::timeout::TimeoutError>() {
                return AppError::BadRequest {
                    code: "upload-stalled",
                    message: t.get("import-stalled"),
                };
            }
            cause = c.source();
        }
        AppError::BadRequest {
            code: "upload-too-large",
            message: t.args("import-too-large", &[("mb", (UPLOAD_LIMIT / 1024 / 1024).to_string())]),
        }
    })?;
    let fields = match multipart_fields(&ct, body).await {
        Ok(f) => f,
        Err(_) => return Ok(page(&u, Some(t.get("import-no-file")))),
    };
    let field = |n: &str| {
        fields
            .iter()
            .find(|(k, _, _)| k == n)
            .map(|(_, _, v)| String::from_utf8_lossy(v).to_string())
    };
    let Some(kind) = field("kind").and_then(|k| spec::kind(&k)) else {
        return Ok(page(&u, Some(t.get("import-choose-kind"))));
    };
    let on_existing = match field("on_existing").as_deref() {
        Some("update") => OnExisting::Update,
        _ => OnExisting::Skip,
    };
    let sheet_name = field("sheet").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let Some((_, Some(fname), data)) = fields
        .iter()
        .find(|(k, f, d)| k == "file" && f.is_some() && !d.is_empty())
    else {
        return Ok(page(&u, Some(t.get("import-no-file"))));
    };
    let name = safe_name(fname);
    let Some(ext) = extension(&name) else {
        return Ok(page(&u, Some(t.args("import-unknown-type", &[("file", name)]))));
    };
    let jobs = state.jobs.clone();
    jobs.sweep();
    if jobs.open_jobs(u.user.user_id) >= JOBS_PER_USER {
        return Ok(page(
            &u,
            Some(t.args("import-too-many-jobs", &[("count", JOBS_PER_USER.to_string())])),
        ));
    }
    let dir = jobs
        .dir()
        .map_err(|e| AppError::Internal(format!("upload folder: {e}")))?;
    let id = new_id();
    let path = dir.join(format!("{id}{ext}"));
    let data = data.clone();
    let p = path.clone();
    tokio::task::spawn_blocking(move || write_private(&p, &data))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("saving the upload: {e}")))?;
    let job = Job {
        user_id: u.user.user_id,
        kind,
        file: path,
        name,
        on_existing,
        sheet_name: Arc::new(Mutex::new(sheet_name)),
        state: Arc::new(Mutex::new(JobState::Queued)),
        sheet: Arc::new(Mutex::new(None)),
        created: Instant::now(),
    };
    start(&state, &u.access, &job, false, false);
    if let Ok(mut j) = jobs.jobs.lock() {
        j.insert(id.clone(), job);
    }
    Ok(Redirect::to(&format!("/import/jobs/{id}")).into_response())
}

/// Runs a dry run or an apply of `job` in the background; `confirm` applies the updates that
/// need the user's confirmation too.
fn start(state: &AppState, access: &Access, job: &Job, apply: bool, confirm: bool) {
    let db = state.db.clone();
    let access = access.clone();
    let (kind, file, name, on_existing) = (job.kind, job.file.clone(), job.name.clone(), job.on_existing);
    let chosen = job.sheet_name.lock().map(|s| s.clone()).unwrap_or(None);
    let st = job.state.clone();
    let sheet_slot = job.sheet.clone();
    let running = state.jobs.running.clone();
    let dry_report = match st.lock().map(|s| s.clone()) {
        Ok(JobState::Done(r) | JobState::Rechecked(r) | JobState::Failed(_, Some(r))) => Some(r),
        _ => None,
    };
    // The apply writes only what the person saw in the dry run.
    let expected = dry_report.as_ref().map(|r| r.counts());
    if let Ok(mut s) = st.lock() {
        *s = JobState::Queued;
    }
    tokio::task::spawn_blocking(move || {
        let set = |s: JobState| {
            if let Ok(mut g) = st.lock() {
                *g = s;
            }
        };
        // One import at a time; the connection is taken only once it is this job's turn.
        let _turn = running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        set(JobState::Running {
            stage: if apply { Stage::Writing } else { Stage::Reading },
            done: 0,
            total: 0,
        });
        let mut progress = |stage: Stage, done: usize, total: usize| set(JobState::Running { stage, done, total });
        let mut rechecked = false;
        let result = db.conn().map_err(|e| e.to_string()).and_then(|mut conn| {
            let mut run = |apply: bool| {
                framework::import_file_sheet(
                    &mut conn,
                    &access,
                    kind,
                    &file,
                    &name,
                    chosen.as_deref(),
                    Options {
                        on_existing,
                        apply,
                        illustrative: false,
                        expected: if apply { expected } else { None },
                        confirm: apply && confirm,
                    },
                    &mut progress,
                )
            };
            let outcome = match run(apply) {
                // Another import wrote some of these records since the dry run: check again,
                // so the page shows what an apply would now do.
                Err(framework::ImportError::Changed) => {
                    rechecked = true;
                    run(false)
                }
                other => other,
            };
            outcome.map_err(|e| match e {
                framework::ImportError::Db(d) if d.is_busy() => "busy".to_string(),
                other => other.to_string(),
            })
        });
        match result {
            Ok((report, sheet)) => {
                // Keep only what the error workbook needs: the header and the rows with errors.
                let sheet = sheet.filter(|_| !report.errors.is_empty()).map(|mut sh| {
                    let bad: std::collections::HashSet<usize> = report.errors.iter().map(|i| i.line).collect();
                    sh.rows.retain(|r| bad.contains(&r.line));
                    sh
                });
                if let Ok(mut s) = sheet_slot.lock() {
                    *s = sheet;
                }
                // The file is needed again to apply a dry run or to read another of its sheets;
                // after an apply (or when the job expires) it goes.
                if report.applied || (!report.errors.is_empty() && report.sheets.len() < 2) {
                    let _ = std::fs::remove_file(&file);
                }
                set(if rechecked {
                    JobState::Rechecked(Box::new(report))
                } else {
                    JobState::Done(Box::new(report))
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "import job failed");
                set(JobState::Failed(e, dry_report));
            }
        }
    });
}

/// One problem as shown on the page.
struct ShownIssue {
    line: usize,
    /// The header as written, with the sheet column's letter: `手机号 (E)`.
    column: String,
    value: String,
    message: String,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    c: Chrome,
    id: String,
    kind: String,
    file: String,
    running: bool,
    stage: String,
    done: usize,
    total: usize,
    failed: Option<String>,
    report: Option<Report>,
    errors: Vec<ShownIssue>,
    warnings: Vec<ShownIssue>,
    more_errors: usize,
    headline: String,
    more_text: String,
    can_apply: bool,
    on_existing: String,
    /// Updates to confirm, as shown.
    confirm: Vec<ShownIssue>,
    /// Other sheets of the workbook that can be read instead.
    other_sheets: Vec<String>,
    /// The rows matching stored records that differ, with their fields' stored → new values.
    changes: Vec<crate::kind::import::RowChange>,
}

/// An issue's message in the page language (see [`Issue::text`]).
fn shown(t: Tr, issues: &[Issue]) -> Vec<ShownIssue> {
    issues
        .iter()
        .take(SHOWN_ISSUES)
        .map(|i| ShownIssue {
            line: i.line,
            column: if i.cell.is_empty() {
                i.column.clone()
            } else {
                format!("{} ({})", i.column, i.cell)
            },
            value: crate::import::shorten(&i.value, 60),
            message: i.text(t),
        })
        .collect()
}

fn job_of<T>(state: &AppState, u: &PageUser, id: &str, f: impl FnOnce(&Job) -> T) -> Result<T, AppError> {
    let jobs = state
        .jobs
        .jobs
        .lock()
        .map_err(|_| AppError::Internal("job table poisoned".into()))?;
    match jobs.get(id) {
        Some(j) if j.user_id == u.user.user_id => Ok(f(j)),
        _ => Err(AppError::NotFound),
    }
}

async fn job_page(State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let t = u.t;
    job_page_inner(State(state), u, Path(id))
        .await
        .unwrap_or_else(|e| error_page(t, e))
}

async fn job_page_inner(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = u.t;
    let (kind, name, st, on_existing) = job_of(&state, &u, &id, |j| {
        (
            j.kind,
            j.name.clone(),
            j.state
                .lock()
                .map(|s| s.clone())
                .unwrap_or(JobState::Failed("poisoned".into(), None)),
            j.on_existing,
        )
    })?;
    let mut p = JobPage {
        c: Chrome::of(&u),
        id: id.clone(),
        kind: kind.name(t.lang().code()).to_string(),
        file: name,
        running: false,
        stage: String::new(),
        done: 0,
        total: 0,
        failed: None,
        report: None,
        errors: Vec::new(),
        warnings: Vec::new(),
        more_errors: 0,
        headline: String::new(),
        more_text: String::new(),
        can_apply: false,
        on_existing: t.get(match on_existing {
            OnExisting::Update => "import-on-existing-update",
            OnExisting::Skip => "import-on-existing-skip",
        }),
        confirm: Vec::new(),
        other_sheets: Vec::new(),
        changes: Vec::new(),
    };
    let show_report = |p: &mut JobPage, r: Report| {
        p.errors = shown(t, &r.errors);
        p.warnings = shown(t, &r.warnings);
        p.confirm = shown(t, &r.confirm);
        p.changes = r.changes.clone();
        if !r.applied {
            p.other_sheets = r
                .sheets
                .iter()
                .filter(|s| Some(s.as_str()) != r.sheet.as_deref())
                .cloned()
                .collect();
        }
        p.more_errors = r.errors.len().saturating_sub(SHOWN_ISSUES);
        p.headline = t.args("import-has-errors", &[("count", r.errors.len().to_string())]);
        p.more_text = t.args("import-more-errors", &[("count", p.more_errors.to_string())]);
        p.can_apply = r.ok() && !r.applied && r.new + r.updated > 0;
        p.report = Some(r);
    };
    match st {
        JobState::Queued => {
            p.running = true;
            p.stage = t.get("import-stage-queued");
        }
        JobState::Running { stage, done, total } => {
            p.running = true;
            p.stage = t.get(match stage {
                Stage::Reading => "import-stage-reading",
                Stage::Checking => "import-stage-checking",
                Stage::Writing => "import-stage-writing",
            });
            p.done = done;
            p.total = total;
        }
        JobState::Failed(e, dry) => {
            p.failed = Some(if e == "busy" {
                t.get("error-busy")
            } else {
                t.get("import-failed")
            });
            // A failed apply keeps its dry run: it can be tried again.
            if let Some(r) = dry {
                show_report(&mut p, *r);
            }
        }
        JobState::Done(r) => show_report(&mut p, *r),
        JobState::Rechecked(r) => {
            p.failed = Some(t.get("import-changed"));
            show_report(&mut p, *r);
        }
    }
    Ok(html(&p))
}

async fn job_errors_xlsx(State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Response {
    let t = u.t;
    job_errors_xlsx_inner(State(state), u, Path(id))
        .await
        .unwrap_or_else(|e| error_page(t, e))
}

async fn job_errors_xlsx_inner(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = u.t;
    let (st, sheet) = job_of(&state, &u, &id, |j| (j.state.clone(), j.sheet.clone()))?;
    let report = match st.lock().map(|s| s.clone()) {
        Ok(JobState::Done(r) | JobState::Rechecked(r)) => r,
        _ => return Err(AppError::NotFound),
    };
    let sheet = sheet.lock().map(|s| s.clone()).unwrap_or(None);
    // Writing a workbook of many rows takes a while: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || {
        let empty = Vec::new();
        let source = workbook::ErrorSource {
            file: &report.file,
            sheet: report.sheet.as_deref(),
            headers: sheet.as_ref().map_or(&empty, |s| &s.headers),
            rows: sheet.as_ref().map_or(&[][..], |s| &s.rows[..]),
        };
        workbook::error_workbook(&source, &report.errors, &|i: &Issue| i.text(t), t.lang().code())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx_response(bytes, "errors.xlsx"))
}

/// The apply form: `confirm_updates=on` when the person ticked the box confirming the updates
/// listed for confirmation.
#[derive(Debug, Deserialize)]
struct ApplyForm {
    #[serde(default)]
    confirm_updates: Option<String>,
}

async fn job_apply(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ApplyForm>,
) -> Response {
    let t = u.t;
    job_apply_inner(State(state), u, Path(id), form.confirm_updates.is_some())
        .await
        .unwrap_or_else(|e| error_page(t, e))
}

async fn job_apply_inner(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    confirm: bool,
) -> Result<Response, AppError> {
    let ready = {
        let jobs = state
            .jobs
            .jobs
            .lock()
            .map_err(|_| AppError::Internal("job table poisoned".into()))?;
        match jobs.get(&id) {
            Some(j) if j.user_id == u.user.user_id => {
                let (ok, unconfirmed) = match j.state.lock().map(|s| s.clone()) {
                    Ok(JobState::Done(r) | JobState::Rechecked(r) | JobState::Failed(_, Some(r))) => {
                        (r.ok() && !r.applied, !confirm && !r.confirm.is_empty())
                    }
                    _ => (false, false),
                };
                if unconfirmed {
                    return Err(AppError::BadRequest {
                        code: "import-confirm-needed",
                        message: u.t.get("import-confirm-needed"),
                    });
                }
                if ok {
                    start(&state, &u.access, j, true, confirm);
                }
                ok
            }
            _ => return Err(AppError::NotFound),
        }
    };
    if !ready {
        return Err(AppError::BadRequest {
            code: "import-not-ready",
            message: u.t.get("import-not-ready"),
        });
    }
    Ok(Redirect::to(&format!("/import/jobs/{id}")).into_response())
}

/// The sheet form of a job page: which sheet of the workbook to read instead.
#[derive(Debug, Deserialize)]
struct SheetForm {
    sheet: String,
}

/// Checks the job's file again, reading the sheet chosen on the job page.
async fn job_sheet(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<SheetForm>,
) -> Response {
    let t = u.t;
    let result = (|| {
        let jobs = state
            .jobs
            .jobs
            .lock()
            .map_err(|_| AppError::Internal("job table poisoned".into()))?;
        let j = match jobs.get(&id) {
            Some(j) if j.user_id == u.user.user_id => j,
            _ => return Err(AppError::NotFound),
        };
        let report = match j.state.lock().map(|s| s.clone()) {
            Ok(JobState::Done(r) | JobState::Rechecked(r) | JobState::Failed(_, Some(r))) => r,
            _ => return Err(not_ready(t)),
        };
        if report.applied || !report.sheets.contains(&form.sheet) || !j.file.exists() {
            return Err(not_ready(t));
        }
        if let Ok(mut s) = j.sheet_name.lock() {
            *s = Some(form.sheet.clone());
        }
        start(&state, &u.access, j, false, false);
        Ok(Redirect::to(&format!("/import/jobs/{id}")).into_response())
    })();
    result.unwrap_or_else(|e| error_page(t, e))
}

fn not_ready(t: Tr) -> AppError {
    AppError::BadRequest {
        code: "import-not-ready",
        message: t.get("import-not-ready"),
    }
}

/// An applied import as listed.
struct ShownRun {
    run: crate::kind::import::Run,
    kind: String,
    applied: String,
    undone: String,
}

fn shown_run(t: Tr, run: crate::kind::import::Run) -> ShownRun {
    let at = |d: chrono::NaiveDateTime| crate::clock::in_china(d).format("%Y-%m-%d %H:%M").to_string();
    ShownRun {
        kind: crate::kind::KindId::parse(&run.kind).map_or_else(|| run.kind.clone(), |k| k.desc().name(t)),
        applied: at(run.applied_at),
        undone: run.undone_at.map(at).unwrap_or_default(),
        run,
    }
}

#[derive(Template)]
#[template(path = "import_runs.html")]
struct RunsPage {
    c: Chrome,
    runs: Vec<ShownRun>,
}

/// The applied imports the user may undo, newest first.
async fn runs_page(State(state): State<AppState>, u: PageUser) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let runs = state
        .db
        .run(move |conn| crate::kind::import::runs(conn, &access, 200))
        .await;
    match runs {
        Ok(runs) => html(&RunsPage {
            c: Chrome::of(&u),
            runs: runs.into_iter().map(|r| shown_run(t, r)).collect(),
        }),
        Err(e) => error_page(t, e.into()),
    }
}

#[derive(Template)]
#[template(path = "import_run.html")]
struct RunPage {
    c: Chrome,
    r: ShownRun,
    records: i64,
    created: i64,
    done: Option<String>,
    refused: Option<String>,
}

/// One applied import and the form that undoes it (the confirmation step).
async fn run_page(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    run_page_with(&state, &u, id, None, None).await
}

async fn run_page_with(
    state: &AppState,
    u: &PageUser,
    id: i64,
    done: Option<String>,
    refused: Option<String>,
) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let found = state
        .db
        .run(move |conn| -> crate::db::DbResult<_> {
            let Some(run) = crate::kind::import::run_record(conn, &access, id)? else {
                return Ok(None);
            };
            let (records, created) = crate::kind::import::run_size(conn, id)?;
            Ok(Some((run, records, created)))
        })
        .await;
    match found {
        Ok(Some((run, records, created))) => html(&RunPage {
            c: Chrome::of(u),
            r: shown_run(t, run),
            records,
            created,
            done,
            refused,
        }),
        Ok(None) => error_page(t, AppError::NotFound),
        Err(e) => error_page(t, e.into()),
    }
}

/// Undoes an applied import (the form on its page).
async fn run_undo(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let result = state
        .db
        .run(move |conn| Ok::<_, crate::db::DbError>(crate::kind::import::undo(conn, &access, id)))
        .await;
    match result {
        Ok(Ok(_)) => run_page_with(&state, &u, id, Some(t.get("import-undone")), None).await,
        Ok(Err(crate::kind::WriteError::Conflict(key, message))) => {
            let text = t.try_args(&format!("error-{key}"), &[]).unwrap_or(message);
            run_page_with(&state, &u, id, None, Some(text)).await
        }
        Ok(Err(e)) => error_page(t, AppError::from(e)),
        Err(e) => error_page(t, e.into()),
    }
}

/// The applied imports the caller may see and undo, newest first (at most 200).
#[utoipa::path(
    get,
    path = "/api/v1/import/runs",
    responses((status = 200, description = "Applied imports", body = Vec<crate::kind::import::Run>), (status = 403))
)]
pub async fn api_runs(State(state): State<AppState>, u: PageUser) -> Result<Response, AppError> {
    let access = u.access.clone();
    let runs = state
        .db
        .run(move |conn| crate::kind::import::runs(conn, &access, 200))
        .await?;
    Ok(Json(runs).into_response())
}

/// Undoes an applied import: removes the records it created and puts back the values it
/// replaced, in one transaction — refused (409) when any of its records changed since.
#[utoipa::path(
    post,
    path = "/api/v1/import/runs/{id}/undo",
    params(("id" = i64, Path, description = "The import's number (`run_id` of the report)")),
    responses((status = 200, description = "Undone", body = crate::kind::import::Run), (status = 403), (status = 404),
        (status = 409, description = "`import-undone-already`, `import-undo-changed` or `import-undo-referenced`", body = super::ErrorBody))
)]
pub async fn api_undo(State(state): State<AppState>, u: PageUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    let access = u.access.clone();
    let run = state
        .db
        .run(move |conn| Ok::<_, crate::db::DbError>(crate::kind::import::undo(conn, &access, id)))
        .await??;
    Ok(Json(run).into_response())
}

/// Path of the API import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ApiImportPath {
    /// The kind: units, orgs, members, cadres, twinning, needs, work_logs, products, chains,
    /// brands, income or targets.
    #[param(schema_with = super::openapi::import_kind_param)]
    pub kind: String,
}

/// Query of the API import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiImportQuery {
    /// The file's name; its extension says the format (`.xlsx`, `.xlsm`, `.xls`, `.ods`,
    /// `.csv`, `.txt`, `.csv.gz`, in any case).
    #[param(
        pattern = r"^[\s\S]*\.([cC][sS][vV]\.[gG][zZ]|[xX][lL][sS][xXmM]?|[oO][dD][sS]|[cC][sS][vV]|[tT][xX][tT])$"
    )]
    pub filename: String,
    /// Write the records (default: dry run).
    #[serde(default)]
    pub apply: bool,
    /// `update` or `skip` (default) rows matching a stored record that differs.
    #[serde(default)]
    pub on_existing: OnExisting,
    /// Apply the updates listed in `confirm` too (a record renamed, a stored value emptied);
    /// without it an apply with such updates writes nothing.
    #[serde(default)]
    pub confirm: bool,
    /// The sheet to read from a workbook (default: the first visible sheet).
    #[serde(default)]
    pub sheet: Option<String>,
}

/// Imports a file sent as the request body (dry run unless `apply=true`). The answer is the
/// report; when anything is rejected it comes with status 422 and `ok` false, with every error
/// (sheet, row, column, value, reason), and nothing was written.
#[utoipa::path(
    post,
    path = "/api/v1/import/{kind}",
    params(ApiImportPath, ApiImportQuery),
    request_body(content = inline(super::openapi::FileBytes), content_type = "application/octet-stream",
        description = "The file's bytes"),
    responses((status = 200, description = "The report", body = ApiReport), (status = 403), (status = 404),
        (status = 422, description = "The file was rejected: the report with its errors (`ok` false); or `unknown-file-type`, `empty-body`", body = ApiReport),
        (status = 409, description = "Another import wrote the same records at the same moment; nothing was written", body = super::ErrorBody),
)
)]
pub async fn api_import(
    State(state): State<AppState>,
    u: PageUser,
    Path(ApiImportPath { kind }): Path<ApiImportPath>,
    Query(q): Query<ApiImportQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    let kind = spec::kind(&kind).ok_or(AppError::NotFound)?;
    if body.is_empty() {
        return Err(AppError::BadRequest {
            code: "empty-body",
            message: "the request body is empty; send the file's bytes as the body".into(),
        });
    }
    let name = safe_name(&q.filename);
    let Some(ext) = extension(&name) else {
        return Err(AppError::BadRequest {
            code: "unknown-file-type",
            message: format!("{name}: unknown file type; use .csv, .csv.gz, .xlsx, .xls or .ods"),
        });
    };
    let access = u.access.clone();
    let t = u.t;
    let jobs = state.jobs.clone();
    let db = state.db.clone();
    let report = tokio::task::spawn_blocking(move || -> Result<Result<Report, ()>, AppError> {
        let dir = jobs
            .dir()
            .map_err(|e| AppError::Internal(format!("upload folder: {e}")))?;
        let path = dir.join(format!("{}{ext}", new_id()));
        write_private(&path, &body).map_err(|e| AppError::Internal(format!("saving the upload: {e}")))?;
        // One import at a time (see `Jobs::running`); the connection is taken on this job's turn.
        let r = {
            let _turn = jobs.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            db.conn().map_err(AppError::from).and_then(|mut conn| {
                framework::import_file_sheet(
                    &mut conn,
                    &access,
                    kind,
                    &path,
                    &name,
                    q.sheet.as_deref(),
                    Options {
                        on_existing: q.on_existing,
                        apply: q.apply,
                        illustrative: false,
                        confirm: q.confirm,
                        expected: None,
                    },
                    &mut |_, _, _| {},
                )
                .map_err(|e| match e {
                    framework::ImportError::Db(d) => AppError::from(d),
                    framework::ImportError::Forbidden => AppError::Forbidden,
                    framework::ImportError::Changed => AppError::Conflict("import-changed"),
                })
            })
        };
        let _ = std::fs::remove_file(&path);
        r.map(|(report, _)| Ok(report))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))??;
    let report = report.map_err(|_| AppError::Forbidden)?;
    let status = if report.ok() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(ApiReport::of(report, t))).into_response())
}

/// The import report as the API answers it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiReport {
    /// True when nothing was rejected.
    pub ok: bool,
    /// The report (counts, errors and warnings; each issue's `message` in English, `text` in the
    /// caller's language).
    #[serde(flatten)]
    pub report: Report,
}

impl ApiReport {
    fn of(mut report: Report, t: Tr) -> ApiReport {
        for i in report
            .errors
            .iter_mut()
            .chain(report.warnings.iter_mut())
            .chain(report.confirm.iter_mut())
        {
            i.localized = Some(i.text(t));
        }
        ApiReport {
            ok: report.ok(),
            report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NAME_MAX, extension, safe_name};

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.xlsx", "党员".repeat(100));
        let name = safe_name(&format!("C:\\Users\\me\\{long}"));
        assert_eq!(name.chars().count(), NAME_MAX);
        assert!(name.ends_with("党员党员党员党员.xlsx"), "{name}");
        assert_eq!(extension(&name), Some(".xlsx"));
        let gz = safe_name(&format!("{}.csv.gz", "a".repeat(300)));
        assert_eq!(extension(&gz), Some(".csv.gz"));
        assert_eq!(gz.chars().count(), NAME_MAX);
        // Short names are kept as they are; an empty one gets a stand-in.
        assert_eq!(safe_name("../m.csv"), "m.csv");
        assert_eq!(safe_name("\u{7}"), "upload");
        // A long name without an extension stays unreadable: no extension is made up.
        assert_eq!(extension(&safe_name(&"x".repeat(500))), None);
    }
}
