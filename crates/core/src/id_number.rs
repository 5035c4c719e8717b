//! Citizen identity numbers (公民身份号码), GB 11643-1999.
//!
//! An identity number has 18 characters (GB 11643-1999, 号码的结构):
//!
//! | characters | part |
//! |---|---|
//! | 1–6 | address code 地址码: the county-level division of permanent residence (GB/T 2260) |
//! | 7–14 | birth date 出生日期码 `YYYYMMDD` (GB/T 7408) |
//! | 15–17 | sequence code 顺序码; odd for men, even for women |
//! | 18 | check character 校验码, a digit or `X` |
//!
//! The check character follows ISO 7064:1983 MOD 11-2 (GB 11643-1999, 校验码): with the weights
//! `w_i = 2^(18−i) mod 11` for characters `i` = 1–17 (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10,
//! 5, 8, 4, 2), `check = (12 − (Σ a_i·w_i mod 11)) mod 11`, the value 10 being written `X`.
//! Since 11 is prime and no weight is 0 mod 11, every single-character error changes the sum
//! and is detected.
//!
//! The legacy 15-digit number (first-generation cards, before 1999) has a 6-digit address code,
//! a 6-digit birth date `YYMMDD` meaning `19YY`, and a 3-digit sequence code, and no check
//! character. It is converted to 18 characters by inserting `19` before the year and appending
//! the computed check character (the conversion that GB 11643-1999 superseded numbers follow).
//!
//! An identity number is personal data (ARCHITECTURE: "secrets and personal data are never
//! logged, nor repeated in error messages"): [`IdNumber`] has no `Display`, its `Debug` is
//! masked, and no [`IdNumberError`] message quotes the number.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::mask::mask_id_number;

/// Number of characters in an identity number.
pub const ID_LEN: usize = 18;

/// Number of digits in a legacy (first-generation) identity number.
pub const LEGACY_LEN: usize = 15;

/// Earliest accepted birth year. GB 11643-1999 allows earlier ones (its own second example is
/// born in 1880); nobody born before 1900 is alive, so an earlier year is a typing error here.
pub const MIN_YEAR: i32 = 1900;

/// MOD 11-2 weights of characters 1–17: `2^(18−i) mod 11` (GB 11643-1999, ISO 7064).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Computes the check character (ISO 7064 MOD 11-2, GB 11643-1999) for the first 17
/// characters of an identity number: `'0'`–`'9'` or `'X'`.
///
/// Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.len() != WEIGHTS.len() {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    match (12 - sum % 11) % 11 {
        10 => Some('X'),
        v => char::from_digit(v, 10),
    }
}

/// Gregorian leap year: divisible by 4 and not by 100, or divisible by 400.
fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year` in the Gregorian calendar; 0 for a month outside 1–12.
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Numeric value of an all-ASCII-digit slice (at most 4 digits here; callers checked the digits).
fn digits_value(digits: &str) -> u32 {
    digits
        .chars()
        .fold(0u32, |acc, c| acc * 10 + c.to_digit(10).unwrap_or(0))
}

/// Sex recorded in the sequence code (GB 11643-1999, 顺序码: odd for men, even for women).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Odd sequence code.
    Male,
    /// Even sequence code.
    Female,
}

impl Sex {
    /// Stable English name: "male" or "female".
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Chinese name: 男 or 女.
    pub fn zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an identity number was rejected. Messages are English, say what to fix, and never
/// quote the number (it is personal data); [`IdNumberError::key`] gives a stable identifier for
/// translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// The input was empty (or only spaces).
    #[error("ID number is empty; enter the 18-character citizen identity number")]
    Empty,
    /// The input has neither 18 nor 15 characters.
    #[error("ID number has {len} characters; citizen identity numbers have 18 (15 for old first-generation cards)")]
    WrongLength {
        /// Number of characters after removing spaces.
        len: usize,
    },
    /// A character other than a digit, or an `X` anywhere but at the end of an 18-character
    /// number.
    #[error("ID number may contain only digits, and an X only as the last of 18 characters")]
    NotDigits,
    /// The birth-date digits are not a real calendar date, or the year is before 1900.
    #[error(
        "ID number's birth-date digits (characters 7–14, or 7–12 of an old 15-digit number) are not \
         a real date from 1900 on; check them"
    )]
    BadDate,
    /// The birth date is after today.
    #[error("ID number's birth date is in the future; check the birth-date digits")]
    FutureDate,
    /// The check character (the 18th) does not match the first 17 characters.
    ///
    /// The fields are single characters, not the number; messages leave them out all the same,
    /// so nobody is led to "fix" the last character instead of finding the mistyped one.
    #[error("ID number's last character does not match the other 17; one of them is probably mistyped")]
    CheckFailed {
        /// Check character computed from the first 17 characters.
        expected: char,
        /// Check character the number carries.
        found: char,
    },
}

impl IdNumberError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            IdNumberError::Empty => "id-number-empty",
            IdNumberError::WrongLength { .. } => "id-number-wrong-length",
            IdNumberError::NotDigits => "id-number-not-digits",
            IdNumberError::BadDate => "id-number-bad-date",
            IdNumberError::FutureDate => "id-number-future-date",
            IdNumberError::CheckFailed { .. } => "id-number-check-failed",
        }
    }
}

/// A validated citizen identity number: always 18 characters, 17 ASCII digits and a digit or
/// upper-case `X`, with a real birth date from 1900 on and a matching check character.
///
/// There is no `Display`, so that formatting never prints the whole number by accident: use
/// [`IdNumber::as_str`] where the whole number is needed (storage) and [`IdNumber::masked`]
/// for display. `Debug` prints the masked form.
///
/// Serialises as the 18-character string. Deserialises through the same checks as
/// [`IdNumber::parse`] except "not after today", which needs a clock the core does not read
/// (a stored number was checked against the day it was entered); a 15-digit string is
/// converted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

/// The result of [`IdNumber::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The number, in its 18-character form.
    pub number: IdNumber,
    /// True when the input was a legacy 15-digit number, converted here.
    pub converted_from_15: bool,
}

/// Maps full-width digits, full-width `Ｘ`/`ｘ` and lower-case `x` to ASCII digits and `X`.
fn normalise_char(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        'x' | 'Ｘ' | 'ｘ' => 'X',
        _ => c,
    }
}

impl IdNumber {
    /// Parses and validates an identity number, 18 characters or legacy 15 digits.
    ///
    /// Removes spaces anywhere (ASCII, full-width U+3000 and other Unicode white space), turns
    /// full-width digits and `Ｘ`/`ｘ` into ASCII and a lower-case `x` into `X`. Checks the
    /// length, the digits, the birth date (a real Gregorian date, year from [`MIN_YEAR`], not
    /// after `today`), and the check character of an 18-character number; a 15-digit number
    /// is converted to 18 characters (module docs).
    ///
    /// `today` is `(year, month, day)`, supplied by the caller: the core reads no clock.
    ///
    /// # Errors
    /// [`IdNumberError::Empty`], [`IdNumberError::WrongLength`], [`IdNumberError::NotDigits`],
    /// [`IdNumberError::BadDate`], [`IdNumberError::FutureDate`],
    /// [`IdNumberError::CheckFailed`], checked in that order.
    pub fn parse(s: &str, today: (i32, u32, u32)) -> Result<Parsed, IdNumberError> {
        parse_number(s, Some(today))
    }

    /// The 18-character number (17 ASCII digits and a digit or `X`). Personal data: do not log.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number masked for display, `1101**********002X` (see [`crate::mask::mask_id_number`]).
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    /// Characters 1–6: the address code 地址码 (GB 11643-1999), a GB/T 2260 county-level code.
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    /// Birth date `(year, month, day)` from characters 7–14 (GB 11643-1999, 出生日期码).
    pub fn birth_date(&self) -> (i32, u32, u32) {
        let year = i32::try_from(digits_value(&self.0[6..10])).unwrap_or(MIN_YEAR);
        (year, digits_value(&self.0[10..12]), digits_value(&self.0[12..14]))
    }

    /// Characters 15–17: the sequence code 顺序码 (GB 11643-1999).
    pub fn sequence_code(&self) -> &str {
        &self.0[14..17]
    }

    /// Sex from the parity of the sequence code: odd for men, even for women
    /// (GB 11643-1999, 顺序码).
    pub fn sex(&self) -> Sex {
        if digits_value(&self.0[16..17]) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in full years on `today` (`(year, month, day)`): a year is added on each birthday;
    /// someone born on 29 February turns a year older on 1 March in a common year. 0 if
    /// `today` is before the birth date.
    pub fn age_on(&self, today: (i32, u32, u32)) -> u32 {
        let (y, m, d) = self.birth_date();
        if today < (y, m, d) {
            return 0;
        }
        let mut years = today.0 - y;
        if (today.1, today.2) < (m, d) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

/// Shared by [`IdNumber::parse`] (`today` given) and deserialisation (`None`: no upper bound on
/// the birth date).
fn parse_number(s: &str, today: Option<(i32, u32, u32)>) -> Result<Parsed, IdNumberError> {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).map(normalise_char).collect();
    if chars.is_empty() {
        return Err(IdNumberError::Empty);
    }
    let len = chars.len();
    if len != ID_LEN && len != LEGACY_LEN {
        return Err(IdNumberError::WrongLength { len });
    }
    let digits_ok = chars
        .iter()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || (*c == 'X' && i == ID_LEN - 1));
    if !digits_ok {
        return Err(IdNumberError::NotDigits);
    }
    let converted_from_15 = len == LEGACY_LEN;
    // The first 17 characters of the 18-character form.
    let mut body = String::with_capacity(ID_LEN);
    if converted_from_15 {
        body.extend(&chars[..6]);
        body.push_str("19");
        body.extend(&chars[6..]);
    } else {
        body.extend(&chars[..ID_LEN - 1]);
    }

    let year = i32::try_from(digits_value(&body[6..10])).unwrap_or(0);
    let month = digits_value(&body[10..12]);
    let day = digits_value(&body[12..14]);
    if year < MIN_YEAR || day == 0 || day > days_in_month(year, month) {
        return Err(IdNumberError::BadDate);
    }
    if let Some(today) = today
        && (year, month, day) > today
    {
        return Err(IdNumberError::FutureDate);
    }

    let expected = check_character(&body).ok_or(IdNumberError::NotDigits)?;
    if !converted_from_15 {
        let found = chars[ID_LEN - 1];
        if found != expected {
            return Err(IdNumberError::CheckFailed { expected, found });
        }
    }
    body.push(expected);
    Ok(Parsed {
        number: IdNumber(body),
        converted_from_15,
    })
}

impl fmt::Debug for IdNumber {
    /// Masked: `IdNumber("1101**********002X")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;

    /// The checks of [`IdNumber::parse`] except "not after today" (see [`IdNumber`]).
    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse_number(&s, None).map(|p| p.number)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const TODAY: (i32, u32, u32) = (2025, 6, 15);

    fn parse(s: &str) -> Result<Parsed, IdNumberError> {
        IdNumber::parse(s, TODAY)
    }

    fn id(s: &str) -> IdNumber {
        parse(s).unwrap().number
    }

    /// The 18-character number for 17 given digits, with its computed check character.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_character(first17).unwrap())
    }

    #[test]
    fn standard_example() {
        // GB 11643-1999's example: 北京市朝阳区 (110105), born 1949-12-31, sequence 002.
        // By hand: digits 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2
        //          weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
        //          7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2;
        //          (12 − 2) mod 11 = 10 → X.
        let p = parse("11010519491231002X").unwrap();
        assert!(!p.converted_from_15);
        let n = p.number;
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.address_code(), "110105");
        assert_eq!(n.birth_date(), (1949, 12, 31));
        assert_eq!(n.sequence_code(), "002");
        assert_eq!(n.sex(), Sex::Female);
        assert_eq!(n.sex().zh(), "女");
        assert_eq!(n.age_on((2024, 12, 30)), 74);
        assert_eq!(n.age_on((2024, 12, 31)), 75);
        assert_eq!(check_character("11010519491231002"), Some('X'));
    }

    #[test]
    fn standard_second_example_is_before_1900() {
        // GB 11643-1999's other example, 广东省汕头市潮阳县, born 1880-01-01, sequence 001:
        // 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8; 12 − 8 = 4.
        assert_eq!(check_character("44052418800101001"), Some('4'));
        // Its check holds, but the year is below MIN_YEAR.
        assert_eq!(parse("440524188001010014"), Err(IdNumberError::BadDate));
    }

    #[test]
    fn hand_computed_example() {
        // A made-up number of 大通县 (630121), born 1990-01-01, sequence 123:
        // digits  6  3  0 1  2 1 1 9 9 0 0 1  0 1 1 2 3
        // weights 7  9 10 5  8 4 2 1 6 3 7 9 10 5 8 4 2
        // 42+27+0+5+16+4+2+9+54+0+0+9+0+5+8+8+6 = 195; 195 mod 11 = 8; 12 − 8 = 4.
        let n = id("630121199001011234");
        assert_eq!(n.birth_date(), (1990, 1, 1));
        assert_eq!(n.sex(), Sex::Male);
        assert_eq!(n.sex().as_str(), "male");
        assert_eq!(n.sex().zh(), "男");
        assert_eq!(n.address_code(), "630121");
        assert_eq!(n.age_on(TODAY), 35);
        assert_eq!(
            parse("630121199001011235"),
            Err(IdNumberError::CheckFailed {
                expected: '4',
                found: '5'
            })
        );
    }

    #[test]
    fn legacy_15_digits() {
        // The same person's first-generation number: 630121 900101 123. Inserting 19 gives the
        // 17 digits above, whose check character is 4.
        let p = parse("630121900101123").unwrap();
        assert!(p.converted_from_15);
        assert_eq!(p.number, id("630121199001011234"));
        assert_eq!(p.number.birth_date(), (1990, 1, 1));
        // 00 means 1900, which is not a leap year.
        assert_eq!(parse("630121000229123"), Err(IdNumberError::BadDate));
        assert_eq!(parse("630121000228124").unwrap().number.birth_date(), (1900, 2, 28));
        assert_eq!(parse("630121000228124").unwrap().number.sex(), Sex::Female);
        // No X in a 15-digit number.
        assert_eq!(parse("63012190010112X"), Err(IdNumberError::NotDigits));
    }

    #[test]
    fn normalisation() {
        let n = id("11010519491231002X");
        assert_eq!(id("11010519491231002x"), n);
        assert_eq!(id("  110105 19491231 002x\t"), n);
        assert_eq!(id("\u{3000}110105\u{3000}19491231\u{3000}002X\u{3000}"), n);
        assert_eq!(id("１１０１０５１９４９１２３１００２ｘ"), n);
        assert_eq!(id("１１０１０５１９４９１２３１００２Ｘ"), n);
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(1996));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(1999));
        assert!(!is_leap_year(2100));
        // 29 February exists in 2000 (divisible by 400) and 1996, not in 1900 (divisible by
        // 100) nor 1999.
        for (date, ok) in [
            ("20000229", true),
            ("19960229", true),
            ("19000229", false),
            ("19990229", false),
        ] {
            let n = with_check(&format!("630121{date}002"));
            assert_eq!(parse(&n).is_ok(), ok, "{date}");
            if !ok {
                assert_eq!(parse(&n), Err(IdNumberError::BadDate));
            }
        }
        let leapling = id(&with_check("63012119960229002"));
        assert_eq!(leapling.birth_date(), (1996, 2, 29));
        assert_eq!(leapling.age_on((1997, 2, 28)), 0);
        assert_eq!(leapling.age_on((1997, 3, 1)), 1);
        assert_eq!(leapling.age_on((2000, 2, 29)), 4);
    }

    #[test]
    fn dates() {
        for date in [
            "18991231", "19901301", "19900001", "19900100", "19900132", "19900431", "19900230",
        ] {
            let n = with_check(&format!("630121{date}002"));
            assert_eq!(parse(&n), Err(IdNumberError::BadDate), "{date}");
        }
        for date in ["19000101", "19900131", "19900430", "19901231"] {
            assert!(parse(&with_check(&format!("630121{date}002"))).is_ok(), "{date}");
        }
        // Born today is fine, tomorrow is not.
        let born_today = with_check("63012120250615002");
        assert_eq!(id(&born_today).age_on(TODAY), 0);
        let tomorrow = with_check("63012120250616002");
        assert_eq!(parse(&tomorrow), Err(IdNumberError::FutureDate));
        assert!(IdNumber::parse(&tomorrow, (2025, 6, 16)).is_ok());
        // Before the birth date, the age is 0.
        assert_eq!(id("630121199001011234").age_on((1980, 1, 1)), 0);
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(parse(""), Err(IdNumberError::Empty));
        assert_eq!(parse(" \u{3000} "), Err(IdNumberError::Empty));
        assert_eq!(parse("11010519491231002"), Err(IdNumberError::WrongLength { len: 17 }));
        assert_eq!(
            parse("11010519491231002XX"),
            Err(IdNumberError::WrongLength { len: 19 })
        );
        assert_eq!(parse("1101051949123100"), Err(IdNumberError::WrongLength { len: 16 }));
        assert_eq!(parse("11010519491231002A"), Err(IdNumberError::NotDigits));
        assert_eq!(parse("1101051949123100X2"), Err(IdNumberError::NotDigits));
        assert_eq!(parse("11010519491231-02X"), Err(IdNumberError::NotDigits));
        assert_eq!(
            parse("110105194912310021"),
            Err(IdNumberError::CheckFailed {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn messages_never_quote_the_number() {
        let inputs = [
            "110105194912310021",
            "11010519491231002A",
            "1101051949123100",
            "110105194913310021",
            "630121202606160020",
        ];
        for input in inputs {
            let e = IdNumber::parse(input, TODAY).unwrap_err();
            let msg = e.to_string();
            for part in ["110105", "1949", "630121", "2026", "0021", "002"] {
                assert!(!msg.contains(part), "{} quotes {part}: {msg}", e.key());
            }
        }
        let keys: Vec<&str> = [
            IdNumberError::Empty,
            IdNumberError::WrongLength { len: 3 },
            IdNumberError::NotDigits,
            IdNumberError::BadDate,
            IdNumberError::FutureDate,
            IdNumberError::CheckFailed {
                expected: '1',
                found: '2',
            },
        ]
        .iter()
        .map(IdNumberError::key)
        .collect();
        assert_eq!(
            keys,
            [
                "id-number-empty",
                "id-number-wrong-length",
                "id-number-not-digits",
                "id-number-bad-date",
                "id-number-future-date",
                "id-number-check-failed"
            ]
        );
    }

    #[test]
    fn debug_is_masked() {
        let p = parse("11010519491231002X").unwrap();
        let debug = format!("{p:?}");
        assert!(!debug.contains("19491231"), "{debug}");
        assert!(debug.contains("1101**********002X"), "{debug}");
        assert_eq!(p.number.masked(), "1101**********002X");
    }

    #[test]
    fn serde_as_string() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, StrDeserializer};
        assert_eq!(String::from(id("11010519491231002X")), "11010519491231002X");
        let de: StrDeserializer<'_, DeError> = "11010519491231002x".into_deserializer();
        assert_eq!(IdNumber::deserialize(de).unwrap(), id("11010519491231002X"));
        let de: StrDeserializer<'_, DeError> = "630121900101123".into_deserializer();
        assert_eq!(IdNumber::deserialize(de).unwrap(), id("630121199001011234"));
        let de: StrDeserializer<'_, DeError> = "110105194912310021".into_deserializer();
        assert!(IdNumber::deserialize(de).is_err());
        assert_eq!(Sex::Female.to_string(), "female");
    }

    /// Any valid number: address, birth date 1900–2024, sequence, computed check character.
    fn valid_number() -> impl Strategy<Value = String> {
        (100_000u32..=999_999, 1900i32..=2024, 1u32..=12, 0u32..31, 0u32..1000).prop_map(|(a, y, m, d, q)| {
            let day = 1 + d % days_in_month(y, m);
            with_check(&format!("{a:06}{y:04}{m:02}{day:02}{q:03}"))
        })
    }

    proptest! {
        #[test]
        fn valid_numbers_parse(n in valid_number()) {
            let p = parse(&n).unwrap();
            prop_assert_eq!(p.number.as_str(), n.as_str());
            let (y, m, d) = p.number.birth_date();
            prop_assert_eq!(format!("{y:04}{m:02}{d:02}"), &n[6..14]);
            let odd = n.as_bytes()[16] % 2 == 1;
            prop_assert_eq!(p.number.sex(), if odd { Sex::Male } else { Sex::Female });
        }

        #[test]
        fn any_single_change_fails(n in valid_number(), pos in 0usize..ID_LEN, v in 0usize..10) {
            const SYMBOLS: &[u8; 11] = b"0123456789X";
            let mut bytes = n.into_bytes();
            let old = SYMBOLS.iter().position(|&s| s == bytes[pos]).unwrap();
            bytes[pos] = if pos < ID_LEN - 1 {
                // Another digit: shift by 1–9.
                SYMBOLS[(old + 1 + v % 9) % 10]
            } else {
                // Another check symbol: shift by 1–10 among the 11.
                SYMBOLS[(old + 1 + v) % 11]
            };
            let changed = String::from_utf8(bytes).unwrap();
            // MOD 11-2 detects every single-character error …
            prop_assert_ne!(check_character(&changed[..17]), changed.chars().last());
            // … so the number is refused (by its date if the change made it impossible).
            prop_assert!(parse(&changed).is_err());
        }

        #[test]
        fn legacy_form_converts(a in 100_000u32..=999_999, yy in 0u32..100, m in 1u32..=12, d in 0u32..31, q in 0u32..1000) {
            let day = 1 + d % days_in_month(1900 + i32::try_from(yy).unwrap(), m);
            let short = format!("{a:06}{yy:02}{m:02}{day:02}{q:03}");
            let long = with_check(&format!("{a:06}19{yy:02}{m:02}{day:02}{q:03}"));
            let p = parse(&short).unwrap();
            prop_assert!(p.converted_from_15);
            prop_assert_eq!(p.number.as_str(), long.as_str());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            if let Ok(p) = parse(&s) {
                prop_assert_eq!(p.number.as_str().len(), ID_LEN);
            }
        }
    }
}
