//! Illustrative dispatch data for the county demo (SPEC C7), on top of the demo registry:
//!
//! - [`DEMO_CADRES`] cadres (about three quarters young, ≤ 40 on [`super::DEMO_AS_OF`]), half
//!   town cadres (source: a town), half from the county units of the demo registry (the
//!   organization department, SOEs, the towns' schools and health centres), each with 2–3 skills,
//!   a valid GB 11643 ID number (address code = the county, sequence codes 800–899, so they never
//!   equal a demo member's), a mobile number, and for many a home village;
//! - twinning pairs for [`TWINNED_VILLAGES`] villages of the program's zones with county units;
//! - needs (1–3 skills, priority 1–3) for every village (not community) of the zones, hinted by
//!   the village's units (牦牛养殖 → animal husbandry, 种植 → agriculture, 乡村旅游/农家乐 →
//!   tourism, 电子商务/食品 → e-commerce, 合作社 → cooperatives) and the zone's theme;
//! - a confirmed earlier batch ([`EARLIER_BATCH`], 2025-05-01, 10–12 cadres) planned and
//!   confirmed through [`crate::cadres::batch`], with residencies until 2027-04-30, attendance
//!   for every month from 2025-05 to 2026-10 (some below 20 days), work logs, and leave requests
//!   (one of 2 days pending at the town, one of 5 days pending at the county, two decided);
//! - the draft batch [`DEMO_BATCH`] (2026-11-01, 20–30 cadres, the defaults), planned.
//!
//! Deterministic (a fixed seed and dates); written only when the dispatch tables are empty and
//! the county holds the illustrative demo registry, in the caller's transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ringline_core::division::DivisionCode;

use super::{DEMO_AS_OF, DEMO_SEED, MOBILE_PREFIXES, mix, person_name};
use crate::access::Access;
use crate::cadres::batch::{self, BatchInput};
use crate::cadres::residency::{self, NewLeave, NewWorkLog};
use crate::cadres::{self, DispatchError, NewCadre};
use crate::db::schema::{programs, units, zone_members, zones};
use crate::db::{DbConn, DbError, DbResult, now, prefix_end};

/// Cadres on the demo roster.
pub const DEMO_CADRES: usize = 60;
/// Of which young (≤ 40 on the demo batch's reference date).
pub const DEMO_YOUNG: usize = 45;
/// Villages twinned with a county unit.
pub const TWINNED_VILLAGES: usize = 40;
/// The demo's draft batch (SPEC C7, Datong: 20–30 cadres).
pub const DEMO_BATCH: &str = "2026年第一批驻村干部选派";
/// The demo's confirmed earlier batch.
pub const EARLIER_BATCH: &str = "2025年第一批驻村干部选派";
/// Reference date of the earlier batch.
pub const EARLIER_DATE: (i32, u32, u32) = (2025, 5, 1);

/// What [`dispatch_demo`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DispatchDemo {
    /// Cadres.
    pub cadres: usize,
    /// Twinning pairs.
    pub twinning: usize,
    /// Villages with needs.
    pub villages_with_needs: usize,
    /// Residencies (of the confirmed earlier batch).
    pub residencies: usize,
    /// Pairs of the draft batch's plan.
    pub planned_pairs: usize,
    /// Nothing written: the dispatch tables hold records, or the county has no demo registry.
    pub skipped: bool,
}

fn date(t: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.0, t.1, t.2).unwrap_or(NaiveDate::MIN)
}

fn task(e: DispatchError) -> DbError {
    match e {
        DispatchError::Db(d) => d,
        other => DbError::Task(format!("dispatch demo: {other} ({})", other.code())),
    }
}

/// Skill hints in unit names: (text in the name, skill key).
const HINTS: &[(&str, &str)] = &[
    ("养殖", "animal_husbandry"),
    ("牲畜", "animal_husbandry"),
    ("种植", "agriculture"),
    ("农机", "agriculture"),
    ("旅游", "tourism"),
    ("农家乐", "tourism"),
    ("电子商务", "e_commerce"),
    ("食品", "e_commerce"),
    ("合作社", "cooperative"),
];

/// Skills a zone's theme calls for.
fn theme_skills(theme: &str) -> &'static [&'static str] {
    match theme {
        "commerce_economy" => &["e_commerce", "finance", "governance"],
        "new_rural_construction" => &["construction", "governance", "party_affairs"],
        "characteristic_industry" => &["agriculture", "animal_husbandry", "tourism"],
        "collective_economy" => &["cooperative", "finance", "agriculture"],
        _ => &["party_affairs", "governance"],
    }
}

/// What kind of source a cadre's skills lean to.
fn source_skills(unit_name: Option<&str>) -> &'static [&'static str] {
    match unit_name {
        None => &[
            "agriculture",
            "animal_husbandry",
            "party_affairs",
            "governance",
            "cooperative",
            "tourism",
        ],
        Some(n) if n.contains("组织部") => &["party_affairs", "governance", "law", "finance"],
        Some(n) if n.contains("学校") => &["party_affairs", "e_commerce", "governance", "tourism"],
        Some(n) if n.contains("卫生") => &["governance", "party_affairs", "law"],
        Some(_) => &["finance", "construction", "e_commerce", "tourism", "cooperative"],
    }
}

const ALL_SKILLS: &[&str] = &[
    "agriculture",
    "animal_husbandry",
    "e_commerce",
    "finance",
    "law",
    "party_affairs",
    "tourism",
    "cooperative",
    "construction",
    "governance",
];

const LOGS: &[&str] = &[
    "走访脱贫户和监测户{n}户，了解生产生活情况，登记就业意向。",
    "参加村“两委”会议，研究{v}产业发展和集体经济项目。",
    "组织党员开展主题党日活动，学习乡村振兴政策，{n}名党员参加。",
    "协调县农牧部门技术人员到村开展{s}培训，参训群众{n}人。",
    "入户宣传惠农补贴和医保政策，解答群众问题。",
    "帮助合作社整理账目，规范收益分配台账。",
    "对接县电商服务中心，帮助村里上架农产品{n}种。",
    "调解邻里土地纠纷一起，双方达成协议。",
    "陪同乡镇检查村容村貌整治，清理垃圾点{n}处。",
    "整理驻村工作台账，撰写月度工作小结。",
];

/// Generates the dispatch demo for `county_code` (module docs). Call inside a transaction.
pub fn dispatch_demo(conn: &mut DbConn, county_code: &str) -> DbResult<DispatchDemo> {
    if !cadres::is_empty(conn)? {
        return Ok(DispatchDemo {
            skipped: true,
            ..Default::default()
        });
    }
    let Some(county) = super::county_from_db(conn, county_code)? else {
        return Ok(DispatchDemo {
            skipped: true,
            ..Default::default()
        });
    };
    let prefix = county.prefix();
    let lo = format!("{prefix:0<12}");
    let hi = prefix_end(&prefix).map(|h| format!("{h:0<12}"));
    let mut q = units::table
        .filter(units::illustrative.eq(true))
        .filter(units::kind.eq_any(["agency", "soe"]))
        .filter(units::division_code.ge(&lo))
        .select((units::id, units::name, units::division_code))
        .order(units::id.asc())
        .into_boxed();
    if let Some(hi) = &hi {
        q = q.filter(units::division_code.lt(hi.clone()));
    }
    let agencies: Vec<(i64, String, String)> = q.load(conn)?;
    let is_gov = |name: &str| name.ends_with("人民政府") || name.ends_with("办事处");
    let county_units: Vec<&(i64, String, String)> = agencies.iter().filter(|u| !is_gov(&u.1)).collect();
    if county_units.is_empty() || county.towns.is_empty() {
        return Ok(DispatchDemo {
            skipped: true,
            ..Default::default()
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(mix(DEMO_SEED, &format!("dispatch:{county_code}")));
    let at = now();

    // Zone villages (not communities) with their zone's theme.
    let zone_rows: Vec<(String, String)> = zone_members::table
        .inner_join(zones::table.inner_join(programs::table))
        .filter(programs::county_code.eq(county_code))
        .order((zones::sort_order.asc(), zone_members::division_code.asc()))
        .select((zone_members::division_code, zones::theme))
        .load(conn)?;
    let mut theme_of: BTreeMap<String, String> = BTreeMap::new();
    for (code, theme) in zone_rows {
        let community = DivisionCode::parse(&code)
            .ok()
            .and_then(|c| c.village_kind())
            .is_none_or(|k| k.is_community());
        if !community {
            theme_of.entry(code).or_insert(theme);
        }
    }
    let villages: Vec<String> = theme_of.keys().cloned().collect();

    // Needs, hinted by the units in each village and the zone's theme.
    let mut names_in: HashMap<String, Vec<String>> = HashMap::new();
    let unit_rows: Vec<(String, String)> = units::table
        .filter(units::division_code.eq_any(&villages))
        .select((units::division_code, units::name))
        .load(conn)?;
    for (v, n) in unit_rows {
        names_in.entry(v).or_default().push(n);
    }
    let mut needs: Vec<(String, String, i32)> = Vec::new();
    for v in &villages {
        let mut hinted: Vec<&str> = Vec::new();
        for name in names_in.get(v).map(Vec::as_slice).unwrap_or_default() {
            for (text, skill) in HINTS {
                if name.contains(text) && !hinted.contains(skill) {
                    hinted.push(skill);
                }
            }
        }
        hinted.shuffle(&mut rng);
        let mut themed: Vec<&str> = theme_skills(&theme_of[v]).to_vec();
        themed.shuffle(&mut rng);
        let mut pick: Vec<&str> = Vec::new();
        for s in hinted.into_iter().chain(themed) {
            if !pick.contains(&s) {
                pick.push(s);
            }
        }
        let n = rng.random_range(1..=3).min(pick.len());
        for (k, skill) in pick.into_iter().take(n).enumerate() {
            let priority = if k == 0 {
                rng.random_range(2..=3)
            } else {
                rng.random_range(1..=3)
            };
            needs.push((v.clone(), skill.to_string(), priority));
        }
    }
    cadres::upsert_needs(conn, &needs, true)?;

    // Twinning: county units with zone villages, a town's school or health centre preferably
    // with a village of its own town.
    let mut chosen = villages.clone();
    chosen.shuffle(&mut rng);
    chosen.truncate(TWINNED_VILLAGES);
    chosen.sort();
    let mut pairs: Vec<(i64, String)> = Vec::new();
    let county_wide: Vec<&&(i64, String, String)> = county_units
        .iter()
        .filter(|u| u.1.contains("组织部") || !(u.1.contains("学校") || u.1.contains("卫生")))
        .collect();
    for v in &chosen {
        let town = &v[..9];
        let local: Vec<&&(i64, String, String)> = county_units.iter().filter(|u| u.2.starts_with(town)).collect();
        let unit = if !local.is_empty() && rng.random_bool(0.5) {
            local.choose(&mut rng).map(|u| u.0)
        } else {
            county_wide.choose(&mut rng).map(|u| u.0)
        };
        if let Some(u) = unit {
            pairs.push((u, v.clone()));
        }
    }
    let twinned_units: Vec<i64> = pairs.iter().map(|p| p.0).collect::<BTreeSet<_>>().into_iter().collect();
    let twinning = cadres::insert_twinning(conn, &pairs, true)?;

    // The roster.
    let reference = date(DEMO_AS_OF);
    let mut ages: Vec<u32> = (0..DEMO_CADRES)
        .map(|i| {
            if i < DEMO_YOUNG {
                rng.random_range(26..=40)
            } else {
                rng.random_range(41..=54)
            }
        })
        .collect();
    ages.shuffle(&mut rng);
    let region = &county.code[..6];
    let mut ids = BTreeSet::new();
    let mut rows: Vec<NewCadre> = Vec::with_capacity(DEMO_CADRES);
    let mut skills: Vec<Vec<String>> = Vec::with_capacity(DEMO_CADRES);
    for (i, age) in ages.into_iter().enumerate() {
        let male = rng.random_bool(0.7);
        let back = chrono::Months::new(12 * age);
        let birth = reference
            .checked_sub_months(back)
            .unwrap_or(reference)
            .checked_sub_days(chrono::Days::new(rng.random_range(0..=360)))
            .unwrap_or(reference);
        let id_number = loop {
            let k: u16 = rng.random_range(0..50);
            let seq = 800 + 2 * k + u16::from(male);
            let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let Some(check) = ringline_core::id_number::check_character(&first17) else {
                continue;
            };
            let id = format!("{first17}{check}");
            if ids.insert(id.clone()) {
                break id;
            }
        };
        let phone = format!(
            "{}{:08}",
            MOBILE_PREFIXES.choose(&mut rng).copied().unwrap_or("139"),
            rng.random_range(0..100_000_000u32)
        );
        let t = rng.random_range(0..county.towns.len());
        let town = &county.towns[t];
        let (unit, unit_name, division, source_town) = if i % 2 == 0 {
            (None, None, town.code.clone(), Some(town.code.clone()))
        } else {
            let pool: Vec<&&(i64, String, String)> = if rng.random_bool(0.7) {
                county_units.iter().filter(|u| twinned_units.contains(&u.0)).collect()
            } else {
                county_units.iter().collect()
            };
            let u = pool.choose(&mut rng).copied().copied().unwrap_or(county_units[0]);
            (Some(u.0), Some(u.1.as_str()), u.2.clone(), None)
        };
        let tibetan = town.name.contains("藏族");
        let name = person_name(&mut rng, male, tibetan);
        let home_village = {
            let own = if unit.is_none() { 0.6 } else { 0.0 };
            let any = if unit.is_none() { 0.0 } else { 0.4 };
            if rng.random_bool(own) {
                town.villages.choose(&mut rng).map(|v| v.code.clone())
            } else if rng.random_bool(any) {
                let all: Vec<&String> = county
                    .towns
                    .iter()
                    .flat_map(|t| t.villages.iter().map(|v| &v.code))
                    .collect();
                all.choose(&mut rng).map(|c| (*c).clone())
            } else {
                None
            }
        };
        let mut mine: Vec<String> = Vec::new();
        let lean = source_skills(unit_name);
        let n = rng.random_range(2..=3);
        while mine.len() < n {
            let s = if rng.random_bool(0.7) {
                lean.choose(&mut rng).copied().unwrap_or("party_affairs")
            } else {
                ALL_SKILLS.choose(&mut rng).copied().unwrap_or("governance")
            };
            if !mine.iter().any(|m| m == s) {
                mine.push(s.to_string());
            }
        }
        rows.push(NewCadre {
            name,
            id_number,
            sex: if male { "male" } else { "female" }.into(),
            birth_date: birth,
            phone: Some(phone),
            source_unit_id: unit,
            source_town,
            home_village,
            division_code: division,
            illustrative: true,
            created_at: at,
            updated_at: at,
        });
        skills.push(mine);
    }
    cadres::insert_cadres(conn, &rows, &skills)?;
    crate::audit::record(
        conn,
        &Access::system(),
        crate::audit::Change {
            action: "generate",
            entity: "dispatch",
            entity_id: county_code,
            detail: format!(
                "illustrative data: {} cadres, {} twinning pairs, needs of {} villages",
                rows.len(),
                twinning,
                villages.len()
            ),
            scope: prefix.clone(),
            ..Default::default()
        },
    )?;

    // The confirmed earlier batch and its residencies.
    let system = Access::system();
    let earlier = BatchInput {
        min_size: 10,
        max_size: 12,
        ..BatchInput::new(EARLIER_BATCH, county_code, date(EARLIER_DATE))
    };
    let earlier_id = batch::create_batch_as(conn, &system, &earlier, true).map_err(|e| task(e.into()))?;
    batch::run(conn, &system, earlier_id).map_err(task)?;
    let stays = batch::confirm(conn, &system, earlier_id).map_err(task)?;
    residency_records(conn, &mut rng, &stays)?;

    // The draft batch, planned.
    let draft = BatchInput::new(DEMO_BATCH, county_code, reference);
    let draft_id = batch::create_batch_as(conn, &system, &draft, true).map_err(|e| task(e.into()))?;
    let plan = batch::run(conn, &system, draft_id).map_err(task)?;

    Ok(DispatchDemo {
        cadres: rows.len(),
        twinning,
        villages_with_needs: villages.len(),
        residencies: stays.len(),
        planned_pairs: plan.pairs.len(),
        skipped: false,
    })
}

/// Attendance, work logs and leave for the earlier batch's residencies.
fn residency_records(conn: &mut DbConn, rng: &mut ChaCha8Rng, stays: &[i64]) -> DbResult<()> {
    use crate::db::schema::{cadre_skills, residencies};
    let rows: Vec<(i64, i64, NaiveDate, NaiveDate)> = residencies::table
        .filter(residencies::id.eq_any(stays))
        .order(residencies::id.asc())
        .select((
            residencies::id,
            residencies::cadre_id,
            residencies::start_date,
            residencies::end_date,
        ))
        .load(conn)?;
    let last_month = date((2026, 10, 1));
    let log_until = date((2026, 11, 25));
    let at = now();
    let mut months = Vec::new();
    let mut logs = Vec::new();
    for (r, cadre, start, _) in &rows {
        let mut m = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(*start);
        while m <= last_month {
            let Some(next) = m.checked_add_months(chrono::Months::new(1)) else {
                break;
            };
            let length = i32::try_from((next - m).num_days()).unwrap_or(28);
            let days: i32 = if rng.random_bool(0.12) {
                rng.random_range(12..20)
            } else {
                rng.random_range(20..=26)
            };
            months.push((*r, m.format("%Y-%m").to_string(), days.min(length)));
            m = next;
        }
        let skill: Option<String> = cadre_skills::table
            .filter(cadre_skills::cadre_id.eq(cadre))
            .select(cadre_skills::skill)
            .first(conn)
            .optional()?;
        let skill_zh = match skill.as_deref() {
            Some("agriculture") => "种植技术",
            Some("animal_husbandry") => "牦牛藏羊养殖",
            Some("e_commerce") => "农村电商",
            Some("tourism") => "乡村旅游接待",
            Some("finance") => "村级财务",
            _ => "实用技术",
        };
        let span = (log_until - *start).num_days().max(1);
        let mut days: Vec<i64> = (0..rng.random_range(4..=8))
            .map(|_| rng.random_range(0..span))
            .collect();
        days.sort_unstable();
        days.dedup();
        for d in days {
            let template = LOGS.choose(rng).copied().unwrap_or(LOGS[0]);
            let content = template
                .replace("{n}", &rng.random_range(3..=30).to_string())
                .replace("{v}", "本村")
                .replace("{s}", skill_zh);
            logs.push(NewWorkLog {
                residency_id: *r,
                date: *start + chrono::Duration::days(d),
                content,
                illustrative: true,
                created_at: at,
                created_by: "system".into(),
            });
        }
    }
    residency::insert_attendance(conn, &months, "system")?;
    residency::insert_work_logs(conn, &logs)?;
    let leave = |r: i64, s: (i32, u32, u32), e: (i32, u32, u32), reason: &str, decided: Option<&str>| {
        let days = residency::leave_days(date(s), date(e));
        NewLeave {
            residency_id: r,
            start_date: date(s),
            end_date: date(e),
            days,
            reason: reason.into(),
            status: decided.unwrap_or("pending").into(),
            approver_level: residency::approver_level(days).into(),
            requested_at: at,
            requested_by: "system".into(),
            decided_by: decided.map(|_| "system".to_string()),
            decided_at: decided.map(|_| at),
            illustrative: true,
        }
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut requests = Vec::new();
    if let Some(&r) = ids.first() {
        requests.push(leave(r, (2026, 12, 3), (2026, 12, 4), "家中老人住院，需陪护", None));
    }
    if let Some(&r) = ids.get(1) {
        requests.push(leave(
            r,
            (2026, 12, 7),
            (2026, 12, 11),
            "参加县委党校集中培训后返家处理事务",
            None,
        ));
    }
    if let Some(&r) = ids.get(2) {
        requests.push(leave(
            r,
            (2026, 3, 16),
            (2026, 3, 16),
            "孩子学校家长会",
            Some("approved"),
        ));
    }
    if let Some(&r) = ids.get(3) {
        requests.push(leave(r, (2026, 2, 13), (2026, 2, 19), "春节探亲", Some("approved")));
    }
    residency::insert_leave(conn, &requests)?;
    Ok(())
}
