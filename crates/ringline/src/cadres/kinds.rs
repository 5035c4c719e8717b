//! The roster, twinning pairs and village needs (SPEC C7) as record kinds ([`crate::kind`]): one
//! check each for an import row, a web form, an API body and the command line.
//!
//! | kind | natural key | scope key | retired |
//! |---|---|---|---|
//! | [`Cadres`] | the citizen ID number (personal data: held rows) | the source town, or the source unit's division | kept, with date and reason ([`CADRE_LEAVE_REASONS`]) |
//! | [`Twinning`] | village + unit | the village | deleted |
//! | [`Needs`] | skill + village | the village | deleted |
//!
//! References: a cadre's source is a unit (credit code or unique full name) or a town (12-digit
//! code or unique name); a twinned unit is a unit of the village's county; skills are keys,
//! labels or old labels of the editable skill list ([`super::SkillList`]), several separated by
//! `、`, `;`, `,` or `/` ([`Values::several`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::{DivisionCode, Level};
use ringline_core::id_number::Sex;
use serde::{Deserialize, Serialize};

use super::{AgeRule, Cadre, CadreFilter, Label, NewCadre, SkillList, TwinningPair};
use crate::access::{Access, Permission};
use crate::db::schema::{batch_pairs, batch_rules, cadre_skills, cadres, residencies, twinning, units, village_needs};
use crate::db::{DbConn, DbResult, now};
use crate::kind::{
    Choices, Column, Cx, Desc, Field, Filter, Kind, KindId, ListQuery, Page, Perms, Raw, Retire, RetireInput, Show,
    Stored, Ty, Values,
};
use crate::registry::query::{division_names, town_code_of};
use crate::registry::resolve_unit;

/// Why a cadre left the roster.
pub const CADRE_LEAVE_REASONS: Choices = &[
    ("transferred", "调离", "transferred to another post"),
    ("retired", "退休", "retired"),
    ("deceased", "去世", "deceased"),
    ("entered_in_error", "误录", "entered in error"),
];

/// Sex as derived from the ID number.
const SEXES: Choices = crate::import::spec::SEXES;

/// Reports a skill that is not on the list, naming the allowed labels.
fn unknown_skill(v: &mut Values, key: &str, typed: &str, allowed: String) {
    v.error(
        key,
        typed,
        "skill-unknown",
        format!("{typed:?} is not on the skill list; use one of: {allowed}"),
    );
    v.args(vec![("allowed", allowed)]);
}

/// The skill list of a check (loaded once per context).
fn skill_list(cx: &mut Cx) -> DbResult<SkillList> {
    Ok(cx.cached(SkillList::load)?.clone())
}

/// A required village among the active ones, in the caller's scope.
fn village(v: &mut Values, cx: &mut Cx, key: &str) -> DbResult<Option<String>> {
    let d = v.division(key, cx.divisions()?, &[Level::Village]);
    if d.is_none() && v.is_empty(key) && !v.is_excel_error(key) {
        v.required(key);
    }
    if let Some(c) = &d {
        v.in_scope(key, cx.access, c);
    }
    Ok(d)
}

/// A unit's credit code, else its name (what a person types for it).
fn unit_as_typed(conn: &mut DbConn, id: i64) -> DbResult<String> {
    let row: Option<(Option<String>, String)> = units::table
        .find(id)
        .select((units::credit_code, units::name))
        .first(conn)
        .optional()?;
    Ok(row.map(|(c, n)| c.unwrap_or(n)).unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Cadres

/// A checked cadre: the record and its skill keys, sorted (a held import row keeps it as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedCadre {
    /// The record.
    pub cadre: NewCadre,
    /// Skill keys.
    pub skills: Vec<String>,
}

/// The dispatched cadres kind (选派干部名册).
pub struct Cadres;

/// A cadre's source as typed: `(unit id, town code, scope key)`.
type Source = (Option<i64>, Option<String>, String);

impl Cadres {
    /// The cadre's source as typed.
    fn source(v: &mut Values, cx: &mut Cx) -> DbResult<Option<Source>> {
        let Some(typed) = v.required("source") else {
            return Ok(None);
        };
        // A town's division code.
        if let Ok(code) = cell::code(&typed)
            && let Ok(dc) = DivisionCode::parse(&code)
            && let Some(level) = cx.divisions()?.level.get(dc.as_str()).cloned()
        {
            if level == "town" {
                let c = dc.as_str().to_string();
                return Ok(Some((None, Some(c.clone()), c)));
            }
            v.error(
                "source",
                &typed,
                "division-wrong-level",
                format!(
                    "{} is a {level} code; a town code (or a unit) is needed here",
                    dc.as_str()
                ),
            );
            v.args(vec![("level", level), ("wanted", "town".into())]);
            return Ok(None);
        }
        // A unit by credit code or unique full name.
        let units = cx.units()?;
        match resolve_unit(units, &typed) {
            Ok(id) => {
                let division = units.division_of.get(&id).cloned().unwrap_or_default();
                return Ok(Some((Some(id), None, division)));
            }
            Err((n, m)) if n > 1 => {
                v.error("source", &typed, "unit-not-found", m);
                v.args(vec![("count", n.to_string())]);
                return Ok(None);
            }
            Err(_) => {}
        }
        // A town by unique name.
        let known = cx.divisions()?;
        let towns: Vec<String> = known
            .by_name
            .get(&cell::name(&typed))
            .map(|codes| {
                codes
                    .iter()
                    .filter(|c| known.level.get(*c).is_some_and(|l| l == "town"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        match towns.as_slice() {
            [code] => Ok(Some((None, Some(code.clone()), code.clone()))),
            found => {
                let n = found.len();
                v.error(
                    "source",
                    &typed,
                    "source-not-found",
                    if n == 0 {
                        format!(
                            "no registered unit and no town is named {typed:?}; give a unit's credit code or full name, or a town's 12-digit code"
                        )
                    } else {
                        format!("{n} towns are named {typed:?}; give the town's 12-digit code")
                    },
                );
                v.args(vec![("count", n.to_string())]);
                Ok(None)
            }
        }
    }
}

impl Kind for Cadres {
    type New = CheckedCadre;
    type Record = Cadre;

    const DESC: Desc = Desc {
        id: KindId::Cadres,
        key: "cadres",
        entity: "cadre",
        fields: &[
            Field::new("name", Ty::Name, true).aliases(&["干部姓名"]),
            Field::new("id_number", Ty::IdNumber, true)
                .aliases(&["身份证号码", "身份证号", "身份证", "证件号码", "id number", "id_card"])
                .noted(),
            Field::new("phone", Ty::Phone, false)
                .aliases(&["联系电话", "电话", "手机", "mobile"])
                .noted(),
            Field::new("source", Ty::Text, true)
                .aliases(&["选派单位", "所在单位", "工作单位", "source_unit"])
                .noted(),
            Field::new("skills", Ty::Multi, false)
                .aliases(&["特长", "技能", "专业特长"])
                .noted(),
            Field::new("home_village", Ty::Division(&[Level::Village]), false)
                .aliases(&["家乡村代码", "户籍村", "户籍所在村", "home village"])
                .noted(),
        ],
        columns: &[
            Column::new("name", Show::Link(KindId::Cadres, "id")),
            Column::new("birth_year", Show::Int),
            Column::new("source_name", Show::Text),
            Column::new("sex", Show::Choice(SEXES)),
            Column::new("age", Show::Int),
            Column::new("young", Show::Bool),
            Column::new("id_number", Show::Code),
            Column::detail("phone", Show::Code),
            Column::new("skill_labels", Show::List),
            Column::new("home_village_name", Show::Text),
            Column::new("residency_village", Show::Text),
            Column::new("residency_end", Show::Date),
            Column::detail("division_code", Show::Place),
            Column::detail("retired_on", Show::Date),
            Column::detail("retire_reason", Show::Choice(CADRE_LEAVE_REASONS)),
        ],
        natural_key: &["id_number"],
        filters: &[
            Filter::Text,
            Filter::Under,
            Filter::Flag("young"),
            Filter::Flag("available"),
        ],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Keep(CADRE_LEAVE_REASONS),
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<CheckedCadre>> {
        let today = cx.today();
        let name = v.name("name");
        let id = v.id_number("id_number", today);
        let phone = v.phone("phone");
        let source = Cadres::source(v, cx)?;
        if let Some((_, _, division)) = &source {
            v.in_scope("source", cx.access, division);
        }
        let list = skill_list(cx)?;
        let mut skills = Vec::new();
        for part in v.several("skills") {
            match list.resolve(&part) {
                Ok(k) => skills.push(k),
                Err(allowed) => unknown_skill(v, "skills", &part, allowed),
            }
        }
        skills.sort();
        skills.dedup();
        let home = if v.is_empty("home_village") {
            None
        } else {
            v.division("home_village", cx.divisions()?, &[Level::Village])
        };
        if v.failed() {
            return Ok(None);
        }
        let (Some(name), Some(id), Some((unit, town, division))) = (name, id, source) else {
            return Ok(None);
        };
        let (y, m, d) = id.birth_date();
        let Some(birth) = NaiveDate::from_ymd_opt(y, m, d) else {
            return Ok(None);
        };
        let at = cx.clock.now();
        Ok(Some(CheckedCadre {
            cadre: NewCadre {
                name,
                id_number: id.as_str().to_string(),
                sex: match id.sex() {
                    Sex::Male => "male",
                    Sex::Female => "female",
                }
                .into(),
                birth_date: birth,
                phone,
                source_unit_id: unit,
                source_town: town,
                home_village: home,
                division_code: division,
                illustrative: cx.illustrative,
                created_at: at,
                updated_at: at,
            },
            skills,
        }))
    }

    fn held_json(n: &CheckedCadre) -> Option<String> {
        serde_json::to_string(n).ok()
    }

    fn key(n: &CheckedCadre) -> String {
        n.cadre.id_number.clone()
    }

    fn area(n: &CheckedCadre) -> String {
        n.cadre.division_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&CheckedCadre]) -> DbResult<Vec<Option<Stored<CheckedCadre>>>> {
        let numbers: Vec<String> = news.iter().map(|c| c.cadre.id_number.clone()).collect();
        let found = load_by_numbers(cx.conn, &numbers)?;
        Ok(news
            .iter()
            .map(|c| {
                found.get(&c.cadre.id_number).map(|(id, n)| Stored {
                    id: id.to_string(),
                    new: n.clone(),
                })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<CheckedCadre>> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let retired: Option<Option<NaiveDate>> = cadres::table
            .find(id)
            .select(cadres::retired_on)
            .first(cx.conn)
            .optional()?;
        if !matches!(retired, Some(None)) {
            return Ok(None);
        }
        Ok(load_by_ids(cx.conn, &[id])?
            .remove(&id)
            .filter(|c| cx.access.sees_code(&c.cadre.division_code)))
    }

    fn illustrative(n: &CheckedCadre) -> bool {
        n.cadre.illustrative
    }

    fn same(a: &CheckedCadre, b: &CheckedCadre) -> bool {
        let (x, y) = (&a.cadre, &b.cadre);
        x.name == y.name
            && x.sex == y.sex
            && x.birth_date == y.birth_date
            && x.phone == y.phone
            && x.source_unit_id == y.source_unit_id
            && x.source_town == y.source_town
            && x.home_village == y.home_village
            && x.division_code == y.division_code
            && a.skills == b.skills
    }

    fn values(cx: &mut Cx, n: &CheckedCadre) -> DbResult<Raw> {
        let c = &n.cadre;
        let source = match (c.source_unit_id, &c.source_town) {
            (Some(u), _) => unit_as_typed(cx.conn, u)?,
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        };
        let list = skill_list(cx)?;
        let skills: Vec<String> = n.skills.iter().map(|k| list.label(k).zh).collect();
        Ok(Raw::of([
            ("name", c.name.clone()),
            ("id_number", c.id_number.clone()),
            ("phone", c.phone.clone().unwrap_or_default()),
            ("source", source),
            ("skills", skills.join("、")),
            ("home_village", c.home_village.clone().unwrap_or_default()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[CheckedCadre]) -> DbResult<Vec<String>> {
        let (news, skills): (Vec<NewCadre>, Vec<Vec<String>>) =
            rows.iter().map(|c| (c.cadre.clone(), c.skills.clone())).unzip();
        let ids = super::insert_cadres(conn, &news, &skills)?;
        Ok(ids.into_iter().map(|i| i.to_string()).collect())
    }

    fn update(conn: &mut DbConn, id: &str, c: &CheckedCadre) -> DbResult<()> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(());
        };
        let n = &c.cadre;
        diesel::update(cadres::table.find(id))
            .set((
                cadres::name.eq(&n.name),
                cadres::sex.eq(&n.sex),
                cadres::birth_date.eq(n.birth_date),
                cadres::phone.eq(&n.phone),
                cadres::source_unit_id.eq(n.source_unit_id),
                cadres::source_town.eq(&n.source_town),
                cadres::home_village.eq(&n.home_village),
                cadres::division_code.eq(&n.division_code),
                cadres::illustrative.eq(n.illustrative),
                cadres::updated_at.eq(now()),
            ))
            .execute(conn)?;
        super::replace_cadre_skills(conn, id, &c.skills)?;
        Ok(())
    }

    /// Keeps the cadre with the date and reason; refused (`Ok(false)`) while a residency of the
    /// cadre runs on that date: end or confirm the residency first.
    fn retire(cx: &mut Cx, id: &str, how: &RetireInput) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let on = how.date.unwrap_or_else(|| cx.today());
        let running: i64 = residencies::table
            .filter(residencies::cadre_id.eq(id))
            .filter(residencies::end_date.ge(on))
            .count()
            .get_result(cx.conn)?;
        if running > 0 {
            return Ok(false);
        }
        let n = diesel::update(cadres::table.find(id).filter(cadres::retired_on.is_null()))
            .set((
                cadres::retired_on.eq(on),
                cadres::retire_reason.eq(&how.reason),
                cadres::updated_at.eq(cx.clock.now()),
            ))
            .execute(cx.conn)?;
        Ok(n == 1)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        let stays: i64 = residencies::table
            .filter(residencies::cadre_id.eq(id))
            .count()
            .get_result(conn)?;
        let rules: i64 = batch_rules::table
            .filter(batch_rules::cadre_id.eq(id))
            .count()
            .get_result(conn)?;
        let planned: i64 = batch_pairs::table
            .filter(batch_pairs::cadre_id.eq(id))
            .count()
            .get_result(conn)?;
        if stays + rules + planned > 0 {
            return Ok(false);
        }
        diesel::delete(cadre_skills::table.filter(cadre_skills::cadre_id.eq(id))).execute(conn)?;
        Ok(diesel::delete(cadres::table.find(id)).execute(conn)? == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<Cadre>> {
        let filter = CadreFilter {
            under: q.under.clone(),
            q: q.q.clone(),
            young: q.flag("young").then_some(true),
            available: q.flag("available").then_some(true),
            retired: q.retired,
            ..CadreFilter::default()
        };
        let (items, total) = super::cadres(conn, access, &filter, AgeRule::today(), q.limit, q.offset)?;
        Ok(Page { items, total })
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<Cadre>> {
        match id.parse::<i64>() {
            Ok(id) => super::cadre(conn, access, id, AgeRule::today()),
            Err(_) => Ok(None),
        }
    }
}

type CadreColumns = (
    i64,
    String,
    String,
    String,
    NaiveDate,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    bool,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

/// Stored cadres (any scope, retired too) with their skills, by id.
fn load_by_ids(conn: &mut DbConn, ids: &[i64]) -> DbResult<HashMap<i64, CheckedCadre>> {
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(1_000) {
        let rows: Vec<CadreColumns> = cadres::table
            .filter(cadres::id.eq_any(part))
            .select((
                cadres::id,
                cadres::name,
                cadres::id_number,
                cadres::sex,
                cadres::birth_date,
                cadres::phone,
                cadres::source_unit_id,
                cadres::source_town,
                cadres::home_village,
                cadres::division_code,
                cadres::illustrative,
                cadres::created_at,
                cadres::updated_at,
            ))
            .load(conn)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let skills = super::skills_of(conn, &ids)?;
        for r in rows {
            out.insert(
                r.0,
                CheckedCadre {
                    skills: skills.get(&r.0).cloned().unwrap_or_default(),
                    cadre: NewCadre {
                        name: r.1,
                        id_number: r.2,
                        sex: r.3,
                        birth_date: r.4,
                        phone: r.5,
                        source_unit_id: r.6,
                        source_town: r.7,
                        home_village: r.8,
                        division_code: r.9,
                        illustrative: r.10,
                        created_at: r.11,
                        updated_at: r.12,
                    },
                },
            );
        }
    }
    Ok(out)
}

/// Stored cadres (any scope, retired too) with these ID numbers: number → (id, cadre).
pub(crate) fn load_by_numbers(conn: &mut DbConn, numbers: &[String]) -> DbResult<HashMap<String, (i64, CheckedCadre)>> {
    let mut ids = Vec::new();
    for part in numbers.chunks(1_000) {
        ids.extend(
            cadres::table
                .filter(cadres::id_number.eq_any(part))
                .select(cadres::id)
                .load::<i64>(conn)?,
        );
    }
    Ok(load_by_ids(conn, &ids)?
        .into_iter()
        .map(|(id, c)| (c.cadre.id_number.clone(), (id, c)))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Twinning

/// A checked twinning pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinNew {
    /// The unit.
    pub unit_id: i64,
    /// The village (12 digits).
    pub village_code: String,
    /// Generated for the demo.
    pub illustrative: bool,
}

/// The twinning kind (结对帮扶): a unit of the county paired with a village.
pub struct Twinning;

/// `UNIT-VILLAGE` → (unit id, village code).
fn twin_id(id: &str) -> Option<(i64, String)> {
    let (u, v) = id.split_once('-')?;
    Some((u.parse().ok()?, DivisionCode::parse(v).ok()?.as_str().to_string()))
}

fn twin_exists(conn: &mut DbConn, unit: i64, village: &str) -> DbResult<bool> {
    let n: i64 = twinning::table
        .filter(twinning::unit_id.eq(unit))
        .filter(twinning::village_code.eq(village))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

impl Kind for Twinning {
    type New = TwinNew;
    type Record = TwinningPair;

    const DESC: Desc = Desc {
        id: KindId::Twinning,
        key: "twinning",
        entity: "twinning",
        fields: &[
            Field::new("unit", Ty::Ref(KindId::Units), true)
                .aliases(&["帮扶单位", "结对帮扶单位", "unit_credit_code"])
                .noted(),
            Field::new("village", Ty::Division(&[Level::Village]), true)
                .aliases(&["结对村", "村代码", "village_code"])
                .noted(),
        ],
        columns: &[
            Column::new("unit_name", Show::Link(KindId::Units, "unit_link")),
            Column::new("unit_kind", Show::Choice(crate::import::spec::UNIT_KINDS)),
            Column::new("village_code", Show::Code),
            Column::new("village_name", Show::Text),
            Column::new("town_name", Show::Text),
        ],
        natural_key: &["village", "unit"],
        filters: &[Filter::Under, Filter::Text],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<TwinNew>> {
        let unit = match v.required("unit") {
            None => None,
            Some(typed) => match resolve_unit(cx.units()?, &typed) {
                Ok(id) => Some(id),
                Err((n, m)) => {
                    v.error("unit", &typed, "unit-not-found", m);
                    v.args(vec![("count", n.to_string())]);
                    None
                }
            },
        };
        let village = village(v, cx, "village")?;
        // A county unit: the twinning bonus of a batch counts the county's pairs only.
        if let (Some(u), Some(vc)) = (unit, &village) {
            let division = cx.units()?.division_of.get(&u).cloned().unwrap_or_default();
            if !super::in_county(&division, &format!("{}000000", &vc[..6])) {
                let typed = v.raw("unit").to_string();
                v.error(
                    "unit",
                    &typed,
                    "twinning-other-county",
                    "the unit lies outside the village's county; twin the village with a unit of its own county",
                );
            }
        }
        if v.failed() {
            return Ok(None);
        }
        let (Some(unit_id), Some(village_code)) = (unit, village) else {
            return Ok(None);
        };
        Ok(Some(TwinNew {
            unit_id,
            village_code,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &TwinNew) -> String {
        format!("{}\u{1f}{}", n.village_code, n.unit_id)
    }

    fn area(n: &TwinNew) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&TwinNew]) -> DbResult<Vec<Option<Stored<TwinNew>>>> {
        let mut out = Vec::with_capacity(news.len());
        for n in news {
            out.push(twin_exists(cx.conn, n.unit_id, &n.village_code)?.then(|| Stored {
                id: format!("{}-{}", n.unit_id, n.village_code),
                new: (*n).clone(),
            }));
        }
        Ok(out)
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<TwinNew>> {
        let Some((unit_id, village_code)) = twin_id(id) else {
            return Ok(None);
        };
        let illustrative: Option<bool> = twinning::table
            .filter(twinning::unit_id.eq(unit_id))
            .filter(twinning::village_code.eq(&village_code))
            .select(twinning::illustrative)
            .first(cx.conn)
            .optional()?;
        Ok(illustrative
            .filter(|_| cx.access.sees_code(&village_code))
            .map(|illustrative| TwinNew {
                unit_id,
                village_code,
                illustrative,
            }))
    }

    fn illustrative(n: &TwinNew) -> bool {
        n.illustrative
    }

    fn same(a: &TwinNew, b: &TwinNew) -> bool {
        a.unit_id == b.unit_id && a.village_code == b.village_code
    }

    fn values(cx: &mut Cx, n: &TwinNew) -> DbResult<Raw> {
        Ok(Raw::of([
            ("unit", unit_as_typed(cx.conn, n.unit_id)?),
            ("village", n.village_code.clone()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[TwinNew]) -> DbResult<Vec<String>> {
        let at = now();
        let values: Vec<_> = rows
            .iter()
            .map(|n| {
                (
                    twinning::unit_id.eq(n.unit_id),
                    twinning::village_code.eq(n.village_code.clone()),
                    twinning::illustrative.eq(n.illustrative),
                    twinning::created_at.eq(at),
                )
            })
            .collect();
        crate::insert_rows!(&mut *conn, twinning::table, &values, 1_000);
        Ok(rows
            .iter()
            .map(|n| format!("{}-{}", n.unit_id, n.village_code))
            .collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &TwinNew) -> DbResult<()> {
        let Some((unit_id, village_code)) = twin_id(id) else {
            return Ok(());
        };
        diesel::update(
            twinning::table
                .filter(twinning::unit_id.eq(unit_id))
                .filter(twinning::village_code.eq(&village_code)),
        )
        .set((
            twinning::unit_id.eq(n.unit_id),
            twinning::village_code.eq(&n.village_code),
            twinning::illustrative.eq(n.illustrative),
        ))
        .execute(conn)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, _how: &RetireInput) -> DbResult<bool> {
        Twinning::remove(cx.conn, id)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Some((unit_id, village_code)) = twin_id(id) else {
            return Ok(false);
        };
        let n = diesel::delete(
            twinning::table
                .filter(twinning::unit_id.eq(unit_id))
                .filter(twinning::village_code.eq(&village_code)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<TwinningPair>> {
        let mut all = super::twinning(conn, access, q.under.as_deref())?;
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            all.retain(|p| p.unit_name.contains(text) || p.village_name.as_deref().is_some_and(|n| n.contains(text)));
        }
        Ok(page_of(all, q))
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<TwinningPair>> {
        let Some((unit_id, village_code)) = twin_id(id) else {
            return Ok(None);
        };
        if !access.sees_code(&village_code) {
            return Ok(None);
        }
        Ok(super::twinning(conn, access, Some(&village_code))?
            .into_iter()
            .find(|p| p.unit_id == unit_id))
    }
}

/// One page of records already filtered in full.
fn page_of<T>(all: Vec<T>, q: &ListQuery) -> Page<T> {
    let total = all.len() as i64;
    let items = all
        .into_iter()
        .skip(usize::try_from(q.offset).unwrap_or(0))
        .take(usize::try_from(q.limit).unwrap_or(0))
        .collect();
    Page { items, total }
}

// ---------------------------------------------------------------------------------------------
// Village needs

/// A checked need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedNew {
    /// The village (12 digits).
    pub village_code: String,
    /// Skill key.
    pub skill: String,
    /// 1 (low) to 3 (most urgent).
    pub priority: i32,
    /// Generated for the demo.
    pub illustrative: bool,
}

/// A village need as read: one row per village and skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NeedRecord {
    /// Id (`VILLAGE-SKILL`, as in URLs).
    pub id: String,
    /// The village (12 digits).
    pub village_code: String,
    /// Its name.
    pub village_name: Option<String>,
    /// Its town (12 digits).
    pub town_code: Option<String>,
    /// The town's name.
    pub town_name: Option<String>,
    /// Skill key.
    pub skill: String,
    /// The skill's labels.
    pub skill_label: Label,
    /// 1 (low) to 3 (most urgent).
    pub priority: i32,
    /// Generated for the demo, not real.
    pub illustrative: bool,
}

/// The village needs kind (需求清单): one skill a village needs, with its priority.
pub struct Needs;

/// `VILLAGE-SKILL` → (village code, skill key).
fn need_id(id: &str) -> Option<(String, String)> {
    let (v, s) = id.split_once('-')?;
    Some((DivisionCode::parse(v).ok()?.as_str().to_string(), s.to_string()))
}

/// Needs within the caller's scope (and `under`), by village code, priority (most urgent
/// first) and skill; `only`: one village and skill.
fn need_records(
    conn: &mut DbConn,
    access: &Access,
    under: Option<&str>,
    only: Option<(&str, &str)>,
) -> DbResult<Vec<NeedRecord>> {
    let mut q = village_needs::table
        .filter(code_scope!(
            village_needs::table,
            village_needs::village_code,
            access,
            under
        ))
        .into_boxed();
    if let Some((v, s)) = only {
        q = q
            .filter(village_needs::village_code.eq(v.to_string()))
            .filter(village_needs::skill.eq(s.to_string()));
    }
    let rows: Vec<(String, String, i32, bool)> = q
        .order((
            village_needs::village_code.asc(),
            village_needs::priority.desc(),
            village_needs::skill.asc(),
        ))
        .select((
            village_needs::village_code,
            village_needs::skill,
            village_needs::priority,
            village_needs::illustrative,
        ))
        .load(conn)?;
    let list = SkillList::load(conn)?;
    let names = division_names(
        conn,
        rows.iter()
            .flat_map(|r| [Some(r.0.clone()), town_code_of(&r.0)])
            .flatten(),
    )?;
    Ok(rows
        .into_iter()
        .map(|(village_code, skill, priority, illustrative)| {
            let town_code = town_code_of(&village_code);
            NeedRecord {
                id: format!("{village_code}-{skill}"),
                village_name: names.get(&village_code).cloned(),
                town_name: town_code.as_ref().and_then(|t| names.get(t).cloned()),
                town_code,
                village_code,
                skill_label: list.label(&skill),
                skill,
                priority,
                illustrative,
            }
        })
        .collect())
}

impl Kind for Needs {
    type New = NeedNew;
    type Record = NeedRecord;

    const DESC: Desc = Desc {
        id: KindId::Needs,
        key: "needs",
        entity: "village_need",
        fields: &[
            Field::new("village", Ty::Division(&[Level::Village]), true)
                .aliases(&["村(社区)代码", "区划代码", "village_code"])
                .noted(),
            Field::new("skill", Ty::Text, true)
                .aliases(&["专长", "需求", "所需专长"])
                .noted(),
            Field::new("priority", Ty::Count, true)
                .aliases(&["紧迫程度", "优先程度"])
                .noted(),
        ],
        columns: &[
            Column::new("village_code", Show::Code),
            Column::new("village_name", Show::Text),
            Column::new("town_name", Show::Text),
            Column::new("skill_label", Show::List),
            Column::new("priority", Show::Int),
        ],
        natural_key: &["skill", "village"],
        filters: &[Filter::Under],
        perms: Perms {
            write: Permission::Import,
            retire: Permission::Import,
        },
        retire: Retire::Delete,
        importable: true,
    };

    fn check(v: &mut Values, cx: &mut Cx) -> DbResult<Option<NeedNew>> {
        let village = village(v, cx, "village")?;
        let list = skill_list(cx)?;
        let skill = match v.required("skill") {
            None => None,
            Some(typed) => match list.resolve(&typed) {
                Ok(k) => Some(k),
                Err(allowed) => {
                    unknown_skill(v, "skill", &typed, allowed);
                    None
                }
            },
        };
        let priority = if v.is_empty("priority") {
            if !v.is_excel_error("priority") {
                v.required("priority");
            }
            None
        } else {
            match v.count("priority") {
                Some(p) if (1..=3).contains(&p) => Some(p),
                Some(p) => {
                    v.error(
                        "priority",
                        &p.to_string(),
                        "priority-out-of-range",
                        "the priority is 1, 2 or 3 (3 most urgent)",
                    );
                    None
                }
                None => None,
            }
        };
        if v.failed() {
            return Ok(None);
        }
        let (Some(village_code), Some(skill), Some(priority)) = (village, skill, priority) else {
            return Ok(None);
        };
        Ok(Some(NeedNew {
            village_code,
            skill,
            priority,
            illustrative: cx.illustrative,
        }))
    }

    fn key(n: &NeedNew) -> String {
        format!("{}\u{1f}{}", n.skill, n.village_code)
    }

    fn area(n: &NeedNew) -> String {
        n.village_code.clone()
    }

    fn stored(cx: &mut Cx, news: &[&NeedNew]) -> DbResult<Vec<Option<Stored<NeedNew>>>> {
        let mut villages: Vec<&str> = news.iter().map(|n| n.village_code.as_str()).collect();
        villages.sort_unstable();
        villages.dedup();
        let mut found: HashMap<(String, String), (i32, bool)> = HashMap::new();
        for part in villages.chunks(1_000) {
            let rows: Vec<(String, String, i32, bool)> = village_needs::table
                .filter(village_needs::village_code.eq_any(part))
                .select((
                    village_needs::village_code,
                    village_needs::skill,
                    village_needs::priority,
                    village_needs::illustrative,
                ))
                .load(cx.conn)?;
            found.extend(rows.into_iter().map(|(v, s, p, i)| ((v, s), (p, i))));
        }
        Ok(news
            .iter()
            .map(|n| {
                found
                    .get(&(n.village_code.clone(), n.skill.clone()))
                    .map(|&(priority, illustrative)| Stored {
                        id: format!("{}-{}", n.village_code, n.skill),
                        new: NeedNew {
                            priority,
                            illustrative,
                            ..(*n).clone()
                        },
                    })
            })
            .collect())
    }

    fn load(cx: &mut Cx, id: &str) -> DbResult<Option<NeedNew>> {
        let Some((village_code, skill)) = need_id(id) else {
            return Ok(None);
        };
        if !cx.access.sees_code(&village_code) {
            return Ok(None);
        }
        let row: Option<(i32, bool)> = village_needs::table
            .filter(village_needs::village_code.eq(&village_code))
            .filter(village_needs::skill.eq(&skill))
            .select((village_needs::priority, village_needs::illustrative))
            .first(cx.conn)
            .optional()?;
        Ok(row.map(|(priority, illustrative)| NeedNew {
            village_code,
            skill,
            priority,
            illustrative,
        }))
    }

    fn illustrative(n: &NeedNew) -> bool {
        n.illustrative
    }

    fn same(a: &NeedNew, b: &NeedNew) -> bool {
        a.village_code == b.village_code && a.skill == b.skill && a.priority == b.priority
    }

    fn values(cx: &mut Cx, n: &NeedNew) -> DbResult<Raw> {
        let list = skill_list(cx)?;
        Ok(Raw::of([
            ("village", n.village_code.clone()),
            ("skill", list.label(&n.skill).zh),
            ("priority", n.priority.to_string()),
        ]))
    }

    fn insert(conn: &mut DbConn, rows: &[NeedNew]) -> DbResult<Vec<String>> {
        let at = now();
        let values: Vec<_> = rows
            .iter()
            .map(|n| {
                (
                    village_needs::village_code.eq(n.village_code.clone()),
                    village_needs::skill.eq(n.skill.clone()),
                    village_needs::priority.eq(n.priority),
                    village_needs::illustrative.eq(n.illustrative),
                    village_needs::updated_at.eq(at),
                )
            })
            .collect();
        crate::insert_rows!(&mut *conn, village_needs::table, &values, 1_000);
        Ok(rows.iter().map(|n| format!("{}-{}", n.village_code, n.skill)).collect())
    }

    fn update(conn: &mut DbConn, id: &str, n: &NeedNew) -> DbResult<()> {
        let Some((village_code, skill)) = need_id(id) else {
            return Ok(());
        };
        diesel::update(
            village_needs::table
                .filter(village_needs::village_code.eq(&village_code))
                .filter(village_needs::skill.eq(&skill)),
        )
        .set((
            village_needs::village_code.eq(&n.village_code),
            village_needs::skill.eq(&n.skill),
            village_needs::priority.eq(n.priority),
            village_needs::illustrative.eq(n.illustrative),
            village_needs::updated_at.eq(now()),
        ))
        .execute(conn)?;
        Ok(())
    }

    fn retire(cx: &mut Cx, id: &str, _how: &RetireInput) -> DbResult<bool> {
        Needs::remove(cx.conn, id)
    }

    fn remove(conn: &mut DbConn, id: &str) -> DbResult<bool> {
        let Some((village_code, skill)) = need_id(id) else {
            return Ok(false);
        };
        let n = diesel::delete(
            village_needs::table
                .filter(village_needs::village_code.eq(&village_code))
                .filter(village_needs::skill.eq(&skill)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    fn list(conn: &mut DbConn, access: &Access, q: &ListQuery) -> DbResult<Page<NeedRecord>> {
        let all = need_records(conn, access, q.under.as_deref(), None)?;
        Ok(page_of(all, q))
    }

    fn get(conn: &mut DbConn, access: &Access, id: &str) -> DbResult<Option<NeedRecord>> {
        let Some((village_code, skill)) = need_id(id) else {
            return Ok(None);
        };
        Ok(need_records(conn, access, None, Some((&village_code, &skill)))?
            .into_iter()
            .next())
    }
}
