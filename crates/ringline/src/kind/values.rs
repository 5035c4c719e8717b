//! What a person typed for one record — a file row, a form, an API body — and the readers a
//! kind's `check` uses on it. Every reader normalises the text the same way on every path
//! ([`ringline_core::cell`]: full-width characters, stray spaces, numbers stored as text, the
//! usual date spellings) and records each problem by field, with a stable rule key, an English
//! message and the arguments of its translation (`issue-<rule>` in `locales/*/import.ftl`).
//! Personal data (ID numbers, phones) is never quoted in a problem: it is masked.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ringline_core::cell::{self, CellError};
use ringline_core::division::{DivisionCode, Level};
use ringline_core::economy::Cny;
use ringline_core::id_number::IdNumber;
use ringline_core::mask::{mask_id_number, mask_phone};
use ringline_core::text::check_name;

use super::{Desc, Ty};
use crate::import::Issue;

/// Longest name accepted (units, organizations, people), in characters.
pub const MAX_NAME: usize = 100;
/// Longest one-line text accepted (addresses, employers, lists), in characters.
pub const MAX_TEXT: usize = 500;
/// Longest multi-line text accepted (logs, minutes), in characters.
pub const MAX_LONG_TEXT: usize = 5_000;
/// What separates the items of a field of several values ([`Ty::Multi`](super::Ty::Multi)).
pub const SEPARATORS: [char; 7] = ['、', ';', '；', ',', '，', '/', '／'];

/// Where typed values come from: `None` when the field is absent (a file without the column,
/// a form or body without the key), `Some("")` when present and empty.
pub trait Source {
    /// The text typed for `key`.
    fn get(&self, key: &str) -> Option<&str>;

    /// The header of `key`'s column as written in a file (`金额(万元)`), when the values come
    /// from one; `None` for forms and API bodies.
    fn header(&self, key: &str) -> Option<&str> {
        let _ = key;
        None
    }
}

/// Typed values by field key: a form, an API body, a stored record as a person would type it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Raw(pub BTreeMap<String, String>);

impl Raw {
    /// Values from pairs.
    pub fn of<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Raw {
        Raw(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// Sets a value.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.0.insert(key.to_string(), value.into());
    }

    /// The value of `key`, or `""`.
    pub fn text(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }

    /// Values from a JSON object: strings as they are, numbers and booleans as their text,
    /// `null` as empty; arrays of strings joined by `;`. Other values are refused by key.
    pub fn from_json(v: &serde_json::Value) -> Result<Raw, String> {
        let Some(obj) = v.as_object() else {
            return Err("the body must be a JSON object of field names and values".into());
        };
        let mut raw = Raw::default();
        for (k, v) in obj {
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Array(items) => {
                    let mut parts = Vec::with_capacity(items.len());
                    for i in items {
                        match i {
                            serde_json::Value::String(s) => parts.push(s.clone()),
                            serde_json::Value::Number(n) => parts.push(n.to_string()),
                            _ => return Err(format!("{k}: a list may hold only texts and numbers")),
                        }
                    }
                    parts.join(";")
                }
                serde_json::Value::Object(_) => return Err(format!("{k}: give a text or a number, not an object")),
            };
            raw.0.insert(k.clone(), text);
        }
        Ok(raw)
    }
}

impl Source for Raw {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Values of `over` where it has them, else of `base` (a partial update over the stored record,
/// a file's row over the stored record for the columns the file lacks).
pub struct Overlay<'a> {
    /// What was typed now.
    pub over: &'a dyn Source,
    /// What was there before.
    pub base: &'a Raw,
}

impl Source for Overlay<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.over.get(key).or_else(|| self.base.get(key))
    }

    fn header(&self, key: &str) -> Option<&str> {
        self.over.get(key).and_then(|_| self.over.header(key))
    }
}

/// One record's typed values and the problems found in them.
pub struct Values<'a> {
    desc: &'static Desc,
    src: &'a dyn Source,
    /// Problems that stop the record.
    pub errors: Vec<Issue>,
    /// Things worth checking that do not stop it.
    pub warnings: Vec<Issue>,
}

impl<'a> Values<'a> {
    /// The values of one record of `desc`'s kind.
    pub fn new(desc: &'static Desc, src: &'a dyn Source) -> Values<'a> {
        Values {
            desc,
            src,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The kind described.
    pub fn desc(&self) -> &'static Desc {
        self.desc
    }

    /// Whether the field is present (a column of the file, a key of the form or body).
    pub fn has(&self, key: &str) -> bool {
        self.src.get(key).is_some()
    }

    /// The text as typed (`""` when absent).
    pub fn raw(&self, key: &str) -> &'a str {
        self.src.get(key).unwrap_or("")
    }

    /// The text cleaned of stray spaces and full-width forms.
    pub fn clean(&self, key: &str) -> String {
        cell::clean(self.raw(key))
    }

    fn issue(&self, key: &str, value: &str, rule: &str, message: String) -> Issue {
        Issue {
            field: key.to_string(),
            column: key.to_string(),
            value: value.to_string(),
            key: rule.to_string(),
            message,
            ..Issue::default()
        }
    }

    /// Records a problem with `key`'s value (`value` as it may be shown: masked when personal).
    pub fn error(&mut self, key: &str, value: &str, rule: &str, message: impl Into<String>) {
        let i = self.issue(key, value, rule, message.into());
        self.errors.push(i);
    }

    /// Records a warning about `key`'s value.
    pub fn warn(&mut self, key: &str, value: &str, rule: &str, message: impl Into<String>) {
        let i = self.issue(key, value, rule, message.into());
        self.warnings.push(i);
    }

    /// Sets the translation arguments of the last error.
    pub fn args(&mut self, args: Vec<(&'static str, String)>) {
        if let Some(last) = self.errors.last_mut() {
            last.args = args;
        }
    }

    /// Sets the translation arguments of the last warning.
    pub fn warn_args(&mut self, args: Vec<(&'static str, String)>) {
        if let Some(last) = self.warnings.last_mut() {
            last.args = args;
        }
    }

    /// Whether any error has been recorded.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    fn cell_error(&mut self, key: &str, shown: &str, e: &CellError) {
        self.error(key, shown, e.key(), e.to_string());
        if let CellError::NotAChoice { allowed } = e {
            self.args(vec![("allowed", allowed.clone())]);
        }
    }

    fn is_personal(&self, key: &str) -> bool {
        self.desc.field(key).is_some_and(|f| f.personal)
    }

    /// Refuses the fields that hold an Excel error (`#DIV/0!`, `#N/A`, …) instead of a value.
    pub fn excel_errors(&mut self) {
        let bad: Vec<(&'static str, String)> = self
            .desc
            .fields
            .iter()
            .filter_map(|f| {
                let v = self.raw(f.key).trim();
                crate::import::table::is_excel_error(v).then(|| (f.key, v.to_string()))
            })
            .collect();
        for (key, v) in bad {
            self.error(
                key,
                &v,
                "cell-excel-error",
                format!("the cell holds the Excel error {v} instead of a value; fix the formula or type the value"),
            );
        }
    }

    /// Whether the field holds an Excel error (already reported by [`Values::excel_errors`]).
    pub fn is_excel_error(&self, key: &str) -> bool {
        crate::import::table::is_excel_error(self.raw(key).trim())
    }

    /// The cleaned text, or a "required" problem when empty.
    pub fn required(&mut self, key: &str) -> Option<String> {
        let v = self.clean(key);
        if v.is_empty() {
            self.error(key, "", "value-missing", format!("{key} is required; fill it in"));
            return None;
        }
        Some(v)
    }

    /// Whether the field is empty (absent or blank).
    pub fn is_empty(&self, key: &str) -> bool {
        self.clean(key).is_empty()
    }

    /// One line of free text: at most [`MAX_TEXT`] characters, no control, bidirectional or
    /// zero-width characters. Empty when absent.
    pub fn text(&mut self, key: &str) -> String {
        self.bounded_text(key, MAX_TEXT)
    }

    /// Several lines of free text, at most [`MAX_LONG_TEXT`] characters.
    pub fn long_text(&mut self, key: &str) -> String {
        let raw = self.raw(key).replace("\r\n", "\n");
        let v = raw.trim().to_string();
        if v.chars().count() > MAX_LONG_TEXT {
            let shown = crate::import::shorten(&v, 40);
            self.error(
                key,
                &shown,
                "text-too-long",
                format!("longer than {MAX_LONG_TEXT} characters; shorten it"),
            );
            self.args(vec![("max", MAX_LONG_TEXT.to_string())]);
            return String::new();
        }
        if let Some(c) = v
            .chars()
            .find(|c| *c != '\n' && *c != '\t' && ringline_core::text::is_invisible(*c))
        {
            self.invisible(key, c);
            return String::new();
        }
        v
    }

    fn invisible(&mut self, key: &str, c: char) {
        self.error(
            key,
            "",
            "name-invisible-character",
            format!(
                "contains an invisible or control character (U+{:04X}); retype it",
                c as u32
            ),
        );
    }

    fn bounded_text(&mut self, key: &str, max: usize) -> String {
        let v = self.clean(key);
        if v.chars().count() > max {
            let shown = crate::import::shorten(&v, 40);
            self.error(
                key,
                &shown,
                "text-too-long",
                format!("longer than {max} characters; shorten it"),
            );
            self.args(vec![("max", max.to_string())]);
            return String::new();
        }
        if let Some(c) = v.chars().find(|c| ringline_core::text::is_invisible(*c)) {
            self.invisible(key, c);
            return String::new();
        }
        v
    }

    /// A required name (spaces folded, name dots unified), at most [`MAX_NAME`] characters.
    pub fn name(&mut self, key: &str) -> Option<String> {
        let raw = self.raw(key).to_string();
        let v = cell::name(&raw);
        if v.is_empty() {
            return self.required(key);
        }
        match check_name(&v, MAX_NAME) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(key, &raw, e.key(), e.to_string());
                None
            }
        }
    }

    /// One of the field's choices (by key or label in either language, or an alias), `None`
    /// when empty (a problem when `required`) or not a choice.
    pub fn choice(&mut self, key: &str) -> Option<&'static str> {
        let required = self.desc.field(key).is_some_and(|f| f.required);
        let raw = self.raw(key).to_string();
        if cell::clean(&raw).is_empty() {
            if required {
                self.required(key);
            }
            return None;
        }
        let choices = match self.desc.field(key).map(|f| f.ty) {
            Some(Ty::Choice(c)) => c,
            _ => &[],
        };
        match cell::choice(&raw, choices) {
            Ok(k) => choices.iter().find(|c| c.0 == k).map(|c| c.0),
            Err(e) => {
                self.cell_error(key, &raw, &e);
                None
            }
        }
    }

    /// An optional value read with `parse`: `None` when empty, or when it does not parse (the
    /// problem is recorded).
    pub fn optional<T>(&mut self, key: &str, parse: fn(&str) -> Result<T, CellError>) -> Option<T> {
        let raw = self.raw(key).to_string();
        if cell::clean(&raw).is_empty() {
            return None;
        }
        match parse(&raw) {
            Ok(v) => Some(v),
            Err(e) => {
                let shown = if self.is_personal(key) { String::new() } else { raw };
                self.cell_error(key, &shown, &e);
                None
            }
        }
    }

    /// The items of a field of [`Ty::Multi`](super::Ty::Multi), as typed: split at `、`, `;`,
    /// `,` or `/` (half- or full-width), each cleaned; empty items dropped. Each item is one
    /// line of text: an item with an invisible character is refused and left out.
    pub fn several(&mut self, key: &str) -> Vec<String> {
        let text = self.text(key);
        text.split(SEPARATORS)
            .map(cell::clean)
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// An optional date.
    pub fn date(&mut self, key: &str) -> Option<NaiveDate> {
        self.optional(key, cell::date)
    }

    /// An optional whole number of 0 or more that fits 32 bits.
    pub fn count(&mut self, key: &str) -> Option<i32> {
        let n = self.optional(key, cell::integer)?;
        match i32::try_from(n) {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                let raw = self.raw(key).to_string();
                self.error(key, &raw, "value-negative", "must be a whole number of 0 or more");
                None
            }
        }
    }

    /// An optional whole number that fits 32 bits.
    pub fn integer(&mut self, key: &str) -> Option<i32> {
        let n = self.optional(key, cell::integer)?;
        match i32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                let raw = self.raw(key).to_string();
                self.error(key, &raw, "value-out-of-range", "the number is too large");
                None
            }
        }
    }

    /// An optional decimal number.
    pub fn decimal(&mut self, key: &str) -> Option<f64> {
        self.optional(key, cell::decimal)
    }

    /// An optional yes/no: `是/否`, `yes/no`, `true/false`, `1/0`, `on` (a checked box).
    pub fn flag(&mut self, key: &str) -> Option<bool> {
        let v = self.clean(key).to_lowercase();
        match v.as_str() {
            "" => None,
            "是" | "yes" | "y" | "true" | "1" | "on" | "√" | "✓" => Some(true),
            "否" | "no" | "n" | "false" | "0" => Some(false),
            _ => {
                let raw = self.raw(key).to_string();
                self.error(key, &raw, "value-not-yes-no", "write 是 or 否 (yes or no)");
                None
            }
        }
    }

    /// An optional code (digits and letters, as text; `.0` and full-width forms repaired).
    pub fn code(&mut self, key: &str) -> Option<String> {
        let raw = self.raw(key).to_string();
        match cell::code(&raw) {
            Ok(v) if v.is_empty() => None,
            Ok(v) => Some(v),
            Err(e) => {
                let shown = if self.is_personal(key) { String::new() } else { raw };
                self.cell_error(key, &shown, &e);
                None
            }
        }
    }

    /// An optional phone number (digits; `+86`, spaces and dashes removed).
    pub fn phone(&mut self, key: &str) -> Option<String> {
        let raw = self.raw(key).to_string();
        match cell::phone(&raw) {
            Ok(p) if p.is_empty() => None,
            Ok(p) => Some(p),
            Err(e) => {
                self.error(key, &mask_phone(&cell::clean(&raw)), e.key(), e.to_string());
                None
            }
        }
    }

    /// A required, valid citizen ID number (GB 11643-1999) on `today`; a converted 15-digit
    /// number is a warning.
    pub fn id_number(&mut self, key: &str, today: NaiveDate) -> Option<IdNumber> {
        use chrono::Datelike;
        let before = self.errors.len();
        match self.code(key) {
            None => {
                if self.errors.len() == before {
                    self.required(key);
                }
                None
            }
            Some(v) => match IdNumber::parse(&v, (today.year(), today.month(), today.day())) {
                Ok(p) => {
                    if p.converted_from_15 {
                        self.warn(
                            key,
                            &p.number.masked(),
                            "id-number-converted",
                            "a 15-digit first-generation number; stored converted to 18 characters",
                        );
                    }
                    Some(p.number)
                }
                Err(e) => {
                    self.error(key, &mask_id_number(&v), e.key(), e.to_string());
                    None
                }
            },
        }
    }

    /// An optional amount in yuan as typed (`12,345.60`, `¥3000元`, `1.2万`), in fen; negative
    /// amounts are refused. `in_wan`: a plain number counts 万 (a column headed 万元).
    pub fn amount(&mut self, key: &str, in_wan: bool) -> Option<Cny> {
        let raw = self.raw(key).to_string();
        let v = cell::clean(&raw);
        if v.is_empty() {
            if self.desc.field(key).is_some_and(|f| f.required) {
                self.required(key);
            }
            return None;
        }
        let typed = if in_wan && v.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
            format!("{v}万")
        } else {
            v
        };
        match Cny::from_yuan_str(&typed) {
            Ok(a) => Some(a),
            Err(e) => {
                self.error(key, &raw, e.key(), e.to_string());
                None
            }
        }
    }

    /// Whether `key`'s column is headed in 万 (`金额(万元)`, `产值（万元）`): a plain number there
    /// counts 万 (10,000 yuan). Always false for forms and API bodies, which take yuan.
    pub fn in_wan(&self, key: &str) -> bool {
        self.src.header(key).is_some_and(|h| h.contains('万'))
    }

    /// A year as people write it (`2025`, `2025年`, `2025年度`), required when the field is;
    /// `None` when empty or not a whole number (the problem is recorded). Ranges are the kind's
    /// to check.
    pub fn year(&mut self, key: &str) -> Option<i32> {
        let raw = self.raw(key).to_string();
        let v = cell::clean(&raw);
        if v.is_empty() {
            if self.desc.field(key).is_some_and(|f| f.required) {
                self.required(key);
            }
            return None;
        }
        let digits = v
            .strip_suffix("年度")
            .or_else(|| v.strip_suffix('年'))
            .unwrap_or(&v)
            .trim();
        match cell::integer(digits) {
            Ok(y) => match i32::try_from(y) {
                Ok(y) => Some(y),
                Err(_) => {
                    self.error(key, &v, "value-out-of-range", "the number is too large");
                    None
                }
            },
            Err(e) => {
                self.cell_error(key, &v, &e);
                None
            }
        }
    }

    /// A division of one of `levels` among the active ones, by 12-digit code, by label
    /// ("town village", as pickers offer) or by a name only one such division has. Retired and
    /// unknown codes are refused; the level is checked.
    pub fn division(&mut self, key: &str, known: &super::cx::Divisions, levels: &[Level]) -> Option<String> {
        let raw = self.raw(key).to_string();
        let typed = cell::clean(&raw);
        if !typed.is_empty() && !typed.chars().any(|c| c.is_ascii_digit()) {
            let wanted = |c: &&String| {
                known
                    .level
                    .get(*c)
                    .is_some_and(|l| levels.iter().any(|w| w.as_str() == l))
            };
            let folded: String = typed.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(code) = known.by_label.get(&folded).filter(|c| wanted(c)) {
                return Some(code.clone());
            }
            let named: Vec<&String> = known
                .by_name
                .get(&folded)
                .map(|v| v.iter().filter(|c| wanted(c)).collect())
                .unwrap_or_default();
            match named.as_slice() {
                [one] => return Some((*one).clone()),
                [] => {
                    self.error(
                        key,
                        &raw,
                        "division-name-unknown",
                        format!(
                            "no {} is named {typed}; pick one from the list or give its 12-digit code",
                            levels.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(" or ")
                        ),
                    );
                }
                many => {
                    self.error(
                        key,
                        &raw,
                        "division-name-ambiguous",
                        format!("{} places are named {typed}; write the town before it (\"town village\") or give the 12-digit code", many.len()),
                    );
                    self.args(vec![("count", many.len().to_string())]);
                }
            }
            return None;
        }
        let retired = &known.retired;
        let known = &known.level;
        let v = self.code(key)?;
        let code = match DivisionCode::parse(&v) {
            Ok(c) => c,
            Err(e) => {
                self.error(key, &raw, e.key(), e.to_string());
                return None;
            }
        };
        match known.get(code.as_str()) {
            None if retired.contains_key(code.as_str()) => {
                let on = retired[code.as_str()].to_string();
                self.error(
                    key,
                    &raw,
                    "division-retired",
                    format!(
                        "{} was retired on {on}: its records stay readable, but nothing new can be recorded for it; use the code that replaced it",
                        code.as_str()
                    ),
                );
                self.args(vec![("code", code.as_str().to_string()), ("date", on)]);
                None
            }
            None => {
                self.error(
                    key,
                    &raw,
                    "division-unknown",
                    format!(
                        "{} is not a division code in use here; check the 12-digit code",
                        code.as_str()
                    ),
                );
                None
            }
            Some(level) if !levels.iter().any(|l| l.as_str() == level) => {
                let wanted: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
                self.error(
                    key,
                    &raw,
                    "division-wrong-level",
                    format!(
                        "{} is a {level} code; a {} code is needed here",
                        code.as_str(),
                        wanted.join(" or ")
                    ),
                );
                self.args(vec![("level", level.clone()), ("wanted", wanted.join("/"))]);
                None
            }
            Some(_) => Some(code.as_str().to_string()),
        }
    }

    /// Refuses a record whose division lies outside the caller's scope.
    pub fn in_scope(&mut self, key: &str, access: &crate::access::Access, division: &str) -> bool {
        if access.sees_code(division) {
            return true;
        }
        let raw = self.raw(key).to_string();
        self.error(
            key,
            &raw,
            "outside-scope",
            format!("{division} is outside your area; only records within your scope can be imported"),
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_become_typed_text() {
        let raw = Raw::from_json(&serde_json::json!({
            "name": "张三", "headcount": 12, "ok": true, "phone": null, "skills": ["a", "b"]
        }))
        .expect("object");
        assert_eq!(raw.text("name"), "张三");
        assert_eq!(raw.text("headcount"), "12");
        assert_eq!(raw.text("ok"), "true");
        assert_eq!(raw.get("phone"), Some(""));
        assert_eq!(raw.text("skills"), "a;b");
        assert!(Raw::from_json(&serde_json::json!([1])).is_err());
        assert!(Raw::from_json(&serde_json::json!({"a": {"b": 1}})).is_err());
    }

    #[test]
    fn overlay_prefers_what_was_typed_now() {
        let base = Raw::of([("name", "旧"), ("address", "老街")]);
        let over = Raw::of([("name", "新")]);
        let o = Overlay {
            over: &over,
            base: &base,
        };
        assert_eq!(o.get("name"), Some("新"));
        assert_eq!(o.get("address"), Some("老街"));
        assert_eq!(o.get("phone"), None);
    }
}
