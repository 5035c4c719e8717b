//! Imports: reading files into validated records, planning the change against the database
//! (a dry run), and applying it atomically.

pub mod divisions;
pub mod table;

use serde::Serialize;

/// One problem found in an input file, with its place.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Issue {
    /// File name.
    pub file: String,
    /// Sheet name, for spreadsheets.
    pub sheet: Option<String>,
    /// 1-based line (CSV) or row (spreadsheet) as a person sees it; 0 for the whole file.
    pub line: usize,
    /// Column header as written in the file, or `""` for the whole row.
    pub column: String,
    /// The offending value.
    pub value: String,
    /// Stable key of the rule that failed (e.g. `code-wrong-length`).
    pub key: String,
    /// What is wrong and what to do, in English.
    pub message: String,
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
