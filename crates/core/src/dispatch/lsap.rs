//! Rectangular linear assignment in exact integer arithmetic, by shortest augmenting paths: the
//! augmentation phase of R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for
//! dense and sparse linear assignment problems", Computing 38, 325–340 (1987), applied row by
//! row to rectangular matrices from zero duals as in D. F. Crouse, "On implementing 2D
//! rectangular assignment algorithms", IEEE Transactions on Aerospace and Electronic Systems
//! 52(4), 1679–1696 (2016) (the algorithm of `scipy.optimize.linear_sum_assignment`).
//!
//! # Problem
//!
//! A [`Costs`] matrix has `rows ≤ cols`; its entries are integers `≥ 0` or [`FORBIDDEN`]. An
//! *assignment* gives every row its own column through a non-forbidden entry; columns may stay
//! unused. [`assign`] returns one of least total cost, or says that none exists.
//!
//! # Algorithm
//!
//! Dual values `u` (rows) and `v` (columns) start at 0; the reduced cost of an entry is
//! `c − u − v`. Rows are added one at a time. For the new row, Dijkstra's algorithm on the
//! reduced costs finds a shortest *augmenting path*: new row → column → the row assigned to that
//! column → column → … → an unused column, alternating non-forbidden entries and current
//! assignments (moving from a column to its row costs 0). As in Jonker–Volgenant, the columns at
//! the least tentative distance are gathered in one list and their rows scanned in turn; a
//! column reaching that same distance joins the list, and the search ends as soon as an unused
//! column is at the least distance (none can be nearer). With the path length `δ` and the final
//! tentative distance `d(j)` of each column, the new row's dual gains `δ`, every scanned column
//! `j` loses `δ − d(j)` and its row gains as much; then the path is flipped. The time is
//! `O(rows² × cols)` in the worst case.
//!
//! **Invariants.** (a) `c − u − v ≥ 0` for every row and non-forbidden entry; (b) equality on
//! every assigned entry; (c) `v ≤ 0`, and `v = 0` for every unused column. They hold at the start
//! (entries `≥ 0`, duals 0). Every column left unscanned has `d ≥ δ`, so the update is
//! `u(i) += δ − d(k)` for a row `i` reached through column `k` (`d(k) = 0` for the new row) and
//! `v(j) −= δ − d'(j)` with `d'(j) = min(d(j), δ)` for every column `j`. Once row `i` is scanned,
//! `d(j) ≤ d(k) + c − u − v`, or `j` was already at distance `d(j) ≤ d(k)`; so the new reduced
//! cost `(c − u − v + d(k)) − d'(j)` is `≥ 0`, and `= 0` on the path entries (each set its
//! column's distance) and on the assignments of the reached rows. (A row whose scan was cut
//! short by the end of the search is at `d(k) = δ` and keeps its dual.) Rows not reached keep
//! `u` while `v` only falls, which keeps (a) and, as their columns are not scanned, (b). Only
//! scanned columns, which are assigned, change `v`, and only downwards: (c).
//!
//! **Optimality.** When every row is assigned, for any other assignment `A'`,
//! `cost(A') ≥ Σu + Σ_{j ∈ A'} v ≥ Σu + Σ_j v = Σu + Σ_{j assigned} v = cost(A)` by (a), (c), (c)
//! and (b). So the assignment found has least cost.
//!
//! **No assignment.** When the search from a row reaches no unused column, no assignment of all
//! rows exists (Hall's theorem): the rows reached other than the new one are exactly the rows
//! assigned to the columns scanned, and every column with a non-forbidden entry in a reached row
//! was scanned, so the reached rows have one column fewer than their number among them. The row
//! is left unassigned with `u = 0`, the other duals are untouched (so the invariants hold), and
//! the search goes on with the next row unless told to stop. A row without augmenting path never
//! gets one after later augmentations (the classical lemma behind Kuhn's matching algorithm; e.g.
//! L. Lovász and M. D. Plummer, *Matching Theory*, 1986, Section 1.2), so with zero costs the
//! rows left assigned form a matching of greatest size (Berge's theorem: a matching is maximum
//! when there is no augmenting path).
//!
//! # Exact integers
//!
//! Every quantity stays well inside `i64`. Let `C` be the largest entry and `R` the number of
//! rows, so that any assignment of some of the rows costs between 0 and `R·C`; let `A` be the
//! current assignment.
//!
//! - A row is reached only once assigned, so the new row has `u = 0`, and the unused column at
//!   the end of the path has `v = 0` by (c). Summing the reduced costs along the path, with (b)
//!   on its assigned entries, flipping it raises the cost of `A` by exactly `δ ≥ 0`. So the `δ`
//!   of all augmentations so far add up to `cost(A) ≤ R·C`.
//! - An augmentation raises a dual `u` by at most `δ` and lowers a dual `v` by at most `δ`, so
//!   `0 ≤ u ≤ cost(A)` and `−R·C ≤ v ≤ 0` throughout.
//! - When a column `j` assigned to row `i` is scanned at distance `d(j)`, flipping the path to
//!   `j` and leaving `i` unassigned gives an assignment `A'` of other rows, with
//!   `cost(A') = cost(A) + d(j) − u(i)` by the same sum; so `d(j) ≤ cost(A') ≤ R·C`. The least
//!   distance is that of a column about to be scanned or of the end of the path: at most `R·C`,
//!   also in a search that fails.
//! - A tentative distance is `(least − u) + c − v`: the three partial sums lie between `−R·C`
//!   and `R·C + C + R·C`.
//!
//! [`Costs::new`] therefore accepts entries up to `C` only when `(2R + 2)·C < i64::MAX`; then no
//! value reaches [`FORBIDDEN`] or the internal infinity, both `i64::MAX`.

/// An entry that no assignment may use.
pub(crate) const FORBIDDEN: i64 = i64::MAX;

/// Distance of a column Dijkstra has not reached.
const INFINITY: i64 = i64::MAX;

/// No row, or no column.
const NONE: usize = usize::MAX;

/// A cost matrix that [`assign`] solves exactly: `rows ≤ cols`, entries `≥ 0` or
/// [`FORBIDDEN`], and small enough for exact `i64` arithmetic (module docs).
#[derive(Debug, Clone)]
pub(crate) struct Costs {
    rows: usize,
    cols: usize,
    /// Row-major entries.
    entries: Vec<i64>,
}

impl Costs {
    /// The matrix of `rows × cols` row-major `entries`, or `None` when `rows > cols`, the length is
    /// not `rows × cols`, an entry is negative, or the largest entry `C` other than [`FORBIDDEN`]
    /// breaks `(2·rows + 2)·C < i64::MAX` (module docs, "Exact integers").
    pub(crate) fn new(rows: usize, cols: usize, entries: Vec<i64>) -> Option<Costs> {
        if rows > cols || rows.checked_mul(cols) != Some(entries.len()) {
            return None;
        }
        let mut largest = 0i64;
        for &c in &entries {
            if c < 0 {
                return None;
            }
            if c != FORBIDDEN {
                largest = largest.max(c);
            }
        }
        let factor = i64::try_from(rows).ok()?.checked_mul(2)?.checked_add(2)?;
        match factor.checked_mul(largest) {
            Some(bound) if bound < i64::MAX => Some(Costs { rows, cols, entries }),
            _ => None,
        }
    }
}

/// A least-cost assignment of the rows (module docs): the column of each row. Returns `None`
/// when some row has no augmenting path; with `keep_going`, such rows are left unassigned
/// (`None`) instead and the others are assigned.
pub(crate) fn assign(costs: &Costs, keep_going: bool) -> Option<Vec<Option<usize>>> {
    let (rows, cols) = (costs.rows, costs.cols);
    let mut u = vec![0i64; rows];
    let mut v = vec![0i64; cols];
    let mut col4row = vec![NONE; rows];
    let mut row4col = vec![NONE; cols];
    // Dijkstra's state: tentative distance and predecessor row of each column, and the columns
    // in three runs: `order[..scanned]` scanned, `order[scanned..level]` at the least distance
    // and not yet scanned, `order[level..]` the rest.
    let mut distance = vec![INFINITY; cols];
    let mut path = vec![NONE; cols];
    let mut order: Vec<usize> = Vec::with_capacity(cols);

    for start in 0..rows {
        let row = &costs.entries[start * cols..(start + 1) * cols];
        for (j, &c) in row.iter().enumerate() {
            // u = 0 for the new row.
            distance[j] = if c == FORBIDDEN { INFINITY } else { c - v[j] };
            path[j] = start;
        }
        order.clear();
        order.extend(0..cols);
        let (mut scanned, mut level) = (0usize, 0usize);
        let mut least = 0i64;
        let mut sink = NONE;
        'search: loop {
            if scanned == level {
                // Move the columns at the least distance to the front of the rest.
                least = INFINITY;
                for k in scanned..cols {
                    let d = distance[order[k]];
                    if d <= least {
                        if d < least {
                            level = scanned;
                            least = d;
                        }
                        order.swap(k, level);
                        level += 1;
                    }
                }
                if least == INFINITY {
                    break 'search;
                }
                if let Some(&j) = order[scanned..level].iter().find(|&&j| row4col[j] == NONE) {
                    sink = j;
                    break 'search;
                }
            }
            // Scan the row assigned to the next column at the least distance.
            let i = row4col[order[scanned]];
            scanned += 1;
            let row = &costs.entries[i * cols..(i + 1) * cols];
            let base = least - u[i];
            let unlisted = level;
            for k in unlisted..cols {
                let j = order[k];
                let c = row[j];
                if c == FORBIDDEN {
                    continue;
                }
                let d = base + c - v[j];
                if d < distance[j] {
                    distance[j] = d;
                    path[j] = i;
                    if d == least {
                        // No distance is below the least: an unused column there ends the
                        // search; a used one joins the columns to scan at this distance.
                        if row4col[j] == NONE {
                            sink = j;
                            break 'search;
                        }
                        order.swap(k, level);
                        level += 1;
                    }
                }
            }
        }
        if sink == NONE {
            if keep_going {
                continue;
            }
            return None;
        }

        // Duals: the new row gains δ; every scanned column j loses δ − d(j) and its row gains as
        // much. Columns not scanned are at distance δ or more and keep their duals.
        let delta = least;
        u[start] += delta;
        for &j in &order[..scanned] {
            let gain = delta - distance[j];
            v[j] -= gain;
            u[row4col[j]] += gain;
        }
        // Flip the path.
        let mut j = sink;
        loop {
            let i = path[j];
            row4col[j] = i;
            std::mem::swap(&mut col4row[i], &mut j);
            if i == start {
                break;
            }
        }
    }
    Some(col4row.into_iter().map(|j| (j != NONE).then_some(j)).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pathfinding::prelude::{Matrix, kuhn_munkres_min};
    use proptest::prelude::*;

    /// Least cost over every assignment by brute force, `None` when there is none.
    fn brute_force(costs: &Costs) -> Option<i64> {
        fn go(costs: &Costs, i: usize, used: &mut [bool], sum: i64, best: &mut Option<i64>) {
            if i == costs.rows {
                *best = Some(best.map_or(sum, |b| b.min(sum)));
                return;
            }
            for j in 0..costs.cols {
                let c = costs.entries[i * costs.cols + j];
                if !used[j] && c != FORBIDDEN {
                    used[j] = true;
                    go(costs, i + 1, used, sum + c, best);
                    used[j] = false;
                }
            }
        }
        let mut best = None;
        go(costs, 0, &mut vec![false; costs.cols], 0, &mut best);
        best
    }

    /// Largest number of rows that can be assigned at once, by brute force.
    fn brute_force_matching(costs: &Costs) -> usize {
        fn go(costs: &Costs, i: usize, used: &mut [bool]) -> usize {
            if i == costs.rows {
                return 0;
            }
            let mut best = go(costs, i + 1, used);
            for j in 0..costs.cols {
                if !used[j] && costs.entries[i * costs.cols + j] != FORBIDDEN {
                    used[j] = true;
                    best = best.max(1 + go(costs, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        go(costs, 0, &mut vec![false; costs.cols])
    }

    /// Total cost of the assignment, checking that it is one.
    fn cost_of(costs: &Costs, assignment: &[Option<usize>]) -> i64 {
        let mut used = vec![false; costs.cols];
        let mut sum = 0;
        for (i, j) in assignment.iter().enumerate() {
            if let Some(j) = *j {
                assert!(!used[j], "column {j} used twice");
                used[j] = true;
                let c = costs.entries[i * costs.cols + j];
                assert_ne!(c, FORBIDDEN);
                sum += c;
            }
        }
        sum
    }

    #[test]
    fn new_checks_shape_sign_and_range() {
        assert!(Costs::new(2, 1, vec![0, 0]).is_none());
        assert!(Costs::new(1, 2, vec![0]).is_none());
        assert!(Costs::new(1, 2, vec![0, -1]).is_none());
        assert!(Costs::new(1, 2, vec![0, FORBIDDEN]).is_some());
        // R = 1: 4·C < i64::MAX.
        assert!(Costs::new(1, 1, vec![i64::MAX / 4]).is_some());
        assert!(Costs::new(1, 1, vec![i64::MAX / 4 + 1]).is_none());
        assert!(Costs::new(0, 0, Vec::new()).is_some());
    }

    #[test]
    fn small_cases() {
        let costs = Costs::new(0, 3, Vec::new()).unwrap();
        assert_eq!(assign(&costs, false), Some(Vec::new()));
        let costs = Costs::new(2, 3, vec![4, 1, 3, 2, 0, 5]).unwrap();
        assert_eq!(assign(&costs, false), Some(vec![Some(1), Some(0)]));
        let costs = Costs::new(2, 2, vec![1, FORBIDDEN, 2, FORBIDDEN]).unwrap();
        assert_eq!(assign(&costs, false), None);
        assert_eq!(assign(&costs, true), Some(vec![Some(0), None]));
        // The largest entries allowed, on the worst shape for the bound.
        let c = (i64::MAX - 1) / 6;
        let costs = Costs::new(2, 2, vec![c, 0, 0, c]).unwrap();
        assert_eq!(assign(&costs, false), Some(vec![Some(1), Some(0)]));
        let costs = Costs::new(2, 2, vec![c, c, c, 0]).unwrap();
        assert_eq!(assign(&costs, false), Some(vec![Some(0), Some(1)]));
    }

    /// Random `rows × cols` matrices (`rows ≤ cols ≤ 6`) with small entries, many ties and
    /// forbidden entries now and then.
    fn matrix(forbidden_percent: u32) -> impl Strategy<Value = Costs> {
        (0usize..=6, 0usize..=6)
            .prop_flat_map(move |(a, b)| {
                let (rows, cols) = (a.min(b), a.max(b));
                let entry = prop_oneof![
                    100 - forbidden_percent => prop_oneof![0i64..=3, 0i64..=1000],
                    forbidden_percent => Just(FORBIDDEN),
                ];
                (Just(rows), Just(cols), prop::collection::vec(entry, rows * cols))
            })
            .prop_map(|(rows, cols, entries)| Costs::new(rows, cols, entries).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]

        #[test]
        fn matches_brute_force(costs in matrix(25)) {
            let best = brute_force(&costs);
            match assign(&costs, false) {
                Some(assignment) => {
                    prop_assert!(assignment.iter().all(Option::is_some));
                    prop_assert_eq!(Some(cost_of(&costs, &assignment)), best);
                }
                None => prop_assert_eq!(best, None),
            }
        }

        #[test]
        fn keep_going_gives_a_maximum_matching(costs in matrix(60)) {
            let zero: Vec<i64> = costs
                .entries
                .iter()
                .map(|&c| if c == FORBIDDEN { FORBIDDEN } else { 0 })
                .collect();
            let zero = Costs::new(costs.rows, costs.cols, zero).unwrap();
            let assignment = assign(&zero, true).unwrap();
            cost_of(&zero, &assignment);
            prop_assert_eq!(assignment.iter().flatten().count(), brute_force_matching(&zero));
        }

    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Matrices of up to 24 rows, square or wider, with negative entries and many ties,
        /// against pathfinding's Kuhn–Munkres after shifting every row by its minimum.
        #[test]
        fn matches_kuhn_munkres(
            (rows, cols, entries) in (0usize..=24, 0usize..=8).prop_flat_map(|(rows, extra)| {
                let cols = rows + if extra > 4 { 0 } else { extra };
                let entry = prop_oneof![-2i64..=2, -50i64..=50, -1000i64..=1000];
                (Just(rows), Just(cols), prop::collection::vec(entry, rows * cols))
            })
        ) {
            let mut shifted = entries.clone();
            let mut shift = 0;
            for row in shifted.chunks_mut(cols.max(1)) {
                let least = row.iter().copied().min().unwrap_or(0);
                shift += least;
                row.iter_mut().for_each(|c| *c -= least);
            }
            let costs = Costs::new(rows, cols, shifted).unwrap();
            let assignment = assign(&costs, false).unwrap();
            prop_assert!(assignment.iter().all(Option::is_some));
            let ours = cost_of(&costs, &assignment) + shift;
            let expected = if rows == 0 {
                0
            } else {
                kuhn_munkres_min(&Matrix::from_vec(rows, cols, entries).unwrap()).0
            };
            prop_assert_eq!(ours, expected);
        }
    }
}
