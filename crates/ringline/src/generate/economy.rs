//! Illustrative industry and collective economy for the county demo (SPEC C4, C5), on top of the
//! demo registry:
//!
//! - **lead products** (一村一品) of every village (not the urban communities) for each year
//!   [`FIRST_YEAR`]–[`LAST_YEAR`], drawn from the county's real ones — 牦牛肉 (yak beef), 鸡腿葱
//!   (chicken-leg scallion), 油菜 (oilseed rape), 青稞 (highland barley), 蚕豆 (broad beans),
//!   马铃薯 (potatoes), 乡村旅游 (rural tourism) — by the town's farming (pastoral townships
//!   keep yaks, the Huangshui valley grows scallions and beans) and the village's registered
//!   cooperatives and companies, with a plausible scale (head, 亩, visitor-trips), output value,
//!   households engaged and income per household; about a third of the villages have a second
//!   product;
//! - **collective income** of every village and community for each year [`FIRST_YEAR`]–
//!   [`LAST_YEAR`] (the last full year before the demo's reference date), by source
//!   (contracting and leasing and investment returns in most villages, operating income where
//!   there is a business, services, subsidies, other), lognormal across villages, higher in the
//!   zones and the county seat, lower in the pastoral Tibetan townships, growing about 10 % a
//!   year with bad years; about 9 % of villages start as empty shells (income 0) and four in five
//!   of them earn something within a few years; targets for every village and year up to
//!   [`TARGET_YEAR`] (the year before's income plus 8–12 %, more for weak villages);
//! - **development chains** (支部+协会+公司+市场) of the lead product of [`CHAINS`] villages, most
//!   in the zones, linking the village's party branch and registered cooperatives or
//!   associations, companies and markets of the village, its town or the county seat (those of
//!   the product where there are), with some links missing;
//! - [`BRANDS`] **party-building brands** at county, city, province and national level, owned by
//!   villages or units, each with the zone of its village.
//!
//! Deterministic (a fixed seed; the data depend only on the stored divisions, zones and demo
//! registry); written only when the economy tables are empty and the county holds the
//! illustrative demo registry, in the caller's transaction. Every row is marked illustrative.
//! Products, income and targets (thousands of rows, into empty tables) are inserted in bulk —
//! one statement per row costs about a second on PostgreSQL, and the demo runs in many tests —;
//! chains and brands go through [`crate::economy::write`] like the kinds' own inserts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{County, DEMO_SEED, mix, village_words};
use crate::access::Access;
use crate::db::schema::{
    brands, collective_income, development_chains, income_targets, lead_products, party_orgs, programs, units,
    zone_members, zones,
};
use crate::db::{DbConn, DbResult, now, prefix_end};
use crate::economy::write::{self, NewBrand, NewChain, NewProduct};
use crate::economy::{Cny, IncomeSource};

/// First year of the demo's products and income.
pub const FIRST_YEAR: i32 = 2021;
/// Last year of the demo's products and income: the last full year before the demo's reference
/// date ([`super::DEMO_AS_OF`], 2026-11-01).
pub const LAST_YEAR: i32 = 2025;
/// Last year with targets (the demo's current year).
pub const TARGET_YEAR: i32 = 2026;
/// Villages with a development chain.
pub const CHAINS: usize = 40;
/// Party-building brands.
pub const BRANDS: usize = 12;

/// What [`economy_demo`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EconomyDemo {
    /// Lead-product rows (village, year, product).
    pub products: usize,
    /// Village-years with collective income.
    pub village_years: usize,
    /// Collective income rows (village, year, source).
    pub income_rows: usize,
    /// Income targets (village, year).
    pub targets: usize,
    /// Development chains.
    pub chains: usize,
    /// Party-building brands.
    pub brands: usize,
    /// Nothing written: the economy tables hold records, or the county has no demo registry.
    pub skipped: bool,
}

/// A lead product the county really has, with plausible figures per unit of scale.
struct Kind {
    /// Product name.
    name: &'static str,
    /// A key of [`crate::economy::PRODUCT_CATEGORIES`].
    category: &'static str,
    /// Words in unit names that belong to this product, the most specific first.
    words: &'static [&'static str],
    /// Unit of scale.
    unit: &'static str,
    /// Scale in the last year.
    scale: (f64, f64),
    /// Annual output value per unit of scale, yuan.
    value: (f64, f64),
    /// Units of scale per engaged household.
    per_household: (f64, f64),
    /// Share of the output value that stays with the households as income.
    margin: (f64, f64),
}

/// Datong's lead products (SPEC C4; see the module docs).
const KINDS: [Kind; 7] = [
    Kind {
        name: "牦牛肉",
        category: "livestock",
        words: &["牦牛", "牲畜", "养殖"],
        unit: "头",
        scale: (60.0, 900.0),
        value: (2_600.0, 3_600.0),
        per_household: (8.0, 20.0),
        margin: (0.45, 0.6),
    },
    Kind {
        name: "鸡腿葱",
        category: "planting",
        words: &["鸡腿葱", "蔬菜", "种植"],
        unit: "亩",
        scale: (80.0, 1_200.0),
        value: (7_000.0, 9_500.0),
        per_household: (1.5, 4.0),
        margin: (0.4, 0.55),
    },
    Kind {
        name: "油菜",
        category: "planting",
        words: &["油菜", "菜籽油", "种植"],
        unit: "亩",
        scale: (300.0, 3_000.0),
        value: (1_100.0, 1_600.0),
        per_household: (6.0, 15.0),
        margin: (0.35, 0.5),
    },
    Kind {
        name: "青稞",
        category: "planting",
        words: &["青稞", "种植"],
        unit: "亩",
        scale: (300.0, 2_500.0),
        value: (900.0, 1_300.0),
        per_household: (6.0, 15.0),
        margin: (0.35, 0.5),
    },
    Kind {
        name: "蚕豆",
        category: "planting",
        words: &["蚕豆", "种植"],
        unit: "亩",
        scale: (150.0, 1_500.0),
        value: (1_500.0, 2_100.0),
        per_household: (4.0, 10.0),
        margin: (0.4, 0.55),
    },
    Kind {
        name: "马铃薯",
        category: "planting",
        words: &["马铃薯", "种植"],
        unit: "亩",
        scale: (200.0, 2_500.0),
        value: (2_000.0, 3_000.0),
        per_household: (4.0, 10.0),
        margin: (0.35, 0.5),
    },
    Kind {
        name: "乡村旅游",
        category: "tourism",
        words: &["乡村旅游", "农家乐", "旅游"],
        unit: "人次",
        scale: (3_000.0, 60_000.0),
        value: (70.0, 150.0),
        per_household: (400.0, 1_500.0),
        margin: (0.3, 0.45),
    },
];

/// Weights of [`KINDS`] (same order) by town: what each of Datong's towns grows or keeps. Towns
/// not listed (another county) weigh every product alike.
const TOWN_PRODUCTS: &[(&str, [u32; 7])] = &[
    ("桥头镇", [0, 3, 1, 0, 1, 3, 4]),
    ("城关镇", [0, 6, 2, 0, 3, 1, 1]),
    ("塔尔镇", [0, 5, 1, 0, 3, 2, 1]),
    ("东峡镇", [3, 0, 1, 1, 0, 3, 4]),
    ("黄家寨镇", [0, 1, 3, 1, 4, 3, 1]),
    ("长宁镇", [0, 4, 3, 0, 3, 2, 1]),
    ("景阳镇", [1, 0, 3, 4, 1, 3, 0]),
    ("多林镇", [2, 0, 4, 3, 1, 2, 0]),
    ("新庄镇", [0, 1, 1, 3, 3, 4, 0]),
    ("青林乡", [3, 0, 1, 4, 0, 3, 0]),
    ("青山乡", [1, 0, 3, 3, 0, 4, 0]),
    ("逊让乡", [3, 0, 3, 4, 0, 1, 0]),
    ("极乐乡", [1, 0, 1, 4, 0, 4, 0]),
    ("石山乡", [1, 0, 3, 3, 0, 4, 0]),
    ("宝库乡", [6, 0, 1, 3, 0, 1, 1]),
    ("斜沟乡", [1, 0, 4, 3, 1, 3, 0]),
    ("良教乡", [0, 5, 1, 0, 3, 1, 2]),
    ("向化藏族乡", [6, 0, 0, 3, 0, 1, 2]),
    ("桦林乡", [5, 0, 1, 2, 0, 3, 2]),
    ("朔北藏族乡", [6, 0, 0, 3, 0, 1, 3]),
];

/// Slogans of brands by product, and for units without a product in their name.
const SLOGANS: &[(&str, &[&str])] = &[
    ("牦牛肉", &["牦牛红·党旗红", "高原牧歌"]),
    ("鸡腿葱", &["葱香党旗红", "一根葱富一方"]),
    ("油菜", &["金色花海·支部引领"]),
    ("青稞", &["青稞飘香"]),
    ("蚕豆", &["豆香支部"]),
    ("马铃薯", &["洋芋产业先锋"]),
    ("乡村旅游", &["红色引擎·乡村游", "老爷山下党旗红"]),
    (
        "",
        &["先锋工坊", "党建引领共富路", "红色集市", "两新先锋", "党群连心桥"],
    ),
];

/// Uniform in `lo..hi`.
fn between(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// A standard normal number (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Whole yuan as fen.
fn yuan(y: f64) -> i64 {
    (y.max(0.0).round() as i64) * 100
}

/// Whether the economy tables hold any record.
fn economy_is_empty(conn: &mut DbConn) -> DbResult<bool> {
    let n: i64 = lead_products::table.count().get_result(conn)?;
    let c: i64 = development_chains::table.count().get_result(conn)?;
    let b: i64 = brands::table.count().get_result(conn)?;
    let i: i64 = collective_income::table.count().get_result(conn)?;
    let t: i64 = income_targets::table.count().get_result(conn)?;
    Ok(n + c + b + i + t == 0)
}

/// A demo unit that can be a link of a chain or own a brand.
#[derive(Debug, Clone)]
struct Unit {
    id: i64,
    name: String,
    kind: String,
    division: String,
}

impl Unit {
    fn is_association(&self) -> bool {
        self.kind == "cooperative" || (self.kind == "social_organization" && self.name.ends_with("协会"))
    }

    fn is_company(&self) -> bool {
        self.kind == "non_public_enterprise"
    }

    fn is_market(&self) -> bool {
        self.kind == "market"
    }

    /// How well the unit's name fits a product: 2 for its most specific word, 1 for another.
    fn fits(&self, kind: &Kind) -> u32 {
        match kind.words.iter().position(|w| self.name.contains(w)) {
            Some(0) => 2,
            Some(_) => 1,
            None => 0,
        }
    }
}

/// One village as the generator sees it.
struct Place<'a> {
    code: &'a str,
    name: &'a str,
    town: &'a str,
    community: bool,
    zone: Option<i64>,
}

/// Generates the economy demo for `county_code` (module docs). Call inside a transaction.
///
/// # Errors
/// Database errors.
pub fn economy_demo(conn: &mut DbConn, county_code: &str) -> DbResult<EconomyDemo> {
    let skipped = EconomyDemo {
        skipped: true,
        ..Default::default()
    };
    if !economy_is_empty(conn)? {
        return Ok(skipped);
    }
    let Some(county) = super::county_from_db(conn, county_code)? else {
        return Ok(skipped);
    };
    let prefix = county.prefix();
    let lo = format!("{prefix:0<12}");
    let hi = prefix_end(&prefix).map(|h| format!("{h:0<12}"));
    let mut q = units::table
        .filter(units::illustrative.eq(true))
        .filter(units::division_code.ge(&lo))
        .select((units::id, units::name, units::kind, units::division_code))
        .order(units::id.asc())
        .into_boxed();
    if let Some(hi) = &hi {
        q = q.filter(units::division_code.lt(hi.clone()));
    }
    let demo_units: Vec<Unit> = q
        .load::<(i64, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, kind, division)| Unit {
            id,
            name,
            kind,
            division,
        })
        .collect();
    if demo_units.is_empty() {
        return Ok(skipped);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(mix(DEMO_SEED, &format!("economy:{county_code}")));

    // Each village's first zone of the county's programs (display order), and its party branch.
    let zone_rows: Vec<(String, i64)> = zone_members::table
        .inner_join(zones::table.inner_join(programs::table))
        .filter(programs::county_code.eq(county_code))
        .order((programs::id.asc(), zones::sort_order.asc(), zones::id.asc()))
        .select((zone_members::division_code, zones::id))
        .load(conn)?;
    let mut zone_of: HashMap<String, i64> = HashMap::new();
    for (code, zone) in zone_rows {
        zone_of.entry(code).or_insert(zone);
    }
    let mut q = party_orgs::table
        .filter(party_orgs::village_code.is_not_null())
        .filter(party_orgs::division_code.ge(&lo))
        .select((party_orgs::village_code.assume_not_null(), party_orgs::id))
        .order(party_orgs::id.asc())
        .into_boxed();
    if let Some(hi) = &hi {
        q = q.filter(party_orgs::division_code.lt(hi.clone()));
    }
    let mut branch_of: HashMap<String, i64> = HashMap::new();
    for (village, id) in q.load::<(String, i64)>(conn)? {
        branch_of.entry(village).or_insert(id);
    }

    let places: Vec<Place<'_>> = county
        .towns
        .iter()
        .flat_map(|t| {
            t.villages.iter().map(|v| Place {
                code: &v.code,
                name: &v.name,
                town: &t.name,
                community: v.community,
                zone: zone_of.get(&v.code).copied(),
            })
        })
        .collect();
    let seat = seat_town(&county, &demo_units);

    let products = lead_products_of(&mut rng, &places, &demo_units);
    let at = now();
    let fen = |c: Option<Cny>| c.map(i64::from);
    let product_rows: Vec<_> = products
        .iter()
        .map(|p| {
            (
                lead_products::village_code.eq(p.village_code.as_str()),
                lead_products::year.eq(p.year),
                lead_products::name.eq(p.name.as_str()),
                lead_products::category.eq(p.category.as_str()),
                lead_products::scale.eq(p.scale),
                lead_products::scale_unit.eq(p.scale_unit.as_str()),
                lead_products::output_value_fen.eq(fen(p.output_value)),
                lead_products::households.eq(p.households),
                lead_products::income_per_household_fen.eq(fen(p.income_per_household)),
                lead_products::illustrative.eq(true),
                lead_products::created_at.eq(at),
                lead_products::updated_at.eq(at),
            )
        })
        .collect();
    crate::insert_rows!(&mut *conn, lead_products::table, &product_rows, 1_000);

    let (income, targets) = incomes(&mut rng, &places, &seat, &products);
    let income_rows: Vec<_> = income
        .iter()
        .map(|(v, y, s, fen)| {
            (
                collective_income::village_code.eq(v.as_str()),
                collective_income::year.eq(*y),
                collective_income::source.eq(s.as_str()),
                collective_income::amount_fen.eq(*fen),
                collective_income::illustrative.eq(true),
                collective_income::updated_at.eq(at),
            )
        })
        .collect();
    crate::insert_rows!(&mut *conn, collective_income::table, &income_rows, 2_000);
    let target_rows: Vec<_> = targets
        .iter()
        .map(|(v, y, fen)| {
            (
                income_targets::village_code.eq(v.as_str()),
                income_targets::year.eq(*y),
                income_targets::target_fen.eq(*fen),
                income_targets::illustrative.eq(true),
                income_targets::updated_at.eq(at),
            )
        })
        .collect();
    crate::insert_rows!(&mut *conn, income_targets::table, &target_rows, 2_000);

    let chains = chains_of(&mut rng, &places, &products, &demo_units, &branch_of, &seat);
    write::insert_chains(conn, &chains)?;
    let brands = brands_of(&mut rng, &places, &products, &demo_units);
    write::insert_brands(conn, &brands)?;

    let village_years: BTreeSet<(&str, i32)> = income.iter().map(|(v, y, _, _)| (v.as_str(), *y)).collect();
    let summary = EconomyDemo {
        products: products.len(),
        village_years: village_years.len(),
        income_rows: income.len(),
        targets: targets.len(),
        chains: chains.len(),
        brands: brands.len(),
        skipped: false,
    };
    crate::audit::record(
        conn,
        &Access::system(),
        crate::audit::Change {
            action: "generate",
            entity: "economy",
            entity_id: county_code,
            detail: format!(
                "illustrative data: {} lead products, collective income of {} village-years ({} rows), {} targets, \
                 {} development chains, {} brands",
                summary.products,
                summary.village_years,
                summary.income_rows,
                summary.targets,
                summary.chains,
                summary.brands
            ),
            scope: prefix,
            ..Default::default()
        },
    )?;
    Ok(summary)
}

/// The county seat's town code: the town of the organization department (the demo registers it
/// at the seat), else the first town.
fn seat_town(county: &County, units: &[Unit]) -> String {
    units
        .iter()
        .find(|u| u.name.ends_with("组织部"))
        .map(|u| format!("{}000", &u.division[..9.min(u.division.len())]))
        .or_else(|| county.towns.first().map(|t| t.code.clone()))
        .unwrap_or_default()
}

/// Picks a product kind for a village: the town's weights, raised for products of the village's
/// registered units, never one of `except`.
fn pick_kind(rng: &mut ChaCha8Rng, town: &str, village_units: &[&Unit], except: &[usize]) -> Option<usize> {
    let base = TOWN_PRODUCTS
        .iter()
        .find(|(t, _)| *t == town)
        .map_or([1; 7], |(_, w)| *w);
    let weights: Vec<f64> = KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if except.contains(&i) {
                return 0.0;
            }
            let hinted = village_units.iter().any(|u| u.fits(k) == 2);
            f64::from(base[i]) * if hinted { 4.0 } else { 1.0 } + if hinted { 2.0 } else { 0.0 }
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return None;
    }
    let mut x = rng.random::<f64>() * sum;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return Some(i);
        }
        x -= w;
    }
    weights.iter().rposition(|w| *w > 0.0)
}

/// Lead products of every village (not community) for every year.
fn lead_products_of(rng: &mut ChaCha8Rng, places: &[Place<'_>], units: &[Unit]) -> Vec<NewProduct> {
    let mut by_village: HashMap<&str, Vec<&Unit>> = HashMap::new();
    for u in units {
        by_village.entry(u.division.as_str()).or_default().push(u);
    }
    let mut out = Vec::new();
    for p in places.iter().filter(|p| !p.community) {
        let here = by_village.get(p.code).map(Vec::as_slice).unwrap_or_default();
        let mut kinds = Vec::new();
        if let Some(k) = pick_kind(rng, p.town, here, &[]) {
            kinds.push(k);
            if rng.random_bool(0.33)
                && let Some(k2) = pick_kind(rng, p.town, here, &kinds)
            {
                kinds.push(k2);
            }
        }
        for k in kinds {
            let kind = &KINDS[k];
            // The last year's figures, then back in time with 2–10 % growth a year.
            let mut scale = between(rng, kind.scale);
            let mut value = between(rng, kind.value);
            let per_household = between(rng, kind.per_household);
            let margin = between(rng, kind.margin);
            let mut rows = Vec::new();
            for year in (FIRST_YEAR..=LAST_YEAR).rev() {
                let shown = if kind.unit == "人次" {
                    (scale / 100.0).round() * 100.0
                } else {
                    scale.round()
                };
                let households = ((shown / per_household).round() as i32).clamp(3, 600);
                let output = (shown * value / 100.0).round() * 100.0;
                rows.push(NewProduct {
                    village_code: p.code.to_string(),
                    year,
                    name: kind.name.to_string(),
                    category: kind.category.to_string(),
                    scale: Some(shown),
                    scale_unit: kind.unit.to_string(),
                    output_value: Cny::from_fen(yuan(output)).ok(),
                    households: Some(households),
                    income_per_household: Cny::from_fen(yuan(output * margin / f64::from(households))).ok(),
                    illustrative: true,
                });
                scale /= 1.0 + between(rng, (0.02, 0.10));
                value /= 1.0 + between(rng, (-0.05, 0.06));
            }
            rows.reverse();
            out.extend(rows);
        }
    }
    out
}

/// Income rows `(village, year, source, fen)` and targets `(village, year, fen)` of every village.
#[allow(clippy::type_complexity)]
fn incomes(
    rng: &mut ChaCha8Rng,
    places: &[Place<'_>],
    seat: &str,
    products: &[NewProduct],
) -> (Vec<(String, i32, IncomeSource, i64)>, Vec<(String, i32, i64)>) {
    let with_tourism: BTreeSet<&str> = products
        .iter()
        .filter(|p| p.category == "tourism")
        .map(|p| p.village_code.as_str())
        .collect();
    // A latent strength per village; the weakest ~9 % start as empty shells.
    let scores: Vec<f64> = places
        .iter()
        .map(|p| {
            let mut s = normal(rng);
            if p.zone.is_some() {
                s += 0.3;
            }
            if p.community {
                s += 0.35;
            }
            if p.code.starts_with(&seat[..9.min(seat.len())]) {
                s += 0.25;
            }
            if p.town.contains("藏族") {
                s -= 0.35;
            }
            s
        })
        .collect();
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let empty_count = (places.len() as f64 * 0.09).round() as usize;
    let empty: BTreeSet<usize> = order.iter().take(empty_count).copied().collect();

    let years = usize::try_from(LAST_YEAR - FIRST_YEAR + 1).unwrap_or(0);
    let mut income = Vec::new();
    let mut targets = Vec::new();
    for (i, p) in places.iter().enumerate() {
        // Yearly totals in yuan.
        let trend = 0.06 + 0.06 * rng.random::<f64>() + if p.zone.is_some() { 0.04 } else { 0.0 };
        let mut totals = vec![0.0f64; years];
        let start = if empty.contains(&i) {
            let r: f64 = rng.random();
            match r {
                r if r < 0.25 => Some(1),
                r if r < 0.5 => Some(2),
                r if r < 0.7 => Some(3),
                r if r < 0.82 => Some(4),
                _ => None,
            }
        } else {
            Some(0)
        };
        if let Some(start) = start.filter(|s| *s < years) {
            let mut level = if start == 0 {
                (36_000.0 * (0.85 * scores[i]).exp()).clamp(3_000.0, 1_200_000.0)
            } else {
                between(rng, (6_000.0, 30_000.0))
            };
            for total in totals.iter_mut().skip(start) {
                *total = level;
                let g = if rng.random_bool(0.08) {
                    -0.15 * rng.random::<f64>()
                } else {
                    trend + 0.06 * normal(rng)
                };
                level *= 1.0 + g.max(-0.3);
            }
        }
        // Sources: the village's own mix, jittered a little each year.
        let mut mix: Vec<(IncomeSource, f64)> = Vec::new();
        let business = p.community || with_tourism.contains(p.code) || scores[i] > 0.8;
        for (source, chance, weight) in [
            (IncomeSource::Operating, if business { 0.7 } else { 0.3 }, (1.0, 5.0)),
            (IncomeSource::ContractingLeasing, 0.85, (1.0, 4.0)),
            (IncomeSource::InvestmentReturns, 0.7, (1.0, 4.0)),
            (IncomeSource::Services, 0.25, (0.5, 2.0)),
            (IncomeSource::Subsidies, 0.35, (0.5, 2.0)),
            (IncomeSource::Other, 0.2, (0.2, 1.0)),
        ] {
            if rng.random_bool(chance) {
                mix.push((source, between(rng, weight)));
            }
        }
        if mix.is_empty() {
            mix.push((IncomeSource::ContractingLeasing, 1.0));
        }
        for (k, total) in totals.iter().enumerate() {
            let year = FIRST_YEAR + i32::try_from(k).unwrap_or(0);
            let fen = yuan(*total);
            let weights: Vec<f64> = mix.iter().map(|(_, w)| w * between(rng, (0.85, 1.15))).collect();
            let sum: f64 = weights.iter().sum();
            let mut left = fen;
            for (j, (source, _)) in mix.iter().enumerate() {
                let amount = if j + 1 == mix.len() {
                    left
                } else {
                    (yuan(*total * weights[j] / sum)).min(left)
                };
                left -= amount;
                income.push((p.code.to_string(), year, *source, amount));
            }
        }
        // Targets: the year before's income plus 8–12 %, weak villages lifted towards ¥50,000.
        let mut previous = totals.first().copied().unwrap_or(0.0) * 0.95;
        for (k, year) in (FIRST_YEAR..=TARGET_YEAR).enumerate() {
            let base = if previous < 50_000.0 {
                (previous * 1.2).max(previous + 10_000.0)
            } else {
                previous * (1.08 + 0.04 * rng.random::<f64>())
            };
            let target = (base / 1_000.0).ceil() * 1_000.0;
            targets.push((p.code.to_string(), year, yuan(target)));
            if let Some(t) = totals.get(k) {
                previous = *t;
            }
        }
    }
    (income, targets)
}

/// Development chains of [`CHAINS`] villages' first lead product.
fn chains_of(
    rng: &mut ChaCha8Rng,
    places: &[Place<'_>],
    products: &[NewProduct],
    units: &[Unit],
    branch_of: &HashMap<String, i64>,
    seat: &str,
) -> Vec<NewChain> {
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for p in products.iter().filter(|p| p.year == LAST_YEAR) {
        first.entry(p.village_code.as_str()).or_insert(p.name.as_str());
    }
    // Villages with a product, those in a zone three times as likely.
    let mut pool: Vec<(&Place<'_>, f64)> = places
        .iter()
        .filter(|p| first.contains_key(p.code))
        .map(|p| {
            (
                p,
                rng.random::<f64>().powf(if p.zone.is_some() { 1.0 / 3.0 } else { 1.0 }),
            )
        })
        .collect();
    pool.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut chosen: Vec<&Place<'_>> = pool.into_iter().take(CHAINS).map(|(p, _)| p).collect();
    chosen.sort_by_key(|p| p.code);

    let mut out = Vec::new();
    for p in chosen {
        let product = first[p.code];
        let Some(kind) = KINDS.iter().find(|k| k.name == product) else {
            continue;
        };
        let town = &p.code[..9];
        // The best-fitting unit of a role: in the village, else in the town, else at the seat;
        // ties broken at random.
        let best = |rng: &mut ChaCha8Rng, role: fn(&Unit) -> bool, reach: &[&str]| -> Option<i64> {
            for area in reach {
                let mut cands: Vec<&Unit> = units
                    .iter()
                    .filter(|u| role(u) && u.division.starts_with(area))
                    .collect();
                if cands.is_empty() {
                    continue;
                }
                cands.shuffle(rng);
                cands.sort_by_key(|u| std::cmp::Reverse(u.fits(kind)));
                return cands.first().map(|u| u.id);
            }
            None
        };
        let seat_town = &seat[..9.min(seat.len())];
        let branch = branch_of.get(p.code).copied().filter(|_| rng.random_bool(0.92));
        let association = if rng.random_bool(0.85) {
            best(rng, Unit::is_association, &[p.code, town])
        } else {
            None
        };
        let company = if rng.random_bool(0.7) {
            best(rng, Unit::is_company, &[p.code, town, seat_town])
        } else {
            None
        };
        let market = if rng.random_bool(0.65) {
            best(rng, Unit::is_market, &[town, seat_town])
        } else {
            None
        };
        out.push(NewChain {
            village_code: p.code.to_string(),
            product: product.to_string(),
            branch_org_id: branch,
            association_unit_id: association,
            company_unit_id: company,
            market_unit_id: market,
            illustrative: true,
        });
    }
    out
}

/// [`BRANDS`] brands: two thirds owned by villages, the rest by units, mostly in the zones.
fn brands_of(rng: &mut ChaCha8Rng, places: &[Place<'_>], products: &[NewProduct], units: &[Unit]) -> Vec<NewBrand> {
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for p in products.iter().filter(|p| p.year == LAST_YEAR) {
        first.entry(p.village_code.as_str()).or_insert(p.name.as_str());
    }
    let place_of: HashMap<&str, &Place<'_>> = places.iter().map(|p| (p.code, p)).collect();
    let slogans_of = |product: &str| -> &'static [&'static str] {
        SLOGANS
            .iter()
            .find(|(p, _)| *p == product)
            .map_or(SLOGANS[SLOGANS.len() - 1].1, |(_, s)| *s)
    };
    let mut levels: Vec<&str> = [
        "county", "county", "county", "county", "county", "county", "city", "city", "city", "province", "province",
        "national",
    ]
    .to_vec();
    levels.truncate(BRANDS);
    levels.shuffle(rng);

    // Owners: villages with a product (zone villages preferred), and units of zone villages.
    let mut villages: Vec<&Place<'_>> = places
        .iter()
        .filter(|p| first.contains_key(p.code) && (p.zone.is_some() || rng.random_bool(0.15)))
        .collect();
    villages.shuffle(rng);
    let owner_villages = BRANDS * 2 / 3;
    villages.truncate(owner_villages);
    let mut owner_units: Vec<&Unit> = units
        .iter()
        .filter(|u| {
            (u.is_association() || u.is_company() || u.is_market())
                && place_of.get(u.division.as_str()).is_some_and(|p| p.zone.is_some())
        })
        .collect();
    owner_units.shuffle(rng);
    owner_units.truncate(BRANDS - villages.len());

    let mut names: BTreeSet<(String, i32)> = BTreeSet::new();
    let mut out = Vec::new();
    let mut level = levels.into_iter();
    let mut name_for = |rng: &mut ChaCha8Rng, stem: &str, product: &str, year: i32| -> Option<String> {
        let mut slogans = slogans_of(product).to_vec();
        slogans.extend_from_slice(slogans_of(""));
        slogans.shuffle(rng);
        slogans.sort_by_key(|s| !slogans_of(product).contains(s));
        slogans
            .into_iter()
            .map(|s| format!("{stem}“{s}”"))
            .find(|n| names.insert((n.clone(), year)))
    };
    for p in villages {
        let year = rng.random_range(2018..=LAST_YEAR);
        let (_, display) = village_words(p.name);
        let Some(name) = name_for(rng, &display, first[p.code], year) else {
            continue;
        };
        out.push(NewBrand {
            name,
            owner_unit_id: None,
            owner_village: Some(p.code.to_string()),
            division_code: p.code.to_string(),
            zone_id: p.zone,
            level: level.next().unwrap_or("county").to_string(),
            year,
            illustrative: true,
        });
    }
    for u in owner_units {
        let year = rng.random_range(2018..=LAST_YEAR);
        let product = KINDS.iter().find(|k| u.fits(k) == 2).map_or("", |k| k.name);
        let place = place_of.get(u.division.as_str());
        let stem = place.map(|p| village_words(p.name).1).unwrap_or_default();
        let Some(name) = name_for(rng, &stem, product, year) else {
            continue;
        };
        out.push(NewBrand {
            name,
            owner_unit_id: Some(u.id),
            owner_village: None,
            division_code: u.division.clone(),
            zone_id: place.and_then(|p| p.zone),
            level: level.next().unwrap_or("county").to_string(),
            year,
            illustrative: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_town_weighs_some_product_and_products_are_the_spec_ones() {
        assert_eq!(TOWN_PRODUCTS.len(), 20, "Datong's 20 towns");
        for (town, w) in TOWN_PRODUCTS {
            assert!(w.iter().sum::<u32>() > 0, "{town}");
        }
        let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(
            names,
            ["牦牛肉", "鸡腿葱", "油菜", "青稞", "蚕豆", "马铃薯", "乡村旅游"]
        );
        for k in &KINDS {
            assert!(
                crate::economy::PRODUCT_CATEGORIES.iter().any(|c| c.0 == k.category),
                "{}",
                k.name
            );
        }
    }

    #[test]
    fn normal_numbers_look_normal() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }
}
