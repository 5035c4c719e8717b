//! Village collective economy (SPEC C5) and development chains (SPEC C4).
//!
//! - [`Cny`]: an amount of money in CNY, held as whole fen (1 fen = 0.01 yuan), parsed from what
//!   people type or import (`12,345.67`, full-width digits, `1.2万`);
//! - [`IncomeSource`]: the sources of a village collective's annual income;
//! - [`IncomeClass`], [`Thresholds`], [`classify`]: empty-shell / weak / ordinary / strong
//!   villages from the configurable thresholds of SPEC C5;
//! - [`growth_rate`], [`share_at_least`], [`summarise`]: figures over the villages of a zone,
//!   town or county;
//! - [`ChainLink`], [`chain_completeness`]: the "branch + association + company + market"
//!   (支部+协会+公司+市场) development chain of SPEC C4, complete at 4 of 4 links.
//!
//! Everything here is pure: values in, values out.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Fen in one yuan.
const FEN_PER_YUAN: i64 = 100;

/// Largest amount [`Cny::from_yuan_str`] accepts, in yuan: 10^12 (one trillion yuan), far above
/// any village, county or province figure, so a larger input is a typing or unit mistake.
pub const MAX_INPUT_YUAN: i64 = 1_000_000_000_000;

/// [`MAX_INPUT_YUAN`] in fen (10^14).
const MAX_INPUT_FEN: i64 = MAX_INPUT_YUAN * FEN_PER_YUAN;

/// Why an amount of money was rejected. Messages are English and say what to fix;
/// [`AmountError::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The input was empty (or only spaces).
    #[error("the amount is empty; enter a sum in yuan such as 12,345.67 or 1.2万")]
    Empty,
    /// The input is a negative number.
    #[error("the amount {value} is negative; income amounts are zero or more")]
    Negative {
        /// The input after trimming (or the number of fen given).
        value: String,
    },
    /// The input is not a decimal number of yuan (letters, exponents, several points, a point
    /// with no digits on one side …).
    #[error("the amount {value:?} is not a number; enter digits with an optional decimal point, e.g. 12345.67")]
    NotNumeric {
        /// The input after trimming.
        value: String,
    },
    /// Thousands separators are misplaced (they must split the whole yuan into groups of three
    /// digits, e.g. 1,234,567).
    #[error("the amount {value} has misplaced thousands separators; write 1,234,567.89 or 1234567.89")]
    BadGrouping {
        /// The input after trimming.
        value: String,
    },
    /// The input is more precise than a fen: more than 2 decimals of yuan (6 decimals of 万).
    #[error("the amount {value} is more precise than a fen; use at most 2 decimals (6 with 万)")]
    TooPrecise {
        /// The input after trimming.
        value: String,
    },
    /// The input is above [`MAX_INPUT_YUAN`] (10^12 yuan): most likely a typing or unit mistake.
    #[error("the amount {value} is above 1,000,000,000,000 yuan; check the digits and the unit")]
    TooLarge {
        /// The input after trimming.
        value: String,
    },
}

impl AmountError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            AmountError::Empty => "amount-empty",
            AmountError::Negative { .. } => "amount-negative",
            AmountError::NotNumeric { .. } => "amount-not-numeric",
            AmountError::BadGrouping { .. } => "amount-bad-grouping",
            AmountError::TooPrecise { .. } => "amount-too-precise",
            AmountError::TooLarge { .. } => "amount-too-large",
        }
    }
}

/// An amount of money in CNY (人民币), held as a whole number of fen (分, 1/100 yuan), never
/// negative.
///
/// Displays as yuan with thousands separators and two decimals (`12,345.67`);
/// [`Cny::display_wan`] gives the 万 (10,000 yuan) form used in reports (`1.23万`).
///
/// Serialises as the integer number of fen (`1234567` for 12,345.67 yuan), which is exact and
/// simple to store; deserialising refuses a negative number. The [`MAX_INPUT_YUAN`] limit applies
/// only to parsing typed input, so sums over many villages still round-trip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Cny(i64);

impl Cny {
    /// Zero yuan.
    pub const ZERO: Cny = Cny(0);

    /// A whole number of yuan; infallible, as any `u32` (up to about 4.29 × 10^9 yuan) fits.
    pub const fn from_yuan(yuan: u32) -> Cny {
        // Widening u32 → i64 cannot lose anything; `From` is not usable in a const fn.
        Cny(yuan as i64 * FEN_PER_YUAN)
    }

    /// An amount of `fen` (1/100 yuan).
    ///
    /// # Errors
    /// [`AmountError::Negative`] for a negative number.
    pub fn from_fen(fen: i64) -> Result<Cny, AmountError> {
        if fen < 0 {
            return Err(AmountError::Negative { value: fen.to_string() });
        }
        Ok(Cny(fen))
    }

    /// The amount in fen (1/100 yuan); never negative.
    pub const fn fen(self) -> i64 {
        self.0
    }

    /// True for zero yuan.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The amount in yuan as a float, for charts and rates (not for sums: use fen).
    pub fn to_yuan_f64(self) -> f64 {
        self.0 as f64 / FEN_PER_YUAN as f64
    }

    /// Sum of two amounts, or `None` if it would exceed `i64::MAX` fen.
    pub fn checked_add(self, other: Cny) -> Option<Cny> {
        self.0.checked_add(other.0).map(Cny)
    }

    /// Sum of two amounts, stopping at `i64::MAX` fen (about 9.2 × 10^16 yuan).
    pub fn saturating_add(self, other: Cny) -> Cny {
        Cny(self.0.saturating_add(other.0))
    }

    /// Parses an amount in yuan as people type it or spreadsheets export it.
    ///
    /// Accepted:
    /// - digits with at most one decimal point and at most 2 decimals (`12345`, `12345.6`,
    ///   `12345.67`); further decimals are accepted only when they are zeros (`12345.670`), as
    ///   they add no precision finer than a fen;
    /// - thousands separators `,` splitting the whole yuan into groups of three (`12,345.6`);
    /// - full-width digits, comma and point (`１２３４５`, `１２，３４５．６`);
    /// - a trailing `万` (10,000 yuan) with at most 6 decimals, i.e. still whole fen
    ///   (`1.2万` = 12,000.00 yuan, `0.5万` = 5,000.00 yuan);
    /// - a leading `¥`/`￥` and a trailing `元` (`¥12,345元`, `3.5万元`); surrounding ASCII and
    ///   full-width spaces.
    ///
    /// # Errors
    /// [`AmountError::Empty`]; [`AmountError::Negative`] for a minus sign (ASCII, full-width or
    /// U+2212) before a number; [`AmountError::NotNumeric`] for anything else that is not a
    /// decimal number (letters, exponents, `.5`, `12.`, several points);
    /// [`AmountError::BadGrouping`]; [`AmountError::TooPrecise`] for a non-zero digit beyond the
    /// fen; [`AmountError::TooLarge`] above [`MAX_INPUT_YUAN`] (10^12 yuan).
    ///
    /// ```
    /// use ringline_core::economy::Cny;
    /// assert_eq!(Cny::from_yuan_str("12,345.67").unwrap().fen(), 1_234_567);
    /// assert_eq!(Cny::from_yuan_str("1.2万").unwrap(), Cny::from_yuan(12_000));
    /// assert!(Cny::from_yuan_str("-5").is_err());
    /// ```
    pub fn from_yuan_str(s: &str) -> Result<Cny, AmountError> {
        let trimmed = s.trim_matches(is_space);
        if trimmed.is_empty() {
            return Err(AmountError::Empty);
        }
        let normalised: String = trimmed.chars().map(half_width).collect();
        let not_numeric = || AmountError::NotNumeric {
            value: trimmed.to_owned(),
        };

        let mut body = normalised.as_str();
        body = body.strip_suffix('元').unwrap_or(body).trim_matches(is_space);
        let wan = match body.strip_suffix('万') {
            Some(rest) => {
                body = rest.trim_matches(is_space);
                true
            }
            None => false,
        };
        let mut negative = false;
        if let Some(rest) = body.strip_prefix('-') {
            negative = true;
            body = rest;
        }
        body = body.strip_prefix('¥').unwrap_or(body).trim_matches(is_space);
        if let Some(rest) = body.strip_prefix('-') {
            if negative {
                return Err(not_numeric());
            }
            negative = true;
            body = rest;
        }

        let fen = parse_magnitude(body, wan, trimmed)?;
        if negative {
            return Err(AmountError::Negative {
                value: trimmed.to_owned(),
            });
        }
        Ok(Cny(fen))
    }

    /// The amount in 万 (10,000 yuan) with two decimals and thousands separators, as Chinese
    /// reports give collective income: 12,345.67 yuan → `1.23万`, 250,000 yuan → `25.00万`.
    /// Rounds to the nearest 0.01万 (100 yuan), halves away from zero (up, as amounts are never
    /// negative): 12,350.00 yuan → `1.24万`.
    pub fn display_wan(self) -> String {
        // 0.01万 = 100 yuan = 10,000 fen.
        let hundreds = round_div(i128::from(self.0), 10_000);
        format!("{}.{:02}万", group_thousands(hundreds / 100), hundreds % 100)
    }
}

impl fmt::Display for Cny {
    /// Yuan with thousands separators and two decimals: `12,345.67`, `0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan = i128::from(self.0 / FEN_PER_YUAN);
        write!(f, "{}.{:02}", group_thousands(yuan), self.0 % FEN_PER_YUAN)
    }
}

impl FromStr for Cny {
    type Err = AmountError;

    /// Same as [`Cny::from_yuan_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cny::from_yuan_str(s)
    }
}

impl TryFrom<i64> for Cny {
    type Error = AmountError;

    /// A number of fen; same as [`Cny::from_fen`].
    fn try_from(fen: i64) -> Result<Self, Self::Error> {
        Cny::from_fen(fen)
    }
}

impl From<Cny> for i64 {
    /// The number of fen.
    fn from(c: Cny) -> i64 {
        c.0
    }
}

/// ASCII whitespace or the ideographic (full-width) space U+3000.
fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{3000}'
}

/// Maps full-width digits, comma, point, signs and yen sign, and the minus sign U+2212, to their
/// ASCII (or `¥`) forms; other characters are unchanged.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => {
            let offset = u32::from(c) - u32::from('０');
            char::from_digit(offset, 10).unwrap_or(c)
        }
        '，' => ',',
        '．' => '.',
        '－' | '\u{2212}' => '-',
        '＋' => '+',
        '￥' => '¥',
        _ => c,
    }
}

/// Parses the unsigned number `body` (ASCII digits, `,` separators, one `.`) into fen; `wan`
/// means the number counts 万 (10,000 yuan = 1,000,000 fen). `input` is quoted in errors.
fn parse_magnitude(body: &str, wan: bool, input: &str) -> Result<i64, AmountError> {
    let err_value = || input.to_owned();
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int_part.is_empty() || frac_part.is_some_and(str::is_empty) {
        return Err(AmountError::NotNumeric { value: err_value() });
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err(AmountError::NotNumeric { value: err_value() });
    }
    let frac = frac_part.unwrap_or("");
    if frac.contains(',') {
        return Err(AmountError::BadGrouping { value: err_value() });
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::NotNumeric { value: err_value() });
    }
    if int_part.contains(',') {
        let mut groups = int_part.split(',');
        let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return Err(AmountError::BadGrouping { value: err_value() });
        }
    }

    // Decimals that still name whole fen: 2 for yuan, 6 for 万 (1万 = 10^6 fen).
    let scale: u32 = if wan { 6 } else { 2 };
    let frac_significant = frac.trim_end_matches('0');
    if frac_significant.len() > scale as usize {
        return Err(AmountError::TooPrecise { value: err_value() });
    }

    let int_digits = int_part.trim_start_matches(['0', ',']);
    // 10^12 yuan has 13 digits; anything with over 15 significant whole digits is too large in
    // either unit, and stopping here keeps the arithmetic below far from overflow.
    if int_digits.bytes().filter(u8::is_ascii_digit).count() > 15 {
        return Err(AmountError::TooLarge { value: err_value() });
    }
    let whole = digits_value(int_digits);
    let mut frac_value = digits_value(frac_significant);
    for _ in frac_significant.len()..scale as usize {
        frac_value *= 10;
    }
    let fen = whole * 10u128.pow(scale) + frac_value;
    match i64::try_from(fen) {
        Ok(f) if f <= MAX_INPUT_FEN => Ok(f),
        _ => Err(AmountError::TooLarge { value: err_value() }),
    }
}

/// Numeric value of the ASCII digits in `s` (other bytes skipped); the caller bounds the length.
fn digits_value(s: &str) -> u128 {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u128, |acc, b| acc * 10 + u128::from(b - b'0'))
}

/// `n` (not negative) with `,` between groups of three digits: 1234567 → `1,234,567`.
fn group_thousands(n: i128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `num / den` for `num ≥ 0` and `den > 0`, rounded to the nearest integer with halves away from
/// zero (here: up).
fn round_div(num: i128, den: i128) -> i128 {
    (2 * num + den) / (2 * den)
}

/// Why a name of a source, class or chain link was not recognised. Messages are English;
/// [`LabelError::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Not an income source.
    #[error(
        "unknown income source {value:?}; use operating, contracting_leasing, investment_returns, services, \
         subsidies or other (经营收入/发包及上交收入/投资收益/服务收入/补助收入/其他收入)"
    )]
    UnknownIncomeSource {
        /// The input after trimming.
        value: String,
    },
    /// Not an income class.
    #[error("unknown income class {value:?}; use empty_shell, weak, ordinary or strong (空壳村/薄弱村/一般村/强村)")]
    UnknownIncomeClass {
        /// The input after trimming.
        value: String,
    },
    /// Not a development-chain link.
    #[error("unknown chain link {value:?}; use branch, association, company or market (支部/协会/公司/市场)")]
    UnknownChainLink {
        /// The input after trimming.
        value: String,
    },
}

impl LabelError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            LabelError::UnknownIncomeSource { .. } => "income-source-unknown",
            LabelError::UnknownIncomeClass { .. } => "income-class-unknown",
            LabelError::UnknownChainLink { .. } => "chain-link-unknown",
        }
    }
}

/// Trims `s` (ASCII and full-width spaces) and lowercases it with `-` and spaces as `_`, so that
/// `Contracting-Leasing` and `contracting leasing` match `contracting_leasing`.
fn label_key(s: &str) -> String {
    s.trim_matches(is_space)
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            _ => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Source of a village collective's annual income (SPEC C5), after the income items of the
/// village collective economic organisation accounts (村集体经济组织会计制度), with services
/// kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeSource {
    /// Operating income 经营收入: from the collective's own production and business.
    Operating,
    /// Contracting and leasing income 发包及上交收入: fees for contracted land, fish ponds and
    /// orchards, rents of collective buildings and land, and profits handed up by enterprises.
    ContractingLeasing,
    /// Investment returns 投资收益: dividends and shares of profit from investments.
    InvestmentReturns,
    /// Service income 服务收入: fees for services the collective provides (machinery, water …).
    Services,
    /// Subsidies 补助收入: grants from higher levels of government.
    Subsidies,
    /// Other income 其他收入.
    Other,
}

impl IncomeSource {
    /// All sources, in the order of the accounts.
    pub const ALL: [IncomeSource; 6] = [
        IncomeSource::Operating,
        IncomeSource::ContractingLeasing,
        IncomeSource::InvestmentReturns,
        IncomeSource::Services,
        IncomeSource::Subsidies,
        IncomeSource::Other,
    ];

    /// Stable snake_case name: "operating", "contracting_leasing", "investment_returns",
    /// "services", "subsidies" or "other".
    pub fn as_str(self) -> &'static str {
        match self {
            IncomeSource::Operating => "operating",
            IncomeSource::ContractingLeasing => "contracting_leasing",
            IncomeSource::InvestmentReturns => "investment_returns",
            IncomeSource::Services => "services",
            IncomeSource::Subsidies => "subsidies",
            IncomeSource::Other => "other",
        }
    }

    /// Chinese name: 经营收入, 发包及上交收入, 投资收益, 服务收入, 补助收入 or 其他收入.
    pub fn zh(self) -> &'static str {
        match self {
            IncomeSource::Operating => "经营收入",
            IncomeSource::ContractingLeasing => "发包及上交收入",
            IncomeSource::InvestmentReturns => "投资收益",
            IncomeSource::Services => "服务收入",
            IncomeSource::Subsidies => "补助收入",
            IncomeSource::Other => "其他收入",
        }
    }
}

impl fmt::Display for IncomeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncomeSource {
    type Err = LabelError;

    /// Parses the snake_case name (case-insensitive; `-` or a space for `_`) or a Chinese name:
    /// the [`IncomeSource::zh`] name or a common short form (经营, 发包, 上交收入, 租赁收入,
    /// 投资收入, 服务, 补助, 补贴收入, 其他 …).
    ///
    /// # Errors
    /// [`LabelError::UnknownIncomeSource`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let source = match label_key(s).as_str() {
            "operating" | "经营收入" | "经营" => IncomeSource::Operating,
            "contracting_leasing"
            | "发包及上交收入"
            | "发包收入"
            | "上交收入"
            | "发包"
            | "租赁收入"
            | "租赁"
            | "发包及租赁收入" => IncomeSource::ContractingLeasing,
            "investment_returns" | "投资收益" | "投资收入" | "投资" => IncomeSource::InvestmentReturns,
            "services" | "服务收入" | "服务" => IncomeSource::Services,
            "subsidies" | "补助收入" | "补助" | "补贴收入" | "补贴" => IncomeSource::Subsidies,
            "other" | "其他收入" | "其他" => IncomeSource::Other,
            _ => {
                return Err(LabelError::UnknownIncomeSource {
                    value: s.trim_matches(is_space).to_owned(),
                });
            }
        };
        Ok(source)
    }
}

/// Class of a village by the total annual income of its collective (SPEC C5), from the poorest
/// to the richest: `EmptyShell < Weak < Ordinary < Strong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeClass {
    /// Empty-shell village 空壳村: no collective income at all (a total of 0 over every source).
    EmptyShell,
    /// Weak village 薄弱村: some income, below [`Thresholds::weak_below`].
    Weak,
    /// Ordinary village 一般村: at least [`Thresholds::weak_below`], below
    /// [`Thresholds::ordinary_below`].
    Ordinary,
    /// Strong village 强村: at least [`Thresholds::ordinary_below`].
    Strong,
}

impl IncomeClass {
    /// All classes, poorest first.
    pub const ALL: [IncomeClass; 4] = [
        IncomeClass::EmptyShell,
        IncomeClass::Weak,
        IncomeClass::Ordinary,
        IncomeClass::Strong,
    ];

    /// Stable snake_case name: "empty_shell", "weak", "ordinary" or "strong".
    pub fn as_str(self) -> &'static str {
        match self {
            IncomeClass::EmptyShell => "empty_shell",
            IncomeClass::Weak => "weak",
            IncomeClass::Ordinary => "ordinary",
            IncomeClass::Strong => "strong",
        }
    }

    /// Chinese name: 空壳村, 薄弱村, 一般村 or 强村.
    pub fn zh(self) -> &'static str {
        match self {
            IncomeClass::EmptyShell => "空壳村",
            IncomeClass::Weak => "薄弱村",
            IncomeClass::Ordinary => "一般村",
            IncomeClass::Strong => "强村",
        }
    }
}

impl fmt::Display for IncomeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncomeClass {
    type Err = LabelError;

    /// Parses the snake_case name (case-insensitive; `-` or a space for `_`) or the Chinese name
    /// (also 空壳, 薄弱, 一般, 强).
    ///
    /// # Errors
    /// [`LabelError::UnknownIncomeClass`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let class = match label_key(s).as_str() {
            "empty_shell" | "空壳村" | "空壳" => IncomeClass::EmptyShell,
            "weak" | "薄弱村" | "薄弱" => IncomeClass::Weak,
            "ordinary" | "一般村" | "一般" => IncomeClass::Ordinary,
            "strong" | "强村" | "强" => IncomeClass::Strong,
            _ => {
                return Err(LabelError::UnknownIncomeClass {
                    value: s.trim_matches(is_space).to_owned(),
                });
            }
        };
        Ok(class)
    }
}

/// Why a set of class thresholds was rejected. Messages are English and say what to fix;
/// [`ThresholdError::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// The weak-village threshold is zero, which would leave no weak class.
    #[error("the weak-village threshold must be above 0 yuan (0 is the empty-shell class)")]
    WeakNotPositive,
    /// The ordinary-village threshold is not above the weak-village threshold.
    #[error(
        "the ordinary-village threshold ({ordinary_below} yuan) must be above the weak-village threshold \
         ({weak_below} yuan)"
    )]
    NotIncreasing {
        /// [`Thresholds::weak_below`].
        weak_below: Cny,
        /// [`Thresholds::ordinary_below`].
        ordinary_below: Cny,
    },
}

impl ThresholdError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            ThresholdError::WeakNotPositive => "thresholds-weak-not-positive",
            ThresholdError::NotIncreasing { .. } => "thresholds-not-increasing",
        }
    }
}

/// Configurable income-class thresholds (SPEC C5), on the total annual collective income.
/// The empty-shell class is fixed at exactly 0.
///
/// Serialises as `{"weak_below": <fen>, "ordinary_below": <fen>}` (amounts as integer fen, as
/// [`Cny`]); deserialising checks [`Thresholds::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ThresholdsRepr", into = "ThresholdsRepr")]
pub struct Thresholds {
    /// A village with income above 0 and below this is weak (薄弱村). Default 50,000 yuan.
    pub weak_below: Cny,
    /// A village with income of at least `weak_below` and below this is ordinary (一般村); at or
    /// above it, strong (强村). Default 100,000 yuan.
    pub ordinary_below: Cny,
}

impl Default for Thresholds {
    /// SPEC C5 defaults: empty-shell = 0, weak < 50,000, ordinary < 100,000, strong ≥ 100,000 CNY.
    fn default() -> Self {
        Thresholds {
            weak_below: Cny::from_yuan(50_000),
            ordinary_below: Cny::from_yuan(100_000),
        }
    }
}

impl Thresholds {
    /// Checks `0 < weak_below < ordinary_below`.
    ///
    /// # Errors
    /// [`ThresholdError::WeakNotPositive`], [`ThresholdError::NotIncreasing`].
    pub fn validate(&self) -> Result<(), ThresholdError> {
        if self.weak_below.is_zero() {
            return Err(ThresholdError::WeakNotPositive);
        }
        if self.ordinary_below <= self.weak_below {
            return Err(ThresholdError::NotIncreasing {
                weak_below: self.weak_below,
                ordinary_below: self.ordinary_below,
            });
        }
        Ok(())
    }
}

/// Serialised form of [`Thresholds`], checked on the way in.
#[derive(Serialize, Deserialize)]
struct ThresholdsRepr {
    weak_below: Cny,
    ordinary_below: Cny,
}

impl TryFrom<ThresholdsRepr> for Thresholds {
    type Error = ThresholdError;

    fn try_from(r: ThresholdsRepr) -> Result<Self, Self::Error> {
        let t = Thresholds {
            weak_below: r.weak_below,
            ordinary_below: r.ordinary_below,
        };
        t.validate()?;
        Ok(t)
    }
}

impl From<Thresholds> for ThresholdsRepr {
    fn from(t: Thresholds) -> Self {
        ThresholdsRepr {
            weak_below: t.weak_below,
            ordinary_below: t.ordinary_below,
        }
    }
}

/// Class of a village from the total annual income of its collective over all sources
/// (SPEC C5): exactly 0 → [`IncomeClass::EmptyShell`] (no collective income at all, subsidies
/// included); below `t.weak_below` → [`IncomeClass::Weak`]; below `t.ordinary_below` →
/// [`IncomeClass::Ordinary`]; otherwise [`IncomeClass::Strong`]. Lower bounds are inclusive:
/// with the defaults 49,999.99 yuan is weak and 50,000.00 ordinary.
///
/// The result never decreases as the total grows, for any thresholds; thresholds that fail
/// [`Thresholds::validate`] simply leave some class empty.
///
/// ```
/// use ringline_core::economy::{classify, Cny, IncomeClass, Thresholds};
/// let t = Thresholds::default();
/// assert_eq!(classify(Cny::ZERO, &t), IncomeClass::EmptyShell);
/// assert_eq!(classify(Cny::from_yuan(50_000), &t), IncomeClass::Ordinary);
/// ```
pub fn classify(total: Cny, t: &Thresholds) -> IncomeClass {
    if total.is_zero() {
        IncomeClass::EmptyShell
    } else if total < t.weak_below {
        IncomeClass::Weak
    } else if total < t.ordinary_below {
        IncomeClass::Ordinary
    } else {
        IncomeClass::Strong
    }
}

/// Year-on-year growth of income as a fraction: `(current − previous) / previous`, so 0.25 is
/// +25 % and −0.2 is −20 %. `None` when `previous` is 0: growth from nothing is undefined, not
/// infinite, and is shown as "—" rather than a number.
pub fn growth_rate(previous: Cny, current: Cny) -> Option<f64> {
    if previous.is_zero() {
        return None;
    }
    // Both are non-negative i64, so the difference cannot overflow.
    Some((current.0 - previous.0) as f64 / previous.0 as f64)
}

/// Fraction (0–1) of the villages whose total is at least `threshold`; `None` for an empty list.
pub fn share_at_least(totals: &[Cny], threshold: Cny) -> Option<f64> {
    if totals.is_empty() {
        return None;
    }
    let n = totals.iter().filter(|&&t| t >= threshold).count();
    Some(n as f64 / totals.len() as f64)
}

/// Number of villages in each [`IncomeClass`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Empty-shell villages 空壳村.
    pub empty_shell: usize,
    /// Weak villages 薄弱村.
    pub weak: usize,
    /// Ordinary villages 一般村.
    pub ordinary: usize,
    /// Strong villages 强村.
    pub strong: usize,
}

impl ClassCounts {
    /// Counts the classes of `totals` under thresholds `t` (see [`classify`]).
    pub fn of(totals: &[Cny], t: &Thresholds) -> ClassCounts {
        let mut counts = ClassCounts::default();
        for &total in totals {
            counts.add(classify(total, t));
        }
        counts
    }

    /// Counts one more village of `class`.
    pub fn add(&mut self, class: IncomeClass) {
        match class {
            IncomeClass::EmptyShell => self.empty_shell += 1,
            IncomeClass::Weak => self.weak += 1,
            IncomeClass::Ordinary => self.ordinary += 1,
            IncomeClass::Strong => self.strong += 1,
        }
    }

    /// Number of villages of `class`.
    pub fn get(&self, class: IncomeClass) -> usize {
        match class {
            IncomeClass::EmptyShell => self.empty_shell,
            IncomeClass::Weak => self.weak,
            IncomeClass::Ordinary => self.ordinary,
            IncomeClass::Strong => self.strong,
        }
    }

    /// Number of villages counted, all classes together.
    pub fn total(&self) -> usize {
        self.empty_shell + self.weak + self.ordinary + self.strong
    }
}

/// The 50,000-yuan mark of [`Summary::share_at_least_50k`].
const FIFTY_K: Cny = Cny::from_yuan(50_000);

/// Figures over the collective incomes of a set of villages (a zone, a town, the county) for one
/// year; see [`summarise`]. Amounts are in fen like every [`Cny`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of villages.
    pub villages: usize,
    /// Villages per class.
    pub counts: ClassCounts,
    /// Fraction (0–1) of villages with at least 50,000 yuan, a fixed mark independent of the
    /// thresholds (the default weak-village line); `None` with no villages.
    pub share_at_least_50k: Option<f64>,
    /// Sum of all totals (stops at `i64::MAX` fen, about 9.2 × 10^16 yuan, never reached by
    /// parsed amounts for fewer than 92,233 villages).
    pub total: Cny,
    /// Mean total, rounded to the nearest fen with halves away from zero; `None` with no villages.
    pub mean: Option<Cny>,
    /// Median total: the middle value of the sorted totals, or for an even number of villages the
    /// mean of the two middle values rounded to the nearest fen with halves away from zero;
    /// `None` with no villages.
    pub median: Option<Cny>,
}

/// Summarises the annual collective incomes `totals` (one per village) under thresholds `t`:
/// class counts, the share at or above 50,000 yuan, sum, mean and median (see [`Summary`]).
pub fn summarise(totals: &[Cny], t: &Thresholds) -> Summary {
    let villages = totals.len();
    let sum: i128 = totals.iter().map(|c| i128::from(c.0)).sum();
    let total = Cny(i64::try_from(sum).unwrap_or(i64::MAX));
    let (mean, median) = if villages == 0 {
        (None, None)
    } else {
        let n = i128::try_from(villages).unwrap_or(i128::MAX);
        let mean = clamp_fen(round_div(sum, n));
        let mut sorted = totals.to_vec();
        sorted.sort_unstable();
        let mid = villages / 2;
        let median = if villages % 2 == 1 {
            sorted[mid]
        } else {
            clamp_fen(round_div(i128::from(sorted[mid - 1].0) + i128::from(sorted[mid].0), 2))
        };
        (Some(mean), Some(median))
    };
    Summary {
        villages,
        counts: ClassCounts::of(totals, t),
        share_at_least_50k: share_at_least(totals, FIFTY_K),
        total,
        mean,
        median,
    }
}

/// A non-negative fen value computed in `i128`, as a [`Cny`] (saturating at `i64::MAX`).
fn clamp_fen(fen: i128) -> Cny {
    Cny(i64::try_from(fen.max(0)).unwrap_or(i64::MAX))
}

/// A link of a village's development chain "party branch + association + company + market"
/// (支部+协会+公司+市场, SPEC C4); each link is a unit. Ordering is the canonical chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainLink {
    /// The village party branch 支部 that leads the industry.
    Branch,
    /// The association or cooperative 协会/合作社 that organises the households.
    Association,
    /// The company 公司 that processes or buys the product.
    Company,
    /// The market 市场 where the product is sold.
    Market,
}

impl ChainLink {
    /// All links in canonical order: branch, association, company, market.
    pub const ALL: [ChainLink; 4] = [
        ChainLink::Branch,
        ChainLink::Association,
        ChainLink::Company,
        ChainLink::Market,
    ];

    /// Stable snake_case name: "branch", "association", "company" or "market".
    pub fn as_str(self) -> &'static str {
        match self {
            ChainLink::Branch => "branch",
            ChainLink::Association => "association",
            ChainLink::Company => "company",
            ChainLink::Market => "market",
        }
    }

    /// Chinese name: 支部, 协会/合作社, 公司 or 市场.
    pub fn zh(self) -> &'static str {
        match self {
            ChainLink::Branch => "支部",
            ChainLink::Association => "协会/合作社",
            ChainLink::Company => "公司",
            ChainLink::Market => "市场",
        }
    }
}

impl fmt::Display for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChainLink {
    type Err = LabelError;

    /// Parses the snake_case name (case-insensitive) or a Chinese name: 支部 (党支部),
    /// 协会 / 合作社 / 协会/合作社, 公司 (企业), 市场.
    ///
    /// # Errors
    /// [`LabelError::UnknownChainLink`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let link = match label_key(s).as_str() {
            "branch" | "支部" | "党支部" => ChainLink::Branch,
            "association" | "cooperative" | "协会" | "合作社" | "协会/合作社" | "专业合作社" => {
                ChainLink::Association
            }
            "company" | "公司" | "企业" => ChainLink::Company,
            "market" | "市场" => ChainLink::Market,
            _ => {
                return Err(LabelError::UnknownChainLink {
                    value: s.trim_matches(is_space).to_owned(),
                });
            }
        };
        Ok(link)
    }
}

/// Completeness of a development chain (SPEC C4): the number of distinct links present (0–4 of
/// 4) and the missing links in canonical order (branch, association, company, market).
/// Duplicates in `present` count once.
///
/// ```
/// use ringline_core::economy::{chain_completeness, ChainLink};
/// let (n, missing) = chain_completeness(&[ChainLink::Market, ChainLink::Branch, ChainLink::Branch]);
/// assert_eq!(n, 2);
/// assert_eq!(missing, vec![ChainLink::Association, ChainLink::Company]);
/// ```
pub fn chain_completeness(present: &[ChainLink]) -> (u8, Vec<ChainLink>) {
    let mut have = 0u8;
    let mut missing = Vec::new();
    for link in ChainLink::ALL {
        if present.contains(&link) {
            have += 1;
        } else {
            missing.push(link);
        }
    }
    (have, missing)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn cny(s: &str) -> Cny {
        Cny::from_yuan_str(s).unwrap()
    }

    fn fen(n: i64) -> Cny {
        Cny::from_fen(n).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn parses_plain_grouped_and_full_width() {
        // 12345 yuan × 100 = 1,234,500 fen.
        assert_eq!(cny("12345").fen(), 1_234_500);
        // 12,345.6 yuan = 12345 × 100 + 60 = 1,234,560 fen.
        assert_eq!(cny("12,345.6").fen(), 1_234_560);
        assert_eq!(cny("12345.67").fen(), 1_234_567);
        assert_eq!(cny("１２３４５").fen(), 1_234_500);
        assert_eq!(cny("１２，３４５．６７").fen(), 1_234_567);
        assert_eq!(cny("1,234,567.89").fen(), 123_456_789);
        assert_eq!(cny(" ¥12,345.67元\u{3000}").fen(), 1_234_567);
        assert_eq!(cny("￥100").fen(), 10_000);
        assert_eq!(cny("0"), Cny::ZERO);
        assert_eq!(cny("0.00"), Cny::ZERO);
        assert_eq!(cny("0.01").fen(), 1);
        assert_eq!(cny("007.5").fen(), 750);
        // Trailing zeros beyond the fen add no precision: 12345.670 = 12345.67.
        assert_eq!(cny("12345.670").fen(), 1_234_567);
        assert_eq!("12345.67".parse::<Cny>().unwrap().fen(), 1_234_567);
    }

    #[test]
    fn parses_wan() {
        // 1.2万 = 1.2 × 10,000 = 12,000.00 yuan = 1,200,000 fen.
        assert_eq!(cny("1.2万"), Cny::from_yuan(12_000));
        assert_eq!(cny("1.2万").fen(), 1_200_000);
        // 0.5万 = 0.5 × 10,000 = 5,000.00 yuan.
        assert_eq!(cny("0.5万"), Cny::from_yuan(5_000));
        // 1.234567万 = 12,345.67 yuan: 6 decimals of 万 are still whole fen.
        assert_eq!(cny("1.234567万").fen(), 1_234_567);
        // 3.5万元 = 35,000 yuan; full-width digits and a space before 万.
        assert_eq!(cny("３.５ 万元"), Cny::from_yuan(35_000));
        assert_eq!(cny("12万"), Cny::from_yuan(120_000));
        assert_eq!(cny("1,000万"), Cny::from_yuan(10_000_000));
    }

    #[test]
    fn rejects_bad_amounts() {
        let err = |s: &str| Cny::from_yuan_str(s).unwrap_err();
        assert_eq!(err(""), AmountError::Empty);
        assert_eq!(err(" \u{3000} "), AmountError::Empty);
        for s in ["-5", "－5", "\u{2212}5", "-1.2万", "¥-5", "-¥5", "-0"] {
            assert!(matches!(err(s), AmountError::Negative { .. }), "{s}");
        }
        for s in [
            "abc", "12a", "1e5", "12..3", "1.2.3", ".5", "12.", "万", "元", "¥", "+5", "--5", "1 000", "5万万", "0x10",
            "NaN", "-", "1.2亿",
        ] {
            assert!(matches!(err(s), AmountError::NotNumeric { .. }), "{s}");
        }
        for s in ["12.345", "0.001", "1.2345678万"] {
            assert!(matches!(err(s), AmountError::TooPrecise { .. }), "{s}");
        }
        for s in ["1,23", "12,34,567", ",123", "1234,567", "1,234.5,6", "1,,234"] {
            assert!(matches!(err(s), AmountError::BadGrouping { .. }), "{s}");
        }
        // 10^12 yuan is the largest accepted; one more yuan, or 10^8 万 + 1万, is too large.
        assert_eq!(cny("1000000000000").fen(), 100_000_000_000_000);
        assert_eq!(cny("100000000万").fen(), 100_000_000_000_000);
        for s in [
            "1000000000000.01",
            "1000000000001",
            "100000001万",
            "99999999999999999999999999",
            "1,000,000,000,000,000,000,000,000",
        ] {
            assert!(matches!(err(s), AmountError::TooLarge { .. }), "{s}");
        }
        assert_eq!(err("-5").key(), "amount-negative");
        assert_eq!(err("x").key(), "amount-not-numeric");
        assert_eq!(err("1,23").key(), "amount-bad-grouping");
        assert_eq!(err("1.234").key(), "amount-too-precise");
        assert_eq!(err("1e20").key(), "amount-not-numeric");
        assert_eq!(err("1".repeat(30).as_str()).key(), "amount-too-large");
        assert_eq!(err("").key(), "amount-empty");
        assert_eq!(
            err("abc").to_string(),
            "the amount \"abc\" is not a number; enter digits with an optional decimal point, e.g. 12345.67"
        );
    }

    #[test]
    fn fen_constructors_and_serde_form() {
        assert_eq!(Cny::from_fen(-1).unwrap_err().key(), "amount-negative");
        assert_eq!(
            Cny::try_from(-5i64).unwrap_err(),
            AmountError::Negative { value: "-5".into() }
        );
        assert_eq!(Cny::try_from(1_234_567i64).unwrap(), cny("12345.67"));
        // `#[serde(into = "i64")]` serialises through this conversion: integer fen.
        assert_eq!(i64::from(cny("12345.67")), 1_234_567);
        assert_eq!(Cny::from_yuan(u32::MAX).fen(), 429_496_729_500);
        assert_eq!(fen(1).checked_add(fen(2)), Some(fen(3)));
        assert_eq!(fen(i64::MAX).checked_add(fen(1)), None);
        assert_eq!(fen(i64::MAX).saturating_add(fen(1)), fen(i64::MAX));
        assert!(close(cny("12345.67").to_yuan_f64(), 12_345.67));
    }

    #[test]
    fn displays() {
        assert_eq!(cny("12345.67").to_string(), "12,345.67");
        assert_eq!(cny("0.05").to_string(), "0.05");
        assert_eq!(Cny::ZERO.to_string(), "0.00");
        assert_eq!(cny("999").to_string(), "999.00");
        assert_eq!(cny("1000").to_string(), "1,000.00");
        assert_eq!(cny("1234567.8").to_string(), "1,234,567.80");
        assert_eq!(fen(i64::MAX).to_string(), "92,233,720,368,547,758.07");
        // 12,345.67 yuan = 1.234567万 → 1.23万.
        assert_eq!(cny("12345.67").display_wan(), "1.23万");
        // 12,350.00 yuan = 1.235万 exactly: the half rounds up to 1.24万.
        assert_eq!(cny("12350").display_wan(), "1.24万");
        // 12,349.99 yuan = 1.234999万 → 1.23万.
        assert_eq!(cny("12349.99").display_wan(), "1.23万");
        assert_eq!(cny("250000").display_wan(), "25.00万");
        assert_eq!(Cny::ZERO.display_wan(), "0.00万");
        assert_eq!(cny("49.99").display_wan(), "0.00万");
        assert_eq!(cny("50").display_wan(), "0.01万");
        // 123,456,789 yuan = 12,345.6789万 → 12,345.68万.
        assert_eq!(cny("123456789").display_wan(), "12,345.68万");
    }

    #[test]
    fn classifies_default_boundaries() {
        let t = Thresholds::default();
        assert_eq!(t.weak_below.fen(), 5_000_000);
        assert_eq!(t.ordinary_below.fen(), 10_000_000);
        assert_eq!(t.validate(), Ok(()));
        let cases = [
            ("0", IncomeClass::EmptyShell),
            ("0.01", IncomeClass::Weak),
            ("49999.99", IncomeClass::Weak),
            ("50000", IncomeClass::Ordinary),
            ("99999.99", IncomeClass::Ordinary),
            ("100000", IncomeClass::Strong),
            ("10000000", IncomeClass::Strong),
        ];
        for (s, class) in cases {
            assert_eq!(classify(cny(s), &t), class, "{s}");
        }
    }

    #[test]
    fn classifies_custom_boundaries() {
        // A county with lower lines: weak < 30,000, ordinary < 80,000.
        let t = Thresholds {
            weak_below: Cny::from_yuan(30_000),
            ordinary_below: Cny::from_yuan(80_000),
        };
        assert_eq!(t.validate(), Ok(()));
        let cases = [
            ("0", IncomeClass::EmptyShell),
            ("0.01", IncomeClass::Weak),
            ("29999.99", IncomeClass::Weak),
            ("30000", IncomeClass::Ordinary),
            ("49999.99", IncomeClass::Ordinary),
            ("50000", IncomeClass::Ordinary),
            ("79999.99", IncomeClass::Ordinary),
            ("80000", IncomeClass::Strong),
            ("99999.99", IncomeClass::Strong),
            ("100000", IncomeClass::Strong),
        ];
        for (s, class) in cases {
            assert_eq!(classify(cny(s), &t), class, "{s}");
        }
        // The smallest valid thresholds: 1 fen and 2 fen.
        let tiny = Thresholds {
            weak_below: fen(1),
            ordinary_below: fen(2),
        };
        assert_eq!(tiny.validate(), Ok(()));
        assert_eq!(classify(fen(1), &tiny), IncomeClass::Ordinary);
        assert_eq!(classify(fen(2), &tiny), IncomeClass::Strong);
    }

    #[test]
    fn validates_thresholds() {
        let zero = Thresholds {
            weak_below: Cny::ZERO,
            ordinary_below: Cny::from_yuan(1),
        };
        assert_eq!(zero.validate(), Err(ThresholdError::WeakNotPositive));
        assert_eq!(zero.validate().unwrap_err().key(), "thresholds-weak-not-positive");
        let equal = Thresholds {
            weak_below: Cny::from_yuan(50_000),
            ordinary_below: Cny::from_yuan(50_000),
        };
        assert_eq!(equal.validate().unwrap_err().key(), "thresholds-not-increasing");
        let reversed = Thresholds {
            weak_below: Cny::from_yuan(100_000),
            ordinary_below: Cny::from_yuan(50_000),
        };
        assert_eq!(
            reversed.validate().unwrap_err().to_string(),
            "the ordinary-village threshold (50,000.00 yuan) must be above the weak-village threshold (100,000.00 yuan)"
        );
        // Deserialising goes through the same check.
        let repr = ThresholdsRepr {
            weak_below: Cny::from_yuan(100_000),
            ordinary_below: Cny::from_yuan(50_000),
        };
        assert!(Thresholds::try_from(repr).is_err());
        let back = Thresholds::try_from(ThresholdsRepr::from(Thresholds::default())).unwrap();
        assert_eq!(back, Thresholds::default());
    }

    #[test]
    fn growth_rates() {
        // (50,000 − 40,000) / 40,000 = 10,000 / 40,000 = 0.25.
        let g = growth_rate(Cny::from_yuan(40_000), Cny::from_yuan(50_000)).unwrap();
        assert!(close(g, 0.25), "{g}");
        // (40,000 − 50,000) / 50,000 = −10,000 / 50,000 = −0.2.
        let g = growth_rate(Cny::from_yuan(50_000), Cny::from_yuan(40_000)).unwrap();
        assert!(close(g, -0.2), "{g}");
        // (45,000.00 − 30,000.00) / 30,000.00 = 0.5.
        let g = growth_rate(cny("30000.00"), cny("45000.00")).unwrap();
        assert!(close(g, 0.5), "{g}");
        // Unchanged: 0; dropping to nothing: (0 − 20,000) / 20,000 = −1.
        assert!(close(growth_rate(cny("1.5万"), cny("15000")).unwrap(), 0.0));
        assert!(close(growth_rate(Cny::from_yuan(20_000), Cny::ZERO).unwrap(), -1.0));
        // From nothing: undefined.
        assert_eq!(growth_rate(Cny::ZERO, Cny::from_yuan(50_000)), None);
        assert_eq!(growth_rate(Cny::ZERO, Cny::ZERO), None);
    }

    #[test]
    fn shares() {
        assert_eq!(share_at_least(&[], Cny::from_yuan(50_000)), None);
        let totals = [
            Cny::ZERO,
            Cny::from_yuan(50_000),
            cny("49999.99"),
            Cny::from_yuan(80_000),
        ];
        // 50,000 and 80,000 are ≥ 50,000: 2 / 4 = 0.5.
        assert!(close(share_at_least(&totals, Cny::from_yuan(50_000)).unwrap(), 0.5));
        // Everything is ≥ 0: 4 / 4 = 1.
        assert!(close(share_at_least(&totals, Cny::ZERO).unwrap(), 1.0));
        // Nothing reaches 100,000: 0 / 4 = 0.
        assert!(close(share_at_least(&totals, Cny::from_yuan(100_000)).unwrap(), 0.0));
    }

    /// Ten villages' totals in yuan, deliberately unsorted.
    const TEN_VILLAGES: [&str; 10] = [
        "68000", "0", "250000", "49999.99", "12000", "100000", "35500.50", "0", "99999.99", "50000",
    ];

    #[test]
    fn summarises_ten_villages() {
        let totals: Vec<Cny> = TEN_VILLAGES.iter().map(|s| cny(s)).collect();
        let s = summarise(&totals, &Thresholds::default());
        assert_eq!(s.villages, 10);
        // Empty shell: 0, 0 → 2.
        // Weak (0 < x < 50,000): 12,000; 35,500.50; 49,999.99 → 3.
        // Ordinary (50,000 ≤ x < 100,000): 50,000; 68,000; 99,999.99 → 3.
        // Strong (≥ 100,000): 100,000; 250,000 → 2.
        assert_eq!(
            s.counts,
            ClassCounts {
                empty_shell: 2,
                weak: 3,
                ordinary: 3,
                strong: 2
            }
        );
        assert_eq!(s.counts.total(), 10);
        assert_eq!(s.counts.get(IncomeClass::Weak), 3);
        // ≥ 50,000: the 3 ordinary and the 2 strong → 5 / 10 = 0.5.
        assert!(close(s.share_at_least_50k.unwrap(), 0.5));
        // Sum: 12,000 + 35,500.50 = 47,500.50; + 49,999.99 = 97,500.49; + 50,000 = 147,500.49;
        // + 68,000 = 215,500.49; + 99,999.99 = 315,500.48; + 100,000 = 415,500.48;
        // + 250,000 = 665,500.48 yuan = 66,550,048 fen.
        assert_eq!(s.total.fen(), 66_550_048);
        assert_eq!(s.total.to_string(), "665,500.48");
        // Mean: 66,550,048 / 10 = 6,655,004.8 fen → 6,655,005 fen = 66,550.05 yuan.
        assert_eq!(s.mean, Some(fen(6_655_005)));
        // Sorted: 0, 0, 12,000, 35,500.50, 49,999.99 | 50,000, 68,000, 99,999.99, 100,000, 250,000.
        // Median: (4,999,999 + 5,000,000) / 2 = 4,999,999.5 fen → half up → 5,000,000 fen = 50,000.00.
        assert_eq!(s.median, Some(Cny::from_yuan(50_000)));
        assert_eq!(s.median.unwrap().display_wan(), "5.00万");

        // Custom thresholds change the counts only.
        let t = Thresholds {
            weak_below: Cny::from_yuan(30_000),
            ordinary_below: Cny::from_yuan(80_000),
        };
        let c = summarise(&totals, &t);
        // Weak < 30,000: 12,000 → 1. Ordinary < 80,000: 35,500.50, 49,999.99, 50,000, 68,000 → 4.
        // Strong: 99,999.99, 100,000, 250,000 → 3.
        assert_eq!(
            c.counts,
            ClassCounts {
                empty_shell: 2,
                weak: 1,
                ordinary: 4,
                strong: 3
            }
        );
        assert_eq!((c.total, c.mean, c.median), (s.total, s.mean, s.median));
        assert_eq!(c.share_at_least_50k, s.share_at_least_50k);
    }

    #[test]
    fn summarises_small_and_empty_lists() {
        let empty = summarise(&[], &Thresholds::default());
        assert_eq!(empty.villages, 0);
        assert_eq!(empty.counts, ClassCounts::default());
        assert_eq!(empty.total, Cny::ZERO);
        assert_eq!((empty.share_at_least_50k, empty.mean, empty.median), (None, None, None));

        // Odd count: sorted 1,000.00, 2,000.00, 60,000.00 → median 2,000.00.
        // Mean: 63,000.00 / 3 = 21,000.00.
        let odd = [Cny::from_yuan(60_000), Cny::from_yuan(1_000), Cny::from_yuan(2_000)];
        let s = summarise(&odd, &Thresholds::default());
        assert_eq!(s.median, Some(Cny::from_yuan(2_000)));
        assert_eq!(s.mean, Some(Cny::from_yuan(21_000)));
        // 1 of 3 is ≥ 50,000.
        assert!(close(s.share_at_least_50k.unwrap(), 1.0 / 3.0));

        // Mean rounding down: (1 + 1 + 2) fen / 3 = 1.333… → 1 fen; up: (1 + 2 + 2) / 3 = 1.666… → 2.
        assert_eq!(
            summarise(&[fen(1), fen(1), fen(2)], &Thresholds::default()).mean,
            Some(fen(1))
        );
        assert_eq!(
            summarise(&[fen(1), fen(2), fen(2)], &Thresholds::default()).mean,
            Some(fen(2))
        );
        // Two values: (1 + 2) / 2 = 1.5 fen → 2 fen (half away from zero).
        assert_eq!(
            summarise(&[fen(2), fen(1)], &Thresholds::default()).median,
            Some(fen(2))
        );

        // Sums beyond i64 saturate rather than wrap.
        let huge = summarise(&[fen(i64::MAX), fen(i64::MAX)], &Thresholds::default());
        assert_eq!(huge.total, fen(i64::MAX));
        assert_eq!(huge.mean, Some(fen(i64::MAX)));
        assert_eq!(huge.median, Some(fen(i64::MAX)));
    }

    #[test]
    fn chain_completeness_cases() {
        use ChainLink::*;
        assert_eq!(chain_completeness(&[]), (0, vec![Branch, Association, Company, Market]));
        assert_eq!(chain_completeness(&[Market, Company, Association, Branch]), (4, vec![]));
        assert_eq!(
            chain_completeness(&[Market, Branch, Branch]),
            (2, vec![Association, Company])
        );
        assert_eq!(chain_completeness(&[Company]), (1, vec![Branch, Association, Market]));
        assert_eq!(
            chain_completeness(&[Association, Association, Association, Association]),
            (1, vec![Branch, Company, Market])
        );
        assert_eq!(chain_completeness(&[Branch, Association, Company]), (3, vec![Market]));
    }

    #[test]
    fn names() {
        for s in IncomeSource::ALL {
            assert_eq!(s.as_str().parse::<IncomeSource>(), Ok(s));
            assert_eq!(s.zh().parse::<IncomeSource>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!("Contracting-Leasing".parse(), Ok(IncomeSource::ContractingLeasing));
        assert_eq!(" 租赁收入 ".parse(), Ok(IncomeSource::ContractingLeasing));
        assert_eq!("investment returns".parse(), Ok(IncomeSource::InvestmentReturns));
        assert_eq!("补贴收入".parse(), Ok(IncomeSource::Subsidies));
        let e = "工资".parse::<IncomeSource>().unwrap_err();
        assert_eq!(e.key(), "income-source-unknown");
        assert_eq!(e, LabelError::UnknownIncomeSource { value: "工资".into() });

        for c in IncomeClass::ALL {
            assert_eq!(c.as_str().parse::<IncomeClass>(), Ok(c));
            assert_eq!(c.zh().parse::<IncomeClass>(), Ok(c));
        }
        assert_eq!(IncomeClass::EmptyShell.zh(), "空壳村");
        assert_eq!("Empty Shell".parse(), Ok(IncomeClass::EmptyShell));
        assert_eq!("rich".parse::<IncomeClass>().unwrap_err().key(), "income-class-unknown");

        for l in ChainLink::ALL {
            assert_eq!(l.as_str().parse::<ChainLink>(), Ok(l));
            assert_eq!(l.zh().parse::<ChainLink>(), Ok(l));
        }
        assert_eq!("合作社".parse(), Ok(ChainLink::Association));
        assert_eq!("党支部".parse(), Ok(ChainLink::Branch));
        assert_eq!("村委".parse::<ChainLink>().unwrap_err().key(), "chain-link-unknown");
        assert!(IncomeClass::EmptyShell < IncomeClass::Strong);
        assert!(ChainLink::Branch < ChainLink::Market);
    }

    fn valid_thresholds() -> impl Strategy<Value = Thresholds> {
        (1i64..=1_000_000_000, 1i64..=1_000_000_000).prop_map(|(w, gap)| Thresholds {
            weak_below: Cny(w),
            ordinary_below: Cny(w + gap),
        })
    }

    proptest! {
        #[test]
        fn classify_is_monotone(
            a in 0i64..=MAX_INPUT_FEN,
            b in 0i64..=MAX_INPUT_FEN,
            t in valid_thresholds(),
        ) {
            let (lo, hi) = (Cny(a.min(b)), Cny(a.max(b)));
            prop_assert!(classify(lo, &t) <= classify(hi, &t));
            let d = Thresholds::default();
            prop_assert!(classify(lo, &d) <= classify(hi, &d));
        }

        #[test]
        fn classify_is_monotone_near_thresholds(
            a in 0i64..=2_000_000_000,
            step in 0i64..=1_000,
            t in valid_thresholds(),
        ) {
            prop_assert!(classify(Cny(a), &t) <= classify(Cny(a + step), &t));
        }

        #[test]
        fn display_parse_round_trips(f in 0i64..=MAX_INPUT_FEN) {
            let c = Cny(f);
            prop_assert_eq!(Cny::from_yuan_str(&c.to_string()).unwrap(), c);
            // Without separators too.
            let plain = format!("{}.{:02}", f / 100, f % 100);
            prop_assert_eq!(Cny::from_yuan_str(&plain).unwrap(), c);
        }

        #[test]
        fn wan_parse_matches_yuan(f in 0i64..=MAX_INPUT_FEN) {
            // f fen = f / 10^6 万, written with 6 decimals.
            let wan = format!("{}.{:06}万", f / 1_000_000, f % 1_000_000);
            prop_assert_eq!(Cny::from_yuan_str(&wan).unwrap(), Cny(f));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Cny::from_yuan_str(&s);
        }

        #[test]
        fn parse_never_panics_on_number_like(s in "[-－¥0-9０-９,，.．万元 ]{0,24}") {
            if let Ok(c) = Cny::from_yuan_str(&s) {
                prop_assert!(c.fen() >= 0 && c.fen() <= MAX_INPUT_FEN);
            }
        }
    }
}
