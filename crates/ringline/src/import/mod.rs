//! Imports: reading files into validated records, planning the change against the database
//! (a dry run), and applying it atomically.

pub mod divisions;
pub mod framework;
pub mod held;
pub mod spec;
pub mod table;
pub mod workbook;

use serde::Serialize;

/// One problem found in an input file, with its place.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Issue {
    /// File name.
    pub file: String,
    /// Sheet name, for spreadsheets.
    pub sheet: Option<String>,
    /// 1-based line (CSV) or row (spreadsheet) as a person sees it; 0 for the whole file.
    pub line: usize,
    /// Column header as written in the file, or `""` for the whole row.
    pub column: String,
    /// The field's key (`""` for problems of the whole file or row).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
    /// The column's letter in the sheet (`C`), when the field has a column.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cell: String,
    /// The offending value.
    pub value: String,
    /// Stable key of the rule that failed (e.g. `code-wrong-length`).
    pub key: String,
    /// What is wrong and what to do, in English.
    pub message: String,
    /// Named values for the translated message (locale key `issue-<key>`; `column` and
    /// `value` are always available to it).
    #[serde(skip)]
    pub args: Vec<(&'static str, String)>,
    /// The message in the reader's language, filled in by the web layer for API answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub localized: Option<String>,
}

impl Issue {
    /// The message in `t`'s language: the locale text `issue-<key>` with the issue's place and
    /// arguments, else the English [`Issue::message`].
    pub fn text(&self, t: crate::i18n::Tr) -> String {
        let mut args: Vec<(&str, String)> = vec![("column", self.column.clone()), ("value", self.value.clone())];
        args.extend(self.args.iter().map(|(k, v)| (*k, v.clone())));
        t.try_args(&format!("issue-{}", self.key), &args)
            .unwrap_or_else(|| self.message.clone())
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(s) = &self.sheet {
            write!(f, " [{s}]")?;
        }
        if self.line > 0 {
            write!(f, ", line {}", self.line)?;
        }
        if !self.column.is_empty() {
            write!(f, ", column {}", self.column)?;
        }
        write!(f, ": {}", shorten(&self.message, 400))?;
        if !self.value.is_empty() && !self.message.contains(&self.value) {
            write!(f, " (value: {:?})", shorten(&self.value, 80))?;
        }
        Ok(())
    }
}

/// The first `max` characters of `s`, with "…" when cut (keeps reports of huge cells short).
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}
