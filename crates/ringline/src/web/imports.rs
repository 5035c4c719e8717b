//! Importing registry records on the web (SPEC C8, import part): templates to download, an
//! upload form, a dry run that runs in the background with a progress bar, the report (every
//! problem with its row and column, in the page language), the rows with errors as XLSX, and
//! the apply step. Also the JSON API's synchronous import.
//!
//! A job lives in this instance's memory (with the uploaded file in a temporary folder) for
//! [`JOB_TTL`]; behind a load balancer the job pages need sticky sessions. Only the user who
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
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Chrome, html};
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
    Running { stage: Stage, done: usize, total: usize },
    Done(Box<Report>),
    Failed(String),
}

#[derive(Debug)]
struct Job {
    user_id: i64,
    kind: &'static spec::KindSpec,
    file: PathBuf,
    name: String,
    on_existing: OnExisting,
    state: Arc<Mutex<JobState>>,
    sheet: Arc<Mutex<Option<Sheet>>>,
    created: Instant,
}

/// The import jobs of this instance.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
}

impl Jobs {
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
}

fn upload_dir() -> PathBuf {
    std::env::temp_dir().join("ringline-imports")
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
        kinds: spec::KINDS
            .iter()
            .map(|k| (k.key, k.name(t.lang().code()).to_string()))
            .collect(),
        error,
    })
}

/// `/import/templates/members.xlsx?lang=en`: the template of a kind.
#[derive(Debug, Deserialize)]
struct TemplateQuery {
    lang: Option<String>,
}

async fn template(u: PageUser, Path(file): Path<String>, Query(q): Query<TemplateQuery>) -> Result<Response, AppError> {
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

/// Keeps the last path component of an uploaded file name, without control characters.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "upload".into()
    } else {
        clean
    }
}

/// The extension the readers understand, from the uploaded name.
fn extension(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    [".csv.gz", ".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"]
        .into_iter()
        .find(|e| lower.ends_with(e))
}

async fn upload(State(state): State<AppState>, u: PageUser, req: Request) -> Result<Response, AppError> {
    let t = u.t;
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(req.into_body(), UPLOAD_LIMIT)
        .await
        .map_err(|_| AppError::BadRequest {
            code: "upload-too-large",
            message: t.args("import-too-large", &[("mb", (UPLOAD_LIMIT / 1024 / 1024).to_string())]),
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
    let dir = upload_dir();
    let id = new_id();
    let path = dir.join(format!("{id}{ext}"));
    let data = data.clone();
    let p = path.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&p, &data)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("saving the upload: {e}")))?;
    let job = Job {
        user_id: u.user.user_id,
        kind,
        file: path,
        name,
        on_existing,
        state: Arc::new(Mutex::new(JobState::Running {
            stage: Stage::Reading,
            done: 0,
            total: 0,
        })),
        sheet: Arc::new(Mutex::new(None)),
        created: Instant::now(),
    };
    start(&state, &u.access, &job, false);
    if let Ok(mut j) = jobs.jobs.lock() {
        j.insert(id.clone(), job);
    }
    Ok(Redirect::to(&format!("/import/jobs/{id}")).into_response())
}

/// Runs a dry run or an apply of `job` in the background.
fn start(state: &AppState, access: &Access, job: &Job, apply: bool) {
    let db = state.db.clone();
    let access = access.clone();
    let (kind, file, name, on_existing) = (job.kind, job.file.clone(), job.name.clone(), job.on_existing);
    let st = job.state.clone();
    let sheet_slot = job.sheet.clone();
    if let Ok(mut s) = st.lock() {
        *s = JobState::Running {
            stage: if apply { Stage::Writing } else { Stage::Reading },
            done: 0,
            total: 0,
        };
    }
    tokio::task::spawn_blocking(move || {
        let set = |s: JobState| {
            if let Ok(mut g) = st.lock() {
                *g = s;
            }
        };
        let mut progress = |stage: Stage, done: usize, total: usize| set(JobState::Running { stage, done, total });
        let result = db.conn().map_err(|e| e.to_string()).and_then(|mut conn| {
            framework::import_file(
                &mut conn,
                &access,
                kind,
                &file,
                &name,
                Options {
                    on_existing,
                    apply,
                    illustrative: false,
                },
                &mut progress,
            )
            .map_err(|e| match e {
                framework::ImportError::Db(d) if d.is_busy() => "busy".to_string(),
                other => other.to_string(),
            })
        });
        match result {
            Ok((report, sheet)) => {
                if let Ok(mut s) = sheet_slot.lock() {
                    *s = sheet;
                }
                set(JobState::Done(Box::new(report)));
            }
            Err(e) => {
                tracing::error!(error = %e, "import job failed");
                set(JobState::Failed(e));
            }
        }
    });
}

/// One problem as shown on the page.
struct ShownIssue {
    line: usize,
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
}

/// An issue's message in the page language (see [`Issue::text`]).
fn shown(t: Tr, issues: &[Issue]) -> Vec<ShownIssue> {
    issues
        .iter()
        .take(SHOWN_ISSUES)
        .map(|i| ShownIssue {
            line: i.line,
            column: i.column.clone(),
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

async fn job_page(State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Result<Response, AppError> {
    let t = u.t;
    let (kind, name, st, on_existing) = job_of(&state, &u, &id, |j| {
        (
            j.kind,
            j.name.clone(),
            j.state
                .lock()
                .map(|s| s.clone())
                .unwrap_or(JobState::Failed("poisoned".into())),
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
    };
    match st {
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
        JobState::Failed(e) => {
            p.failed = Some(if e == "busy" {
                t.get("error-busy")
            } else {
                t.get("import-failed")
            });
        }
        JobState::Done(r) => {
            p.errors = shown(t, &r.errors);
            p.warnings = shown(t, &r.warnings);
            p.more_errors = r.errors.len().saturating_sub(SHOWN_ISSUES);
            p.headline = t.args("import-has-errors", &[("count", r.errors.len().to_string())]);
            p.more_text = t.args("import-more-errors", &[("count", p.more_errors.to_string())]);
            p.can_apply = r.ok() && !r.applied && r.new + r.updated > 0;
            p.report = Some(*r);
        }
    }
    Ok(html(&p))
}

async fn job_errors_xlsx(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = u.t;
    let (st, sheet) = job_of(&state, &u, &id, |j| (j.state.clone(), j.sheet.clone()))?;
    let report = match st.lock().map(|s| s.clone()) {
        Ok(JobState::Done(r)) => r,
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

async fn job_apply(State(state): State<AppState>, u: PageUser, Path(id): Path<String>) -> Result<Response, AppError> {
    let ready = {
        let jobs = state
            .jobs
            .jobs
            .lock()
            .map_err(|_| AppError::Internal("job table poisoned".into()))?;
        match jobs.get(&id) {
            Some(j) if j.user_id == u.user.user_id => {
                let ok = matches!(j.state.lock().map(|s| s.clone()), Ok(JobState::Done(r)) if r.ok() && !r.applied);
                if ok {
                    start(&state, &u.access, j, true);
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

/// Query of the API import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ApiImportQuery {
    /// The file's name; its extension says the format (`.xlsx`, `.xls`, `.ods`, `.csv`,
    /// `.csv.gz`).
    pub filename: String,
    /// Write the records (default: dry run).
    #[serde(default)]
    pub apply: bool,
    /// `update` or `skip` (default) rows matching a stored record that differs.
    #[serde(default)]
    pub on_existing: OnExisting,
}

/// Imports a file sent as the request body (dry run unless `apply=true`). The answer is the
/// report: `ok` false with every error (sheet, row, column, value, reason) when anything is
/// rejected, in which case nothing was written.
#[utoipa::path(
    post,
    path = "/api/v1/import/{kind}",
    params(("kind" = String, Path, description = "units, orgs or members"), ApiImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "The report", body = ApiReport), (status = 403), (status = 404))
)]
pub async fn api_import(
    State(state): State<AppState>,
    u: PageUser,
    Path(kind): Path<String>,
    Query(q): Query<ApiImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let _ = headers;
    let kind = spec::kind(&kind).ok_or(AppError::NotFound)?;
    let name = safe_name(&q.filename);
    let Some(ext) = extension(&name) else {
        return Err(AppError::BadRequest {
            code: "unknown-file-type",
            message: format!("{name}: unknown file type; use .csv, .csv.gz, .xlsx, .xls or .ods"),
        });
    };
    let access = u.access.clone();
    let t = u.t;
    let report = state
        .db
        .run(move |conn| {
            let dir = upload_dir();
            std::fs::create_dir_all(&dir).map_err(|e| crate::db::DbError::Task(e.to_string()))?;
            let path = dir.join(format!("{}{ext}", new_id()));
            std::fs::write(&path, &body).map_err(|e| crate::db::DbError::Task(e.to_string()))?;
            let r = framework::import_file(
                conn,
                &access,
                kind,
                &path,
                &name,
                Options {
                    on_existing: q.on_existing,
                    apply: q.apply,
                    illustrative: false,
                },
                &mut |_, _, _| {},
            );
            let _ = std::fs::remove_file(&path);
            match r {
                Ok((report, _)) => Ok(Ok(report)),
                Err(framework::ImportError::Db(d)) => Err(d),
                Err(framework::ImportError::Forbidden) => Ok(Err(())),
            }
        })
        .await?;
    let report = report.map_err(|_| AppError::Forbidden)?;
    Ok(Json(ApiReport::of(report, t)).into_response())
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
        for i in report.errors.iter_mut().chain(report.warnings.iter_mut()) {
            i.localized = Some(i.text(t));
        }
        ApiReport {
            ok: report.ok(),
            report,
        }
    }
}

impl IntoResponse for ApiReport {
    fn into_response(self) -> Response {
        (StatusCode::OK, Json(self)).into_response()
    }
}
