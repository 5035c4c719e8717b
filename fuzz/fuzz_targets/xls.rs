//! A `.xls` file through the importer's reader: the pre-parsers in
//! `crates/ringline/src/import/table.rs`, then calamine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: ringline_fuzz::quiet_caught_panics(), |data: &[u8]| {
    ringline_fuzz::read_spreadsheet(data, "xls");
});
