//! Dispatch batches (选派批次, SPEC C7) as a record kind ([`crate::kind`]): created and edited
//! through the generic forms (`/dispatch/new`, `/dispatch/{id}/edit`), the API
//! (`/api/v1/dispatch`) and the command line (`ringline dispatch add …`), one check for all. The
//! batch page with its plan, runs, pins and confirmation stays in [`super::batch`].
//!
//! Natural key: the name. Scope key: the county; a batch is read by whoever sees the county and
//! written only by a scope covering it as a whole ([`Access::covers_county`]). A confirmed batch
//! no longer changes ([`Kind::frozen`]); a draft may be deleted with its rules and plan. Changing
//! a draft's settings keeps its last plan, marked out of date until it is run again.
//!
//! Empty settings take the defaults (20–30 pairs, one cadre per village, 24-month terms, 10
//! points per priority point, 5 for twinning); the young age limit, when the field is absent,
//! is the configured one ([`super::young_max_age`]), and when given empty means any age.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use diesel::prelude::*;
use ringline_core::division::Level;

use super::batch::{self, Batch};
use crate::access::{Access, Permission, Scope};
use crate::db::schema::{batch_pairs, batch_rules, dispatch_batches};
use crate::db::{DbConn, DbResult, now};
use crate::kind::{
    Choices, Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show,
    Stored, Ty, Values,
};

/// A batch's status.
pub const BATCH_STATUSES: Choices = &[
    (batch::DRAFT, "草稿", "draft"),
    (batch::CONFIRMED, "已确认", "confirmed"),
];

/// A checked batch: its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchNew {
    /// Name, unique.
    pub name: String,
    /// The county (12 digits).
    pub county_code: String,
    /// Ages are computed on this date; residencies start on it.
    pub reference_date: NaiveDate,
    /// Smallest number of pairs.
    pub min_size: i32,
    /// Largest number of pairs.
    pub max_size: i32,
    /// Most cadres per village.
    pub per_village: i32,
    /// Young age limit; `None`: any age.
    pub young_max_age: Option<i32>,
    /// Residency length in months.
    pub term_months: i32,
    /// Points per priority point of a matched need.
    pub per_priority_point: i32,
    /// Points for twinning.
    pub twinning_bonus: i32,
    /// Generated for the demo.
    pub illustrative: bool,
    /// Confirmed (stored batches only): no more changes.
    pub confirmed: bool,
}

/// The county a scope is, when it is one (a county administrator's default county).
fn own_county(access: &Access) -> Option<String> {
    match &access.scope {
        Scope::Division(c) if c.level() == Level::County => Some(c.as_str().to_string()),
        _ => None,
    }
}

/// A whole number setting: the default when empty, else within `range` (else `rule`).
fn setting(
    v: &mut Values,
    key: &str,
    default: i32,
    range: RangeInclusive<i32>,
    rule: &'static str,
    message: &str,
) -> Option<i32> {
    if v.is_empty(key) && !v.is_excel_error(key) {
        return Some(default);
    }
    match v.integer(key) {
        Some(n) if range.contains(&n) => Some(n),
        Some(n) => {
            v.error(key, &n.to_string(), rule, message.to_string());
            v.args(vec![
                ("min", range.start().to_string()),
                ("max", range.end().to_string()),
            ]);
            None
        }
        None => None,
    }
}

/// Stored batches by id: (name, settings).
type BatchColumns = (
    i64,
    String,
    String,
    NaiveDate,
    i32,
    i32,
    i32,
    Option<i32>,
    i32,
    i32,
    i32,
    bool,
    Option<chrono::NaiveDateTime>,
);

fn batch_new(r: BatchColumns) -> (i64, BatchNew) {
    (
        r.0,
        BatchNew {
            name: r.1,
            county_code: r.2,
            reference_date: r.3,
            min_size: r.4,
            max_size: r.5,
            per_village: r.6,
            young_max_age: r.7,
            term_months: r.8,
            per_priority_point: r.9,
            twinning_bonus: r.10,
            illustrative: r.11,
            confirmed: r.12.is_some(),
        },
    )
}

fn select_batches(conn: &mut DbConn, ids: Option<&[i64]>, names: Option<&[String]>) -> DbResult<Vec<(i64, BatchNew)>> {
    let mut q = dispatch_batches::table
        .select((
            dispatch_batches::id,
            dispatch_batches::name,
            dispatch_batches::county_code,
            dispatch_batches::reference_date,
            dispatch_batches::min_size,
            dispatch_batches::max_size,
            dispatch_batches::per_village,
            dispatch_batches::young_max_age,
            dispatch_batches::term_months,
            dispatch_batches::per_priority_point,
            dispatch_batches::twinning_bonus,
            dispatch_batches::illustrative,
            dispatch_batches::confirmed_at,
        ))
        .into_boxed();
    if let Some(ids) = ids {
        q = q.filter(dispatch_batches::id.eq_any(ids.to_vec()));
    }
    if let Some(names) = names {
        q = q.filter(dispatch_batches::name.eq_any(names.to_vec()));
    }
    Ok(q.load::<BatchColumns>(conn)?.into_iter().map(batch_new).collect())
}

/// A batch as a reader sees it: the county's code withheld from a scope within it (a town, a
/// zone), which names the county but holds none of its county-level records.
fn redact(access: &Access, mut b: Batch) -> Batch {
    if !access.sees_code(&b.county_code) {
        b.county_code = String::new();
    }
    b
}

/// The dispatch batch kind.
pub struct Batches;

impl Kind for Batches {
    type New = BatchNew;
    type Record = Batch;

    const DESC: Desc = Desc {
        id: KindId::Batches,
        key: "dispatch",
        entity: "dispatch_batch",
        fields: &[
            Field::new("name", Ty::Name, true).noted(),
            Field::new("county", Ty::Division(&[Level::County]), true).noted(),
            Field::new("reference_date", Ty::Date, true).noted(),
            Field::new("min_size", Ty::Count, false),
            Field::new("max_size", Ty::Count, false).noted(),
            Field::new("per_village", Ty::Count, false),
            Field::new("young_max_age", Ty::Count, false).noted(),
            Field::new("term_months", Ty::Count, false),
            Field::new("per_priority_point", Ty::Integer, false).noted(),
            Field::new("twinning_bonus", Ty::Integer, false).noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Batches, "id")),
            Column::new("county_name", Show::Text),
            Column::new("status", Show::Choice(BATCH_STATUSES)),
            Column::new("reference_date", Show::Date),
            Column::new("min_size", Show::Int),
            Column::new("max_size", Show::Int),
            Column::detail("per_village", Show::Int),
            Column::new("young_max_age", Show::Int),
            Column::detail("term_months", Show::Int),
            Column::detail("per_priority_point", Show::Int),
            Column::detail("twinning_bonus", Show::Int),
            Column::new("pairs", Show::Int),
            Column::new("total_score", Show::Int),
            Column::new("plan_outdated", Show::Bool),
            Column::detail("confirmed_at", Show::Text),
            Column::detail("created_by", Show::Text),
        ],
        natural_key: &["name"],
        filters: &[Filter::Choice("status", BATCH_STATUSES), Filter::Text],
        perms: Perms {
            write: Permission::Dispatch,
            retire: Permission::Dispatch,
        },
        retire: Retire::Delete,
        importable: false,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<BatchNew>> {
        let name = v.name("name");
        let county = if v.is_empty("county") && !v.is_excel_error("county") {
            let own = own_county(cx.access);
            if own.is_none() {
                v.required("county");
            }
            own
        } else {
            v.division("county", cx.divisions()?, &[Level::County])
        };
        if let Some(c) = &county
            && !cx.access.covers_county(c)
        {
            let raw = v.raw("county").to_string();
            v.error(
                "county",
                &raw,
                "dispatch-batch-county",
                "a batch is planned by a scope covering its whole county; choose your county",
            );
        }
        let reference_date = v.date("reference_date");
        if reference_date.is_none() && v.is_empty("reference_date") && !v.is_excel_error("reference_date") {
            v.required("reference_date");
        }
        let sizes = "a batch has 0 to 10,000 pairs";
        let min_size = setting(v, "min_size", 20, 0..=10_000, "dispatch-size-range", sizes);
        let max_size = setting(v, "max_size", 30, 0..=10_000, "dispatch-size-range", sizes);
        if let (Some(min), Some(max)) = (min_size, max_size)
            && min > max
        {
            let raw = v.raw("max_size").to_string();
            v.error(
                "max_size",
                &raw,
                "dispatch-size-range",
                format!("the batch size range {min}–{max} is not valid: the minimum may not exceed the maximum"),
            );
            v.args(vec![("min", min.to_string()), ("max", max.to_string())]);
        }
        let per_village = setting(
            v,
            "per_village",
            1,
            1..=100,
            "dispatch-per-village",
            "cadres per village: give a number from 1 to 100",
        );
        let young_max_age = if !v.has("young_max_age") {
            Some(Some(i32::try_from(super::young_max_age()).unwrap_or(40)))
        } else if v.is_empty("young_max_age") && !v.is_excel_error("young_max_age") {
            Some(None)
        } else {
            match v.integer("young_max_age") {
                Some(a) if (18..=70).contains(&a) => Some(Some(a)),
                Some(a) => {
                    v.error(
                        "young_max_age",
                        &a.to_string(),
                        "dispatch-young-max-age",
                        "the young age limit is between 18 and 70 years (leave it empty for any age)",
                    );
                    None
                }
                None => None,
            }
        };
        let term_months = setting(
            v,
            "term_months",
            i32::try_from(batch::DEFAULT_TERM_MONTHS).unwrap_or(24),
            1..=120,
            "dispatch-term",
            "the term is between 1 and 120 months",
        );
        let weights = "score weights are between -1000 and 1000 points";
        let per_priority_point = setting(
            v,
            "per_priority_point",
            batch::DEFAULT_PER_PRIORITY_POINT,
            -1000..=1000,
            "dispatch-weights",
            weights,
        );
        let twinning_bonus = setting(
            v,
            "twinning_bonus",
            batch::DEFAULT_TWINNING_BONUS,
            -1000..=1000,
            "dispatch-weights",
            weights,
        );
        if v.failed() {
            return Ok(None);
        }
        let (
            Some(name),
            Some(county_code),
            Some(reference_date),
            Some(min_size),
            Some(max_size),
            Some(per_village),
            Some(young_max_age),
            Some(term_months),
            Some(per_priority_point),
            Some(twinning_bonus),
        ) = (
            name,
            county,
            reference_date,
            min_size,
            max_size,
            per_village,
            young_max_age,
            term_months,
            per_priority_point,
            twinning_bonus,
        )
        else {
            return Ok(None);
        };
        Ok(Some(BatchNew {
            name,
            county_code,
            reference_date,
            min_size,
            max_size,
            per_village,
            young_max_age,
            term_months,
            per_priority_point,
            twinning_bonus,
            illustrative: cx.illustrative,
            confirmed: false,
        }))
    }

    fn frozen(n: &BatchNew) -> Option<(&'static str, String)> {
        n.confirmed.then(|| {
            (
                "dispatch-batch-confirmed",
                "the batch is confirmed; its plan and rules can no longer change".to_string(),
            )
        })
    }

    fn defaults(cx: &mut Cx) -> DbResult<Raw> {
        Ok(Raw::of([
            ("county", own_county(cx.access).unwrap_or_default()),
            ("min_size", batch::DEFAULT_MIN_SIZE.to_string()),
            ("max_size", batch::DEFAULT_MAX_SIZE.to_string()),
            ("per_village", "1".to_string()),
            ("young_max_age", super::young_max_age().to_string()),
            ("term_months", batch::DEFAULT_TERM_MONTHS.to_string()),
            ("per_priority_point", batch::DEFAULT_PER_PRIORITY_POINT.to_string()),
            ("twinning_bonus", batch::DEFAULT_TWINNING_BONUS.to_string()),
        ]))
    }

    fn key(n: &BatchNew) -> String {
        n.name.clone()
    }

    fn area(n: &BatchNew) -> String {
        n.county_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&BatchNew]) -> DbResult<Vec<Option<Stored<BatchNew>>>> {
        let names: Vec<String> = news.iter().map(|n| n.name.clone()).collect();
        let found = select_batches(cx.conn, None, Some(&names))?;
        Ok(news
            .iter()
            .map(|n| {
                found.iter().find(|(_, b)| b.name == n.name).map(|(id, b)| Stored {
                    id: id.to_string(),
                    new: b.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<BatchNew>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        // Acting on a batch needs a scope covering its county (module docs).
        Ok(select_batches(cx.conn, Some(&[id]), None)?
            .pop()
            .map(|(_, b)| b)
            .filter(|b| cx.access.covers_county(&b.county_code)))
    }

    fn illustrative(n: &BatchNew) -> bool {
        n.illustrative
    }

    fn same(a: &BatchNew, b: &BatchNew) -> bool {
        a.name == b.name
            && a.county_code == b.county_code
            && a.reference_date == b.reference_date
            && a.min_size == b.min_size
            && a.max_size == b.max_size
            && a.per_village == b.per_village
            && a.young_max_age == b.young_max_age
            && a.term_months == b.term_months
            && a.per_priority_point == b.per_priority_point
            && a.twinning_bonus == b.twinning_bonus
    }

    fn values(_cx: &mut Cx, n: &BatchNew) -> DbResult<Raw> {
        Ok(Raw::of([
            ("name", n.name.clone()),
            ("county", n.county_code.clone()),
            ("reference_date", n.reference_date.to_string()),
            ("min_size", n.min_size.to_string()),
            ("max_size", n.max_size.to_string()),
            ("per_village", n.per_village.to_string()),
            (
                "young_max_age",
                n.young_max_age.map(|a| a.to_string()).unwrap_or_default(),
            ),
            ("term_months", n.term_months.to_string()),
            ("per_priority_point", n.per_priority_point.to_string()),
            ("twinning_bonus", n.twinning_bonus.to_string()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[BatchNew]) -> DbResult<Vec<String>> {
        let mut ids = Vec::with_capacity(rows.len());
        for b in rows {
            let id: i64 = diesel::insert_into(dispatch_batches::table)
                .values((
                    dispatch_batches::name.eq(&b.name),
                    dispatch_batches::county_code.eq(&b.county_code),
                    dispatch_batches::min_size.eq(b.min_size),
                    dispatch_batches::max_size.eq(b.max_size),
                    dispatch_batches::per_village.eq(b.per_village),
                    dispatch_batches::young_max_age.eq(b.young_max_age),
                    dispatch_batches::reference_date.eq(b.reference_date),
                    dispatch_batches::term_months.eq(b.term_months),
                    dispatch_batches::per_priority_point.eq(b.per_priority_point),
                    dispatch_batches::twinning_bonus.eq(b.twinning_bonus),
                    dispatch_batches::illustrative.eq(b.illustrative),
                    dispatch_batches::created_at.eq(now()),
                ))
                .returning(dispatch_batches::id)
                .get_result(conn)?;
            ids.push(id.to_string());
        }
        Ok(ids)
    }

    /// Writes the settings; the last plan is kept, marked out of date (run it again), except
    /// when the county changed: then the rules and plan, which name the old county's cadres
    /// and villages, are removed. A demo batch made real with the same settings keeps its plan
    /// as it is.
    fn update(conn: &mut DbConn, id: &str, b: &BatchNew) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        let Some((_, before)) = select_batches(conn, Some(&[id]), None)?.into_iter().next() else {
            return Ok(());
        };
        if before.county_code != b.county_code {
            diesel::delete(batch_rules::table.filter(batch_rules::batch_id.eq(id))).execute(conn)?;
            diesel::delete(batch_pairs::table.filter(batch_pairs::batch_id.eq(id))).execute(conn)?;
        }
        diesel::update(dispatch_batches::table.find(id))
            .set((
                dispatch_batches::name.eq(&b.name),
                dispatch_batches::county_code.eq(&b.county_code),
                dispatch_batches::min_size.eq(b.min_size),
                dispatch_batches::max_size.eq(b.max_size),
                dispatch_batches::per_village.eq(b.per_village),
                dispatch_batches::young_max_age.eq(b.young_max_age),
                dispatch_batches::reference_date.eq(b.reference_date),
                dispatch_batches::term_months.eq(b.term_months),
                dispatch_batches::per_priority_point.eq(b.per_priority_point),
                dispatch_batches::twinning_bonus.eq(b.twinning_bonus),
                dispatch_batches::illustrative.eq(b.illustrative),
            ))
            .execute(conn)?;
        if !Batches::same(&before, b) {
            batch::mark_outdated(conn, id)?;
        }
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, _how: &RetireInput) -> DbResult<bool> {
        Batches::remove(cx.conn, id)
    }

    /// Deletes a draft batch with its rules and plan; a confirmed one stays (`Ok(false)`).
    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let confirmed: Option<Option<chrono::NaiveDateTime>> = dispatch_batches::table
            .find(id)
            .select(dispatch_batches::confirmed_at)
            .first(conn)
            .optional()?;
        if !matches!(confirmed, Some(None)) {
            return Ok(false);
        }
        diesel::delete(batch_rules::table.filter(batch_rules::batch_id.eq(id))).execute(conn)?;
        diesel::delete(batch_pairs::table.filter(batch_pairs::batch_id.eq(id))).execute(conn)?;
        Ok(diesel::delete(dispatch_batches::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Batch>> {
        let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let all: Vec<Batch> = batch::batches(conn, access)?
            .into_iter()
            .filter(|b| q.value("status").is_none_or(|s| b.status == s))
            .filter(|b| text.is_none_or(|t| b.name.contains(t)))
            .map(|b| redact(access, b))
            .collect();
        let total = all.len() as i64;
        Ok(Page {
            items: all
                .into_iter()
                .skip(usize::try_from(q.offset).unwrap_or(0))
                .take(usize::try_from(q.limit).unwrap_or(0))
                .collect(),
            total,
        })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Batch>> {
        match id.parse::<i64>() {
            Ok(id) => Ok(batch::batch(conn, access, id)?.map(|b| redact(access, b))),
            Err(_) => Ok(None),
        }
    }
}
