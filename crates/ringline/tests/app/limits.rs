//! Input that would exhaust the server: a compressed file inflating far past the size limit.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The binary under test.
fn ringline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ringline"))
}

/// Writes a `.csv.gz` of `members` copies of one gzip member that inflates to `member_bytes`
/// of units rows (gzip readers read concatenated members as one stream).
fn gzip_bomb(path: &Path, member_bytes: usize, members: usize) {
    let mut raw = "单位名称,单位类型,统一社会信用代码,所在村(社区)代码\n"
        .as_bytes()
        .to_vec();
    let line = "某某专业合作社,协会/合作社,,630121103201\n".as_bytes();
    while raw.len() + line.len() <= member_bytes {
        raw.extend_from_slice(line);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&raw).expect("gzip");
    let member = gz.finish().expect("gzip");
    let mut f = std::fs::File::create(path).expect("create");
    for _ in 0..members {
        f.write_all(&member).expect("write");
    }
}

/// Peak resident memory of a running process in KiB (`VmHWM`), if it is still running.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A 3.3 MB `.csv.gz` inflating to 1.06 GiB (17 members of 64 MiB), past the 1 GiB limit: the
/// import refuses it as too large while the process stays small (it used to hold the inflated
/// gigabyte before refusing).
#[test]
fn a_gzip_bomb_is_refused_in_small_memory() {
    let dir = tempfile::TempDir::new().expect("temp");
    let bomb = dir.path().join("bomb.csv.gz");
    gzip_bomb(&bomb, 64 << 20, 17);
    let compressed = std::fs::metadata(&bomb).expect("size").len();
    assert!(compressed < 4 << 20, "{compressed} bytes: a small upload");
    let db = dir.path().join("ringline.db");
    let mut child = ringline()
        .args(["import", "units"])
        .arg(&bomb)
        .arg("--database-url")
        .arg(&db)
        .args(["--lang", "en"])
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringline runs");
    let started = Instant::now();
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        peak = peak.max(peak_kib(child.id()).unwrap_or(0));
        assert!(started.elapsed() < Duration::from_secs(300), "the import ends");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "refused: {text}");
    assert!(text.contains("too large once unpacked"), "{text}");
    // The limit is 1 GiB; the process must stay far below it (measured: 36 MiB).
    assert!(peak > 0 && peak < 256 * 1024, "peak resident memory {peak} KiB");
}

/// A server over `app`'s database with 2-second header and body timeouts; its address.
async fn impatient_server(app: &crate::harness::TestApp) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let server = ringline::web::Server::bind(
        ringline::config::Config {
            bind: "127.0.0.1:0".into(),
            header_timeout_secs: 2,
            body_timeout_secs: 2,
            data_dir: Some(app.dir.path().to_path_buf()),
            ..ringline::config::Config::default()
        },
        app.db.clone(),
    )
    .await
    .expect("binds");
    let addr = server.local_addr().expect("address");
    let task = tokio::spawn(async move {
        server.run(std::future::pending::<()>()).await.expect("serves");
    });
    (addr, task)
}

/// Sends `start`, then `drip` every 500 ms, until the server closes the connection; returns how
/// long that took, or `None` when it was still open after 12 s.
async fn seconds_until_closed(addr: std::net::SocketAddr, start: &'static [u8], drip: &'static [u8]) -> Option<f64> {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("read timeout");
        let started = Instant::now();
        stream.write_all(start).expect("first bytes");
        let mut buf = [0u8; 4096];
        while started.elapsed() < Duration::from_secs(12) {
            // The end of the stream (after an error response, if any) or a reset: closed.
            match stream.read(&mut buf) {
                Ok(0) => return Some(started.elapsed().as_secs_f64()),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return Some(started.elapsed().as_secs_f64()),
            }
            if !drip.is_empty() && stream.write_all(drip).is_err() {
                return Some(started.elapsed().as_secs_f64());
            }
        }
        None
    })
    .await
    .expect("the client thread ends")
}

/// A client that sends its request header one line every half second (and would go on for
/// ever) is cut off once the 2-second header timeout has passed; so is one that stops sending a
/// body it announced. A prompt request on the same server is answered.
async fn slow_clients_are_disconnected(app: crate::harness::TestApp) {
    let (addr, server) = impatient_server(&app).await;
    let header = seconds_until_closed(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n").await;
    assert!(
        header.is_some_and(|s| (1.5..6.0).contains(&s)),
        "header: closed after {header:?} s"
    );
    let body = seconds_until_closed(
        addr,
        b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
        b"",
    )
    .await;
    assert!(
        body.is_some_and(|s| (1.5..6.0).contains(&s)),
        "body: closed after {body:?} s"
    );
    let ok = reqwest::get(format!("http://{addr}/healthz")).await.expect("answers");
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    server.abort();
}

#[tokio::test]
async fn slow_clients_are_disconnected_sqlite() {
    if let Some(app) = crate::harness::spawn(crate::harness::Backend::Sqlite).await {
        slow_clients_are_disconnected(app).await;
    }
}
