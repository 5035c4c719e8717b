//! The economy kinds of the import framework (SPEC C4, C5): lead products, development chains,
//! party-building brands, collective income by source and income targets. Rows are checked with
//! the framework's [`Checker`] (the same normalisation, issue keys and places), planned against
//! the database by natural key and written through [`crate::economy::write`] inside the
//! framework's transaction; every updated record is audited with its values before and after.
//!
//! | kind | natural key | a stored record that differs |
//! |---|---|---|
//! | `products` | village + year + product name | updated or skipped (the user's choice) |
//! | `chains` | village + product | updated or skipped |
//! | `brands` | name + year | updated or skipped |
//! | `income` | village + year + source | amount updated or skipped |
//! | `targets` | village + year | target updated or skipped |
//!
//! Columns a file does not have keep their stored values on update (a chain's links, a
//! product's scale, output value, households and income per household, a brand's zone); a
//! column that is present but empty clears the value (a chain link becomes missing).
//!
//! **Villages** are active village-level divisions within the importer's scope. **Years** of
//! lead products, income and targets lie within a program covering the village's county (the
//! `programs` table's `start_year..=end_year`, any program whose county contains the village),
//! or are among its five baseline years before `start_year` ([`BASELINE_YEARS`]: the starting
//! level and trend the program's growth is measured against); where no program covers the county, any year from 1949 to next year. Income and
//! lead products are reported for years that have begun: never after the current year (China
//! time). A brand's year (when it was named) is 1949 to the current year. Years may be written
//! `2025`, `2025年` or `2025年度`.
//!
//! **Amounts** are yuan as people type them ([`Cny::from_yuan_str`]: `12,345.67`, full-width
//! digits, `¥`, `元`, `1.2万`), stored as fen; negative amounts are refused. A column whose
//! header says 万元 (`金额(万元)`) holds 万: a plain number there is read as that many 万.
//!
//! **References**: a chain's branch is a party organization by code (a village's branch has the
//! village's 12-digit code) or unique full name; its association, company and market are
//! registered units by credit code or unique full name. Links may name organizations and units of
//! other areas (a county market serves many villages); readers outside their area see them
//! counted, not named. A chain whose product is none of the village's stored lead products is
//! accepted with a warning. A brand's owner is a unit (credit code or unique full name) or a
//! village (12-digit code) within the importer's scope, and its zone is named by the zone's name
//! (or its short name before a space or bracket, `一环`, `第三线`) among the zones of the
//! owner's county.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::Datelike;
use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::{DivisionCode, Level};
use serde_json::json;

use super::framework::{
    Checker, Context, ImportError, Op, Options, Progress, Stage, duplicates, op_counts, resolve_org, resolve_unit,
    rows_progress, today,
};
use super::spec::INCOME_SOURCES;
use super::table::{Row, is_excel_error};
use crate::access::Access;
use crate::db::DbConn;
use crate::db::schema::{
    brands, collective_income, development_chains, income_targets, lead_products, programs, zones,
};
use crate::economy::write::{self, NewBrand, NewChain, NewIncome, NewProduct};
use crate::economy::{Cny, IncomeSource};

/// First year accepted where no program covers a village's county, and for brands.
const EARLIEST_YEAR: i32 = 1949;

/// Years before a program's first year accepted as its baseline history: the five years of a
/// planning period (五年规划), so the years before the program give its starting level and trend
/// (growth, the ≥ ¥50,000 share over time).
const BASELINE_YEARS: i32 = 5;

/// One source of a village collective's income in a year, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IncomeRow {
    village: String,
    year: i32,
    source: IncomeSource,
    amount: Cny,
}

/// A village's income target for a year, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TargetRow {
    village: String,
    year: i32,
    target: Cny,
}

/// The rows of a checked economy file.
enum Rows {
    Products(Vec<Op<NewProduct>>),
    Chains(Vec<Op<NewChain>>),
    Brands(Vec<Op<NewBrand>>),
    Income(Vec<Op<IncomeRow>>),
    Targets(Vec<Op<TargetRow>>),
}

/// An update to audit: the record's values before and after.
struct Audit {
    entity: &'static str,
    id: String,
    before: serde_json::Value,
    after: serde_json::Value,
    division: String,
}

impl Audit {
    fn new(
        entity: &'static str,
        id: impl ToString,
        before: serde_json::Value,
        after: serde_json::Value,
        division: &str,
    ) -> Audit {
        Audit {
            entity,
            id: id.to_string(),
            before,
            after,
            division: division.to_string(),
        }
    }
}

/// What a checked economy file will do.
pub(super) struct EconomyPlan {
    rows: Rows,
    audits: Vec<Audit>,
}

/// The rows an op list writes (new and updated).
fn written<T: Clone>(ops: &[Op<T>]) -> Vec<T> {
    ops.iter()
        .filter_map(|o| match o {
            Op::New(t) | Op::Update(_, t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

impl EconomyPlan {
    /// (new, updated, unchanged, skipped).
    pub(super) fn counts(&self) -> (usize, usize, usize, usize) {
        match &self.rows {
            Rows::Products(ops) => op_counts(ops),
            Rows::Chains(ops) => op_counts(ops),
            Rows::Brands(ops) => op_counts(ops),
            Rows::Income(ops) => op_counts(ops),
            Rows::Targets(ops) => op_counts(ops),
        }
    }

    /// Writes the plan and audits every update (inside the framework's transaction).
    pub(super) fn write(
        &self,
        conn: &mut DbConn,
        access: &Access,
        opts: Options,
        progress: Progress,
    ) -> Result<(), ImportError> {
        let (new, updated, ..) = self.counts();
        let illustrative = opts.illustrative;
        match &self.rows {
            Rows::Products(ops) => write::upsert_products(conn, &written(ops), illustrative)?,
            Rows::Chains(ops) => write::upsert_chains(conn, &written(ops), illustrative)?,
            Rows::Brands(ops) => write::upsert_brands(conn, &written(ops), illustrative)?,
            Rows::Income(ops) => {
                let rows = written(ops);
                let rows: Vec<NewIncome<'_>> = rows
                    .iter()
                    .map(|r| NewIncome {
                        village_code: &r.village,
                        year: r.year,
                        source: r.source,
                        amount: r.amount,
                    })
                    .collect();
                write::upsert_income(conn, &rows, illustrative)?;
            }
            Rows::Targets(ops) => {
                let rows: Vec<(String, i32, Cny)> = written(ops)
                    .into_iter()
                    .map(|t| (t.village, t.year, t.target))
                    .collect();
                write::upsert_targets(conn, &rows, illustrative)?;
            }
        }
        for a in &self.audits {
            crate::audit::record(
                conn,
                access,
                crate::audit::Change {
                    action: "update",
                    entity: a.entity,
                    entity_id: &a.id,
                    before: Some(a.before.clone()),
                    after: Some(a.after.clone()),
                    detail: "import".into(),
                    scope: DivisionCode::parse(&a.division)
                        .map(|c| c.prefix().to_string())
                        .unwrap_or_default(),
                },
            )?;
        }
        progress(Stage::Writing, new + updated, new + updated);
        Ok(())
    }
}

/// Record counts of the economy kinds, for summaries.
pub(super) fn counts(conn: &mut DbConn) -> Result<Vec<(&'static str, i64)>, ImportError> {
    Ok(vec![
        ("products", lead_products::table.count().get_result(conn)?),
        ("chains", development_chains::table.count().get_result(conn)?),
        ("brands", brands::table.count().get_result(conn)?),
        ("income", collective_income::table.count().get_result(conn)?),
        ("targets", income_targets::table.count().get_result(conn)?),
    ])
}

/// Checks and plans a sheet of one of the economy kinds (`ch.kind`).
pub(super) fn check(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<EconomyPlan, ImportError> {
    let years = Years::load(conn)?;
    let mut audits = Vec::new();
    let rows = match ch.kind.key {
        "products" => Rows::Products(check_products(
            conn,
            access,
            ch,
            ctx,
            &years,
            opts,
            &mut audits,
            progress,
        )?),
        "chains" => Rows::Chains(check_chains(conn, access, ch, ctx, opts, &mut audits, progress)?),
        "brands" => Rows::Brands(check_brands(
            conn,
            access,
            ch,
            ctx,
            &years,
            opts,
            &mut audits,
            progress,
        )?),
        "income" => Rows::Income(check_income(
            conn,
            access,
            ch,
            ctx,
            &years,
            opts,
            &mut audits,
            progress,
        )?),
        _ => Rows::Targets(check_targets(
            conn,
            access,
            ch,
            ctx,
            &years,
            opts,
            &mut audits,
            progress,
        )?),
    };
    Ok(EconomyPlan { rows, audits })
}

// ---------------------------------------------------------------------------------------------
// Cells shared by the kinds

/// Whether a cell holds an Excel error value (already reported by [`Checker::excel_errors`]).
fn excel_error(ch: &Checker, row: &Row, key: &str) -> bool {
    is_excel_error(ch.raw(row, key).trim())
}

/// The required village column: an active village within the importer's scope.
fn village(ch: &mut Checker, row: &Row, ctx: &Context, access: &Access) -> Option<String> {
    if excel_error(ch, row, "village") {
        return None;
    }
    let before = ch.errors.len();
    let v = ch.division(row, "village", ctx, &[Level::Village]);
    if v.is_none() && ch.errors.len() == before {
        ch.required(row, "village");
    }
    let v = v?;
    ch.in_scope(row, "village", access, &v).then_some(v)
}

/// A required name (product, brand).
fn name(ch: &mut Checker, row: &Row, key: &str) -> Option<String> {
    if excel_error(ch, row, key) {
        return None;
    }
    ch.name(row, key)
}

/// A choice of the column's list.
fn choice(ch: &mut Checker, row: &Row, key: &str, required: bool) -> Option<&'static str> {
    if excel_error(ch, row, key) {
        return None;
    }
    ch.choice(row, key, required)
}

/// An optional reference cell (free text within the framework's limits); `""` when empty.
fn reference(ch: &mut Checker, row: &Row, key: &str) -> String {
    if excel_error(ch, row, key) {
        return String::new();
    }
    ch.text(row, key)
}

/// An amount in yuan (see the module docs); `None` when empty (reported when `required`) or
/// refused (reported).
fn amount(ch: &mut Checker, row: &Row, key: &str, required: bool) -> Option<Cny> {
    let v = cell::clean(ch.raw(row, key));
    if v.is_empty() {
        if required {
            ch.required(row, key);
        }
        return None;
    }
    if is_excel_error(&v) {
        return None;
    }
    // A column headed in 万元 holds 万: a plain number there counts 万.
    let in_wan = ch.header(key).contains('万');
    let typed = if in_wan && !v.contains('万') && !v.ends_with('元') {
        format!("{v}万")
    } else {
        v.clone()
    };
    match Cny::from_yuan_str(&typed) {
        Ok(c) => Some(c),
        Err(e) => {
            ch.error(row, key, &v, e.key(), e.to_string());
            None
        }
    }
}

/// An optional whole number of 0 or more.
fn count(ch: &mut Checker, row: &Row, key: &str) -> Option<i32> {
    if excel_error(ch, row, key) {
        return None;
    }
    ch.count(row, key)
}

/// The years programs accept, loaded once per import.
struct Years {
    /// Per program: the significant prefix of its county, the first year accepted (its
    /// baseline) and its last year.
    programs: Vec<(String, i32, i32)>,
    /// The current year in China.
    this_year: i32,
}

impl Years {
    fn load(conn: &mut DbConn) -> Result<Self, ImportError> {
        let rows: Vec<(String, i32, i32)> = programs::table
            .select((programs::county_code, programs::start_year, programs::end_year))
            .load(conn)?;
        Ok(Years {
            programs: rows
                .into_iter()
                .filter_map(|(county, start, end)| {
                    DivisionCode::parse(&county)
                        .ok()
                        .map(|c| (c.prefix().to_string(), start - BASELINE_YEARS, end))
                })
                .collect(),
            this_year: today().year(),
        })
    }

    /// The accepted year ranges of the programs covering `division`.
    fn windows(&self, division: &str) -> Vec<(i32, i32)> {
        self.programs
            .iter()
            .filter(|(prefix, ..)| division.starts_with(prefix.as_str()))
            .map(|&(_, first, last)| (first, last))
            .collect()
    }
}

/// The year column read as a number (`2025`, `2025年`, `2025年度`); required.
fn year_cell(ch: &mut Checker, row: &Row, years: &Years) -> Option<(i32, String)> {
    let v = cell::clean(ch.raw(row, "year"));
    if v.is_empty() {
        ch.required(row, "year");
        return None;
    }
    if is_excel_error(&v) {
        return None;
    }
    let digits = v
        .strip_suffix("年度")
        .or_else(|| v.strip_suffix('年'))
        .unwrap_or(&v)
        .trim();
    match cell::integer(digits) {
        Ok(y) => match i32::try_from(y) {
            Ok(y) => Some((y, v)),
            Err(_) => {
                year_out_of_range(ch, row, &v, EARLIEST_YEAR, years.this_year + 1);
                None
            }
        },
        Err(e) => {
            ch.cell_error(row, "year", &v, &e);
            None
        }
    }
}

fn year_out_of_range(ch: &mut Checker, row: &Row, v: &str, first: i32, last: i32) {
    ch.error(
        row,
        "year",
        v,
        "year-out-of-range",
        format!("the year {v} is not between {first} and {last}; check the year"),
    );
    ch.args(vec![("first", first.to_string()), ("last", last.to_string())]);
}

/// The year of a product, income or target row of `village` (module docs); `past_only` refuses
/// years after the current one.
fn program_year(ch: &mut Checker, row: &Row, years: &Years, village: Option<&str>, past_only: bool) -> Option<i32> {
    let (y, v) = year_cell(ch, row, years)?;
    let windows = village.map(|d| years.windows(d)).unwrap_or_default();
    if windows.is_empty() {
        if !(EARLIEST_YEAR..=years.this_year + 1).contains(&y) {
            year_out_of_range(ch, row, &v, EARLIEST_YEAR, years.this_year + 1);
            return None;
        }
    } else if !windows.iter().any(|&(first, last)| (first..=last).contains(&y)) {
        let first = windows.iter().map(|w| w.0).min().unwrap_or(y);
        let last = windows.iter().map(|w| w.1).max().unwrap_or(y);
        ch.error(
            row,
            "year",
            &v,
            "year-outside-program",
            format!(
                "the year {y} is outside the program of this village's county: {first} to {last} (the program's years and the five baseline years before them); check the year"
            ),
        );
        ch.args(vec![("first", first.to_string()), ("last", last.to_string())]);
        return None;
    }
    if past_only && y > years.this_year {
        ch.error(
            row,
            "year",
            &v,
            "year-future",
            format!("the year {y} has not begun; income and output are reported for the current year or earlier ones"),
        );
        return None;
    }
    Some(y)
}

// ---------------------------------------------------------------------------------------------
// Lead products

type ProductKey = (String, i32, String);

fn product_json(p: &NewProduct) -> serde_json::Value {
    json!({
        "village_code": p.village_code, "year": p.year, "name": p.name, "category": p.category,
        "scale": p.scale, "scale_unit": p.scale_unit, "output_value_fen": p.output_value,
        "households": p.households, "income_per_household_fen": p.income_per_household,
    })
}

#[allow(clippy::too_many_arguments)]
fn check_products(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    years: &Years,
    opts: Options,
    audits: &mut Vec<Audit>,
    progress: Progress,
) -> Result<Vec<Op<NewProduct>>, ImportError> {
    let sheet = ch.sheet;
    let total = sheet.rows.len();
    let mut checked: Vec<Option<NewProduct>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let village = village(ch, row, ctx, access);
        let year = program_year(ch, row, years, village.as_deref(), true);
        let name = name(ch, row, "name");
        let category = choice(ch, row, "category", true);
        let scale = if excel_error(ch, row, "scale") {
            None
        } else {
            match ch.decimal(row, "scale") {
                Some(s) if s < 0.0 => {
                    let raw = cell::clean(ch.raw(row, "scale"));
                    ch.error(
                        row,
                        "scale",
                        &raw,
                        "scale-negative",
                        "the scale is negative; it is 0 or more",
                    );
                    None
                }
                s => s,
            }
        };
        let cell_errors = ch.errors.len();
        let unit = reference(ch, row, "scale_unit");
        let scale_typed = !cell::clean(ch.raw(row, "scale")).is_empty();
        // Scale and unit go together (checked when both cells could be read).
        if ch.errors.len() == cell_errors && (scale.is_some() || !scale_typed) && scale.is_some() == unit.is_empty() {
            let missing = if unit.is_empty() { "scale_unit" } else { "scale" };
            ch.error(
                row,
                missing,
                "",
                "scale-unpaired",
                "give the scale and its unit together, or neither",
            );
        }
        let output_value = amount(ch, row, "output_value", false);
        let households = count(ch, row, "households");
        let income_per_household = amount(ch, row, "income_per_household", false);
        keys.push((
            i,
            match (&village, year, &name) {
                (Some(v), Some(y), Some(n)) => Some(format!("{v} / {y} / {n}")),
                _ => None,
            },
        ));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        let (Some(village_code), Some(year), Some(name), Some(category)) = (village, year, name, category) else {
            checked.push(None);
            continue;
        };
        checked.push(Some(NewProduct {
            village_code,
            year,
            name,
            category: category.into(),
            scale,
            scale_unit: if scale.is_some() { unit } else { String::new() },
            output_value,
            households,
            income_per_household,
        }));
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "name", "village, year and product", false);
    let villages: Vec<String> = distinct(checked.iter().flatten().map(|p| p.village_code.clone()));
    let stored = load_products(conn, &villages)?;
    let demo = demo_ids!(conn, lead_products, stored);
    let has = |k: &str| sheet.columns.contains_key(k);
    let mut ops = Vec::with_capacity(total);
    for (i, p) in checked.into_iter().enumerate() {
        let Some(mut p) = p else { continue };
        if dups.contains(&i) {
            continue;
        }
        let key: ProductKey = (p.village_code.clone(), p.year, p.name.clone());
        let op = match stored.get(&key) {
            None => Op::New(p),
            Some((id, s)) => {
                // Columns the file does not have keep their stored values.
                if !has("scale") && !has("scale_unit") {
                    p.scale = s.scale;
                    p.scale_unit = s.scale_unit.clone();
                }
                if !has("output_value") {
                    p.output_value = s.output_value;
                }
                if !has("households") {
                    p.households = s.households;
                }
                if !has("income_per_household") {
                    p.income_per_household = s.income_per_household;
                }
                let same = *s == p && demo.contains(id) == opts.illustrative;
                let op = Op::existing(*id, same, p, opts.on_existing);
                if let Op::Update(_, p) = &op {
                    audits.push(Audit::new(
                        "lead_product",
                        id,
                        product_json(s),
                        product_json(p),
                        &p.village_code,
                    ));
                }
                op
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

/// The ids among `stored` (natural key → (id, record)) of records generated for the demo: a
/// real import that matches one updates it (with `update`), clearing the mark, even when its
/// values are the same.
macro_rules! demo_ids {
    ($conn:expr, $table:ident, $stored:expr) => {{
        let ids: Vec<i64> = $stored.values().map(|(id, _)| *id).collect();
        let mut demo: HashSet<i64> = HashSet::new();
        for part in ids.chunks(1_000) {
            demo.extend(
                $table::table
                    .filter($table::id.eq_any(part))
                    .filter($table::illustrative.eq(true))
                    .select($table::id)
                    .load::<i64>($conn)?,
            );
        }
        demo
    }};
}
use demo_ids;

/// The distinct values, in first-seen order.
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}

/// Stored records by natural key, with their ids.
type Stored<K, T> = HashMap<K, (i64, T)>;

/// A stored amount in fen (never negative: the tables check it).
fn fen(f: Option<i64>) -> Option<Cny> {
    f.and_then(|f| Cny::from_fen(f).ok())
}

type StoredProduct = (
    i64,
    String,
    i32,
    String,
    String,
    Option<f64>,
    String,
    Option<i64>,
    Option<i32>,
    Option<i64>,
);

fn load_products(conn: &mut DbConn, villages: &[String]) -> Result<Stored<ProductKey, NewProduct>, ImportError> {
    let mut out = HashMap::new();
    for part in villages.chunks(1_000) {
        let rows: Vec<StoredProduct> = lead_products::table
            .filter(lead_products::village_code.eq_any(part))
            .select((
                lead_products::id,
                lead_products::village_code,
                lead_products::year,
                lead_products::name,
                lead_products::category,
                lead_products::scale,
                lead_products::scale_unit,
                lead_products::output_value_fen,
                lead_products::households,
                lead_products::income_per_household_fen,
            ))
            .load(conn)?;
        for r in rows {
            out.insert(
                (r.1.clone(), r.2, r.3.clone()),
                (
                    r.0,
                    NewProduct {
                        village_code: r.1,
                        year: r.2,
                        name: r.3,
                        category: r.4,
                        scale: r.5,
                        scale_unit: r.6,
                        output_value: fen(r.7),
                        households: r.8,
                        income_per_household: fen(r.9),
                    },
                ),
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Development chains

fn chain_json(c: &NewChain) -> serde_json::Value {
    json!({
        "village_code": c.village_code, "product": c.product, "branch_org_id": c.branch_org_id,
        "association_unit_id": c.association_unit_id, "company_unit_id": c.company_unit_id,
        "market_unit_id": c.market_unit_id,
    })
}

/// A chain link naming a registered unit: `Some(None)` when empty, `None` when refused.
fn link_unit(ch: &mut Checker, row: &Row, key: &str, ctx: &Context) -> Option<Option<i64>> {
    let before = ch.errors.len();
    let typed = reference(ch, row, key);
    if typed.is_empty() {
        return (ch.errors.len() == before).then_some(None);
    }
    match resolve_unit(&ctx.units, &typed) {
        Ok(id) => Some(Some(id)),
        Err((n, m)) => {
            ch.error(row, key, &typed, "unit-not-found", m);
            ch.args(vec![("count", n.to_string())]);
            None
        }
    }
}

/// The chain's party branch: `Some(None)` when empty, `None` when refused.
fn link_branch(ch: &mut Checker, row: &Row, ctx: &Context) -> Option<Option<i64>> {
    let before = ch.errors.len();
    let typed = reference(ch, row, "branch");
    if typed.is_empty() {
        return (ch.errors.len() == before).then_some(None);
    }
    match resolve_org(&ctx.orgs, &typed) {
        Ok((id, _)) => Some(Some(id)),
        Err((n, m)) => {
            ch.error(row, "branch", &typed, "org-not-found", m);
            ch.args(vec![("count", n.to_string())]);
            None
        }
    }
}

fn check_chains(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    audits: &mut Vec<Audit>,
    progress: Progress,
) -> Result<Vec<Op<NewChain>>, ImportError> {
    let sheet = ch.sheet;
    let total = sheet.rows.len();
    let mut checked: Vec<Option<NewChain>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let village = village(ch, row, ctx, access);
        let product = name(ch, row, "product");
        let branch = link_branch(ch, row, ctx);
        let association = link_unit(ch, row, "association", ctx);
        let company = link_unit(ch, row, "company", ctx);
        let market = link_unit(ch, row, "market", ctx);
        keys.push((
            i,
            village
                .as_ref()
                .zip(product.as_ref())
                .map(|(v, p)| format!("{v} / {p}")),
        ));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (village, product, branch, association, company, market) {
            (Some(village_code), Some(product), Some(b), Some(a), Some(c), Some(m)) => Some(NewChain {
                village_code,
                product,
                branch_org_id: b,
                association_unit_id: a,
                company_unit_id: c,
                market_unit_id: m,
            }),
            _ => None,
        });
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "product", "village and product", false);
    let villages: Vec<String> = distinct(checked.iter().flatten().map(|c| c.village_code.clone()));
    let stored = load_chains(conn, &villages)?;
    let demo = demo_ids!(conn, development_chains, stored);
    let mut products: HashSet<(String, String)> = HashSet::new();
    for part in villages.chunks(1_000) {
        products.extend(
            lead_products::table
                .filter(lead_products::village_code.eq_any(part))
                .select((lead_products::village_code, lead_products::name))
                .load::<(String, String)>(conn)?,
        );
    }
    let has = |k: &str| sheet.columns.contains_key(k);
    let mut ops = Vec::with_capacity(total);
    for (i, c) in checked.into_iter().enumerate() {
        let Some(mut c) = c else { continue };
        if dups.contains(&i) {
            continue;
        }
        if !products.contains(&(c.village_code.clone(), c.product.clone())) {
            let row = &sheet.rows[i];
            ch.warn(
                row,
                "product",
                &c.product,
                "chain-product-unknown",
                format!(
                    "{:?} is none of the village's lead products; the chain is stored all the same — check the name",
                    c.product
                ),
            );
        }
        let op = match stored.get(&(c.village_code.clone(), c.product.clone())) {
            None => Op::New(c),
            Some((id, s)) => {
                // Columns the file does not have keep their stored links.
                if !has("branch") {
                    c.branch_org_id = s.branch_org_id;
                }
                if !has("association") {
                    c.association_unit_id = s.association_unit_id;
                }
                if !has("company") {
                    c.company_unit_id = s.company_unit_id;
                }
                if !has("market") {
                    c.market_unit_id = s.market_unit_id;
                }
                let same = *s == c && demo.contains(id) == opts.illustrative;
                let op = Op::existing(*id, same, c, opts.on_existing);
                if let Op::Update(_, c) = &op {
                    audits.push(Audit::new(
                        "development_chain",
                        id,
                        chain_json(s),
                        chain_json(c),
                        &c.village_code,
                    ));
                }
                op
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

type StoredChain = (i64, String, String, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn load_chains(conn: &mut DbConn, villages: &[String]) -> Result<Stored<(String, String), NewChain>, ImportError> {
    let mut out = HashMap::new();
    for part in villages.chunks(1_000) {
        let rows: Vec<StoredChain> = development_chains::table
            .filter(development_chains::village_code.eq_any(part))
            .select((
                development_chains::id,
                development_chains::village_code,
                development_chains::product,
                development_chains::branch_org_id,
                development_chains::association_unit_id,
                development_chains::company_unit_id,
                development_chains::market_unit_id,
            ))
            .load(conn)?;
        for r in rows {
            out.insert(
                (r.1.clone(), r.2.clone()),
                (
                    r.0,
                    NewChain {
                        village_code: r.1,
                        product: r.2,
                        branch_org_id: r.3,
                        association_unit_id: r.4,
                        company_unit_id: r.5,
                        market_unit_id: r.6,
                    },
                ),
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Brands

fn brand_json(b: &NewBrand) -> serde_json::Value {
    json!({
        "name": b.name, "owner_unit_id": b.owner_unit_id, "owner_village": b.owner_village,
        "division_code": b.division_code, "zone_id": b.zone_id, "level": b.level, "year": b.year,
    })
}

/// A brand's owner: `(unit id, village code, scope key)`.
type Owner = (Option<i64>, Option<String>, String);

/// The owner as typed: a village's 12-digit code, else a unit by credit code or unique name.
fn brand_owner(ch: &mut Checker, row: &Row, ctx: &Context) -> Option<Owner> {
    if excel_error(ch, row, "owner") {
        return None;
    }
    let typed = ch.required(row, "owner")?;
    if let Ok(code) = cell::code(&typed)
        && code.len() == 12
        && code.bytes().all(|b| b.is_ascii_digit())
    {
        let v = ch.division(row, "owner", ctx, &[Level::Village])?;
        return Some((None, Some(v.clone()), v));
    }
    match resolve_unit(&ctx.units, &typed) {
        Ok(id) => {
            let division = ctx.units.division_of.get(&id).cloned().unwrap_or_default();
            Some((Some(id), None, division))
        }
        Err((n, m)) if n > 1 => {
            ch.error(row, "owner", &typed, "unit-not-found", m);
            ch.args(vec![("count", n.to_string())]);
            None
        }
        Err(_) => {
            ch.error(
                row,
                "owner",
                &typed,
                "brand-owner-not-found",
                format!(
                    "no registered unit has the credit code or name {typed:?}, and it is no village code; give a unit's credit code or full name, or a village's 12-digit code"
                ),
            );
            None
        }
    }
}

/// A zone that brands may name.
struct ZoneRef {
    id: i64,
    /// The significant prefix of its program's county.
    county: String,
    /// Its names folded for comparison: Chinese, short Chinese, English.
    names: Vec<String>,
}

/// A zone name folded for comparison: full-width folded, spaces removed, lower case.
fn fold_zone(s: &str) -> String {
    cell::clean(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn load_zones(conn: &mut DbConn) -> Result<Vec<ZoneRef>, ImportError> {
    let rows: Vec<(i64, String, String, String)> = zones::table
        .inner_join(programs::table)
        .select((zones::id, zones::name, zones::name_en, programs::county_code))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, name_en, county)| {
            let short = name
                .split(|c: char| c.is_whitespace() || matches!(c, '(' | '（'))
                .next()
                .unwrap_or("")
                .to_string();
            let names = [name, short, name_en]
                .iter()
                .map(|n| fold_zone(n))
                .filter(|n| !n.is_empty())
                .collect();
            ZoneRef {
                id,
                county: DivisionCode::parse(&county)
                    .map(|c| c.prefix().to_string())
                    .unwrap_or(county),
                names,
            }
        })
        .collect())
}

/// The brand's zone among the zones of the owner's county: `Some(None)` when empty, `None`
/// when refused (or when the owner is unknown, which is reported already).
fn brand_zone(ch: &mut Checker, row: &Row, zones: &[ZoneRef], owner: Option<&str>) -> Option<Option<i64>> {
    let before = ch.errors.len();
    let typed = reference(ch, row, "zone");
    if typed.is_empty() {
        return (ch.errors.len() == before).then_some(None);
    }
    let folded = fold_zone(&typed);
    let named: Vec<&ZoneRef> = zones.iter().filter(|z| z.names.contains(&folded)).collect();
    let owner = owner?;
    let here: Vec<&&ZoneRef> = named.iter().filter(|z| owner.starts_with(z.county.as_str())).collect();
    match here.as_slice() {
        [z] => Some(Some(z.id)),
        [] if !named.is_empty() => {
            ch.error(
                row,
                "zone",
                &typed,
                "brand-zone-other-county",
                format!(
                    "the zone {typed:?} belongs to a program of another county; a brand belongs to a zone of its owner's county"
                ),
            );
            None
        }
        found => {
            ch.error(
                row,
                "zone",
                &typed,
                "zone-not-found",
                if found.is_empty() {
                    format!("no zone of the owner's county is named {typed:?}; use a zone's name as the program page shows it")
                } else {
                    format!(
                        "{} zones of the owner's county are named {typed:?}; use the zone's full name",
                        found.len()
                    )
                },
            );
            ch.args(vec![("count", found.len().to_string())]);
            None
        }
    }
}

/// The year a brand was named: 1949 to the current year.
fn named_year(ch: &mut Checker, row: &Row, years: &Years) -> Option<i32> {
    let (y, v) = year_cell(ch, row, years)?;
    if (EARLIEST_YEAR..=years.this_year).contains(&y) {
        Some(y)
    } else {
        year_out_of_range(ch, row, &v, EARLIEST_YEAR, years.this_year);
        None
    }
}

#[allow(clippy::too_many_arguments)]
fn check_brands(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    years: &Years,
    opts: Options,
    audits: &mut Vec<Audit>,
    progress: Progress,
) -> Result<Vec<Op<NewBrand>>, ImportError> {
    let zones = load_zones(conn)?;
    let sheet = ch.sheet;
    let total = sheet.rows.len();
    let mut checked: Vec<Option<NewBrand>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let name = name(ch, row, "name");
        let owner = brand_owner(ch, row, ctx);
        if let Some((_, _, division)) = &owner {
            ch.in_scope(row, "owner", access, division);
        }
        let zone = brand_zone(ch, row, &zones, owner.as_ref().map(|o| o.2.as_str()));
        let level = choice(ch, row, "level", true);
        let year = named_year(ch, row, years);
        keys.push((i, name.as_ref().zip(year).map(|(n, y)| format!("{n} ({y})"))));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (name, owner, zone, level, year) {
            (Some(name), Some((unit, village, division)), Some(zone_id), Some(level), Some(year)) => Some(NewBrand {
                name,
                owner_unit_id: unit,
                owner_village: village,
                division_code: division,
                zone_id,
                level: level.into(),
                year,
            }),
            _ => None,
        });
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "name", "brand name and year", false);
    let names: Vec<String> = distinct(checked.iter().flatten().map(|b| b.name.clone()));
    let stored = load_brands(conn, &names)?;
    let demo = demo_ids!(conn, brands, stored);
    let has_zone = sheet.columns.contains_key("zone");
    let mut ops = Vec::with_capacity(total);
    for (i, b) in checked.into_iter().enumerate() {
        let Some(mut b) = b else { continue };
        if dups.contains(&i) {
            continue;
        }
        let op = match stored.get(&(b.name.clone(), b.year)) {
            None => Op::New(b),
            Some((id, s)) => {
                if !access.sees_code(&s.division_code) {
                    let row = &sheet.rows[i];
                    ch.error(
                        row,
                        "name",
                        &b.name,
                        "outside-scope",
                        "this brand is registered outside your area; ask the county to change it",
                    );
                    continue;
                }
                if !has_zone {
                    b.zone_id = s.zone_id;
                }
                let same = *s == b && demo.contains(id) == opts.illustrative;
                let op = Op::existing(*id, same, b, opts.on_existing);
                if let Op::Update(_, b) = &op {
                    audits.push(Audit::new("brand", id, brand_json(s), brand_json(b), &b.division_code));
                }
                op
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

type StoredBrand = (
    i64,
    String,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    String,
    i32,
);

fn load_brands(conn: &mut DbConn, names: &[String]) -> Result<Stored<(String, i32), NewBrand>, ImportError> {
    let mut out = HashMap::new();
    for part in names.chunks(1_000) {
        let rows: Vec<StoredBrand> = brands::table
            .filter(brands::name.eq_any(part))
            .select((
                brands::id,
                brands::name,
                brands::owner_unit_id,
                brands::owner_village,
                brands::division_code,
                brands::zone_id,
                brands::level,
                brands::year,
            ))
            .load(conn)?;
        for r in rows {
            out.insert(
                (r.1.clone(), r.7),
                (
                    r.0,
                    NewBrand {
                        name: r.1,
                        owner_unit_id: r.2,
                        owner_village: r.3,
                        division_code: r.4,
                        zone_id: r.5,
                        level: r.6,
                        year: r.7,
                    },
                ),
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Collective income

fn income_json(r: &IncomeRow) -> serde_json::Value {
    json!({
        "village_code": r.village, "year": r.year, "source": r.source.as_str(),
        "amount_fen": r.amount,
    })
}

/// The income source as typed: a name [`IncomeSource`] parses (key, Chinese name or short
/// form), else an English label of the drop-down.
fn income_source(ch: &mut Checker, row: &Row) -> Option<IncomeSource> {
    if excel_error(ch, row, "source") {
        return None;
    }
    let typed = ch.required(row, "source")?;
    if let Ok(s) = IncomeSource::from_str(&typed) {
        return Some(s);
    }
    if let Ok(key) = cell::choice(&typed, INCOME_SOURCES)
        && let Ok(s) = IncomeSource::from_str(key)
    {
        return Some(s);
    }
    let allowed = INCOME_SOURCES.iter().map(|c| c.1).collect::<Vec<_>>().join("、");
    ch.error(
        row,
        "source",
        &typed,
        "income-source-unknown",
        format!("{typed:?} is not an income source; use one of: {allowed}"),
    );
    ch.args(vec![("allowed", allowed)]);
    None
}

#[allow(clippy::too_many_arguments)]
fn check_income(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    years: &Years,
    opts: Options,
    audits: &mut Vec<Audit>,
    progress: Progress,
) -> Result<Vec<Op<IncomeRow>>, ImportError> {
    let sheet = ch.sheet;
    let total = sheet.rows.len();
    let mut checked: Vec<Option<IncomeRow>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let village = village(ch, row, ctx, access);
        let year = program_year(ch, row, years, village.as_deref(), true);
        let source = income_source(ch, row);
        let amount = amount(ch, row, "amount", true);
        keys.push((
            i,
            match (&village, year, source) {
                (Some(v), Some(y), Some(s)) => Some(format!("{v} / {y} / {}", s.zh())),
                _ => None,
            },
        ));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (village, year, source, amount) {
            (Some(village), Some(year), Some(source), Some(amount)) => Some(IncomeRow {
                village,
                year,
                source,
                amount,
            }),
            _ => None,
        });
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "source", "village, year and income source", false);
    let villages: Vec<String> = distinct(checked.iter().flatten().map(|r| r.village.clone()));
    let mut stored: HashMap<(String, i32, String), (i64, bool)> = HashMap::new();
    for part in villages.chunks(1_000) {
        let rows: Vec<(String, i32, String, i64, bool)> = collective_income::table
            .filter(collective_income::village_code.eq_any(part))
            .select((
                collective_income::village_code,
                collective_income::year,
                collective_income::source,
                collective_income::amount_fen,
                collective_income::illustrative,
            ))
            .load(conn)?;
        stored.extend(rows.into_iter().map(|(v, y, s, a, d)| ((v, y, s), (a, d))));
    }
    let mut ops = Vec::with_capacity(total);
    for (i, r) in checked.into_iter().enumerate() {
        let Some(r) = r else { continue };
        if dups.contains(&i) {
            continue;
        }
        let key = (r.village.clone(), r.year, r.source.as_str().to_string());
        let op = match stored.get(&key).and_then(|&(f, d)| Some((fen(Some(f))?, d))) {
            None => Op::New(r),
            Some((a, demo)) => {
                let before = IncomeRow { amount: a, ..r.clone() };
                let op = Op::existing(0, a == r.amount && demo == opts.illustrative, r, opts.on_existing);
                if let Op::Update(_, r) = &op {
                    let id = format!("{}/{}/{}", r.village, r.year, r.source.as_str());
                    audits.push(Audit::new(
                        "collective_income",
                        id,
                        income_json(&before),
                        income_json(r),
                        &r.village,
                    ));
                }
                op
            }
        };
        ops.push(op);
    }
    Ok(ops)
}

// ---------------------------------------------------------------------------------------------
// Income targets

fn target_json(t: &TargetRow) -> serde_json::Value {
    json!({ "village_code": t.village, "year": t.year, "target_fen": t.target })
}

#[allow(clippy::too_many_arguments)]
fn check_targets(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    years: &Years,
    opts: Options,
    audits: &mut Vec<Audit>,
    progress: Progress,
) -> Result<Vec<Op<TargetRow>>, ImportError> {
    let sheet = ch.sheet;
    let total = sheet.rows.len();
    let mut checked: Vec<Option<TargetRow>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        ch.excel_errors(row);
        let village = village(ch, row, ctx, access);
        let year = program_year(ch, row, years, village.as_deref(), false);
        let target = amount(ch, row, "target", true);
        keys.push((i, village.as_ref().zip(year).map(|(v, y)| format!("{v} / {y}"))));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (village, year, target) {
            (Some(village), Some(year), Some(target)) => Some(TargetRow { village, year, target }),
            _ => None,
        });
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "year", "village and year", false);
    let villages: Vec<String> = distinct(checked.iter().flatten().map(|t| t.village.clone()));
    let mut stored: HashMap<(String, i32), (i64, bool)> = HashMap::new();
    for part in villages.chunks(1_000) {
        let rows: Vec<(String, i32, i64, bool)> = income_targets::table
            .filter(income_targets::village_code.eq_any(part))
            .select((
                income_targets::village_code,
                income_targets::year,
                income_targets::target_fen,
                income_targets::illustrative,
            ))
            .load(conn)?;
        stored.extend(rows.into_iter().map(|(v, y, t, d)| ((v, y), (t, d))));
    }
    let mut ops = Vec::with_capacity(total);
    for (i, t) in checked.into_iter().enumerate() {
        let Some(t) = t else { continue };
        if dups.contains(&i) {
            continue;
        }
        let op = match stored
            .get(&(t.village.clone(), t.year))
            .and_then(|&(f, d)| Some((fen(Some(f))?, d)))
        {
            None => Op::New(t),
            Some((a, demo)) => {
                let before = TargetRow { target: a, ..t.clone() };
                let op = Op::existing(0, a == t.target && demo == opts.illustrative, t, opts.on_existing);
                if let Op::Update(_, t) = &op {
                    let id = format!("{}/{}", t.village, t.year);
                    audits.push(Audit::new(
                        "income_target",
                        id,
                        target_json(&before),
                        target_json(t),
                        &t.village,
                    ));
                }
                op
            }
        };
        ops.push(op);
    }
    Ok(ops)
}
