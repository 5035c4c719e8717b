//! The dispatch kinds of the import framework (SPEC C7): dispatched cadres, twinning pairs,
//! village needs and residency work logs. Rows are checked with the framework's [`Checker`]
//! (the same normalisation, issue keys and places), planned against the database by natural key
//! and written by [`DispatchPlan::write`] inside the framework's transaction.
//!
//! | kind | natural key | a stored record that differs |
//! |---|---|---|
//! | `cadres` | ID number | updated or skipped (the user's choice) |
//! | `twinning` | unit + village | (no other field: new or unchanged) |
//! | `needs` | village + skill | priority updated or skipped |
//! | `work_logs` | cadre's ID number + date + text | (no other field: new or unchanged) |
//!
//! References: a cadre's source is a county unit (credit code or unique full name) or a town
//! (12-digit code or unique name); skills are keys or labels of the skill list (the `skills`
//! table), several separated by `、`, `;`, `,` or `/`; a work log names the cadre by ID number and
//! goes to the cadre's residency covering the date.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use ringline_core::cell;
use ringline_core::division::{DivisionCode, Level};
use ringline_core::id_number::Sex;
use ringline_core::mask::mask_phone;

use super::framework::{
    Checker, Context, Held, ImportError, Op, Options, Progress, Stage, duplicates, id_number, op_counts, resolve_unit,
    rows_progress, today,
};
use super::table::Row;
use crate::access::Access;
use crate::cadres::residency::{NewWorkLog, clean_log};
use crate::cadres::{self, NewCadre};
use crate::db::schema::{cadres as cadre_t, divisions, residencies, twinning, village_needs, work_logs};
use crate::db::{DbConn, now};

/// Separators between several skills in one cell.
const SKILL_SEPARATORS: [char; 7] = ['、', ';', '；', ',', '，', '/', '／'];

/// A checked cadre row: the record and its skill keys.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct CadreIn {
    pub(super) cadre: NewCadre,
    pub(super) skills: Vec<String>,
}

/// A village need: (village code, skill key, priority).
type NeedRow = (String, String, i32);

/// What a checked dispatch file will do.
pub(super) enum DispatchPlan {
    Cadres(Vec<Op<CadreIn>>),
    Twinning(Vec<Op<(i64, String)>>),
    Needs(Vec<Op<NeedRow>>),
    WorkLogs(Vec<Op<NewWorkLog>>),
}

impl DispatchPlan {
    /// (new, updated, unchanged, skipped).
    pub(super) fn counts(&self) -> (usize, usize, usize, usize) {
        match self {
            DispatchPlan::Cadres(ops) => op_counts(ops),
            DispatchPlan::Twinning(ops) => op_counts(ops),
            DispatchPlan::Needs(ops) => op_counts(ops),
            DispatchPlan::WorkLogs(ops) => op_counts(ops),
        }
    }

    /// Writes the plan (inside the framework's transaction); held cadre rows are kept for the
    /// county ([`super::held`]), naming `file`.
    pub(super) fn write(
        &self,
        conn: &mut DbConn,
        access: &Access,
        file: &str,
        opts: Options,
        progress: Progress,
    ) -> Result<(), ImportError> {
        let (new, updated, ..) = self.counts();
        let total = new + updated;
        match self {
            DispatchPlan::Cadres(ops) => {
                let (rows, skills): (Vec<NewCadre>, Vec<Vec<String>>) = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(c) => Some((c.cadre.clone(), c.skills.clone())),
                        _ => None,
                    })
                    .unzip();
                cadres::insert_cadres(conn, &rows, &skills)?;
                for op in ops {
                    match op {
                        Op::Update(id, c) => update_cadre(conn, *id, c)?,
                        Op::Held(h) => super::held::hold(conn, access, "cadres", h, file)?,
                        _ => {}
                    }
                }
            }
            DispatchPlan::Twinning(ops) => {
                let pairs: Vec<(i64, String)> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(p) => Some(p.clone()),
                        _ => None,
                    })
                    .collect();
                cadres::insert_twinning(conn, &pairs, opts.illustrative)?;
                // A demo pair listed by a real import: the pair is the same, the mark goes.
                for op in ops {
                    if let Op::Update(_, (unit, village)) = op {
                        diesel::update(
                            twinning::table
                                .filter(twinning::unit_id.eq(*unit))
                                .filter(twinning::village_code.eq(village)),
                        )
                        .set(twinning::illustrative.eq(opts.illustrative))
                        .execute(conn)?;
                    }
                }
            }
            DispatchPlan::Needs(ops) => {
                let rows: Vec<(String, String, i32)> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(n) | Op::Update(_, n) => Some(n.clone()),
                        _ => None,
                    })
                    .collect();
                cadres::upsert_needs(conn, &rows, opts.illustrative)?;
            }
            DispatchPlan::WorkLogs(ops) => {
                let rows: Vec<NewWorkLog> = ops
                    .iter()
                    .filter_map(|o| match o {
                        Op::New(l) => Some(l.clone()),
                        _ => None,
                    })
                    .collect();
                crate::cadres::residency::insert_work_logs(conn, &rows)?;
            }
        }
        progress(Stage::Writing, total, total);
        Ok(())
    }
}

/// Record counts of the dispatch kinds, for summaries.
pub(super) fn counts(conn: &mut DbConn) -> Result<Vec<(&'static str, i64)>, ImportError> {
    Ok(vec![
        ("cadres", cadre_t::table.count().get_result(conn)?),
        ("twinning", twinning::table.count().get_result(conn)?),
        ("needs", village_needs::table.count().get_result(conn)?),
        ("work_logs", work_logs::table.count().get_result(conn)?),
    ])
}

/// Checks and plans a sheet of one of the dispatch kinds (`ch.kind`).
pub(super) fn check(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<DispatchPlan, ImportError> {
    Ok(match ch.kind.key {
        "cadres" => DispatchPlan::Cadres(check_cadres(conn, access, ch, ctx, opts, progress)?),
        "twinning" => DispatchPlan::Twinning(check_twinning(conn, access, ch, ctx, opts, progress)?),
        "needs" => DispatchPlan::Needs(check_needs(conn, access, ch, ctx, opts, progress)?),
        _ => DispatchPlan::WorkLogs(check_work_logs(conn, access, ch, opts, progress)?),
    })
}

/// The skill list as `(key, Chinese, English)` choices.
struct SkillChoices(Vec<(String, String, String)>);

impl SkillChoices {
    fn load(conn: &mut DbConn) -> Result<Self, ImportError> {
        Ok(SkillChoices(
            cadres::skills(conn)?.into_iter().map(|s| (s.key, s.zh, s.en)).collect(),
        ))
    }

    /// The key of the skill `typed` names (key, Chinese or English label).
    fn resolve(&self, typed: &str) -> Result<String, String> {
        let view: Vec<(&str, &str, &str)> = self
            .0
            .iter()
            .map(|(k, z, e)| (k.as_str(), z.as_str(), e.as_str()))
            .collect();
        match cell::choice(typed, &view) {
            Ok(k) => Ok(k.to_string()),
            Err(_) => Err(self.0.iter().map(|s| s.1.as_str()).collect::<Vec<_>>().join("、")),
        }
    }
}

/// Reports an unknown skill.
fn unknown_skill(ch: &mut Checker, row: &Row, key: &str, typed: &str, allowed: String) {
    ch.error(
        row,
        key,
        typed,
        "skill-unknown",
        format!("{typed:?} is not on the skill list; use one of: {allowed}"),
    );
    ch.args(vec![("allowed", allowed)]);
}

/// A required code column naming an active village.
fn required_village(ch: &mut Checker, row: &Row, key: &str, ctx: &Context) -> Option<String> {
    let before = ch.errors.len();
    let v = ch.division(row, key, ctx, &[Level::Village]);
    if v.is_none() && ch.errors.len() == before {
        ch.required(row, key);
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Cadres

/// Active towns by name (a name may name several towns in a national table).
fn towns_by_name(conn: &mut DbConn) -> Result<HashMap<String, Vec<String>>, ImportError> {
    let rows: Vec<(String, String)> = divisions::table
        .filter(divisions::status.eq(crate::divisions::ACTIVE))
        .filter(divisions::level.eq("town"))
        .select((divisions::name, divisions::code))
        .load(conn)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (name, code) in rows {
        out.entry(name).or_default().push(code);
    }
    Ok(out)
}

/// The cadre's source: `(unit id, town code, scope key)`.
fn resolve_source(
    ch: &mut Checker,
    row: &Row,
    ctx: &Context,
    towns: &HashMap<String, Vec<String>>,
) -> Option<(Option<i64>, Option<String>, String)> {
    let typed = ch.required(row, "source")?;
    // A town's division code.
    if let Ok(code) = cell::code(&typed)
        && let Ok(dc) = DivisionCode::parse(&code)
        && let Some(level) = ctx.divisions.get(dc.as_str())
    {
        if level == "town" {
            let c = dc.as_str().to_string();
            return Some((None, Some(c.clone()), c));
        }
        ch.error(
            row,
            "source",
            &typed,
            "division-wrong-level",
            format!(
                "{} is a {level} code; a town code (or a unit) is needed here",
                dc.as_str()
            ),
        );
        ch.args(vec![("level", level.clone()), ("wanted", "town".into())]);
        return None;
    }
    // A unit by credit code or unique full name.
    match resolve_unit(&ctx.units, &typed) {
        Ok(id) => {
            let division = ctx.units.division_of.get(&id).cloned().unwrap_or_default();
            return Some((Some(id), None, division));
        }
        Err((n, m)) if n > 1 => {
            ch.error(row, "source", &typed, "unit-not-found", m);
            ch.args(vec![("count", n.to_string())]);
            return None;
        }
        Err(_) => {}
    }
    // A town by unique name.
    match towns.get(&cell::name(&typed)).map(Vec::as_slice) {
        Some([code]) => Some((None, Some(code.clone()), code.clone())),
        found => {
            let n = found.map_or(0, <[String]>::len);
            ch.error(
                row,
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
            ch.args(vec![("count", n.to_string())]);
            None
        }
    }
}

fn check_cadres(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<CadreIn>>, ImportError> {
    let at = now();
    let today = today();
    let today_t = (today.year(), today.month(), today.day());
    let skill_list = SkillChoices::load(conn)?;
    let towns = towns_by_name(conn)?;
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<CadreIn>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        let name = ch.name(row, "name");
        let id = id_number(ch, row, today_t);
        keys.push((i, id.as_ref().map(|n| n.as_str().to_string())));
        let phone = {
            let raw = ch.raw(row, "phone").to_string();
            match cell::phone(&raw) {
                Ok(p) if p.is_empty() => None,
                Ok(p) => Some(p),
                Err(e) => {
                    ch.error(row, "phone", &mask_phone(&cell::clean(&raw)), e.key(), e.to_string());
                    None
                }
            }
        };
        let source = resolve_source(ch, row, ctx, &towns);
        if let Some((_, _, division)) = &source {
            ch.in_scope(row, "source", access, division);
        }
        let mut skills = Vec::new();
        let typed = ch.text(row, "skills");
        for part in typed.split(SKILL_SEPARATORS).map(str::trim).filter(|p| !p.is_empty()) {
            match skill_list.resolve(part) {
                Ok(k) => skills.push(k),
                Err(allowed) => unknown_skill(ch, row, "skills", part, allowed),
            }
        }
        skills.sort();
        skills.dedup();
        let home = if ch.raw(row, "home_village").trim().is_empty() {
            None
        } else {
            ch.division(row, "home_village", ctx, &[Level::Village])
        };
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        let (Some(name), Some(id), Some((unit, town, division))) = (name, id, source) else {
            checked.push(None);
            continue;
        };
        let (y, m, d) = id.birth_date();
        let Some(birth) = NaiveDate::from_ymd_opt(y, m, d) else {
            checked.push(None);
            continue;
        };
        checked.push(Some(CadreIn {
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
                illustrative: opts.illustrative,
                created_at: at,
                updated_at: at,
            },
            skills,
        }));
    }
    progress(Stage::Checking, total, total);
    let dups = duplicates(ch, &keys, "id_number", "ID number", true);
    let numbers: Vec<String> = checked.iter().flatten().map(|c| c.cadre.id_number.clone()).collect();
    let stored = load_cadres(conn, &numbers)?;
    let mut ops = Vec::with_capacity(total);
    for (i, c) in checked.into_iter().enumerate() {
        let Some(c) = c else { continue };
        if dups.contains(&i) {
            continue;
        }
        let op = match stored.get(&c.cadre.id_number) {
            None => Op::New(c),
            Some((id, s)) if access.sees_code(&s.cadre.division_code) => {
                Op::existing(*id, same_cadre(s, &c), c, opts.on_existing)
            }
            // On the roster of another area: answered like a new cadre, held for a user
            // covering both (ARCHITECTURE, held rows).
            Some((id, s)) => Op::Held(Box::new(Held {
                record_id: *id,
                record_division: s.cadre.division_code.clone(),
                row_division: c.cadre.division_code.clone(),
                line: ch.sheet.rows[i].line,
                row: c,
            })),
        };
        ops.push(op);
    }
    Ok(ops)
}

/// Writes `c` over the stored cadre `id` with its skills (an import's update, a held row's
/// transfer).
pub(super) fn update_cadre(conn: &mut DbConn, id: i64, c: &CadreIn) -> Result<(), ImportError> {
    let n = &c.cadre;
    diesel::update(cadre_t::table.find(id))
        .set((
            cadre_t::name.eq(&n.name),
            cadre_t::sex.eq(&n.sex),
            cadre_t::birth_date.eq(n.birth_date),
            cadre_t::phone.eq(&n.phone),
            cadre_t::source_unit_id.eq(n.source_unit_id),
            cadre_t::source_town.eq(&n.source_town),
            cadre_t::home_village.eq(&n.home_village),
            cadre_t::division_code.eq(&n.division_code),
            cadre_t::updated_at.eq(n.updated_at),
        ))
        .execute(conn)?;
    cadres::replace_cadre_skills(conn, id, &c.skills)?;
    Ok(())
}

fn same_cadre(a: &CadreIn, b: &CadreIn) -> bool {
    let (x, y) = (&a.cadre, &b.cadre);
    x.name == y.name
        && x.sex == y.sex
        && x.birth_date == y.birth_date
        && x.phone == y.phone
        && x.source_unit_id == y.source_unit_id
        && x.source_town == y.source_town
        && x.home_village == y.home_village
        && x.division_code == y.division_code
        && x.illustrative == y.illustrative
        && a.skills == b.skills
}

type StoredCadre = (
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

/// Stored cadres with these ID numbers, with their skills.
pub(super) fn load_cadres(
    conn: &mut DbConn,
    numbers: &[String],
) -> Result<HashMap<String, (i64, CadreIn)>, ImportError> {
    let mut out = HashMap::new();
    for part in numbers.chunks(1_000) {
        let rows: Vec<StoredCadre> = cadre_t::table
            .filter(cadre_t::id_number.eq_any(part))
            .select((
                cadre_t::id,
                cadre_t::name,
                cadre_t::id_number,
                cadre_t::sex,
                cadre_t::birth_date,
                cadre_t::phone,
                cadre_t::source_unit_id,
                cadre_t::source_town,
                cadre_t::home_village,
                cadre_t::division_code,
                cadre_t::illustrative,
                cadre_t::created_at,
                cadre_t::updated_at,
            ))
            .load(conn)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let skills = cadres::skills_of(conn, &ids)?;
        for r in rows {
            out.insert(
                r.2.clone(),
                (
                    r.0,
                    CadreIn {
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
                ),
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Twinning

fn check_twinning(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<(i64, String)>>, ImportError> {
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<(i64, String)>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        let unit = ch
            .required(row, "unit")
            .and_then(|typed| match resolve_unit(&ctx.units, &typed) {
                Ok(id) => Some(id),
                Err((n, m)) => {
                    ch.error(row, "unit", &typed, "unit-not-found", m);
                    ch.args(vec![("count", n.to_string())]);
                    None
                }
            });
        let village = required_village(ch, row, "village", ctx);
        if let Some(v) = &village {
            ch.in_scope(row, "village", access, v);
        }
        keys.push((i, unit.zip(village.as_ref()).map(|(u, v)| format!("{u}\u{1f}{v}"))));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(unit.zip(village));
    }
    let dups = duplicates(ch, &keys, "village", "twinning pair (unit and village)", false);
    let stored: HashMap<(i64, String), bool> = twinning::table
        .select((twinning::unit_id, twinning::village_code, twinning::illustrative))
        .load::<(i64, String, bool)>(conn)?
        .into_iter()
        .map(|(u, v, d)| ((u, v), d))
        .collect();
    Ok(checked
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dups.contains(i))
        .filter_map(|(_, p)| p)
        .map(|p| match stored.get(&p) {
            None => Op::New(p),
            Some(&demo) => Op::existing(0, demo == opts.illustrative, p, opts.on_existing),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Village needs

fn check_needs(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    ctx: &Context,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<NeedRow>>, ImportError> {
    let skill_list = SkillChoices::load(conn)?;
    let total = ch.sheet.rows.len();
    let mut checked: Vec<Option<(String, String, i32)>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        let village = required_village(ch, row, "village", ctx);
        if let Some(v) = &village {
            ch.in_scope(row, "village", access, v);
        }
        let skill = ch
            .required(row, "skill")
            .and_then(|typed| match skill_list.resolve(&typed) {
                Ok(k) => Some(k),
                Err(allowed) => {
                    unknown_skill(ch, row, "skill", &typed, allowed);
                    None
                }
            });
        let priority = if ch.raw(row, "priority").trim().is_empty() {
            ch.required(row, "priority");
            None
        } else {
            match ch.count(row, "priority") {
                Some(p) if (1..=3).contains(&p) => Some(p),
                Some(p) => {
                    ch.error(
                        row,
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
        keys.push((
            i,
            village
                .as_ref()
                .zip(skill.as_ref())
                .map(|(v, s)| format!("{v}\u{1f}{s}")),
        ));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (village, skill, priority) {
            (Some(v), Some(s), Some(p)) => Some((v, s, p)),
            _ => None,
        });
    }
    let dups = duplicates(ch, &keys, "skill", "village and skill", false);
    let stored: HashMap<(String, String), (i32, bool)> = village_needs::table
        .select((
            village_needs::village_code,
            village_needs::skill,
            village_needs::priority,
            village_needs::illustrative,
        ))
        .load::<(String, String, i32, bool)>(conn)?
        .into_iter()
        .map(|(v, s, p, d)| ((v, s), (p, d)))
        .collect();
    Ok(checked
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dups.contains(i))
        .filter_map(|(_, n)| n)
        .map(|n| match stored.get(&(n.0.clone(), n.1.clone())) {
            None => Op::New(n),
            Some(&(p, demo)) => Op::existing(0, p == n.2 && demo == opts.illustrative, n, opts.on_existing),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Work logs

fn check_work_logs(
    conn: &mut DbConn,
    access: &Access,
    ch: &mut Checker,
    opts: Options,
    progress: Progress,
) -> Result<Vec<Op<NewWorkLog>>, ImportError> {
    let at = now();
    let today = today();
    let today_t = (today.year(), today.month(), today.day());
    let total = ch.sheet.rows.len();
    // The cadres and residencies the file may name: residencies in the importer's scope, and
    // cadres on the importer's roster or with such a residency. Any other ID number is answered
    // as unknown, so a file cannot find out who is a cadre elsewhere (ARCHITECTURE, held rows).
    let mut stays: HashMap<i64, Vec<(i64, NaiveDate, NaiveDate, String)>> = HashMap::new();
    for (c, id, s, e, v) in residencies::table
        .select((
            residencies::cadre_id,
            residencies::id,
            residencies::start_date,
            residencies::end_date,
            residencies::village_code,
        ))
        .load::<(i64, i64, NaiveDate, NaiveDate, String)>(conn)?
        .into_iter()
        .filter(|r| access.sees_code(&r.4))
    {
        stays.entry(c).or_default().push((id, s, e, v));
    }
    let cadre_ids: HashMap<String, i64> = cadre_t::table
        .select((cadre_t::id_number, cadre_t::id, cadre_t::division_code))
        .load::<(String, i64, String)>(conn)?
        .into_iter()
        .filter(|(_, id, division)| access.sees_code(division) || stays.contains_key(id))
        .map(|(n, id, _)| (n, id))
        .collect();
    let mut checked: Vec<Option<NewWorkLog>> = Vec::with_capacity(total);
    let mut keys: Vec<(usize, Option<String>)> = Vec::with_capacity(total);
    for (i, row) in ch.sheet.rows.iter().enumerate() {
        rows_progress(progress, i, total);
        let before = ch.errors.len();
        let id = id_number(ch, row, today_t);
        let cadre = id.as_ref().and_then(|n| match cadre_ids.get(n.as_str()) {
            Some(c) => Some(*c),
            None => {
                ch.error(
                    row,
                    "id_number",
                    &n.masked(),
                    "cadre-not-found",
                    "no cadre on the roster has this ID number; import the cadre first",
                );
                None
            }
        });
        let date = ch.date(row, "date");
        if date.is_none() && ch.raw(row, "date").trim().is_empty() {
            ch.required(row, "date");
        }
        let raw = ch.raw(row, "content").to_string();
        let content = if cell::clean(&raw).is_empty() {
            ch.required(row, "content");
            None
        } else {
            match clean_log(&raw) {
                Ok(c) => Some(c),
                Err(e) => {
                    let shown = crate::import::shorten(&cell::clean(&raw), 40);
                    ch.error(row, "content", &shown, e.code(), e.to_string());
                    None
                }
            }
        };
        let residency = match (cadre, date) {
            (Some(c), Some(d)) => {
                let found = stays
                    .get(&c)
                    .and_then(|v| v.iter().find(|(_, s, e, _)| *s <= d && d <= *e));
                match found {
                    Some((rid, _, _, _)) => Some(*rid),
                    None => {
                        ch.error(
                            row,
                            "date",
                            &d.to_string(),
                            "residency-not-found",
                            "this cadre has no residency covering this date",
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        keys.push((
            i,
            match (&id, date, &content) {
                (Some(n), Some(d), Some(c)) => Some(format!("{}\u{1f}{d}\u{1f}{c}", n.as_str())),
                _ => None,
            },
        ));
        if ch.errors.len() > before {
            checked.push(None);
            continue;
        }
        checked.push(match (residency, date, content) {
            (Some(residency_id), Some(date), Some(content)) => Some(NewWorkLog {
                residency_id,
                date,
                content,
                illustrative: opts.illustrative,
                created_at: at,
                created_by: access.username.clone(),
            }),
            _ => None,
        });
    }
    let dups = duplicates(ch, &keys, "id_number", "cadre, date and work log text", true);
    let ids: Vec<i64> = checked.iter().flatten().map(|l| l.residency_id).collect();
    let mut stored: HashSet<(i64, NaiveDate, String)> = HashSet::new();
    for part in ids.chunks(1_000) {
        let rows: Vec<(i64, NaiveDate, String)> = work_logs::table
            .filter(work_logs::residency_id.eq_any(part))
            .select((work_logs::residency_id, work_logs::date, work_logs::content))
            .load(conn)?;
        stored.extend(rows);
    }
    Ok(checked
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dups.contains(i))
        .filter_map(|(_, l)| l)
        .map(|l| {
            if stored.contains(&(l.residency_id, l.date, l.content.clone())) {
                Op::Unchanged
            } else {
                Op::New(l)
            }
        })
        .collect())
}
