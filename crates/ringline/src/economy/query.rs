//! Scoped reads of the economy tables (SPEC C4, C5): lead products, development chains, brands
//! and the collective income of villages by year.
//!
//! Every function takes the caller's [`Access`] and restricts the record's scope key in SQL:
//!
//! | record | scope key |
//! |---|---|
//! | lead product, development chain, income, target | the village (`village_code`) |
//! | brand | `brands.division_code`: the owner village, or the owner unit's division |
//!
//! A record outside the scope is invisible. Lists are paged (`limit`, `offset`) and return the
//! total count of matches. Filters: `under` restricts to a division subtree (a town or village
//! code; a value that is no division code matches nothing), `zone_id` to the member villages of a
//! zone (`zone_members`), `village` to one village code.
//!
//! Records link to registry records (a chain's party branch, association, company and market; a
//! brand's owner unit). A link to a record outside the caller's scope is given as
//! [`LinkRef`] with neither id nor name: it is counted (a chain's completeness does not depend on
//! who looks) but not named. Division names are public reference data and always given.
//!
//! Amounts are [`Cny`] (integer fen; JSON: an integer number of fen), growth rates fractions
//! (0.25 = +25 %).

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use serde::{Deserialize, Serialize};

use super::{ChainLink, Cny, IncomeClass, IncomeSource, Thresholds, chain_completeness, classify, growth_rate};
use crate::access::Access;
use crate::db::schema::{
    brands, collective_income, development_chains, income_targets, lead_products, party_orgs, programs, units,
    zone_members, zones,
};
use crate::db::{DbConn, DbResult};
use crate::registry::query::{
    IN_CHUNK, Pred, all, contains_pattern, division_names, given, restrict_codes, subtree, town_code_of,
};

diesel::define_sql_function! {
    /// Lower case (ASCII on SQLite, all letters on PostgreSQL).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Pushes onto `$p` the conditions of a village-keyed table: `$col` within the caller's scope and
/// the filter's `under` subtree, a member of zone `zone_id`, equal to `village`.
macro_rules! village_conditions {
    ($p:expr, $col:expr, $access:expr, $under:expr, $zone_id:expr, $village:expr) => {{
        restrict_codes!($p, $col, $access.code_filter());
        if let Some(under) = given($under) {
            restrict_codes!($p, $col, subtree(under));
        }
        if let Some(zone) = $zone_id {
            $p.push(Box::new(
                $col.eq_any(
                    zone_members::table
                        .filter(zone_members::zone_id.eq(zone))
                        .select(zone_members::division_code),
                ),
            ));
        }
        if let Some(village) = given($village) {
            $p.push(Box::new($col.eq(village.to_string())));
        }
    }};
}

/// A registered unit or party organization a record links to. `id` and `name` are `None` when
/// the record lies outside the caller's scope: the link exists (and counts), but is not named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkRef {
    /// The unit's or organization's id, when visible to the caller.
    pub id: Option<i64>,
    /// Its full name, when visible to the caller.
    pub name: Option<String>,
}

impl LinkRef {
    /// The link to `id`, named when `names` (the visible records) holds it.
    fn of(id: i64, names: &HashMap<i64, String>) -> LinkRef {
        match names.get(&id) {
            Some(name) => LinkRef {
                id: Some(id),
                name: Some(name.clone()),
            },
            None => LinkRef { id: None, name: None },
        }
    }

    /// True when the linked record is outside the caller's scope.
    pub fn is_hidden(&self) -> bool {
        self.id.is_none()
    }
}

/// Names of the units among `ids` visible to the caller.
fn visible_units(conn: &mut DbConn, access: &Access, ids: &BTreeSet<i64>) -> DbResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut p: Vec<Pred<units::table>> = Vec::new();
        restrict_codes!(p, units::division_code, access.code_filter());
        let rows: Vec<(i64, String)> = units::table
            .filter(units::id.eq_any(chunk))
            .filter(all(p))
            .select((units::id, units::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Names of the party organizations among `ids` visible to the caller.
fn visible_orgs(conn: &mut DbConn, access: &Access, ids: &BTreeSet<i64>) -> DbResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut p: Vec<Pred<party_orgs::table>> = Vec::new();
        restrict_codes!(p, party_orgs::division_code, access.code_filter());
        let rows: Vec<(i64, String)> = party_orgs::table
            .filter(party_orgs::id.eq_any(chunk))
            .filter(all(p))
            .select((party_orgs::id, party_orgs::name))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Names of villages and of their towns, for a page of records.
fn village_and_town_names(
    conn: &mut DbConn,
    villages: impl IntoIterator<Item = String>,
) -> DbResult<HashMap<String, String>> {
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for v in villages {
        if let Some(t) = town_code_of(&v) {
            codes.insert(t);
        }
        codes.insert(v);
    }
    division_names(conn, codes)
}

/// A non-negative fen value from the database as [`Cny`] (the tables' checks keep them so).
fn cny(fen: i64) -> Cny {
    Cny::from_fen(fen).unwrap_or_default()
}

/// Page bounds as `usize` (negative values count as 0).
fn page(limit: i64, offset: i64) -> (usize, usize) {
    (
        usize::try_from(limit.max(0)).unwrap_or(usize::MAX),
        usize::try_from(offset.max(0)).unwrap_or(usize::MAX),
    )
}

// ---------------------------------------------------------------------------------------------
// Lead products

/// A lead product (一村一品) of a village in a year (SPEC C4).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LeadProduct {
    /// Id.
    pub id: i64,
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// The village's town (12-digit code).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// Calendar year.
    pub year: i32,
    /// Product name, e.g. 牦牛肉.
    pub name: String,
    /// Category: a key of [`super::PRODUCT_CATEGORIES`] (`planting`, `livestock`, …).
    pub category: String,
    /// Scale, as a number of `scale_unit`; `None` when not reported.
    pub scale: Option<f64>,
    /// Unit of `scale` (亩, 头, 人次 …); empty when `scale` is `None`.
    pub scale_unit: String,
    /// Annual output value, in fen.
    #[schema(value_type = Option<i64>)]
    pub output_value: Option<Cny>,
    /// Households engaged.
    pub households: Option<i32>,
    /// Annual income per engaged household, in fen.
    #[schema(value_type = Option<i64>)]
    pub income_per_household: Option<Cny>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lead_products)]
struct ProductRow {
    id: i64,
    village_code: String,
    year: i32,
    name: String,
    category: String,
    scale: Option<f64>,
    scale_unit: String,
    output_value_fen: Option<i64>,
    households: Option<i32>,
    income_per_household_fen: Option<i64>,
    illustrative: bool,
}

/// Filters for listing lead products.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// Only this record.
    pub id: Option<i64>,
    /// Only this category (a key of [`super::PRODUCT_CATEGORIES`]).
    pub category: Option<String>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only villages within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only member villages of this zone (id).
    pub zone_id: Option<i64>,
    /// Only this village (12-digit code).
    pub village: Option<String>,
    /// Only products whose name contains this text.
    pub q: Option<String>,
}

fn product_pred(access: &Access, f: &ProductFilter) -> Pred<lead_products::table> {
    let mut p: Vec<Pred<lead_products::table>> = Vec::new();
    village_conditions!(p, lead_products::village_code, access, &f.under, f.zone_id, &f.village);
    if let Some(id) = f.id {
        p.push(Box::new(lead_products::id.eq(id)));
    }
    if let Some(category) = given(&f.category) {
        p.push(Box::new(lead_products::category.eq(category.to_string())));
    }
    if let Some(year) = f.year {
        p.push(Box::new(lead_products::year.eq(year)));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(lead_products::name).like(pattern).escape('\\')));
    }
    all(p)
}

/// The lead products within the caller's scope matching `f`, ordered by village code, year
/// (newest first) and name, with the total number of matches.
///
/// # Errors
/// Database errors.
pub fn products(
    conn: &mut DbConn,
    access: &Access,
    f: &ProductFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<LeadProduct>, i64)> {
    let total: i64 = lead_products::table
        .filter(product_pred(access, f))
        .count()
        .get_result(conn)?;
    let rows: Vec<ProductRow> = lead_products::table
        .filter(product_pred(access, f))
        .order((
            lead_products::village_code.asc(),
            lead_products::year.desc(),
            lead_products::name.asc(),
            lead_products::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .select(ProductRow::as_select())
        .load(conn)?;
    let names = village_and_town_names(conn, rows.iter().map(|r| r.village_code.clone()))?;
    let out = rows
        .into_iter()
        .map(|r| {
            let town_code = town_code_of(&r.village_code);
            LeadProduct {
                village_name: names.get(&r.village_code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                id: r.id,
                village_code: r.village_code,
                year: r.year,
                name: r.name,
                category: r.category,
                scale: r.scale,
                scale_unit: r.scale_unit,
                output_value: r.output_value_fen.map(cny),
                households: r.households,
                income_per_household: r.income_per_household_fen.map(cny),
                illustrative: r.illustrative,
            }
        })
        .collect();
    Ok((out, total))
}

// ---------------------------------------------------------------------------------------------
// Development chains

/// The development chain (支部+协会+公司+市场) of a village's product (SPEC C4).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Chain {
    /// Id.
    pub id: i64,
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// The product the chain carries (normally one of the village's lead products).
    pub product: String,
    /// The party branch (a party organization); `None` while missing.
    pub branch: Option<LinkRef>,
    /// The association or cooperative (协会/合作社, a unit); `None` while missing.
    pub association: Option<LinkRef>,
    /// The company (公司, a unit); `None` while missing.
    pub company: Option<LinkRef>,
    /// The market (市场, a unit); `None` while missing.
    pub market: Option<LinkRef>,
    /// Links present, 0–4 (links outside the caller's scope count).
    pub completeness: u8,
    /// The missing links, in chain order (branch, association, company, market).
    #[schema(value_type = Vec<String>)]
    pub missing: Vec<ChainLink>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = development_chains)]
struct ChainRow {
    id: i64,
    village_code: String,
    product: String,
    branch_org_id: Option<i64>,
    association_unit_id: Option<i64>,
    company_unit_id: Option<i64>,
    market_unit_id: Option<i64>,
    illustrative: bool,
}

/// Filters for listing development chains.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChainFilter {
    /// Only this record.
    pub id: Option<i64>,
    /// Only chains whose product contains this text.
    pub q: Option<String>,
    /// Only villages within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only member villages of this zone (id).
    pub zone_id: Option<i64>,
    /// Only this village (12-digit code).
    pub village: Option<String>,
}

fn chain_pred(access: &Access, f: &ChainFilter) -> Pred<development_chains::table> {
    let mut p: Vec<Pred<development_chains::table>> = Vec::new();
    village_conditions!(
        p,
        development_chains::village_code,
        access,
        &f.under,
        f.zone_id,
        &f.village
    );
    if let Some(id) = f.id {
        p.push(Box::new(development_chains::id.eq(id)));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(development_chains::product).like(pattern).escape('\\')));
    }
    all(p)
}

/// The development chains within the caller's scope matching `f`, ordered by village code and
/// product, with the total number of matches. Linked records outside the scope are given as
/// hidden [`LinkRef`]s.
///
/// # Errors
/// Database errors.
pub fn chains(
    conn: &mut DbConn,
    access: &Access,
    f: &ChainFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Chain>, i64)> {
    let total: i64 = development_chains::table
        .filter(chain_pred(access, f))
        .count()
        .get_result(conn)?;
    let rows: Vec<ChainRow> = development_chains::table
        .filter(chain_pred(access, f))
        .order((
            development_chains::village_code.asc(),
            development_chains::product.asc(),
            development_chains::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .select(ChainRow::as_select())
        .load(conn)?;
    let org_ids: BTreeSet<i64> = rows.iter().filter_map(|r| r.branch_org_id).collect();
    let unit_ids: BTreeSet<i64> = rows
        .iter()
        .flat_map(|r| [r.association_unit_id, r.company_unit_id, r.market_unit_id])
        .flatten()
        .collect();
    let orgs = visible_orgs(conn, access, &org_ids)?;
    let unit_names = visible_units(conn, access, &unit_ids)?;
    let names = division_names(conn, rows.iter().map(|r| r.village_code.clone()))?;
    let out = rows
        .into_iter()
        .map(|r| {
            let present: Vec<ChainLink> = [
                (ChainLink::Branch, r.branch_org_id),
                (ChainLink::Association, r.association_unit_id),
                (ChainLink::Company, r.company_unit_id),
                (ChainLink::Market, r.market_unit_id),
            ]
            .into_iter()
            .filter_map(|(link, id)| id.map(|_| link))
            .collect();
            let (completeness, missing) = chain_completeness(&present);
            Chain {
                village_name: names.get(&r.village_code).cloned(),
                branch: r.branch_org_id.map(|id| LinkRef::of(id, &orgs)),
                association: r.association_unit_id.map(|id| LinkRef::of(id, &unit_names)),
                company: r.company_unit_id.map(|id| LinkRef::of(id, &unit_names)),
                market: r.market_unit_id.map(|id| LinkRef::of(id, &unit_names)),
                completeness,
                missing,
                id: r.id,
                village_code: r.village_code,
                product: r.product,
                illustrative: r.illustrative,
            }
        })
        .collect();
    Ok((out, total))
}

// ---------------------------------------------------------------------------------------------
// Brands

/// A party-building brand (党建品牌, SPEC C4).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Brand {
    /// Id.
    pub id: i64,
    /// Brand name.
    pub name: String,
    /// The owner unit, when a unit owns the brand.
    pub owner_unit: Option<LinkRef>,
    /// The owner village (12-digit code), when a village owns the brand.
    pub owner_village_code: Option<String>,
    /// The owner village's name.
    pub owner_village_name: Option<String>,
    /// Where the brand is (its scope key): the owner village, or the owner unit's division.
    pub division_code: String,
    /// The zone the brand belongs to, when it has one and the zone's program is visible.
    pub zone_id: Option<i64>,
    /// That zone's name.
    pub zone_name: Option<String>,
    /// Level of recognition: a key of [`super::BRAND_LEVELS`] (`county`, `city`, `province`,
    /// `national`).
    pub level: String,
    /// Year the brand was named.
    pub year: i32,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = brands)]
struct BrandRow {
    id: i64,
    name: String,
    owner_unit_id: Option<i64>,
    owner_village: Option<String>,
    division_code: String,
    zone_id: Option<i64>,
    level: String,
    year: i32,
    illustrative: bool,
}

/// Filters for listing brands.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrandFilter {
    /// Only this record.
    pub id: Option<i64>,
    /// Only brands whose name contains this text.
    pub q: Option<String>,
    /// Only brands located within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only brands of this zone (id).
    pub zone_id: Option<i64>,
    /// Only brands owned by this village or by a unit located in it (12-digit code).
    pub village: Option<String>,
    /// Only brands named in this year.
    pub year: Option<i32>,
    /// Only this level (`county`, `city`, `province`, `national`).
    pub level: Option<String>,
}

fn brand_pred(access: &Access, f: &BrandFilter) -> Pred<brands::table> {
    let mut p: Vec<Pred<brands::table>> = Vec::new();
    restrict_codes!(p, brands::division_code, access.code_filter());
    if let Some(under) = given(&f.under) {
        restrict_codes!(p, brands::division_code, subtree(under));
    }
    if let Some(zone) = f.zone_id {
        p.push(Box::new(brands::zone_id.assume_not_null().eq(zone)));
    }
    if let Some(village) = given(&f.village) {
        let in_village = units::table
            .filter(units::division_code.eq(village.to_string()))
            .select(units::id);
        // NULL owners compare as NULL, and `NULL OR TRUE` is TRUE: exactly the owned brands.
        p.push(Box::new(
            brands::owner_village
                .assume_not_null()
                .eq(village.to_string())
                .or(brands::owner_unit_id.assume_not_null().eq_any(in_village)),
        ));
    }
    if let Some(year) = f.year {
        p.push(Box::new(brands::year.eq(year)));
    }
    if let Some(level) = given(&f.level) {
        p.push(Box::new(brands::level.eq(level.to_string())));
    }
    if let Some(id) = f.id {
        p.push(Box::new(brands::id.eq(id)));
    }
    if let Some(pattern) = contains_pattern(f.q.as_deref()) {
        p.push(Box::new(lower(brands::name).like(pattern).escape('\\')));
    }
    all(p)
}

/// The brands within the caller's scope matching `f`, newest first (then by name), with the total
/// number of matches. An owner unit outside the scope is a hidden [`LinkRef`].
///
/// # Errors
/// Database errors.
pub fn brands(
    conn: &mut DbConn,
    access: &Access,
    f: &BrandFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<Brand>, i64)> {
    let total: i64 = brands::table.filter(brand_pred(access, f)).count().get_result(conn)?;
    let rows: Vec<BrandRow> = brands::table
        .filter(brand_pred(access, f))
        .order((brands::year.desc(), brands::name.asc(), brands::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(BrandRow::as_select())
        .load(conn)?;
    let unit_ids: BTreeSet<i64> = rows.iter().filter_map(|r| r.owner_unit_id).collect();
    let unit_names = visible_units(conn, access, &unit_ids)?;
    let names = division_names(conn, rows.iter().filter_map(|r| r.owner_village.clone()))?;
    let zone_ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.zone_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let zone_rows: Vec<(i64, String, String)> = zones::table
        .inner_join(programs::table)
        .filter(zones::id.eq_any(&zone_ids))
        .select((zones::id, zones::name, programs::county_code))
        .load(conn)?;
    let zone_names: HashMap<i64, String> = zone_rows
        .into_iter()
        .filter(|(_, _, county)| access.sees_county(county))
        .map(|(id, name, _)| (id, name))
        .collect();
    let out = rows
        .into_iter()
        .map(|r| {
            let zone_name = r.zone_id.and_then(|z| zone_names.get(&z).cloned());
            Brand {
                owner_unit: r.owner_unit_id.map(|id| LinkRef::of(id, &unit_names)),
                owner_village_name: r.owner_village.as_ref().and_then(|v| names.get(v).cloned()),
                zone_id: r.zone_id.filter(|_| zone_name.is_some()),
                zone_name,
                id: r.id,
                name: r.name,
                owner_village_code: r.owner_village,
                division_code: r.division_code,
                level: r.level,
                year: r.year,
                illustrative: r.illustrative,
            }
        })
        .collect();
    Ok((out, total))
}

// ---------------------------------------------------------------------------------------------
// Collective income

/// One village's collective income in one year (SPEC C5).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VillageYear {
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// The village's town (12-digit code).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// Calendar year.
    pub year: i32,
    /// The reported sources with their amounts, in [`IncomeSource::ALL`] order; sources not
    /// reported are absent.
    pub by_source: Vec<SourceAmount>,
    /// Total over all sources, in fen.
    #[schema(value_type = i64)]
    pub total: Cny,
    /// The year's target, in fen, when one is set.
    #[schema(value_type = Option<i64>)]
    pub target: Option<Cny>,
    /// Class of the total under the configured thresholds.
    #[schema(value_type = String)]
    pub class: IncomeClass,
    /// The total of the year before, in fen, when that year was reported.
    #[schema(value_type = Option<i64>)]
    pub previous_total: Option<Cny>,
    /// Growth over the year before as a fraction (0.25 = +25 %); `None` when the year before was
    /// not reported or was 0.
    pub growth: Option<f64>,
    /// Generated for the demo, not real (any of the year's figures).
    pub illustrative: bool,
}

/// The amount a village reported for one income source in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceAmount {
    /// `operating`, `contracting_leasing`, `investment_returns`, `services`, `subsidies` or
    /// `other`.
    #[schema(value_type = String, example = "operating")]
    pub source: IncomeSource,
    /// Amount in fen.
    #[schema(value_type = i64)]
    pub amount: Cny,
}

impl VillageYear {
    /// The amount reported for `source`, if any.
    pub fn amount(&self, source: IncomeSource) -> Option<Cny> {
        self.by_source.iter().find(|a| a.source == source).map(|a| a.amount)
    }
}

/// Filters for listing village incomes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncomeFilter {
    /// Only this year.
    pub year: Option<i32>,
    /// Only villages within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only member villages of this zone (id).
    pub zone_id: Option<i64>,
    /// Only this village (12-digit code).
    pub village: Option<String>,
    /// Only village-years of this class (`empty_shell`, `weak`, `ordinary`, `strong`).
    #[param(value_type = Option<String>)]
    pub class: Option<IncomeClass>,
}

/// The `WHERE` clause of income rows: the caller's scope and the filter (all but the class).
pub(crate) fn income_pred(access: &Access, f: &IncomeFilter) -> Pred<collective_income::table> {
    let mut p: Vec<Pred<collective_income::table>> = Vec::new();
    village_conditions!(
        p,
        collective_income::village_code,
        access,
        &f.under,
        f.zone_id,
        &f.village
    );
    if let Some(year) = f.year {
        p.push(Box::new(collective_income::year.eq(year)));
    }
    all(p)
}

/// A village's total in a year and whether any of its rows is illustrative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Total {
    pub village: usize,
    pub year: i32,
    pub total: Cny,
    pub illustrative: bool,
}

/// Totals per (village, year) of the income rows matching `pred`, ordered by village code and
/// year, summed in SQL (`CAST(SUM(…) AS BIGINT)`: PostgreSQL sums BIGINT as NUMERIC). The
/// village codes are returned once each in the second value, which `Total::village` indexes.
pub(crate) fn totals(conn: &mut DbConn, pred: Pred<collective_income::table>) -> DbResult<(Vec<Total>, Vec<String>)> {
    use diesel::dsl::sql;
    let rows: Vec<(String, i32, i64, i32)> = collective_income::table
        .filter(pred)
        .group_by((collective_income::village_code, collective_income::year))
        .select((
            collective_income::village_code,
            collective_income::year,
            sql::<BigInt>("CAST(SUM(collective_income.amount_fen) AS BIGINT)"),
            sql::<Integer>("MAX(CASE WHEN collective_income.illustrative THEN 1 ELSE 0 END)"),
        ))
        .order((collective_income::village_code.asc(), collective_income::year.asc()))
        .load(conn)?;
    let mut codes: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (code, year, fen, illustrative) in rows {
        if codes.last() != Some(&code) {
            codes.push(code);
        }
        out.push(Total {
            village: codes.len() - 1,
            year,
            total: cny(fen),
            illustrative: illustrative != 0,
        });
    }
    Ok((out, codes))
}

/// The village-years within the caller's scope matching `f`, classified under `t`, ordered by
/// village code then year, with the total number of matches. A village-year is listed when any
/// source of it is reported (a reported total of 0 is an empty-shell village, not a missing
/// report).
///
/// # Errors
/// Database errors.
pub fn incomes(
    conn: &mut DbConn,
    access: &Access,
    f: &IncomeFilter,
    t: &Thresholds,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<VillageYear>, i64)> {
    let (all_totals, codes) = totals(conn, income_pred(access, f))?;
    let matching: Vec<Total> = all_totals
        .into_iter()
        .filter(|r| f.class.is_none_or(|c| classify(r.total, t) == c))
        .collect();
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let (limit, offset) = page(limit, offset);
    let rows: Vec<Total> = matching.into_iter().skip(offset).take(limit).collect();

    // Details of the page only: sources, targets and the year before.
    let villages: Vec<String> = rows
        .iter()
        .map(|r| codes[r.village].clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let years: BTreeSet<i32> = rows.iter().map(|r| r.year).collect();
    let before: BTreeSet<i32> = years.iter().map(|y| y - 1).collect();
    let mut sources: HashMap<(String, i32), Vec<SourceAmount>> = HashMap::new();
    let mut targets: HashMap<(String, i32), Cny> = HashMap::new();
    let mut previous: HashMap<(String, i32), Cny> = HashMap::new();
    for chunk in villages.chunks(IN_CHUNK) {
        let source_rows: Vec<(String, i32, String, i64)> = collective_income::table
            .filter(collective_income::village_code.eq_any(chunk))
            .filter(collective_income::year.eq_any(&years))
            .select((
                collective_income::village_code,
                collective_income::year,
                collective_income::source,
                collective_income::amount_fen,
            ))
            .load(conn)?;
        for (v, y, s, fen) in source_rows {
            if let Ok(source) = s.parse::<IncomeSource>() {
                sources.entry((v, y)).or_default().push(SourceAmount {
                    source,
                    amount: cny(fen),
                });
            }
        }
        let target_rows: Vec<(String, i32, i64)> = income_targets::table
            .filter(income_targets::village_code.eq_any(chunk))
            .filter(income_targets::year.eq_any(&years))
            .select((
                income_targets::village_code,
                income_targets::year,
                income_targets::target_fen,
            ))
            .load(conn)?;
        targets.extend(target_rows.into_iter().map(|(v, y, fen)| ((v, y), cny(fen))));
        let prev_pred: Pred<collective_income::table> = Box::new(
            collective_income::village_code
                .eq_any(chunk.to_vec())
                .and(collective_income::year.eq_any(before.iter().copied().collect::<Vec<_>>())),
        );
        let (prev_rows, prev_codes) = totals(conn, prev_pred)?;
        previous.extend(
            prev_rows
                .into_iter()
                .map(|r| ((prev_codes[r.village].clone(), r.year), r.total)),
        );
    }
    let names = village_and_town_names(conn, villages.iter().cloned())?;
    let out = rows
        .into_iter()
        .map(|r| {
            let code = codes[r.village].clone();
            let mut by_source = sources.remove(&(code.clone(), r.year)).unwrap_or_default();
            by_source.sort_by_key(|a| a.source);
            let previous_total = previous.get(&(code.clone(), r.year - 1)).copied();
            let town_code = town_code_of(&code);
            VillageYear {
                village_name: names.get(&code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                year: r.year,
                by_source,
                total: r.total,
                target: targets.get(&(code.clone(), r.year)).copied(),
                class: classify(r.total, t),
                growth: previous_total.and_then(|p| growth_rate(p, r.total)),
                previous_total,
                illustrative: r.illustrative,
                village_code: code,
            }
        })
        .collect();
    Ok((out, total))
}

/// The years with any income row the caller sees, ascending.
///
/// # Errors
/// Database errors.
pub fn income_years(conn: &mut DbConn, access: &Access) -> DbResult<Vec<i32>> {
    Ok(collective_income::table
        .filter(income_pred(access, &IncomeFilter::default()))
        .select(collective_income::year)
        .distinct()
        .order(collective_income::year.asc())
        .load(conn)?)
}

// ---------------------------------------------------------------------------------------------
// Income rows and targets, one record each

/// One source of a village collective's income in one year, as stored (SPEC C5): the record of
/// the `income` kind.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IncomeRecord {
    /// Id.
    pub id: i64,
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// Calendar year.
    pub year: i32,
    /// The source: `operating`, `contracting_leasing`, `investment_returns`, `services`,
    /// `subsidies` or `other`.
    #[schema(value_type = String)]
    pub source: IncomeSource,
    /// The year's amount from the source, in fen.
    #[schema(value_type = i64)]
    pub amount: Cny,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

/// A village's income target for a year (SPEC C5): the record of the `targets` kind.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TargetRecord {
    /// Id.
    pub id: i64,
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// Calendar year.
    pub year: i32,
    /// The year's target for the collective's total income, in fen.
    #[schema(value_type = i64)]
    pub target: Cny,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

/// Filters for listing income rows and targets one by one.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    /// Only this record.
    pub id: Option<i64>,
    /// Only villages within this division subtree (a town or village code).
    pub under: Option<String>,
    /// Only villages within this division subtree too (a village, or a town for all of its
    /// villages).
    pub village: Option<String>,
    /// Only this year.
    pub year: Option<i32>,
    /// Only this source (income rows).
    pub source: Option<String>,
}

fn income_row_pred(access: &Access, f: &RowFilter) -> Pred<collective_income::table> {
    let mut p: Vec<Pred<collective_income::table>> = Vec::new();
    village_conditions!(p, collective_income::village_code, access, &f.under, None::<i64>, &None);
    if let Some(v) = given(&f.village) {
        restrict_codes!(p, collective_income::village_code, subtree(v));
    }
    if let Some(id) = f.id {
        p.push(Box::new(collective_income::id.eq(id)));
    }
    if let Some(year) = f.year {
        p.push(Box::new(collective_income::year.eq(year)));
    }
    if let Some(source) = given(&f.source) {
        p.push(Box::new(collective_income::source.eq(source.to_string())));
    }
    all(p)
}

/// The income rows within the caller's scope matching `f`, ordered by village code, year (newest
/// first) and source, with the total number of matches.
///
/// # Errors
/// Database errors.
pub fn income_records(
    conn: &mut DbConn,
    access: &Access,
    f: &RowFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<IncomeRecord>, i64)> {
    let total: i64 = collective_income::table
        .filter(income_row_pred(access, f))
        .count()
        .get_result(conn)?;
    let rows: Vec<(i64, String, i32, String, i64, bool)> = collective_income::table
        .filter(income_row_pred(access, f))
        .order((
            collective_income::village_code.asc(),
            collective_income::year.desc(),
            collective_income::source.asc(),
            collective_income::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .select((
            collective_income::id,
            collective_income::village_code,
            collective_income::year,
            collective_income::source,
            collective_income::amount_fen,
            collective_income::illustrative,
        ))
        .load(conn)?;
    let names = division_names(conn, rows.iter().map(|r| r.1.clone()))?;
    let out = rows
        .into_iter()
        .filter_map(|(id, village_code, year, source, fen, illustrative)| {
            Some(IncomeRecord {
                id,
                village_name: names.get(&village_code).cloned(),
                village_code,
                year,
                source: source.parse().ok()?,
                amount: cny(fen),
                illustrative,
            })
        })
        .collect();
    Ok((out, total))
}

fn target_pred(access: &Access, f: &RowFilter) -> Pred<income_targets::table> {
    let mut p: Vec<Pred<income_targets::table>> = Vec::new();
    village_conditions!(p, income_targets::village_code, access, &f.under, None::<i64>, &None);
    if let Some(v) = given(&f.village) {
        restrict_codes!(p, income_targets::village_code, subtree(v));
    }
    if let Some(id) = f.id {
        p.push(Box::new(income_targets::id.eq(id)));
    }
    if let Some(year) = f.year {
        p.push(Box::new(income_targets::year.eq(year)));
    }
    all(p)
}

/// The income targets within the caller's scope matching `f` (its `source` aside), ordered by
/// village code and year (newest first), with the total number of matches.
///
/// # Errors
/// Database errors.
pub fn target_records(
    conn: &mut DbConn,
    access: &Access,
    f: &RowFilter,
    limit: i64,
    offset: i64,
) -> DbResult<(Vec<TargetRecord>, i64)> {
    let total: i64 = income_targets::table
        .filter(target_pred(access, f))
        .count()
        .get_result(conn)?;
    let rows: Vec<(i64, String, i32, i64, bool)> = income_targets::table
        .filter(target_pred(access, f))
        .order((
            income_targets::village_code.asc(),
            income_targets::year.desc(),
            income_targets::id.asc(),
        ))
        .limit(limit)
        .offset(offset)
        .select((
            income_targets::id,
            income_targets::village_code,
            income_targets::year,
            income_targets::target_fen,
            income_targets::illustrative,
        ))
        .load(conn)?;
    let names = division_names(conn, rows.iter().map(|r| r.1.clone()))?;
    let out = rows
        .into_iter()
        .map(|(id, village_code, year, fen, illustrative)| TargetRecord {
            id,
            village_name: names.get(&village_code).cloned(),
            village_code,
            year,
            target: cny(fen),
            illustrative,
        })
        .collect();
    Ok((out, total))
}
