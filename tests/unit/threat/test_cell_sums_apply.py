"""Cached layer sums plus a logged delta (cell_sums.LayerSums.apply) whatever the numeric types
of either side: a base the event store built from no event holds integer series (NumPy's
bincount of nothing is int64), and adding a delta of floats to it must not raise (found by
schemathesis: POST /api/v1/patrol-plans answered 500)."""

from __future__ import annotations

import numpy as np

from app.repositories.hotspots import CATEGORY_COLUMNS
from app.services.threat.cell_sums import NUMERIC, LayerSums

STEPS = 4


def _sums(cells: list[int], incidents: list[float], series: np.ndarray) -> LayerSums:
    n = len(cells)
    values = np.zeros((n, len(NUMERIC)))
    values[:, 0] = incidents
    return LayerSums(np.asarray(cells, dtype=np.int64), values,
                     np.zeros((n, len(CATEGORY_COLUMNS)), dtype=np.int64), series, None, 1)


def test_an_integer_series_base_takes_a_float_delta() -> None:
    empty = np.bincount(np.array([], dtype=np.int64), weights=np.array([]), minlength=STEPS)
    base = _sums([5], [1.0], empty.reshape(1, STEPS))
    assert base.series is not None and base.series.dtype == np.int64  # the case that failed
    delta = _sums([5, 7], [1.0, 2.0], np.array([[0.0, 0.5, 0.0, 1.0], [1.0, 0.0, 0.0, 0.25]]))
    out = base.apply(delta)
    assert out.cells.tolist() == [5, 7]
    assert out.series is not None
    assert out.series.tolist() == [[0.0, 0.5, 0.0, 1.0], [1.0, 0.0, 0.0, 0.25]]
    assert out.column("incidents").tolist() == [2.0, 2.0]
