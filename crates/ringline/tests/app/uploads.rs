//! Uploaded files hold personal data: they stay in the data folder, private to the server's
//! user, and none outlives a server process that was killed — the next start removes them.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::harness::{ADMIN_PASSWORD, Backend, Session, TestApp, session_on};

/// A `ringline serve` process over the test's database, started in the test's folder.
struct Serving {
    child: Child,
    base: String,
    /// Kept open, so the server's later output does not meet a closed pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ringline serve` with the default data folder and waits until it listens.
fn serve(app: &TestApp) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringline"))
        .args(["serve", "--no-demo", "--bind", "127.0.0.1:0"])
        .current_dir(app.dir.path())
        .env("DATABASE_URL", &app.url)
        .env("RINGLINE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("RINGLINE_DATA_DIR")
        .env_remove("RINGLINE_CONFIG")
        .env_remove("RINGLINE_BIND")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ringline serve starts");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let base = loop {
        line.clear();
        let n = stdout.read_line(&mut line).expect("reads the output");
        assert!(n > 0, "the server stopped before listening");
        if let Some(rest) = line.strip_prefix("ringline is running at ") {
            break rest.split('/').take(3).collect::<Vec<_>>().join("/");
        }
    };
    Serving {
        child,
        base,
        _stdout: stdout,
    }
}

/// Entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Uploads a valid units file and waits for its dry run; the file then waits for the apply.
async fn upload_and_check(s: &Session) {
    let csv = "单位名称,单位类型,统一社会信用代码,所在村(社区)代码\n上传测试专业合作社,协会/合作社,,630121103201\n";
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", s.csrf.clone())
        .text("kind", "units")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("units.csv"),
        );
    let r = s
        .client
        .post(s.url("/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let job = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("job")
        .to_string();
    for _ in 0..600 {
        let html = s.get(&job).await.text();
        if !html.contains("http-equiv=\"refresh\"") {
            assert!(html.contains("文件检查通过"), "{html}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the check did not finish");
}

/// The upload lands in the data folder (beside the SQLite file; `./ringline-data` with
/// PostgreSQL) in a 0700 folder as a 0600 file; after `kill -9` it is still there (nothing can
/// run in a killed process), and the next start removes it — and nothing else.
async fn uploads_are_private_and_removed_after_a_crash(app: TestApp) {
    let uploads = match app.backend {
        Backend::Sqlite => app.dir.path().join("ringline-uploads"),
        Backend::Postgres => app.dir.path().join("ringline-data/ringline-uploads"),
    };
    let mut first = serve(&app);
    let s = session_on(&first.base, "admin", ADMIN_PASSWORD).await;
    upload_and_check(&s).await;
    // One instance folder and its lock file; in the folder, the upload.
    let listed = entries(&uploads);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let instance = listed
        .iter()
        .find(|p| p.is_dir())
        .expect("the instance's folder")
        .clone();
    let lock = instance.with_extension("lock");
    assert!(lock.is_file(), "{listed:?}");
    let files = entries(&instance);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().ends_with(".csv"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&uploads), 0o700);
        assert_eq!(mode(&instance), 0o700);
        assert_eq!(mode(&files[0]), 0o600);
    }
    // SIGKILL: no clean-up runs.
    first.child.kill().expect("kill -9");
    first.child.wait().expect("ended");
    assert!(files[0].exists(), "a killed process leaves its upload");
    std::fs::write(uploads.join("notes.txt"), "not ringline's").expect("a foreign file");
    // The next start removes the leftovers of the instance that is gone, and only those.
    let second = serve(&app);
    assert!(!instance.exists(), "the upload with personal data is gone");
    assert!(!lock.exists());
    assert_eq!(entries(&uploads), vec![uploads.join("notes.txt")]);
    drop(second);
}

on_both_backends!(uploads_are_private_and_removed_after_a_crash);
