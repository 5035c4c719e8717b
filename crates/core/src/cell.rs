//! Normalising what people really type into spreadsheet and CSV cells, before validation
//! (import of party members, units and party organisations).
//!
//! Cells arrive with full-width characters typed through a Chinese input method (`６３０１２１`,
//! `　`), with non-breaking spaces and byte-order marks pasted from web pages and Word, with long
//! numbers that the spreadsheet stored as numbers (`630121103201.0`, or `6.30121E+17` when it cut
//! them to 15 significant digits), and with dates either as text in many shapes or as Excel date
//! serials. The functions here turn such a cell into one canonical value, or say why it cannot
//! be read; checking the value itself (check characters, ranges, plausibility) is left to the
//! caller and to the modules of each kind of value ([`crate::id_number`],
//! [`crate::credit_code`], [`crate::text`]).
//!
//! Whitespace here means Unicode `White_Space` (which includes the no-break space U+00A0 and the
//! ideographic space U+3000) plus the byte-order mark U+FEFF and the zero-width space U+200B,
//! which are pasted along with text but are not `White_Space`.
//!
//! No [`CellError`] message repeats the cell: cells hold personal data (identity numbers,
//! phone numbers), which is never repeated in error messages.

use chrono::{Datelike, Days, NaiveDate};

/// Why a cell could not be read. Messages are English and say what to fix; [`CellError::key`]
/// gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    /// A number in scientific notation such as `6.30121E+17`: the spreadsheet stored a long
    /// number (an identity number, a code) as a number, which keeps only 15 significant
    /// digits, so the rest is lost and cannot be recovered from the cell.
    #[error(
        "the cell shows a number in scientific notation (like 6.30121E+17): the spreadsheet stored a long number \
         as a number and kept only its first 15 digits; format the column as text and type the value again"
    )]
    ScientificNotation,
    /// Not a date in any accepted form.
    #[error(
        "not a date; write it as 2019-07-01, 2019/7/1, 2019.07.01, 2019年7月1日 or 20190701, or use an Excel \
         date cell"
    )]
    NotADate,
    /// A date with the day or month first (`07/01/2019`, `1/7/19`), which can be read two ways.
    #[error(
        "the date puts the day or month first (like 07/01/2019), which can be read two ways; write the year \
         first, as 2019-07-01"
    )]
    AmbiguousDate,
    /// Not a number (or a whole number too large for 64 bits).
    #[error("not a number; write digits only, such as 1234 or 12.5")]
    NotANumber,
    /// A number with a fractional part where a whole number is needed.
    #[error("not a whole number; remove the decimal part")]
    NotAWholeNumber,
    /// Neither an 11-digit mobile number nor a landline number with its area code.
    #[error(
        "not a phone number; write an 11-digit mobile number starting with 1, or a landline number with its \
         area code such as 0971-2722345, without an extension"
    )]
    BadPhone,
    /// None of the allowed values.
    #[error("not one of the allowed values; choose one of: {allowed}")]
    NotAChoice {
        /// The Chinese labels of the allowed values, joined with `、`.
        allowed: String,
    },
}

impl CellError {
    /// Stable kebab-case identifier of the error kind, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            CellError::ScientificNotation => "cell-scientific-notation",
            CellError::NotADate => "cell-not-a-date",
            CellError::AmbiguousDate => "cell-ambiguous-date",
            CellError::NotANumber => "cell-not-a-number",
            CellError::NotAWholeNumber => "cell-not-a-whole-number",
            CellError::BadPhone => "cell-bad-phone",
            CellError::NotAChoice { .. } => "cell-not-a-choice",
        }
    }
}

/// Largest Excel date serial: 2958465 is 9999-12-31, the last day Excel can show.
const SERIAL_MAX: u64 = 2_958_465;

/// Whitespace as this module understands it (see the module documentation): Unicode
/// `White_Space`, the byte-order mark U+FEFF and the zero-width space U+200B.
fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}'
}

/// Whether `c` is a Han (CJK ideograph) character: the blocks CJK Unified Ideographs Extension A
/// and CJK Unified Ideographs (U+3400–U+9FFF, which also holds a few other symbols of no concern
/// in names), CJK Compatibility Ideographs (U+F900–U+FAFF) and the supplementary ideographic
/// plane with its neighbour (U+20000–U+2FFFF, extensions B and on).
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x2_0000..=0x2_FFFF)
}

/// Whether `s` is non-empty and all ASCII digits.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Folds full-width forms to ASCII: the full-width ASCII variants U+FF01–U+FF5E (`！`…`～`,
/// including `０`–`９`, `Ａ`–`Ｚ`, `ａ`–`ｚ`, `（`, `）`, `－`, `，`, `．`) become U+0021–U+007E,
/// and the ideographic space U+3000 becomes an ASCII space. Every other character is kept.
///
/// Source: the Unicode block Halfwidth and Fullwidth Forms, where U+FF01–U+FF5E are the
/// full-width counterparts of U+0021–U+007E at a fixed offset of 0xFEE0.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Cleans a text cell: [`fold_width`], then trims whitespace at both ends and collapses each
/// run of whitespace inside to one ASCII space. Whitespace includes the no-break space U+00A0,
/// the byte-order mark U+FEFF and the zero-width space U+200B (see the module documentation).
///
/// Returns the empty string for a cell of only whitespace.
pub fn clean(s: &str) -> String {
    let folded = fold_width(s);
    let mut out = String::with_capacity(folded.len());
    for word in folded.split(is_blank).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `c` is typed in place of the name middle dot `·` (U+00B7) in transcribed names such as
/// 才让·多杰: the bullet U+2022 `•`, the katakana middle dot U+30FB `・`, the hyphenation point
/// U+2027 `‧`, the half-width katakana middle dot U+FF65 `･`, and the full stop `.` (which is
/// what the full-width full stop U+FF0E `．` becomes in [`fold_width`]).
fn is_name_dot(c: char) -> bool {
    matches!(c, '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{FF65}' | '.')
}

/// Normalises a person's name: [`clean`], then
///
/// * a dot typed in place of the name middle dot — `•` U+2022, `・` U+30FB, `．` U+FF0E (or
///   `.`), `‧` U+2027, `･` U+FF65 — with a Han character on both sides (spaces between them
///   allowed) becomes `·` U+00B7, the separator of transcribed minority and foreign names
///   (才让·多杰);
/// * a space with a Han character (U+3400–U+9FFF, U+F900–U+FAFF, U+20000–U+2FFFF) or `·` on
///   either side is removed, as Chinese names are written without spaces ("张 三" → "张三",
///   "才让 · 多杰" → "才让·多杰"), while spaces between Latin words stay ("Tashi Dorje").
///
/// Returns the empty string for a cell of only whitespace; it checks nothing else (see
/// [`crate::text::check_name`]).
pub fn name(s: &str) -> String {
    let mut chars: Vec<char> = clean(s).chars().collect();
    for i in 0..chars.len() {
        if is_name_dot(chars[i]) {
            let before = chars[..i].iter().rev().find(|c| **c != ' ');
            let after = chars[i + 1..].iter().find(|c| **c != ' ');
            if before.is_some_and(|c| is_han(*c)) && after.is_some_and(|c| is_han(*c)) {
                chars[i] = '·';
            }
        }
    }
    let joins = |c: Option<&char>| c.is_some_and(|c| is_han(*c) || *c == '·');
    let mut out = String::with_capacity(chars.len() * 3);
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' && (joins(i.checked_sub(1).and_then(|j| chars.get(j))) || joins(chars.get(i + 1))) {
            continue;
        }
        out.push(c);
    }
    out
}

/// Drops leading apostrophes, Excel's marker for "this cell is text" when it is typed into a
/// CSV file or copied out of a cell; the typographic quotes U+2018 `‘` and U+2019 `’`, which a
/// Chinese input method types for `'`, are dropped as well.
fn strip_text_marker(s: &str) -> &str {
    // Every leading one, so that normalising twice gives what normalising once does.
    s.trim_start_matches(['\'', '\u{2018}', '\u{2019}'])
}

/// Turns a whole number printed as a float (`630121103201.0`, `630121103201.00`) back into its
/// digits; anything else is returned as it is.
fn strip_zero_fraction(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac)) if all_digits(int) && !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        _ => s,
    }
}

/// Whether `s` is a number in scientific notation as spreadsheets and spreadsheet readers
/// print long numbers: one digit, an optional fraction, `E` or `e`, an optional sign and one to
/// three exponent digits (`6.30121E+17`, `6.30121199001011e17`, `6.3E17`). A single digit
/// before the point is the normalised form every such printer uses; requiring it keeps codes
/// that merely contain an `E` (`9163012112E45678X`) from matching.
fn is_scientific(s: &str) -> bool {
    let Some((mantissa, exponent)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "1"));
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    int.len() == 1 && all_digits(int) && all_digits(frac) && (1..=3).contains(&exponent.len()) && all_digits(exponent)
}

/// Normalises a code cell (identity numbers, unified social credit codes, organisation and
/// division codes): [`fold_width`], removes all whitespace, drops leading apostrophes (Excel's
/// text marker, also `‘` or `’`; `''123` becomes `123`, so the result is a fixed point), turns a whole number printed as a float
/// (`630121103201.0`, `630121103201.00`) into its digits, and upper-cases ASCII letters
/// (identity numbers end in an upper-case `X`, GB 11643-1999; credit codes use upper-case
/// letters, GB 32100-2015). Hyphens and other characters are kept, for the caller to judge.
///
/// Returns `Ok("")` for an empty cell.
///
/// # Errors
///
/// [`CellError::ScientificNotation`] for `6.30121E+17`, `6.30121199001011e17`, `6.3E17` and the
/// like: the digits beyond the 15th were lost in the spreadsheet.
pub fn code(s: &str) -> Result<String, CellError> {
    let compact: String = fold_width(s).chars().filter(|c| !is_blank(*c)).collect();
    let t = strip_text_marker(&compact);
    if is_scientific(t) {
        return Err(CellError::ScientificNotation);
    }
    Ok(strip_zero_fraction(t).to_ascii_uppercase())
}

/// Whether `s` is a mainland mobile number: 11 digits, `1` then `3`–`9` (the number segments
/// allotted by MIIT all lie in 13x–19x).
fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11 && all_digits(s) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// Whether `s` is a mainland landline number with its area code, as dialled domestically: the
/// trunk prefix `0`, an area code of 2–3 more digits not starting with 0 (`10`, `971`), and a
/// local number of 7–8 digits — 10 to 12 digits in all.
fn is_landline(s: &str) -> bool {
    let b = s.as_bytes();
    (10..=12).contains(&b.len()) && all_digits(s) && b[0] == b'0' && b[1] != b'0'
}

/// Normalises a phone-number cell to its digits: [`fold_width`], removes whitespace, a leading
/// apostrophe (see [`code`]), hyphens (`-` and the dashes U+2010–U+2015), and parentheses
/// (`(`, `)`, and `（`, `）` through [`fold_width`]); a whole number printed as a float
/// (`13812345678.0`) loses its `.0`. A leading `+86`, `0086` or `86` (China's country code,
/// ITU-T E.164) is dropped when an 11-digit mobile number follows.
///
/// Accepted: a mobile number (11 digits, `1` then `3`–`9`), kept as its 11 digits, or a
/// landline number with its area code (`0`, a 2–3-digit area code, a 7–8-digit number: 10 to
/// 12 digits starting with `0`, then not `0`), kept as its digits (`0971-2722345` →
/// `09712722345`). Returns `Ok("")` for an empty cell.
///
/// # Errors
///
/// [`CellError::ScientificNotation`] for a number in scientific notation; [`CellError::BadPhone`]
/// for anything else, including a landline without its area code and a number with an
/// extension (`转 123`, `ext 123`, `x123`).
pub fn phone(s: &str) -> Result<String, CellError> {
    let compact: String = fold_width(s).chars().filter(|c| !is_blank(*c)).collect();
    let t = strip_text_marker(&compact);
    if t.is_empty() {
        return Ok(String::new());
    }
    if is_scientific(t) {
        return Err(CellError::ScientificNotation);
    }
    let digits: String = t
        .chars()
        .filter(|c| !matches!(c, '-' | '\u{2010}'..='\u{2015}' | '(' | ')'))
        .collect();
    let digits = strip_zero_fraction(&digits);
    for prefix in ["+86", "0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix)
            && is_mobile(rest)
        {
            return Ok(rest.to_string());
        }
    }
    if is_mobile(digits) || is_landline(digits) {
        Ok(digits.to_string())
    } else {
        Err(CellError::BadPhone)
    }
}

/// Whether `t` is a time of day as spreadsheet readers print it after a date: `H:MM`,
/// `HH:MM:SS` or `HH:MM:SS.fff`, optionally followed by `Z`.
fn is_time(t: &str) -> bool {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let parts: Vec<&str> = t.split(':').collect();
    let seconds_ok = |s: &str| {
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        whole.len() == 2 && all_digits(whole) && all_digits(frac)
    };
    match parts.as_slice() {
        [h, m] => (1..=2).contains(&h.len()) && all_digits(h) && m.len() == 2 && all_digits(m),
        [h, m, s] => (1..=2).contains(&h.len()) && all_digits(h) && m.len() == 2 && all_digits(m) && seconds_ok(s),
        _ => false,
    }
}

/// Cuts a time of day (see [`is_time`]) after a space or a `T` off a cleaned date cell.
fn strip_time(s: &str) -> &str {
    for (i, c) in s.char_indices() {
        if (c == ' ' || c == 'T') && is_time(s[i + 1..].trim_start()) {
            return s[..i].trim_end();
        }
    }
    s
}

/// The date of year, month and day given as digit strings, if it exists in the proleptic
/// Gregorian calendar (checked by chrono).
fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// The date of an Excel date serial in the 1900 date system (see [`date`]).
fn excel_serial(digits: &str) -> Result<NaiveDate, CellError> {
    let n: u64 = digits.parse().map_err(|_| CellError::NotADate)?;
    let (base, days) = match n {
        1..=59 => (NaiveDate::from_ymd_opt(1899, 12, 31), n),
        61..=SERIAL_MAX => (NaiveDate::from_ymd_opt(1899, 12, 30), n),
        _ => return Err(CellError::NotADate),
    };
    base.and_then(|b| b.checked_add_days(Days::new(days)))
        .ok_or(CellError::NotADate)
}

/// Reads a date cell. After [`clean`], a time of day after a space or `T` is ignored
/// (`2019-07-01 00:00:00`, `2019-07-01T00:00:00`, as spreadsheet readers print date cells) and
/// the remaining spaces are removed; then accepted are
///
/// * year first with `-`, `/` or `.` between the parts, month and day with or without a
///   leading zero: `2019-07-01`, `2019-7-1`, `2019/7/1`, `2019.07.01`, `2019.7.1`;
/// * `2019年7月1日`, `2019年07月01日`, the `日` optional;
/// * eight digits `20190701` (year, month, day), when the year is 1900–2100 and the date exists;
/// * an Excel date serial: a whole number (optionally with `.0`) from 1 to 2958465, in the
///   1900 date system (ECMA-376 Part 1, §18.17.4.1 "Date Conversion for Serial Values"): serial
///   1 is 1900-01-01 and 2958465 is 9999-12-31. Serial 60 is 1900-02-29, a day that never was:
///   Excel kept the leap-year bug of Lotus 1-2-3, which counted 1900 as a leap year, so serial
///   60 is refused, serials 1–59 are 1899-12-31 plus the serial in days, and serials from 61 on
///   are 1899-12-30 plus the serial in days. Workbooks in the 1904 date system (old Mac Excel)
///   must be converted by the reader.
///
/// A bare four-digit number from 1900 to 2100 is taken for a year written alone and refused,
/// not read as the Excel serial it also is (2019 would be 1905-07-11); nobody types a date in
/// 1905 as a serial.
///
/// # Errors
///
/// [`CellError::AmbiguousDate`] for the day or month first (`07/01/2019`, `1/7/2019`,
/// `01-07-2019`, `1/7/19`); [`CellError::NotADate`] for anything else, including dates that do
/// not exist (`2019-02-30`, serial 60) and an empty cell.
pub fn date(s: &str) -> Result<NaiveDate, CellError> {
    let cleaned = clean(s);
    let d: String = strip_time(&cleaned).chars().filter(|c| *c != ' ').collect();

    let whole = strip_zero_fraction(&d);
    if all_digits(whole) {
        // A year alone (2019) would otherwise be read as an Excel serial (1905-07-11).
        if whole.len() == 4 && whole.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y)) {
            return Err(CellError::NotADate);
        }
        if whole.len() == 8
            && let Some(date) = ymd(&whole[..4], &whole[4..6], &whole[6..])
            && (1900..=2100).contains(&date.year())
        {
            return Ok(date);
        }
        return excel_serial(whole);
    }

    if let Some((y, rest)) = d.split_once('年') {
        let rest = rest.strip_suffix('日').unwrap_or(rest);
        let (m, day) = rest.split_once('月').ok_or(CellError::NotADate)?;
        let shape_ok = y.len() == 4
            && all_digits(y)
            && (1..=2).contains(&m.len())
            && all_digits(m)
            && (1..=2).contains(&day.len())
            && all_digits(day);
        return if shape_ok {
            ymd(y, m, day).ok_or(CellError::NotADate)
        } else {
            Err(CellError::NotADate)
        };
    }

    let Some(sep) = d.chars().find(|c| !c.is_ascii_digit()) else {
        return Err(CellError::NotADate);
    };
    if !matches!(sep, '-' | '/' | '.') {
        return Err(CellError::NotADate);
    }
    let parts: Vec<&str> = d.split(sep).collect();
    let [a, b, c] = parts.as_slice() else {
        return Err(CellError::NotADate);
    };
    if !(all_digits(a) && all_digits(b) && all_digits(c)) {
        return Err(CellError::NotADate);
    }
    let short = |p: &str| (1..=2).contains(&p.len());
    if a.len() == 4 && short(b) && short(c) {
        ymd(a, b, c).ok_or(CellError::NotADate)
    } else if short(a) && short(b) && (short(c) || c.len() == 4) {
        Err(CellError::AmbiguousDate)
    } else {
        Err(CellError::NotADate)
    }
}

/// The text of a number cell: [`fold_width`], with whitespace and the thousands separators `,`
/// (and `，` through [`fold_width`]) removed and the minus sign U+2212 `−` read as `-`.
fn number_text(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !is_blank(*c) && *c != ',')
        .map(|c| if c == '\u{2212}' { '-' } else { c })
        .collect()
}

/// Reads a whole-number cell: [`fold_width`], whitespace and thousands separators (`,`, `，`)
/// removed, an optional sign, digits, and optionally a fraction of zeros (`12.0` → 12, as
/// spreadsheets store every number as a float). Negative numbers are accepted; the caller
/// checks the range.
///
/// # Errors
///
/// [`CellError::NotAWholeNumber`] for a non-zero fraction (`12.5`); [`CellError::NotANumber`]
/// for anything else, including an empty cell, scientific notation and a number outside the
/// range of `i64`.
pub fn integer(s: &str) -> Result<i64, CellError> {
    let t = number_text(s);
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (t.as_str(), None),
    };
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    let digits_ok = all_digits(digits) || (digits.is_empty() && frac.is_some_and(all_digits));
    if !digits_ok || frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit())) {
        return Err(CellError::NotANumber);
    }
    if frac.is_some_and(|f| f.bytes().any(|b| b != b'0')) {
        return Err(CellError::NotAWholeNumber);
    }
    if digits.is_empty() {
        return Ok(0);
    }
    int.parse().map_err(|_| CellError::NotANumber)
}

/// Whether `t` is a decimal number: an optional sign, digits with an optional fraction (at
/// least one digit in all), and an optional exponent `e`/`E`, optional sign, digits.
fn is_decimal_text(t: &str) -> bool {
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = (int.is_empty() || all_digits(int))
        && (frac.is_empty() || all_digits(frac))
        && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// Reads a decimal cell: [`fold_width`], whitespace and thousands separators (`,`, `，`)
/// removed, then an optional sign, digits with an optional fraction and an optional exponent
/// (`1,234.5`, `-0.25`, `1.5E-3`).
///
/// # Errors
///
/// [`CellError::NotANumber`] for anything else, including an empty cell, `inf`, `NaN` and a
/// number too large to be finite.
pub fn decimal(s: &str) -> Result<f64, CellError> {
    let t = number_text(s);
    if !is_decimal_text(&t) {
        return Err(CellError::NotANumber);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(CellError::NotANumber),
    }
}

/// A label folded for comparison: [`clean`], lower-cased, spaces, `_` and `-` removed.
fn fold_label(s: &str) -> String {
    clean(s)
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Reads a cell that must be one of a fixed set of values. `choices` are
/// `(stored key, Chinese label, English label)`, e.g. `("probationary", "预备党员", "probationary
/// member")`. The cell matches a choice when, after [`clean`] and ignoring case, spaces, `_` and
/// `-`, it equals the key, the Chinese label, the English label, or the Chinese label without a
/// trailing `党员` ("预备" for "预备党员"). The first matching choice wins.
///
/// Returns the stored key of the matching choice.
///
/// # Errors
///
/// [`CellError::NotAChoice`] when nothing matches (also for an empty cell), listing the Chinese
/// labels joined with `、`.
pub fn choice<'a>(s: &str, choices: &'a [(&'a str, &'a str, &'a str)]) -> Result<&'a str, CellError> {
    let cell = fold_label(s);
    if !cell.is_empty() {
        for &(key, zh, en) in choices {
            let short_zh = zh.strip_suffix("党员").filter(|z| !z.is_empty());
            if [Some(key), Some(zh), Some(en), short_zh]
                .into_iter()
                .flatten()
                .any(|label| fold_label(label) == cell)
            {
                return Ok(key);
            }
        }
    }
    Err(CellError::NotAChoice {
        allowed: choices.iter().map(|&(_, zh, _)| zh).collect::<Vec<_>>().join("、"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Found by the `cell` fuzz target: only one leading apostrophe was dropped, so `''` gave
    /// `'` and normalising again gave `` — the result was not a fixed point.
    #[test]
    fn every_leading_text_marker_is_dropped() {
        assert_eq!(code("''630121103201").as_deref(), Ok("630121103201"));
        assert_eq!(code("’'630121103201").as_deref(), Ok("630121103201"));
        assert_eq!(code("''").as_deref(), Ok(""));
        assert_eq!(phone("''13812345678").as_deref(), Ok("13812345678"));
        for s in ["''", "'‘x", "'6301'21"] {
            let once = code(s).expect("no scientific notation");
            assert_eq!(code(&once).as_deref(), Ok(once.as_str()), "{s}");
        }
        // An apostrophe inside a code is kept, for the caller to refuse.
        assert_eq!(code("'6301'21").as_deref(), Ok("6301'21"));
    }

    const MEMBER: &[(&str, &str, &str)] = &[
        ("full", "正式党员", "full member"),
        ("probationary", "预备党员", "probationary member"),
    ];

    #[test]
    fn keys() {
        assert_eq!(CellError::ScientificNotation.key(), "cell-scientific-notation");
        assert_eq!(CellError::NotADate.key(), "cell-not-a-date");
        assert_eq!(CellError::AmbiguousDate.key(), "cell-ambiguous-date");
        assert_eq!(CellError::NotANumber.key(), "cell-not-a-number");
        assert_eq!(CellError::NotAWholeNumber.key(), "cell-not-a-whole-number");
        assert_eq!(CellError::BadPhone.key(), "cell-bad-phone");
        assert_eq!(
            CellError::NotAChoice { allowed: String::new() }.key(),
            "cell-not-a-choice"
        );
    }

    #[test]
    fn messages_say_what_to_fix() {
        assert!(
            CellError::ScientificNotation
                .to_string()
                .contains("format the column as text")
        );
        assert!(CellError::NotADate.to_string().contains("2019年7月1日"));
        assert!(CellError::AmbiguousDate.to_string().contains("year first"));
        assert!(CellError::BadPhone.to_string().contains("11-digit mobile"));
        let e = CellError::NotAChoice {
            allowed: "正式党员、预备党员".into(),
        };
        assert!(e.to_string().contains("正式党员、预备党员"));
    }

    #[test]
    fn fold_width_maps_full_width_ascii() {
        assert_eq!(fold_width("６３０１２１"), "630121");
        assert_eq!(fold_width("ＡＢｃ！～"), "ABc!~");
        assert_eq!(fold_width("（０９７１）－２７２２３４５"), "(0971)-2722345");
        assert_eq!(fold_width("张\u{3000}三"), "张 三");
        // Outside U+FF01–U+FF5E: kept.
        assert_eq!(fold_width("·、。\u{FF65}\u{00A0}"), "·、。\u{FF65}\u{00A0}");
    }

    #[test]
    fn clean_trims_and_collapses() {
        assert_eq!(clean("  a  b  "), "a b");
        assert_eq!(clean("\u{FEFF}桥头镇\u{00A0}"), "桥头镇");
        assert_eq!(clean("\u{3000}a\u{3000}\u{3000}b\t\nc\u{200B}"), "a b c");
        assert_eq!(clean(" \u{3000}\u{00A0} "), "");
        assert_eq!(clean(""), "");
    }

    #[test]
    fn names() {
        assert_eq!(name("张 三"), "张三");
        assert_eq!(name("　李四　"), "李四");
        assert_eq!(name("王  小 明"), "王小明");
        assert_eq!(name("Tashi  Dorje"), "Tashi Dorje");
        assert_eq!(name("Tashi Dorje"), "Tashi Dorje");
        assert_eq!(name("才让•多杰"), "才让·多杰");
        assert_eq!(name("才让 ·多杰"), "才让·多杰");
        assert_eq!(name("才让 · 多杰"), "才让·多杰");
        assert_eq!(name("才让・多杰"), "才让·多杰");
        assert_eq!(name("才让．多杰"), "才让·多杰");
        assert_eq!(name("才让‧多杰"), "才让·多杰");
        assert_eq!(name("才让･多杰"), "才让·多杰");
        assert_eq!(name("才让 • 多杰"), "才让·多杰");
        assert_eq!(name("张三 (Zhang San)"), "张三(Zhang San)");
        // A dot between Latin letters is not a name dot.
        assert_eq!(name("J.K. Rowling"), "J.K. Rowling");
        assert_eq!(name("𠀀 一"), "𠀀一");
        assert_eq!(name(""), "");
    }

    #[test]
    fn codes() {
        assert_eq!(code("６３０１２１"), Ok("630121".into()));
        assert_eq!(code(" 63012119900101123x "), Ok("63012119900101123X".into()));
        assert_eq!(code("6301 2119 9001 0112 3X"), Ok("63012119900101123X".into()));
        assert_eq!(code("'630121103201"), Ok("630121103201".into()));
        assert_eq!(code("‘630121103201"), Ok("630121103201".into()));
        assert_eq!(code("630121103201.0"), Ok("630121103201".into()));
        assert_eq!(code("630121103201.00"), Ok("630121103201".into()));
        assert_eq!(code("\u{FEFF}91630100MA7abc1234"), Ok("91630100MA7ABC1234".into()));
        assert_eq!(code("630121-001"), Ok("630121-001".into()));
        assert_eq!(code("630121103201.5"), Ok("630121103201.5".into()));
        assert_eq!(code(""), Ok(String::new()));
        assert_eq!(code(" \u{3000} "), Ok(String::new()));
        // An E inside a code is not scientific notation.
        assert_eq!(code("9163012112E45678X"), Ok("9163012112E45678X".into()));
    }

    #[test]
    fn codes_in_scientific_notation() {
        assert_eq!(code("6.30121E+17"), Err(CellError::ScientificNotation));
        assert_eq!(code("6.30121199001011e17"), Err(CellError::ScientificNotation));
        assert_eq!(code("6.3E17"), Err(CellError::ScientificNotation));
        assert_eq!(code("６.３０１２１Ｅ＋１７"), Err(CellError::ScientificNotation));
        assert_eq!(code("'6.30121E+17"), Err(CellError::ScientificNotation));
        assert_eq!(code("6E+17"), Err(CellError::ScientificNotation));
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+86 138-1234-5678"), Ok("13812345678".into()));
        assert_eq!(phone("13812345678"), Ok("13812345678".into()));
        assert_eq!(phone("138 1234 5678"), Ok("13812345678".into()));
        assert_eq!(phone("１３８１２３４５６７８"), Ok("13812345678".into()));
        assert_eq!(phone("8613812345678"), Ok("13812345678".into()));
        assert_eq!(phone("0086 13812345678"), Ok("13812345678".into()));
        assert_eq!(phone("13812345678.0"), Ok("13812345678".into()));
        assert_eq!(phone("'13812345678"), Ok("13812345678".into()));
        assert_eq!(phone("0971-2722345"), Ok("09712722345".into()));
        assert_eq!(phone("(0971)2722345"), Ok("09712722345".into()));
        assert_eq!(phone("（0971）2722345"), Ok("09712722345".into()));
        assert_eq!(phone("010-12345678"), Ok("01012345678".into()));
        assert_eq!(phone("0971—2722345"), Ok("09712722345".into()));
        assert_eq!(phone(""), Ok(String::new()));
        assert_eq!(phone("  "), Ok(String::new()));
    }

    #[test]
    fn bad_phones() {
        assert_eq!(phone("12345"), Err(CellError::BadPhone));
        assert_eq!(phone("2722345"), Err(CellError::BadPhone));
        assert_eq!(phone("12812345678"), Err(CellError::BadPhone));
        assert_eq!(phone("1381234567"), Err(CellError::BadPhone));
        assert_eq!(phone("138123456789"), Err(CellError::BadPhone));
        assert_eq!(phone("0971-2722345转123"), Err(CellError::BadPhone));
        assert_eq!(phone("0971-2722345 ext 123"), Err(CellError::BadPhone));
        assert_eq!(phone("0971-2722345x123"), Err(CellError::BadPhone));
        assert_eq!(phone("+86 0971 2722345"), Err(CellError::BadPhone));
        assert_eq!(phone("00971-2722345"), Err(CellError::BadPhone));
        assert_eq!(phone("1.38123E+10"), Err(CellError::ScientificNotation));
    }

    #[test]
    fn dates_in_text() {
        let want = day(2019, 7, 1);
        for s in [
            "2019-07-01",
            "2019-7-1",
            "2019/7/1",
            "2019/07/01",
            "2019.07.01",
            "2019.7.1",
            "2019年7月1日",
            "2019年07月01日",
            "2019年7月1",
            "20190701",
            "20190701.0",
            "2019-07-01 00:00:00",
            "2019-07-01T00:00:00",
            "2019-07-01T00:00:00.000Z",
            "2019/7/1 0:00",
            "２０１９－０７－０１",
            " 2019-07-01\u{00A0}",
            "2019 年 7 月 1 日",
        ] {
            assert_eq!(date(s), Ok(want), "{s}");
        }
        assert_eq!(date("2000-02-29"), Ok(day(2000, 2, 29)));
        assert_eq!(date("1921年7月1日"), Ok(day(1921, 7, 1)));
    }

    #[test]
    fn excel_serials() {
        // 1899-12-30 plus 43647 days: 43466 is 2019-01-01, plus 181 days (Jan–Jun) is 2019-07-01.
        assert_eq!(date("43647"), Ok(day(2019, 7, 1)));
        assert_eq!(date("43647.0"), Ok(day(2019, 7, 1)));
        assert_eq!(date("25569"), Ok(day(1970, 1, 1)));
        assert_eq!(date("1"), Ok(day(1900, 1, 1)));
        assert_eq!(date("59"), Ok(day(1900, 2, 28)));
        assert_eq!(date("60"), Err(CellError::NotADate));
        assert_eq!(date("61"), Ok(day(1900, 3, 1)));
        assert_eq!(date("2958465"), Ok(day(9999, 12, 31)));
        assert_eq!(date("2958466"), Err(CellError::NotADate));
        assert_eq!(date("0"), Err(CellError::NotADate));
        assert_eq!(date("43647.5"), Err(CellError::NotADate));
    }

    #[test]
    fn not_dates() {
        for s in [
            "",
            "  ",
            "2019-02-30",
            "2019年2月30日",
            "20190230",
            "18991231",
            "21010101",
            "2019-07",
            "2019年7月",
            "2019-07/01",
            "2019-07-01 noon",
            "July 1, 2019",
            "2019-007-01",
            "2019_07_01",
            "-43647",
            "99999999999999999999999",
        ] {
            assert_eq!(date(s), Err(CellError::NotADate), "{s:?}");
        }
    }

    #[test]
    fn ambiguous_dates() {
        for s in [
            "07/01/2019",
            "1/7/2019",
            "01-07-2019",
            "1/7/19",
            "1.7.2019",
            "19/7/2019",
        ] {
            assert_eq!(date(s), Err(CellError::AmbiguousDate), "{s}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(integer("1,234"), Ok(1234));
        assert_eq!(integer("１２"), Ok(12));
        assert_eq!(integer("1，234，567"), Ok(1_234_567));
        assert_eq!(integer(" 1 234 "), Ok(1234));
        assert_eq!(integer("12.0"), Ok(12));
        assert_eq!(integer("12.00"), Ok(12));
        assert_eq!(integer("-3"), Ok(-3));
        assert_eq!(integer("−3"), Ok(-3));
        assert_eq!(integer("+7"), Ok(7));
        assert_eq!(integer("0"), Ok(0));
        assert_eq!(integer("12.5"), Err(CellError::NotAWholeNumber));
        assert_eq!(integer(".5"), Err(CellError::NotAWholeNumber));
        assert_eq!(integer(""), Err(CellError::NotANumber));
        assert_eq!(integer("abc"), Err(CellError::NotANumber));
        assert_eq!(integer("12个"), Err(CellError::NotANumber));
        assert_eq!(integer("1E3"), Err(CellError::NotANumber));
        assert_eq!(integer("1.2.3"), Err(CellError::NotANumber));
        assert_eq!(integer("-"), Err(CellError::NotANumber));
        assert_eq!(integer("99999999999999999999"), Err(CellError::NotANumber));
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal("1,234.5"), Ok(1234.5));
        assert_eq!(decimal("１２．５"), Ok(12.5));
        assert_eq!(decimal("-0.25"), Ok(-0.25));
        assert_eq!(decimal(".5"), Ok(0.5));
        assert_eq!(decimal("12"), Ok(12.0));
        assert_eq!(decimal("1.5E-3"), Ok(0.0015));
        assert_eq!(decimal(""), Err(CellError::NotANumber));
        assert_eq!(decimal("."), Err(CellError::NotANumber));
        assert_eq!(decimal("abc"), Err(CellError::NotANumber));
        assert_eq!(decimal("inf"), Err(CellError::NotANumber));
        assert_eq!(decimal("NaN"), Err(CellError::NotANumber));
        assert_eq!(decimal("1e999"), Err(CellError::NotANumber));
        assert_eq!(decimal("12%"), Err(CellError::NotANumber));
    }

    #[test]
    fn choices() {
        assert_eq!(choice("预备", MEMBER), Ok("probationary"));
        assert_eq!(choice("预备党员", MEMBER), Ok("probationary"));
        assert_eq!(choice(" 正式党员\u{3000}", MEMBER), Ok("full"));
        assert_eq!(choice("正式", MEMBER), Ok("full"));
        assert_eq!(choice("FULL", MEMBER), Ok("full"));
        assert_eq!(choice("Probationary Member", MEMBER), Ok("probationary"));
        assert_eq!(choice("probationary_member", MEMBER), Ok("probationary"));
        assert_eq!(choice("ｆｕｌｌ", MEMBER), Ok("full"));
        let not = Err(CellError::NotAChoice {
            allowed: "正式党员、预备党员".into(),
        });
        assert_eq!(choice("党员", MEMBER), not);
        assert_eq!(choice("", MEMBER), not);
        assert_eq!(choice("群众", MEMBER), not);
    }

    proptest! {
        #[test]
        fn dates_round_trip(offset in 0u64..=73_354) {
            // 1900-03-01 plus 0..=73354 days runs to 2100-12-31.
            let first = day(1900, 3, 1);
            let d = first.checked_add_days(Days::new(offset)).expect("in range");
            prop_assert!(d <= day(2100, 12, 31));
            let (y, m, dd) = (d.year(), d.month(), d.day());
            let serial = (d - day(1899, 12, 30)).num_days();
            prop_assert_eq!(date(&format!("{y}年{m}月{dd}日")), Ok(d));
            prop_assert_eq!(date(&format!("{y}/{m}/{dd}")), Ok(d));
            if !(1900..=2100).contains(&serial) {
                prop_assert_eq!(date(&serial.to_string()), Ok(d));
            }
        }
    }

    #[test]
    fn every_date_round_trips() {
        let mut d = day(1900, 3, 1);
        while d <= day(2100, 12, 31) {
            let serial = (d - day(1899, 12, 30)).num_days();
            assert_eq!(date(&format!("{}年{}月{}日", d.year(), d.month(), d.day())), Ok(d));
            assert_eq!(date(&format!("{}/{}/{}", d.year(), d.month(), d.day())), Ok(d));
            if (1900..=2100).contains(&serial) {
                assert_eq!(date(&serial.to_string()), Err(CellError::NotADate), "a year alone");
            } else {
                assert_eq!(date(&serial.to_string()), Ok(d));
            }
            d = d.succ_opt().expect("next day");
        }
    }

    #[test]
    fn round_trip_range_ends_on_2100_12_31() {
        assert_eq!(
            day(1900, 3, 1).checked_add_days(Days::new(73_354)),
            Some(day(2100, 12, 31))
        );
    }
}
