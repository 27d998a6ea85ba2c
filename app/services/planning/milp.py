"""A thin, deterministic wrapper over HiGHS (highspy) for the 0-1 models of patrol planning and
the footprint review: maximise c.x subject to row bounds on a sparse matrix."""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np


@dataclass
class MilpResult:
    x: np.ndarray
    status: str  # "optimal", or HiGHS's model status text when it is not
    optimal: bool


def maximise(
    cost: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    row_upper: np.ndarray,
    *,
    integer: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    row_lower: np.ndarray | None = None,
    time_limit_s: float = 20.0,
) -> MilpResult:
    """max cost.x  s.t.  row_lower <= A x <= row_upper,  0 <= x <= col_upper.

    A is given as COO triplets (rows, cols, vals). `integer` flags integer columns (default: all).
    One thread and a fixed seed make HiGHS return the same answer for the same input.
    """
    n, m = len(cost), len(row_upper)
    if n == 0:
        return MilpResult(np.zeros(0), "optimal", True)
    order = np.lexsort((rows, cols))
    rows, cols, vals = rows[order], cols[order], vals[order]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n) if col_upper is None else np.asarray(col_upper, dtype=float)
    lp.row_lower_ = np.full(m, -highspy.kHighsInf) if row_lower is None else row_lower
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n), out=starts[1:])
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = rows.astype(np.int32)
    lp.a_matrix_.value_ = vals.astype(float)
    flags = np.ones(n, dtype=bool) if integer is None else integer
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous for f in flags
    ]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    sol = np.asarray(h.getSolution().col_value, dtype=float)
    return MilpResult(
        sol if len(sol) == n else np.zeros(n),
        "optimal" if optimal else h.modelStatusToString(status),
        optimal,
    )
