//! Industry and collective economy (SPEC C4, C5): lead products (一村一品) per village and year,
//! development chains (支部+协会+公司+市场), party-building brands (党建品牌), the annual income
//! of each village collective by source (村集体经济收入) with yearly targets, income classes,
//! growth and summaries per zone, town and county.
//!
//! Amounts are [`Cny`] (integer fen) everywhere; the tables store fen in `*_fen` columns.
//! The five record kinds — [`product::Products`], [`chain::Chains`], [`brand::Brands`],
//! [`income::Income`] and [`income::Targets`] — describe what people type and read for each
//! ([`crate::kind`]: imports, forms, the API, the command line and exports all go through them),
//! with the rules they share in [`rules`]; [`write`] holds their SQL. Reads are scoped by the
//! caller's [`crate::access::Access`] in the data layer like the rest of the registry
//! ([`query`], [`summary`]).

pub mod brand;
pub mod chain;
pub mod income;
pub mod product;
pub mod query;
pub mod rules;
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

/// Sources of a village collective's income (SPEC C5) as choices: `(key, Chinese, English)`.
/// Keys and Chinese names are those of [`IncomeSource`]; the check also takes the short forms
/// it parses (经营, 发包, 补贴收入 …).
pub const INCOME_SOURCES: &[(&str, &str, &str)] = &[
    ("operating", "经营收入", "operating"),
    ("contracting_leasing", "发包及上交收入", "contracting and leasing"),
    ("investment_returns", "投资收益", "investment returns"),
    ("services", "服务收入", "services"),
    ("subsidies", "补助收入", "subsidies"),
    ("other", "其他收入", "other"),
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

/// Stored records of the five economy kinds: `(kind key, count)` for products, chains,
/// brands, income rows and targets.
///
/// # Errors
/// Database errors.
pub fn counts(conn: &mut crate::db::DbConn) -> crate::db::DbResult<Vec<(&'static str, i64)>> {
    use crate::db::schema::{brands, collective_income, development_chains, income_targets, lead_products};
    use diesel::prelude::*;
    Ok(vec![
        ("products", lead_products::table.count().get_result(conn)?),
        ("chains", development_chains::table.count().get_result(conn)?),
        ("brands", brands::table.count().get_result(conn)?),
        ("income", collective_income::table.count().get_result(conn)?),
        ("targets", income_targets::table.count().get_result(conn)?),
    ])
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn income_source_choices_are_the_core_sources() {
        let keys: Vec<&str> = INCOME_SOURCES.iter().map(|c| c.0).collect();
        let core: Vec<&str> = IncomeSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(keys, core);
        for &(key, zh, _) in INCOME_SOURCES {
            let s = IncomeSource::from_str(key).expect("key parses");
            assert_eq!(s.zh(), zh);
            assert_eq!(IncomeSource::from_str(zh), Ok(s));
        }
    }
}
