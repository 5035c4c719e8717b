//! Division codes (NBS), citizen ID numbers (GB 11643) and unified social credit codes
//! (GB 32100): any text is parsed or refused without panicking, and what parses reads back the
//! same from its canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringline_core::credit_code::CreditCode;
use ringline_core::division::DivisionCode;
use ringline_core::id_number::IdNumber;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(code) = DivisionCode::parse(s) {
        assert_eq!(code.as_str().len(), 12, "a division code has 12 digits");
        assert_eq!(DivisionCode::parse(code.as_str()).as_ref(), Ok(&code), "canonical form reads back");
        let _ = (code.level(), code.town_kind(), code.village_kind(), code.prefix());
        let mut child = code.clone();
        let mut steps = 0;
        while let Some(parent) = child.parent() {
            assert!(parent.is_ancestor_of(&child), "a parent is an ancestor");
            child = parent;
            steps += 1;
            assert!(steps <= 5, "at most five levels");
        }
    }
    match IdNumber::parse(s, (2026, 6, 30)) {
        Ok(parsed) => {
            let id = parsed.number;
            assert_eq!(id.as_str().len(), 18, "an ID number has 18 characters");
            let again = IdNumber::parse(id.as_str(), (2026, 6, 30)).expect("canonical form reads back");
            assert_eq!(again.number.as_str(), id.as_str());
            let masked = id.masked();
            assert!(!masked.contains(&id.as_str()[6..14]), "the birth date is masked");
            let _ = (id.sex(), id.birth_date(), id.age_on((2026, 6, 30)));
        }
        Err(e) => {
            let _ = e.key();
        }
    }
    if let Ok(code) = CreditCode::parse(s) {
        assert_eq!(CreditCode::parse(code.as_str()).as_ref(), Ok(&code), "canonical form reads back");
        let ok = code.verify().is_ok();
        assert_eq!(ok, code.expected_check_character() == code.check_char(), "verify is the check");
        let _ = (code.registration_authority(), code.organization_type(), code.division_code());
    }
});
