//! Illustrative registry data (SPEC §3 "demo records", §4 "benchmarks with a data generator"):
//! units, party organizations and party members generated on top of real divisions.
//!
//! - [`demo`]: the county demo. For each town and village stored under a county it creates the
//!   county party committee (code = the county's code, hosted by the county organization
//!   department), a committee per town (code = the town's code, hosted by the town government),
//!   one branch per village/community (code = the village's code), ~2,000 units (village
//!   committees, agencies, SOEs, markets, cooperatives, non-public enterprises and social
//!   organisations) and ~20,000 members (SPEC §4 county scale). Deterministic: a fixed seed and a
//!   fixed reference date ([`DEMO_AS_OF`]) give the same records every time (timestamps aside).
//!   Written in one transaction, and only into an empty registry.
//! - [`generate_into_db`]: the same generator over every county under a code prefix (a province,
//!   the nation), scaled to a member total; one transaction per county, so a scale run is not
//!   atomic as a whole but each county is.
//! - [`write_files`]: the same records as `units`, `orgs` and `members` files (XLSX or CSV) with
//!   the Chinese headers and labels of [`crate::import::spec`], as a person would type them, so
//!   they re-import through the import framework.
//! - [`member_file`]: an XLSX of N member rows referencing the Datong demo's village branches, for
//!   import benchmarks.
//! - [`dispatch_demo`] (called by [`demo`]): the dispatched cadres of the demo (SPEC C7) — roster,
//!   twinning, needs, a confirmed earlier batch with residency records and the planned draft
//!   batch [`DEMO_BATCH`].
//! - [`economy_demo`] (called by [`demo`]): lead products, collective income 2021–2025 with
//!   targets, development chains and party-building brands (SPEC C4, C5).
//!
//! Every row is marked `illustrative`. Every credit code passes GB 32100 (its body is a GB 11714
//! organization code with its own check character), every ID number passes GB 11643 with the
//! county's code as address code, and every phone is an 11-digit mobile number.
//!
//! Coverage (SPEC C3) is drawn per town: in each town a share of the non-public enterprises and
//! social organisations between ~58 % and ~92 % (higher in the county seat and, in Datong, the
//! ring-zone towns) has an organization — its own branch when it has 30 or more people, else a
//! joint branch with 1–3 other small units of the town —, ~15 % have a party-building instructor
//! only, and the rest are uncovered; about 70 % are covered overall.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use diesel::prelude::*;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ringline_core::division::{DivisionCode, Level};
use ringline_core::geo::LonLat;
use serde::Serialize;

mod dispatch;
mod economy;

pub use dispatch::{DEMO_BATCH, DispatchDemo, EARLIER_BATCH, dispatch_demo};
pub use economy::{EconomyDemo, economy_demo};

use crate::db::schema::{divisions, party_org_units, party_orgs, units};
use crate::db::{DbConn, DbError, DbResult, now, prefix_end};
use crate::import::spec;
use crate::registry::{self, NewMember, NewOrg, NewUnit};

/// Seed of the demo (and of scale data unless another is given).
pub const DEMO_SEED: u64 = 0x5249_4E47_4C49_4E45;
/// Reference date of the demo: join dates lie before it, probationary members joined in the year
/// before it. Fixed so the demo is the same whenever it is generated.
pub const DEMO_AS_OF: (i32, u32, u32) = (2026, 11, 1);
/// Members of the county demo (SPEC §4 county scale).
pub const DEMO_MEMBERS: usize = 20_000;
/// Datong's village count (data/datong/divisions.csv), the base of the scaling.
const DATONG_VILLAGES: f64 = 313.0;
/// Units per village other than village committees, agencies and SOEs at county scale: with
/// Datong's 313 villages and 20 towns this makes 2,000 units in all
/// (1 + 3 × 20 + 313 + 8 SOEs + 1,618).
const OTHER_UNITS: f64 = 1_618.0;
/// SOEs of a county at county scale.
const SOES: f64 = 8.0;
/// Default member total of `generate --scale province` (SPEC §4 province scale).
pub const PROVINCE_MEMBERS: usize = 1_000_000;
/// Default member total of `generate --scale nation`: 10 million, a tenth of the real party,
/// 16 per village of the 620,572 of the national table (with 1.56 million units and 1.23 million
/// organizations: 10.5 minutes into SQLite on the 2-core build machine, release build).
pub const NATION_MEMBERS: usize = 10_000_000;
/// The province of `generate --scale province`: Yunnan (53), whose 14,888 villages in the 2023
/// national table are the count closest to SPEC §4's 15,000 (Xinjiang 65 has 14,721, Inner
/// Mongolia 15 has 14,592).
pub const DEFAULT_PROVINCE: &str = "53";
/// Data rows per XLSX file: the sheet limit is 1,048,576 rows; larger outputs continue in
/// `members_2.xlsx` and so on.
pub const XLSX_ROWS_PER_FILE: usize = 1_000_000;
/// Datong's ring-zone towns (SPEC §3: 桥头镇, 朔北藏族乡, 良教乡), given more units.
const DATONG_RING_TOWNS: [&str; 3] = ["630121100000", "630121210000", "630121207000"];

/// What [`demo`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// Units written.
    pub units: usize,
    /// Party organizations written.
    pub orgs: usize,
    /// Members written.
    pub members: usize,
    /// Dispatched cadres written ([`dispatch_demo`]).
    pub cadres: usize,
    /// Residencies written (the demo's confirmed earlier batch).
    pub residencies: usize,
    /// Pairs in the plan of the demo's draft batch.
    pub planned_pairs: usize,
    /// What the economy demo wrote ([`economy_demo`]).
    pub economy: EconomyDemo,
    /// True when nothing was done because the registry and the dispatch tables already hold
    /// records (or the county has no villages).
    pub skipped: bool,
}

/// Options of a generation run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Random seed; each county's generator is seeded from it and the county code.
    pub seed: u64,
    /// Reference date for join dates.
    pub as_of: NaiveDate,
    /// First ID-number sequence code (0 or 500): the demo uses 000–499, [`member_file`] 500–999,
    /// so benchmark rows never collide with demo members.
    pub id_sequence_base: u16,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: DEMO_SEED,
            as_of: NaiveDate::from_ymd_opt(DEMO_AS_OF.0, DEMO_AS_OF.1, DEMO_AS_OF.2).unwrap_or(NaiveDate::MIN),
            id_sequence_base: 0,
        }
    }
}

/// A division as the generator reads it.
#[derive(Debug, Clone)]
pub struct Place {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent code.
    pub parent: Option<String>,
    /// Own WGS-84 point.
    pub point: Option<LonLat>,
}

/// A village with its effective point.
#[derive(Debug, Clone)]
pub struct Village {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Own point, else the town seat's.
    pub point: Option<LonLat>,
    /// A residents' committee (community).
    pub community: bool,
}

/// A town with its villages.
#[derive(Debug, Clone)]
pub struct Town {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Seat point.
    pub point: Option<LonLat>,
    /// Villages, by code.
    pub villages: Vec<Village>,
}

/// A county (or a city without counties) with its towns: the unit of generation.
#[derive(Debug, Clone)]
pub struct County {
    /// 12-digit code.
    pub code: String,
    /// Name (the code when the division is not known).
    pub name: String,
    /// Towns, by code.
    pub towns: Vec<Town>,
}

impl County {
    /// Number of villages.
    pub fn villages(&self) -> usize {
        self.towns.iter().map(|t| t.villages.len()).sum()
    }

    /// Significant code prefix (e.g. `630121`): every generated code starts with it.
    pub fn prefix(&self) -> String {
        DivisionCode::parse(&self.code).map_or_else(|_| self.code.clone(), |c| c.prefix().to_string())
    }
}

/// Groups divisions into counties: towns by their parent, villages by their town. Villages whose
/// town is not listed are left out; counties without villages too.
pub fn counties(places: &[Place]) -> Vec<County> {
    let names: HashMap<&str, &str> = places.iter().map(|p| (p.code.as_str(), p.name.as_str())).collect();
    let mut towns: BTreeMap<&str, Town> = BTreeMap::new();
    let mut county_of: BTreeMap<&str, &str> = BTreeMap::new();
    for p in places.iter().filter(|p| p.level == Level::Town) {
        let Some(parent) = p.parent.as_deref() else { continue };
        county_of.insert(&p.code, parent);
        towns.insert(
            &p.code,
            Town {
                code: p.code.clone(),
                name: p.name.clone(),
                point: p.point,
                villages: Vec::new(),
            },
        );
    }
    let mut villages: Vec<&Place> = places.iter().filter(|p| p.level == Level::Village).collect();
    villages.sort_by(|a, b| a.code.cmp(&b.code));
    for v in villages {
        let Some(t) = v.parent.as_deref().and_then(|p| towns.get_mut(p)) else {
            continue;
        };
        let community = DivisionCode::parse(&v.code)
            .ok()
            .and_then(|c| c.village_kind())
            .is_some_and(|k| k.is_community());
        t.villages.push(Village {
            code: v.code.clone(),
            name: v.name.clone(),
            point: v.point.or(t.point),
            community,
        });
    }
    let mut out: BTreeMap<&str, County> = BTreeMap::new();
    for (code, town) in towns {
        let Some(&parent) = county_of.get(code) else { continue };
        out.entry(parent)
            .or_insert_with(|| County {
                code: parent.to_string(),
                name: names.get(parent).map_or_else(|| parent.to_string(), |n| n.to_string()),
                towns: Vec::new(),
            })
            .towns
            .push(town);
    }
    out.into_values().filter(|c| c.villages() > 0).collect()
}

/// Members of every generated village branch at least (a party branch has three members or
/// more: 中国共产党支部工作条例（试行） art. 5).
pub const MIN_BRANCH_MEMBERS: usize = 3;

/// The smallest member total a county (or set of counties) of `villages` villages can be
/// generated with exactly: [`MIN_BRANCH_MEMBERS`] per village branch.
pub fn min_members(villages: usize) -> usize {
    MIN_BRANCH_MEMBERS * villages
}

/// How much to generate for one county.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// Members in all, exactly, when at least [`min_members`] of the county's villages (the
    /// units' organizations get fewer members when needed); below that every village branch
    /// still gets [`MIN_BRANCH_MEMBERS`].
    pub members: usize,
    /// Units other than village committees, agencies and SOEs.
    pub other_units: usize,
    /// SOEs.
    pub soes: usize,
    /// Size factor of unit organizations relative to county scale (members per village / 63.9).
    pub size: f64,
}

impl Targets {
    /// Targets for a county of `villages` villages and `members` members, in county-scale
    /// proportions (Datong: 313 villages, 20,000 members → 2,000 units).
    pub fn for_county(villages: usize, members: usize) -> Targets {
        let v = villages.max(1) as f64;
        let size = members as f64 / v / (DEMO_MEMBERS as f64 / DATONG_VILLAGES);
        Targets {
            members,
            other_units: (OTHER_UNITS / DATONG_VILLAGES * v * size).round() as usize,
            soes: ((SOES * size).round() as usize).max(1),
            size,
        }
    }
}

/// A generated unit.
#[derive(Debug, Clone, PartialEq)]
pub struct GenUnit {
    /// Full name (unique within the county).
    pub name: String,
    /// Kind key ([`spec::UNIT_KINDS`]).
    pub kind: &'static str,
    /// Unified social credit code, valid per GB 32100.
    pub credit_code: String,
    /// Village or town code.
    pub division_code: String,
    /// Address.
    pub address: String,
    /// WGS-84 point near the village's effective point.
    pub point: Option<LonLat>,
    /// People working there.
    pub headcount: i32,
    /// Party members employed there (as generated).
    pub party_member_count: i32,
}

/// A generated party organization; references are indexes into the same [`Generated`].
#[derive(Debug, Clone, PartialEq)]
pub struct GenOrg {
    /// Code: a division code for committees and village branches, `<town code>-<nnn>` for the
    /// organizations of units.
    pub code: String,
    /// Full name.
    pub name: String,
    /// `committee`, `general_branch` or `branch`.
    pub kind: &'static str,
    /// Parent organization (an earlier index).
    pub parent: Option<usize>,
    /// `own`, `joint` or `instructor`.
    pub mode: &'static str,
    /// Host unit.
    pub host_unit: Option<usize>,
    /// Host village.
    pub village_code: Option<String>,
    /// The host's division.
    pub division_code: String,
    /// Units covered (host first).
    pub covers: Vec<usize>,
}

/// A generated party member.
#[derive(Debug, Clone, PartialEq)]
pub struct GenMember {
    /// Name.
    pub name: String,
    /// ID number, valid per GB 11643.
    pub id_number: String,
    /// `male` or `female`.
    pub sex: &'static str,
    /// Birth date (as in the ID number).
    pub birth_date: NaiveDate,
    /// Mobile number.
    pub phone: String,
    /// `full` or `probationary`.
    pub status: &'static str,
    /// Join date.
    pub join_date: NaiveDate,
    /// Party organization (index).
    pub org: usize,
    /// Employer unit (index).
    pub employer: Option<usize>,
    /// Home community or village code.
    pub home_community: String,
    /// The organization's division.
    pub division_code: String,
}

/// Everything generated for one county.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generated {
    /// County code.
    pub county: String,
    /// Units.
    pub units: Vec<GenUnit>,
    /// Organizations, parents before children.
    pub orgs: Vec<GenOrg>,
    /// Members.
    pub members: Vec<GenMember>,
}

impl Generated {
    /// The employer name of a member as written in files (empty without one).
    pub fn employer_name(&self, m: &GenMember) -> &str {
        m.employer
            .and_then(|u| self.units.get(u))
            .map_or("", |u| u.name.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Word lists. Illustrative: surnames and names common in Qinghai (Han, Hui, Tu, Tibetan), Datong's
// products (yak beef, chicken-leg scallion, oilseed rape, highland barley, broad beans, potatoes)
// and rural tourism.

const SURNAMES: &[(&str, u32)] = &[
    ("马", 120),
    ("李", 80),
    ("王", 80),
    ("张", 70),
    ("刘", 40),
    ("韩", 40),
    ("祁", 30),
    ("陈", 30),
    ("赵", 30),
    ("杨", 30),
    ("冶", 20),
    ("鲁", 20),
    ("朱", 20),
    ("孙", 20),
    ("周", 20),
    ("胡", 20),
    ("魏", 20),
    ("董", 20),
    ("郭", 20),
    ("吴", 20),
    ("喇", 10),
    ("吕", 10),
    ("谢", 10),
    ("汪", 10),
    ("蔡", 10),
    ("乔", 10),
    ("何", 10),
    ("铁", 10),
    ("沈", 10),
    ("苏", 10),
    ("冯", 10),
    ("徐", 10),
    ("宋", 10),
    ("白", 10),
    ("石", 10),
    ("晁", 10),
    ("安", 10),
    ("黄", 10),
    ("罗", 10),
    ("邓", 10),
    ("文", 10),
    ("海", 10),
    ("保", 10),
    ("席", 10),
    ("蒲", 10),
    ("星", 5),
    ("辛", 5),
    ("雷", 5),
];
const MALE_CHARS: &[&str] = &[
    "海", "明", "国", "华", "建", "军", "忠", "福", "德", "林", "文", "成", "强", "伟", "平", "生", "云", "峰", "龙",
    "俊", "斌", "东", "杰", "宏", "勇", "涛", "鹏", "亮", "春", "荣", "祥", "贵", "有", "占", "才", "永", "发", "全",
    "清", "山", "元", "录", "顺", "学", "志", "武", "良", "宝", "奎", "存",
];
const FEMALE_CHARS: &[&str] = &[
    "英", "兰", "梅", "芳", "秀", "花", "琴", "霞", "玲", "娟", "燕", "丽", "红", "莲", "萍", "桂", "凤", "静", "婷",
    "慧", "敏", "雪", "艳", "珍", "玉", "菊", "娥", "香", "云", "春",
];
/// Common given names: (single-character, two-character).
const MALE_GIVEN: (&[&str], &[&str]) = (
    &[
        "伟", "强", "军", "杰", "涛", "斌", "勇", "鹏", "亮", "峰", "龙", "海", "平", "林", "明",
    ],
    &[
        "建国", "海明", "德福", "永福", "国华", "志强", "文斌", "成林", "生福", "有才", "占魁", "国庆", "永红", "建军",
        "海龙", "文军", "俊杰", "宏伟", "福林", "德明", "玉林", "正国", "春生", "振华", "学文", "占山", "存良", "发元",
        "宝山", "金福",
    ],
);
const FEMALE_GIVEN: (&[&str], &[&str]) = (
    &["芳", "娟", "燕", "丽", "霞", "敏", "静", "婷", "梅", "红", "兰", "英"],
    &[
        "秀英", "桂兰", "玉梅", "海燕", "丽娟", "春花", "秀兰", "淑珍", "玉兰", "红梅", "晓燕", "文静", "雪梅", "春梅",
        "玉珍", "秀芳", "金花", "海霞", "丽萍", "桂英", "彩霞", "艳红", "慧敏", "婷婷", "玉莲",
    ],
);
const TIBETAN_MALE: &[&str] = &[
    "才让",
    "扎西",
    "多杰",
    "索南",
    "旦正",
    "尕藏",
    "更登",
    "拉加",
    "东智",
    "仁青",
    "才让加",
    "桑杰",
    "华旦",
    "周加",
    "公保",
    "久美",
    "完玛",
    "官却",
];
const TIBETAN_FEMALE: &[&str] = &[
    "卓玛",
    "拉毛",
    "措毛",
    "才措",
    "德吉",
    "央金",
    "吉毛",
    "卓玛措",
    "拉姆",
    "才吉",
    "桑吉卓玛",
    "娘吉",
];
/// Mobile prefixes in use (China Mobile, Unicom, Telecom).
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "198", "199",
];
const LIVESTOCK: &[&str] = &["牦牛", "牦牛", "藏羊", "肉牛", "奶牛", "生猪"];
const CROPS: &[&str] = &["鸡腿葱", "青稞", "油菜", "马铃薯", "蚕豆", "中药材", "蔬菜", "食用菌"];
const FOODS: &[&str] = &["牦牛肉", "青稞", "菜籽油", "马铃薯", "蚕豆", "农产品"];
const TRADES: &[&str] = &[
    "商贸",
    "物流",
    "建筑工程",
    "建材",
    "电子商务",
    "汽车修理",
    "餐饮管理",
    "劳务服务",
    "农资",
    "装饰工程",
];
const BRANDS: &[&str] = &[
    "兴旺", "丰源", "鑫达", "恒通", "绿源", "惠民", "福兴", "宏达", "瑞丰", "金穗", "高原", "雪域", "康乐", "祥和",
    "永盛", "聚福", "万通", "源丰", "富农", "青牧",
];
const ASSOCIATIONS: &[&str] = &[
    "牦牛养殖",
    "青稞种植",
    "鸡腿葱产业",
    "乡村旅游",
    "个体劳动者",
    "农村电子商务",
    "老年人",
    "红白理事",
    "油菜种植",
    "民间文艺",
];
const SOE_NAMES: &[&str] = &[
    "城乡建设投资有限公司",
    "农业发展投资有限公司",
    "水务有限公司",
    "文化旅游发展有限公司",
    "国有资产投资经营有限公司",
    "公共交通有限公司",
    "粮油购销有限公司",
    "供热有限公司",
    "自来水有限公司",
    "工业园区开发建设有限公司",
];

/// The words of a village name: ("老幼", "老幼村") for 老幼村委会, ("人民路南", "人民路南社区")
/// for 人民路南居委会.
fn village_words(name: &str) -> (String, String) {
    for (suffix, display) in [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("牧委会", "牧委会"),
        ("社区", "社区"),
        ("村", "村"),
    ] {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return (stem.to_string(), format!("{stem}{display}"));
        }
    }
    (name.to_string(), name.to_string())
}

/// The short name of a county as used in unit names: 大通县 for 大通回族土族自治县.
fn county_short(name: &str) -> String {
    if name.ends_with("自治县") {
        let first: String = name.chars().take(2).collect();
        return format!("{first}县");
    }
    name.to_string()
}

/// GB 11714 check character of an 8-character organization-code body: weights 3, 7, 9, 10, 5,
/// 8, 4, 2; `11 − (Σ mod 11)`, 10 written `X` and 11 written `0`; letters count A = 10 … Z = 35.
fn org_code_check(body: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(W).map(|(c, w)| c.to_digit(36).unwrap_or(0) * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        v => char::from_digit(v, 10).unwrap_or('0'),
    }
}

/// Splits `total` over `weights` in proportion, by largest remainder (ties by index).
fn apportion(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut rest = total.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

/// Picks an index by weight (`cumulative` ascending, last = total).
fn pick_weighted(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len().saturating_sub(1))
}

/// splitmix64: a seed per county from the run's seed and the county code.
fn mix(seed: u64, code: &str) -> u64 {
    let mut z = seed
        ^ code.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct TownInfo {
    seat: bool,
    busy: bool,
    tibetan: bool,
    rate: f64,
    communities: Vec<usize>,
    gov: usize,
    committee: usize,
    org_seq: u32,
}

/// The generator of one county.
struct Gen<'a> {
    rng: ChaCha8Rng,
    county: &'a County,
    short: String,
    region: String,
    opts: Options,
    targets: Targets,
    towns: Vec<TownInfo>,
    seat: usize,
    ids: HashSet<String>,
    codes: HashSet<String>,
    names: HashSet<String>,
    out: Generated,
    /// Per (town, village) index: members of the village branch employed by a unit there.
    dispersed: HashMap<(usize, usize), Vec<usize>>,
}

/// Generates one county's records.
pub fn generate_county(county: &County, targets: Targets, opts: &Options) -> Generated {
    let region: String = county.code.chars().take(6).collect();
    let communities = |t: &Town| -> Vec<usize> {
        t.villages
            .iter()
            .enumerate()
            .filter(|(_, v)| v.community)
            .map(|(i, _)| i)
            .collect()
    };
    // The seat: the town with the most communities (the first on a tie).
    let seat = county
        .towns
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| communities(a).len().cmp(&communities(b).len()).then(ib.cmp(ia)))
        .map_or(0, |(i, _)| i);
    let mut rng = ChaCha8Rng::seed_from_u64(mix(opts.seed, &county.code));
    let towns = county
        .towns
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let busy = i == seat || DATONG_RING_TOWNS.contains(&t.code.as_str());
            let rate: f64 = 0.58 + 0.27 * rng.random::<f64>() + if busy { 0.1 } else { 0.0 };
            TownInfo {
                seat: i == seat,
                busy,
                tibetan: t.name.contains("藏族"),
                rate: rate.min(0.92),
                communities: communities(t),
                gov: 0,
                committee: 0,
                org_seq: 0,
            }
        })
        .collect();
    let mut g = Gen {
        rng,
        county,
        short: county_short(&county.name),
        region,
        opts: *opts,
        targets,
        towns,
        seat,
        ids: HashSet::new(),
        codes: HashSet::new(),
        names: HashSet::new(),
        out: Generated {
            county: county.code.clone(),
            ..Default::default()
        },
        dispersed: HashMap::new(),
    };
    g.run();
    g.out
}

/// Kind of a unit to create.
#[derive(Clone, Copy, PartialEq)]
enum Made {
    Enterprise,
    Cooperative,
    Association,
    Volunteers,
    PrivateNonEnterprise,
    Market,
}

impl Gen<'_> {
    fn run(&mut self) {
        let c = self.county;
        // Agencies and committees.
        let seat_code = c.towns[self.seat].code.clone();
        let head = 40 + self.rng.random_range(0..20);
        let dept = self.unit_at_town(self.seat, format!("{}委组织部", self.short), "agency", ('1', '1'), head);
        self.out.orgs.push(GenOrg {
            code: c.code.clone(),
            name: format!("中共{}委员会", c.name),
            kind: "committee",
            parent: None,
            mode: "own",
            host_unit: Some(dept),
            village_code: None,
            division_code: seat_code,
            covers: vec![dept],
        });
        for t in 0..c.towns.len() {
            let town = &c.towns[t];
            let gov_name = if town.name.ends_with("街道") {
                format!("{}{}办事处", self.short, town.name)
            } else {
                format!("{}{}人民政府", self.short, town.name)
            };
            let head = 35 + self.rng.random_range(0..50);
            let gov = self.unit_at_town(t, gov_name, "agency", ('1', '1'), head);
            self.towns[t].gov = gov;
            self.towns[t].committee = self.out.orgs.len();
            self.out.orgs.push(GenOrg {
                code: town.code.clone(),
                name: format!("中共{}{}委员会", self.short, town.name),
                kind: "committee",
                parent: Some(0),
                mode: "own",
                host_unit: Some(gov),
                village_code: None,
                division_code: town.code.clone(),
                covers: vec![gov],
            });
        }
        // Village committees and village branches.
        let mut village_committee = HashMap::new();
        for t in 0..c.towns.len() {
            for v in 0..c.towns[t].villages.len() {
                let village = &c.towns[t].villages[v];
                let (_, display) = village_words(&village.name);
                let name = format!("{}{}{}", self.short, c.towns[t].name, village.name);
                let head = 5 + self.rng.random_range(0..5);
                let u = self.unit_in_village(t, v, name, "village_committee", ('Y', '1'), head);
                village_committee.insert((t, v), u);
                let committee = self.towns[t].committee;
                self.out.orgs.push(GenOrg {
                    code: village.code.clone(),
                    name: format!("{}{}{}党支部", self.short, c.towns[t].name, display),
                    kind: "branch",
                    parent: Some(committee),
                    mode: "own",
                    host_unit: None,
                    village_code: Some(village.code.clone()),
                    division_code: village.code.clone(),
                    // Hosted by the village, not by a unit: no unit links (as an import of the
                    // same row would store it).
                    covers: Vec::new(),
                });
            }
        }
        let mut unit_members: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
        // Town organs, schools and health centres.
        for t in 0..c.towns.len() {
            let size = self.size(20, 45);
            let gov = self.towns[t].gov;
            let name = format!("{}{}机关党支部", self.short, c.towns[t].name);
            let o = self.unit_org(t, gov, name, "branch", "own", vec![gov], Some(self.towns[t].committee));
            unit_members.push((o, vec![(gov, size)]));
            let street = c.towns[t].name.ends_with("街道");
            let school = format!("{}{}中心学校", self.short, c.towns[t].name);
            let health = if street {
                format!("{}{}社区卫生服务中心", self.short, c.towns[t].name)
            } else {
                format!("{}{}卫生院", self.short, c.towns[t].name)
            };
            for (name, lo, hi) in [(school, 8, 25), (health, 6, 18)] {
                let head = 30 + self.rng.random_range(0..90);
                let u = self.unit_at_town(t, name.clone(), "agency", ('1', '2'), head);
                let size = self.size(lo, hi);
                let o = self.unit_org(
                    t,
                    u,
                    format!("{name}党支部"),
                    "branch",
                    "own",
                    vec![u],
                    Some(self.towns[t].committee),
                );
                unit_members.push((o, vec![(u, size)]));
            }
        }
        // SOEs, in the seat's communities (or at the seat).
        let soe_names = {
            let mut v: Vec<&str> = SOE_NAMES.to_vec();
            v.shuffle(&mut self.rng);
            v
        };
        for i in 0..self.targets.soes {
            let base = soe_names[i % soe_names.len()];
            let name = if i < soe_names.len() {
                format!("{}{base}", self.short)
            } else {
                format!("{}{}{base}", self.short, BRANDS[i % BRANDS.len()])
            };
            let head = 30 + self.rng.random_range(0..270);
            let t = self.seat;
            let u = match self.towns[t].communities.choose(&mut self.rng).copied() {
                Some(v) => self.unit_in_village(t, v, name.clone(), "soe", ('9', '1'), head),
                None => self.unit_at_town(t, name.clone(), "soe", ('9', '1'), head),
            };
            let kind = if head >= 100 { "general_branch" } else { "branch" };
            let suffix = if kind == "branch" { "党支部" } else { "党总支" };
            let size = self.draw(10, 40);
            let o = self.unit_org(t, u, format!("{name}{suffix}"), kind, "own", vec![u], Some(0));
            unit_members.push((o, vec![(u, size)]));
        }
        // Other units, spread over villages by weight.
        let mut slots: Vec<(usize, usize)> = Vec::new();
        let mut cumulative = Vec::new();
        let mut acc = 0.0;
        for (t, town) in c.towns.iter().enumerate() {
            for (v, village) in town.villages.iter().enumerate() {
                let mut w = if village.community { 3.0 } else { 1.0 };
                if self.towns[t].busy {
                    w *= 1.8;
                }
                if self.towns[t].seat {
                    w *= 1.3;
                }
                acc += w;
                slots.push((t, v));
                cumulative.push(acc);
            }
        }
        let mut covered_kinds: Vec<Vec<usize>> = vec![Vec::new(); c.towns.len()];
        for _ in 0..self.targets.other_units {
            let (t, v) = slots[pick_weighted(&mut self.rng, &cumulative)];
            let r: f64 = self.rng.random();
            let made = match r {
                r if r < 0.56 => Made::Enterprise,
                r if r < 0.72 => Made::Cooperative,
                r if r < 0.86 => Made::Association,
                r if r < 0.92 => Made::Volunteers,
                r if r < 0.97 => Made::PrivateNonEnterprise,
                _ => Made::Market,
            };
            let u = self.other_unit(t, v, made);
            match made {
                Made::Enterprise | Made::Association | Made::Volunteers | Made::PrivateNonEnterprise => {
                    covered_kinds[t].push(u)
                }
                Made::Cooperative if self.rng.random_bool(0.3) => {
                    let name = format!("{}党支部", self.out.units[u].name);
                    let size = self.draw(3, 10);
                    let o = self.unit_org(t, u, name, "branch", "own", vec![u], Some(self.towns[t].committee));
                    unit_members.push((o, vec![(u, size)]));
                }
                Made::Market if self.rng.random_bool(0.5) => {
                    let name = format!("{}党支部", self.out.units[u].name);
                    let size = self.draw(3, 8);
                    let o = self.unit_org(t, u, name, "branch", "own", vec![u], Some(self.towns[t].committee));
                    unit_members.push((o, vec![(u, size)]));
                }
                _ => self.disperse(t, u),
            }
        }
        // Coverage of non-public enterprises and social organisations, town by town.
        for (t, mut list) in covered_kinds.into_iter().enumerate() {
            list.shuffle(&mut self.rng);
            let rate = self.towns[t].rate;
            let committee = self.towns[t].committee;
            let mut joint = Vec::new();
            let mut instructed = Vec::new();
            for u in list {
                let r: f64 = self.rng.random();
                if r < rate {
                    if self.out.units[u].headcount >= 30 {
                        let name = format!("{}党支部", self.out.units[u].name);
                        let size = self.draw(3, 12);
                        let o = self.unit_org(t, u, name, "branch", "own", vec![u], Some(committee));
                        unit_members.push((o, vec![(u, size)]));
                    } else {
                        joint.push(u);
                    }
                } else if r < rate + 0.15 {
                    instructed.push(u);
                } else {
                    self.disperse(t, u);
                }
            }
            let mut rest = &joint[..];
            while !rest.is_empty() {
                let n = self.rng.random_range(2..=4).min(rest.len());
                let (group, tail) = rest.split_at(n);
                rest = tail;
                let first = &self.out.units[group[0]].name;
                if group.len() == 1 {
                    let name = format!("{first}党支部");
                    let size = self.draw(3, 6);
                    let o = self.unit_org(t, group[0], name, "branch", "own", vec![group[0]], Some(committee));
                    unit_members.push((o, vec![(group[0], size)]));
                    continue;
                }
                let name = format!("{first}等{}家单位联合党支部", group.len());
                let o = self.unit_org(t, group[0], name, "branch", "joint", group.to_vec(), Some(committee));
                let counts: Vec<(usize, usize)> = group.iter().map(|&u| (u, self.draw(1, 3).clamp(1, 3))).collect();
                unit_members.push((o, counts));
            }
            let mut rest = &instructed[..];
            while !rest.is_empty() {
                let n = self.rng.random_range(1..=3).min(rest.len());
                let (group, tail) = rest.split_at(n);
                rest = tail;
                let first = &self.out.units[group[0]].name;
                let name = if group.len() == 1 {
                    format!("{}{}党建指导员（{first}）", self.short, c.towns[t].name)
                } else {
                    format!(
                        "{}{}党建指导员（{first}等{}家）",
                        self.short,
                        c.towns[t].name,
                        group.len()
                    )
                };
                self.unit_org(
                    t,
                    group[0],
                    name,
                    "branch",
                    "instructor",
                    group.to_vec(),
                    Some(committee),
                );
                for &u in group {
                    self.disperse(t, u);
                }
            }
        }
        // Members of village branches need at least 3 each (a party branch has three members or
        // more); when the units' organizations would leave less than that of the target, their
        // members are cut in proportion, so the total is exactly the target.
        let villages: usize = c.towns.iter().map(|t| t.villages.len()).sum();
        let unit_budget = self.targets.members.saturating_sub(MIN_BRANCH_MEMBERS * villages);
        let planned: usize = unit_members.iter().flat_map(|(_, v)| v.iter().map(|(_, n)| n)).sum();
        if planned > unit_budget {
            let weights: Vec<f64> = unit_members
                .iter()
                .flat_map(|(_, v)| v.iter().map(|(_, n)| *n as f64))
                .collect();
            let mut cut = apportion(unit_budget, &weights).into_iter();
            for (_, counts) in &mut unit_members {
                for (_, n) in counts.iter_mut() {
                    *n = cut.next().unwrap_or(0);
                }
            }
        }
        // Members of unit organizations.
        let mut unit_total = 0;
        for (o, counts) in &unit_members {
            for &(u, n) in counts {
                for _ in 0..n {
                    self.member_of_unit(*o, u);
                    unit_total += 1;
                }
            }
        }
        // Members of village branches: the rest of the target, by village size.
        let mut weights = Vec::new();
        let mut places = Vec::new();
        for (t, town) in c.towns.iter().enumerate() {
            for (v, village) in town.villages.iter().enumerate() {
                let base = if village.community { 1.5 } else { 1.0 };
                weights.push(base * (0.6 + 0.8 * self.rng.random::<f64>()));
                places.push((t, v));
            }
        }
        let minimum = MIN_BRANCH_MEMBERS * places.len();
        let rest = self.targets.members.saturating_sub(unit_total);
        let extra = apportion(rest.saturating_sub(minimum), &weights);
        for (i, &(t, v)) in places.iter().enumerate() {
            let n = MIN_BRANCH_MEMBERS + extra[i];
            self.village_members(t, v, n, village_committee.get(&(t, v)).copied());
        }
        // Party member counts and headcounts as the units report them.
        let mut count = vec![0i32; self.out.units.len()];
        for m in &self.out.members {
            if let Some(u) = m.employer {
                count[u] += 1;
            }
        }
        for (u, n) in self.out.units.iter_mut().zip(count) {
            u.party_member_count = n;
            if u.headcount < n {
                u.headcount = n + u.headcount / 3;
            }
        }
    }

    /// A size of a unit organization, `lo..=hi` scaled by the target's size factor, at least 3.
    /// Members of an organization of which each county has a fixed number (town organs,
    /// schools, health centres): `lo..=hi` scaled by the county's size factor, so their share of
    /// the members stays the same at any scale.
    fn size(&mut self, lo: usize, hi: usize) -> usize {
        let n = self.rng.random_range(lo..=hi) as f64 * self.targets.size;
        (n.round() as usize).max(lo.min(3))
    }

    /// Members of an organization of a unit whose number already grows with the county's size
    /// (SOEs, enterprises, cooperatives …): `lo..=hi`, not scaled again (scaling both the number
    /// of units and their members would grow the unit members with the square of the size).
    /// Draws from the generator exactly as [`Gen::size`] does, so at size 1 both agree.
    fn draw(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.random_range(lo..=hi)
    }

    /// Marks an unorganized unit: 40 % have 1–2 party members, who belong to the village branch.
    fn disperse(&mut self, t: usize, u: usize) {
        if !self.rng.random_bool(0.4) {
            return;
        }
        let n = self.rng.random_range(1..=2);
        let code = self.out.units[u].division_code.clone();
        let Some(v) = self.county.towns[t].villages.iter().position(|v| v.code == code) else {
            return;
        };
        let list = self.dispersed.entry((t, v)).or_default();
        for _ in 0..n {
            list.push(u);
        }
    }

    fn credit_code(&mut self, (authority, kind): (char, char), ma: bool) -> String {
        const ALPHABET: &[u8] = ringline_core::credit_code::ALPHABET;
        loop {
            let body: String = if ma {
                let tail: String = (0..6)
                    .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
                    .collect();
                format!("MA{tail}")
            } else {
                format!("{:08}", self.rng.random_range(10_000_000u32..100_000_000))
            };
            let first17 = format!("{authority}{kind}{}{body}{}", self.region, org_code_check(&body));
            let Some(check) = ringline_core::credit_code::check_character(&first17) else {
                continue;
            };
            let code = format!("{first17}{check}");
            if self.codes.insert(code.clone()) {
                return code;
            }
        }
    }

    fn jitter(&mut self, p: Option<LonLat>, km: f64) -> Option<LonLat> {
        let p = p?;
        let dlat = (self.rng.random::<f64>() * 2.0 - 1.0) * km / 111.0;
        let dlon = (self.rng.random::<f64>() * 2.0 - 1.0) * km / (111.0 * p.lat.to_radians().cos().max(0.1));
        Some(LonLat {
            lon: ((p.lon + dlon) * 1e6).round() / 1e6,
            lat: ((p.lat + dlat) * 1e6).round() / 1e6,
        })
    }

    fn push_unit(&mut self, unit: GenUnit) -> usize {
        self.names.insert(unit.name.clone());
        self.out.units.push(unit);
        self.out.units.len() - 1
    }

    fn unit_at_town(&mut self, t: usize, name: String, kind: &'static str, code: (char, char), head: i32) -> usize {
        let town = &self.county.towns[t];
        let address = format!("{}{}", self.county.name, town.name);
        let division_code = town.code.clone();
        let point = self.jitter(town.point, 0.3);
        let credit_code = self.credit_code(code, false);
        self.push_unit(GenUnit {
            name,
            kind,
            credit_code,
            division_code,
            address,
            point,
            headcount: head,
            party_member_count: 0,
        })
    }

    fn unit_in_village(
        &mut self,
        t: usize,
        v: usize,
        name: String,
        kind: &'static str,
        code: (char, char),
        head: i32,
    ) -> usize {
        let town = &self.county.towns[t];
        let village = &town.villages[v];
        let (_, display) = village_words(&village.name);
        let address = if village.community {
            format!(
                "{}{}{}{}号",
                self.county.name,
                town.name,
                display,
                self.rng.random_range(1..=200)
            )
        } else {
            format!("{}{}{}", self.county.name, town.name, display)
        };
        let division_code = village.code.clone();
        let km = if village.community { 0.4 } else { 1.2 };
        let point = self.jitter(village.point, km);
        let ma = code.0 == '9';
        let credit_code = self.credit_code(code, ma);
        self.push_unit(GenUnit {
            name,
            kind,
            credit_code,
            division_code,
            address,
            point,
            headcount: head,
            party_member_count: 0,
        })
    }

    /// A new unit other than agencies, SOEs and village committees, with a unique name.
    fn other_unit(&mut self, t: usize, v: usize, made: Made) -> usize {
        let (stem, display) = village_words(&self.county.towns[t].villages[v].name);
        let short = self.short.clone();
        let mut attempt = 0;
        let (name, kind, code, head) = loop {
            let brand = if attempt == 0 && self.rng.random_bool(0.6) {
                String::new()
            } else if attempt < 20 {
                (*BRANDS.choose(&mut self.rng).unwrap_or(&"")).to_string()
            } else {
                format!(
                    "{}{}",
                    BRANDS[attempt % BRANDS.len()],
                    BRANDS[(attempt / BRANDS.len()) % BRANDS.len()]
                )
            };
            attempt += 1;
            let r: f64 = self.rng.random();
            let pick = |rng: &mut ChaCha8Rng, list: &[&'static str]| -> &'static str {
                list.choose(rng).copied().unwrap_or("")
            };
            let (name, kind, code, head) = match made {
                Made::Enterprise => {
                    let name = match r {
                        r if r < 0.22 => format!("{short}{stem}{brand}{}养殖有限公司", pick(&mut self.rng, LIVESTOCK)),
                        r if r < 0.42 => format!("{short}{stem}{brand}{}种植有限公司", pick(&mut self.rng, CROPS)),
                        r if r < 0.52 => format!("青海{stem}{brand}{}食品有限公司", pick(&mut self.rng, FOODS)),
                        r if r < 0.64 => format!("{short}{stem}{brand}乡村旅游开发有限公司"),
                        r if r < 0.70 => format!("{short}{stem}{brand}农家乐餐饮有限公司"),
                        _ => format!("{short}{stem}{brand}{}有限公司", pick(&mut self.rng, TRADES)),
                    };
                    let x: f64 = self.rng.random();
                    (
                        name,
                        "non_public_enterprise",
                        ('9', '1'),
                        3 + (x * x * x * 200.0) as i32,
                    )
                }
                Made::Cooperative => {
                    let name = match r {
                        r if r < 0.4 => format!("{short}{stem}{brand}{}养殖专业合作社", pick(&mut self.rng, LIVESTOCK)),
                        r if r < 0.85 => format!("{short}{stem}{brand}{}种植专业合作社", pick(&mut self.rng, CROPS)),
                        r if r < 0.93 => format!("{short}{stem}{brand}农机服务专业合作社"),
                        _ => format!("{short}{stem}{brand}乡村旅游专业合作社"),
                    };
                    (name, "cooperative", ('9', '3'), 5 + self.rng.random_range(0..50))
                }
                Made::Association => {
                    let name = format!("{short}{stem}{brand}{}协会", pick(&mut self.rng, ASSOCIATIONS));
                    let x: f64 = self.rng.random();
                    (name, "social_organization", ('5', '1'), 5 + (x * x * 60.0) as i32)
                }
                Made::Volunteers => {
                    let name = if attempt == 1 {
                        format!("{short}{display}新时代文明实践志愿服务队")
                    } else {
                        format!("{short}{display}{brand}志愿服务队")
                    };
                    let x: f64 = self.rng.random();
                    (name, "social_organization", ('5', '1'), 8 + (x * x * 60.0) as i32)
                }
                Made::PrivateNonEnterprise => {
                    let what = match r {
                        r if r < 0.4 => "幼儿园",
                        r if r < 0.75 => "养老服务中心",
                        _ => "职业技能培训学校",
                    };
                    let name = format!("{short}{stem}{brand}{what}");
                    (
                        name,
                        "social_organization",
                        ('5', '2'),
                        6 + self.rng.random_range(0..40),
                    )
                }
                Made::Market => {
                    let what = match r {
                        r if r < 0.5 => "农贸市场",
                        r if r < 0.8 => "牲畜交易市场",
                        _ => "农产品批发市场",
                    };
                    let name = format!("{short}{stem}{brand}{what}");
                    (name, "market", ('9', '1'), 10 + self.rng.random_range(0..70))
                }
            };
            if !self.names.contains(&name) {
                break (name, kind, code, head);
            }
        };
        self.unit_in_village(t, v, name, kind, code, head)
    }

    /// A unit's organization; its code is `<town code>-<nnn>`.
    #[allow(clippy::too_many_arguments)]
    fn unit_org(
        &mut self,
        t: usize,
        host: usize,
        name: String,
        kind: &'static str,
        mode: &'static str,
        covers: Vec<usize>,
        parent: Option<usize>,
    ) -> usize {
        self.towns[t].org_seq += 1;
        let code = format!("{}-{:03}", self.county.towns[t].code, self.towns[t].org_seq);
        self.out.orgs.push(GenOrg {
            code,
            name,
            kind,
            parent,
            mode,
            host_unit: Some(host),
            village_code: None,
            division_code: self.out.units[host].division_code.clone(),
            covers,
        });
        self.out.orgs.len() - 1
    }

    /// The town index of a unit (by its division code).
    fn town_of_unit(&self, u: usize) -> usize {
        let code = &self.out.units[u].division_code;
        self.county
            .towns
            .iter()
            .position(|t| code.starts_with(&t.code[..9]))
            .unwrap_or(self.seat)
    }

    fn member_of_unit(&mut self, org: usize, u: usize) {
        let t = self.town_of_unit(u);
        let unit_division = self.out.units[u].division_code.clone();
        let home = if t == self.seat && !self.towns[t].communities.is_empty() {
            let v = *self.towns[t].communities.choose(&mut self.rng).unwrap_or(&0);
            self.county.towns[t].villages[v].code.clone()
        } else if unit_division.ends_with("000") {
            // A unit at the town seat: its people live in the town's communities or villages.
            let town = &self.county.towns[t];
            let pool: Vec<usize> = if self.towns[t].communities.is_empty() {
                (0..town.villages.len()).collect()
            } else {
                self.towns[t].communities.clone()
            };
            match pool.choose(&mut self.rng) {
                Some(&v) => town.villages[v].code.clone(),
                None => town.code.clone(),
            }
        } else {
            unit_division
        };
        let division_code = self.out.orgs[org].division_code.clone();
        self.member(org, t, Some(u), home, division_code);
    }

    fn village_members(&mut self, t: usize, v: usize, n: usize, committee: Option<usize>) {
        let village = &self.county.towns[t].villages[v];
        let code = village.code.clone();
        let org = self
            .out
            .orgs
            .iter()
            .position(|o| o.village_code.as_deref() == Some(&code));
        let Some(org) = org else { return };
        let cadres = self.rng.random_range(3..=5).min(n);
        let dispersed = self.dispersed.remove(&(t, v)).unwrap_or_default();
        for i in 0..n {
            let employer = if i < cadres {
                committee
            } else {
                dispersed.get(i - cadres).copied()
            };
            self.member(org, t, employer, code.clone(), code.clone());
        }
    }

    fn member(&mut self, org: usize, t: usize, employer: Option<usize>, home: String, division_code: String) {
        let probationary = self.rng.random_bool(0.08);
        let male = self.rng.random_bool(if probationary { 0.55 } else { 0.72 });
        let as_of = self.opts.as_of;
        let birth = if probationary {
            let r: f64 = self.rng.random();
            random_day(&mut self.rng, 2004 - (r * r * 19.0) as i32)
        } else {
            let r: f64 = self.rng.random();
            let year = if r < 0.28 {
                self.rng.random_range(1940..1960)
            } else if r < 0.63 {
                self.rng.random_range(1960..1980)
            } else {
                self.rng.random_range(1980..=2004)
            };
            random_day(&mut self.rng, year)
        };
        let id_number = loop {
            let k = self.rng.random_range(0..250u16);
            let seq = self.opts.id_sequence_base + 2 * k + u16::from(male);
            let first17 = format!("{}{}{seq:03}", self.region, birth.format("%Y%m%d"));
            let Some(check) = ringline_core::id_number::check_character(&first17) else {
                continue;
            };
            let id = format!("{first17}{check}");
            if self.ids.insert(id.clone()) {
                break id;
            }
        };
        let adult = birth.checked_add_months(chrono::Months::new(18 * 12)).unwrap_or(birth);
        let join_date = if probationary {
            (as_of - chrono::Duration::days(self.rng.random_range(0..365))).max(adult)
        } else {
            let latest = (as_of - chrono::Duration::days(400)).min(adult + chrono::Duration::days(35 * 365));
            let span = (latest - adult).num_days().max(0);
            let r: f64 = self.rng.random();
            adult + chrono::Duration::days((r * r * span as f64) as i64)
        };
        let name = self.person_name(male, self.towns[t].tibetan);
        let phone = format!(
            "{}{:08}",
            MOBILE_PREFIXES.choose(&mut self.rng).copied().unwrap_or("139"),
            self.rng.random_range(0..100_000_000u32)
        );
        self.out.members.push(GenMember {
            name,
            id_number,
            sex: if male { "male" } else { "female" },
            birth_date: birth,
            phone,
            status: if probationary { "probationary" } else { "full" },
            join_date,
            org,
            employer,
            home_community: home,
            division_code,
        });
    }

    fn person_name(&mut self, male: bool, tibetan_town: bool) -> String {
        person_name(&mut self.rng, male, tibetan_town)
    }
}

/// A person's name: Tibetan for about a third of the people of a Tibetan township, else a
/// surname by frequency and a given name.
fn person_name(rng: &mut ChaCha8Rng, male: bool, tibetan_town: bool) -> String {
    let p = if tibetan_town { 0.35 } else { 0.03 };
    if rng.random_bool(p) {
        let list = if male { TIBETAN_MALE } else { TIBETAN_FEMALE };
        return list.choose(rng).copied().unwrap_or("卓玛").to_string();
    }
    let total: u32 = SURNAMES.iter().map(|s| s.1).sum();
    let mut x = rng.random_range(0..total);
    let mut surname = SURNAMES[0].0;
    for &(s, w) in SURNAMES {
        if x < w {
            surname = s;
            break;
        }
        x -= w;
    }
    let (chars, (single, double)) = if male {
        (MALE_CHARS, MALE_GIVEN)
    } else {
        (FEMALE_CHARS, FEMALE_GIVEN)
    };
    let r: f64 = rng.random();
    let given = if r < 0.25 {
        single.choose(rng).copied().unwrap_or("明").to_string()
    } else if r < 0.6 {
        double.choose(rng).copied().unwrap_or("建国").to_string()
    } else {
        let first = chars.choose(rng).copied().unwrap_or("明");
        let second = chars.choose(rng).copied().unwrap_or("华");
        format!("{first}{second}")
    };
    format!("{surname}{given}")
}

/// A random day of `year`.
fn random_day(rng: &mut ChaCha8Rng, year: i32) -> NaiveDate {
    let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    NaiveDate::from_yo_opt(year, rng.random_range(1..=days)).unwrap_or(NaiveDate::MIN)
}

// ---------------------------------------------------------------------------------------------
// Reading divisions.

/// Places of the bundled Datong divisions (no database needed).
pub fn datong_places() -> anyhow::Result<Vec<Place>> {
    let table = crate::import::table::parse_csv_bytes(
        crate::seed::DATONG_DIVISIONS_CSV.as_bytes(),
        "data/datong/divisions.csv".into(),
    )?;
    let mut incoming = Vec::new();
    let mut issues = Vec::new();
    crate::import::divisions::read_rows(&table, &Default::default(), &mut incoming, &mut issues);
    Ok(places_of(incoming))
}

/// Places of a division file read by the divisions importer (the national table: pass the
/// `villages` file; its `streets` and `areas` siblings are read too, and `cities` for the names
/// of cities without counties).
pub fn file_places(villages: &Path, only: Option<&str>) -> anyhow::Result<Vec<Place>> {
    let opts = crate::import::divisions::Options {
        only: only.map(str::to_string),
        ..Default::default()
    };
    let mut r = crate::import::divisions::read(villages, &opts)?;
    for name in ["cities.csv.gz", "cities.csv"] {
        let p = villages.with_file_name(name);
        if p.exists() {
            let c = crate::import::divisions::read(&p, &opts)?;
            r.incoming.extend(c.incoming);
            break;
        }
    }
    Ok(places_of(r.incoming))
}

fn places_of(incoming: Vec<crate::import::divisions::Incoming>) -> Vec<Place> {
    incoming
        .into_iter()
        .map(|i| Place {
            code: i.code.as_str().to_string(),
            name: i.name,
            level: i.level,
            parent: i.parent.map(|p| p.as_str().to_string()),
            point: i.point,
        })
        .collect()
}

/// Active divisions stored under `prefix` (all for `""`).
pub fn stored_places(conn: &mut DbConn, prefix: &str) -> DbResult<Vec<Place>> {
    let mut q = divisions::table
        .filter(divisions::status.eq(crate::divisions::ACTIVE))
        .select((
            divisions::code,
            divisions::name,
            divisions::level,
            divisions::parent_code,
            divisions::lon,
            divisions::lat,
        ))
        .into_boxed();
    if !prefix.is_empty() {
        q = q.filter(divisions::code.ge(format!("{prefix:0<12}")));
        if let Some(hi) = prefix_end(prefix) {
            q = q.filter(divisions::code.lt(format!("{hi:0<12}")));
        }
    }
    type Row = (String, String, String, Option<String>, Option<f64>, Option<f64>);
    let rows: Vec<Row> = q.order(divisions::code).load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, name, level, parent, lon, lat)| {
            Some(Place {
                code,
                name,
                level: level.parse().ok()?,
                parent,
                point: lon.zip(lat).map(|(lon, lat)| LonLat { lon, lat }),
            })
        })
        .collect())
}

/// The county's places from the database: the county itself and everything under it.
fn county_from_db(conn: &mut DbConn, county_code: &str) -> DbResult<Option<County>> {
    let prefix = DivisionCode::parse(county_code).map_or_else(|_| county_code.to_string(), |c| c.prefix().to_string());
    let places = stored_places(conn, &prefix)?;
    Ok(counties(&places).into_iter().find(|c| c.code == county_code))
}

// ---------------------------------------------------------------------------------------------
// Writing into the database.

/// Writes one county's records (inside the caller's transaction). Returns (units, orgs, members).
fn write_generated(conn: &mut DbConn, g: &Generated, prefix: &str) -> DbResult<(usize, usize, usize)> {
    let at = now();
    let rows: Vec<NewUnit> = g
        .units
        .iter()
        .map(|u| NewUnit {
            name: u.name.clone(),
            kind: u.kind.to_string(),
            credit_code: Some(u.credit_code.clone()),
            credit_code_unverified: false,
            division_code: u.division_code.clone(),
            address: u.address.clone(),
            lon: u.point.map(|p| p.lon),
            lat: u.point.map(|p| p.lat),
            headcount: Some(u.headcount),
            party_member_count: Some(u.party_member_count),
            illustrative: true,
            created_at: at,
            updated_at: at,
        })
        .collect();
    registry::insert_units(conn, &rows)?;
    let lo = format!("{prefix:0<12}");
    let hi = prefix_end(prefix).map(|h| format!("{h:0<12}"));
    let mut q = units::table
        .filter(units::division_code.ge(&lo))
        .select((units::id, units::credit_code))
        .into_boxed();
    if let Some(hi) = &hi {
        q = q.filter(units::division_code.lt(hi.clone()));
    }
    let by_code: HashMap<String, i64> = q
        .load::<(i64, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, c)| Some((c?, id)))
        .collect();
    let unit_id = |i: usize| -> DbResult<i64> {
        by_code
            .get(&g.units[i].credit_code)
            .copied()
            .ok_or_else(|| DbError::Task(format!("generated unit {i} was not stored")))
    };
    // Organizations by depth, so parents have ids before their children are written.
    let mut depth = vec![0usize; g.orgs.len()];
    for (i, o) in g.orgs.iter().enumerate() {
        depth[i] = o.parent.map_or(0, |p| depth[p] + 1);
    }
    let mut org_ids: Vec<i64> = vec![0; g.orgs.len()];
    let max_depth = depth.iter().copied().max().unwrap_or(0);
    for d in 0..=max_depth {
        let mut rows = Vec::new();
        let mut idx = Vec::new();
        for (i, o) in g.orgs.iter().enumerate().filter(|(i, _)| depth[*i] == d) {
            rows.push(NewOrg {
                code: o.code.clone(),
                name: o.name.clone(),
                kind: o.kind.to_string(),
                parent_id: o.parent.map(|p| org_ids[p]),
                mode: o.mode.to_string(),
                unit_id: o.host_unit.map(&unit_id).transpose()?,
                village_code: o.village_code.clone(),
                division_code: o.division_code.clone(),
                illustrative: true,
                created_at: at,
                updated_at: at,
            });
            idx.push(i);
        }
        registry::insert_orgs(conn, &rows)?;
        let mut q = party_orgs::table
            .filter(party_orgs::code.ge(prefix.to_string()))
            .select((party_orgs::id, party_orgs::code))
            .into_boxed();
        if let Some(hi) = prefix_end(prefix) {
            q = q.filter(party_orgs::code.lt(hi));
        }
        let ids: HashMap<String, i64> = q
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, c)| (c, id))
            .collect();
        for i in idx {
            org_ids[i] = ids
                .get(&g.orgs[i].code)
                .copied()
                .ok_or_else(|| DbError::Task(format!("generated organization {} was not stored", g.orgs[i].code)))?;
        }
    }
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    for (i, o) in g.orgs.iter().enumerate() {
        for &u in &o.covers {
            let pair = (org_ids[i], unit_id(u)?);
            if seen.insert(pair) {
                links.push((
                    party_org_units::party_org_id.eq(pair.0),
                    party_org_units::unit_id.eq(pair.1),
                ));
            }
        }
    }
    crate::insert_rows!(&mut *conn, party_org_units::table, &links, 2_000);
    for chunk in g.members.chunks(20_000) {
        let rows: Vec<NewMember> = chunk
            .iter()
            .map(|m| {
                Ok(NewMember {
                    name: m.name.clone(),
                    id_number: m.id_number.clone(),
                    sex: m.sex.to_string(),
                    birth_date: m.birth_date,
                    phone: Some(m.phone.clone()),
                    status: m.status.to_string(),
                    join_date: Some(m.join_date),
                    party_org_id: org_ids[m.org],
                    employer: g.employer_name(m).to_string(),
                    employer_unit_id: m.employer.map(&unit_id).transpose()?,
                    home_community: Some(m.home_community.clone()),
                    division_code: m.division_code.clone(),
                    illustrative: true,
                    created_at: at,
                    updated_at: at,
                })
            })
            .collect::<DbResult<_>>()?;
        registry::insert_members(conn, &rows)?;
    }
    crate::audit::record(
        conn,
        &crate::access::Access::system(),
        crate::audit::Change {
            action: "generate",
            entity: "registry",
            entity_id: &g.county,
            detail: format!(
                "illustrative data: {} units, {} party organizations, {} members",
                g.units.len(),
                g.orgs.len(),
                g.members.len()
            ),
            scope: prefix.to_string(),
            ..Default::default()
        },
    )?;
    Ok((g.units.len(), g.orgs.len(), g.members.len()))
}

/// Generates the demo for `county_code` (SPEC §3) in one transaction: the registry into an
/// empty registry, then the dispatch demo ([`dispatch_demo`]) into empty dispatch tables and the
/// economy demo ([`economy_demo`]) into empty economy tables when the county holds the
/// illustrative demo registry. Returns `skipped` when nothing was written (the registry, the
/// dispatch and the economy tables already hold records, or the county has no stored villages).
pub fn demo(conn: &mut DbConn, county_code: &str) -> DbResult<DemoSummary> {
    demo_with(conn, county_code, DEMO_MEMBERS, &Options::default())
}

/// [`demo`] with another member total and options.
pub fn demo_with(conn: &mut DbConn, county_code: &str, members: usize, opts: &Options) -> DbResult<DemoSummary> {
    crate::db::write_transaction(conn, |conn| {
        let mut summary = DemoSummary {
            skipped: true,
            ..Default::default()
        };
        let Some(county) = county_from_db(conn, county_code)? else {
            return Ok(summary);
        };
        if registry::is_empty(conn)? {
            let g = generate_county(&county, Targets::for_county(county.villages(), members), opts);
            let (units, orgs, members) = write_generated(conn, &g, &county.prefix())?;
            summary = DemoSummary {
                units,
                orgs,
                members,
                skipped: false,
                ..summary
            };
        }
        let d = dispatch_demo(conn, county_code)?;
        if !d.skipped {
            summary.cadres = d.cadres;
            summary.residencies = d.residencies;
            summary.planned_pairs = d.planned_pairs;
            summary.skipped = false;
        }
        let e = economy_demo(conn, county_code)?;
        if !e.skipped {
            summary.skipped = false;
        }
        summary.economy = e;
        Ok(summary)
    })
}

/// Progress of a scale run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScaleProgress {
    /// Counties done (written or skipped).
    pub counties_done: usize,
    /// Counties in all.
    pub counties: usize,
    /// Counties skipped because they already held registry records.
    pub skipped: usize,
    /// Units written so far.
    pub units: usize,
    /// Organizations written so far.
    pub orgs: usize,
    /// Members written so far.
    pub members: usize,
}

/// Member totals per county: `total` split by village count.
pub fn county_targets(counties: &[County], total: usize) -> Vec<Targets> {
    let weights: Vec<f64> = counties.iter().map(|c| c.villages() as f64).collect();
    apportion(total, &weights)
        .into_iter()
        .zip(counties)
        .map(|(m, c)| Targets::for_county(c.villages(), m))
        .collect()
}

/// Generates records for every county stored under `prefix` (`""`: all), `members` in all, one
/// transaction per county. Counties that already hold registry records are skipped (so a run can
/// be resumed, and the demo county is left alone). `progress` is called after each county.
pub fn generate_into_db(
    conn: &mut DbConn,
    prefix: &str,
    members: usize,
    opts: &Options,
    progress: &mut dyn FnMut(&ScaleProgress),
) -> DbResult<ScaleProgress> {
    let counties = counties(&stored_places(conn, prefix)?);
    let targets = county_targets(&counties, members);
    let mut p = ScaleProgress {
        counties: counties.len(),
        ..Default::default()
    };
    for (c, t) in counties.iter().zip(targets) {
        let prefix = c.prefix();
        let written = crate::db::write_transaction(conn, |conn| {
            if holds_records(conn, &prefix)? {
                return Ok::<_, DbError>(None);
            }
            let g = generate_county(c, t, opts);
            write_generated(conn, &g, &prefix).map(Some)
        })?;
        match written {
            Some((u, o, m)) => {
                p.units += u;
                p.orgs += o;
                p.members += m;
            }
            None => p.skipped += 1,
        }
        p.counties_done += 1;
        progress(&p);
    }
    Ok(p)
}

/// Whether any unit or party organization lies under `prefix`.
fn holds_records(conn: &mut DbConn, prefix: &str) -> DbResult<bool> {
    let lo = format!("{prefix:0<12}");
    let mut q = units::table
        .filter(units::division_code.ge(lo))
        .select(units::id)
        .into_boxed();
    if let Some(hi) = prefix_end(prefix) {
        q = q.filter(units::division_code.lt(format!("{hi:0<12}")));
    }
    if q.first::<i64>(conn).optional()?.is_some() {
        return Ok(true);
    }
    let mut q = party_orgs::table
        .filter(party_orgs::code.ge(prefix.to_string()))
        .select(party_orgs::id)
        .into_boxed();
    if let Some(hi) = prefix_end(prefix) {
        q = q.filter(party_orgs::code.lt(hi));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

// ---------------------------------------------------------------------------------------------
// Writing files.

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// XLSX, written in constant-memory mode.
    Xlsx,
    /// CSV, UTF-8 with BOM.
    Csv,
}

impl FileFormat {
    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Csv => "csv",
        }
    }
}

/// A cell value.
enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
    Empty,
}

/// A table written to one or more files (XLSX splits at [`XLSX_ROWS_PER_FILE`]).
struct TableWriter {
    dir: PathBuf,
    stem: String,
    sheet: String,
    format: FileFormat,
    headers: Vec<&'static str>,
    part: usize,
    rows: usize,
    total: usize,
    xlsx: Option<rust_xlsxwriter::Workbook>,
    csv: Option<csv::Writer<std::io::BufWriter<std::fs::File>>>,
    files: Vec<PathBuf>,
    /// The exact path of the first file, when the caller names it.
    exact: Option<PathBuf>,
}

impl TableWriter {
    fn new(dir: &Path, kind: &spec::KindSpec, format: FileFormat) -> TableWriter {
        TableWriter {
            dir: dir.to_path_buf(),
            stem: kind.key.to_string(),
            sheet: kind.zh.to_string(),
            format,
            headers: kind.columns.iter().map(|c| c.zh).collect(),
            part: 0,
            rows: 0,
            total: 0,
            xlsx: None,
            csv: None,
            files: Vec::new(),
            exact: None,
        }
    }

    fn path(&self) -> PathBuf {
        if let Some(p) = self.exact.as_ref().filter(|_| self.part <= 1) {
            return p.clone();
        }
        let name = if self.part <= 1 {
            format!("{}.{}", self.stem, self.format.ext())
        } else {
            format!("{}_{}.{}", self.stem, self.part, self.format.ext())
        };
        self.dir.join(name)
    }

    fn open(&mut self) -> anyhow::Result<()> {
        self.part += 1;
        self.rows = 0;
        match self.format {
            FileFormat::Xlsx => {
                let mut wb = rust_xlsxwriter::Workbook::new();
                let ws = wb.add_worksheet_with_constant_memory()?;
                ws.set_name(&self.sheet)?;
                let bold = rust_xlsxwriter::Format::new().set_bold();
                for (i, h) in self.headers.iter().enumerate() {
                    let col = u16::try_from(i)?;
                    ws.write_string_with_format(0, col, *h, &bold)?;
                    ws.set_column_width(col, 18)?;
                }
                self.xlsx = Some(wb);
            }
            FileFormat::Csv => {
                let path = self.path();
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?,
                );
                std::io::Write::write_all(&mut f, "\u{feff}".as_bytes())?;
                let mut w = csv::Writer::from_writer(f);
                w.write_record(&self.headers)?;
                self.csv = Some(w);
            }
        }
        Ok(())
    }

    fn write(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        let full = self.format == FileFormat::Xlsx && self.rows >= XLSX_ROWS_PER_FILE;
        if full {
            self.close()?;
        }
        if self.xlsx.is_none() && self.csv.is_none() {
            self.open()?;
        }
        self.rows += 1;
        self.total += 1;
        if let Some(wb) = &mut self.xlsx {
            let ws = wb.worksheet_from_index(0)?;
            let row = u32::try_from(self.rows)?;
            for (i, c) in cells.iter().enumerate() {
                let col = u16::try_from(i)?;
                match c {
                    Cell::Text(s) => {
                        ws.write_string(row, col, s)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(row, col, *n as f64)?;
                    }
                    Cell::Num(x) => {
                        ws.write_number(row, col, *x)?;
                    }
                    Cell::Empty => {}
                }
            }
        } else if let Some(w) = &mut self.csv {
            let record: Vec<String> = cells
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Int(n) => n.to_string(),
                    Cell::Num(x) => format!("{x}"),
                    Cell::Empty => String::new(),
                })
                .collect();
            w.write_record(&record)?;
        }
        Ok(())
    }

    fn close(&mut self) -> anyhow::Result<()> {
        let path = self.path();
        if let Some(mut wb) = self.xlsx.take() {
            wb.save(&path).with_context(|| format!("writing {}", path.display()))?;
            self.files.push(path);
        } else if let Some(mut w) = self.csv.take() {
            w.flush()?;
            self.files.push(path);
        }
        Ok(())
    }

    /// Closes the last file (writing a header-only file when no row came).
    fn finish(mut self) -> anyhow::Result<(usize, Vec<PathBuf>)> {
        if self.xlsx.is_none() && self.csv.is_none() && self.files.is_empty() {
            self.open()?;
        }
        self.close()?;
        Ok((self.total, self.files))
    }
}

/// The Chinese label of a stored key among `choices`.
fn label(choices: &[(&str, &'static str, &str)], key: &str) -> String {
    choices
        .iter()
        .find(|c| c.0 == key)
        .map_or_else(|| key.to_string(), |c| c.1.to_string())
}

fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

/// The three writers of [`write_files`].
struct FileSet {
    units: TableWriter,
    orgs: TableWriter,
    members: TableWriter,
}

impl FileSet {
    fn new(dir: &Path, format: FileFormat) -> anyhow::Result<FileSet> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(FileSet {
            units: TableWriter::new(dir, &spec::UNITS, format),
            orgs: TableWriter::new(dir, &spec::ORGS, format),
            members: TableWriter::new(dir, &spec::MEMBERS, format),
        })
    }

    /// Appends one county's records, in the column order of [`spec::UNITS`], [`spec::ORGS`] and
    /// [`spec::MEMBERS`].
    fn add(&mut self, g: &Generated) -> anyhow::Result<()> {
        for u in &g.units {
            self.units.write(&[
                Cell::Text(u.name.clone()),
                Cell::Text(label(spec::UNIT_KINDS, u.kind)),
                Cell::Text(u.credit_code.clone()),
                Cell::Text(u.division_code.clone()),
                text(&u.address),
                u.point.map_or(Cell::Empty, |p| Cell::Num(p.lon)),
                u.point.map_or(Cell::Empty, |p| Cell::Num(p.lat)),
                Cell::Int(i64::from(u.headcount)),
                Cell::Int(i64::from(u.party_member_count)),
            ])?;
        }
        for o in &g.orgs {
            let host = o.host_unit.map(|u| g.units[u].credit_code.clone());
            let others: Vec<&str> = o
                .covers
                .iter()
                .filter(|&&u| Some(u) != o.host_unit)
                .map(|&u| g.units[u].credit_code.as_str())
                .collect();
            let joint = others.join(";");
            self.orgs.write(&[
                Cell::Text(o.code.clone()),
                Cell::Text(o.name.clone()),
                Cell::Text(label(spec::ORG_KINDS, o.kind)),
                o.parent.map_or(Cell::Empty, |p| Cell::Text(g.orgs[p].code.clone())),
                Cell::Text(label(spec::ORG_MODES, o.mode)),
                host.map_or(Cell::Empty, Cell::Text),
                o.village_code.clone().map_or(Cell::Empty, Cell::Text),
                text(&joint),
            ])?;
        }
        for m in &g.members {
            self.members.write(&[
                Cell::Text(m.name.clone()),
                Cell::Text(label(spec::SEXES, m.sex)),
                Cell::Text(m.id_number.clone()),
                Cell::Text(m.birth_date.format("%Y-%m-%d").to_string()),
                Cell::Text(m.phone.clone()),
                Cell::Text(label(spec::MEMBER_STATUSES, m.status)),
                Cell::Text(m.join_date.format("%Y-%m-%d").to_string()),
                Cell::Text(g.orgs[m.org].code.clone()),
                text(g.employer_name(m)),
                Cell::Text(m.home_community.clone()),
            ])?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<FilesWritten> {
        let (units, mut files) = self.units.finish()?;
        let (orgs, f) = self.orgs.finish()?;
        files.extend(f);
        let (members, f) = self.members.finish()?;
        files.extend(f);
        Ok(FilesWritten {
            units,
            orgs,
            members,
            files,
        })
    }
}

/// What [`write_files`] wrote.
#[derive(Debug, Clone, Default)]
pub struct FilesWritten {
    /// Unit rows.
    pub units: usize,
    /// Organization rows.
    pub orgs: usize,
    /// Member rows.
    pub members: usize,
    /// The files, units first.
    pub files: Vec<PathBuf>,
}

/// Generates `members` members (in all) over `counties` and writes `units`, `orgs` and
/// `members` files into `dir`. `progress` is called after each county with (done, all).
pub fn write_files(
    counties: &[County],
    members: usize,
    opts: &Options,
    dir: &Path,
    format: FileFormat,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<FilesWritten> {
    let mut set = FileSet::new(dir, format)?;
    let targets = county_targets(counties, members);
    for (i, (c, t)) in counties.iter().zip(targets).enumerate() {
        let g = generate_county(c, t, opts);
        set.add(&g)?;
        progress(i + 1, counties.len());
    }
    set.finish()
}

/// Writes an XLSX of `rows` member rows (with the Chinese headers of [`spec::MEMBERS`]) whose
/// party organizations are the Datong demo's village branches (by code), for import benchmarks.
/// ID numbers are valid and unique, and use sequence codes 500–999, so they never collide with
/// the demo's members. Same `rows` and `seed`, same file content.
pub fn member_file(path: &Path, rows: usize, seed: u64) -> anyhow::Result<()> {
    let county = counties(&datong_places()?)
        .into_iter()
        .next()
        .context("the bundled Datong divisions hold no county")?;
    let opts = Options {
        seed,
        id_sequence_base: 500,
        ..Default::default()
    };
    if rows > XLSX_ROWS_PER_FILE {
        anyhow::bail!("{rows} rows do not fit one sheet; at most {XLSX_ROWS_PER_FILE}");
    }
    let dir = folder_of(path)?;
    let mut w = TableWriter::new(&dir, &spec::MEMBERS, FileFormat::Xlsx);
    w.exact = Some(path.to_path_buf());
    let villages: Vec<(usize, usize)> = county
        .towns
        .iter()
        .enumerate()
        .flat_map(|(t, town)| (0..town.villages.len()).map(move |v| (t, v)))
        .collect();
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(mix(seed, "member_file")),
        county: &county,
        short: county_short(&county.name),
        region: county.code.chars().take(6).collect(),
        opts,
        targets: Targets::for_county(villages.len(), rows),
        towns: county
            .towns
            .iter()
            .map(|t| TownInfo {
                seat: false,
                busy: false,
                tibetan: t.name.contains("藏族"),
                rate: 0.0,
                communities: Vec::new(),
                gov: 0,
                committee: 0,
                org_seq: 0,
            })
            .collect(),
        seat: 0,
        ids: HashSet::new(),
        codes: HashSet::new(),
        names: HashSet::new(),
        out: Generated::default(),
        dispersed: HashMap::new(),
    };
    // Orgs are the village branches: one stand-in org per village, written by code.
    for &(t, v) in &villages {
        let code = county.towns[t].villages[v].code.clone();
        g.out.orgs.push(GenOrg {
            code: code.clone(),
            name: String::new(),
            kind: "branch",
            parent: None,
            mode: "own",
            host_unit: None,
            village_code: Some(code.clone()),
            division_code: code,
            covers: Vec::new(),
        });
    }
    let mut written = 0;
    while written < rows {
        let n = (rows - written).min(50_000);
        g.out.members.clear();
        for _ in 0..n {
            let o = g.rng.random_range(0..villages.len());
            let (t, _) = villages[o];
            let code = g.out.orgs[o].code.clone();
            g.member(o, t, None, code.clone(), code);
        }
        for m in &g.out.members {
            w.write(&[
                Cell::Text(m.name.clone()),
                Cell::Text(label(spec::SEXES, m.sex)),
                Cell::Text(m.id_number.clone()),
                Cell::Text(m.birth_date.format("%Y-%m-%d").to_string()),
                Cell::Text(m.phone.clone()),
                Cell::Text(label(spec::MEMBER_STATUSES, m.status)),
                Cell::Text(m.join_date.format("%Y-%m-%d").to_string()),
                Cell::Text(g.out.orgs[m.org].code.clone()),
                Cell::Empty,
                Cell::Text(m.home_community.clone()),
            ])?;
        }
        written += n;
    }
    w.finish()?;
    Ok(())
}

/// The folder a file goes to (created if missing).
fn folder_of(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringline_core::credit_code::CreditCode;
    use ringline_core::id_number::IdNumber;

    fn datong() -> County {
        counties(&datong_places().expect("bundled divisions"))
            .into_iter()
            .next()
            .expect("Datong")
    }

    fn demo_data() -> Generated {
        let c = datong();
        generate_county(&c, Targets::for_county(c.villages(), DEMO_MEMBERS), &Options::default())
    }

    #[test]
    fn datong_has_313_villages_in_20_towns() {
        let c = datong();
        assert_eq!(c.code, "630121000000");
        assert_eq!(c.towns.len(), 20);
        assert_eq!(c.villages(), 313);
        assert_eq!(county_short(&c.name), "大通县");
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = demo_data();
        let b = demo_data();
        assert_eq!(a, b);
        let c = datong();
        let other = generate_county(
            &c,
            Targets::for_county(c.villages(), DEMO_MEMBERS),
            &Options {
                seed: 7,
                ..Default::default()
            },
        );
        assert_ne!(
            a.members.iter().map(|m| &m.id_number).collect::<Vec<_>>(),
            other.members.iter().map(|m| &m.id_number).collect::<Vec<_>>()
        );
    }

    #[test]
    fn member_totals_are_exact() {
        // Datong has 313 villages, so 3 × 313 = 939 members is the least that can be exact.
        let c = datong();
        assert_eq!(min_members(c.villages()), 939);
        for members in [939, 1_000, 5_000, DEMO_MEMBERS, 100_000] {
            let g = generate_county(&c, Targets::for_county(c.villages(), members), &Options::default());
            assert_eq!(g.members.len(), members, "asked for {members}");
            // Every village branch keeps its 3 members or more.
            let mut per_org: HashMap<usize, usize> = HashMap::new();
            for m in &g.members {
                *per_org.entry(m.org).or_default() += 1;
            }
            for (i, o) in g.orgs.iter().enumerate() {
                if o.village_code.is_some() {
                    assert!(per_org.get(&i).copied().unwrap_or(0) >= 3, "{} at {members}", o.code);
                }
            }
        }
    }

    #[test]
    fn demo_counts_and_branches() {
        let g = demo_data();
        assert!((18_000..=22_000).contains(&g.members.len()), "{}", g.members.len());
        assert!((1_900..=2_100).contains(&g.units.len()), "{}", g.units.len());
        let villages: Vec<String> = datong()
            .towns
            .iter()
            .flat_map(|t| t.villages.iter().map(|v| v.code.clone()))
            .collect();
        assert_eq!(villages.len(), 313);
        for v in &villages {
            let branch = g.orgs.iter().find(|o| &o.code == v).expect("a branch per village");
            assert_eq!(branch.village_code.as_deref(), Some(v.as_str()));
            assert_eq!(branch.kind, "branch");
            assert!(g.members.iter().any(|m| g.orgs[m.org].code == *v), "members in {v}");
        }
        let codes: HashSet<&str> = g.orgs.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes.len(), g.orgs.len(), "organization codes are unique");
        assert_eq!(g.orgs[0].code, "630121000000");
        assert_eq!(g.orgs.iter().filter(|o| o.kind == "committee").count(), 21);
        for o in &g.orgs {
            assert!(o.parent.is_none_or(|p| p < g.orgs.len()));
            assert_ne!(o.host_unit.is_some(), o.village_code.is_some(), "{}", o.code);
        }
        let names: HashSet<&str> = g.units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names.len(), g.units.len(), "unit names are unique");
    }

    #[test]
    fn codes_and_numbers_are_valid() {
        let g = demo_data();
        for u in &g.units {
            let c = CreditCode::parse_strict(&u.credit_code).expect("valid credit code");
            c.verify().expect("verifies");
            assert_eq!(c.division_code(), "630121");
            assert!(u.headcount >= u.party_member_count);
        }
        let mut ids = HashSet::new();
        for m in &g.members {
            let p = IdNumber::parse(&m.id_number, (2026, 11, 1)).expect("valid ID number");
            assert_eq!(p.number.address_code(), "630121");
            assert_eq!(p.number.sex().as_str(), m.sex);
            let (y, mo, d) = p.number.birth_date();
            assert_eq!(NaiveDate::from_ymd_opt(y, mo, d), Some(m.birth_date));
            assert!((1940..=2004).contains(&y));
            assert!(m.join_date >= m.birth_date.checked_add_months(chrono::Months::new(216)).expect("date"));
            assert!(m.join_date <= Options::default().as_of);
            assert!(ids.insert(m.id_number.clone()), "unique");
            assert_eq!(m.phone.len(), 11);
            assert!(m.phone.starts_with('1') && m.phone.bytes().all(|b| b.is_ascii_digit()));
            assert!(matches!(m.phone.as_bytes()[1], b'3'..=b'9'));
        }
        let probationary = g.members.iter().filter(|m| m.status == "probationary").count();
        let share = probationary as f64 / g.members.len() as f64;
        assert!((0.06..0.10).contains(&share), "{share}");
    }

    #[test]
    fn coverage_is_about_seventy_percent_and_differs_by_town() {
        let g = demo_data();
        let mut by_town: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut covered_units = HashSet::new();
        for o in g.orgs.iter().filter(|o| o.mode != "instructor") {
            covered_units.extend(o.covers.iter().copied());
        }
        let mut total = (0, 0);
        for (i, u) in g.units.iter().enumerate() {
            if u.kind == "non_public_enterprise" || u.kind == "social_organization" {
                let e = by_town.entry(&u.division_code[..9]).or_default();
                e.1 += 1;
                total.1 += 1;
                if covered_units.contains(&i) {
                    e.0 += 1;
                    total.0 += 1;
                }
            }
        }
        let rate = total.0 as f64 / total.1 as f64;
        assert!((0.6..0.8).contains(&rate), "{rate}");
        let rates: Vec<f64> = by_town
            .values()
            .filter(|v| v.1 >= 10)
            .map(|v| v.0 as f64 / v.1 as f64)
            .collect();
        let (lo, hi) = rates
            .iter()
            .fold((1.0f64, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        assert!(hi - lo > 0.15, "town rates differ: {rates:?}");
        assert!(g.orgs.iter().any(|o| o.mode == "joint" && o.covers.len() >= 2));
        assert!(g.orgs.iter().any(|o| o.mode == "instructor"));
    }

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 2.0]), vec![0, 7]);
        assert_eq!(apportion(5, &[]), Vec::<usize>::new());
    }

    #[test]
    fn org_code_check_matches_published_codes() {
        // The sample code 91350100M000100Y43 printed in GB 32100 explanations: its body is the
        // organization code M000100Y-4. By hand: 22·3 + 1·5 + 34·2 = 139, 139 mod 11 = 7, 11 − 7 = 4.
        assert_eq!(org_code_check("M000100Y"), '4');
        // 13·3 + 2·7 + 1·9 + 4·10 + 3·5 + 5·8 + 6·4 + 9·2 = 199, 199 mod 11 = 1, 11 − 1 = 10 → X.
        assert_eq!(org_code_check("D2143569"), 'X');
        assert!(CreditCode::parse_strict("91350100M000100Y43").is_ok());
    }

    #[test]
    fn village_words_strip_committee_suffixes() {
        assert_eq!(
            village_words("人民路南居委会"),
            ("人民路南".into(), "人民路南社区".into())
        );
        assert_eq!(village_words("老幼村委会"), ("老幼".into(), "老幼村".into()));
        assert_eq!(
            village_words("多福巷社区居委会"),
            ("多福巷".into(), "多福巷社区".into())
        );
    }

    #[test]
    fn files_reimport_shape() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let c = datong();
        let w = write_files(
            &[c],
            2_000,
            &Options::default(),
            dir.path(),
            FileFormat::Csv,
            &mut |_, _| {},
        )
        .expect("writes");
        assert_eq!(w.files.len(), 3);
        let members = crate::import::table::read_table(&dir.path().join("members.csv")).expect("reads");
        assert_eq!(
            members.headers,
            spec::MEMBERS.columns.iter().map(|c| c.zh).collect::<Vec<_>>()
        );
        assert_eq!(members.rows.len(), w.members);
        let orgs = crate::import::table::read_table(&dir.path().join("orgs.csv")).expect("reads");
        assert_eq!(orgs.rows.len(), w.orgs);
        let xlsx = dir.path().join("bench.xlsx");
        member_file(&xlsx, 1_000, 1).expect("member file");
        let t = crate::import::table::read_table(&xlsx).expect("reads xlsx");
        assert_eq!(t.rows.len(), 1_000);
        assert_eq!(t.headers[2], "公民身份号码");
    }
}
