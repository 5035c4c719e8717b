//! The SQL toolkit every feature's scoped reads share: boxed conditions combined with `AND`
//! ([`Pred`], [`all`]), the one scope filter on a division-code column ([`restrict_codes!`]
//! with [`crate::access::Access::code_filter`] or [`subtree`]), `LIKE` patterns taken
//! literally ([`contains_pattern`]), chunked `IN (…)` lists ([`IN_CHUNK`]) and division names by
//! code.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use ringline_core::division::DivisionCode;

use super::schema::divisions;
use super::{DbConn, DbResult, MultiBackend, prefix_end};
use crate::access::CodeFilter;

/// Ids per `IN (…)` list when loading derived figures for a page (well below SQLite's 32,766
/// and PostgreSQL's 65,535 bound parameters).
pub const IN_CHUNK: usize = 1_000;

diesel::define_sql_function! {
    /// Lower case (ASCII on SQLite, all letters on PostgreSQL).
    fn lower(x: Text) -> Text;
}

/// A boxed boolean condition on one table, combined with `AND` into a `WHERE` clause.
pub(crate) type Pred<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>;

/// All conditions together; `TRUE` when there are none.
pub(crate) fn all<T: 'static>(preds: Vec<Pred<T>>) -> Pred<T> {
    preds
        .into_iter()
        .reduce(|a, b| Box::new(a.and(b)))
        .unwrap_or_else(|| Box::new(true.into_sql::<Bool>()))
}

/// Pushes the conditions restricting `$col` (a division code column) to `$filter`
/// (a [`CodeFilter`]).
macro_rules! restrict_codes {
    ($preds:expr, $col:expr, $filter:expr) => {
        match $filter {
            $crate::access::CodeFilter::None => {}
            $crate::access::CodeFilter::Range(start, end) => {
                $preds.push(Box::new($col.ge(start)));
                if let Some(end) = end {
                    $preds.push(Box::new($col.lt(end)));
                }
            }
            $crate::access::CodeFilter::List(codes) => $preds.push(Box::new($col.eq_any(codes))),
        }
    };
}
pub(crate) use restrict_codes;

/// The code range of the subtree `under` names (a division code in any form
/// [`DivisionCode::parse`] accepts); a value that is no division code matches nothing.
pub(crate) fn subtree(under: &str) -> CodeFilter {
    match DivisionCode::parse(under) {
        Ok(c) => CodeFilter::Range(c.prefix().to_string(), prefix_end(c.prefix())),
        Err(_) => CodeFilter::List(Vec::new()),
    }
}

/// A `LIKE` pattern matching names that contain `q` (case-insensitive for ASCII letters), with
/// `%`, `_` and `\` in `q` taken literally; `None` when `q` is blank.
pub(crate) fn contains_pattern(q: Option<&str>) -> Option<String> {
    let q = q.map(str::trim).filter(|q| !q.is_empty())?;
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    Some(p)
}

/// A blank optional text is no filter.
pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The town code of a division code: its first 9 digits followed by `000`.
pub fn town_code_of(code: &str) -> Option<String> {
    (code.len() == 12 && code.is_ascii()).then(|| format!("{}000", &code[..9]))
}

/// Names of divisions by code (any status; public reference data, not scoped).
pub(crate) fn division_names(
    conn: &mut DbConn,
    codes: impl IntoIterator<Item = String>,
) -> DbResult<HashMap<String, String>> {
    let mut codes: Vec<String> = codes.into_iter().collect();
    codes.sort();
    codes.dedup();
    let mut out = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(IN_CHUNK) {
        let rows: Vec<(String, String)> = divisions::table
            .filter(divisions::code.eq_any(chunk))
            .select((divisions::code, divisions::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
