//! Amounts in CNY as people type them (`ringline_core::economy::Cny::from_yuan_str`): any text is
//! parsed or refused without panicking, and a parsed amount reads back from its display.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringline_core::economy::Cny;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(cny) = Cny::from_yuan_str(s) {
        assert!(cny.fen() >= 0, "amounts are never negative");
        let shown = cny.to_string();
        assert_eq!(Cny::from_yuan_str(&shown), Ok(cny), "{shown} reads back");
        let _ = cny.display_wan();
        assert_eq!(Cny::from_fen(cny.fen()), Ok(cny));
    }
});
