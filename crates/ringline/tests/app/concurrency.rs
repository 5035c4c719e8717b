//! Writers at the same moment: two imports of one file (two connections, and two instances
//! serving one database), a long SQLite apply while short writes keep coming, and a unique key
//! taken by two writers at once. Each ends with one copy of the records and a clear answer on
//! the side that lost, never a duplicate, a 500 or a "database is locked".

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use reqwest::StatusCode;
use ringline::access::Access;
use ringline::db::schema::{collective_income, units, users};
use ringline::db::{Db, DbConn};
use ringline::import::framework::{self, Counts, ImportError, OnExisting, Options, Report};
use ringline::import::spec;
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, Backend, Session, TestApp, session_on};

/// `n` units without a credit code (so matched by name and village), named `{prefix}{i}专业合作社`,
/// spread over Datong's villages, with the import's Chinese headers.
fn units_csv(n: usize, prefix: &str) -> Vec<u8> {
    let villages = crate::datong::of_level("village");
    let mut s = String::from("单位名称,单位类型,统一社会信用代码,所在村(社区)代码\n");
    for i in 0..n {
        s.push_str(&format!(
            "{prefix}{i:05}专业合作社,协会/合作社,,{}\n",
            villages[i % villages.len()].code
        ));
    }
    s.into_bytes()
}

/// Units whose name starts with `prefix`.
fn units_named(conn: &mut DbConn, prefix: &str) -> i64 {
    units::table
        .filter(units::name.like(format!("{prefix}%")))
        .count()
        .get_result(conn)
        .expect("count units")
}

/// One import as the system (the command line's caller).
fn import(
    conn: &mut DbConn,
    kind: &str,
    path: &Path,
    apply: bool,
    expected: Option<Counts>,
) -> Result<Report, ImportError> {
    let kind = spec::kind(kind).expect("known kind");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_string();
    framework::import_file(
        conn,
        &Access::system(),
        kind,
        path,
        &name,
        Options {
            on_existing: OnExisting::Skip,
            apply,
            expected,
            ..Options::default()
        },
        &mut |_, _, _| {},
    )
    .map(|(r, _)| r)
}

/// Runs `f` on `n` threads at once, each with its own connection, all released together.
async fn race<T: Send + 'static>(db: &Db, n: usize, f: impl Fn(&mut DbConn) -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let mut handles = Vec::new();
    for _ in 0..n {
        let (db, barrier, f) = (db.clone(), barrier.clone(), f.clone());
        handles.push(tokio::task::spawn_blocking(move || {
            let mut conn = db.conn().expect("a connection");
            barrier.wait();
            f(&mut conn)
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("the thread ends"));
    }
    out
}

/// Two applies of one file on two connections at the same moment: the records are written once.
/// With the dry run's counts (as the web's apply step passes them) the later apply refuses with
/// `Changed`; without them (a one-step apply, as on the command line and in the API) it re-checks
/// after the first and finds every row unchanged.
async fn racing_imports_of_one_file_write_one_copy(app: TestApp) {
    // 400 units: the dry run finds them all new.
    let path = app.write_file("race_units.csv", &units_csv(400, "并发"));
    let dry = import(&mut app.conn(), "units", &path, false, None).expect("dry run");
    let all_new = Counts {
        new: 400,
        ..Counts::default()
    };
    assert_eq!(dry.counts(), all_new);
    let p = path.clone();
    let results = race(&app.db, 2, move |c| import(c, "units", &p, true, Some(all_new))).await;
    let applied: Vec<&Report> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(applied.len(), 1, "one apply writes: {results:?}");
    assert!(applied[0].applied && applied[0].new == 400, "{:?}", applied[0]);
    assert!(
        results.iter().any(|r| matches!(r, Err(ImportError::Changed))),
        "the other is told the records changed: {results:?}"
    );
    assert_eq!(units_named(&mut app.conn(), "并发"), 400, "one copy");

    // Collective income of every village for 2024 (313 villages, one source each), applied in one
    // step twice at once: the same primary keys, written once.
    let villages = crate::datong::of_level("village");
    assert_eq!(villages.len(), 313);
    let mut csv = String::from("村代码,年度,收入来源,金额(元)\n");
    for v in &villages {
        csv.push_str(&format!("{},2024,经营收入,1000\n", v.code));
    }
    let path: PathBuf = app.write_file("race_income.csv", csv.as_bytes());
    let results = race(&app.db, 2, move |c| import(c, "income", &path, true, None)).await;
    let mut counts: Vec<Counts> = results
        .iter()
        .map(|r| match r {
            Ok(r) if r.applied => r.counts(),
            other => panic!("both one-step applies answer a report: {other:?}"),
        })
        .collect();
    counts.sort_by_key(|c| c.new);
    assert_eq!(
        counts,
        vec![
            Counts {
                unchanged: 313,
                ..Counts::default()
            },
            Counts {
                new: 313,
                ..Counts::default()
            },
        ],
        "the later apply re-checked after the first had written"
    );
    let rows: i64 = collective_income::table
        .filter(collective_income::year.eq(2024))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(rows, 313);
}

/// Two applies of one division plan at the same moment (the national table's villages of
/// 630123 湟中区, none of them stored yet): the codes are written once; the later apply finds the
/// divisions changed since its plan and writes nothing.
async fn racing_division_imports_write_once(app: TestApp) {
    use ringline::import::divisions as imp;
    let opts = imp::Options {
        only: Some("630123".into()),
        ..Default::default()
    };
    let before = crate::harness::table_counts(&mut app.conn());
    let r = imp::read(&crate::harness::fixture("national/villages.csv"), &opts).expect("readable");
    let plan = imp::plan(&mut app.conn(), r.incoming, r.files, r.issues, &opts).expect("plan");
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let new = plan.new.len() as i64;
    assert!(new > 0);
    let plan = Arc::new(plan);
    let results = race(&app.db, 2, move |c| {
        imp::apply(c, &Access::system(), &plan, "villages.csv", &mut |_, _| {})
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(
        results.iter().any(|r| matches!(r, Err(imp::ImportError::Changed))),
        "{results:?}"
    );
    // Every new code once, with its one "created" history entry.
    assert_eq!(
        crate::harness::table_counts(&mut app.conn()),
        (before.0 + new, before.1 + new)
    );
}

/// A units file uploaded through the import page; returns the job page's path.
async fn upload_units(s: &Session, bytes: &[u8], name: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", s.csrf.clone())
        .text("kind", "units")
        .text("on_existing", "skip")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "redirect to the job");
    r.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string()
}

/// Polls a job page until it stops refreshing; returns its HTML.
async fn job_done(s: &Session, job: &str) -> String {
    for _ in 0..1200 {
        let page = s.get(job).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        if !html.contains("http-equiv=\"refresh\"") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

/// The figure in the report's row headed `label`.
fn report_figure(html: &str, label: &str) -> String {
    let at = html
        .find(&format!("<th>{label}</th><td>"))
        .unwrap_or_else(|| panic!("row {label}"))
        + label.len()
        + 13;
    html[at..at + html[at..].find('<').expect("cell end")].to_string()
}

/// Two instances serving one database; the same file checked on each, then applied on both at
/// once: one copy of the records, one page saying they were imported, the other saying another
/// import changed them and showing the new check (all 300 unchanged, nothing to apply).
async fn two_instances_apply_one_file_once(app: TestApp) {
    let second = ringline::web::Server::bind(
        ringline::config::Config {
            database_url: app.url.clone(),
            bind: "127.0.0.1:0".into(),
            data_dir: Some(app.dir.path().to_path_buf()),
            ..ringline::config::Config::default()
        },
        app.db.clone(),
    )
    .await
    .expect("a second instance binds");
    let base2 = format!("http://{}", second.local_addr().expect("address"));
    let server2 = tokio::spawn(async move { second.run(std::future::pending::<()>()).await });
    let s1 = app.admin().await;
    let s2 = session_on(&base2, "admin", ADMIN_PASSWORD).await;
    s1.english().await;
    s2.english().await;
    let bytes = units_csv(300, "双实例");
    let job1 = upload_units(&s1, &bytes, "units.csv").await;
    let job2 = upload_units(&s2, &bytes, "units.csv").await;
    for (s, job) in [(&s1, &job1), (&s2, &job2)] {
        let html = job_done(s, job).await;
        assert!(html.contains("The file is valid"), "{html}");
        assert_eq!(report_figure(&html, "New"), "300");
    }
    let (apply1, apply2) = (format!("{job1}/apply"), format!("{job2}/apply"));
    let (a1, a2) = tokio::join!(s1.post_form(&apply1, &[]), s2.post_form(&apply2, &[]));
    assert!(a1.status.is_redirection() && a2.status.is_redirection());
    let pages = [job_done(&s1, &job1).await, job_done(&s2, &job2).await];
    let imported: Vec<&String> = pages
        .iter()
        .filter(|h| h.contains("Imported: the records were written."))
        .collect();
    let lost: Vec<&String> = pages
        .iter()
        .filter(|h| h.contains("Another import changed these records while this one was waiting to write"))
        .collect();
    assert_eq!((imported.len(), lost.len()), (1, 1), "{pages:?}");
    assert_eq!(report_figure(lost[0], "New"), "0");
    assert_eq!(report_figure(lost[0], "Unchanged"), "300");
    assert!(!lost[0].contains("/apply\""), "nothing left to apply");
    assert_eq!(units_named(&mut app.conn(), "双实例"), 300, "one copy");
    server2.abort();
}

/// A long apply (5,000 units through the API) while another client keeps creating users: the
/// apply takes the write lock when its transaction starts and wins; the short writes wait for it
/// and all succeed.
async fn a_long_apply_wins_against_short_writes(app: TestApp) {
    let importer = app.admin().await;
    let writer = app.admin().await;
    let bytes = units_csv(5000, "长导入");
    let import = async {
        let r = importer
            .client
            .post(importer.url("/api/v1/import/units?filename=long.csv&apply=true"))
            .header("X-CSRF-Token", importer.csrf.clone())
            .body(bytes)
            .send()
            .await
            .expect("the import answers");
        crate::harness::Answer::of(r).await
    };
    let done = std::sync::atomic::AtomicBool::new(false);
    let writes = async {
        let mut statuses = Vec::new();
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || statuses.len() < 3 {
            let (status, body) = writer
                .post_json(
                    "/api/v1/users",
                    json!({"username": format!("writer{i}"), "password": "writer-password-1",
                           "role": "viewer", "scope": "630121000000"}),
                )
                .await;
            statuses.push((status, body));
            i += 1;
        }
        statuses
    };
    let (answer, statuses) = tokio::join!(
        async {
            let a = import.await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            a
        },
        writes
    );
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(
        (report["applied"].as_bool(), report["new"].as_u64()),
        (Some(true), Some(5000)),
        "{report}"
    );
    for (status, body) in &statuses {
        assert_eq!(*status, StatusCode::CREATED, "every short write succeeds: {body}");
    }
    let n: i64 = users::table.count().get_result(&mut app.conn()).expect("count users");
    assert_eq!(n, 1 + statuses.len() as i64, "admin and the writers");
    assert_eq!(units_named(&mut app.conn(), "长导入"), 5000);
}

/// A username taken by another transaction at the same moment: the API answers with the reason
/// (SQLite: the create waits for the other writer and finds the name taken, 422; PostgreSQL: the
/// unique index refuses the second insert, 409), never 500 or 503.
async fn a_key_taken_at_the_same_moment_is_a_clear_answer(app: TestApp) {
    let s = app.admin().await;
    let (tx, rx) = std::sync::mpsc::channel();
    let db = app.db.clone();
    let holder = tokio::task::spawn_blocking(move || {
        let mut conn = db.conn().expect("a connection");
        ringline::db::write_transaction(&mut conn, |c| {
            ringline::users::create(
                c,
                &Access::system(),
                &ringline::users::NewUser {
                    username: "racer".into(),
                    password: "racer-password-1".into(),
                    role: "viewer".into(),
                    scope: "630121000000".into(),
                    display_name: String::new(),
                    phone: None,
                },
            )?;
            tx.send(()).expect("signal");
            // Hold the new row uncommitted while the request below runs into it.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            Ok::<_, ringline::users::UserError>(())
        })
    });
    tokio::task::spawn_blocking(move || rx.recv().expect("the row is inserted"))
        .await
        .expect("wait");
    let (status, body) = s
        .post_json(
            "/api/v1/users",
            json!({"username": "racer", "password": "racer-password-2", "role": "viewer", "scope": "630121000000"}),
        )
        .await;
    holder.await.expect("thread").expect("the first create commits");
    let expected = match app.backend {
        Backend::Sqlite => (StatusCode::UNPROCESSABLE_ENTITY, "duplicate-username"),
        Backend::Postgres => (StatusCode::CONFLICT, "conflict"),
    };
    assert_eq!(
        (status, body["error"]["code"].as_str().unwrap_or("")),
        expected,
        "{body}"
    );
    let n: i64 = users::table
        .filter(users::username.eq("racer"))
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(n, 1);
}

on_both_backends!(
    racing_imports_of_one_file_write_one_copy,
    racing_division_imports_write_once,
    two_instances_apply_one_file_once,
    a_long_apply_wins_against_short_writes,
    a_key_taken_at_the_same_moment_is_a_clear_answer,
);
