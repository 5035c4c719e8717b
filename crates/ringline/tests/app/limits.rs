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
