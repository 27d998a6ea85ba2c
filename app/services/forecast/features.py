"""Event arrays, the cell domain and neighbour rings: the shared ground of every forecast method.

Times are float days since the Unix epoch (UTC). Cells are H3 indexes as int64.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pandas as pd

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CATEGORIES = (
    "killing",
    "armed_group_presence",
    "attack_on_peacekeepers",
    "sexual_violence",
    "abduction",
)
PERPETRATORS = ("non_state_armed_group", "state_force", "community_militia")


def to_days(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - EPOCH).total_seconds() / 86400.0


def from_days(days: float) -> datetime:
    return datetime.fromtimestamp(days * 86400.0, tz=UTC)


def event_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Repository rows → columns t (days), cell (int64), harm, category, perpetrator_type,
    radius (location radius in metres; 0 when unknown)."""
    if not rows:
        return pd.DataFrame(
            {
                "t": np.array([], float),
                "cell": np.array([], np.int64),
                "harm": np.array([], float),
                "category": [],
                "perpetrator_type": [],
                "radius": np.array([], float),
            }
        )
    df = pd.DataFrame(rows)
    out = pd.DataFrame(
        {
            "t": np.array([to_days(x) for x in df["occurred"]], dtype=float),
            "cell": df["cell"].astype(np.int64).to_numpy(),
            "harm": df["harm"].astype(float).to_numpy(),
            "category": df["category"].astype(str).to_numpy(),
            "perpetrator_type": df["perpetrator_type"].astype(str).to_numpy(),
            "radius": (
                df["location_radius_m"].astype(float).to_numpy()
                if "location_radius_m" in df
                else np.zeros(len(df))
            ),
        }
    )
    return out.sort_values("t", kind="stable").reset_index(drop=True)


def before(ev: pd.DataFrame, origin: float) -> pd.DataFrame:
    """Strictly earlier events: the only data any method may train on for this origin."""
    return ev[ev["t"] < origin]


def within(ev: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    return ev[(ev["t"] >= start) & (ev["t"] < end)]


@lru_cache(maxsize=8)
def _outline(path: str, iso: str) -> dict[str, Any]:
    doc = json.loads(Path(path).read_text())
    for feat in doc["features"]:
        if feat["properties"].get("iso_a3") == iso:
            return feat["geometry"]  # type: ignore[no-any-return]
    raise LookupError(f"no outline for {iso} in {path}")


@lru_cache(maxsize=16)
def domain_cells(path: str, iso: str, res: int) -> np.ndarray:
    """All cells at `res` that intersect the country outline (the area term for PAI), sorted."""
    shape = h3.geo_to_h3shape(_outline(path, iso))
    cells = h3.h3shape_to_cells_experimental(shape, res, contain="overlap")
    return np.sort(np.array([h3.str_to_int(c) for c in cells], dtype=np.int64))


@dataclass(frozen=True)
class Rings:
    """Sparse (target, source, ring distance) pairs for ring distances 0..k between cells."""

    target: np.ndarray
    source: np.ndarray
    dist: np.ndarray


@lru_cache(maxsize=200_000)
def _disk(cell: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = h3.int_to_str(cell)
    cells: list[int] = []
    dist: list[int] = []
    for d in range(k + 1):
        ring = h3.grid_ring(s, d)
        cells.extend(h3.str_to_int(c) for c in ring)
        dist.extend([d] * len(ring))
    return np.array(cells, np.int64), np.array(dist, np.int64)


def rings_around(sources: np.ndarray, k: int) -> Rings:
    """For each source cell, every cell within k rings of it and the ring distance."""
    uniq = np.unique(sources)
    if len(uniq) == 0:
        empty = np.array([], np.int64)
        return Rings(empty, empty, empty)
    disks = [_disk(int(s), k) for s in uniq]
    tgt = np.concatenate([d[0] for d in disks])
    dist = np.concatenate([d[1] for d in disks])
    src = np.repeat(uniq, [len(d[0]) for d in disks])
    return Rings(tgt, src, dist)


def ring_sizes(k: int) -> np.ndarray:
    """Cells at ring distance d (hexagons; pentagons are rare enough to ignore)."""
    return np.array([1] + [6 * d for d in range(1, k + 1)], dtype=float)


@dataclass
class Forecast:
    """One method's forecast for one origin and horizon over a set of cells."""

    method: str
    cells: np.ndarray
    expected_incidents: np.ndarray
    expected_harm: np.ndarray
    # Ranking used for PAI/harm capture (highest first); methods may rank by harm, say.
    score: np.ndarray
    # What cells outside `cells` expect (a model's background; 0 for baselines).
    floor_incidents: float = 0.0
    floor_harm: float = 0.0
    # Maps expected incidents to P(>=1); None = Poisson. `calibrations` are the alternatives
    # fitted beside it (by name), scored in the backtest for the before/after comparison.
    calibrate: Callable[[np.ndarray], np.ndarray] | None = None
    calibrations: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)
    # Out-of-time calibration from a rolling backtest (calibration.Rolling), once applied.
    rolling: Any = None

    @classmethod
    def from_rates(cls, method: str, cells: np.ndarray, expected: np.ndarray, floor: float,
                   harm_per_incident: pd.Series | None, default_harm: float) -> Forecast:
        """A model's forecast from expected incidents per cell, ranked by them; harm is each
        cell's own harm per incident where known, the mean elsewhere and for the floor."""
        hpi = (harm_per_incident.reindex(cells).fillna(default_harm).to_numpy()
               if harm_per_incident is not None else np.full(len(cells), default_harm))
        return cls(method, cells, expected, expected * hpi, expected.copy(),
                   floor_incidents=floor, floor_harm=floor * default_harm)

    @property
    def p_incident(self) -> np.ndarray:
        mu = np.clip(self.expected_incidents, 0.0, None)
        if self.calibrate is not None:
            return np.clip(self.calibrate(mu), 0.0, 1.0)
        return 1.0 - np.exp(-mu)

    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """80 % interval of each cell's incident count: the calibrated negative binomial when a
        rolling calibration was applied, else Poisson around the expected incidents."""
        from app.services.forecast.calibration import Z80, nb_quantile

        if self.rolling is not None:
            return self.rolling.cell_interval(self.expected_incidents)  # type: ignore[no-any-return]
        mu = np.clip(self.expected_incidents, 0.0, None)
        return nb_quantile(mu, 0.0, Z80[0]), nb_quantile(mu, 0.0, Z80[1])

    def total(self, mask: np.ndarray | None = None) -> tuple[float, float, float]:
        """(expected, low, high) incidents summed over the cells (or the masked ones)."""
        from app.services.forecast.calibration import poisson_total_interval

        mu = self.expected_incidents if mask is None else self.expected_incidents[mask]
        if self.rolling is not None:
            return self.rolling.total_interval(mu)  # type: ignore[no-any-return]
        return poisson_total_interval(mu)

    def calibrated(self, rolling: Any) -> Forecast:
        """This forecast with an out-of-time calibration applied: expected incidents and harm
        scaled to the observed level, P(>=1) from the isotonic map; the ranking (score) is
        unchanged."""
        s = float(rolling.scale)
        return Forecast(self.method, self.cells, self.expected_incidents * s,
                        self.expected_harm * s, self.score, self.floor_incidents * s,
                        self.floor_harm * s, rolling.p_from_mean, {}, rolling)

    def on(self, cells: np.ndarray) -> Forecast:
        """The same forecast over another cell set; cells not forecast get the floor."""
        floor_incidents, floor_harm = self.floor_incidents, self.floor_harm
        idx = pd.Index(self.cells)
        pos = idx.get_indexer(cells)
        hit = pos >= 0
        ei = np.full(len(cells), floor_incidents)
        eh = np.full(len(cells), floor_harm)
        sc = np.full(len(cells), -1.0)  # below every forecast cell (scores are >= 0)
        ei[hit] = self.expected_incidents[pos[hit]]
        eh[hit] = self.expected_harm[pos[hit]]
        sc[hit] = self.score[pos[hit]]
        return Forecast(self.method, cells, ei, eh, sc, floor_incidents, floor_harm,
                        self.calibrate, self.calibrations, self.rolling)
