//! Lead products (一村一品, SPEC C4) as a record kind: a village's product in a year with its
//! category, scale and unit, output value, households engaged and income per household.
//! Natural key: village, year and product name. Scope key: the village. Years and amounts follow
//! [`super::rules`]. Scale and its unit go together; the scale is 0 or more. Retired by deletion
//! (the audit log and the undo record keep the values).

use std::collections::HashMap;

use diesel::prelude::*;
use ringline_core::division::Level;

use super::query::{self, LeadProduct, ProductFilter};
use super::rules::By;
use super::rules::{self, number_text, yuan_text};
use super::write::{self, NewProduct};
use super::{Cny, PRODUCT_CATEGORIES};
use crate::access::{Access, Permission};
use crate::db::schema::lead_products;
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// The lead product kind.
pub struct Products;

/// The village field of the economy kinds: a village by 12-digit code or name.
pub(super) const VILLAGE: Field = Field::new("village", Ty::Division(&[Level::Village]), true)
    .aliases(&["村(社区)代码", "区划代码", "village_code"])
    .noted();

impl Kind for Products {
    type New = NewProduct;
    type Record = LeadProduct;

    const DESC: Desc = Desc {
        id: KindId::Products,
        key: "products",
        entity: "lead_product",
        fields: &[
            VILLAGE,
            Field::new("year", Ty::Year, true).aliases(&["年份"]).noted(),
            Field::new("name", Ty::Name, true)
                .aliases(&["主导产品", "产品", "product"])
                .noted(),
            Field::new("category", Ty::Choice(PRODUCT_CATEGORIES), true)
                .aliases(&["类别", "产业类别"])
                .noted(),
            Field::new("scale", Ty::Decimal, false)
                .aliases(&["生产规模", "种养规模"])
                .noted(),
            Field::new("scale_unit", Ty::Text, false)
                .aliases(&["计量单位", "unit"])
                .noted(),
            Field::new("output_value", Ty::Amount, false)
                .aliases(&["年产值", "产值", "output value", "output_value_yuan"])
                .noted(),
            Field::new("households", Ty::Count, false)
                .aliases(&["参与户数", "从业户数", "户数"])
                .noted(),
            Field::new("income_per_household", Ty::Amount, false)
                .aliases(&["户均收入", "户均增收", "income per household"])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Products, "id")),
            Column::new("village_code", Show::Place),
            Column::new("year", Show::Int),
            Column::new("category", Show::Choice(PRODUCT_CATEGORIES)),
            Column::new("scale", Show::Decimal(2)),
            Column::new("scale_unit", Show::Text),
            Column::new("output_value", Show::Fen),
            Column::new("households", Show::Int),
            Column::new("income_per_household", Show::Fen),
        ],
        // The product name first: a repeated row is marked there.
        natural_key: &["name", "village", "year"],
        filters: &[
            Filter::Under,
            Filter::Text,
            Filter::Choice("category", PRODUCT_CATEGORIES),
            Filter::Year("year"),
            Filter::Division("village"),
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewProduct>> {
        let village = rules::village(v, cx, "village")?;
        let year = rules::program_year(v, cx, village.as_deref(), true)?;
        let name = v.name("name");
        let category = v.choice("category");
        let scale = match v.decimal("scale") {
            Some(s) if s < 0.0 => {
                let typed = v.clean("scale");
                v.error(
                    "scale",
                    &typed,
                    "scale-negative",
                    "the scale is negative; it is 0 or more",
                );
                None
            }
            s => s,
        };
        let before_unit = v.errors.len();
        let unit = v.text("scale_unit");
        let scale_typed = !v.is_empty("scale");
        // Scale and unit go together (checked when both could be read).
        if v.errors.len() == before_unit && (scale.is_some() || !scale_typed) && scale.is_some() == unit.is_empty() {
            let missing = if unit.is_empty() { "scale_unit" } else { "scale" };
            v.error(
                missing,
                "",
                "scale-unpaired",
                "give the scale and its unit together, or neither",
            );
        }
        let output_value = rules::amount(v, "output_value");
        let households = v.count("households");
        let income_per_household = rules::amount(v, "income_per_household");
        if v.failed() {
            return Ok(None);
        }
        let (Some(village_code), Some(year), Some(name), Some(category)) = (village, year, name, category) else {
            return Ok(None);
        };
        Ok(Some(NewProduct {
            village_code,
            year,
            name,
            category: category.into(),
            scale,
            scale_unit: if scale.is_some() { unit } else { String::new() },
            output_value,
            households,
            income_per_household,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NewProduct) -> String {
        format!("{}\u{1f}{}\u{1f}{}", n.village_code, n.year, n.name)
    }

    fn area(n: &NewProduct) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewProduct]) -> DbResult<Vec<Option<Stored<NewProduct>>>> {
        let mut villages: Vec<&str> = news.iter().map(|p| p.village_code.as_str()).collect();
        villages.sort_unstable();
        villages.dedup();
        let mut by_key: HashMap<(String, i32, String), (i64, NewProduct)> = HashMap::new();
        for part in villages.chunks(1_000) {
            for (id, p) in load(cx.conn, By::Villages(part))? {
                by_key.insert((p.village_code.clone(), p.year, p.name.clone()), (id, p));
            }
        }
        Ok(news
            .iter()
            .map(|p| {
                by_key
                    .get(&(p.village_code.clone(), p.year, p.name.clone()))
                    .map(|(id, s)| Stored {
                        id: id.to_string(),
                        new: s.clone(),
                    })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewProduct>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(load(cx.conn, By::Id(id))?
            .into_iter()
            .map(|(_, p)| p)
            .find(|p| cx.access.sees_code(&p.village_code)))
    }

    fn illustrative(n: &NewProduct) -> bool {
        n.illustrative
    }

    fn same(a: &NewProduct, b: &NewProduct) -> bool {
        a.village_code == b.village_code
            && a.year == b.year
            && a.name == b.name
            && a.category == b.category
            && a.scale == b.scale
            && a.scale_unit == b.scale_unit
            && a.output_value == b.output_value
            && a.households == b.households
            && a.income_per_household == b.income_per_household
    }

    fn values(_cx: &mut Cx, n: &NewProduct) -> DbResult<Raw> {
        let yuan = |c: Option<Cny>| c.map(yuan_text).unwrap_or_default();
        Ok(Raw::of([
            ("village", n.village_code.clone()),
            ("year", n.year.to_string()),
            ("name", n.name.clone()),
            ("category", n.category.clone()),
            ("scale", n.scale.map(number_text).unwrap_or_default()),
            ("scale_unit", n.scale_unit.clone()),
            ("output_value", yuan(n.output_value)),
            ("households", n.households.map(|h| h.to_string()).unwrap_or_default()),
            ("income_per_household", yuan(n.income_per_household)),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewProduct]) -> DbResult<Vec<String>> {
        Ok(write::insert_products(conn, rows)?
            .into_iter()
            .map(|i| i.to_string())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NewProduct) -> DbResult<()> {
        match id.parse::<i64>() {
            Ok(id) => write::update_product(conn, id, n),
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
        Ok(diesel::delete(lead_products::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<LeadProduct>> {
        let f = ProductFilter {
            under: q.under.clone(),
            village: q.value("village").map(str::to_string),
            category: q.value("category").map(str::to_string),
            year: q.value("year").and_then(|y| y.parse().ok()),
            q: q.q.clone(),
            ..ProductFilter::default()
        };
        let (items, total) = query::products(conn, access, &f, q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<LeadProduct>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let f = ProductFilter {
            id: Some(id),
            ..ProductFilter::default()
        };
        Ok(query::products(conn, access, &f, 1, 0)?.0.into_iter().next())
    }
}

type ProductColumns = (
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
    bool,
);

/// Stored lead products with these ids or of these villages, as checked records with their ids.
fn load(conn: &mut DbConn, by: By<'_>) -> DbResult<Vec<(i64, NewProduct)>> {
    let q = lead_products::table.into_boxed();
    let q = match by {
        By::Id(id) => q.filter(lead_products::id.eq(id)),
        By::Villages(v) => q.filter(lead_products::village_code.eq_any(v)),
    };
    let rows: Vec<ProductColumns> = q
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
            lead_products::illustrative,
        ))
        .load(conn)?;
    let fen = |f: Option<i64>| f.and_then(|f| Cny::from_fen(f).ok());
    Ok(rows
        .into_iter()
        .map(|r| {
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
                    illustrative: r.10,
                },
            )
        })
        .collect())
}
