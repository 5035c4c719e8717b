//! Industry and collective economy (SPEC C4, C5): lead products (一村一品) per village and year,
//! development chains (支部+协会+公司+市场), party-building brands (党建品牌), the annual income
//! of each village collective by source (村集体经济收入) with yearly targets, income classes,
//! growth and summaries per zone, town and county.
//!
//! Amounts are [`Cny`] (integer fen) everywhere; the tables store fen in `*_fen` columns.
//! Writes are in [`write`] (used by imports and the demo); reads are scoped by the caller's
//! [`crate::access::Access`] in the data layer like the rest of the registry.

pub mod query;
pub mod summary;
pub mod write;

pub use ringline_core::economy::{
    ChainLink, ClassCounts, Cny, IncomeClass, IncomeSource, Summary, Thresholds, chain_completeness, classify,
    growth_rate, summarise,
};

/// Categories of a lead product: `(key, 中文, English)`. The key is stored.
pub const PRODUCT_CATEGORIES: &[(&str, &str, &str)] = &[
    ("planting", "种植业", "crops"),
    ("livestock", "畜牧养殖", "livestock"),
    ("processing", "农产品加工", "processing"),
    ("tourism", "乡村旅游", "rural tourism"),
    ("e_commerce", "电子商务", "e-commerce"),
    ("other", "其他", "other"),
];

/// Levels of a party-building brand, lowest first: `(key, 中文, English)`. The key is stored.
pub const BRAND_LEVELS: &[(&str, &str, &str)] = &[
    ("county", "县级", "county"),
    ("city", "市级", "city"),
    ("province", "省级", "province"),
    ("national", "国家级", "national"),
];

/// The last full calendar year on `today`: the year before it. Summaries default to it, since
/// the current year's income is reported only after the year ends.
pub fn last_full_year(today: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    today.year() - 1
}
