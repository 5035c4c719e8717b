#!/usr/bin/env python3
"""Times scipy.optimize.linear_sum_assignment on a dispatch score matrix (benches/dispatch.rs).

Usage: scipy_lsa.py FILE MIN MAX [RUNS]

FILE holds little-endian int64 values: rows, columns, then the scores row by row (cadres x
villages), with int64 min marking a pair that breaks a hard rule. MIN and MAX are the batch
size range of the plan it is compared with.

linear_sum_assignment assigns exactly min(rows, columns) pairs; the plan picks the best batch of
MIN..MAX pairs. The two optima are equal when every score is >= 0 and MIN <= min(rows, columns)
<= MAX (a full assignment is a batch, and a batch grows to a full assignment without losing
points when one exists, which the benchmark instances ensure); this script checks both
conditions and that a full assignment exists.

Prints "seconds=<best of RUNS> total=<optimum> pairs=<count>".
"""

import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

NOT_ALLOWED = np.iinfo(np.int64).min


def main() -> None:
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) == 5 else 1
    raw = np.fromfile(path, dtype="<i8")
    rows, cols = int(raw[0]), int(raw[1])
    matrix = raw[2:].reshape(rows, cols)
    allowed = matrix != NOT_ALLOWED
    if (matrix[allowed] < 0).any():
        sys.exit("negative scores: the optima of the plan and of a full assignment may differ")
    size = min(rows, cols)
    if not lo <= size <= hi:
        sys.exit(f"a full assignment has {size} pairs, outside the batch range {lo}..{hi}")
    scores = np.where(allowed, matrix, 0).astype(np.float64)
    scores[~allowed] = -np.inf  # infeasible when maximising

    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        row_ind, col_ind = linear_sum_assignment(scores, maximize=True)
        best = min(best, time.perf_counter() - start)
    if len(row_ind) != size or not allowed[row_ind, col_ind].all():
        sys.exit("no full assignment of allowed pairs")
    total = int(matrix[row_ind, col_ind].sum())
    print(f"seconds={best:.6f} total={total} pairs={len(row_ind)}")


if __name__ == "__main__":
    main()
