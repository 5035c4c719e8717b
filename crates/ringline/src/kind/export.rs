//! How a record's columns are presented, once for every way out: list and detail pages, the
//! command line's tables and CSV, and XLSX exports. A column's [`Show`] turns the value in the
//! record's JSON into a [`Cell`]: typed (a number stays a number, a date a date, an amount a
//! number of yuan, a code text) for Excel, and as text in the reader's language for pages and
//! the terminal.

use std::collections::HashMap;

use serde_json::Value;

use super::{Column, Desc, Show};
use crate::i18n::{Lang, Tr};

/// One presented value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A code: text that must never become a number (monospace on pages).
    Code(String),
    /// A whole number.
    Int(i64),
    /// A decimal number shown with this many decimals.
    Number(f64, u8),
    /// An amount in yuan (from integer fen).
    Yuan(f64),
    /// A rate 0–1 (shown as a percentage).
    Rate(f64),
    /// A calendar date.
    Date(chrono::NaiveDate),
    /// A link to another record: its name and URL path.
    Link(String, String),
}

impl Cell {
    /// The value as text (pages, terminal, CSV).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) | Cell::Code(s) | Cell::Link(s, _) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Number(v, d) => format!("{v:.*}", usize::from(*d)),
            Cell::Yuan(v) if *v < 0.0 => format!("-¥{}", thousands(-*v)),
            Cell::Yuan(v) => format!("¥{}", thousands(*v)),
            // Half away from zero at one decimal, as Excel shows a 0.0% cell.
            Cell::Rate(r) => format!("{:.1}%", (r * 1000.0).round() / 10.0),
            Cell::Date(d) => d.to_string(),
        }
    }
}

/// `12345.6` → `12,345.60`.
fn thousands(v: f64) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}.{frac}", if v < 0.0 { "-" } else { "" })
}

/// The label of a choice key in the reader's language (the key itself when unknown).
pub fn choice_label(t: Tr, choices: super::Choices, key: &str) -> String {
    choices
        .iter()
        .find(|c| c.0 == key)
        .map(|c| match t.lang() {
            Lang::Zh => c.1.to_string(),
            Lang::En => c.2.to_string(),
        })
        .unwrap_or_else(|| key.to_string())
}

/// Division names for [`Show::Place`] ("town › village"), loaded by the caller for a page.
pub type Places = HashMap<String, String>;

/// "town › village" for a village code, the town's name for a town code.
pub fn place_text(code: &str, places: &Places) -> String {
    let own = places.get(code).cloned().unwrap_or_else(|| code.to_string());
    match crate::registry::query::town_code_of(code) {
        Some(town) if town != code => match places.get(&town) {
            Some(t) => format!("{t} › {own}"),
            None => own,
        },
        _ => own,
    }
}

/// The division codes [`Show::Place`] columns of these records name, and their towns.
pub fn place_codes(desc: &Desc, records: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for c in desc.columns.iter().filter(|c| c.show == Show::Place) {
        for r in records {
            if let Some(code) = r.get(c.key).and_then(Value::as_str) {
                out.push(code.to_string());
                if let Some(t) = crate::registry::query::town_code_of(code) {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The value of `column` in `record`, presented.
pub fn cell(t: Tr, column: &Column, record: &Value, places: &Places) -> Cell {
    let v = record.get(column.key).unwrap_or(&Value::Null);
    if v.is_null() {
        return Cell::Empty;
    }
    let text = || match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match column.show {
        Show::Text => Cell::Text(text()),
        Show::Code => Cell::Code(text()),
        Show::Int => v.as_i64().map_or_else(|| Cell::Text(text()), Cell::Int),
        Show::Decimal(d) => v.as_f64().map_or_else(|| Cell::Text(text()), |f| Cell::Number(f, d)),
        Show::Fen => v
            .as_i64()
            .map_or_else(|| Cell::Text(text()), |fen| Cell::Yuan(fen as f64 / 100.0)),
        Show::Rate => v.as_f64().map_or_else(|| Cell::Text(text()), Cell::Rate),
        Show::Date => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .map_or_else(|| Cell::Text(text()), Cell::Date),
        Show::Choice(choices) => Cell::Text(choice_label(t, choices, &text())),
        Show::Bool => match v.as_bool() {
            Some(b) => Cell::Text(t.get(if b { "reg-yes" } else { "reg-no" })),
            None => Cell::Empty,
        },
        Show::Place => match v.as_str() {
            Some(code) => Cell::Text(place_text(code, places)),
            None => Cell::Empty,
        },
        Show::Link(kind, id_key) => {
            let name = text();
            match record.get(id_key).filter(|i| !i.is_null()) {
                Some(id) => {
                    let id = match id {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Cell::Link(name, format!("/{}/{id}", kind.key()))
                }
                None => Cell::Text(name),
            }
        }
        Show::List => {
            // A label in both languages (a skill of the editable list) in the reader's.
            let item = |i: &Value| match i {
                Value::String(s) => s.clone(),
                Value::Object(o) => {
                    let zh = o.get("zh").and_then(Value::as_str).unwrap_or_default();
                    let en = o.get("en").and_then(Value::as_str).unwrap_or_default();
                    t.pick(zh, en).to_string()
                }
                other => other.to_string(),
            };
            match v {
                Value::Array(items) => Cell::Text(items.iter().map(item).collect::<Vec<_>>().join("、")),
                other => Cell::Text(item(other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_with_thousands() {
        assert_eq!(Cell::Yuan(12345.6).text(), "¥12,345.60");
        assert_eq!(Cell::Yuan(0.05).text(), "¥0.05");
        assert_eq!(Cell::Yuan(1_000_000.0).text(), "¥1,000,000.00");
        assert_eq!(Cell::Yuan(-999.0).text(), "-¥999.00");
        assert_eq!(Cell::Rate(0.3125).text(), "31.3%");
    }

    #[test]
    fn places_read_town_then_village() {
        let places: Places = [
            ("630121103000".to_string(), "东峡镇".to_string()),
            ("630121103201".to_string(), "南滩村".to_string()),
        ]
        .into();
        assert_eq!(place_text("630121103201", &places), "东峡镇 › 南滩村");
        assert_eq!(place_text("630121103000", &places), "东峡镇");
        assert_eq!(place_text("630121103299", &places), "东峡镇 › 630121103299");
    }
}
