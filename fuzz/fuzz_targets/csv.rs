//! CSV bytes: encoding detection (UTF-8 with or without BOM, GBK/GB18030, Big5 refused), quotes,
//! line numbers, the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringline_fuzz::table::{ReadError, csv_rows};

fuzz_target!(|data: &[u8]| {
    match csv_rows(data, "fuzz.csv".into(), 10_000) {
        Ok(sheet) => {
            let mut last = 0;
            for row in &sheet.rows {
                assert!(row.line > last, "line numbers increase");
                last = row.line;
            }
            // A file that is valid UTF-8 (no BOM) is read as UTF-8, never re-decoded as GBK.
            if !data.starts_with(b"\xEF\xBB\xBF") && std::str::from_utf8(data).is_ok() {
                assert_eq!(sheet.encoding, Some("UTF-8"), "valid UTF-8 is read as UTF-8");
            }
            let _ = sheet.into_table();
        }
        Err(ReadError::Io { .. }) => panic!("no IO happens on bytes"),
        Err(_) => {}
    }
});
