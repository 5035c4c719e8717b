//! Unified social credit codes (统一社会信用代码) of organisations, GB 32100-2015
//! ("法人和其他组织统一社会信用代码编码规则").
//!
//! A code has 18 characters from a 31-character alphabet: the digits 0–9 and the capital
//! letters except I, O, S, V and Z, the letters A–H, J–N, P–R, T, U, W–Y having the values
//! 10–30 in that order. Read left to right (GB 32100-2015, 代码结构):
//!
//! | characters | part |
//! |---|---|
//! | 1 | registration authority code 登记管理部门码 (e.g. 1 机构编制, 5 民政, 9 工商, Y other) |
//! | 2 | organisation type code 机构类别码, read with the authority (e.g. 91 enterprise, 12 public institution) |
//! | 3–8 | administrative division code of the registering authority 登记管理机关行政区划码 (6 digits, GB/T 2260) |
//! | 9–17 | body 主体标识码: the organisation code 组织机构代码 (GB 11714) |
//! | 18 | check character 校验码 |
//!
//! The check character (GB 32100-2015, 校验码, after GB/T 17710) is computed from the values
//! `c_i` (0–30) of the first 17 characters with the weights `w_i = 3^(i−1) mod 31`
//! (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28):
//! `check = 31 − (Σ c_i·w_i mod 31)`, a result of 31 being written 0. As 31 is prime and no
//! weight is 0 mod 31, every single-character error changes the sum and is detected.
//!
//! Early pilot codes (issued before the standard settled) can fail the check (SPEC C3: "early
//! pilot codes that fail it are accepted with a warning"). [`CreditCode::parse`] therefore
//! checks only the shape; [`CreditCode::verify`] checks the check character, and
//! [`CreditCode::parse_strict`] does both.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Number of characters in a unified social credit code.
pub const CODE_LEN: usize = 18;

/// The code alphabet in value order: `ALPHABET[v]` is the character of value `v`
/// (GB 32100-2015).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of characters 1–17 for the check character: `3^(i−1) mod 31` (GB 32100-2015).
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Value 0–30 of a code character (GB 32100-2015), or `None` for a character outside
/// the alphabet (including lower-case letters and I, O, S, V, Z).
pub fn char_value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|v| u32::try_from(v).ok())
}

/// Character of a value 0–30, or `None` above 30.
fn value_char(v: u32) -> Option<char> {
    let i = usize::try_from(v).ok()?;
    ALPHABET.get(i).map(|&b| char::from(b))
}

/// Computes the check character (GB 32100-2015, module docs) for the first 17 characters of a code.
///
/// Returns `None` unless `first17` is exactly 17 characters of the code alphabet (upper case).
pub fn check_character(first17: &str) -> Option<char> {
    if first17.chars().count() != WEIGHTS.len() {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += char_value(c)? * w;
    }
    // 31 − (sum mod 31) lies in 1..=31; 31 is written 0.
    value_char((31 - sum % 31) % 31)
}

/// Why a unified social credit code was rejected. Messages are English and say what to fix;
/// [`CreditCodeError::key`] gives a stable identifier for translation.
///
/// A credit code identifies an organisation and is public (it is printed on business licences
/// and published by the registries), so messages may name its characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// The input was empty (or only spaces).
    #[error("unified social credit code is empty; enter the 18-character code from the licence")]
    Empty,
    /// The input does not have 18 characters.
    #[error("unified social credit code has {len} characters; it has 18 (GB 32100-2015)")]
    WrongLength {
        /// Number of characters after trimming.
        len: usize,
    },
    /// A character outside the alphabet, or a letter among the division-code digits 3–8.
    #[error(
        "unified social credit code has {ch:?} at position {position}, which is not allowed there: \
         positions 3–8 are digits, and no position uses I, O, S, V, Z or other symbols"
    )]
    BadCharacter {
        /// 1-based position of the character.
        position: usize,
        /// The character (after normalisation to upper-case ASCII where possible).
        ch: char,
    },
    /// The check character (position 18) does not match the first 17 characters.
    #[error(
        "unified social credit code ends in {found} but its first 17 characters give the check \
         character {expected}; look for a mistyped character (some early pilot codes fail this check)"
    )]
    CheckFailed {
        /// Check character computed from the first 17 characters.
        expected: char,
        /// Check character the code carries.
        found: char,
    },
}

impl CreditCodeError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            CreditCodeError::Empty => "credit-code-empty",
            CreditCodeError::WrongLength { .. } => "credit-code-wrong-length",
            CreditCodeError::BadCharacter { .. } => "credit-code-bad-character",
            CreditCodeError::CheckFailed { .. } => "credit-code-check-failed",
        }
    }
}

/// A unified social credit code of the right shape: 18 characters of the code alphabet with
/// digits at positions 3–8 (see the module docs). The check character is *not* guaranteed to
/// match; use [`CreditCode::verify`].
///
/// Serialises as the 18-character string; deserialises through [`CreditCode::parse`] (shape
/// only, so stored pilot codes read back).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

/// Turns a full-width ASCII variant (U+FF01–U+FF5E) into its ASCII character, leaves the rest.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

impl CreditCode {
    /// Parses a code and checks its shape (length, alphabet, digits at positions 3–8), but not
    /// its check character.
    ///
    /// Trims ASCII and full-width (U+3000) spaces, turns full-width digits and letters into
    /// ASCII, and lower-case letters into upper case.
    ///
    /// # Errors
    /// [`CreditCodeError::Empty`], [`CreditCodeError::WrongLength`],
    /// [`CreditCodeError::BadCharacter`] (the first offending character).
    pub fn parse(s: &str) -> Result<CreditCode, CreditCodeError> {
        let trimmed = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{3000}');
        if trimmed.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let code: String = trimmed.chars().map(|c| half_width(c).to_ascii_uppercase()).collect();
        let len = code.chars().count();
        if len != CODE_LEN {
            return Err(CreditCodeError::WrongLength { len });
        }
        for (i, ch) in code.chars().enumerate() {
            let ok = match i {
                2..=7 => ch.is_ascii_digit(),
                _ => char_value(ch).is_some(),
            };
            if !ok {
                return Err(CreditCodeError::BadCharacter { position: i + 1, ch });
            }
        }
        Ok(CreditCode(code))
    }

    /// [`CreditCode::parse`] followed by [`CreditCode::verify`]: for inputs where pilot codes
    /// need not be accepted.
    ///
    /// # Errors
    /// Those of [`CreditCode::parse`], and [`CreditCodeError::CheckFailed`].
    pub fn parse_strict(s: &str) -> Result<CreditCode, CreditCodeError> {
        let code = CreditCode::parse(s)?;
        code.verify()?;
        Ok(code)
    }

    /// Checks the check character (position 18) against the first 17 (GB 32100-2015).
    ///
    /// A failure is an error for new input but only a warning for early pilot codes (SPEC C3);
    /// the caller decides.
    ///
    /// # Errors
    /// [`CreditCodeError::CheckFailed`] with the computed and the carried check character.
    pub fn verify(&self) -> Result<(), CreditCodeError> {
        let expected = self.expected_check_character();
        let found = self.check_char();
        if expected == found {
            Ok(())
        } else {
            Err(CreditCodeError::CheckFailed { expected, found })
        }
    }

    /// The check character the first 17 characters give (GB 32100-2015).
    pub fn expected_check_character(&self) -> char {
        // The shape is checked on construction, so the computation cannot fail; '0' is never
        // reached.
        check_character(&self.0[..CODE_LEN - 1]).unwrap_or('0')
    }

    /// The 18-character code (ASCII, upper case).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Character at 0-based byte index `i` (the code is ASCII).
    fn char_at(&self, i: usize) -> char {
        self.0.as_bytes().get(i).map_or('0', |&b| char::from(b))
    }

    /// Position 1: registration authority code 登记管理部门码 (GB 32100-2015), e.g. `1`
    /// institutional staffing 机构编制, `5` civil affairs 民政, `9` market regulation 工商,
    /// `Y` other.
    pub fn registration_authority(&self) -> char {
        self.char_at(0)
    }

    /// Position 2: organisation type code 机构类别码, meaningful together with the registration
    /// authority (GB 32100-2015), e.g. `91` an enterprise, `12` a public institution 事业单位.
    pub fn organization_type(&self) -> char {
        self.char_at(1)
    }

    /// Positions 3–8: the 6-digit administrative division code of the registering authority
    /// (GB 32100-2015; codes of GB/T 2260, `100000` for national registrations).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Positions 9–17: the body, the organisation's 9-character organisation code
    /// (GB 32100-2015; GB 11714).
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }

    /// Position 18: the check character the code carries (see [`CreditCode::verify`]).
    pub fn check_char(&self) -> char {
        self.char_at(17)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    /// Same as [`CreditCode::parse`] (shape only).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;

    /// Same as [`CreditCode::parse`] (shape only).
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> String {
        code.0
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> CreditCode {
        CreditCode::parse(s).unwrap()
    }

    /// Codes published in the national enterprise credit information publicity system and on
    /// the organisations' licences.
    const PUBLISHED: [&str; 6] = [
        // 华为技术有限公司 (Huawei Technologies Co., Ltd.), Shenzhen. By hand:
        //   characters 9 1 4 4 0 3 0 0 1 9 2 2 0 3 8 2 1
        //   weights    1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
        //   products   9+3+36+108+0+78+0+0+20+261+50+26+0+72+80+60+28 = 831
        //   831 mod 31 = 25 (31·26 = 806); 31 − 25 = 6 → check character 6.
        "914403001922038216",
        // 北京百度网讯科技有限公司 (Beijing Baidu Netcom), registered by Beijing (division
        // 110000): sum 485, 485 mod 31 = 20, 31 − 20 = 11 → B.
        "91110000802100433B",
        // 深圳市腾讯计算机系统有限公司 (Shenzhen Tencent Computer Systems): sum 966, mod 31 = 5,
        // 31 − 5 = 26 → T.
        "91440300708461136T",
        // 小米科技有限责任公司 (Xiaomi), Beijing Haidian: sum 999, mod 31 = 7, 31 − 7 = 24 → Q.
        "91110108551385082Q",
        // 阿里巴巴（中国）网络技术有限公司, Hangzhou: sum 884, mod 31 = 16, 31 − 16 = 15 → F.
        "91330100716105852F",
        // 华东师范大学 (East China Normal University), a public institution (type 2) registered
        // nationally (division 100000) by the staffing authority (1): sum 607, mod 31 = 18,
        // 31 − 18 = 13 → D.
        "12100000425006133D",
    ];

    #[test]
    fn published_codes_verify() {
        for s in PUBLISHED {
            let c = code(s);
            assert_eq!(c.as_str(), s);
            assert_eq!(c.verify(), Ok(()), "{s}");
            assert_eq!(CreditCode::parse_strict(s).unwrap(), c);
            assert_eq!(check_character(&s[..17]), s.chars().last());
        }
    }

    #[test]
    fn published_codes_with_one_change_fail() {
        // The last digit of Huawei's code written 7 instead of 6.
        assert_eq!(
            code("914403001922038217").verify(),
            Err(CreditCodeError::CheckFailed {
                expected: '6',
                found: '7'
            })
        );
        // Two adjacent characters swapped (…0433B → …0343B) in Baidu's.
        assert_eq!(
            code("91110000802100343B").verify().unwrap_err().key(),
            "credit-code-check-failed"
        );
        // Every single-character change of every published code fails.
        for s in PUBLISHED {
            for i in 0..CODE_LEN {
                for &b in ALPHABET {
                    let mut bytes = s.as_bytes().to_vec();
                    if bytes[i] == b {
                        continue;
                    }
                    bytes[i] = b;
                    let changed = String::from_utf8(bytes).unwrap();
                    match CreditCode::parse(&changed) {
                        Ok(c) => assert!(c.verify().is_err(), "{changed}"),
                        Err(e) => assert_eq!(e.key(), "credit-code-bad-character"),
                    }
                }
            }
        }
    }

    #[test]
    fn letters_in_the_body() {
        // A code with letters in the organisation code (widely used as an example; the check
        // holds: sum 1640, mod 31 = 28, 31 − 28 = 3).
        let c = code("91350100M000100Y43");
        assert_eq!(c.verify(), Ok(()));
        assert_eq!(c.organization_code(), "M000100Y4");
        // A made-up body whose weighted sum is a multiple of 31, so 31 − 0 = 31 is written 0:
        // 9·1 + 1·3 + 1·9 + 1·27 + 16 (G)·28 = 496 = 31·16.
        assert_eq!(check_character("9111000000000000G"), Some('0'));
        assert_eq!(code("9111000000000000G0").verify(), Ok(()));
    }

    #[test]
    fn accessors() {
        let c = code("914403001922038216");
        assert_eq!(c.registration_authority(), '9');
        assert_eq!(c.organization_type(), '1');
        assert_eq!(c.division_code(), "440300");
        assert_eq!(c.organization_code(), "192203821");
        assert_eq!(c.check_char(), '6');
        assert_eq!(c.expected_check_character(), '6');
        let u = code("12100000425006133D");
        assert_eq!(u.registration_authority(), '1');
        assert_eq!(u.organization_type(), '2');
        assert_eq!(u.division_code(), "100000");
    }

    #[test]
    fn normalisation() {
        assert_eq!(code("  91110000802100433b\t").as_str(), "91110000802100433B");
        assert_eq!(
            code("\u{3000}９１１１００００８０２１００４３３Ｂ\u{3000}").as_str(),
            "91110000802100433B"
        );
        assert_eq!(code("91350100m000100ｙ43").as_str(), "91350100M000100Y43");
        assert_eq!(
            "914403001922038216".parse::<CreditCode>().unwrap().to_string(),
            "914403001922038216"
        );
    }

    #[test]
    fn invalid_shapes() {
        assert_eq!(CreditCode::parse(" \u{3000} "), Err(CreditCodeError::Empty));
        assert_eq!(
            CreditCode::parse("9144030019220382"),
            Err(CreditCodeError::WrongLength { len: 16 })
        );
        assert_eq!(
            CreditCode::parse("9144030019220382166").unwrap_err().key(),
            "credit-code-wrong-length"
        );
        // Inner spaces are not removed.
        assert_eq!(
            CreditCode::parse("914403 001922038216").unwrap_err(),
            CreditCodeError::WrongLength { len: 19 }
        );
        // Letters the alphabet leaves out (I, O, S, V, Z), also when typed in lower case.
        for (s, position, ch) in [
            ("91440300192203821O", 18, 'O'),
            ("91440300I92203821O", 9, 'I'),
            ("9144030019220382s6", 17, 'S'),
            ("Z14403001922038216", 1, 'Z'),
            ("9V4403001922038216", 2, 'V'),
            ("91440300192-038216", 12, '-'),
            ("91440300192203821中", 18, '中'),
        ] {
            assert_eq!(
                CreditCode::parse(s),
                Err(CreditCodeError::BadCharacter { position, ch }),
                "{s}"
            );
        }
        // A letter among the division digits.
        assert_eq!(
            CreditCode::parse("9144A3001922038216"),
            Err(CreditCodeError::BadCharacter { position: 5, ch: 'A' })
        );
        assert_eq!(
            CreditCode::parse_strict("914403001922038217").unwrap_err().key(),
            "credit-code-check-failed"
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            CreditCodeError::WrongLength { len: 15 }.to_string(),
            "unified social credit code has 15 characters; it has 18 (GB 32100-2015)"
        );
        let e = CreditCodeError::CheckFailed {
            expected: '6',
            found: '7',
        };
        assert!(e.to_string().contains("ends in 7"));
        assert!(e.to_string().contains("check character 6"));
        assert_eq!(CreditCodeError::Empty.key(), "credit-code-empty");
    }

    #[test]
    fn alphabet_values() {
        assert_eq!(ALPHABET.len(), 31);
        assert_eq!(char_value('0'), Some(0));
        assert_eq!(char_value('A'), Some(10));
        assert_eq!(char_value('H'), Some(17));
        assert_eq!(char_value('J'), Some(18));
        assert_eq!(char_value('N'), Some(22));
        assert_eq!(char_value('P'), Some(23));
        assert_eq!(char_value('R'), Some(25));
        assert_eq!(char_value('T'), Some(26));
        assert_eq!(char_value('U'), Some(27));
        assert_eq!(char_value('W'), Some(28));
        assert_eq!(char_value('Y'), Some(30));
        for c in ['I', 'O', 'S', 'V', 'Z', 'a', ' ', 'é'] {
            assert_eq!(char_value(c), None);
        }
        // Weights are 3^(i−1) mod 31.
        let mut w = 1u32;
        for weight in WEIGHTS {
            assert_eq!(weight, w);
            w = w * 3 % 31;
        }
        assert_eq!(check_character("9144030019220382"), None);
        assert_eq!(check_character("91440300192203821I"), None);
        assert_eq!(check_character("9144030019220382I"), None);
    }

    #[test]
    fn serde_as_string() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, StrDeserializer};
        assert_eq!(String::from(code("914403001922038216")), "914403001922038216");
        // Shape only: a pilot code whose check fails still reads back.
        let de: StrDeserializer<'_, DeError> = "914403001922038217".into_deserializer();
        assert_eq!(CreditCode::deserialize(de).unwrap(), code("914403001922038217"));
        let de: StrDeserializer<'_, DeError> = "91440300192203821O".into_deserializer();
        assert!(CreditCode::deserialize(de).is_err());
    }

    /// 17 characters of a well-shaped code: the alphabet at positions 1–2 and 9–17, digits at
    /// 3–8.
    fn first17() -> impl Strategy<Value = String> {
        let any = || (0usize..31).prop_map(|v| char::from(ALPHABET[v]));
        let digit = || (0usize..10).prop_map(|v| char::from(ALPHABET[v]));
        (
            proptest::collection::vec(any(), 2),
            proptest::collection::vec(digit(), 6),
            proptest::collection::vec(any(), 9),
        )
            .prop_map(|(a, b, c)| a.into_iter().chain(b).chain(c).collect())
    }

    proptest! {
        #[test]
        fn computed_check_verifies(body in first17()) {
            let check = check_character(&body).unwrap();
            let c = CreditCode::parse(&format!("{body}{check}")).unwrap();
            prop_assert_eq!(c.verify(), Ok(()));
            prop_assert_eq!(c.expected_check_character(), check);
        }

        #[test]
        fn any_single_change_breaks_it(body in first17(), pos in 0usize..CODE_LEN, v in 1usize..31) {
            let mut bytes = body.into_bytes();
            let check = check_character(std::str::from_utf8(&bytes).unwrap()).unwrap();
            bytes.push(u8::try_from(check).unwrap());
            // Move the character at `pos` by `v` (1..=30) places round the alphabet: always a
            // different valid character.
            let old = ALPHABET.iter().position(|&a| a == bytes[pos]).unwrap();
            bytes[pos] = ALPHABET[(old + v) % 31];
            let changed = String::from_utf8(bytes).unwrap();
            // The raw check detects it whatever the position …
            prop_assert_ne!(check_character(&changed[..17]), changed.chars().last());
            // … and the code is refused, by shape (a letter among digits 3–8) or by the check.
            match CreditCode::parse(&changed) {
                Ok(c) => prop_assert!(c.verify().is_err()),
                Err(e) => prop_assert_eq!(e.key(), "credit-code-bad-character"),
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            if let Ok(c) = CreditCode::parse(&s) {
                let _ = c.verify();
                prop_assert_eq!(c.division_code().len(), 6);
            }
        }
    }
}
