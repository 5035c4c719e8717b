//! Industry and collective economy pages (SPEC C4, C5): the county page (share of villages per
//! income class, per zone and year, and the share with at least ¥50,000), a zone's section
//! (its products, chains, brands and the distribution of its villages' income), the village
//! profile (zone, party organization, products, chain, income history, brands), XLSX exports,
//! the API, and the vendored charting library.
//!
//! Every read goes through the scoped data layer ([`crate::economy::query`],
//! [`crate::economy::summary`]) with the caller's `Access`. Charts are drawn by Apache ECharts
//! (Apache-2.0, vendored at `static/echarts.min.js`, so pages work with no internet): a page
//! carries each chart's option as JSON in a `data-option` attribute and `static/charts.js`
//! draws it — the Content-Security-Policy allows no inline script.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ringline_core::division::DivisionCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::api::Paging;
use super::export::typed_workbook;
use super::export::{export, headers};
use super::pages::{Chrome, error_page, html};
use super::records::EXPORT_PAGE;
use super::registry::{choice_label, division_code, percent};
use super::{ApiUser, AppError, AppState, Guard, PageUser, Route, route};
use crate::access::Access;
use crate::db::DbConn;
use crate::divisions;
use crate::economy::query::{
    self, Brand, BrandFilter, Chain, ChainFilter, IncomeFilter, LeadProduct, LinkRef, ProductFilter, VillageYear,
};
use crate::economy::summary::{self, By, SummaryRow};
use crate::economy::{BRAND_LEVELS, ChainLink, Cny, IncomeClass, IncomeSource, PRODUCT_CATEGORIES, Thresholds};
use crate::i18n::Tr;
use crate::kind::export::Cell;
use crate::registry::query::{OrgFilter, PartyOrg};
use crate::zones::{self, Zone};

/// Most villages, products, chains or brands listed on one page.
const LIST_MAX: i64 = 1_000;
/// Most years a page looks back (charts of the share over time).
const YEARS_MAX: usize = 15;

/// Economy routes, each with its guard.
pub fn routes() -> Vec<Route> {
    use Guard::{Login, Public};
    use Method as M;
    vec![
        route(M::GET, "/economy", Login, get(county_page)),
        route(M::GET, "/economy.xlsx", Login, get(summary_xlsx)),
        route(M::GET, "/economy/villages.xlsx", Login, get(villages_xlsx)),
        route(M::GET, "/economy/zones/{id}", Login, get(zone_page)),
        route(M::GET, "/villages/{code}", Login, get(village_page)),
        route(M::GET, "/api/v1/economy/summary", Login, get(api_summary)),
        route(M::GET, "/api/v1/economy/villages", Login, get(api_villages)),
        route(M::GET, "/static/echarts.min.js", Public, get(echarts_js)),
        route(M::GET, "/static/charts.js", Public, get(charts_js)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Static scripts

async fn echarts_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/echarts.min.js"),
    )
}

async fn charts_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/charts.js"),
    )
}

// ---------------------------------------------------------------------------------------------
// Labels and figures

/// Whether the caller may create and edit economy records (the five kinds share their
/// permissions): pages then offer the generic forms.
fn may_write(u: &PageUser) -> bool {
    u.access.can(crate::kind::KindId::Income.desc().perms.write)
}

/// Amount in 万 yuan (`1.23万`) for Chinese pages, yuan for English ones.
fn money(t: Tr, c: Option<Cny>) -> String {
    match c {
        None => String::new(),
        Some(c) if t.lang().code().starts_with("zh") => c.display_wan(),
        Some(c) => format!("¥{c}"),
    }
}

/// Growth as a signed percentage (`+12.5%`, `−3.0%`), "—" when undefined.
fn growth(g: Option<f64>) -> String {
    match g {
        Some(g) if g >= 0.0 => format!("+{:.1}%", g * 100.0),
        Some(g) => format!("−{:.1}%", -g * 100.0),
        None => "—".into(),
    }
}

fn class_label(t: Tr, c: IncomeClass) -> String {
    t.get(&format!("econ-class-{}", c.as_str()))
}

fn source_label(t: Tr, s: IncomeSource) -> String {
    t.get(&format!("econ-source-{}", s.as_str()))
}

fn link_label(t: Tr, l: ChainLink) -> String {
    t.get(&format!("econ-link-{}", l.as_str()))
}

/// The years a page offers: those with income data, and `year` itself.
fn year_choices(mut years: Vec<i32>, year: i32) -> Vec<i32> {
    if !years.contains(&year) {
        years.push(year);
    }
    years.sort_unstable();
    years
}

/// The year asked for, else the default: the last full year when it has data, else the latest
/// year with data, else the last full year.
fn pick_year(asked: Option<i32>, years: &[i32]) -> i32 {
    let default = summary::default_year();
    asked.unwrap_or_else(|| {
        if years.contains(&default) || years.is_empty() {
            default
        } else {
            *years.iter().max().unwrap_or(&default)
        }
    })
}

fn check_year(year: Option<i32>) -> Result<Option<i32>, AppError> {
    match year {
        Some(y) if !(1949..=2200).contains(&y) => Err(AppError::BadRequest {
            code: "invalid-year",
            message: format!("year {y} is outside 1949–2200"),
        }),
        y => Ok(y),
    }
}

/// A summary row prepared for a table.
pub struct RowView {
    /// The row.
    pub r: SummaryRow,
    /// Display name in the page's language.
    pub name: String,
    /// Link to the group's page, if it has one.
    pub link: Option<String>,
    /// Share of each class (empty shell, weak, ordinary, strong), as text.
    pub shares: Vec<String>,
    /// Share with at least ¥50,000.
    pub share_50k: String,
    /// Reporting rate.
    pub reporting: String,
    /// Total, mean, median.
    pub total: String,
    /// Mean.
    pub mean: String,
    /// Median.
    pub median: String,
    /// Growth.
    pub growth: String,
}

fn row_view(t: Tr, r: SummaryRow, by: By, year: i32) -> RowView {
    let zh = t.lang().code().starts_with("zh");
    let name = match (&r.name_en, zh) {
        (Some(en), false) if !en.is_empty() => en.clone(),
        _ => r.name.clone(),
    };
    let link = match by {
        By::Zone => Some(format!("/economy/zones/{}?year={year}", r.key)),
        By::Town => Some(format!("/divisions/{}", r.key)),
        By::County => None,
    };
    RowView {
        shares: IncomeClass::ALL.iter().map(|c| percent(r.class_share(*c))).collect(),
        share_50k: percent(r.summary.share_at_least_50k),
        reporting: percent(r.reporting_rate()),
        total: money(t, Some(r.summary.total)),
        mean: money(t, r.summary.mean),
        median: money(t, r.summary.median),
        growth: growth(r.growth),
        name,
        link,
        r,
    }
}

/// The ECharts option of a stacked bar chart of class shares (percent) per group.
fn class_share_chart(t: Tr, rows: &[RowView]) -> String {
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let colors = ["#b8b8b8", "#e8a33d", "#5b8ff9", "#2f9e44"];
    let series: Vec<Value> = IncomeClass::ALL
        .iter()
        .zip(colors)
        .map(|(c, color)| {
            let data: Vec<Value> = rows
                .iter()
                .map(|r| {
                    r.r.class_share(*c)
                        .map_or(Value::Null, |s| json!((s * 1000.0).round() / 10.0))
                })
                .collect();
            json!({"name": class_label(t, *c), "type": "bar", "stack": "share", "data": data,
                   "itemStyle": {"color": color}})
        })
        .collect();
    json!({
        "tooltip": {"trigger": "axis", "valueFormatter": "percent"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "top": 36, "bottom": 48},
        "xAxis": {"type": "category", "data": names},
        "yAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": series,
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// County page

/// Query of the county page and the summary export.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CountyQuery {
    year: Option<i32>,
    program: Option<i64>,
}

#[derive(Template)]
#[template(path = "economy.html")]
struct CountyPage {
    c: Chrome,
    year: i32,
    years: Vec<i32>,
    county: Option<RowView>,
    zones: Vec<RowView>,
    towns: Vec<RowView>,
    class_chart: String,
    trend_chart: String,
    thresholds: String,
    any_illustrative: bool,
    can_write: bool,
}

/// The thresholds in words, e.g. "empty shell: 0; weak: under 50,000.00; …".
fn thresholds_text(t: Tr, th: &Thresholds) -> String {
    t.args(
        "econ-thresholds",
        &[
            ("weak", th.weak_below.to_string()),
            ("ordinary", th.ordinary_below.to_string()),
        ],
    )
}

async fn county_page(State(state): State<AppState>, u: PageUser, Query(q): Query<CountyQuery>) -> Response {
    let t = u.t;
    let asked = match check_year(q.year) {
        Ok(y) => y,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let program = q.program;
    let result = state
        .db
        .run(move |c| {
            let years = query::income_years(c, &access)?;
            let year = pick_year(asked, &years);
            let groupings = [By::Zone, By::Town, By::County];
            let mut rows = summary::summaries(c, &access, year, &groupings, program, &th)?.into_iter();
            let mut next = || rows.next().unwrap_or_default();
            let (zones, towns, county) = (next(), next(), next());
            // The share with at least ¥50,000 per zone over the years with data.
            let recent: Vec<i32> = years.iter().rev().take(YEARS_MAX).rev().copied().collect();
            let mut trend = Vec::new();
            for &y in &recent {
                let rows = if y == year {
                    zones.clone()
                } else {
                    summary::summary(c, &access, y, By::Zone, program, &th)?
                };
                trend.push((y, rows));
            }
            Ok::<_, AppError>((year, years, zones, towns, county, trend))
        })
        .await;
    let (year, years, zones, towns, county, trend) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let any_illustrative = zones.iter().chain(&towns).any(|r| r.illustrative);
    let zones: Vec<RowView> = zones.into_iter().map(|r| row_view(t, r, By::Zone, year)).collect();
    let trend_chart = {
        let years: Vec<i32> = trend.iter().map(|(y, _)| *y).collect();
        let series: Vec<Value> = zones
            .iter()
            .map(|z| {
                let data: Vec<Value> = trend
                    .iter()
                    .map(|(_, rows)| {
                        rows.iter()
                            .find(|r| r.key == z.r.key)
                            .and_then(|r| r.summary.share_at_least_50k)
                            .map_or(Value::Null, |s| json!((s * 1000.0).round() / 10.0))
                    })
                    .collect();
                json!({"name": z.name, "type": "line", "data": data})
            })
            .collect();
        json!({
            "tooltip": {"trigger": "axis", "valueFormatter": "percent"},
            "legend": {"top": 0},
            "grid": {"left": 48, "right": 16, "top": 36, "bottom": 32},
            "xAxis": {"type": "category", "data": years},
            "yAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
            "series": series,
        })
        .to_string()
    };
    html(&CountyPage {
        c: Chrome::of(&u),
        class_chart: class_share_chart(t, &zones),
        trend_chart,
        years: year_choices(years, year),
        year,
        county: county.into_iter().next().map(|r| row_view(t, r, By::County, year)),
        zones,
        towns: towns.into_iter().map(|r| row_view(t, r, By::Town, year)).collect(),
        thresholds: thresholds_text(t, &th),
        any_illustrative,
        can_write: may_write(&u),
    })
}

// ---------------------------------------------------------------------------------------------
// Zone section

/// A lead product prepared for a table.
pub struct ProductView {
    /// The product.
    pub p: LeadProduct,
    /// Category label.
    pub category: String,
    /// Scale with its unit.
    pub scale: String,
    /// Output value.
    pub output: String,
    /// Income per household.
    pub per_household: String,
}

fn product_view(t: Tr, p: LeadProduct) -> ProductView {
    ProductView {
        category: choice_label(t, PRODUCT_CATEGORIES, &p.category),
        scale: p
            .scale
            .map(|s| format!("{} {}", trim_number(s), p.scale_unit))
            .unwrap_or_default(),
        output: money(t, p.output_value),
        per_household: money(t, p.income_per_household),
        p,
    }
}

/// A number without trailing zeros: 1200.0 → `1200`, 2.50 → `2.5`.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A development chain prepared for a table.
pub struct ChainView {
    /// The chain.
    pub ch: Chain,
    /// Each link's label and what fills it (a name, "outside your area", or empty when missing).
    pub links: Vec<(String, Option<String>)>,
    /// The missing links in words.
    pub missing: String,
}

fn link_text(t: Tr, l: &Option<LinkRef>) -> Option<String> {
    l.as_ref()
        .map(|l| l.name.clone().unwrap_or_else(|| t.get("reg-outside-scope")))
}

fn chain_view(t: Tr, ch: Chain) -> ChainView {
    let links = vec![
        (link_label(t, ChainLink::Branch), link_text(t, &ch.branch)),
        (link_label(t, ChainLink::Association), link_text(t, &ch.association)),
        (link_label(t, ChainLink::Company), link_text(t, &ch.company)),
        (link_label(t, ChainLink::Market), link_text(t, &ch.market)),
    ];
    ChainView {
        missing: ch
            .missing
            .iter()
            .map(|l| link_label(t, *l))
            .collect::<Vec<_>>()
            .join("、"),
        links,
        ch,
    }
}

/// A brand prepared for a table.
pub struct BrandView {
    /// The brand.
    pub b: Brand,
    /// Level label.
    pub level: String,
    /// Owner's name.
    pub owner: String,
}

fn brand_view(t: Tr, b: Brand) -> BrandView {
    BrandView {
        level: choice_label(t, BRAND_LEVELS, &b.level),
        owner: b
            .owner_village_name
            .clone()
            .or_else(|| b.owner_unit.as_ref().and_then(|u| u.name.clone()))
            .unwrap_or_else(|| t.get("reg-outside-scope")),
        b,
    }
}

/// A village-year prepared for a table.
pub struct IncomeView {
    /// The village-year.
    pub v: VillageYear,
    /// Class label.
    pub class: String,
    /// Total.
    pub total: String,
    /// Target and whether it was met.
    pub target: String,
    /// Whether the total reached the target.
    pub met: Option<bool>,
    /// Growth on the year before.
    pub growth: String,
    /// Amount per source, in [`IncomeSource::ALL`] order.
    pub sources: Vec<String>,
}

fn income_view(t: Tr, v: VillageYear) -> IncomeView {
    IncomeView {
        class: class_label(t, v.class),
        total: money(t, Some(v.total)),
        target: money(t, v.target),
        met: v.target.map(|target| v.total >= target),
        growth: growth(v.growth),
        sources: IncomeSource::ALL.iter().map(|s| money(t, v.amount(*s))).collect(),
        v,
    }
}

/// Bands of a village's total income for the distribution chart, in yuan: `[lower, upper)`.
const BANDS: [(i64, Option<i64>); 7] = [
    (0, Some(1)),
    (1, Some(10_000)),
    (10_000, Some(30_000)),
    (30_000, Some(50_000)),
    (50_000, Some(100_000)),
    (100_000, Some(200_000)),
    (200_000, None),
];

fn band_label(t: Tr, lower: i64, upper: Option<i64>) -> String {
    let wan = |y: i64| {
        if y % 10_000 == 0 {
            (y / 10_000).to_string()
        } else {
            format!("{:.1}", y as f64 / 10_000.0)
        }
    };
    match (lower, upper) {
        (0, Some(1)) => t.get("econ-band-zero"),
        (l, Some(u)) if l <= 1 => t.args("econ-band-below", &[("upper", wan(u))]),
        (l, Some(u)) => t.args("econ-band-between", &[("lower", wan(l)), ("upper", wan(u))]),
        (l, None) => t.args("econ-band-above", &[("lower", wan(l))]),
    }
}

/// Number of villages whose total falls in each of [`BANDS`]: the first band is exactly 0 (an
/// empty-shell village), the others `[lower, upper)` above 0.
fn band_counts(totals: &[Cny]) -> Vec<usize> {
    let mut counts = vec![0; BANDS.len()];
    for c in totals {
        let fen = i64::from(*c);
        let band = if fen == 0 {
            0
        } else {
            BANDS
                .iter()
                .skip(1)
                .position(|(_, upper)| upper.is_none_or(|u| fen < u * 100))
                .map_or(BANDS.len() - 1, |i| i + 1)
        };
        counts[band] += 1;
    }
    counts
}

fn distribution_chart(t: Tr, totals: &[Cny]) -> String {
    let labels: Vec<String> = BANDS.iter().map(|(l, u)| band_label(t, *l, *u)).collect();
    json!({
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 48},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": t.get("econ-villages"), "type": "bar", "data": band_counts(totals),
                    "itemStyle": {"color": "#5b8ff9"}}],
    })
    .to_string()
}

#[derive(Template)]
#[template(path = "economy_zone.html")]
struct ZonePage {
    c: Chrome,
    zone: Zone,
    zone_name: String,
    year: i32,
    years: Vec<i32>,
    zones: Vec<RowView>,
    villages: Vec<IncomeView>,
    products: Vec<ProductView>,
    chains: Vec<ChainView>,
    brands: Vec<BrandView>,
    distribution_chart: String,
    class_chart: String,
    any_illustrative: bool,
    can_write: bool,
}

async fn zone_page(
    State(state): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Query(q): Query<CountyQuery>,
) -> Response {
    let t = u.t;
    let asked = match check_year(q.year) {
        Ok(y) => y,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let result = state
        .db
        .run(move |c| {
            let zone = zones::zone(c, &access, id)?.ok_or(AppError::NotFound)?;
            let years = query::income_years(c, &access)?;
            let year = pick_year(asked, &years);
            let row = summary::summary(c, &access, year, By::Zone, Some(zone.program_id), &th)?
                .into_iter()
                .find(|r| r.key == zone.id.to_string());
            let incomes = IncomeFilter {
                year: Some(year),
                zone_id: Some(zone.id),
                ..Default::default()
            };
            let (villages, _) = query::incomes(c, &access, &incomes, &th, LIST_MAX, 0)?;
            let (products, _) = query::products(
                c,
                &access,
                &ProductFilter {
                    year: Some(year),
                    zone_id: Some(zone.id),
                    ..Default::default()
                },
                LIST_MAX,
                0,
            )?;
            let chains = ChainFilter {
                zone_id: Some(zone.id),
                ..Default::default()
            };
            let (chains, _) = query::chains(c, &access, &chains, LIST_MAX, 0)?;
            let brands = BrandFilter {
                zone_id: Some(zone.id),
                ..Default::default()
            };
            let (brands, _) = query::brands(c, &access, &brands, LIST_MAX, 0)?;
            Ok::<_, AppError>((zone, year, years, row, villages, products, chains, brands))
        })
        .await;
    let (zone, year, years, row, villages, products, chains, brands) = match result {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let totals: Vec<Cny> = villages.iter().map(|v| v.total).collect();
    let zones: Vec<RowView> = row.into_iter().map(|r| row_view(t, r, By::Zone, year)).collect();
    let zh = t.lang().code().starts_with("zh");
    html(&ZonePage {
        c: Chrome::of(&u),
        zone_name: if zh || zone.name_en.is_empty() {
            zone.name.clone()
        } else {
            zone.name_en.clone()
        },
        distribution_chart: distribution_chart(t, &totals),
        class_chart: class_share_chart(t, &zones),
        any_illustrative: villages.iter().any(|v| v.illustrative) || products.iter().any(|p| p.illustrative),
        villages: villages.into_iter().map(|v| income_view(t, v)).collect(),
        products: products.into_iter().map(|p| product_view(t, p)).collect(),
        chains: chains.into_iter().map(|ch| chain_view(t, ch)).collect(),
        brands: brands.into_iter().map(|b| brand_view(t, b)).collect(),
        years: year_choices(years, year),
        year,
        zones,
        zone,
        can_write: may_write(&u),
    })
}

// ---------------------------------------------------------------------------------------------
// Village profile

#[derive(Template)]
#[template(path = "village.html")]
struct VillagePage {
    c: Chrome,
    code: String,
    name: String,
    town: Option<(String, String)>,
    zones: Vec<(i64, String)>,
    orgs: Vec<PartyOrg>,
    history: Vec<IncomeView>,
    products: Vec<ProductView>,
    chains: Vec<ChainView>,
    brands: Vec<BrandView>,
    income_chart: String,
    source_labels: Vec<String>,
    any_illustrative: bool,
    can_write: bool,
    /// For a retired village: when, and that its records are history.
    retired: Option<String>,
}

/// Everything the village profile shows, read with the caller's scope.
struct Profile {
    d: divisions::Division,
    zones: Vec<(i64, String, String)>,
    orgs: Vec<PartyOrg>,
    history: Vec<VillageYear>,
    products: Vec<LeadProduct>,
    chains: Vec<Chain>,
    brands: Vec<Brand>,
}

fn profile(c: &mut DbConn, access: &Access, code: &str, th: &Thresholds) -> Result<Profile, AppError> {
    let code = DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
    let d = divisions::get(c, access, code.as_str())?
        .filter(|d| d.level == "village")
        .ok_or(AppError::NotFound)?;
    let zones = zones::zones_of_village(c, access, &d.code)?
        .into_iter()
        .map(|(z, _)| (z.id, z.name, z.name_en))
        .collect();
    let (orgs, _) = crate::registry::query::orgs(
        c,
        access,
        &OrgFilter {
            under: Some(d.code.clone()),
            ..Default::default()
        },
        100,
        0,
    )?;
    let village = Some(d.code.clone());
    let (history, _) = query::incomes(
        c,
        access,
        &IncomeFilter {
            village: village.clone(),
            ..Default::default()
        },
        th,
        LIST_MAX,
        0,
    )?;
    let (products, _) = query::products(
        c,
        access,
        &ProductFilter {
            village: village.clone(),
            ..Default::default()
        },
        LIST_MAX,
        0,
    )?;
    let (chains, _) = query::chains(
        c,
        access,
        &ChainFilter {
            village: village.clone(),
            ..Default::default()
        },
        LIST_MAX,
        0,
    )?;
    let (brands, _) = query::brands(
        c,
        access,
        &BrandFilter {
            village,
            ..Default::default()
        },
        LIST_MAX,
        0,
    )?;
    Ok(Profile {
        d,
        zones,
        orgs,
        history,
        products,
        chains,
        brands,
    })
}

/// The ECharts option of a village's income history: a stacked bar per source and year, the
/// total's target as a line. Amounts in yuan.
fn income_chart(t: Tr, history: &[VillageYear]) -> String {
    let years: Vec<i32> = history.iter().map(|v| v.year).collect();
    let mut series: Vec<Value> = IncomeSource::ALL
        .iter()
        .filter(|s| history.iter().any(|v| v.amount(**s).is_some()))
        .map(|s| {
            let data: Vec<Value> = history
                .iter()
                .map(|v| v.amount(*s).map_or(Value::Null, |a| json!(a.to_yuan_f64())))
                .collect();
            json!({"name": source_label(t, *s), "type": "bar", "stack": "income", "data": data})
        })
        .collect();
    if history.iter().any(|v| v.target.is_some()) {
        let data: Vec<Value> = history
            .iter()
            .map(|v| v.target.map_or(Value::Null, |a| json!(a.to_yuan_f64())))
            .collect();
        series.push(json!({"name": t.get("econ-target"), "type": "line", "data": data}));
    }
    json!({
        "tooltip": {"trigger": "axis", "valueFormatter": "yuan"},
        "legend": {"top": 0},
        "grid": {"left": 72, "right": 16, "top": 48, "bottom": 32},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "name": t.get("econ-yuan")},
        "series": series,
    })
    .to_string()
}

async fn village_page(State(state): State<AppState>, u: PageUser, Path(code): Path<String>) -> Response {
    let t = u.t;
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let result = state.db.run(move |c| profile(c, &access, &code, &th)).await;
    let p = match result {
        Ok(p) => p,
        Err(e) => return error_page(t, e),
    };
    let zh = t.lang().code().starts_with("zh");
    let any_illustrative = p.history.iter().any(|v| v.illustrative)
        || p.products.iter().any(|x| x.illustrative)
        || p.chains.iter().any(|x| x.illustrative)
        || p.brands.iter().any(|x| x.illustrative);
    let town =
        p.d.parent_code
            .clone()
            .zip(p.d.parent_name.clone())
            .filter(|(c, _)| u.access.names_code(c));
    html(&VillagePage {
        c: Chrome::of(&u),
        retired: p
            .d
            .retired_on
            .map(|on| t.args("division-retired-note", &[("date", on.to_string())])),
        income_chart: income_chart(t, &p.history),
        source_labels: IncomeSource::ALL.iter().map(|s| source_label(t, *s)).collect(),
        code: p.d.code.clone(),
        name: p.d.name.clone(),
        town,
        zones: p
            .zones
            .into_iter()
            .map(|(id, name, en)| (id, if zh || en.is_empty() { name } else { en }))
            .collect(),
        orgs: p.orgs,
        history: p.history.into_iter().rev().map(|v| income_view(t, v)).collect(),
        products: p.products.into_iter().map(|x| product_view(t, x)).collect(),
        chains: p.chains.into_iter().map(|x| chain_view(t, x)).collect(),
        brands: p.brands.into_iter().map(|x| brand_view(t, x)).collect(),
        any_illustrative,
        can_write: may_write(&u),
    })
}

// ---------------------------------------------------------------------------------------------
// Exports

/// Query of the summary export and API: year, grouping, program.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Calendar year (1949–2200); default the last full year in China.
    #[param(schema_with = super::openapi::year_param)]
    year: Option<i32>,
    /// `zone` (default), `town` or `county`.
    #[param(schema_with = super::openapi::economy_by_param)]
    by: Option<String>,
    /// Program id for zones; default the first program.
    program: Option<i64>,
}

fn parse_by(by: &Option<String>) -> Result<By, AppError> {
    match by.as_deref().map(str::trim).unwrap_or("zone") {
        "" | "zone" => Ok(By::Zone),
        "town" => Ok(By::Town),
        "county" => Ok(By::County),
        other => Err(AppError::BadRequest {
            code: "invalid-by",
            message: format!("by {other:?} is not one of zone, town, county"),
        }),
    }
}

const SUMMARY_HEADERS: [&str; 17] = [
    "col-name",
    "econ-year",
    "econ-villages",
    "econ-reported",
    "econ-class-empty_shell",
    "econ-class-weak",
    "econ-class-ordinary",
    "econ-class-strong",
    "econ-share-50k",
    "econ-total-yuan",
    "econ-mean-yuan",
    "econ-median-yuan",
    "econ-growth",
    "econ-target-yuan",
    "econ-code",
    "econ-reporting",
    "illustrative",
];

/// A rate (0–1) as a percentage cell, or nothing.
fn rate_cell(r: Option<f64>) -> Cell {
    r.map_or(Cell::Empty, Cell::Rate)
}

/// An amount as a yuan cell, or nothing.
fn yuan_cell(c: Option<Cny>) -> Cell {
    c.map_or(Cell::Empty, |c| Cell::Yuan(c.to_yuan_f64()))
}

/// A count as a whole-number cell.
fn int_cell(n: impl TryInto<i64>) -> Cell {
    n.try_into().map_or(Cell::Empty, Cell::Int)
}

fn illustrative_cell(t: Tr, b: bool) -> Cell {
    if b {
        Cell::Text(t.get("illustrative"))
    } else {
        Cell::Empty
    }
}

/// One row of the summary export: counts as whole numbers, shares and growth as percentages,
/// amounts in yuan, the group's key as text.
fn summary_row(t: Tr, v: &RowView) -> Vec<Cell> {
    let s = &v.r.summary;
    vec![
        Cell::Text(v.name.clone()),
        int_cell(v.r.year),
        int_cell(v.r.villages),
        int_cell(v.r.reported),
        int_cell(s.counts.empty_shell),
        int_cell(s.counts.weak),
        int_cell(s.counts.ordinary),
        int_cell(s.counts.strong),
        rate_cell(s.share_at_least_50k),
        yuan_cell(Some(s.total)),
        yuan_cell(s.mean),
        yuan_cell(s.median),
        rate_cell(v.r.growth),
        yuan_cell(v.r.target_total),
        Cell::Code(v.r.key.clone()),
        rate_cell(v.r.reporting_rate()),
        illustrative_cell(t, v.r.illustrative),
    ]
}

/// The name of a grouping for a sheet name (by zone, by town, county).
fn by_label(t: Tr, by: By) -> String {
    t.get(match by {
        By::Zone => "econ-by-zone",
        By::Town => "econ-by-town",
        By::County => "econ-county",
    })
}

/// GET /economy.xlsx — the summary per zone, town or county for a year, numbers typed.
async fn summary_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<SummaryQuery>) -> Response {
    let t = u.t;
    let (year, by) = match check_year(q.year).and_then(|y| Ok((y, parse_by(&q.by)?))) {
        Ok(r) => r,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let program = q.program;
    export(&state, t, "economy.xlsx", move |c| {
        let year = year.unwrap_or_else(summary::default_year);
        let mut rows: Vec<Vec<Cell>> = summary::summary(c, &access, year, by, program, &th)?
            .into_iter()
            .map(|r| summary_row(t, &row_view(t, r, by, year)))
            .collect();
        let sheet = t.args(
            "econ-sheet-summary",
            &[("year", year.to_string()), ("by", by_label(t, by))],
        );
        let index = t.get("reg-col-id");
        typed_workbook(&sheet, Some(&index), &headers(t, &SUMMARY_HEADERS), |_| {
            Ok(std::mem::take(&mut rows))
        })
    })
    .await
}

/// Query of the village income export and API.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VillagesQuery {
    /// Calendar year (1949–2200); all years when absent.
    #[param(schema_with = super::openapi::year_param)]
    year: Option<i32>,
    /// Only villages in this division subtree (12 digits).
    #[param(schema_with = super::openapi::division_code_param)]
    under: Option<String>,
    /// Only villages of this zone.
    zone: Option<i64>,
    /// Only this class: `empty_shell`, `weak`, `ordinary` or `strong`.
    #[param(schema_with = super::openapi::income_class_param)]
    class: Option<String>,
}

impl VillagesQuery {
    fn filter(&self) -> Result<IncomeFilter, AppError> {
        let class = match self.class.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(c) => Some(c.parse::<IncomeClass>().map_err(|_| AppError::BadRequest {
                code: "invalid-class",
                message: format!("class {c:?} is not one of empty_shell, weak, ordinary, strong"),
            })?),
        };
        Ok(IncomeFilter {
            year: check_year(self.year)?,
            under: division_code("under", "invalid-under", &self.under)?,
            zone_id: self.zone,
            village: None,
            class,
        })
    }
}

const VILLAGE_HEADERS: [&str; 8] = [
    "econ-code",
    "col-name",
    "col-town",
    "econ-year",
    "econ-total-yuan",
    "econ-class",
    "econ-growth",
    "econ-target-yuan",
];

/// GET /economy/villages.xlsx — each village's income in a year (or every year) by source,
/// with class, growth and target; numbers typed, codes as text.
async fn villages_xlsx(State(state): State<AppState>, u: PageUser, Query(q): Query<VillagesQuery>) -> Response {
    let t = u.t;
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => return error_page(t, e),
    };
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    export(&state, t, "villages.xlsx", move |c| {
        let mut headers = headers(t, &VILLAGE_HEADERS);
        headers.extend(
            IncomeSource::ALL
                .iter()
                .map(|s| format!("{}({})", source_label(t, *s), t.get("econ-yuan"))),
        );
        headers.push(t.get("illustrative"));
        let sheet = match filter.year {
            Some(y) => t.args("econ-sheet-villages-year", &[("year", y.to_string())]),
            None => t.get("econ-sheet-villages"),
        };
        let index = t.get("reg-col-id");
        typed_workbook(&sheet, Some(&index), &headers, |offset| {
            let (rows, _) = query::incomes(c, &access, &filter, &th, EXPORT_PAGE, offset)?;
            Ok(rows
                .into_iter()
                .map(|v| {
                    let mut row = vec![
                        Cell::Code(v.village_code.clone()),
                        Cell::Text(v.village_name.clone().unwrap_or_default()),
                        Cell::Text(v.town_name.clone().unwrap_or_default()),
                        int_cell(v.year),
                        yuan_cell(Some(v.total)),
                        Cell::Text(class_label(t, v.class)),
                        rate_cell(v.growth),
                        yuan_cell(v.target),
                    ];
                    row.extend(IncomeSource::ALL.iter().map(|s| yuan_cell(v.amount(*s))));
                    row.push(illustrative_cell(t, v.illustrative));
                    row
                })
                .collect())
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// API

/// One row of the economy summary API: the row `ringline economy summary --format json` prints
/// (amounts in integer fen, shares and growth as fractions) with the zone's English name and
/// whether demo data is behind it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryApiRow {
    /// The figures, as the command line prints them.
    #[serde(flatten)]
    pub row: crate::economy::summary::SummaryJson,
    /// Name (English) of a zone.
    pub name_en: Option<String>,
    /// Whether demo data is behind the row.
    pub illustrative: bool,
}

/// GET /api/v1/economy/summary — collective economy per zone, town or county for a year.
#[utoipa::path(get, path = "/api/v1/economy/summary", params(SummaryQuery),
    responses((status = 200, body = Vec<SummaryApiRow>), (status = 401), (status = 422)))]
pub async fn api_summary(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<Vec<SummaryApiRow>>, AppError> {
    let year = check_year(q.year)?.unwrap_or_else(summary::default_year);
    let by = parse_by(&q.by)?;
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let program = q.program;
    let rows = state
        .db
        .run(move |c| summary::summary(c, &access, year, by, program, &th))
        .await?;
    let json = crate::economy::summary::summary_json(&rows);
    Ok(Json(
        rows.into_iter()
            .zip(json)
            .map(|(r, row)| SummaryApiRow {
                row,
                name_en: r.name_en,
                illustrative: r.illustrative,
            })
            .collect(),
    ))
}

/// A page of village-years.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VillagesJson {
    /// Matches in all.
    pub total: i64,
    /// This page.
    pub items: Vec<VillageYear>,
    /// Page size used.
    pub limit: i64,
    /// Offset used.
    pub offset: i64,
}

/// GET /api/v1/economy/villages — village collective income by year, classified.
#[utoipa::path(get, path = "/api/v1/economy/villages", params(VillagesQuery, Paging),
    responses((status = 200, body = VillagesJson), (status = 401), (status = 422)))]
pub async fn api_villages(
    State(state): State<AppState>,
    u: ApiUser,
    Query(q): Query<VillagesQuery>,
    Query(p): Query<Paging>,
) -> Result<Json<VillagesJson>, AppError> {
    let filter = q.filter()?;
    let (limit, offset) = p.checked()?;
    let access = u.access.clone();
    let th = state.config.income_thresholds;
    let (items, total) = state
        .db
        .run(move |c| query::incomes(c, &access, &filter, &th, limit, offset))
        .await?;
    Ok(Json(VillagesJson {
        total,
        items,
        limit,
        offset,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(yuan: u32) -> Cny {
        Cny::from_yuan(yuan)
    }

    #[test]
    fn bands_count_each_village_once() {
        // 0 → zero; 0.01 → below 1万; 9,999.99 → below 1万; 10,000 → 1–3万; 49,999 → 3–5万;
        // 50,000 → 5–10万; 250,000 → 20万 and more.
        let totals = [
            Cny::ZERO,
            Cny::from_fen(1).expect("fen"),
            Cny::from_fen(999_999).expect("fen"),
            fen(10_000),
            fen(49_999),
            fen(50_000),
            fen(250_000),
        ];
        assert_eq!(band_counts(&totals), vec![1, 2, 1, 1, 1, 0, 1]);
    }

    #[test]
    fn growth_is_signed() {
        assert_eq!(growth(Some(0.125)), "+12.5%");
        assert_eq!(growth(Some(-0.03)), "−3.0%");
        assert_eq!(growth(None), "—");
        assert_eq!(trim_number(1200.0), "1200");
        assert_eq!(trim_number(2.5), "2.5");
    }

    #[test]
    fn default_year_prefers_data() {
        let last = summary::default_year();
        assert_eq!(pick_year(None, &[last - 3, last]), last);
        assert_eq!(pick_year(None, &[last - 3, last - 2]), last - 2);
        assert_eq!(pick_year(None, &[]), last);
        assert_eq!(pick_year(Some(2021), &[last]), 2021);
    }
}
