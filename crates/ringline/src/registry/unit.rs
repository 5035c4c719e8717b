//! Units (单位, SPEC C3) as a record kind: agencies, state-owned and non-public enterprises,
//! social organisations, cooperatives, markets, village committees. Natural key: the unified
//! social credit code (GB 32100-2015); a unit without one is matched by name and division, and
//! a row giving a code to a unit stored without one updates it. Scope key: the unit's division
//! (a village/community or a town). A retired unit (deregistered, merged) is kept with its
//! reason and date and leaves lists and coverage.

use std::collections::HashMap;

use diesel::prelude::*;
use ringline_core::credit_code::CreditCode;
use ringline_core::division::Level;
use ringline_core::geo::{LonLat, in_china};

use super::NewUnit;
use super::query::{self, Unit, UnitFilter};
use crate::access::{Access, Permission};
use crate::db::schema::{members, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// Unit kinds (SPEC glossary "unit"): `(key, Chinese, English)`. Coverage (SPEC C3) counts
/// `non_public_enterprise` and `social_organization` (两新组织).
pub const UNIT_KINDS: crate::kind::Choices = crate::import::spec::UNIT_KINDS;

/// Why a unit was retired.
pub const RETIRE_REASONS: crate::kind::Choices = &[
    ("deregistered", "注销", "deregistered"),
    ("merged", "合并", "merged into another unit"),
    ("moved_away", "迁出本县", "moved out of the county"),
    ("entered_in_error", "误录", "entered in error"),
];

/// The unit kind.
pub struct Units;

impl Kind for Units {
    type New = NewUnit;
    type Record = Unit;

    const DESC: Desc = Desc {
        id: KindId::Units,
        key: "units",
        entity: "unit",
        fields: &[
            Field::new("name", Ty::Name, true)
                .aliases(&["名称", "单位", "unit_name"])
                .noted(),
            Field::new("kind", Ty::Choice(UNIT_KINDS), true).aliases(&["类型", "单位类别", "type"]),
            Field::new("credit_code", Ty::Code, false)
                .aliases(&["信用代码", "社会信用代码", "unified social credit code", "uscc"])
                .noted(),
            Field::new("division", Ty::Division(&[Level::Town, Level::Village]), true)
                .aliases(&[
                    "所在村(社区)代码",
                    "区划代码",
                    "所在地代码",
                    "村代码",
                    "所在地",
                    "division_code",
                    "village_code",
                ])
                .noted(),
            Field::new("address", Ty::Text, false).aliases(&["详细地址", "单位地址"]),
            Field::new("lon", Ty::Decimal, false)
                .aliases(&["longitude", "经度(WGS-84)"])
                .noted(),
            Field::new("lat", Ty::Decimal, false)
                .aliases(&["latitude", "纬度(WGS-84)"])
                .noted(),
            Field::new("headcount", Ty::Count, false).aliases(&["职工人数", "人数", "员工人数", "employees"]),
            Field::new("party_member_count", Ty::Count, false)
                .aliases(&["党员数", "党员人数(人)"])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Units, "id")),
            Column::new("kind", Show::Choice(UNIT_KINDS)),
            Column::new("credit_code", Show::Code),
            Column::detail("credit_code_unverified", Show::Bool),
            Column::new("division_code", Show::Place),
            Column::detail("address", Show::Text),
            Column::detail("lon", Show::Decimal(6)),
            Column::detail("lat", Show::Decimal(6)),
            Column::new("headcount", Show::Int),
            Column::new("party_member_count", Show::Int),
            Column::new("registered_members", Show::Int),
            Column::new("org_covered", Show::Bool),
            Column::new("work_covered", Show::Bool),
        ],
        natural_key: &["credit_code"],
        filters: &[
            Filter::Choice("kind", UNIT_KINDS),
            Filter::Under,
            Filter::Text,
            Filter::Flag("uncovered"),
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Keep(RETIRE_REASONS),
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewUnit>> {
        let name = v.name("name");
        let kind = v.choice("kind");
        let (credit_code, unverified) = match v.code("credit_code") {
            None => (None, false),
            Some(c) => match CreditCode::parse(&c) {
                Err(e) => {
                    v.error("credit_code", &c, e.key(), e.to_string());
                    (None, false)
                }
                Ok(code) => match code.verify() {
                    Ok(()) => (Some(code.as_str().to_string()), false),
                    Err(e) => {
                        v.warn(
                            "credit_code",
                            &c,
                            "credit-code-unverified",
                            format!("{e}; accepted as an early pilot code — check it against the licence"),
                        );
                        (Some(code.as_str().to_string()), true)
                    }
                },
            },
        };
        let division = v.division("division", cx.divisions()?, &[Level::Town, Level::Village]);
        if division.is_none() && v.is_empty("division") && !v.is_excel_error("division") {
            v.required("division");
        }
        if let Some(d) = &division {
            v.in_scope("division", cx.access, d);
        }
        let lon = v.decimal("lon");
        let lat = v.decimal("lat");
        let point = match (lon, lat) {
            (Some(lon), Some(lat)) if in_china(LonLat { lon, lat }) => Some((lon, lat)),
            (Some(lon), Some(lat)) => {
                v.error(
                    "lon",
                    &format!("{lon}, {lat}"),
                    "point-outside-china",
                    "the point (WGS-84 longitude, latitude) is not in China; check the order and the numbers",
                );
                None
            }
            (None, None) => None,
            _ if v.failed() => None,
            _ => {
                v.error(
                    "lon",
                    "",
                    "point-unpaired",
                    "give both longitude and latitude, or neither",
                );
                None
            }
        };
        let headcount = v.count("headcount");
        let party_member_count = v.count("party_member_count");
        let address = v.text("address");
        if v.failed() {
            return Ok(None);
        }
        let (Some(name), Some(kind), Some(division_code)) = (name, kind, division) else {
            return Ok(None);
        };
        let at = cx.clock.now();
        Ok(Some(NewUnit {
            name,
            kind: kind.into(),
            credit_code,
            credit_code_unverified: unverified,
            division_code,
            address,
            lon: point.map(|p| p.0),
            lat: point.map(|p| p.1),
            headcount,
            party_member_count,
            illustrative: cx.illustrative,
            created_at: at,
            updated_at: at,
        }))
    }

    fn illustrative(n: &NewUnit) -> bool {
        n.illustrative
    }

    fn key(n: &NewUnit) -> String {
        match &n.credit_code {
            Some(c) => c.clone(),
            None => format!("{}\u{1f}{}", n.name, n.division_code),
        }
    }

    fn area(n: &NewUnit) -> String {
        n.division_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewUnit]) -> DbResult<Vec<Option<Stored<NewUnit>>>> {
        let ix = cx.units()?;
        let ids: Vec<Option<i64>> = news
            .iter()
            .map(|u| {
                let by_name = || {
                    ix.by_name_division
                        .get(&(u.name.clone(), u.division_code.clone()))
                        .copied()
                };
                match &u.credit_code {
                    Some(c) => ix
                        .by_credit_code
                        .get(c)
                        .copied()
                        .or_else(|| by_name().filter(|id| !ix.coded.contains(id))),
                    None => by_name(),
                }
            })
            .collect();
        let wanted: Vec<i64> = ids.iter().flatten().copied().collect();
        let rows = load(cx.conn, &wanted)?;
        Ok(ids
            .into_iter()
            .map(|id| {
                id.and_then(|id| {
                    rows.get(&id).map(|n| Stored {
                        id: id.to_string(),
                        new: n.clone(),
                    })
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewUnit>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(load(cx.conn, &[id])?
            .remove(&id)
            .filter(|u| cx.access.sees_code(&u.division_code)))
    }

    fn same(a: &NewUnit, b: &NewUnit) -> bool {
        a.name == b.name
            && a.kind == b.kind
            && a.credit_code == b.credit_code
            && a.division_code == b.division_code
            && a.address == b.address
            && a.lon == b.lon
            && a.lat == b.lat
            && a.headcount == b.headcount
            && a.party_member_count == b.party_member_count
    }

    fn values(_cx: &mut Cx, n: &NewUnit) -> DbResult<Raw> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        Ok(Raw::of([
            ("name", n.name.clone()),
            ("kind", n.kind.clone()),
            ("credit_code", opt(n.credit_code.clone())),
            ("division", n.division_code.clone()),
            ("address", n.address.clone()),
            ("lon", opt(n.lon.map(|v| v.to_string()))),
            ("lat", opt(n.lat.map(|v| v.to_string()))),
            ("headcount", opt(n.headcount.map(|v| v.to_string()))),
            ("party_member_count", opt(n.party_member_count.map(|v| v.to_string()))),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewUnit]) -> DbResult<Vec<String>> {
        let ids = crate::insert_returning_ids!(conn, units::table, units::id, rows, 1_000);
        Ok(ids.into_iter().map(|i| i.to_string()).collect())
    }

    fn update(conn: &mut DbConn, id: &str, u: &NewUnit) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        let before: Option<String> = units::table
            .find(id)
            .select(units::division_code)
            .first(conn)
            .optional()?;
        if before.as_deref().is_some_and(|b| b != u.division_code) {
            // Organizations hosted by a unit are where the unit is; their members follow.
            let hosted: Vec<i64> = party_orgs::table
                .filter(party_orgs::unit_id.eq(id))
                .select(party_orgs::id)
                .load(conn)?;
            diesel::update(party_orgs::table.filter(party_orgs::id.eq_any(&hosted)))
                .set(party_orgs::division_code.eq(&u.division_code))
                .execute(conn)?;
            diesel::update(members::table.filter(members::party_org_id.eq_any(&hosted)))
                .set(members::division_code.eq(&u.division_code))
                .execute(conn)?;
        }
        diesel::update(units::table.find(id))
            .set((
                units::name.eq(&u.name),
                units::kind.eq(&u.kind),
                units::credit_code.eq(&u.credit_code),
                units::credit_code_unverified.eq(u.credit_code_unverified),
                units::division_code.eq(&u.division_code),
                units::address.eq(&u.address),
                units::lon.eq(u.lon),
                units::lat.eq(u.lat),
                units::headcount.eq(u.headcount),
                units::party_member_count.eq(u.party_member_count),
                units::illustrative.eq(u.illustrative),
                units::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, how: &RetireInput) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let n = diesel::update(units::table.find(id).filter(units::retired_on.is_null()))
            .set((
                units::retired_on.eq(how.date.unwrap_or_else(|| cx.today())),
                units::retire_reason.eq(&how.reason),
                units::updated_at.eq(cx.clock.now()),
            ))
            .execute(cx.conn)?;
        Ok(n == 1)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let hosts: i64 = party_orgs::table
            .filter(party_orgs::unit_id.eq(id))
            .count()
            .get_result(conn)?;
        let covered: i64 = party_org_units::table
            .filter(party_org_units::unit_id.eq(id))
            .count()
            .get_result(conn)?;
        let employs: i64 = members::table
            .filter(members::employer_unit_id.eq(id))
            .count()
            .get_result(conn)?;
        if hosts + covered + employs > 0 {
            return Ok(false);
        }
        // Other kinds refer to units through foreign keys; the database refuses the delete then.
        Ok(diesel::delete(units::table.find(id))
            .execute(conn)
            .is_ok_and(|n| n == 1))
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Unit>> {
        let filter = UnitFilter {
            kind: q.value("kind").map(str::to_string),
            under: q.under.clone(),
            q: q.q.clone(),
            uncovered: q.flag("uncovered").then_some(true),
            retired: q.retired,
        };
        let (items, total) = query::units(conn, access, &filter, q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Unit>> {
        match id.parse::<i64>() {
            Ok(id) => query::unit(conn, access, id),
            Err(_) => Ok(None),
        }
    }
}

/// Stored units by id, as stored.
fn load(conn: &mut DbConn, ids: &[i64]) -> DbResult<HashMap<i64, NewUnit>> {
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(1_000) {
        let rows: Vec<(i64, NewUnit)> = units::table
            .filter(units::id.eq_any(part))
            .select((units::id, NewUnit::as_select()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
