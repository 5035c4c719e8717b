//! Party-building brands (党建品牌, SPEC C4) as a record kind: a name, its owner — a registered
//! unit (credit code or unique full name) or a village (12-digit code) within the caller's
//! scope —, the zone it belongs to (by the zone's name, or its short name before a space or
//! bracket, `一环`, `东峡线`, among the zones of the owner's county), its level (county, city,
//! province, national) and the year it was named (1949 to this year). Natural key: name and
//! year. Scope key: the owner village, or the owner unit's division. Retired by deletion.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::{DivisionCode, Level};
use serde::Serialize;

use super::BRAND_LEVELS;
use super::query::{self, Brand, BrandFilter};
use super::rules;
use super::write::{self, NewBrand};
use crate::access::{Access, Permission};
use crate::db::schema::{brands, programs, zones};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// The party-building brand kind.
pub struct Brands;

/// A brand as a reader sees it (the record of the `brands` kind). An owner unit outside the
/// reader's scope has neither id nor name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BrandRecord {
    /// Id.
    pub id: i64,
    /// Brand name.
    pub name: String,
    /// The owner unit's id, when a unit owns the brand and the reader sees it.
    pub owner_unit_id: Option<i64>,
    /// The owner unit's name, likewise.
    pub owner_unit_name: Option<String>,
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
    /// Level: `county`, `city`, `province` or `national`.
    pub level: String,
    /// Year the brand was named.
    pub year: i32,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

impl From<Brand> for BrandRecord {
    fn from(b: Brand) -> BrandRecord {
        BrandRecord {
            id: b.id,
            name: b.name,
            owner_unit_id: b.owner_unit.as_ref().and_then(|u| u.id),
            owner_unit_name: b.owner_unit.and_then(|u| u.name),
            owner_village_code: b.owner_village_code,
            owner_village_name: b.owner_village_name,
            division_code: b.division_code,
            zone_id: b.zone_id,
            zone_name: b.zone_name,
            level: b.level,
            year: b.year,
            illustrative: b.illustrative,
        }
    }
}

/// A brand's owner: `(unit id, village code, scope key)`.
type Owner = (Option<i64>, Option<String>, String);

/// The owner as typed: a village's 12-digit code, else a unit by credit code or unique name.
fn owner(v: &mut Values, cx: &mut Cx) -> DbResult<Option<Owner>> {
    if v.is_empty("owner") {
        v.required("owner");
        return Ok(None);
    }
    let typed = v.clean("owner");
    if let Ok(code) = cell::code(&typed)
        && code.len() == 12
        && code.bytes().all(|b| b.is_ascii_digit())
    {
        let Some(village) = v.division("owner", cx.divisions()?, &[Level::Village]) else {
            return Ok(None);
        };
        return Ok(Some((None, Some(village.clone()), village)));
    }
    let ix = cx.units()?;
    match crate::registry::resolve_unit(ix, &typed) {
        Ok(id) => {
            let division = ix.division_of.get(&id).cloned().unwrap_or_default();
            Ok(Some((Some(id), None, division)))
        }
        Err((n, m)) if n > 1 => {
            v.error("owner", &typed, "unit-not-found", m);
            v.args(vec![("count", n.to_string())]);
            Ok(None)
        }
        Err(_) => {
            v.error(
                "owner",
                &typed,
                "brand-owner-not-found",
                format!(
                    "no registered unit has the credit code or name {typed:?}, and it is no village code; give a unit's credit code or full name, or a village's 12-digit code"
                ),
            );
            Ok(None)
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
    /// Its name as shown (and written back).
    name: String,
}

/// Every zone, loaded once per check context.
struct ZoneRefs(Vec<ZoneRef>);

/// A zone name folded for comparison: full-width folded, spaces removed, lower case.
fn fold_zone(s: &str) -> String {
    cell::clean(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn load_zones(conn: &mut DbConn) -> DbResult<ZoneRefs> {
    let rows: Vec<(i64, String, String, String)> = zones::table
        .inner_join(programs::table)
        .select((zones::id, zones::name, zones::name_en, programs::county_code))
        .load(conn)?;
    Ok(ZoneRefs(
        rows.into_iter()
            .map(|(id, name, name_en, county)| {
                let short = name
                    .split(|c: char| c.is_whitespace() || matches!(c, '(' | '（'))
                    .next()
                    .unwrap_or("")
                    .to_string();
                let names = [name.as_str(), short.as_str(), name_en.as_str()]
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
                    name,
                }
            })
            .collect(),
    ))
}

/// The brand's zone among the zones of the owner's county: `Some(None)` when empty, `None`
/// when refused (or when the owner is unknown, which is reported already).
fn zone(v: &mut Values, cx: &mut Cx, owner: Option<&str>) -> DbResult<Option<Option<i64>>> {
    let before = v.errors.len();
    let typed = v.text("zone");
    if typed.is_empty() {
        return Ok((v.errors.len() == before).then_some(None));
    }
    let Some(owner) = owner else { return Ok(None) };
    let folded = fold_zone(&typed);
    let zones = cx.cached(load_zones)?;
    let named: Vec<&ZoneRef> = zones.0.iter().filter(|z| z.names.contains(&folded)).collect();
    let here: Vec<i64> = named
        .iter()
        .filter(|z| owner.starts_with(z.county.as_str()))
        .map(|z| z.id)
        .collect();
    let elsewhere = !named.is_empty();
    match here.as_slice() {
        [z] => Ok(Some(Some(*z))),
        [] if elsewhere => {
            v.error(
                "zone",
                &typed,
                "brand-zone-other-county",
                format!(
                    "the zone {typed:?} belongs to a program of another county; a brand belongs to a zone of its owner's county"
                ),
            );
            Ok(None)
        }
        found => {
            v.error(
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
            v.args(vec![("count", found.len().to_string())]);
            Ok(None)
        }
    }
}

impl Kind for Brands {
    type New = NewBrand;
    type Record = BrandRecord;

    const DESC: Desc = Desc {
        id: KindId::Brands,
        key: "brands",
        entity: "brand",
        fields: &[
            Field::new("name", Ty::Name, true).aliases(&["党建品牌", "品牌"]),
            Field::new("owner", Ty::Ref(KindId::Units), true)
                .aliases(&["所属单位", "所属村", "创建单位", "owner_unit", "owner_village"])
                .noted(),
            Field::new("zone", Ty::Text, false).aliases(&["示范带", "片区"]).noted(),
            Field::new("level", Ty::Choice(BRAND_LEVELS), true)
                .aliases(&["级别", "命名级别"])
                .noted(),
            Field::new("year", Ty::Year, true)
                .aliases(&["年度", "年份", "命名年份"])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Brands, "id")),
            Column::new("owner_unit_name", Show::Link(KindId::Units, "owner_unit_id")),
            Column::new("owner_village_code", Show::Place),
            Column::detail("division_code", Show::Place),
            Column::new("zone_name", Show::Text),
            Column::new("level", Show::Choice(BRAND_LEVELS)),
            Column::new("year", Show::Int),
        ],
        natural_key: &["name", "year"],
        filters: &[
            Filter::Under,
            Filter::Text,
            Filter::Choice("level", BRAND_LEVELS),
            Filter::Year("year"),
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewBrand>> {
        let name = v.name("name");
        let owner = owner(v, cx)?;
        if let Some((_, _, division)) = &owner {
            v.in_scope("owner", cx.access, division);
        }
        let zone = zone(v, cx, owner.as_ref().map(|o| o.2.as_str()))?;
        let level = v.choice("level");
        let year = rules::named_year(v, cx);
        if v.failed() {
            return Ok(None);
        }
        let (Some(name), Some((unit, village, division)), Some(zone_id), Some(level), Some(year)) =
            (name, owner, zone, level, year)
        else {
            return Ok(None);
        };
        Ok(Some(NewBrand {
            name,
            owner_unit_id: unit,
            owner_village: village,
            division_code: division,
            zone_id,
            level: level.into(),
            year,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NewBrand) -> String {
        format!("{}\u{1f}{}", n.name, n.year)
    }

    fn area(n: &NewBrand) -> String {
        n.division_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewBrand]) -> DbResult<Vec<Option<Stored<NewBrand>>>> {
        let mut names: Vec<&str> = news.iter().map(|b| b.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut by_key: HashMap<(String, i32), (i64, NewBrand)> = HashMap::new();
        for part in names.chunks(1_000) {
            for (id, b) in load(cx.conn, Some(part), None)? {
                by_key.insert((b.name.clone(), b.year), (id, b));
            }
        }
        Ok(news
            .iter()
            .map(|b| {
                by_key.get(&(b.name.clone(), b.year)).map(|(id, s)| Stored {
                    id: id.to_string(),
                    new: s.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewBrand>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(load(cx.conn, None, Some(id))?
            .into_iter()
            .map(|(_, b)| b)
            .find(|b| cx.access.sees_code(&b.division_code)))
    }

    fn illustrative(n: &NewBrand) -> bool {
        n.illustrative
    }

    fn same(a: &NewBrand, b: &NewBrand) -> bool {
        a.name == b.name
            && a.owner_unit_id == b.owner_unit_id
            && a.owner_village == b.owner_village
            && a.division_code == b.division_code
            && a.zone_id == b.zone_id
            && a.level == b.level
            && a.year == b.year
    }

    fn values(cx: &mut Cx, n: &NewBrand) -> DbResult<Raw> {
        let owner = match (&n.owner_village, n.owner_unit_id) {
            (Some(v), _) => v.clone(),
            (None, Some(u)) => super::chain::unit_refs(cx.conn, &BTreeSet::from([u]))?
                .remove(&u)
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let zone = match n.zone_id {
            Some(z) => cx
                .cached(load_zones)?
                .0
                .iter()
                .find(|r| r.id == z)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok(Raw::of([
            ("name", n.name.clone()),
            ("owner", owner),
            ("zone", zone),
            ("level", n.level.clone()),
            ("year", n.year.to_string()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewBrand]) -> DbResult<Vec<String>> {
        Ok(write::insert_brands(conn, rows)?
            .into_iter()
            .map(|i| i.to_string())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NewBrand) -> DbResult<()> {
        match id.parse::<i64>() {
            Ok(id) => write::update_brand(conn, id, n),
            Err(_) => Ok(()),
        }
    }

    fn retire(_cx: &mut Cx, _id: &str, _how: &RetireInput) -> DbResult<bool> {
        // Retire::Delete: the driver calls `remove`.
        Ok(false)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        Ok(diesel::delete(brands::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<BrandRecord>> {
        let f = BrandFilter {
            under: q.under.clone(),
            level: q.value("level").map(str::to_string),
            year: q.value("year").and_then(|y| y.parse().ok()),
            q: q.q.clone(),
            ..BrandFilter::default()
        };
        let (items, total) = query::brands(conn, access, &f, q.limit, q.offset)?;
        Ok(Page {
            items: items.into_iter().map(BrandRecord::from).collect(),
            total,
        })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<BrandRecord>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let f = BrandFilter {
            id: Some(id),
            ..BrandFilter::default()
        };
        Ok(query::brands(conn, access, &f, 1, 0)?
            .0
            .into_iter()
            .next()
            .map(BrandRecord::from))
    }
}

type BrandColumns = (
    i64,
    String,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    String,
    i32,
    bool,
);

/// Stored brands with these names or this id, as checked records with their ids.
fn load(conn: &mut DbConn, names: Option<&[&str]>, id: Option<i64>) -> DbResult<Vec<(i64, NewBrand)>> {
    let mut q = brands::table.into_boxed();
    if let Some(names) = names {
        q = q.filter(brands::name.eq_any(names));
    }
    if let Some(id) = id {
        q = q.filter(brands::id.eq(id));
    }
    let rows: Vec<BrandColumns> = q
        .select((
            brands::id,
            brands::name,
            brands::owner_unit_id,
            brands::owner_village,
            brands::division_code,
            brands::zone_id,
            brands::level,
            brands::year,
            brands::illustrative,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
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
                    illustrative: r.8,
                },
            )
        })
        .collect())
}
