//! Development chains (党支部+协会+公司+市场, SPEC C4) as a record kind: one per village and
//! product, each link a registered record, empty while missing — the party branch a party
//! organization (by code, a village's branch normally having the village's 12-digit code, or
//! unique full name), the association or cooperative, company and market registered units (by
//! credit code or unique full name). Natural key: village and product. Scope key: the village.
//! Links may name organizations and units of other areas (a county market serves many villages);
//! readers outside their area see them counted, not named. A chain whose product is none of the
//! village's stored lead products is accepted with a warning. Retired by deletion.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use serde::Serialize;

use super::ChainLink;
use super::product::VILLAGE;
use super::query::{self, Chain, ChainFilter, LinkRef};
use super::rules::{self, By};
use super::write::{self, NewChain};
use crate::access::{Access, Permission};
use crate::db::schema::{development_chains, lead_products, party_orgs, units};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// The development chain kind.
pub struct Chains;

/// A development chain as a reader sees it, every link flat (the record of the `chains` kind).
/// A link outside the reader's scope counts in `completeness` and is listed in `outside`, but
/// has neither id nor name.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChainRecord {
    /// Id.
    pub id: i64,
    /// The village (12-digit code).
    pub village_code: String,
    /// The village's name.
    pub village_name: Option<String>,
    /// The product the chain carries.
    pub product: String,
    /// The party branch's id, when present and visible.
    pub branch_id: Option<i64>,
    /// The party branch's name, when present and visible.
    pub branch_name: Option<String>,
    /// The association's or cooperative's unit id, when present and visible.
    pub association_id: Option<i64>,
    /// Its name.
    pub association_name: Option<String>,
    /// The company's unit id, when present and visible.
    pub company_id: Option<i64>,
    /// Its name.
    pub company_name: Option<String>,
    /// The market's unit id, when present and visible.
    pub market_id: Option<i64>,
    /// Its name.
    pub market_name: Option<String>,
    /// Links present, 0–4 (links outside the reader's scope count).
    pub completeness: u8,
    /// The missing links, in chain order (`branch`, `association`, `company`, `market`).
    #[schema(value_type = Vec<String>)]
    pub missing: Vec<ChainLink>,
    /// The links present but outside the reader's scope (counted, not named).
    #[schema(value_type = Vec<String>)]
    pub outside: Vec<ChainLink>,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

impl From<Chain> for ChainRecord {
    fn from(c: Chain) -> ChainRecord {
        let split = |l: &Option<LinkRef>| match l {
            Some(r) => (r.id, r.name.clone(), r.is_hidden()),
            None => (None, None, false),
        };
        let (branch_id, branch_name, b) = split(&c.branch);
        let (association_id, association_name, a) = split(&c.association);
        let (company_id, company_name, co) = split(&c.company);
        let (market_id, market_name, m) = split(&c.market);
        let outside = [
            (ChainLink::Branch, b),
            (ChainLink::Association, a),
            (ChainLink::Company, co),
            (ChainLink::Market, m),
        ]
        .into_iter()
        .filter_map(|(l, hidden)| hidden.then_some(l))
        .collect();
        ChainRecord {
            id: c.id,
            village_code: c.village_code,
            village_name: c.village_name,
            product: c.product,
            branch_id,
            branch_name,
            association_id,
            association_name,
            company_id,
            company_name,
            market_id,
            market_name,
            completeness: c.completeness,
            missing: c.missing,
            outside,
            illustrative: c.illustrative,
        }
    }
}

/// A link naming a registered unit: `Some(None)` when empty, `None` when refused.
fn unit_link(v: &mut Values, cx: &mut Cx, key: &str) -> DbResult<Option<Option<i64>>> {
    let before = v.errors.len();
    let typed = v.text(key);
    if typed.is_empty() {
        return Ok((v.errors.len() == before).then_some(None));
    }
    match crate::registry::resolve_unit(cx.units()?, &typed) {
        Ok(id) => Ok(Some(Some(id))),
        Err((n, m)) => {
            v.error(key, &typed, "unit-not-found", m);
            v.args(vec![("count", n.to_string())]);
            Ok(None)
        }
    }
}

/// The chain's party branch: `Some(None)` when empty, `None` when refused.
fn branch_link(v: &mut Values, cx: &mut Cx) -> DbResult<Option<Option<i64>>> {
    let before = v.errors.len();
    let typed = v.text("branch");
    if typed.is_empty() {
        return Ok((v.errors.len() == before).then_some(None));
    }
    match crate::registry::resolve_org(cx.orgs()?, &typed) {
        Ok((id, _)) => Ok(Some(Some(id))),
        Err((n, m)) => {
            v.error("branch", &typed, "org-not-found", m);
            v.args(vec![("count", n.to_string())]);
            Ok(None)
        }
    }
}

impl Kind for Chains {
    type New = NewChain;
    type Record = ChainRecord;

    const DESC: Desc = Desc {
        id: KindId::Chains,
        key: "chains",
        entity: "development_chain",
        fields: &[
            VILLAGE,
            Field::new("product", Ty::Name, true)
                .aliases(&["主导产品", "产品名称"])
                .noted(),
            Field::new("branch", Ty::Ref(KindId::Orgs), false)
                .aliases(&["村党组织", "党组织", "支部", "party_branch", "branch_code"])
                .noted(),
            Field::new("association", Ty::Ref(KindId::Units), false)
                .aliases(&["协会", "合作社", "协会(合作社)", "cooperative"])
                .noted(),
            Field::new("company", Ty::Ref(KindId::Units), false)
                .aliases(&["企业", "龙头企业"])
                .noted(),
            Field::new("market", Ty::Ref(KindId::Units), false)
                .aliases(&["销售市场"])
                .noted(),
        ],
        columns: &[
            Column::new("product", Show::Link(KindId::Chains, "id")),
            Column::new("village_code", Show::Place),
            Column::new("branch_name", Show::Link(KindId::Orgs, "branch_id")),
            Column::new("association_name", Show::Link(KindId::Units, "association_id")),
            Column::new("company_name", Show::Link(KindId::Units, "company_id")),
            Column::new("market_name", Show::Link(KindId::Units, "market_id")),
            Column::new("completeness", Show::Int),
        ],
        // The product first: a repeated row is marked there.
        natural_key: &["product", "village"],
        filters: &[Filter::Under, Filter::Text, Filter::Division("village")],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewChain>> {
        let village = rules::village(v, cx, "village")?;
        let product = v.name("product");
        let branch = branch_link(v, cx)?;
        let association = unit_link(v, cx, "association")?;
        let company = unit_link(v, cx, "company")?;
        let market = unit_link(v, cx, "market")?;
        if v.failed() {
            return Ok(None);
        }
        let (Some(village_code), Some(product), Some(b), Some(a), Some(c), Some(m)) =
            (village, product, branch, association, company, market)
        else {
            return Ok(None);
        };
        let known: i64 = lead_products::table
            .filter(lead_products::village_code.eq(&village_code))
            .filter(lead_products::name.eq(&product))
            .count()
            .get_result(cx.conn)?;
        if known == 0 {
            v.warn(
                "product",
                &product,
                "chain-product-unknown",
                format!(
                    "{product:?} is none of the village's lead products; the chain is stored all the same — check the name"
                ),
            );
        }
        Ok(Some(NewChain {
            village_code,
            product,
            branch_org_id: b,
            association_unit_id: a,
            company_unit_id: c,
            market_unit_id: m,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NewChain) -> String {
        format!("{}\u{1f}{}", n.village_code, n.product)
    }

    fn area(n: &NewChain) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewChain]) -> DbResult<Vec<Option<Stored<NewChain>>>> {
        let mut villages: Vec<&str> = news.iter().map(|c| c.village_code.as_str()).collect();
        villages.sort_unstable();
        villages.dedup();
        let mut by_key: HashMap<(String, String), (i64, NewChain)> = HashMap::new();
        for part in villages.chunks(1_000) {
            for (id, c) in load(cx.conn, By::Villages(part))? {
                by_key.insert((c.village_code.clone(), c.product.clone()), (id, c));
            }
        }
        Ok(news
            .iter()
            .map(|c| {
                by_key
                    .get(&(c.village_code.clone(), c.product.clone()))
                    .map(|(id, s)| Stored {
                        id: id.to_string(),
                        new: s.clone(),
                    })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewChain>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(load(cx.conn, By::Id(id))?
            .into_iter()
            .map(|(_, c)| c)
            .find(|c| cx.access.sees_code(&c.village_code)))
    }

    fn illustrative(n: &NewChain) -> bool {
        n.illustrative
    }

    fn same(a: &NewChain, b: &NewChain) -> bool {
        a.village_code == b.village_code
            && a.product == b.product
            && a.branch_org_id == b.branch_org_id
            && a.association_unit_id == b.association_unit_id
            && a.company_unit_id == b.company_unit_id
            && a.market_unit_id == b.market_unit_id
    }

    fn values(cx: &mut Cx, n: &NewChain) -> DbResult<Raw> {
        let unit_ids: BTreeSet<i64> = [n.association_unit_id, n.company_unit_id, n.market_unit_id]
            .into_iter()
            .flatten()
            .collect();
        let unit_refs = unit_refs(cx.conn, &unit_ids)?;
        let branch = match n.branch_org_id {
            Some(id) => party_orgs::table
                .find(id)
                .select(party_orgs::code)
                .first::<String>(cx.conn)
                .optional()?
                .unwrap_or_default(),
            None => String::new(),
        };
        let unit = |id: Option<i64>| id.and_then(|i| unit_refs.get(&i).cloned()).unwrap_or_default();
        Ok(Raw::of([
            ("village", n.village_code.clone()),
            ("product", n.product.clone()),
            ("branch", branch),
            ("association", unit(n.association_unit_id)),
            ("company", unit(n.company_unit_id)),
            ("market", unit(n.market_unit_id)),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewChain]) -> DbResult<Vec<String>> {
        Ok(write::insert_chains(conn, rows)?
            .into_iter()
            .map(|i| i.to_string())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NewChain) -> DbResult<()> {
        match id.parse::<i64>() {
            Ok(id) => write::update_chain(conn, id, n),
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
        Ok(diesel::delete(development_chains::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<ChainRecord>> {
        let f = ChainFilter {
            under: q.under.clone(),
            village: q.value("village").map(str::to_string),
            q: q.q.clone(),
            ..ChainFilter::default()
        };
        let (items, total) = query::chains(conn, access, &f, q.limit, q.offset)?;
        Ok(Page {
            items: items.into_iter().map(ChainRecord::from).collect(),
            total,
        })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<ChainRecord>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let f = ChainFilter {
            id: Some(id),
            ..ChainFilter::default()
        };
        Ok(query::chains(conn, access, &f, 1, 0)?
            .0
            .into_iter()
            .next()
            .map(ChainRecord::from))
    }
}

/// How units are written back (edit forms, audit entries): the credit code, else the name.
pub(super) fn unit_refs(conn: &mut DbConn, ids: &BTreeSet<i64>) -> DbResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let rows: Vec<(i64, String, Option<String>)> = units::table
        .filter(units::id.eq_any(&ids))
        .select((units::id, units::name, units::credit_code))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, code)| (id, code.unwrap_or(name)))
        .collect())
}

type ChainColumns = (
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
);

/// Stored chains by id or village, as checked records with their ids.
fn load(conn: &mut DbConn, by: By<'_>) -> DbResult<Vec<(i64, NewChain)>> {
    let q = development_chains::table.into_boxed();
    let q = match by {
        By::Id(id) => q.filter(development_chains::id.eq(id)),
        By::Villages(v) => q.filter(development_chains::village_code.eq_any(v)),
    };
    let rows: Vec<ChainColumns> = q
        .select((
            development_chains::id,
            development_chains::village_code,
            development_chains::product,
            development_chains::branch_org_id,
            development_chains::association_unit_id,
            development_chains::company_unit_id,
            development_chains::market_unit_id,
            development_chains::illustrative,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                NewChain {
                    village_code: r.1,
                    product: r.2,
                    branch_org_id: r.3,
                    association_unit_id: r.4,
                    company_unit_id: r.5,
                    market_unit_id: r.6,
                    illustrative: r.7,
                },
            )
        })
        .collect())
}
