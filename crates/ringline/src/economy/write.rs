//! Writes of the economy tables, used by the imports and the demo. None of these check scope or
//! audit: callers (the import framework, the demo generator) have checked the rows and record
//! the audit themselves. Each function upserts on the table's natural key, so re-running the
//! same rows changes nothing; run them inside the caller's transaction for atomicity.

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
}

/// Stores or updates lead products on (village, year, name).
///
/// # Errors
/// Database errors.
pub fn upsert_products(conn: &mut DbConn, rows: &[NewProduct], illustrative: bool) -> DbResult<()> {
    let at = now();
    for p in rows {
        let fen = |c: Option<Cny>| c.map(i64::from);
        let n = diesel::update(
            lead_products::table
                .filter(lead_products::village_code.eq(&p.village_code))
                .filter(lead_products::year.eq(p.year))
                .filter(lead_products::name.eq(&p.name)),
        )
        .set((
            lead_products::category.eq(&p.category),
            lead_products::scale.eq(p.scale),
            lead_products::scale_unit.eq(&p.scale_unit),
            lead_products::output_value_fen.eq(fen(p.output_value)),
            lead_products::households.eq(p.households),
            lead_products::income_per_household_fen.eq(fen(p.income_per_household)),
            lead_products::illustrative.eq(illustrative),
            lead_products::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(lead_products::table)
                .values((
                    lead_products::village_code.eq(&p.village_code),
                    lead_products::year.eq(p.year),
                    lead_products::name.eq(&p.name),
                    lead_products::category.eq(&p.category),
                    lead_products::scale.eq(p.scale),
                    lead_products::scale_unit.eq(&p.scale_unit),
                    lead_products::output_value_fen.eq(fen(p.output_value)),
                    lead_products::households.eq(p.households),
                    lead_products::income_per_household_fen.eq(fen(p.income_per_household)),
                    lead_products::illustrative.eq(illustrative),
                    lead_products::created_at.eq(at),
                    lead_products::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
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
}

/// Stores or updates development chains on (village, product); every link is written, so a
/// link given as `None` becomes missing.
///
/// # Errors
/// Database errors (a link id that does not exist fails its foreign key).
pub fn upsert_chains(conn: &mut DbConn, rows: &[NewChain], illustrative: bool) -> DbResult<()> {
    let at = now();
    for c in rows {
        let n = diesel::update(
            development_chains::table
                .filter(development_chains::village_code.eq(&c.village_code))
                .filter(development_chains::product.eq(&c.product)),
        )
        .set((
            development_chains::branch_org_id.eq(c.branch_org_id),
            development_chains::association_unit_id.eq(c.association_unit_id),
            development_chains::company_unit_id.eq(c.company_unit_id),
            development_chains::market_unit_id.eq(c.market_unit_id),
            development_chains::illustrative.eq(illustrative),
            development_chains::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(development_chains::table)
                .values((
                    development_chains::village_code.eq(&c.village_code),
                    development_chains::product.eq(&c.product),
                    development_chains::branch_org_id.eq(c.branch_org_id),
                    development_chains::association_unit_id.eq(c.association_unit_id),
                    development_chains::company_unit_id.eq(c.company_unit_id),
                    development_chains::market_unit_id.eq(c.market_unit_id),
                    development_chains::illustrative.eq(illustrative),
                    development_chains::created_at.eq(at),
                    development_chains::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
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
}

/// Stores or updates brands on (name, year).
///
/// # Errors
/// Database errors (both or neither owner fails the table's check).
pub fn upsert_brands(conn: &mut DbConn, rows: &[NewBrand], illustrative: bool) -> DbResult<()> {
    let at = now();
    for b in rows {
        let n = diesel::update(
            brands::table
                .filter(brands::name.eq(&b.name))
                .filter(brands::year.eq(b.year)),
        )
        .set((
            brands::owner_unit_id.eq(b.owner_unit_id),
            brands::owner_village.eq(&b.owner_village),
            brands::division_code.eq(&b.division_code),
            brands::zone_id.eq(b.zone_id),
            brands::level.eq(&b.level),
            brands::illustrative.eq(illustrative),
            brands::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(brands::table)
                .values((
                    brands::name.eq(&b.name),
                    brands::owner_unit_id.eq(b.owner_unit_id),
                    brands::owner_village.eq(&b.owner_village),
                    brands::division_code.eq(&b.division_code),
                    brands::zone_id.eq(b.zone_id),
                    brands::level.eq(&b.level),
                    brands::year.eq(b.year),
                    brands::illustrative.eq(illustrative),
                    brands::created_at.eq(at),
                    brands::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// One source of a village collective's income in a year (SPEC C5). Natural key:
/// (village, year, source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewIncome<'a> {
    /// 12-digit village code.
    pub village_code: &'a str,
    /// Calendar year.
    pub year: i32,
    /// Income source.
    pub source: IncomeSource,
    /// Amount for the year (non-negative).
    pub amount: Cny,
}

/// Stores or updates collective income rows on (village, year, source).
///
/// # Errors
/// Database errors (a negative amount fails the table's check).
pub fn upsert_income(conn: &mut DbConn, rows: &[NewIncome<'_>], illustrative: bool) -> DbResult<()> {
    let at = now();
    for r in rows {
        let fen = i64::from(r.amount);
        let n = diesel::update(
            collective_income::table
                .filter(collective_income::village_code.eq(r.village_code))
                .filter(collective_income::year.eq(r.year))
                .filter(collective_income::source.eq(r.source.as_str())),
        )
        .set((
            collective_income::amount_fen.eq(fen),
            collective_income::illustrative.eq(illustrative),
            collective_income::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(collective_income::table)
                .values((
                    collective_income::village_code.eq(r.village_code),
                    collective_income::year.eq(r.year),
                    collective_income::source.eq(r.source.as_str()),
                    collective_income::amount_fen.eq(fen),
                    collective_income::illustrative.eq(illustrative),
                    collective_income::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Stores or updates yearly income targets `(village code, year, target)`.
///
/// # Errors
/// Database errors.
pub fn upsert_targets(conn: &mut DbConn, rows: &[(String, i32, Cny)], illustrative: bool) -> DbResult<()> {
    let at = now();
    for (village, year, target) in rows {
        let fen = i64::from(*target);
        let n = diesel::update(
            income_targets::table
                .filter(income_targets::village_code.eq(village))
                .filter(income_targets::year.eq(year)),
        )
        .set((
            income_targets::target_fen.eq(fen),
            income_targets::illustrative.eq(illustrative),
            income_targets::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            diesel::insert_into(income_targets::table)
                .values((
                    income_targets::village_code.eq(village),
                    income_targets::year.eq(year),
                    income_targets::target_fen.eq(fen),
                    income_targets::illustrative.eq(illustrative),
                    income_targets::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
