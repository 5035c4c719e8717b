//! Dispatch batches of cadres to villages (驻村干部选派, SPEC C7): an exact optimiser that
//! proposes which cadre goes to which village, explains the score of every pair, and names the
//! rule that makes an input infeasible.
//!
//! # Score
//!
//! Scores are integers in "points"; the county states the two weights in [`Weights`]. The score
//! of a cadre at a village ([`score`]) is
//!
//! - for every skill the village needs ([`VillageNeed::skills`]) and the cadre has
//!   ([`Cadre::skills`]): the need's priority (1–3, 3 most urgent) × [`Weights::per_priority_point`];
//! - plus [`Weights::twinning_bonus`] when the cadre's unit is twinned with the village
//!   ([`Twinning`], 结对共建).
//!
//! A skill listed more than once by a village counts once, at its highest priority. Skills are
//! compared as exact strings; callers pass names from one skill list.
//!
//! # Hard rules
//!
//! A plan ([`plan`]) never breaks these (SPEC C7, [`Rules`]):
//!
//! 1. each cadre goes to at most one village;
//! 2. each village takes at most [`Rules::per_village`] cadres (1 by default);
//! 3. a cadre never goes to their home village ([`Cadre::home_village`]);
//! 4. when [`Rules::young_max_age`] is set (40 by default), only cadres of that age or younger go;
//! 5. no [`Rules::forbidden`] pair is chosen;
//! 6. every [`Rules::pinned`] pair is in the plan (a pin does not override rules 3–5);
//! 7. the number of pairs is between [`Rules::min_size`] and [`Rules::max_size`] (Datong: 20–30).
//!
//! A pair that breaks none of rules 3–5 is *allowed*.
//!
//! # Objective
//!
//! Among all plans that keep the hard rules, [`plan`] returns one with the greatest total score,
//! and among those, one with the fewest pairs. So a pair that adds nothing (score 0) is never
//! chosen where a positive pair could take its place, and zero-score pairs are filled in only when they are
//! pinned or needed to reach [`Rules::min_size`]: removing an unpinned zero-score pair from a
//! plan larger than the minimum would keep every rule and the score, and give fewer pairs. The
//! same holds for negative scores, which only negative weights produce.
//!
//! # Method
//!
//! The plan is exact, not greedy: it solves one rectangular assignment problem by shortest
//! augmenting paths — the augmentation of Jonker and Volgenant (1987), row by row from zero
//! duals as in Crouse (2016), the algorithm of SciPy's `linear_sum_assignment` — in exact
//! integer arithmetic. The solver's own documentation (the private `lsap` module) states the
//! algorithm with its references and proves that its answer has least cost, that it finds when
//! no answer exists, and that no value it computes overflows.
//!
//! **Pins.** Pinned pairs are fixed first: their cadres leave the problem and each pin takes
//! one place of its village. The rest of the batch is a free choice among the remaining `n`
//! cadres and `m` village places (a village with `c` places left appears as `c` places; cadres
//! and places with no allowed pair left are dropped, and no village gets more places than there
//! are cadres). With `p` pins the rest must have `k` pairs, `lo ≤ k ≤ hi`, where
//! `lo = max(min_size − p, 0)` and `hi = min(max_size − p, n, m)`. If `lo > hi` no plan exists.
//!
//! **Matrix.** Let `A` be the smaller side — the `n` cadres, or the `m` places when there are
//! more cadres than places — with `a = min(n, m)` members, and `P` the other side, with
//! `b = max(n, m)`; a pair joins a member of `A` and one of `P`, and `hi ≤ a`. The cost matrix
//! has `a + f` rows and `b + a − lo` columns, where `f = b − hi` "filler" rows when `hi < a` and
//! `f = 0` when `hi = a`:
//!
//! | rows \ columns | `b` columns of `P` | `a − lo` "idle" columns |
//! |---|---|---|
//! | `a` rows of `A` | `−w(pair)` if allowed, else forbidden | 0 |
//! | `f` filler rows | 0 | forbidden |
//!
//! An *assignment* gives every row its own column through an entry that is not forbidden;
//! columns may stay unused. There are no more rows than columns, as `f ≤ b − lo`.
//!
//! **Claim: the assignments give exactly the plans with `lo ≤ k ≤ hi` pairs, each at cost
//! `−Σw` over its pairs.** In an assignment, let `k` be the number of rows of `A` on columns of
//! `P`: they form `k` allowed pairs with each cadre and each place at most once. The other
//! `a − k` rows of `A` sit on the `a − lo` idle columns, so `k ≥ lo`. If `f > 0`, the filler rows
//! hold `b − hi` further columns of `P`, so `k ≤ b − (b − hi) = hi`; if `f = 0`, `k ≤ a = hi`.
//! Conversely, a plan with `k` pairs puts the `a − k ≤ a − lo` members of `A` it leaves out on
//! idle columns and the `f` filler rows on columns of `P` it leaves free (when `f > 0`,
//! `f = b − hi ≤ b − k`). The cost is `−Σw` over the plan's pairs.
//!
//! So a least-cost assignment is a plan of greatest total weight, and no assignment exists
//! exactly when no plan exists; the solver never uses a forbidden entry and reports when no
//! assignment exists. [`plan`] then reports [`Infeasible::TooFewPairs`] with the size of a
//! maximum matching of the allowed pairs, found by the same solver on zero costs.
//!
//! The matrix is small where it can be. Padding it to a square of order `n + m − lo` (the
//! classic reduction) would add `hi − lo` rows that are 0 everywhere, whose part an unused
//! column plays, and `b − hi` filler rows even when `hi = a` makes them pointless: for Datong
//! (30 cadres, 313 villages, 20–30 pairs) the matrix is 30 × 323 instead of 323 × 323, and a
//! plain assignment (`lo = hi = n = m`) is just `n × n`.
//!
//! **Tie-break.** `w(pair) = score × S − 1` with `S = min(n, m) + 1`. A plan of `k` pairs and
//! score `σ` weighs `σ·S − k` with `0 ≤ k < S`; scores are integers, so a higher score always
//! weighs more (`(σ + 1)·S − k' > σ·S ≥ σ·S − k`) and equal scores weigh more with fewer pairs.
//! Adding back the pins (whose score is fixed), the least-cost assignment is a plan with the
//! greatest total score and, among those, the fewest pairs.
//!
//! **Integers.** Scores must fit an `i64` as [`score`] sums them, and so must the weights and
//! the entries below (checked arithmetic). The matrix is made non-negative row by row: the row's
//! largest weight (or 0) is added to its entries, then its least entry is taken from them. Every
//! row is assigned exactly once, so this changes the cost of all assignments by the same amount.
//! The solver takes the matrix only when `(2R + 2)·C < 2⁶³` for `R` rows and largest entry `C`,
//! which keeps every value it computes exact in `i64`; only absurd weights are refused
//! ([`Infeasible::ScoreOverflow`]).
//!
//! **Why this solver.** The `pathfinding` crate's Kuhn–Munkres (used before) takes `O(N³)` on a
//! square matrix of order `N`; with it, [`plan`] was 12 to 18 times slower than SciPy at
//! 2,000 × 2,000 and 5,000 × 5,000 in the benchmark. The `lapjv` crate (Jonker–Volgenant, 0.3)
//! gave right answers in our trials and was somewhat faster than the solver here on the
//! benchmark's square matrices, thanks to Jonker–Volgenant's initialisation; but it takes only
//! square `f64` matrices, has no forbidden entries and no report of infeasibility, its
//! initialisation moves dual values by amounts with no simple bound (so exactness below 2⁵³
//! could only be checked afterwards), and it brings `ndarray`. The solver here is
//! Jonker–Volgenant's augmentation on `i64`, with a proof of exactness, on rectangular matrices
//! with forbidden entries; the benchmark (`benches/dispatch.rs`) runs [`plan`] side by side with
//! SciPy on the same matrices.
//!
//! # Infeasible input
//!
//! [`Infeasible`] names the rule and the numbers, checking in this order: the size range, the
//! input lists, the pins, then whether enough cadres, places and pairs are allowed at all.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

mod lsap;

/// Default upper age limit of a "young" cadre, in years (SPEC C7: "young is configurable,
/// default ≤ 40").
pub const DEFAULT_YOUNG_MAX_AGE: u32 = 40;

/// Lowest priority of a village's need.
pub const MIN_PRIORITY: u8 = 1;

/// Highest priority of a village's need (most urgent).
pub const MAX_PRIORITY: u8 = 3;

/// A cadre on the roster who may be dispatched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadre {
    /// Roster identifier; unique within one call of [`plan`].
    pub id: i64,
    /// Age in full years on the batch's reference date (the caller computes it; the core reads
    /// no clock).
    pub age: u32,
    /// Skills the cadre has, from the same skill list as [`VillageNeed::skills`].
    #[serde(default)]
    pub skills: Vec<String>,
    /// The cadre's source unit (派出单位), matched against [`Twinning`].
    #[serde(default)]
    pub unit_id: Option<i64>,
    /// Division code of the cadre's home village, where they are never sent.
    #[serde(default)]
    pub home_village: Option<String>,
}

/// A village that can take cadres, with the skills it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageNeed {
    /// Division code of the village; unique within one call of [`plan`].
    pub code: String,
    /// Skills wanted, each with a priority from [`MIN_PRIORITY`] (1) to [`MAX_PRIORITY`] (3, most
    /// urgent).
    #[serde(default)]
    pub skills: Vec<(String, u8)>,
}

/// Twinning pairs (结对共建): a county unit and a village it is twinned with.
///
/// Serialises as a list of `[unit_id, village_code]` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<(i64, String)>", into = "Vec<(i64, String)>")]
pub struct Twinning(BTreeMap<i64, BTreeSet<String>>);

impl Twinning {
    /// No twinning pairs.
    pub fn new() -> Self {
        Twinning::default()
    }

    /// Adds the pair unit → village; false if it was already there.
    pub fn insert(&mut self, unit_id: i64, village: impl Into<String>) -> bool {
        self.0.entry(unit_id).or_default().insert(village.into())
    }

    /// Whether the unit is twinned with the village.
    pub fn contains(&self, unit_id: i64, village: &str) -> bool {
        self.0.get(&unit_id).is_some_and(|villages| villages.contains(village))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.values().map(BTreeSet::len).sum()
    }

    /// Whether there is no pair.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeSet::is_empty)
    }

    /// The pairs `(unit_id, village_code)`, by unit and then village code.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &str)> {
        self.0
            .iter()
            .flat_map(|(unit, villages)| villages.iter().map(move |v| (*unit, v.as_str())))
    }
}

impl FromIterator<(i64, String)> for Twinning {
    fn from_iter<I: IntoIterator<Item = (i64, String)>>(iter: I) -> Self {
        let mut twinning = Twinning::new();
        for (unit, village) in iter {
            twinning.insert(unit, village);
        }
        twinning
    }
}

impl From<Vec<(i64, String)>> for Twinning {
    fn from(pairs: Vec<(i64, String)>) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<Twinning> for Vec<(i64, String)> {
    fn from(twinning: Twinning) -> Self {
        twinning
            .iter()
            .map(|(unit, village)| (unit, village.to_owned()))
            .collect()
    }
}

/// The hard rules of one batch (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    /// Smallest number of pairs in the batch.
    pub min_size: usize,
    /// Largest number of pairs in the batch.
    pub max_size: usize,
    /// Most cadres one village takes; 1 unless configured. 0 closes every village.
    #[serde(default = "default_per_village")]
    pub per_village: usize,
    /// Only cadres of this age (years) or younger go; `None` turns the age rule off (the override
    /// for a batch that takes older cadres). Defaults to [`DEFAULT_YOUNG_MAX_AGE`].
    #[serde(default = "default_young_max_age")]
    pub young_max_age: Option<u32>,
    /// Pairs `(cadre id, village code)` that must be in the plan. Listing the same pair twice is
    /// the same as once. A pin obeys the age, home-village and forbidden rules.
    #[serde(default)]
    pub pinned: Vec<(i64, String)>,
    /// Pairs `(cadre id, village code)` that must not be in the plan. Pairs naming an unknown
    /// cadre or village are ignored.
    #[serde(default)]
    pub forbidden: Vec<(i64, String)>,
}

fn default_per_village() -> usize {
    1
}

fn default_young_max_age() -> Option<u32> {
    Some(DEFAULT_YOUNG_MAX_AGE)
}

impl Rules {
    /// Rules for a batch of `min_size` to `max_size` pairs with the defaults: one cadre per
    /// village, young cadres only ([`DEFAULT_YOUNG_MAX_AGE`]), no pins, nothing forbidden.
    pub fn new(min_size: usize, max_size: usize) -> Self {
        Rules {
            min_size,
            max_size,
            per_village: default_per_village(),
            young_max_age: default_young_max_age(),
            pinned: Vec::new(),
            forbidden: Vec::new(),
        }
    }
}

/// The two weights of the score, in points (see the module docs). Both are normally positive;
/// negative weights are accepted and handled exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Points per priority point of a matched skill: a matched need of priority `p` adds
    /// `p × per_priority_point`.
    pub per_priority_point: i64,
    /// Points added when the cadre's unit is twinned with the village.
    pub twinning_bonus: i64,
}

/// Why a pair scores what it scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    /// The village's needs the cadre meets, in the village's order: `(skill, priority, points)`,
    /// where points = priority × [`Weights::per_priority_point`].
    pub skills: Vec<(String, u8, i64)>,
    /// [`Weights::twinning_bonus`] if the cadre's unit is twinned with the village, else 0.
    pub twinning: i64,
    /// Sum of the skill points and the twinning points.
    pub total: i64,
}

/// One cadre sent to one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// The cadre's [`Cadre::id`].
    pub cadre: i64,
    /// The village's [`VillageNeed::code`].
    pub village: String,
    /// The pair's score and how it is made up.
    pub score: ScoreBreakdown,
    /// Whether the pair was pinned by the user rather than chosen by the optimiser.
    pub pinned: bool,
}

/// A proposed batch: pairs that keep every hard rule, with the greatest total score and, among
/// plans of that score, the fewest pairs (module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The pairs, in the order of the cadres in the roster.
    pub pairs: Vec<Pair>,
    /// Sum of the pairs' [`ScoreBreakdown::total`].
    pub total_score: i64,
}

/// A rule that excludes a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The cadre is older than [`Rules::young_max_age`].
    Age,
    /// The village is the cadre's home village.
    HomeVillage,
    /// The pair is in [`Rules::forbidden`].
    Forbidden,
    /// No cadre with this id is on the roster (pins only).
    UnknownCadre,
    /// No village with this code is among the needs (pins only).
    UnknownVillage,
}

impl Rule {
    /// Stable snake_case name: "age", "home_village", "forbidden", "unknown_cadre" or
    /// "unknown_village".
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Age => "age",
            Rule::HomeVillage => "home_village",
            Rule::Forbidden => "forbidden",
            Rule::UnknownCadre => "unknown_cadre",
            Rule::UnknownVillage => "unknown_village",
        }
    }
}

impl fmt::Display for Rule {
    /// The rule in words, as used in error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::Age => "the age rule (only young cadres go)",
            Rule::HomeVillage => "the home-village rule (a cadre never goes to their home village)",
            Rule::Forbidden => "the forbidden-pair list",
            Rule::UnknownCadre => "the roster (no cadre has this id)",
            Rule::UnknownVillage => "the village needs (no village has this code)",
        })
    }
}

/// Pins that cannot all hold at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinConflict {
    /// One cadre is pinned to two villages.
    #[error("cadre {cadre} is pinned to two villages, {first} and {second}; a cadre goes to one village")]
    CadreTwice {
        /// The cadre's id.
        cadre: i64,
        /// The village of the first pin.
        first: String,
        /// The village of the second pin.
        second: String,
    },
    /// A village has more pinned cadres than [`Rules::per_village`] allows.
    #[error("village {village} has {pinned} pinned cadres; the per-village rule allows {per_village}")]
    VillageOverCapacity {
        /// The village's code.
        village: String,
        /// Number of distinct cadres pinned to it.
        pinned: usize,
        /// [`Rules::per_village`].
        per_village: usize,
    },
    /// More pairs are pinned than [`Rules::max_size`] allows.
    #[error("{pinned} pairs are pinned; the batch size rule allows at most {max_size}")]
    AboveMaxSize {
        /// Number of distinct pinned pairs.
        pinned: usize,
        /// [`Rules::max_size`].
        max_size: usize,
    },
}

impl PinConflict {
    /// Stable kebab-case identifier of the conflict, used as an i18n key.
    pub fn key(&self) -> &'static str {
        match self {
            PinConflict::CadreTwice { .. } => "dispatch-pinned-cadre-twice",
            PinConflict::VillageOverCapacity { .. } => "dispatch-pinned-village-over-capacity",
            PinConflict::AboveMaxSize { .. } => "dispatch-pinned-above-max-size",
        }
    }
}

/// Why no plan exists. Messages are English and name the rule and the numbers;
/// [`Infeasible::key`] gives a stable identifier for translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Infeasible {
    /// [`Rules::min_size`] is above [`Rules::max_size`].
    #[error("batch size rule: the minimum size {min_size} is above the maximum {max_size}")]
    MaxBelowMin {
        /// [`Rules::min_size`].
        min_size: usize,
        /// [`Rules::max_size`].
        max_size: usize,
    },
    /// Two roster entries have the same id.
    #[error("cadre {cadre} is listed twice on the roster; list each cadre once")]
    DuplicateCadre {
        /// The repeated id.
        cadre: i64,
    },
    /// Two village needs have the same code.
    #[error("village {village} is listed twice among the needs; list each village once")]
    DuplicateVillage {
        /// The repeated code.
        village: String,
    },
    /// A need's priority is outside 1–3.
    #[error("village {village} gives skill \"{skill}\" priority {priority}; priorities run from 1 to 3 (most urgent)")]
    PriorityOutOfRange {
        /// The village's code.
        village: String,
        /// The skill.
        skill: String,
        /// The priority given.
        priority: u8,
    },
    /// A pinned pair breaks a rule or names an unknown cadre or village.
    #[error("the pinned pair cadre {cadre} → village {village} breaks {rule}; unpin it or change the rule")]
    PinnedPairForbidden {
        /// The cadre's id.
        cadre: i64,
        /// The village's code.
        village: String,
        /// The rule broken.
        rule: Rule,
    },
    /// Pins that cannot all hold at once.
    #[error("pinned pairs conflict: {conflict}")]
    PinnedConflict {
        /// What conflicts.
        conflict: PinConflict,
    },
    /// There are cadres and village places, but the age, home-village and forbidden rules exclude
    /// every pair, and the batch needs at least one.
    #[error(
        "no cadre may go to any village: every pair breaks the age rule, the home-village rule or the \
         forbidden-pair list"
    )]
    NoAllowedPair,
    /// Fewer cadres than [`Rules::min_size`] have an allowed village.
    #[error(
        "only {eligible} cadres may go to some village under the age, home-village and forbidden-pair \
         rules; the batch size rule needs at least {min_size}"
    )]
    TooFewEligibleCadres {
        /// Cadres with at least one allowed pair.
        eligible: usize,
        /// [`Rules::min_size`].
        min_size: usize,
    },
    /// Fewer village places than [`Rules::min_size`] can take an allowed cadre.
    #[error(
        "only {slots} village places (per-village rule) are open to an eligible cadre; the batch size \
         rule needs at least {min_size}"
    )]
    TooFewVillages {
        /// Places (villages with an allowed pair × [`Rules::per_village`]).
        slots: usize,
        /// [`Rules::min_size`].
        min_size: usize,
    },
    /// Cadres and places are each numerous enough, but no set of allowed pairs that keeps every
    /// cadre once, the per-village limit and the pins reaches [`Rules::min_size`].
    #[error(
        "at most {possible} cadres can be dispatched together (each cadre once, the per-village, age, \
         home-village and forbidden-pair rules, and the pins); the batch size rule needs at least {min_size}"
    )]
    TooFewPairs {
        /// Largest number of pairs any plan keeping the other rules can have.
        possible: usize,
        /// [`Rules::min_size`].
        min_size: usize,
    },
    /// The weights are so large that scores do not fit the integer range.
    #[error("the score weights are too large to add up; use smaller weights")]
    ScoreOverflow,
}

impl Infeasible {
    /// Stable kebab-case identifier of the reason, used as an i18n key. For
    /// [`Infeasible::PinnedConflict`] it is the conflict's own [`PinConflict::key`].
    pub fn key(&self) -> &'static str {
        match self {
            Infeasible::MaxBelowMin { .. } => "dispatch-max-below-min",
            Infeasible::DuplicateCadre { .. } => "dispatch-duplicate-cadre",
            Infeasible::DuplicateVillage { .. } => "dispatch-duplicate-village",
            Infeasible::PriorityOutOfRange { .. } => "dispatch-priority-out-of-range",
            Infeasible::PinnedPairForbidden { .. } => "dispatch-pinned-pair-forbidden",
            Infeasible::PinnedConflict { conflict } => conflict.key(),
            Infeasible::NoAllowedPair => "dispatch-no-allowed-pair",
            Infeasible::TooFewEligibleCadres { .. } => "dispatch-too-few-eligible-cadres",
            Infeasible::TooFewVillages { .. } => "dispatch-too-few-villages",
            Infeasible::TooFewPairs { .. } => "dispatch-too-few-pairs",
            Infeasible::ScoreOverflow => "dispatch-score-overflow",
        }
    }
}

/// The village's needs with repeated skills merged at their highest priority, in first-listed
/// order.
fn needs(village: &VillageNeed) -> Vec<(&str, u8)> {
    let mut merged: Vec<(&str, u8)> = Vec::with_capacity(village.skills.len());
    for (skill, priority) in &village.skills {
        match merged.iter_mut().find(|(s, _)| *s == skill.as_str()) {
            Some(entry) => entry.1 = entry.1.max(*priority),
            None => merged.push((skill.as_str(), *priority)),
        }
    }
    merged
}

/// The twinning points of the pair: the bonus if the cadre's unit is twinned with the village.
fn twinning_points(cadre: &Cadre, village: &str, twinning: &Twinning, weights: &Weights) -> i64 {
    match cadre.unit_id {
        Some(unit) if twinning.contains(unit, village) => weights.twinning_bonus,
        _ => 0,
    }
}

/// Score of sending `cadre` to `village` (module docs), with its breakdown. Does not check the
/// hard rules (see [`check_pair`]) nor the priority range ([`plan`] does).
///
/// Returns `None` when the score does not fit an `i64` (only with absurd weights).
pub fn score(cadre: &Cadre, village: &VillageNeed, twinning: &Twinning, weights: &Weights) -> Option<ScoreBreakdown> {
    let mut skills = Vec::new();
    let mut total = 0i64;
    for (skill, priority) in needs(village) {
        if cadre.skills.iter().any(|s| s == skill) {
            let points = i64::from(priority).checked_mul(weights.per_priority_point)?;
            total = total.checked_add(points)?;
            skills.push((skill.to_owned(), priority, points));
        }
    }
    let twinning = twinning_points(cadre, &village.code, twinning, weights);
    let total = total.checked_add(twinning)?;
    Some(ScoreBreakdown {
        skills,
        twinning,
        total,
    })
}

/// The score and the verdict of every pair, row-major by cadre.
struct PairTable {
    /// Number of villages (the row length).
    villages: usize,
    /// Whether the age, home-village and forbidden-pair rules allow the pair.
    allowed: Vec<bool>,
    /// [`score`]'s total for allowed pairs, 0 for the others.
    scores: Vec<i64>,
}

impl PairTable {
    /// Whether cadre `c` may go to village `v`.
    fn allowed(&self, c: usize, v: usize) -> bool {
        self.allowed[c * self.villages + v]
    }

    /// The score of cadre `c` at village `v`, `None` when the pair is not allowed.
    fn score(&self, c: usize, v: usize) -> Option<i64> {
        let at = c * self.villages + v;
        self.allowed[at].then(|| self.scores[at])
    }

    /// The table: the same rules as [`verdict`] and the same totals as [`score`], computed once
    /// per cadre and village rather than per pair. `None` when some allowed pair's score does
    /// not fit an `i64`.
    fn new(
        cadres: &[Cadre],
        villages: &[VillageNeed],
        index: &Indexes,
        twinning: &Twinning,
        rules: &Rules,
        weights: &Weights,
    ) -> Option<PairTable> {
        let m = villages.len();
        let (cadre_index, village_index) = (&index.cadres, &index.villages);
        let mut forbidden_at: Vec<Vec<usize>> = vec![Vec::new(); cadres.len()];
        for (cadre, village) in &rules.forbidden {
            if let (Some(&c), Some(&v)) = (cadre_index.get(cadre), village_index.get(village.as_str())) {
                forbidden_at[c].push(v);
            }
        }
        // The skills some village needs, numbered, and each village's needs in one list:
        // `need_skill[need_start[v]..need_start[v + 1]]` with their points (priority × weight).
        let mut skill_ids: BTreeMap<&str, usize> = BTreeMap::new();
        let mut need_start = Vec::with_capacity(m + 1);
        let mut need_skill = Vec::new();
        let mut need_points = Vec::new();
        for village in villages {
            need_start.push(need_skill.len());
            for (skill, priority) in needs(village) {
                let next = skill_ids.len();
                need_skill.push(*skill_ids.entry(skill).or_insert(next));
                need_points.push(i128::from(priority) * i128::from(weights.per_priority_point));
            }
        }
        need_start.push(need_skill.len());

        let mut allowed = vec![false; cadres.len() * m];
        let mut scores = vec![0i64; cadres.len() * m];
        let mut has = vec![false; skill_ids.len()];
        let mut twinned = vec![false; m];
        for (c, cadre) in cadres.iter().enumerate() {
            if rules.young_max_age.is_some_and(|max| cadre.age > max) {
                continue;
            }
            let allowed = &mut allowed[c * m..(c + 1) * m];
            allowed.fill(true);
            if let Some(&home) = cadre.home_village.as_deref().and_then(|h| village_index.get(h)) {
                allowed[home] = false;
            }
            for &v in &forbidden_at[c] {
                allowed[v] = false;
            }
            has.fill(false);
            for skill in &cadre.skills {
                if let Some(&k) = skill_ids.get(skill.as_str()) {
                    has[k] = true;
                }
            }
            let twins: Vec<usize> = match cadre.unit_id.and_then(|unit| twinning.0.get(&unit)) {
                Some(codes) => codes
                    .iter()
                    .filter_map(|code| village_index.get(code.as_str()).copied())
                    .collect(),
                None => Vec::new(),
            };
            for &v in &twins {
                twinned[v] = true;
            }
            let scores = &mut scores[c * m..(c + 1) * m];
            for (v, score) in scores.iter_mut().enumerate() {
                if !allowed[v] {
                    continue;
                }
                // Exact sums. `score` adds the points, all of one sign, one by one and then the
                // bonus: it overflows exactly when the points or the total leave the i64 range.
                let needs = need_start[v]..need_start[v + 1];
                let points: i128 = need_skill[needs.clone()]
                    .iter()
                    .zip(&need_points[needs])
                    .map(|(&k, &points)| if has[k] { points } else { 0 })
                    .sum();
                let bonus = if twinned[v] { weights.twinning_bonus } else { 0 };
                i64::try_from(points).ok()?;
                *score = i64::try_from(points + i128::from(bonus)).ok()?;
            }
            for &v in &twins {
                twinned[v] = false;
            }
        }
        Some(PairTable {
            villages: m,
            allowed,
            scores,
        })
    }
}

/// The age, home-village and forbidden-pair rules, in that order, for one pair.
fn verdict(
    cadre: &Cadre,
    village: &str,
    young_max_age: Option<u32>,
    forbidden: &BTreeSet<(i64, &str)>,
) -> Result<(), Rule> {
    if young_max_age.is_some_and(|max| cadre.age > max) {
        return Err(Rule::Age);
    }
    if cadre.home_village.as_deref() == Some(village) {
        return Err(Rule::HomeVillage);
    }
    if forbidden.contains(&(cadre.id, village)) {
        return Err(Rule::Forbidden);
    }
    Ok(())
}

/// Whether the pair cadre → `village` is allowed by the age rule, the home-village rule and the
/// forbidden list of `rules` (checked in that order); the first rule broken otherwise. Useful to
/// explain a pin before running [`plan`].
///
/// # Errors
/// [`Rule::Age`], [`Rule::HomeVillage`] or [`Rule::Forbidden`].
pub fn check_pair(cadre: &Cadre, village: &str, rules: &Rules) -> Result<(), Rule> {
    let forbidden: BTreeSet<(i64, &str)> = rules
        .forbidden
        .iter()
        .filter(|(c, _)| *c == cadre.id)
        .map(|(c, v)| (*c, v.as_str()))
        .collect();
    verdict(cadre, village, rules.young_max_age, &forbidden)
}

/// Position of each cadre id and of each village code in the lists.
struct Indexes<'a> {
    cadres: BTreeMap<i64, usize>,
    villages: BTreeMap<&'a str, usize>,
}

/// Rejects repeated cadre ids, repeated village codes and priorities outside 1–3; returns the
/// positions of the ids and codes.
fn validate_lists<'a>(cadres: &[Cadre], villages: &'a [VillageNeed]) -> Result<Indexes<'a>, Infeasible> {
    let mut cadre_index = BTreeMap::new();
    for (i, cadre) in cadres.iter().enumerate() {
        if cadre_index.insert(cadre.id, i).is_some() {
            return Err(Infeasible::DuplicateCadre { cadre: cadre.id });
        }
    }
    let mut village_index = BTreeMap::new();
    for (i, village) in villages.iter().enumerate() {
        if village_index.insert(village.code.as_str(), i).is_some() {
            return Err(Infeasible::DuplicateVillage {
                village: village.code.clone(),
            });
        }
        for (skill, priority) in &village.skills {
            if !(MIN_PRIORITY..=MAX_PRIORITY).contains(priority) {
                return Err(Infeasible::PriorityOutOfRange {
                    village: village.code.clone(),
                    skill: skill.clone(),
                    priority: *priority,
                });
            }
        }
    }
    Ok(Indexes {
        cadres: cadre_index,
        villages: village_index,
    })
}

/// Proposes the optimal batch: the pairs that keep every hard rule with the greatest total
/// score, and among those the fewest pairs (module docs: rules, objective, method and proof).
///
/// `cadres` and `villages` must have unique ids and codes; `twinning` gives the twinning bonus;
/// `rules` the hard rules, pins and forbidden pairs; `weights` the score.
///
/// # Errors
/// Checked in this order: [`Infeasible::MaxBelowMin`]; [`Infeasible::DuplicateCadre`],
/// [`Infeasible::DuplicateVillage`], [`Infeasible::PriorityOutOfRange`]; for each pin in turn
/// [`Infeasible::PinnedPairForbidden`] and [`Infeasible::PinnedConflict`] (cadre twice, village
/// over capacity), then [`Infeasible::PinnedConflict`] for more pins than `max_size`;
/// [`Infeasible::ScoreOverflow`]; when `min_size > 0`, [`Infeasible::TooFewVillages`] for no
/// village place at all, [`Infeasible::NoAllowedPair`], [`Infeasible::TooFewEligibleCadres`] and
/// [`Infeasible::TooFewVillages`]; finally [`Infeasible::TooFewPairs`] (and
/// [`Infeasible::ScoreOverflow`] for weights too large for the matrix).
pub fn plan(
    cadres: &[Cadre],
    villages: &[VillageNeed],
    twinning: &Twinning,
    rules: &Rules,
    weights: &Weights,
) -> Result<Plan, Infeasible> {
    let (min_size, max_size, per_village) = (rules.min_size, rules.max_size, rules.per_village);
    if min_size > max_size {
        return Err(Infeasible::MaxBelowMin { min_size, max_size });
    }
    let index = validate_lists(cadres, villages)?;

    let forbidden: BTreeSet<(i64, &str)> = rules.forbidden.iter().map(|(c, v)| (*c, v.as_str())).collect();

    // Pins: validate, deduplicate, and take them out of the free problem.
    let mut pinned_to: Vec<Option<usize>> = vec![None; cadres.len()];
    let mut pins_in: Vec<usize> = vec![0; villages.len()];
    let mut pins: Vec<(usize, usize)> = Vec::new();
    for (cadre, code) in &rules.pinned {
        let forbidden_pin = |rule| Infeasible::PinnedPairForbidden {
            cadre: *cadre,
            village: code.clone(),
            rule,
        };
        let c = *index
            .cadres
            .get(cadre)
            .ok_or_else(|| forbidden_pin(Rule::UnknownCadre))?;
        let v = *index
            .villages
            .get(code.as_str())
            .ok_or_else(|| forbidden_pin(Rule::UnknownVillage))?;
        verdict(&cadres[c], code, rules.young_max_age, &forbidden).map_err(forbidden_pin)?;
        match pinned_to[c] {
            Some(earlier) if earlier == v => continue,
            Some(earlier) => {
                let conflict = PinConflict::CadreTwice {
                    cadre: *cadre,
                    first: villages[earlier].code.clone(),
                    second: code.clone(),
                };
                return Err(Infeasible::PinnedConflict { conflict });
            }
            None => {}
        }
        pinned_to[c] = Some(v);
        pins_in[v] += 1;
        if pins_in[v] > per_village {
            let conflict = PinConflict::VillageOverCapacity {
                village: code.clone(),
                pinned: pins_in[v],
                per_village,
            };
            return Err(Infeasible::PinnedConflict { conflict });
        }
        pins.push((c, v));
    }
    if pins.len() > max_size {
        let conflict = PinConflict::AboveMaxSize {
            pinned: pins.len(),
            max_size,
        };
        return Err(Infeasible::PinnedConflict { conflict });
    }

    // Verdicts and scores of all pairs.
    let table = PairTable::new(cadres, villages, &index, twinning, rules, weights).ok_or(Infeasible::ScoreOverflow)?;
    let allowed = |c: usize, v: usize| table.allowed(c, v);

    // Plain counting reasons first: they name the rule more precisely than a matching size.
    if min_size > 0 {
        if villages.is_empty() || per_village == 0 {
            return Err(Infeasible::TooFewVillages { slots: 0, min_size });
        }
        let any_pair = (0..cadres.len()).any(|c| (0..villages.len()).any(|v| allowed(c, v)));
        if !cadres.is_empty() && !any_pair {
            return Err(Infeasible::NoAllowedPair);
        }
        let eligible = (0..cadres.len())
            .filter(|&c| (0..villages.len()).any(|v| allowed(c, v)))
            .count();
        if eligible < min_size {
            return Err(Infeasible::TooFewEligibleCadres { eligible, min_size });
        }
        let open_villages = (0..villages.len())
            .filter(|&v| (0..cadres.len()).any(|c| allowed(c, v)))
            .count();
        let slots = open_villages.saturating_mul(per_village);
        if slots < min_size {
            return Err(Infeasible::TooFewVillages { slots, min_size });
        }
    }

    // The free problem: unpinned cadres and the places left, keeping only those with an allowed
    // pair; a village never needs more place columns than there are cadres.
    let left = |v: usize| per_village - pins_in[v];
    let rows: Vec<usize> = (0..cadres.len())
        .filter(|&c| pinned_to[c].is_none() && (0..villages.len()).any(|v| left(v) > 0 && allowed(c, v)))
        .collect();
    let places: Vec<usize> = (0..villages.len())
        .filter(|&v| rows.iter().any(|&c| allowed(c, v)))
        .flat_map(|v| std::iter::repeat_n(v, left(v).min(rows.len())))
        .collect();
    let free = |r: usize, p: usize| table.score(rows[r], places[p]);
    let lo = min_size.saturating_sub(pins.len());
    let hi = (max_size - pins.len()).min(rows.len()).min(places.len());
    let too_few = || Infeasible::TooFewPairs {
        possible: pins.len() + max_matching(rows.len(), places.len(), |r, p| free(r, p).is_some()),
        min_size,
    };
    if lo > hi {
        return Err(too_few());
    }
    let chosen = solve(rows.len(), places.len(), lo, hi, free)?.ok_or_else(too_few)?;

    // The plan: pins and chosen pairs, in roster order, each with its breakdown.
    let mut assigned: Vec<Option<(usize, bool)>> = vec![None; cadres.len()];
    for &(c, v) in &pins {
        assigned[c] = Some((v, true));
    }
    for (r, p) in chosen {
        assigned[rows[r]] = Some((places[p], false));
    }
    let mut pairs = Vec::new();
    let mut total_score = 0i64;
    for (c, slot) in assigned.into_iter().enumerate() {
        if let Some((v, pinned)) = slot {
            let breakdown = score(&cadres[c], &villages[v], twinning, weights).ok_or(Infeasible::ScoreOverflow)?;
            total_score = total_score
                .checked_add(breakdown.total)
                .ok_or(Infeasible::ScoreOverflow)?;
            pairs.push(Pair {
                cadre: cadres[c].id,
                village: villages[v].code.clone(),
                score: breakdown,
                pinned,
            });
        }
    }
    Ok(Plan { pairs, total_score })
}

/// Solves the free problem (module docs, "Matrix"): `score(r, p)` is the score of cadre row `r`
/// at place `p` among `rows × places`, `None` when the pair is not allowed. Returns the chosen
/// `(row, place)` pairs of a plan with `lo..=hi` pairs, greatest score and then fewest pairs, or
/// `None` when no such plan exists. Requires `lo ≤ hi ≤ min(rows, places)`.
fn solve(
    rows: usize,
    places: usize,
    lo: usize,
    hi: usize,
    score: impl Fn(usize, usize) -> Option<i64>,
) -> Result<Option<Vec<(usize, usize)>>, Infeasible> {
    // Side A (the matrix rows) is the smaller one; `pair` turns (A, P) indices into (row, place).
    let transposed = rows > places;
    let (a, b) = if transposed { (places, rows) } else { (rows, places) };
    let pair = |x: usize, y: usize| if transposed { (y, x) } else { (x, y) };
    let fillers = if hi < a { b - hi } else { 0 };
    let idle = a - lo;
    let costs = cost_matrix(a, b, fillers, idle, |x, y| {
        let (r, p) = pair(x, y);
        score(r, p)
    })
    .ok_or(Infeasible::ScoreOverflow)?;

    let Some(columns) = lsap::assign(&costs, false) else {
        return Ok(None);
    };

    Ok(Some(
        columns
            .into_iter()
            .take(a)
            .enumerate()
            .filter_map(|(x, y)| y.filter(|&y| y < b).map(|y| pair(x, y)))
            .collect(),
    ))
}

/// The cost matrix of the free problem (module docs, "Matrix") with `a` rows of A, `b` columns of
/// P, `fillers` filler rows and `idle` idle columns; `score(x, y)` is the score of the pair of
/// row `x` and column `y`, `None` when it is not allowed. `None` when a number leaves `i64` or
/// breaks the solver's bound (only with absurd weights).
///
/// Row by row: the weights `w = score × S − 1` with `S = a + 1`, then the costs `t − w` with `t`
/// the row's largest weight or 0 (the idle entries weigh 0), then the row less its least cost.
/// So all entries are ≥ 0, and as every row is assigned exactly once, the cost of every
/// assignment changes by the same amount.
fn cost_matrix(
    a: usize,
    b: usize,
    fillers: usize,
    idle: usize,
    score: impl Fn(usize, usize) -> Option<i64>,
) -> Option<lsap::Costs> {
    let s = i64::try_from(a + 1).ok()?;
    let width = b.checked_add(idle)?;
    let mut entries: Vec<i64> = Vec::with_capacity(a.checked_add(fillers)?.checked_mul(width)?);
    let mut weights: Vec<Option<i64>> = Vec::with_capacity(b);
    for x in 0..a {
        weights.clear();
        let mut top = 0i64;
        for y in 0..b {
            let w = match score(x, y) {
                Some(score) => Some(score.checked_mul(s)?.checked_sub(1)?),
                None => None,
            };
            if let Some(w) = w {
                top = top.max(w);
            }
            weights.push(w);
        }
        let mut least = if idle > 0 { top } else { i64::MAX };
        for w in weights.iter().flatten() {
            least = least.min(top.checked_sub(*w)?);
        }
        // Entries `t − w − least` (no overflow: `0 ≤ least ≤ t − w`); one equal to the marker of
        // a forbidden entry is refused.
        let entry = |w: i64| Some(top - w - least).filter(|&c| c != lsap::FORBIDDEN);
        for w in &weights {
            entries.push(match w {
                Some(w) => entry(*w)?,
                None => lsap::FORBIDDEN,
            });
        }
        if idle > 0 {
            entries.extend(std::iter::repeat_n(entry(0)?, idle));
        }
    }
    for _ in 0..fillers {
        entries.extend(std::iter::repeat_n(0, b));
        entries.extend(std::iter::repeat_n(lsap::FORBIDDEN, idle));
    }
    lsap::Costs::new(a + fillers, width, entries)
}

/// Size of a maximum matching of the allowed pairs of the free problem (`allowed(r, p)` for
/// cadre row `r` and place `p`): the solver on zero costs, rows of the smaller side, leaving the
/// rows with no augmenting path unassigned (the `lsap` module docs).
fn max_matching(rows: usize, places: usize, allowed: impl Fn(usize, usize) -> bool) -> usize {
    let transposed = rows > places;
    let (a, b) = if transposed { (places, rows) } else { (rows, places) };
    let mut entries = Vec::with_capacity(a.saturating_mul(b));
    for x in 0..a {
        for y in 0..b {
            let ok = if transposed { allowed(y, x) } else { allowed(x, y) };
            entries.push(if ok { 0 } else { lsap::FORBIDDEN });
        }
    }
    lsap::Costs::new(a, b, entries)
        .and_then(|costs| lsap::assign(&costs, true))
        .map_or(0, |columns| columns.iter().flatten().count())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const V1: &str = "630121100201";
    const V2: &str = "630121100202";
    const V3: &str = "630121101203";
    const V4: &str = "630121102204";

    const WEIGHTS: Weights = Weights {
        per_priority_point: 10,
        twinning_bonus: 15,
    };

    fn cadre(id: i64, age: u32, skills: &[&str], unit_id: Option<i64>, home: Option<&str>) -> Cadre {
        Cadre {
            id,
            age,
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            unit_id,
            home_village: home.map(str::to_owned),
        }
    }

    fn village(code: &str, skills: &[(&str, u8)]) -> VillageNeed {
        VillageNeed {
            code: code.to_owned(),
            skills: skills.iter().map(|(s, p)| ((*s).to_owned(), *p)).collect(),
        }
    }

    fn twinned(pairs: &[(i64, &str)]) -> Twinning {
        pairs.iter().map(|(u, v)| (*u, (*v).to_owned())).collect()
    }

    fn pairs(list: &[(i64, &str)]) -> Vec<(i64, String)> {
        list.iter().map(|(c, v)| (*c, (*v).to_owned())).collect()
    }

    /// `(cadre, village)` of every pair of the plan.
    fn chosen(plan: &Plan) -> Vec<(i64, &str)> {
        plan.pairs.iter().map(|p| (p.cadre, p.village.as_str())).collect()
    }

    /// The hand-checked fixture: 3 cadres, 4 villages, 10 points per priority point and a
    /// twinning bonus of 15.
    ///
    /// Scores:
    ///
    /// |         | V1 (agri 3, ecom 1) | V2 (ecom 3)         | V3 (law 2, health 1) | V4 (agri 1, law 1) |
    /// |---------|---------------------|---------------------|----------------------|--------------------|
    /// | cadre 1 | 30 + 10 = 40        | 30 + 15 (twin) = 45 | 0                    | 10                 |
    /// | cadre 2 | 10                  | 30                  | 15 (twin)            | 0                  |
    /// | cadre 3 | home village (40)   | 30                  | 10                   | 10 + 15 (twin) = 25|
    fn fixture() -> (Vec<Cadre>, Vec<VillageNeed>, Twinning) {
        let cadres = vec![
            cadre(1, 30, &["agri", "ecom"], Some(10), None),
            cadre(2, 35, &["ecom"], Some(20), None),
            cadre(3, 28, &["agri", "ecom", "health"], Some(30), Some(V1)),
        ];
        let villages = vec![
            village(V1, &[("agri", 3), ("ecom", 1)]),
            village(V2, &[("ecom", 3)]),
            village(V3, &[("law", 2), ("health", 1)]),
            village(V4, &[("agri", 1), ("law", 1)]),
        ];
        let twinning = twinned(&[(10, V2), (20, V3), (30, V4)]);
        (cadres, villages, twinning)
    }

    #[test]
    fn hand_checked_fixture() {
        // Every 3-pair plan that keeps the rules (villages of cadres 1, 2, 3), best first:
        //   V1 V2 V4: 40 + 30 + 25 = 95   ← the optimum, and the only plan scoring 95
        //   V2 V3 V4: 45 + 15 + 25 = 85   ← greedy "best pair first": 1→V2 (45), then 3→V4 (25),
        //                                   then 2→V3 (15); taking the best pair loses 10 points
        //   V1 V3 V2: 40 + 15 + 30 = 85
        //   V2 V1 V4: 45 + 10 + 25 = 80
        //   V1 V3 V4: 40 + 15 + 25 = 80
        //   V1 V2 V3: 40 + 30 + 10 = 80
        //   (the other plans score less; 2-pair plans score at most 70)
        let (cadres, villages, twinning) = fixture();
        let plan = plan(&cadres, &villages, &twinning, &Rules::new(2, 3), &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V1), (2, V2), (3, V4)]);
        assert_eq!(plan.total_score, 95);
        assert!(plan.pairs.iter().all(|p| !p.pinned));
        assert_eq!(
            plan.pairs[0].score,
            ScoreBreakdown {
                skills: vec![("agri".into(), 3, 30), ("ecom".into(), 1, 10)],
                twinning: 0,
                total: 40
            }
        );
        assert_eq!(
            plan.pairs[1].score,
            ScoreBreakdown {
                skills: vec![("ecom".into(), 3, 30)],
                twinning: 0,
                total: 30
            }
        );
        assert_eq!(
            plan.pairs[2].score,
            ScoreBreakdown {
                skills: vec![("agri".into(), 1, 10)],
                twinning: 15,
                total: 25
            }
        );
    }

    #[test]
    fn home_village_rule_changes_the_optimum() {
        // Were cadre 3 not from V1, 1→V2 (45) + 2→V3 (15) + 3→V1 (40) = 100 would beat 95.
        let (mut cadres, villages, twinning) = fixture();
        cadres[2].home_village = None;
        let plan = plan(&cadres, &villages, &twinning, &Rules::new(2, 3), &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V2), (2, V3), (3, V1)]);
        assert_eq!(plan.total_score, 100);
    }

    #[test]
    fn max_size_picks_the_best_subset() {
        // Best 2-pair plans score 70: 1→V2 + 3→V4, 1→V1 + 3→V2, 1→V1 + 2→V2.
        let (cadres, villages, twinning) = fixture();
        let plan = plan(&cadres, &villages, &twinning, &Rules::new(1, 2), &WEIGHTS).unwrap();
        assert_eq!(plan.pairs.len(), 2);
        assert_eq!(plan.total_score, 70);
        // Exactly one pair: the best single pair the rules allow, 1→V2 (45).
        let plan = super::plan(&cadres, &villages, &twinning, &Rules::new(1, 1), &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V2)]);
        assert_eq!(plan.total_score, 45);
        // Nothing at all.
        let plan = super::plan(&cadres, &villages, &twinning, &Rules::new(0, 0), &WEIGHTS).unwrap();
        assert!(plan.pairs.is_empty());
        assert_eq!(plan.total_score, 0);
    }

    #[test]
    fn age_rule_and_its_override() {
        let (mut cadres, villages, twinning) = fixture();
        cadres[0].age = 45;
        // Cadre 1 is over 40: 2→V2 (30) + 3→V4 (25) = 55 beats 2→V3 + 3→V2 (45).
        let plan = plan(&cadres, &villages, &twinning, &Rules::new(2, 3), &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(2, V2), (3, V4)]);
        assert_eq!(plan.total_score, 55);
        // The limit is inclusive.
        let rules = Rules {
            young_max_age: Some(45),
            ..Rules::new(2, 3)
        };
        assert_eq!(
            super::plan(&cadres, &villages, &twinning, &rules, &WEIGHTS)
                .unwrap()
                .total_score,
            95
        );
        // No age rule for this batch.
        let rules = Rules {
            young_max_age: None,
            ..Rules::new(2, 3)
        };
        assert_eq!(
            super::plan(&cadres, &villages, &twinning, &rules, &WEIGHTS)
                .unwrap()
                .total_score,
            95
        );
    }

    #[test]
    fn forbidden_pair_is_avoided() {
        // Without 1→V1: 1→V2 (45) + 2→V3 (15) + 3→V4 (25) = 85; the other plans score at most 80.
        let (cadres, villages, twinning) = fixture();
        let rules = Rules {
            forbidden: pairs(&[(1, V1), (99, V1), (1, "000000000000")]),
            ..Rules::new(2, 3)
        };
        let plan = plan(&cadres, &villages, &twinning, &rules, &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V2), (2, V3), (3, V4)]);
        assert_eq!(plan.total_score, 85);
    }

    #[test]
    fn pinned_pair_is_kept_and_the_rest_is_optimal() {
        // 3→V3 (10) pinned; the best for cadres 1 and 2 over V1, V2, V4 is 1→V1 (40) + 2→V2 (30).
        let (cadres, villages, twinning) = fixture();
        let rules = Rules {
            pinned: pairs(&[(3, V3), (3, V3)]),
            ..Rules::new(2, 3)
        };
        let plan = plan(&cadres, &villages, &twinning, &rules, &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V1), (2, V2), (3, V3)]);
        assert_eq!(
            plan.pairs.iter().map(|p| p.pinned).collect::<Vec<_>>(),
            [false, false, true]
        );
        assert_eq!(plan.total_score, 80);
        // A pinned pair counts towards the size: with at most 1 pair, only the pin.
        let rules = Rules {
            pinned: pairs(&[(3, V3)]),
            ..Rules::new(0, 1)
        };
        let plan = super::plan(&cadres, &villages, &twinning, &rules, &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(3, V3)]);
    }

    /// One village V needs agriculture (3) and e-commerce (2); W needs nothing. Cadres 1 and 3
    /// know agriculture (30 points at V), cadre 2 e-commerce (20 points at V); every pair at W
    /// scores 0.
    fn two_villages() -> (Vec<Cadre>, Vec<VillageNeed>) {
        let cadres = vec![
            cadre(1, 30, &["agri"], None, None),
            cadre(2, 30, &["ecom"], None, None),
            cadre(3, 30, &["agri"], None, None),
        ];
        let villages = vec![village(V1, &[("agri", 3), ("ecom", 2)]), village(V2, &[])];
        (cadres, villages)
    }

    #[test]
    fn per_village_capacity() {
        let (cadres, villages) = two_villages();
        let none = Twinning::new();
        let run = |per_village| {
            let rules = Rules {
                per_village,
                ..Rules::new(1, 3)
            };
            plan(&cadres, &villages, &none, &rules, &WEIGHTS).unwrap()
        };
        // One place at V: 30; no zero-score pair at W is added beyond the minimum of 1.
        let one = run(1);
        assert_eq!(one.total_score, 30);
        assert_eq!(one.pairs.len(), 1);
        // Two places: both agriculture cadres, 60.
        let two = run(2);
        assert_eq!(chosen(&two), [(1, V1), (3, V1)]);
        assert_eq!(two.total_score, 60);
        // Three places: everybody, 80.
        let three = run(3);
        assert_eq!(chosen(&three), [(1, V1), (2, V1), (3, V1)]);
        assert_eq!(three.total_score, 80);
        // A huge capacity is no problem.
        assert_eq!(run(usize::MAX).total_score, 80);
    }

    #[test]
    fn zero_score_pairs_fill_up_to_the_minimum_only() {
        let (cadres, villages) = two_villages();
        let none = Twinning::new();
        // At least 2: one agriculture cadre at V (30) and somebody at W (0).
        let plan = plan(&cadres, &villages, &none, &Rules::new(2, 3), &WEIGHTS).unwrap();
        assert_eq!(plan.total_score, 30);
        assert_eq!(plan.pairs.len(), 2);
        assert_eq!(plan.pairs.iter().filter(|p| p.village == V2).count(), 1);
        assert!(plan.pairs.iter().any(|p| p.village == V1 && p.score.total == 30));
        // With negative points for skills, the minimum is met by the least bad pairs.
        let negative = Weights {
            per_priority_point: -1,
            twinning_bonus: 0,
        };
        let plan = super::plan(&cadres, &villages, &none, &Rules::new(2, 3), &negative).unwrap();
        assert_eq!(plan.pairs.len(), 2);
        assert_eq!(plan.total_score, -2); // 2→V (−2) and one cadre at W (0).
    }

    #[test]
    fn repeated_skill_counts_once_at_its_highest_priority() {
        let c = cadre(1, 30, &["agri", "law"], Some(7), None);
        let v = village(V1, &[("agri", 1), ("law", 2), ("agri", 3), ("water", 3)]);
        let s = score(&c, &v, &twinned(&[(7, V1)]), &WEIGHTS).unwrap();
        assert_eq!(
            s,
            ScoreBreakdown {
                skills: vec![("agri".into(), 3, 30), ("law".into(), 2, 20)],
                twinning: 15,
                total: 65
            }
        );
        assert_eq!(score(&c, &v, &Twinning::new(), &WEIGHTS).unwrap().total, 50);
        let huge = Weights {
            per_priority_point: i64::MAX,
            twinning_bonus: 0,
        };
        assert_eq!(score(&c, &v, &Twinning::new(), &huge), None);
    }

    #[test]
    fn check_pair_names_the_first_rule_broken() {
        let old = cadre(1, 50, &[], None, Some(V1));
        let young = cadre(2, 30, &[], None, Some(V1));
        let rules = Rules {
            forbidden: pairs(&[(1, V2), (2, V2)]),
            ..Rules::new(0, 1)
        };
        assert_eq!(check_pair(&old, V1, &rules), Err(Rule::Age));
        assert_eq!(check_pair(&young, V1, &rules), Err(Rule::HomeVillage));
        assert_eq!(check_pair(&young, V2, &rules), Err(Rule::Forbidden));
        assert_eq!(check_pair(&young, V3, &rules), Ok(()));
        assert!(Rule::HomeVillage.to_string().contains("home village"));
        assert_eq!(Rule::UnknownVillage.as_str(), "unknown_village");
    }

    #[test]
    fn twinning_set() {
        let mut t = Twinning::new();
        assert!(t.is_empty());
        assert!(t.insert(5, V2));
        assert!(!t.insert(5, V2));
        assert!(t.insert(4, V1));
        assert_eq!(t.len(), 2);
        assert!(t.contains(5, V2) && !t.contains(5, V1));
        let list: Vec<(i64, String)> = t.clone().into();
        assert_eq!(list, pairs(&[(4, V1), (5, V2)]));
        assert_eq!(Twinning::from(list), t);
    }

    /// Runs the fixture with other rules and returns the error.
    fn fixture_error(rules: &Rules) -> Infeasible {
        let (cadres, villages, twinning) = fixture();
        plan(&cadres, &villages, &twinning, rules, &WEIGHTS).unwrap_err()
    }

    #[test]
    fn infeasible_size_range_and_lists() {
        let e = fixture_error(&Rules::new(3, 2));
        assert_eq!(
            e,
            Infeasible::MaxBelowMin {
                min_size: 3,
                max_size: 2
            }
        );
        assert_eq!(e.key(), "dispatch-max-below-min");

        let (mut cadres, mut villages, twinning) = fixture();
        cadres.push(cadre(2, 30, &[], None, None));
        let e = plan(&cadres, &villages, &twinning, &Rules::new(0, 3), &WEIGHTS).unwrap_err();
        assert_eq!(e, Infeasible::DuplicateCadre { cadre: 2 });
        assert_eq!(e.key(), "dispatch-duplicate-cadre");
        cadres.pop();

        villages.push(village(V3, &[]));
        let e = plan(&cadres, &villages, &twinning, &Rules::new(0, 3), &WEIGHTS).unwrap_err();
        assert_eq!(e.key(), "dispatch-duplicate-village");
        villages.pop();

        villages[1].skills.push(("law".into(), 4));
        let e = plan(&cadres, &villages, &twinning, &Rules::new(0, 3), &WEIGHTS).unwrap_err();
        assert_eq!(
            e,
            Infeasible::PriorityOutOfRange {
                village: V2.into(),
                skill: "law".into(),
                priority: 4
            }
        );
        assert_eq!(e.key(), "dispatch-priority-out-of-range");
        villages[1].skills[1].1 = 0;
        let e = plan(&cadres, &villages, &twinning, &Rules::new(0, 3), &WEIGHTS).unwrap_err();
        assert_eq!(e.key(), "dispatch-priority-out-of-range");
    }

    #[test]
    fn infeasible_pins() {
        let pin = |list: &[(i64, &str)]| Rules {
            pinned: pairs(list),
            ..Rules::new(0, 3)
        };
        let e = fixture_error(&pin(&[(3, V1)]));
        assert_eq!(
            e,
            Infeasible::PinnedPairForbidden {
                cadre: 3,
                village: V1.into(),
                rule: Rule::HomeVillage
            }
        );
        assert_eq!(e.key(), "dispatch-pinned-pair-forbidden");
        assert!(e.to_string().contains("home-village rule"));
        assert_eq!(
            fixture_error(&pin(&[(99, V1)])),
            Infeasible::PinnedPairForbidden {
                cadre: 99,
                village: V1.into(),
                rule: Rule::UnknownCadre
            }
        );
        assert_eq!(
            fixture_error(&pin(&[(1, "630121999999")])),
            Infeasible::PinnedPairForbidden {
                cadre: 1,
                village: "630121999999".into(),
                rule: Rule::UnknownVillage
            }
        );
        let old = Rules {
            young_max_age: Some(29),
            ..pin(&[(1, V1)])
        };
        assert_eq!(
            fixture_error(&old),
            Infeasible::PinnedPairForbidden {
                cadre: 1,
                village: V1.into(),
                rule: Rule::Age
            }
        );
        let forbidden = Rules {
            forbidden: pairs(&[(1, V1)]),
            ..pin(&[(1, V1)])
        };
        assert_eq!(
            fixture_error(&forbidden),
            Infeasible::PinnedPairForbidden {
                cadre: 1,
                village: V1.into(),
                rule: Rule::Forbidden
            }
        );

        let e = fixture_error(&pin(&[(1, V1), (1, V2)]));
        let conflict = PinConflict::CadreTwice {
            cadre: 1,
            first: V1.into(),
            second: V2.into(),
        };
        assert_eq!(e, Infeasible::PinnedConflict { conflict });
        assert_eq!(e.key(), "dispatch-pinned-cadre-twice");

        let e = fixture_error(&pin(&[(1, V2), (2, V2)]));
        let conflict = PinConflict::VillageOverCapacity {
            village: V2.into(),
            pinned: 2,
            per_village: 1,
        };
        assert_eq!(e, Infeasible::PinnedConflict { conflict });
        assert_eq!(e.key(), "dispatch-pinned-village-over-capacity");
        // Two places: fine.
        let (cadres, villages, twinning) = fixture();
        let two = Rules {
            per_village: 2,
            ..pin(&[(1, V2), (2, V2)])
        };
        let plan = plan(&cadres, &villages, &twinning, &two, &WEIGHTS).unwrap();
        assert_eq!(chosen(&plan), [(1, V2), (2, V2), (3, V4)]); // V2 is full: 45 + 30 + 25.
        assert_eq!(plan.total_score, 100);

        let e = fixture_error(&Rules {
            pinned: pairs(&[(1, V1), (2, V2)]),
            ..Rules::new(0, 1)
        });
        let conflict = PinConflict::AboveMaxSize { pinned: 2, max_size: 1 };
        assert_eq!(e, Infeasible::PinnedConflict { conflict });
        assert_eq!(e.key(), "dispatch-pinned-above-max-size");
    }

    #[test]
    fn infeasible_counts() {
        let (cadres, villages, twinning) = fixture();
        // Every pair forbidden.
        let mut all = Vec::new();
        for c in &cadres {
            for v in &villages {
                all.push((c.id, v.code.clone()));
            }
        }
        let e = fixture_error(&Rules {
            forbidden: all.clone(),
            ..Rules::new(1, 3)
        });
        assert_eq!(e, Infeasible::NoAllowedPair);
        assert_eq!(e.key(), "dispatch-no-allowed-pair");
        // ... which is fine when the batch may be empty.
        let rules = Rules {
            forbidden: all,
            ..Rules::new(0, 3)
        };
        assert!(
            plan(&cadres, &villages, &twinning, &rules, &WEIGHTS)
                .unwrap()
                .pairs
                .is_empty()
        );

        // Only cadre 3 (28) is 29 or younger.
        let e = fixture_error(&Rules {
            young_max_age: Some(29),
            ..Rules::new(2, 3)
        });
        assert_eq!(
            e,
            Infeasible::TooFewEligibleCadres {
                eligible: 1,
                min_size: 2
            }
        );
        assert_eq!(e.key(), "dispatch-too-few-eligible-cadres");
        assert!(e.to_string().contains("age"));
        let e = fixture_error(&Rules::new(4, 5));
        assert_eq!(
            e,
            Infeasible::TooFewEligibleCadres {
                eligible: 3,
                min_size: 4
            }
        );
        // No cadres at all.
        let e = plan(&[], &villages, &twinning, &Rules::new(1, 3), &WEIGHTS).unwrap_err();
        assert_eq!(
            e,
            Infeasible::TooFewEligibleCadres {
                eligible: 0,
                min_size: 1
            }
        );

        // Two villages for three cadres.
        let e = plan(&cadres, &villages[2..], &twinning, &Rules::new(3, 3), &WEIGHTS).unwrap_err();
        assert_eq!(e, Infeasible::TooFewVillages { slots: 2, min_size: 3 });
        assert_eq!(e.key(), "dispatch-too-few-villages");
        let e = plan(&cadres, &[], &twinning, &Rules::new(1, 3), &WEIGHTS).unwrap_err();
        assert_eq!(e, Infeasible::TooFewVillages { slots: 0, min_size: 1 });
        let closed = Rules {
            per_village: 0,
            ..Rules::new(1, 3)
        };
        let e = plan(&cadres, &villages, &twinning, &closed, &WEIGHTS).unwrap_err();
        assert_eq!(e, Infeasible::TooFewVillages { slots: 0, min_size: 1 });

        // Enough cadres and places, but cadres 1 and 2 may only go to V2.
        let forbidden = pairs(&[(1, V1), (1, V3), (1, V4), (2, V1), (2, V3), (2, V4)]);
        let e = fixture_error(&Rules {
            forbidden: forbidden.clone(),
            ..Rules::new(3, 3)
        });
        assert_eq!(
            e,
            Infeasible::TooFewPairs {
                possible: 2,
                min_size: 3
            }
        );
        assert_eq!(e.key(), "dispatch-too-few-pairs");
        let plan2 = plan(
            &cadres,
            &villages,
            &twinning,
            &Rules {
                forbidden,
                ..Rules::new(2, 3)
            },
            &WEIGHTS,
        )
        .unwrap();
        assert_eq!(chosen(&plan2), [(1, V2), (3, V4)]);
        // A pin can take the place the others need: cadre 3 pinned to V2 leaves cadres 1 and 2
        // (who may only go to V2) nowhere.
        let forbidden = pairs(&[(1, V1), (1, V3), (1, V4), (2, V1), (2, V3), (2, V4)]);
        let e = fixture_error(&Rules {
            forbidden,
            pinned: pairs(&[(3, V2)]),
            ..Rules::new(2, 3)
        });
        assert_eq!(
            e,
            Infeasible::TooFewPairs {
                possible: 1,
                min_size: 2
            }
        );

        // Absurd weights.
        let huge = Weights {
            per_priority_point: i64::MAX / 2,
            twinning_bonus: 0,
        };
        let e = plan(&cadres, &villages, &twinning, &Rules::new(1, 3), &huge).unwrap_err();
        assert_eq!(e, Infeasible::ScoreOverflow);
        assert_eq!(e.key(), "dispatch-score-overflow");
    }

    #[test]
    fn empty_inputs() {
        let none = Twinning::new();
        let plan0 = plan(&[], &[], &none, &Rules::new(0, 30), &WEIGHTS).unwrap();
        assert_eq!(
            plan0,
            Plan {
                pairs: Vec::new(),
                total_score: 0
            }
        );
        let (cadres, _) = two_villages();
        assert!(
            plan(&cadres, &[], &none, &Rules::new(0, 30), &WEIGHTS)
                .unwrap()
                .pairs
                .is_empty()
        );
    }

    #[test]
    fn keys_are_distinct_and_kebab_case() {
        let conflict = |c| Infeasible::PinnedConflict { conflict: c };
        let all = [
            Infeasible::MaxBelowMin {
                min_size: 2,
                max_size: 1,
            },
            Infeasible::DuplicateCadre { cadre: 1 },
            Infeasible::DuplicateVillage { village: V1.into() },
            Infeasible::PriorityOutOfRange {
                village: V1.into(),
                skill: "x".into(),
                priority: 9,
            },
            Infeasible::PinnedPairForbidden {
                cadre: 1,
                village: V1.into(),
                rule: Rule::Age,
            },
            conflict(PinConflict::CadreTwice {
                cadre: 1,
                first: V1.into(),
                second: V2.into(),
            }),
            conflict(PinConflict::VillageOverCapacity {
                village: V1.into(),
                pinned: 2,
                per_village: 1,
            }),
            conflict(PinConflict::AboveMaxSize { pinned: 2, max_size: 1 }),
            Infeasible::NoAllowedPair,
            Infeasible::TooFewEligibleCadres {
                eligible: 1,
                min_size: 2,
            },
            Infeasible::TooFewVillages { slots: 1, min_size: 2 },
            Infeasible::TooFewPairs {
                possible: 1,
                min_size: 2,
            },
            Infeasible::ScoreOverflow,
        ];
        let keys: BTreeSet<&str> = all.iter().map(Infeasible::key).collect();
        assert_eq!(keys.len(), all.len());
        for key in keys {
            assert!(key.starts_with("dispatch-"), "{key}");
            assert!(key.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{key}");
        }
        for e in &all {
            assert!(!e.to_string().is_empty());
        }
    }

    // ---- Brute force on small random instances -------------------------------------------

    /// Number of skills in the random instances; a cadre's skills are a bit mask over them.
    const SKILLS: usize = 4;

    /// A small random instance, by indices: cadre `i` has id `100 + i`, village `j` code
    /// `village_code(j)`. Indices in `forbidden` and `pinned` may point past the lists.
    #[derive(Debug, Clone)]
    struct Raw {
        /// `(age, skill mask, unit, home village index)`.
        cadres: Vec<(u32, u8, Option<i64>, Option<usize>)>,
        /// Priority of each skill, 0 when not needed.
        needs: Vec<Vec<u8>>,
        /// `(unit, village index)`.
        twins: Vec<(i64, usize)>,
        per_village: usize,
        min_size: usize,
        max_size: usize,
        young_max_age: Option<u32>,
        forbidden: Vec<(usize, usize)>,
        pinned: Vec<(usize, usize)>,
        weights: Weights,
    }

    fn village_code(j: usize) -> String {
        format!("6301211002{j:02}")
    }

    fn skill_name(k: usize) -> String {
        format!("skill-{k}")
    }

    /// Random instances of up to 5 cadres × 5 villages. Pins and forbidden pairs mostly name
    /// listed cadres and villages; the minimum is mostly reachable and the maximum now and then
    /// below it.
    ///
    /// `tight` instances have 2–5 cadres and villages, no pin, seldom an age rule, each cadre
    /// allowed at each village with probability 1/2 (every other pair forbidden), and a
    /// minimum of `min(cadres, villages) − 1` or `min(cadres, villages)`: the counts of eligible
    /// cadres and open places often suffice while no plan is large enough (Hall's condition
    /// fails), the case [`Infeasible::TooFewPairs`] reports.
    fn raw(tight: bool) -> impl Strategy<Value = Raw> {
        let sizes = if tight { 2usize..=5 } else { 0usize..=5 };
        (sizes.clone(), sizes)
            .prop_flat_map(move |(n, m)| {
                let cadre = 0..n.max(1);
                let village = 0..m.max(1);
                let least = if tight { n.min(m) - 1 } else { 0 };
                (
                    prop::collection::vec(
                        (
                            30u32..=46,
                            0u8..16,
                            prop::option::of(0i64..3),
                            prop::option::weighted(0.4, village.clone()),
                        ),
                        n,
                    ),
                    prop::collection::vec(prop::collection::vec(0u8..=3, SKILLS), m),
                    prop::collection::vec((0i64..3, village.clone()), 0..=6),
                    prop_oneof![1 => Just(0usize), 5 => Just(1), 3 => Just(2)],
                    (least..=n.min(m) + usize::from(!tight), usize::from(tight)..=4),
                    prop::option::weighted(if tight { 0.1 } else { 0.5 }, 36u32..=46),
                    prop::collection::vec((cadre.clone(), village.clone()), 0..=6),
                    // Allowed villages of each cadre in tight instances: the bits set.
                    prop::collection::vec(any::<u8>(), n),
                    prop_oneof![
                        3 => Just(Vec::new()),
                        2 => prop::collection::vec((cadre, village), 1..=2),
                    ],
                    (-3i64..=6, -3i64..=6),
                )
            })
            .prop_map(
                move |(
                    cadres,
                    needs,
                    twins,
                    per_village,
                    (min_size, extra),
                    young_max_age,
                    forbidden,
                    masks,
                    pinned,
                    (p, t),
                )| {
                    let forbidden = if tight {
                        let m = needs.len();
                        let mut all = Vec::new();
                        for (i, mask) in masks.iter().enumerate() {
                            all.extend((0..m).filter(|j| mask & (1 << j) == 0).map(|j| (i, j)));
                        }
                        all
                    } else {
                        forbidden
                    };
                    Raw {
                        cadres,
                        needs,
                        twins,
                        per_village,
                        min_size,
                        // extra = 0 gives max = min − 1 (below the minimum) now and then.
                        max_size: (min_size + extra).saturating_sub(1),
                        young_max_age,
                        forbidden,
                        pinned: if tight { Vec::new() } else { pinned },
                        weights: Weights {
                            per_priority_point: p,
                            twinning_bonus: t,
                        },
                    }
                },
            )
    }

    fn build(raw: &Raw) -> (Vec<Cadre>, Vec<VillageNeed>, Twinning, Rules) {
        let cadres = raw
            .cadres
            .iter()
            .enumerate()
            .map(|(i, (age, mask, unit, home))| Cadre {
                id: 100 + i as i64,
                age: *age,
                skills: (0..SKILLS).filter(|k| mask & (1 << k) != 0).map(skill_name).collect(),
                unit_id: *unit,
                home_village: home.map(village_code),
            })
            .collect();
        let villages = raw
            .needs
            .iter()
            .enumerate()
            .map(|(j, needs)| VillageNeed {
                code: village_code(j),
                skills: needs
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| **p > 0)
                    .map(|(k, p)| (skill_name(k), *p))
                    .collect(),
            })
            .collect();
        let twinning = raw.twins.iter().map(|(u, j)| (*u, village_code(*j))).collect();
        let by_id = |list: &[(usize, usize)]| -> Vec<(i64, String)> {
            list.iter().map(|(i, j)| (100 + *i as i64, village_code(*j))).collect()
        };
        let rules = Rules {
            min_size: raw.min_size,
            max_size: raw.max_size,
            per_village: raw.per_village,
            young_max_age: raw.young_max_age,
            pinned: by_id(&raw.pinned),
            forbidden: by_id(&raw.forbidden),
        };
        (cadres, villages, twinning, rules)
    }

    /// Whether cadre `i` may go to village `j`, straight from the raw instance.
    fn raw_allowed(raw: &Raw, i: usize, j: usize) -> bool {
        let (age, _, _, home) = raw.cadres[i];
        raw.young_max_age.is_none_or(|max| age <= max) && home != Some(j) && !raw.forbidden.contains(&(i, j))
    }

    /// Score of cadre `i` at village `j`, straight from the raw instance.
    fn raw_score(raw: &Raw, i: usize, j: usize) -> i64 {
        let (_, mask, unit, _) = raw.cadres[i];
        let skills: i64 = (0..SKILLS)
            .filter(|k| mask & (1 << k) != 0)
            .map(|k| i64::from(raw.needs[j][k]) * raw.weights.per_priority_point)
            .sum();
        let twin = unit.is_some_and(|u| raw.twins.contains(&(u, j)));
        skills + if twin { raw.weights.twinning_bonus } else { 0 }
    }

    /// Best `(score, fewest pairs at that score)` over every assignment that keeps the rules, or
    /// `None` when there is none: each cadre stays home or goes to an allowed village with a
    /// place left.
    fn brute_force(raw: &Raw) -> Option<(i64, usize)> {
        fn go(
            raw: &Raw,
            i: usize,
            choice: &mut Vec<Option<usize>>,
            load: &mut [usize],
            best: &mut Option<(i64, usize)>,
        ) {
            if i == raw.cadres.len() {
                let k = choice.iter().flatten().count();
                let pins_kept = raw.pinned.iter().all(|&(pi, pj)| choice.get(pi) == Some(&Some(pj)));
                if k < raw.min_size || k > raw.max_size || !pins_kept {
                    return;
                }
                let total: i64 = choice
                    .iter()
                    .enumerate()
                    .filter_map(|(ci, v)| v.map(|vj| raw_score(raw, ci, vj)))
                    .sum();
                if best.is_none_or(|(s, n)| total > s || (total == s && k < n)) {
                    *best = Some((total, k));
                }
                return;
            }
            choice.push(None);
            go(raw, i + 1, choice, load, best);
            choice.pop();
            for j in 0..raw.needs.len() {
                if load[j] < raw.per_village && raw_allowed(raw, i, j) {
                    load[j] += 1;
                    choice.push(Some(j));
                    go(raw, i + 1, choice, load, best);
                    choice.pop();
                    load[j] -= 1;
                }
            }
        }
        let mut best = None;
        go(raw, 0, &mut Vec::new(), &mut vec![0; raw.needs.len()], &mut best);
        best
    }

    /// `plan` against the brute force on one instance: the same optimum (score, then fewest
    /// pairs), an error exactly when no plan exists, and no hard rule broken.
    fn check_against_brute_force(raw: &Raw) -> Result<(), TestCaseError> {
        let (cadres, villages, twinning, rules) = build(raw);
        let result = plan(&cadres, &villages, &twinning, &rules, &raw.weights);
        let Some((best, fewest)) = brute_force(raw) else {
            prop_assert!(result.is_err(), "brute force finds no plan, plan gives {:?}", result);
            return Ok(());
        };
        let plan = match result {
            Ok(plan) => plan,
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "brute force finds {best}, plan fails: {e}"
                )));
            }
        };
        prop_assert_eq!(plan.total_score, best);
        prop_assert_eq!(plan.pairs.len(), fewest);

        // Every hard rule, checked from the raw instance.
        let mut seen = BTreeSet::new();
        let mut load = vec![0usize; villages.len()];
        let mut sum = 0;
        for pair in &plan.pairs {
            let i = usize::try_from(pair.cadre - 100).unwrap();
            let j = villages.iter().position(|v| v.code == pair.village).unwrap();
            prop_assert!(seen.insert(i), "cadre {} twice", pair.cadre);
            load[j] += 1;
            prop_assert!(load[j] <= raw.per_village);
            prop_assert!(raw_allowed(raw, i, j));
            prop_assert_eq!(pair.score.total, raw_score(raw, i, j));
            let parts: i64 = pair.score.skills.iter().map(|s| s.2).sum::<i64>() + pair.score.twinning;
            prop_assert_eq!(parts, pair.score.total);
            prop_assert_eq!(pair.pinned, raw.pinned.contains(&(i, j)));
            sum += pair.score.total;
        }
        prop_assert_eq!(sum, plan.total_score);
        prop_assert!(plan.pairs.len() >= raw.min_size && plan.pairs.len() <= raw.max_size);
        for &(pi, pj) in &raw.pinned {
            let pinned_in = plan
                .pairs
                .iter()
                .any(|p| p.cadre == 100 + pi as i64 && p.village == village_code(pj));
            prop_assert!(pinned_in);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn plan_matches_brute_force(raw in raw(false)) {
            check_against_brute_force(&raw)?;
        }
    }

    proptest! {
        // About 1 instance in 150 is the rare TooFewPairs case; enough cases to meet it often.
        #![proptest_config(ProptestConfig::with_cases(20000))]

        #[test]
        fn plan_matches_brute_force_on_tight_instances(raw in raw(true)) {
            check_against_brute_force(&raw)?;
        }
    }
}
