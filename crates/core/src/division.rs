//! NBS statistical division codes (统计用区划代码).
//!
//! A code has 12 digits, read in five groups:
//!
//! | digits | group | meaning |
//! |---|---|---|
//! | 1–2 | province | 省级 |
//! | 3–4 | city | 地级 (prefecture) |
//! | 5–6 | county | 县级 |
//! | 7–9 | town | 乡级 (sub-district, town, township, town-like unit) |
//! | 10–12 | village | 村级 (residents' or villagers' committee and alike) |
//!
//! A code names the deepest non-zero group; every group after it is zero-padded.
//! The rules below follow the National Bureau of Statistics' coding rules
//! ("NBS 统计用区划代码编制规则"):
//!
//! - town-level digits 7–9: 001–099 sub-district 街道, 100–199 town 镇,
//!   200–399 township 乡, 400–599 town-like unit 类似乡级单位 (development zones, farms);
//!   600–999 are not used;
//! - village-level digits 10–12: 001–199 residents' committee 居委会 (community),
//!   200–399 villagers' committee 村委会, 400–499 residents'-committee-like unit 类似居委会,
//!   500–599 villagers'-committee-like unit 类似村委会; 600–999 are not used.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Number of digits in a full NBS statistical division code.
pub const CODE_LEN: usize = 12;

/// Administrative level of a division, from the shallowest (province) to the deepest (village).
///
/// Ordering follows depth: `Province < City < County < Town < Village`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Province-level division 省级 (digits 1–2).
    Province,
    /// Prefecture-level division 地级 (digits 3–4).
    City,
    /// County-level division 县级 (digits 5–6).
    County,
    /// Town-level division 乡级: sub-district, town, township or town-like unit (digits 7–9).
    Town,
    /// Village-level division 村级: residents' or villagers' committee (digits 10–12).
    Village,
}

impl Level {
    /// All levels, shallowest first.
    pub const ALL: [Level; 5] = [Level::Province, Level::City, Level::County, Level::Town, Level::Village];

    /// Stable English name: "province", "city", "county", "town" or "village".
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Town => "town",
            Level::Village => "village",
        }
    }

    /// Depth in the tree: 0 for a province up to 4 for a village.
    pub fn depth(self) -> usize {
        match self {
            Level::Province => 0,
            Level::City => 1,
            Level::County => 2,
            Level::Town => 3,
            Level::Village => 4,
        }
    }

    /// Number of significant leading digits of a code at this level (2, 4, 6, 9 or 12).
    pub fn prefix_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Town => 9,
            Level::Village => 12,
        }
    }

    /// The level one step up, or `None` for a province.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::Province => None,
            Level::City => Some(Level::Province),
            Level::County => Some(Level::City),
            Level::Town => Some(Level::County),
            Level::Village => Some(Level::Town),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = CodeError;

    /// Parses an English level name (case-insensitive) or a Chinese one
    /// (省, 市, 县, 乡镇, 村; also 乡, 镇, 街道, 社区).
    ///
    /// # Errors
    /// [`CodeError::UnknownLevel`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let level = match t.to_ascii_lowercase().as_str() {
            "province" | "省" => Level::Province,
            "city" | "市" => Level::City,
            "county" | "县" => Level::County,
            "town" | "乡镇" | "乡" | "镇" | "街道" => Level::Town,
            "village" | "村" | "社区" => Level::Village,
            _ => {
                return Err(CodeError::UnknownLevel { value: t.to_owned() });
            }
        };
        Ok(level)
    }
}

/// Kind of a town-level division, from code digits 7–9 (NBS 统计用区划代码编制规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TownKind {
    /// Sub-district 街道: digits 7–9 in 001–099.
    SubDistrict,
    /// Town 镇: digits 7–9 in 100–199.
    Town,
    /// Township 乡 (including ethnic townships): digits 7–9 in 200–399.
    Township,
    /// Town-like unit 类似乡级单位 (development zone, farm …): digits 7–9 in 400–599.
    TownLike,
}

impl TownKind {
    /// Classifies town-level digits 7–9 (as a number 1–999); `None` for 0 and 600–999.
    pub fn from_digits(n: u16) -> Option<TownKind> {
        match n {
            1..=99 => Some(TownKind::SubDistrict),
            100..=199 => Some(TownKind::Town),
            200..=399 => Some(TownKind::Township),
            400..=599 => Some(TownKind::TownLike),
            _ => None,
        }
    }

    /// Stable snake_case name: "sub_district", "town", "township" or "town_like".
    pub fn as_str(self) -> &'static str {
        match self {
            TownKind::SubDistrict => "sub_district",
            TownKind::Town => "town",
            TownKind::Township => "township",
            TownKind::TownLike => "town_like",
        }
    }

    /// Chinese name: 街道, 镇, 乡 or 类似乡级单位.
    pub fn zh(self) -> &'static str {
        match self {
            TownKind::SubDistrict => "街道",
            TownKind::Town => "镇",
            TownKind::Township => "乡",
            TownKind::TownLike => "类似乡级单位",
        }
    }
}

/// Kind of a village-level division, from code digits 10–12 (NBS 统计用区划代码编制规则).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VillageKind {
    /// Residents' committee 居委会 (an urban community): digits 10–12 in 001–199.
    ResidentsCommittee,
    /// Villagers' committee 村委会 (a rural village): digits 10–12 in 200–399.
    VillagersCommittee,
    /// Residents'-committee-like unit 类似居委会: digits 10–12 in 400–499.
    ResidentsLike,
    /// Villagers'-committee-like unit 类似村委会: digits 10–12 in 500–599.
    VillagersLike,
}

impl VillageKind {
    /// Classifies village-level digits 10–12 (as a number 1–999); `None` for 0 and 600–999.
    pub fn from_digits(n: u16) -> Option<VillageKind> {
        match n {
            1..=199 => Some(VillageKind::ResidentsCommittee),
            200..=399 => Some(VillageKind::VillagersCommittee),
            400..=499 => Some(VillageKind::ResidentsLike),
            500..=599 => Some(VillageKind::VillagersLike),
            _ => None,
        }
    }

    /// Stable snake_case name: "residents_committee", "villagers_committee",
    /// "residents_like" or "villagers_like".
    pub fn as_str(self) -> &'static str {
        match self {
            VillageKind::ResidentsCommittee => "residents_committee",
            VillageKind::VillagersCommittee => "villagers_committee",
            VillageKind::ResidentsLike => "residents_like",
            VillageKind::VillagersLike => "villagers_like",
        }
    }

    /// Chinese name: 居委会, 村委会, 类似居委会 or 类似村委会.
    pub fn zh(self) -> &'static str {
        match self {
            VillageKind::ResidentsCommittee => "居委会",
            VillageKind::VillagersCommittee => "村委会",
            VillageKind::ResidentsLike => "类似居委会",
            VillageKind::VillagersLike => "类似村委会",
        }
    }

    /// True for a community (a residents' committee or a residents'-committee-like unit).
    pub fn is_community(self) -> bool {
        matches!(self, VillageKind::ResidentsCommittee | VillageKind::ResidentsLike)
    }
}

/// Why a division code or level was rejected. Messages are English and say what to fix;
/// [`CodeError::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The input was empty (or only spaces).
    #[error("division code is empty; enter the 12-digit NBS statistical code")]
    Empty,
    /// The input contains a character that is not a digit.
    #[error("division code {value} contains non-digit characters; NBS codes are digits only")]
    NotDigits {
        /// The input after trimming.
        value: String,
    },
    /// The input has a number of digits other than 2, 4, 6, 9 or 12.
    #[error("division code {value} has {len} digits; NBS codes have 12 (or 2/4/6/9 in the national table)")]
    WrongLength {
        /// The input after trimming and digit normalisation.
        value: String,
        /// Its number of digits.
        len: usize,
    },
    /// Province digits 1–2 are 00.
    #[error("division code {value} has province digits 00; the first two digits name a province")]
    ZeroProvince {
        /// The code, padded to 12 digits.
        value: String,
    },
    /// Town-level digits 7–9 are in the unused range 600–999.
    #[error(
        "division code {value} has town-level digits {digits}; NBS allows 001–099 (sub-district), \
         100–199 (town), 200–399 (township) and 400–599 (town-like unit)"
    )]
    TownPart {
        /// The code, padded to 12 digits.
        value: String,
        /// Digits 7–9.
        digits: String,
    },
    /// Village-level digits 10–12 are in the unused range 600–999.
    #[error(
        "division code {value} has village-level digits {digits}; NBS allows 001–199 (residents' \
         committee), 200–399 (villagers' committee), 400–499 (residents'-committee-like) and \
         500–599 (villagers'-committee-like)"
    )]
    VillagePart {
        /// The code, padded to 12 digits.
        value: String,
        /// Digits 10–12.
        digits: String,
    },
    /// A non-zero group follows an all-zero group (e.g. `630021100000`), other than the county
    /// digits 00 of a town directly under a city without counties.
    #[error(
        "division code {value} has non-zero digits after an all-zero group; only the end of a code \
         is zero-padded (a town code looks like 630121100000, not 630021100000)"
    )]
    Gap {
        /// The code, padded to 12 digits.
        value: String,
    },
    /// The declared level contradicts the level the code's digits give.
    #[error("division code {value} is a {actual} code but was declared as {declared}; fix the level or the code")]
    LevelMismatch {
        /// The code.
        value: String,
        /// The level given with the code.
        declared: Level,
        /// The level the code's digits give.
        actual: Level,
    },
    /// A level name was not recognised.
    #[error("unknown division level {value:?}; use province, city, county, town or village (省/市/县/乡镇/村)")]
    UnknownLevel {
        /// The input after trimming.
        value: String,
    },
}

impl CodeError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            CodeError::Empty => "code-empty",
            CodeError::NotDigits { .. } => "code-not-digits",
            CodeError::WrongLength { .. } => "code-wrong-length",
            CodeError::ZeroProvince { .. } => "code-zero-province",
            CodeError::TownPart { .. } => "code-town-part",
            CodeError::VillagePart { .. } => "code-village-part",
            CodeError::Gap { .. } => "code-gap",
            CodeError::LevelMismatch { .. } => "code-level-mismatch",
            CodeError::UnknownLevel { .. } => "level-unknown",
        }
    }
}

/// A validated NBS statistical division code: always 12 ASCII digits
/// (see the module docs for the rules).
///
/// Serialises as the 12-digit string; deserialises through [`DivisionCode::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

/// Start and end (exclusive) of each digit group, province first.
const GROUPS: [(usize, usize); 5] = [(0, 2), (2, 4), (4, 6), (6, 9), (9, 12)];

/// Numeric value of an all-ASCII-digit slice (at most 3 digits here).
fn group_value(digits: &str) -> u16 {
    digits.bytes().fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'))
}

impl DivisionCode {
    /// Parses and validates a code.
    ///
    /// Trims ASCII and full-width (U+3000) spaces, turns full-width digits ０–９ into ASCII,
    /// and accepts the national table's short forms of 2 (province), 4 (city), 6 (county)
    /// or 9 (town) digits besides the full 12, padding them with zeros.
    ///
    /// # Errors
    /// [`CodeError::Empty`], [`CodeError::NotDigits`], [`CodeError::WrongLength`],
    /// [`CodeError::ZeroProvince`], [`CodeError::Gap`] (a non-zero group after an all-zero one),
    /// [`CodeError::TownPart`] / [`CodeError::VillagePart`] (digits in the unused range 600–999).
    ///
    /// ```
    /// use ringline_core::division::{DivisionCode, Level};
    /// // 东峡镇, Datong County: a town; its parent is the county.
    /// let town = DivisionCode::parse("630121103000").unwrap();
    /// assert_eq!(town.level(), Level::Town);
    /// assert_eq!(town.parent().unwrap().as_str(), "630121000000");
    /// // The national table's 9-digit town codes and full-width digits are accepted.
    /// assert_eq!(DivisionCode::parse("６３０１２１１０３").unwrap(), town);
    /// assert!(DivisionCode::parse("63012110300").is_err()); // 11 digits
    /// ```
    pub fn parse(s: &str) -> Result<DivisionCode, CodeError> {
        let trimmed = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{3000}');
        if trimmed.is_empty() {
            return Err(CodeError::Empty);
        }
        let mut digits = String::with_capacity(CODE_LEN);
        for c in trimmed.chars() {
            let ascii = match c {
                '0'..='9' => c,
                '０'..='９' => {
                    let offset = u32::from(c) - u32::from('０');
                    char::from_digit(offset, 10).unwrap_or(c)
                }
                _ => {
                    return Err(CodeError::NotDigits {
                        value: trimmed.to_owned(),
                    });
                }
            };
            digits.push(ascii);
        }
        let len = digits.len();
        if !matches!(len, 2 | 4 | 6 | 9 | 12) {
            return Err(CodeError::WrongLength { value: digits, len });
        }
        while digits.len() < CODE_LEN {
            digits.push('0');
        }
        validate_digits(&digits)?;
        Ok(DivisionCode(digits))
    }

    /// The 12-digit code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Numeric value of digit group `i` (0 = province … 4 = village).
    fn group(&self, i: usize) -> u16 {
        let (a, b) = GROUPS[i];
        group_value(&self.0[a..b])
    }

    /// The level the code names: that of its deepest non-zero digit group.
    pub fn level(&self) -> Level {
        let deepest = (0..GROUPS.len()).rev().find(|&i| self.group(i) != 0).unwrap_or(0);
        Level::ALL[deepest]
    }

    /// The code one level up (village → town → county → city → province), or `None` for a
    /// province. The parent of a county directly under a province (city digits 90, e.g.
    /// 419001) is the NBS grouping code 419000.
    pub fn parent(&self) -> Option<DivisionCode> {
        let parent_level = self.level().parent()?;
        let keep = parent_level.prefix_len();
        let mut s = String::with_capacity(CODE_LEN);
        s.push_str(&self.0[..keep]);
        while s.len() < CODE_LEN {
            s.push('0');
        }
        Some(DivisionCode(s))
    }

    /// Kind of the town-level part (digits 7–9) for town and village codes; `None` above.
    pub fn town_kind(&self) -> Option<TownKind> {
        TownKind::from_digits(self.group(3))
    }

    /// Kind of a village code (digits 10–12); `None` for codes above village level.
    pub fn village_kind(&self) -> Option<VillageKind> {
        VillageKind::from_digits(self.group(4))
    }

    /// The significant prefix: 2, 4, 6, 9 or 12 digits by level (e.g. "630121" for a county).
    /// Every code in this division's subtree starts with it.
    pub fn prefix(&self) -> &str {
        &self.0[..self.level().prefix_len()]
    }

    /// True when `other` lies strictly below this code in the tree (a code is not its own
    /// ancestor).
    pub fn is_ancestor_of(&self, other: &DivisionCode) -> bool {
        self.level() < other.level() && other.0.starts_with(self.prefix())
    }
}

/// Checks the structure of a 12-ASCII-digit string.
fn validate_digits(digits: &str) -> Result<(), CodeError> {
    let values: Vec<u16> = GROUPS.iter().map(|&(a, b)| group_value(&digits[a..b])).collect();
    if values[0] == 0 {
        return Err(CodeError::ZeroProvince {
            value: digits.to_owned(),
        });
    }
    // Only the end of a code is zero-padded, with one exception from the NBS rules: a
    // prefecture-level city without counties (不设区的地级市, e.g. 东莞市 4419, 儋州市 4604) has
    // its towns directly under it, so their county digits are 00 (441900003000).
    let city_without_counties = values[1] != 0 && values[2] == 0 && values[3] != 0;
    let rest: Vec<u16> = if city_without_counties {
        values
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 2)
            .map(|(_, v)| *v)
            .collect()
    } else {
        values.clone()
    };
    if let Some(first_zero) = rest.iter().position(|&v| v == 0)
        && rest[first_zero..].iter().any(|&v| v != 0)
    {
        return Err(CodeError::Gap {
            value: digits.to_owned(),
        });
    }
    if values[3] >= 600 {
        return Err(CodeError::TownPart {
            value: digits.to_owned(),
            digits: digits[6..9].to_owned(),
        });
    }
    if values[4] >= 600 {
        return Err(CodeError::VillagePart {
            value: digits.to_owned(),
            digits: digits[9..12].to_owned(),
        });
    }
    Ok(())
}

/// Checks that `declared` is the level the code's digits give.
///
/// # Errors
/// [`CodeError::LevelMismatch`] when they differ (e.g. a row of an import declared "village"
/// whose code is 630121100000, a town).
pub fn check_level(code: &DivisionCode, declared: Level) -> Result<(), CodeError> {
    let actual = code.level();
    if actual == declared {
        Ok(())
    } else {
        Err(CodeError::LevelMismatch {
            value: code.0.clone(),
            declared,
            actual,
        })
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DivisionCode {
    type Err = CodeError;

    /// Same as [`DivisionCode::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DivisionCode::parse(s)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = CodeError;

    /// Same as [`DivisionCode::parse`].
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(code: DivisionCode) -> String {
        code.0
    }
}

impl AsRef<str> for DivisionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn datong_county() {
        // 大通回族土族自治县
        let c = code("630121000000");
        assert_eq!(c.level(), Level::County);
        assert_eq!(c.prefix(), "630121");
        assert_eq!(c.parent().unwrap().as_str(), "630100000000");
        assert_eq!(c.parent().unwrap().parent().unwrap().as_str(), "630000000000");
        assert_eq!(c.parent().unwrap().parent().unwrap().parent(), None);
        assert_eq!(c.town_kind(), None);
        assert_eq!(c.village_kind(), None);
    }

    #[test]
    fn datong_towns() {
        // 桥头镇
        let t = code("630121100000");
        assert_eq!(t.level(), Level::Town);
        assert_eq!(t.town_kind(), Some(TownKind::Town));
        assert_eq!(t.village_kind(), None);
        assert_eq!(t.prefix(), "630121100");
        assert_eq!(t.parent().unwrap(), code("630121000000"));
        // 青林乡
        let q = code("630121200000");
        assert_eq!(q.town_kind(), Some(TownKind::Township));
        assert_eq!(TownKind::Township.zh(), "乡");
    }

    #[test]
    fn datong_villages() {
        // 人民路南居委会 (桥头镇)
        let r = code("630121100001");
        assert_eq!(r.level(), Level::Village);
        assert_eq!(r.village_kind(), Some(VillageKind::ResidentsCommittee));
        assert!(r.village_kind().unwrap().is_community());
        assert_eq!(r.town_kind(), Some(TownKind::Town));
        assert_eq!(r.parent().unwrap(), code("630121100000"));
        // a villagers' committee of 桥头镇
        let v = code("630121100202");
        assert_eq!(v.village_kind(), Some(VillageKind::VillagersCommittee));
        assert!(!v.village_kind().unwrap().is_community());
        assert_eq!(VillageKind::VillagersCommittee.zh(), "村委会");
        // 东川工业园虚拟社区 (西宁市城东区)
        let d = code("630102400498");
        assert_eq!(d.town_kind(), Some(TownKind::TownLike));
        assert_eq!(d.village_kind(), Some(VillageKind::ResidentsLike));
        assert!(d.village_kind().unwrap().is_community());
    }

    #[test]
    fn ancestry() {
        let county = code("630121000000");
        let town = code("630121100000");
        let village = code("630121100202");
        let other_county_village = code("630102400498");
        assert!(county.is_ancestor_of(&town));
        assert!(county.is_ancestor_of(&village));
        assert!(town.is_ancestor_of(&village));
        assert!(!village.is_ancestor_of(&town));
        assert!(!town.is_ancestor_of(&town));
        assert!(!county.is_ancestor_of(&other_county_village));
        assert!(code("63").is_ancestor_of(&other_county_village));
        // a county directly under a province (city digits 90)
        let jiyuan = code("419001000000");
        assert_eq!(jiyuan.level(), Level::County);
        assert_eq!(jiyuan.parent().unwrap().as_str(), "419000000000");
        assert!(code("4190").is_ancestor_of(&jiyuan));
    }

    #[test]
    fn short_forms_and_normalisation() {
        assert_eq!(code("63").as_str(), "630000000000");
        assert_eq!(code("63").level(), Level::Province);
        assert_eq!(code("6301").level(), Level::City);
        assert_eq!(code("630121").as_str(), "630121000000");
        assert_eq!(code("630121100").as_str(), "630121100000");
        assert_eq!(code("  630121100202\t").as_str(), "630121100202");
        assert_eq!(code("\u{3000}６３０１２１\u{3000}").as_str(), "630121000000");
        assert_eq!("630121".parse::<DivisionCode>().unwrap(), code("630121"));
        assert_eq!(code("630121").to_string(), "630121000000");
    }

    #[test]
    fn towns_of_a_city_without_counties() {
        // NBS 2023: 东莞市 (4419) and 儋州市 (4604) have no counties; their towns carry county
        // digits 00 and hang directly under the city.
        let town = DivisionCode::parse("441900003000").expect("东城街道");
        assert_eq!(town.level(), Level::Town);
        assert_eq!(town.parent().expect("parent").as_str(), "441900000000");
        assert_eq!(town.parent().expect("parent").level(), Level::City);
        let village = DivisionCode::parse("460400499208").expect("a 儋州 village");
        assert_eq!(village.parent().expect("parent").as_str(), "460400499000");
        assert_eq!(
            DivisionCode::parse("441900").expect("city as 6 digits").level(),
            Level::City
        );
        // City digits 00 with a county after them is still a gap.
        assert!(matches!(
            DivisionCode::parse("630021100000"),
            Err(CodeError::Gap { .. })
        ));
        assert!(matches!(
            DivisionCode::parse("441900000001"),
            Err(CodeError::Gap { .. })
        ));
    }

    #[test]
    fn invalid_codes() {
        assert_eq!(DivisionCode::parse("  ").unwrap_err(), CodeError::Empty);
        let e = DivisionCode::parse("63012110000").unwrap_err();
        assert_eq!(e.key(), "code-wrong-length");
        assert_eq!(
            e.to_string(),
            "division code 63012110000 has 11 digits; NBS codes have 12 (or 2/4/6/9 in the national table)"
        );
        assert_eq!(
            DivisionCode::parse("6301211000a0").unwrap_err().key(),
            "code-not-digits"
        );
        assert_eq!(
            DivisionCode::parse("-63012110000").unwrap_err().key(),
            "code-not-digits"
        );
        assert_eq!(
            DivisionCode::parse("000000000000").unwrap_err().key(),
            "code-zero-province"
        );
        // city digits 00 but county and town digits not
        assert_eq!(
            DivisionCode::parse("630021100000").unwrap_err(),
            CodeError::Gap {
                value: "630021100000".into()
            }
        );
        // city digits 00 but county digits not
        assert_eq!(DivisionCode::parse("630021").unwrap_err().key(), "code-gap");
        // town 000 but village not
        assert_eq!(DivisionCode::parse("630121000001").unwrap_err().key(), "code-gap");
        assert_eq!(
            DivisionCode::parse("630121600000").unwrap_err(),
            CodeError::TownPart {
                value: "630121600000".into(),
                digits: "600".into()
            }
        );
        assert_eq!(
            DivisionCode::parse("630121100999").unwrap_err().key(),
            "code-village-part"
        );
    }

    #[test]
    fn level_checks() {
        let t = code("630121100000");
        assert!(check_level(&t, Level::Town).is_ok());
        let e = check_level(&t, Level::Village).unwrap_err();
        assert_eq!(e.key(), "code-level-mismatch");
        assert_eq!(
            e,
            CodeError::LevelMismatch {
                value: "630121100000".into(),
                declared: Level::Village,
                actual: Level::Town
            }
        );
    }

    #[test]
    fn level_names() {
        assert_eq!("County".parse::<Level>().unwrap(), Level::County);
        assert_eq!("VILLAGE".parse::<Level>().unwrap(), Level::Village);
        assert_eq!("省".parse::<Level>().unwrap(), Level::Province);
        assert_eq!("市".parse::<Level>().unwrap(), Level::City);
        assert_eq!("县".parse::<Level>().unwrap(), Level::County);
        assert_eq!("乡镇".parse::<Level>().unwrap(), Level::Town);
        assert_eq!("村".parse::<Level>().unwrap(), Level::Village);
        assert_eq!("hamlet".parse::<Level>().unwrap_err().key(), "level-unknown");
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
            assert_eq!(l.to_string(), l.as_str());
        }
        assert!(Level::Province < Level::Village);
        assert_eq!(Level::Village.depth(), 4);
    }

    #[test]
    fn kinds_names() {
        assert_eq!(TownKind::SubDistrict.as_str(), "sub_district");
        assert_eq!(TownKind::TownLike.zh(), "类似乡级单位");
        assert_eq!(VillageKind::VillagersLike.as_str(), "villagers_like");
        assert_eq!(VillageKind::ResidentsLike.zh(), "类似居委会");
        assert_eq!(TownKind::from_digits(99), Some(TownKind::SubDistrict));
        assert_eq!(TownKind::from_digits(600), None);
        assert_eq!(VillageKind::from_digits(499), Some(VillageKind::ResidentsLike));
        assert_eq!(VillageKind::from_digits(0), None);
    }

    #[test]
    fn serde_as_string() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as DeError, StrDeserializer};
        // `#[serde(into = "String")]` serialises through this conversion.
        assert_eq!(String::from(code("630121")), "630121000000");
        let de: StrDeserializer<'_, DeError> = "630121".into_deserializer();
        assert_eq!(DivisionCode::deserialize(de).unwrap(), code("630121"));
        let de: StrDeserializer<'_, DeError> = "630021100000".into_deserializer();
        assert!(DivisionCode::deserialize(de).is_err());
    }

    /// Any structurally valid code, of any level.
    fn valid_code() -> impl Strategy<Value = DivisionCode> {
        (0usize..5, 11u16..=82, 1u16..=99, 1u16..=99, 1u16..=599, 1u16..=599).prop_map(|(depth, p, c, d, t, v)| {
            let groups = [p, c, d, t, v];
            let mut s = String::new();
            for (i, g) in groups.iter().enumerate() {
                let g = if i <= depth { *g } else { 0 };
                if i < 3 {
                    s.push_str(&format!("{g:02}"));
                } else {
                    s.push_str(&format!("{g:03}"));
                }
            }
            DivisionCode::parse(&s).unwrap()
        })
    }

    proptest! {
        #[test]
        fn parent_is_ancestor_one_level_up(c in valid_code()) {
            match c.parent() {
                None => prop_assert_eq!(c.level(), Level::Province),
                Some(p) => {
                    prop_assert!(p.is_ancestor_of(&c));
                    prop_assert_eq!(p.level().depth() + 1, c.level().depth());
                    prop_assert!(!c.is_ancestor_of(&p));
                }
            }
        }

        #[test]
        fn parse_round_trips(c in valid_code()) {
            prop_assert_eq!(DivisionCode::parse(c.as_str()).unwrap(), c.clone());
            prop_assert_eq!(DivisionCode::parse(c.prefix()).unwrap(), c.clone());
            prop_assert!(check_level(&c, c.level()).is_ok());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,14}") {
            let _ = DivisionCode::parse(&s);
        }
    }
}
