//! The cell normalisers of `ringline_core::cell`: each accepts any text, and what it returns is
//! a fixed point (normalising again changes nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringline_core::cell;

const CHOICES: &[(&str, &str, &str)] = &[
    ("formal", "正式党员", "full member"),
    ("probationary", "预备党员", "probationary member"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let folded = cell::fold_width(s);
    assert_eq!(cell::fold_width(&folded), folded, "fold_width is idempotent");
    let clean = cell::clean(s);
    assert_eq!(cell::clean(&clean), clean, "clean is idempotent");
    let name = cell::name(s);
    assert_eq!(cell::name(&name), name, "name is idempotent");
    if let Ok(code) = cell::code(s) {
        assert_eq!(cell::code(&code).as_deref(), Ok(code.as_str()), "code is idempotent");
    }
    if let Ok(phone) = cell::phone(s) {
        assert_eq!(cell::phone(&phone).as_deref(), Ok(phone.as_str()), "phone is idempotent");
    }
    if let Ok(date) = cell::date(s) {
        let text = date.format("%Y-%m-%d").to_string();
        assert_eq!(cell::date(&text), Ok(date), "a date reads back from its ISO text");
    }
    if let Ok(n) = cell::integer(s) {
        assert_eq!(cell::integer(&n.to_string()), Ok(n), "an integer reads back");
    }
    let _ = cell::decimal(s);
    if let Ok(key) = cell::choice(s, CHOICES) {
        assert_eq!(cell::choice(key, CHOICES), Ok(key), "a choice's key is the choice");
    }
});
