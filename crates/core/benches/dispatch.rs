//! Benchmark of the dispatch optimiser (issue #6): [`dispatch::plan`] side by side with SciPy's
//! `linear_sum_assignment` on the same score matrices, which must give the same optimum.
//!
//! Run with `cargo bench -p ringline-core --bench dispatch` (python3 with numpy and scipy needed;
//! set `PYTHON` to use another interpreter, `DISPATCH_BENCH_SIZES=30x313,2000x2000` to run some
//! sizes only, `DISPATCH_BENCH_RUNS` to change the number of runs). Prints a markdown table;
//! times are the best of a few runs, in seconds.
//!
//! The instances are random with a fixed seed:
//!
//! - 30 × 313 (Datong): 30 cadres aged 24–40, each with 1–3 of 7 skills, one in three from a
//!   village on the list (never sent home); 313 villages needing 1–3 skills at priority 1–3; 10
//!   units, each twinned with 1–3 villages; batch of 20–30, one cadre per village, the default age
//!   rule, no pin.
//! - n × n for n = 2,000 and 5,000: the same kinds of skills, needs and twinning (a unit per 10
//!   cadres), no home village, age rule off, no pin, batch of exactly n: a plain assignment
//!   problem.
//!
//! The score matrix (cadres × villages, [`dispatch::score`] totals, pairs that break a rule
//! marked) is written to a temporary file and `benches/scipy_lsa.py` times
//! `linear_sum_assignment(scores, maximize=True)` on it. SciPy assigns exactly `min(n, m)` pairs
//! while [`dispatch::plan`] picks the best batch of `min_size..=max_size` pairs; the two optima are
//! the same here because every score is `≥ 0` and `min_size ≤ min(n, m) ≤ max_size`: a full
//! assignment is a batch, and any batch grows to a full assignment without losing points (a cadre
//! left out may take any free village but their home; in 30 × 313 hundreds of villages stay free,
//! and the n × n instances have no home village). The script checks the first two conditions,
//! and that SciPy's assignment uses allowed pairs only.
//!
//! "ours" is the whole call of [`dispatch::plan`] (checking the input, scoring every pair,
//! building the matrix and solving it); "scipy" is the `linear_sum_assignment` call alone.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ringline_core::dispatch::{self, Cadre, Rules, Twinning, VillageNeed, Weights};

const SKILLS: [&str; 7] = [
    "农业技术",
    "电子商务",
    "法律服务",
    "医疗卫生",
    "教育培训",
    "基层党建",
    "财务管理",
];

const WEIGHTS: Weights = Weights {
    per_priority_point: 10,
    twinning_bonus: 15,
};

/// Marks a pair that breaks a hard rule in the matrix file.
const NOT_ALLOWED: i64 = i64::MIN;

struct Case {
    label: &'static str,
    cadres: Vec<Cadre>,
    villages: Vec<VillageNeed>,
    twinning: Twinning,
    rules: Rules,
    runs: usize,
}

fn village_code(j: usize) -> String {
    format!("63022110{j:04}")
}

/// `count` distinct skills.
fn some_skills(rng: &mut ChaCha8Rng, count: usize) -> Vec<&'static str> {
    SKILLS.choose_multiple(rng, count).copied().collect()
}

/// A random instance of `n` cadres and `m` villages with `units` source units; a cadre comes from
/// a listed village with probability `home` and is `ages` years old.
fn instance(
    rng: &mut ChaCha8Rng,
    n: usize,
    m: usize,
    units: i64,
    home: f64,
    ages: std::ops::RangeInclusive<u32>,
) -> (Vec<Cadre>, Vec<VillageNeed>, Twinning) {
    let villages: Vec<VillageNeed> = (0..m)
        .map(|j| {
            let count = rng.random_range(1..=3);
            VillageNeed {
                code: village_code(j),
                skills: some_skills(rng, count)
                    .into_iter()
                    .map(|s| (s.to_owned(), rng.random_range(1..=3)))
                    .collect(),
            }
        })
        .collect();
    let cadres: Vec<Cadre> = (0..n)
        .map(|i| {
            let count = rng.random_range(1..=3);
            Cadre {
                id: 10_000 + i as i64,
                age: rng.random_range(ages.clone()),
                skills: some_skills(rng, count).into_iter().map(str::to_owned).collect(),
                unit_id: Some(rng.random_range(0..units)),
                home_village: rng.random_bool(home).then(|| village_code(rng.random_range(0..m))),
            }
        })
        .collect();
    let mut twinning = Twinning::new();
    for unit in 0..units {
        for _ in 0..rng.random_range(1..=3) {
            twinning.insert(unit, village_code(rng.random_range(0..m)));
        }
    }
    (cadres, villages, twinning)
}

fn cases(rng: &mut ChaCha8Rng) -> Vec<Case> {
    let (cadres, villages, twinning) = instance(rng, 30, 313, 10, 1.0 / 3.0, 24..=40);
    let mut all = vec![Case {
        label: "30x313",
        cadres,
        villages,
        twinning,
        rules: Rules::new(20, 30),
        runs: 20,
    }];
    for (label, n, runs) in [("2000x2000", 2000, 3), ("5000x5000", 5000, 2)] {
        let (cadres, villages, twinning) = instance(rng, n, n, (n / 10) as i64, 0.0, 24..=60);
        all.push(Case {
            label,
            cadres,
            villages,
            twinning,
            rules: Rules {
                young_max_age: None,
                ..Rules::new(n, n)
            },
            runs,
        });
    }
    all
}

/// Writes the score matrix: little-endian `i64` rows and columns, then the scores row by row,
/// [`NOT_ALLOWED`] for pairs that break a rule.
fn write_matrix(case: &Case, path: &PathBuf) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(&(case.cadres.len() as i64).to_le_bytes()).unwrap();
    out.write_all(&(case.villages.len() as i64).to_le_bytes()).unwrap();
    for cadre in &case.cadres {
        for village in &case.villages {
            let entry = match dispatch::check_pair(cadre, &village.code, &case.rules) {
                Ok(()) => dispatch::score(cadre, village, &case.twinning, &WEIGHTS).unwrap().total,
                Err(_) => NOT_ALLOWED,
            };
            out.write_all(&entry.to_le_bytes()).unwrap();
        }
    }
    out.flush().unwrap();
}

/// Runs the SciPy script: `(best seconds, optimum)`.
fn scipy(path: &PathBuf, rules: &Rules, runs: usize) -> (f64, i64) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/scipy_lsa.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(python)
        .arg(&script)
        .arg(path)
        .arg(rules.min_size.to_string())
        .arg(rules.max_size.to_string())
        .arg(runs.to_string())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "scipy_lsa.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |name: &str| -> String {
        stdout
            .split_whitespace()
            .find_map(|word| word.strip_prefix(name).and_then(|w| w.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {name}= in {stdout}"))
            .to_owned()
    };
    (field("seconds").parse().unwrap(), field("total").parse().unwrap())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, so keep it to the
    // smallest case then.
    let testing = !std::env::args().any(|a| a == "--bench");
    let selected: Option<Vec<String>> = std::env::var("DISPATCH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').map(str::to_owned).collect());
    let mut rng = ChaCha8Rng::seed_from_u64(20_250_601);
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!("dispatch benchmark: {cpus} CPUs, load average before {}", load());
    println!();
    println!("| size | ours (s) | scipy (s) | ratio | optimum |");
    println!("|---|---|---|---|---|");
    for case in cases(&mut rng) {
        let wanted = match &selected {
            Some(list) => list.iter().any(|s| s == case.label),
            None => !testing || case.label == "30x313",
        };
        if !wanted {
            continue;
        }
        let runs = match std::env::var("DISPATCH_BENCH_RUNS") {
            Ok(runs) => runs.parse().expect("DISPATCH_BENCH_RUNS is a number"),
            Err(_) if testing => 1,
            Err(_) => case.runs,
        };
        let mut best = f64::INFINITY;
        let mut plan = None;
        for _ in 0..runs {
            let start = Instant::now();
            let result = dispatch::plan(&case.cadres, &case.villages, &case.twinning, &case.rules, &WEIGHTS);
            best = best.min(start.elapsed().as_secs_f64());
            plan = Some(result.expect("a plan exists"));
        }
        let plan = plan.unwrap();
        let k = plan.pairs.len();
        assert!(k >= case.rules.min_size && k <= case.rules.max_size);

        let path = std::env::temp_dir().join(format!("ringline-dispatch-{}-{}.bin", case.label, std::process::id()));
        write_matrix(&case, &path);
        let (scipy_seconds, scipy_total) = scipy(&path, &case.rules, runs);
        std::fs::remove_file(&path).ok();
        assert_eq!(
            plan.total_score, scipy_total,
            "{}: plan and SciPy disagree on the optimum",
            case.label
        );
        println!(
            "| {} | {best:.6} | {scipy_seconds:.6} | {:.2} | {} ({k} pairs) |",
            case.label.replace('x', " × "),
            best / scipy_seconds,
            plan.total_score,
        );
    }
    println!();
    println!("load average after {}", load());
}
