"""Rolling-origin backtest: for each origin, every method sees only events strictly before it and
is scored on the following period over the country's cells.

Ranking metrics use the expected capture under random tie-breaking, so a method gains nothing
from arbitrary ordering among equal scores (many cells tie at zero).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from app.services.forecast import calibration
from app.services.forecast.features import Forecast, before, rings_around, to_days, within

AREA_FRACTIONS = (0.01, 0.05)
CEILING_SETS = ("any_cell", "previously_hit", "previously_hit_or_ring1")
RELIABILITY_BINS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0000001)


def origins(start: date, end: date, horizon: str) -> list[tuple[datetime, datetime]]:
    """(origin, period end) pairs: calendar quarters for 'quarter', 28-day steps for '4weeks'."""
    out: list[tuple[datetime, datetime]] = []
    if horizon == "quarter":
        y, q = start.year, (start.month - 1) // 3
        if date(y, 3 * q + 1, 1) < start:
            q += 1
        while True:
            y2, q2 = y + (q // 4), q % 4
            o = date(y2, 3 * q2 + 1, 1)
            if o > end:
                break
            nxt = date(y2 + (q2 + 1) // 4, 3 * ((q2 + 1) % 4) + 1, 1)
            out.append((_dt(o), _dt(nxt)))
            q += 1
    elif horizon == "4weeks":
        o = start
        while o <= end:
            out.append((_dt(o), _dt(o + timedelta(days=28))))
            o += timedelta(days=28)
    else:
        raise ValueError(f"unknown horizon {horizon!r}")
    return out


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def captured(score: np.ndarray, value: np.ndarray, k: float) -> float:
    """Expected sum of `value` in the k highest-scoring cells (k may be fractional), ties split."""
    n = len(score)
    if n == 0 or k <= 0:
        return 0.0
    k = min(k, float(n))
    s_sorted = np.sort(score)[::-1]
    thr = s_sorted[int(np.ceil(k)) - 1]
    above = score > thr
    equal = score == thr
    take = k - above.sum()
    return float(value[above].sum() + take / equal.sum() * value[equal].sum())


@dataclass
class Probabilities:
    """Brier score and reliability table of P(>=1) forecasts, pooled over origins."""

    brier_sum: float = 0.0
    cells: int = 0
    rel_n: np.ndarray = field(default_factory=lambda: np.zeros(len(RELIABILITY_BINS) - 1))
    rel_p: np.ndarray = field(default_factory=lambda: np.zeros(len(RELIABILITY_BINS) - 1))
    rel_o: np.ndarray = field(default_factory=lambda: np.zeros(len(RELIABILITY_BINS) - 1))

    def add(self, p: np.ndarray, o: np.ndarray) -> None:
        self.brier_sum += float(((p - o) ** 2).sum())
        self.cells += len(p)
        b = np.clip(np.digitize(p, RELIABILITY_BINS) - 1, 0, len(RELIABILITY_BINS) - 2)
        self.rel_n += np.bincount(b, minlength=len(self.rel_n))
        self.rel_p += np.bincount(b, weights=p, minlength=len(self.rel_n))
        self.rel_o += np.bincount(b, weights=o, minlength=len(self.rel_n))

    def brier(self) -> float | None:
        return round(self.brier_sum / self.cells, 6) if self.cells else None

    def reliability(self) -> list[dict[str, object]]:
        def mean(x: np.ndarray, i: int) -> float | None:
            return round(float(x[i] / self.rel_n[i]), 4) if self.rel_n[i] else None

        return [
            {
                "p_low": RELIABILITY_BINS[i],
                "p_high": min(RELIABILITY_BINS[i + 1], 1.0),
                "cells": int(self.rel_n[i]),
                "mean_p": mean(self.rel_p, i),
                "observed": mean(self.rel_o, i),
            }
            for i in range(len(self.rel_n))
            if self.rel_n[i]
        ]


@dataclass
class Tally:
    """Running sums for one method over all origins."""

    hits: dict[float, float] = field(default_factory=lambda: dict.fromkeys(AREA_FRACTIONS, 0.0))
    harm_hits: dict[float, float] = field(
        default_factory=lambda: dict.fromkeys(AREA_FRACTIONS, 0.0)
    )
    incidents: float = 0.0
    harm: float = 0.0
    probs: Probabilities = field(default_factory=Probabilities)
    # the same forecasts under each alternative P(>=1) calibration the method fitted
    calibrations: dict[str, Probabilities] = field(default_factory=dict)
    per_origin_pai1: list[float] = field(default_factory=list)

    def add(
        self, fc: Forecast, counts: np.ndarray, harm: np.ndarray, total_n: float, total_h: float
    ) -> None:
        n_cells = len(fc.cells)
        for frac in AREA_FRACTIONS:
            k = frac * n_cells
            self.hits[frac] += captured(fc.score, counts, k)
            self.harm_hits[frac] += captured(fc.expected_harm, harm, k)
        if total_n:
            self.per_origin_pai1.append(captured(fc.score, counts, 0.01 * n_cells) / total_n / 0.01)
        self.incidents += total_n
        self.harm += total_h
        o = (counts > 0).astype(float)
        self.probs.add(fc.p_incident, o)
        # an origin with too little history for a calibration scores it as Poisson
        mu = np.clip(fc.expected_incidents, 0.0, None)
        for name in {*self.calibrations, *fc.calibrations}:
            calibrate = fc.calibrations.get(name, calibration.poisson)
            p = np.clip(calibrate(mu), 0.0, 1.0)
            self.calibrations.setdefault(name, Probabilities()).add(p, o)

    def summary(self) -> dict[str, object]:
        def share(x: float, tot: float) -> float | None:
            return round(x / tot, 4) if tot else None

        out: dict[str, object] = {}
        for frac in AREA_FRACTIONS:
            tag = f"{round(frac * 100)}pct"
            s = share(self.hits[frac], self.incidents)
            out[f"pai_{tag}"] = round(s / frac, 2) if s is not None else None
            out[f"hit_rate_{tag}"] = s
            out[f"harm_capture_{tag}"] = share(self.harm_hits[frac], self.harm)
        out["brier"] = self.probs.brier()
        out["pai_1pct_mean_over_origins"] = (
            round(float(np.mean(self.per_origin_pai1)), 2) if self.per_origin_pai1 else None
        )
        out["reliability"] = self.probs.reliability()
        if self.calibrations:
            out["calibrations"] = {
                name: {"brier": pr.brier(), "reliability": pr.reliability()}
                for name, pr in sorted(self.calibrations.items())
            }
        return out


@dataclass
class Ceiling:
    """Clairvoyant upper bounds on PAI: an oracle that knows the next period's counts and picks
    the best cells, either anywhere in the area or only among cells it could have known about
    (cells with an earlier incident, optionally with their ring-1 neighbours). No method can beat
    the unrestricted oracle, and no method that ranks only cells of a set can beat that set's
    oracle. Cells outside a set tie below it, as unforecast cells do in `Forecast.on`."""

    hits: dict[str, dict[float, float]] = field(
        default_factory=lambda: {
            s: dict.fromkeys(AREA_FRACTIONS, 0.0) for s in CEILING_SETS
        }
    )
    in_set: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CEILING_SETS, 0.0))
    incidents: float = 0.0

    def add(
        self, domain: np.ndarray, train_cells: np.ndarray, counts: np.ndarray, total_n: float
    ) -> None:
        hit = np.isin(domain, train_cells)
        near = np.isin(domain, rings_around(train_cells, 1).target)
        for name, allowed in zip(
            CEILING_SETS, (np.ones(len(domain), bool), hit, near), strict=True
        ):
            score = np.where(allowed, counts, -1.0)
            for frac in AREA_FRACTIONS:
                self.hits[name][frac] += captured(score, counts, frac * len(domain))
            self.in_set[name] += float(counts[allowed].sum())
        self.incidents += total_n

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in CEILING_SETS:
            block: dict[str, float | None] = {}
            for frac in AREA_FRACTIONS:
                tag = f"{round(frac * 100)}pct"
                block[f"pai_{tag}"] = (
                    round(self.hits[name][frac] / self.incidents / frac, 2)
                    if self.incidents
                    else None
                )
            block["share_of_incidents_in_set"] = (
                round(self.in_set[name] / self.incidents, 4) if self.incidents else None
            )
            out[name] = block
        return out


Method = Callable[[pd.DataFrame, float, float], Forecast]


def run(
    ev: pd.DataFrame,
    domain: np.ndarray,
    periods: Sequence[tuple[datetime, datetime]],
    methods: dict[str, Method],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Score every method at every origin. Each method is handed only the events before the
    origin, so no later incident can reach a forecast."""
    tallies = {name: Tally() for name in methods}
    ceiling = Ceiling()
    dom_index = pd.Index(domain)
    for origin_dt, end_dt in periods:
        origin, end = to_days(origin_dt), to_days(end_dt)
        train = before(ev, origin)
        future = within(ev, origin, end)
        pos = dom_index.get_indexer(future["cell"].to_numpy())
        inside = pos >= 0
        counts = np.bincount(pos[inside], minlength=len(domain)).astype(float)
        harm = np.bincount(
            pos[inside], weights=future["harm"].to_numpy()[inside], minlength=len(domain)
        )
        for name, method in methods.items():
            fc = method(train, origin, end - origin).on(domain)
            fc.method = name
            tallies[name].add(fc, counts, harm, float(len(future)), float(future["harm"].sum()))
        ceiling.add(domain, train["cell"].to_numpy(), counts, float(len(future)))
        if progress:
            progress(1)
    return {
        "origins": len(periods),
        "domain_cells": len(domain),
        "incidents": int(tallies[next(iter(tallies))].incidents) if tallies else 0,
        "methods": {name: t.summary() for name, t in tallies.items()},
        # Diagnostic, not a method: the best PAI any ranking could reach (see Ceiling).
        "ceiling": ceiling.summary(),
    }
