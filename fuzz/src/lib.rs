//! Helpers shared by the fuzz targets, and the importer's reader compiled from its source.

/// `ringline::import::table`, compiled from `crates/ringline/src/import/table.rs` itself (it
/// uses only the crates listed in Cargo.toml, nothing else of the application).
#[allow(dead_code, missing_docs)]
#[path = "../../crates/ringline/src/import/table.rs"]
pub mod table;

use std::path::PathBuf;

/// Reads `data` as a spreadsheet file named with `extension` through the importer's reader
/// (`table::read_raw`, i.e. `ringline::import::table::read_raw`: the archive, ODS and XLS pre-parsers, then calamine).
/// The bytes go to a file of this process in `/dev/shm` (memory), rewritten for every input.
pub fn read_spreadsheet(data: &[u8], extension: &str) {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!("ringline-fuzz-{}.{extension}", std::process::id()));
    std::fs::write(&path, data).expect("the fuzz input file is written");
    if let Ok(sheet) = table::read_raw(&path, 10_000) {
        // Rows are numbered as a person sees them: from 1, strictly increasing.
        let mut last = 0;
        for row in &sheet.rows {
            assert!(row.line > last, "row numbers increase");
            last = row.line;
        }
        let _ = sheet.into_table();
    }
}

/// Lets panics unwind silently instead of aborting (libfuzzer-sys's hook aborts on any panic,
/// even one caught): the reader catches calamine's panics on damaged files on purpose and
/// reports the file as damaged. A panic that escapes the reader still ends the run as a crash
/// (libfuzzer-sys aborts when the target unwinds); reproduce it with
/// `cargo fuzz run TARGET --sanitizer none ARTIFACT` to see its message.
pub fn quiet_caught_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}
