//! Writes of the economy tables: the checked records of the five economy kinds
//! ([`super::kinds`]) and the SQL that stores, changes and deletes them. None of these check
//! scope or audit: the record-kind drivers ([`crate::kind`]) check every record with the kind's
//! `check` and audit in the same transaction; the demo generator writes records it built itself.
//! Amounts are stored in fen (`*_fen` columns).

use diesel::prelude::*;

use super::{Cny, IncomeSource};
use crate::db::schema::{brands, collective_income, development_chains, income_targets, lead_products};
use crate::db::{DbConn, DbResult, now};

/// A lead product of a village in a year (SPEC C4). Natural key: (village, year, name).
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    /// 12-digit village code.
    pub village_code: String,
    /// Calendar year.
    pub year: i32,
    /// Product name, e.g. 牦牛肉.
    pub name: String,
    /// A key of [`super::PRODUCT_CATEGORIES`].
    pub category: String,
    /// Scale as a number of `scale_unit`; `None` when not reported.
    pub scale: Option<f64>,
    /// Unit of `scale` (亩, 头, 只 …); empty when `scale` is `None`.
    pub scale_unit: String,
    /// Annual output value.
    pub output_value: Option<Cny>,
    /// Households engaged.
    pub households: Option<i32>,
    /// Annual income per engaged household.
    pub income_per_household: Option<Cny>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Insertable)]
#[diesel(table_name = lead_products)]
struct ProductRow<'a> {
    village_code: &'a str,
    year: i32,
    name: &'a str,
    category: &'a str,
    scale: Option<f64>,
    scale_unit: &'a str,
    output_value_fen: Option<i64>,
    households: Option<i32>,
    income_per_household_fen: Option<i64>,
    illustrative: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

fn fen(c: Option<Cny>) -> Option<i64> {
    c.map(i64::from)
}

/// Stores lead products; returns their ids in order.
///
/// # Errors
/// Database errors (a repeated natural key fails the table's unique constraint).
pub fn insert_products(conn: &mut DbConn, rows: &[NewProduct]) -> DbResult<Vec<i64>> {
    let at = now();
    let rows: Vec<ProductRow<'_>> = rows
        .iter()
        .map(|p| ProductRow {
            village_code: &p.village_code,
            year: p.year,
            name: &p.name,
            category: &p.category,
            scale: p.scale,
            scale_unit: &p.scale_unit,
            output_value_fen: fen(p.output_value),
            households: p.households,
            income_per_household_fen: fen(p.income_per_household),
            illustrative: p.illustrative,
            created_at: at,
            updated_at: at,
        })
        .collect();
    Ok(crate::insert_returning_ids!(
        &mut *conn,
        lead_products::table,
        lead_products::id,
        &rows,
        500
    ))
}

/// Replaces the stored lead product `id` with `p`.
///
/// # Errors
/// Database errors.
pub fn update_product(conn: &mut DbConn, id: i64, p: &NewProduct) -> DbResult<()> {
    diesel::update(lead_products::table.find(id))
        .set((
            lead_products::village_code.eq(&p.village_code),
            lead_products::year.eq(p.year),
            lead_products::name.eq(&p.name),
            lead_products::category.eq(&p.category),
            lead_products::scale.eq(p.scale),
            lead_products::scale_unit.eq(&p.scale_unit),
            lead_products::output_value_fen.eq(fen(p.output_value)),
            lead_products::households.eq(p.households),
            lead_products::income_per_household_fen.eq(fen(p.income_per_household)),
            lead_products::illustrative.eq(p.illustrative),
            lead_products::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A development chain of a village's product (SPEC C4): the four links, each `None` while
/// missing. Natural key: (village, product).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChain {
    /// 12-digit village code.
    pub village_code: String,
    /// Product name (normally one of the village's lead products).
    pub product: String,
    /// The party branch (a `party_orgs` id).
    pub branch_org_id: Option<i64>,
    /// The association or cooperative (协会/合作社), a unit id.
    pub association_unit_id: Option<i64>,
    /// The company (公司), a unit id.
    pub company_unit_id: Option<i64>,
    /// The market (市场), a unit id.
    pub market_unit_id: Option<i64>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Insertable)]
#[diesel(table_name = development_chains)]
struct ChainRow<'a> {
    village_code: &'a str,
    product: &'a str,
    branch_org_id: Option<i64>,
    association_unit_id: Option<i64>,
    company_unit_id: Option<i64>,
    market_unit_id: Option<i64>,
    illustrative: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// Stores development chains; returns their ids in order.
///
/// # Errors
/// Database errors (a link id that does not exist fails its foreign key).
pub fn insert_chains(conn: &mut DbConn, rows: &[NewChain]) -> DbResult<Vec<i64>> {
    let at = now();
    let rows: Vec<ChainRow<'_>> = rows
        .iter()
        .map(|c| ChainRow {
            village_code: &c.village_code,
            product: &c.product,
            branch_org_id: c.branch_org_id,
            association_unit_id: c.association_unit_id,
            company_unit_id: c.company_unit_id,
            market_unit_id: c.market_unit_id,
            illustrative: c.illustrative,
            created_at: at,
            updated_at: at,
        })
        .collect();
    Ok(crate::insert_returning_ids!(
        &mut *conn,
        development_chains::table,
        development_chains::id,
        &rows,
        500
    ))
}

/// Replaces the stored development chain `id` with `c`; every link is written, so a link given
/// as `None` becomes missing.
///
/// # Errors
/// Database errors.
pub fn update_chain(conn: &mut DbConn, id: i64, c: &NewChain) -> DbResult<()> {
    diesel::update(development_chains::table.find(id))
        .set((
            development_chains::village_code.eq(&c.village_code),
            development_chains::product.eq(&c.product),
            development_chains::branch_org_id.eq(c.branch_org_id),
            development_chains::association_unit_id.eq(c.association_unit_id),
            development_chains::company_unit_id.eq(c.company_unit_id),
            development_chains::market_unit_id.eq(c.market_unit_id),
            development_chains::illustrative.eq(c.illustrative),
            development_chains::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A party-building brand (SPEC C4). Natural key: (name, year). The owner is a unit or a
/// village, exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBrand {
    /// Brand name.
    pub name: String,
    /// Owner unit id, or `None` when a village owns it.
    pub owner_unit_id: Option<i64>,
    /// Owner village code, or `None` when a unit owns it.
    pub owner_village: Option<String>,
    /// Scope key: the owner unit's division code, or the owner village's code.
    pub division_code: String,
    /// The zone the brand belongs to, if any.
    pub zone_id: Option<i64>,
    /// A key of [`super::BRAND_LEVELS`].
    pub level: String,
    /// Year the brand was named.
    pub year: i32,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Insertable)]
#[diesel(table_name = brands)]
struct BrandRow<'a> {
    name: &'a str,
    owner_unit_id: Option<i64>,
    owner_village: Option<&'a str>,
    division_code: &'a str,
    zone_id: Option<i64>,
    level: &'a str,
    year: i32,
    illustrative: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// Stores brands; returns their ids in order.
///
/// # Errors
/// Database errors (both or neither owner fails the table's check).
pub fn insert_brands(conn: &mut DbConn, rows: &[NewBrand]) -> DbResult<Vec<i64>> {
    let at = now();
    let rows: Vec<BrandRow<'_>> = rows
        .iter()
        .map(|b| BrandRow {
            name: &b.name,
            owner_unit_id: b.owner_unit_id,
            owner_village: b.owner_village.as_deref(),
            division_code: &b.division_code,
            zone_id: b.zone_id,
            level: &b.level,
            year: b.year,
            illustrative: b.illustrative,
            created_at: at,
            updated_at: at,
        })
        .collect();
    Ok(crate::insert_returning_ids!(
        &mut *conn,
        brands::table,
        brands::id,
        &rows,
        500
    ))
}

/// Replaces the stored brand `id` with `b`.
///
/// # Errors
/// Database errors.
pub fn update_brand(conn: &mut DbConn, id: i64, b: &NewBrand) -> DbResult<()> {
    diesel::update(brands::table.find(id))
        .set((
            brands::name.eq(&b.name),
            brands::owner_unit_id.eq(b.owner_unit_id),
            brands::owner_village.eq(&b.owner_village),
            brands::division_code.eq(&b.division_code),
            brands::zone_id.eq(b.zone_id),
            brands::level.eq(&b.level),
            brands::year.eq(b.year),
            brands::illustrative.eq(b.illustrative),
            brands::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One source of a village collective's income in a year (SPEC C5). Natural key:
/// (village, year, source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncome {
    /// 12-digit village code.
    pub village_code: String,
    /// Calendar year.
    pub year: i32,
    /// Income source.
    pub source: IncomeSource,
    /// Amount for the year (non-negative).
    pub amount: Cny,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Insertable)]
#[diesel(table_name = collective_income)]
struct IncomeRow<'a> {
    village_code: &'a str,
    year: i32,
    source: &'a str,
    amount_fen: i64,
    illustrative: bool,
    updated_at: chrono::NaiveDateTime,
}

/// Stores collective income rows; returns their ids in order.
///
/// # Errors
/// Database errors (a repeated natural key fails the table's unique constraint).
pub fn insert_income(conn: &mut DbConn, rows: &[NewIncome]) -> DbResult<Vec<i64>> {
    let at = now();
    let rows: Vec<IncomeRow<'_>> = rows
        .iter()
        .map(|r| IncomeRow {
            village_code: &r.village_code,
            year: r.year,
            source: r.source.as_str(),
            amount_fen: i64::from(r.amount),
            illustrative: r.illustrative,
            updated_at: at,
        })
        .collect();
    Ok(crate::insert_returning_ids!(
        &mut *conn,
        collective_income::table,
        collective_income::id,
        &rows,
        1_000
    ))
}

/// Replaces the stored income row `id` with `r`.
///
/// # Errors
/// Database errors.
pub fn update_income(conn: &mut DbConn, id: i64, r: &NewIncome) -> DbResult<()> {
    diesel::update(collective_income::table.find(id))
        .set((
            collective_income::village_code.eq(&r.village_code),
            collective_income::year.eq(r.year),
            collective_income::source.eq(r.source.as_str()),
            collective_income::amount_fen.eq(i64::from(r.amount)),
            collective_income::illustrative.eq(r.illustrative),
            collective_income::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A village's income target for a year (SPEC C5). Natural key: (village, year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTarget {
    /// 12-digit village code.
    pub village_code: String,
    /// Calendar year.
    pub year: i32,
    /// The year's target for the collective's total income.
    pub target: Cny,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Insertable)]
#[diesel(table_name = income_targets)]
struct TargetRow<'a> {
    village_code: &'a str,
    year: i32,
    target_fen: i64,
    illustrative: bool,
    updated_at: chrono::NaiveDateTime,
}

/// Stores income targets; returns their ids in order.
///
/// # Errors
/// Database errors (a repeated natural key fails the table's unique constraint).
pub fn insert_targets(conn: &mut DbConn, rows: &[NewTarget]) -> DbResult<Vec<i64>> {
    let at = now();
    let rows: Vec<TargetRow<'_>> = rows
        .iter()
        .map(|t| TargetRow {
            village_code: &t.village_code,
            year: t.year,
            target_fen: i64::from(t.target),
            illustrative: t.illustrative,
            updated_at: at,
        })
        .collect();
    Ok(crate::insert_returning_ids!(
        &mut *conn,
        income_targets::table,
        income_targets::id,
        &rows,
        1_000
    ))
}

/// Replaces the stored target `id` with `t`.
///
/// # Errors
/// Database errors.
pub fn update_target(conn: &mut DbConn, id: i64, t: &NewTarget) -> DbResult<()> {
    diesel::update(income_targets::table.find(id))
        .set((
            income_targets::village_code.eq(&t.village_code),
            income_targets::year.eq(t.year),
            income_targets::target_fen.eq(i64::from(t.target)),
            income_targets::illustrative.eq(t.illustrative),
            income_targets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
