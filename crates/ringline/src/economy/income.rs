//! Collective income (村集体经济收入, SPEC C5) and income targets as record kinds: one record per
//! village, year and source of income, and one target per village and year. Natural keys:
//! village + year + source, village + year. Scope key: the village. Years and amounts follow
//! [`super::rules`]: income is reported for years that have begun, targets may lie ahead within
//! the program. A source is written by its key, its Chinese or English name or a common short
//! form (经营, 发包, 补贴收入 …). Both are retired by deletion (the audit log and the undo record
//! keep the values).

use std::collections::HashMap;
use std::str::FromStr;

use diesel::prelude::*;
use ringline_core::cell;

use super::product::VILLAGE;
use super::query::{self, IncomeRecord, RowFilter, TargetRecord};
use super::rules::{self, By, yuan_text};
use super::write::{self, NewIncome, NewTarget};
use super::{Cny, INCOME_SOURCES, IncomeSource};
use crate::access::{Access, Permission};
use crate::db::schema::{collective_income, income_targets};
use crate::db::{DbConn, DbResult};
use crate::kind::{
    Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show, Stored, Ty,
    Values,
};

/// The collective income kind: one source of a village's income in a year.
pub struct Income;

/// The income target kind.
pub struct Targets;

/// The income source as typed: a name [`IncomeSource`] parses (key, Chinese name or short
/// form), else a label of the choices in either language.
fn source(v: &mut Values) -> Option<IncomeSource> {
    if v.is_empty("source") {
        v.required("source");
        return None;
    }
    let typed = v.clean("source");
    if let Ok(s) = IncomeSource::from_str(&typed) {
        return Some(s);
    }
    if let Ok(key) = cell::choice(&typed, INCOME_SOURCES)
        && let Ok(s) = IncomeSource::from_str(key)
    {
        return Some(s);
    }
    let allowed = INCOME_SOURCES.iter().map(|c| c.1).collect::<Vec<_>>().join("、");
    v.error(
        "source",
        &typed,
        "income-source-unknown",
        format!("{typed:?} is not an income source; use one of: {allowed}"),
    );
    v.args(vec![("allowed", allowed)]);
    None
}

fn id_of(id: &str) -> Option<i64> {
    id.parse().ok()
}

impl Kind for Income {
    type New = NewIncome;
    type Record = IncomeRecord;

    const DESC: Desc = Desc {
        id: KindId::Income,
        key: "income",
        entity: "collective_income",
        fields: &[
            VILLAGE,
            Field::new("year", Ty::Year, true).aliases(&["年份"]).noted(),
            Field::new("source", Ty::Choice(INCOME_SOURCES), true)
                .aliases(&["来源", "收入项目", "收入类别"])
                .noted(),
            Field::new("amount", Ty::Amount, true)
                .aliases(&["收入金额", "金额", "收入", "amount_yuan"])
                .noted(),
        ],
        columns: &[
            Column::new("village_code", Show::Place),
            Column::new("year", Show::Int),
            Column::new("source", Show::Choice(INCOME_SOURCES)),
            Column::new("amount", Show::Fen),
        ],
        // The source first: a repeated row is marked there.
        natural_key: &["source", "village", "year"],
        filters: &[
            Filter::Under,
            Filter::Choice("source", INCOME_SOURCES),
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

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewIncome>> {
        let village = rules::village(v, cx, "village")?;
        let year = rules::program_year(v, cx, village.as_deref(), true)?;
        let source = source(v);
        let amount = rules::amount(v, "amount");
        if v.failed() {
            return Ok(None);
        }
        let (Some(village_code), Some(year), Some(source), Some(amount)) = (village, year, source, amount) else {
            return Ok(None);
        };
        Ok(Some(NewIncome {
            village_code,
            year,
            source,
            amount,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NewIncome) -> String {
        format!("{}\u{1f}{}\u{1f}{}", n.village_code, n.year, n.source.zh())
    }

    fn area(n: &NewIncome) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewIncome]) -> DbResult<Vec<Option<Stored<NewIncome>>>> {
        let mut villages: Vec<&str> = news.iter().map(|r| r.village_code.as_str()).collect();
        villages.sort_unstable();
        villages.dedup();
        let mut by_key: HashMap<(String, i32, IncomeSource), (i64, NewIncome)> = HashMap::new();
        for part in villages.chunks(1_000) {
            for (id, r) in load_income(cx.conn, By::Villages(part))? {
                by_key.insert((r.village_code.clone(), r.year, r.source), (id, r));
            }
        }
        Ok(news
            .iter()
            .map(|r| {
                by_key
                    .get(&(r.village_code.clone(), r.year, r.source))
                    .map(|(id, s)| Stored {
                        id: id.to_string(),
                        new: s.clone(),
                    })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewIncome>> {
        let Some(id) = id_of(id) else { return Ok(None) };
        Ok(load_income(cx.conn, By::Id(id))?
            .into_iter()
            .map(|(_, r)| r)
            .find(|r| cx.access.sees_code(&r.village_code)))
    }

    fn illustrative(n: &NewIncome) -> bool {
        n.illustrative
    }

    fn same(a: &NewIncome, b: &NewIncome) -> bool {
        a.village_code == b.village_code && a.year == b.year && a.source == b.source && a.amount == b.amount
    }

    fn values(_cx: &mut Cx, n: &NewIncome) -> DbResult<Raw> {
        Ok(Raw::of([
            ("village", n.village_code.clone()),
            ("year", n.year.to_string()),
            ("source", n.source.as_str().to_string()),
            ("amount", yuan_text(n.amount)),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewIncome]) -> DbResult<Vec<String>> {
        Ok(write::insert_income(conn, rows)?
            .into_iter()
            .map(|i| i.to_string())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NewIncome) -> DbResult<()> {
        match id_of(id) {
            Some(id) => write::update_income(conn, id, n),
            None => Ok(()),
        }
    }

    fn retire(_cx: &mut Cx, _id: &str, _how: &RetireInput) -> DbResult<bool> {
        // Retire::Delete: the driver calls `remove`.
        Ok(false)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Some(id) = id_of(id) else { return Ok(false) };
        Ok(diesel::delete(collective_income::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<IncomeRecord>> {
        let f = RowFilter {
            under: q.under.clone(),
            village: q.value("village").map(str::to_string),
            source: q.value("source").map(str::to_string),
            year: q.value("year").and_then(|y| y.parse().ok()),
            ..RowFilter::default()
        };
        let (items, total) = query::income_records(conn, access, &f, q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<IncomeRecord>> {
        let Some(id) = id_of(id) else { return Ok(None) };
        let f = RowFilter {
            id: Some(id),
            ..RowFilter::default()
        };
        Ok(query::income_records(conn, access, &f, 1, 0)?.0.into_iter().next())
    }
}

/// Stored income rows by id or village, as checked records with their ids.
fn load_income(conn: &mut DbConn, by: By<'_>) -> DbResult<Vec<(i64, NewIncome)>> {
    let q = collective_income::table.into_boxed();
    let q = match by {
        By::Id(id) => q.filter(collective_income::id.eq(id)),
        By::Villages(v) => q.filter(collective_income::village_code.eq_any(v)),
    };
    let rows: Vec<(i64, String, i32, String, i64, bool)> = q
        .select((
            collective_income::id,
            collective_income::village_code,
            collective_income::year,
            collective_income::source,
            collective_income::amount_fen,
            collective_income::illustrative,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, village_code, year, source, fen, illustrative)| {
            Some((
                id,
                NewIncome {
                    village_code,
                    year,
                    source: source.parse().ok()?,
                    amount: Cny::from_fen(fen).ok()?,
                    illustrative,
                },
            ))
        })
        .collect())
}

impl Kind for Targets {
    type New = NewTarget;
    type Record = TargetRecord;

    const DESC: Desc = Desc {
        id: KindId::Targets,
        key: "targets",
        entity: "income_target",
        fields: &[
            VILLAGE,
            Field::new("year", Ty::Year, true).aliases(&["年份"]).noted(),
            Field::new("target", Ty::Amount, true)
                .aliases(&["收入目标", "目标", "目标金额", "target_yuan"])
                .noted(),
        ],
        columns: &[
            Column::new("village_code", Show::Place),
            Column::new("year", Show::Int),
            Column::new("target", Show::Fen),
        ],
        // The year first: a repeated row is marked there.
        natural_key: &["year", "village"],
        filters: &[Filter::Under, Filter::Year("year"), Filter::Division("village")],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NewTarget>> {
        let village = rules::village(v, cx, "village")?;
        let year = rules::program_year(v, cx, village.as_deref(), false)?;
        let target = rules::amount(v, "target");
        if v.failed() {
            return Ok(None);
        }
        let (Some(village_code), Some(year), Some(target)) = (village, year, target) else {
            return Ok(None);
        };
        Ok(Some(NewTarget {
            village_code,
            year,
            target,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NewTarget) -> String {
        format!("{}\u{1f}{}", n.village_code, n.year)
    }

    fn area(n: &NewTarget) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NewTarget]) -> DbResult<Vec<Option<Stored<NewTarget>>>> {
        let mut villages: Vec<&str> = news.iter().map(|r| r.village_code.as_str()).collect();
        villages.sort_unstable();
        villages.dedup();
        let mut by_key: HashMap<(String, i32), (i64, NewTarget)> = HashMap::new();
        for part in villages.chunks(1_000) {
            for (id, t) in load_targets(cx.conn, By::Villages(part))? {
                by_key.insert((t.village_code.clone(), t.year), (id, t));
            }
        }
        Ok(news
            .iter()
            .map(|t| {
                by_key.get(&(t.village_code.clone(), t.year)).map(|(id, s)| Stored {
                    id: id.to_string(),
                    new: s.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NewTarget>> {
        let Some(id) = id_of(id) else { return Ok(None) };
        Ok(load_targets(cx.conn, By::Id(id))?
            .into_iter()
            .map(|(_, t)| t)
            .find(|t| cx.access.sees_code(&t.village_code)))
    }

    fn illustrative(n: &NewTarget) -> bool {
        n.illustrative
    }

    fn same(a: &NewTarget, b: &NewTarget) -> bool {
        a.village_code == b.village_code && a.year == b.year && a.target == b.target
    }

    fn values(_cx: &mut Cx, n: &NewTarget) -> DbResult<Raw> {
        Ok(Raw::of([
            ("village", n.village_code.clone()),
            ("year", n.year.to_string()),
            ("target", yuan_text(n.target)),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NewTarget]) -> DbResult<Vec<String>> {
        Ok(write::insert_targets(conn, rows)?
            .into_iter()
            .map(|i| i.to_string())
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NewTarget) -> DbResult<()> {
        match id_of(id) {
            Some(id) => write::update_target(conn, id, n),
            None => Ok(()),
        }
    }

    fn retire(_cx: &mut Cx, _id: &str, _how: &RetireInput) -> DbResult<bool> {
        // Retire::Delete: the driver calls `remove`.
        Ok(false)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Some(id) = id_of(id) else { return Ok(false) };
        Ok(diesel::delete(income_targets::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<TargetRecord>> {
        let f = RowFilter {
            under: q.under.clone(),
            village: q.value("village").map(str::to_string),
            year: q.value("year").and_then(|y| y.parse().ok()),
            ..RowFilter::default()
        };
        let (items, total) = query::target_records(conn, access, &f, q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<TargetRecord>> {
        let Some(id) = id_of(id) else { return Ok(None) };
        let f = RowFilter {
            id: Some(id),
            ..RowFilter::default()
        };
        Ok(query::target_records(conn, access, &f, 1, 0)?.0.into_iter().next())
    }
}

/// Stored targets by id or village, as checked records with their ids.
fn load_targets(conn: &mut DbConn, by: By<'_>) -> DbResult<Vec<(i64, NewTarget)>> {
    let q = income_targets::table.into_boxed();
    let q = match by {
        By::Id(id) => q.filter(income_targets::id.eq(id)),
        By::Villages(v) => q.filter(income_targets::village_code.eq_any(v)),
    };
    let rows: Vec<(i64, String, i32, i64, bool)> = q
        .select((
            income_targets::id,
            income_targets::village_code,
            income_targets::year,
            income_targets::target_fen,
            income_targets::illustrative,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, village_code, year, fen, illustrative)| {
            Some((
                id,
                NewTarget {
                    village_code,
                    year,
                    target: Cny::from_fen(fen).ok()?,
                    illustrative,
                },
            ))
        })
        .collect())
}
