"""Rolling-origin backtest: for each origin, every method sees only events strictly before it and
is scored on the following period over the country's cells.

Ranking metrics use the expected capture under random tie-breaking, so a method gains nothing
from arbitrary ordering among equal scores (many cells tie at zero).
"""

from __future__ import annotations

from collections import Counter, deque
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


def warmup_periods(
    periods: Sequence[tuple[datetime, datetime]], horizon: str, n: int
) -> list[tuple[datetime, datetime]]:
    """The n periods just before the first one, in the same steps (oldest first)."""
    if not periods or n <= 0:
        return []
    first = periods[0][0].date()
    if horizon == "quarter":
        y, q = first.year, (first.month - 1) // 3 - n
        y, q = y + q // 4, q % 4
        start = date(y, 3 * q + 1, 1)
    elif horizon == "4weeks":
        start = first - timedelta(days=28 * n)
    else:
        raise ValueError(f"unknown horizon {horizon!r}")
    return [p for p in origins(start, first - timedelta(days=1), horizon)][:n]


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

        def se(i: int) -> float | None:
            """Binomial standard error of `observed` if the forecast were exactly right: how far
            observed may stray from mean_p by chance alone in a bin this size."""
            if not self.rel_n[i]:
                return None
            p = float(self.rel_p[i] / self.rel_n[i])
            return round(float(np.sqrt(max(p * (1 - p), 0.0) / self.rel_n[i])), 4)

        return [
            {
                "p_low": RELIABILITY_BINS[i],
                "p_high": min(RELIABILITY_BINS[i + 1], 1.0),
                "cells": int(self.rel_n[i]),
                "mean_p": mean(self.rel_p, i),
                "observed": mean(self.rel_o, i),
                "se": se(i),
            }
            for i in range(len(self.rel_n))
            if self.rel_n[i]
        ]


HARM_BINS = (0.0, 0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, np.inf)


@dataclass
class HarmReliability:
    """Mean forecast expected harm against the mean observed harm, per bin of the forecast."""

    n: np.ndarray = field(default_factory=lambda: np.zeros(len(HARM_BINS) - 1))
    pred: np.ndarray = field(default_factory=lambda: np.zeros(len(HARM_BINS) - 1))
    obs: np.ndarray = field(default_factory=lambda: np.zeros(len(HARM_BINS) - 1))

    def add(self, expected: np.ndarray, observed: np.ndarray) -> None:
        b = np.clip(np.digitize(expected, HARM_BINS) - 1, 0, len(HARM_BINS) - 2)
        self.n += np.bincount(b, minlength=len(self.n))
        self.pred += np.bincount(b, weights=expected, minlength=len(self.n))
        self.obs += np.bincount(b, weights=observed, minlength=len(self.n))

    def table(self) -> list[dict[str, object]]:
        return [
            {
                "harm_low": HARM_BINS[i],
                "harm_high": None if np.isinf(HARM_BINS[i + 1]) else HARM_BINS[i + 1],
                "cells": int(self.n[i]),
                "mean_expected_harm": round(float(self.pred[i] / self.n[i]), 4),
                "mean_observed_harm": round(float(self.obs[i] / self.n[i]), 4),
            }
            for i in range(len(self.n))
            if self.n[i]
        ]


@dataclass
class Coverage:
    """How often the 80 % intervals held: per cell (all cells of the area, and the top 1 %
    by the forecast's ranking) and for the area's total per origin."""

    cells: float = 0.0
    cells_in: float = 0.0
    top: float = 0.0
    top_in: float = 0.0
    origins: int = 0
    totals_in: int = 0
    width_sum: float = 0.0

    def add(self, fc: Forecast, counts: np.ndarray) -> None:
        lo, hi = fc.interval()
        inside = (counts >= lo) & (counts <= hi)
        self.cells += len(counts)
        self.cells_in += float(inside.sum())
        k = max(int(round(0.01 * len(counts))), 1)
        top = np.argsort(-fc.score, kind="stable")[:k]
        self.top += k
        self.top_in += float(inside[top].sum())
        _, t_lo, t_hi = fc.total()
        self.origins += 1
        self.totals_in += int(t_lo <= counts.sum() <= t_hi)
        self.width_sum += t_hi - t_lo

    def summary(self) -> dict[str, object]:
        return {
            "cells": round(self.cells_in / self.cells, 4) if self.cells else None,
            "top_1pct_cells": round(self.top_in / self.top, 4) if self.top else None,
            "area_totals": round(self.totals_in / self.origins, 4),
            "area_total_mean_width": round(self.width_sum / self.origins, 2),
            "origins": self.origins,
        }


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
    harm_rel: HarmReliability = field(default_factory=lambda: HarmReliability())
    intervals: Coverage = field(default_factory=lambda: Coverage())

    def add(
        self,
        fc: Forecast,
        counts: np.ndarray,
        harm: np.ndarray,
        total_n: float,
        total_h: float,
        alternatives: dict[str, np.ndarray] | None = None,
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
        self.harm_rel.add(fc.expected_harm, harm)
        # an origin with too little history for a calibration scores it as Poisson
        mu = np.clip(fc.expected_incidents, 0.0, None)
        # (names scored from `alternatives` below are not also scored as Poisson here: each
        # forecast enters each calibration's table once)
        for name in {*self.calibrations, *fc.calibrations} - set(alternatives or {}):
            calibrate = fc.calibrations.get(name, calibration.poisson)
            p = np.clip(calibrate(mu), 0.0, 1.0)
            self.calibrations.setdefault(name, Probabilities()).add(p, o)
        for name, p in (alternatives or {}).items():
            self.calibrations.setdefault(name, Probabilities()).add(p, o)
        if fc.rolling is not None:
            self.intervals.add(fc, counts)

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
        out["harm_reliability"] = self.harm_rel.table()
        if self.intervals.origins:
            out["interval_80"] = self.intervals.summary()
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


@dataclass(frozen=True)
class Selection:
    """How `auto` chooses at each origin among `candidates`: the best PAI@1 % pooled over the
    earlier origins already scored (never the origin itself), once at least `min_origins` of
    them saw incidents; `default` before that. Ties go to the earlier candidate."""

    candidates: tuple[str, ...]
    default: str
    min_origins: int = 4
    name: str = "auto"


@dataclass
class Record:
    """What the rolling run remembers of the origins already scored (all of them known before
    the next origin starts)."""

    captured: dict[str, list[float]] = field(default_factory=dict)
    incidents: list[float] = field(default_factory=list)
    mus: dict[str, deque[np.ndarray]] = field(default_factory=dict)
    ys: deque[np.ndarray] = field(default_factory=deque)
    hit_share: deque[float] = field(default_factory=deque)

    def scores(self, names: Sequence[str]) -> dict[str, float]:
        total = sum(self.incidents)
        return {
            n: (sum(self.captured.get(n, [])) / total / 0.01 if total else 0.0) for n in names
        }

    def choose(self, sel: Selection) -> tuple[str, dict[str, float]]:
        scored = sum(1 for n in self.incidents if n > 0)
        sc = self.scores(sel.candidates)
        if scored < sel.min_origins:
            return sel.default, sc
        best = max(sel.candidates, key=lambda n: (round(sc[n], 9), -sel.candidates.index(n)))
        return best, sc


def run(
    ev: pd.DataFrame,
    domain: np.ndarray,
    periods: Sequence[tuple[datetime, datetime]],
    methods: dict[str, Method],
    progress: Callable[[int], None] | None = None,
    *,
    warmup: int = 0,
    calibrate: Sequence[str] = (),
    calibration_origins: int = 8,
    selection: Selection | None = None,
    keep: Sequence[str] = (),
    p_map: str = "isotonic",
) -> dict[str, Any]:
    """Score every method at every origin. Each method is handed only the events before the
    origin, so no later incident can reach a forecast.

    The first `warmup` periods are forecast but not scored: they give the methods in
    `calibrate` earlier origins to calibrate on, and `selection` earlier origins to choose by.
    A calibration at an origin is fitted on the same method's forecasts at the previous
    `calibration_origins` origins and what followed them; `auto` (the selection) takes the
    forecast of the candidate that did best on the origins before. Both use only periods that
    ended by the origin, so the skill reported for them is out of sample."""
    scored_methods = {**methods}
    tallies = {name: Tally() for name in scored_methods}
    if selection is not None:
        tallies[selection.name] = Tally()
    climatology = Probabilities()
    ceiling = Ceiling()
    dom_index = pd.Index(domain)
    rec = Record()
    choices: list[dict[str, Any]] = []
    per_origin: list[dict[str, Any]] = []
    forecasts: list[dict[str, Forecast]] = []
    for i, (origin_dt, end_dt) in enumerate(periods):
        origin, end = to_days(origin_dt), to_days(end_dt)
        train = before(ev, origin)
        future = within(ev, origin, end)
        pos = dom_index.get_indexer(future["cell"].to_numpy())
        inside = pos >= 0
        counts = np.bincount(pos[inside], minlength=len(domain)).astype(float)
        harm = np.bincount(
            pos[inside], weights=future["harm"].to_numpy()[inside], minlength=len(domain)
        )
        raw: dict[str, Forecast] = {}
        fcs: dict[str, Forecast] = {}
        for name, method in methods.items():
            fc = method(train, origin, end - origin).on(domain)
            fc.method = name
            raw[name] = fc
            cal = (
                calibration.fit_rolling(list(rec.mus.get(name, [])), list(rec.ys), p_map)
                if name in calibrate and i >= warmup
                else None
            )
            fcs[name] = fc.calibrated(cal) if cal is not None else fc
        if selection is not None:
            chosen, _ = rec.choose(selection)
            pick = fcs[chosen]
            fcs[selection.name] = Forecast(
                chosen, pick.cells, pick.expected_incidents, pick.expected_harm, pick.score,
                pick.floor_incidents, pick.floor_harm, pick.calibrate, {}, pick.rolling,
            )
            choices.append({"origin": origin_dt.date().isoformat(), "chosen": chosen,
                            "scored": i >= warmup})
        n_future = float(len(future))
        if i >= warmup:
            for name, fc in fcs.items():
                alt = None
                if name in calibrate and fc.rolling is not None:
                    mu_raw = raw[name].expected_incidents
                    alt = {"uncalibrated": raw[name].p_incident,
                           "isotonic": fc.rolling.p_isotonic(mu_raw),
                           "platt": fc.rolling.p_platt(mu_raw)}
                tallies[name].add(fc, counts, harm, n_future, float(future["harm"].sum()), alt)
            if rec.hit_share:
                p_clim = float(np.mean(rec.hit_share))
                climatology.add(np.full(len(domain), p_clim), (counts > 0).astype(float))
            ceiling.add(domain, train["cell"].to_numpy(), counts, n_future)
            per_origin.append({
                "origin": origin_dt.date().isoformat(),
                "incidents": int(n_future),
                **{n: round(captured(f.score, counts, 0.01 * len(domain)), 3)
                   for n, f in fcs.items()},
            })
            forecasts.append({n: f for n, f in fcs.items() if n in keep})
        # what this origin teaches the next ones (its period has ended when the next starts)
        k1 = 0.01 * len(domain)
        for name, fc in raw.items():
            rec.captured.setdefault(name, []).append(captured(fc.score, counts, k1))
            q = rec.mus.setdefault(name, deque(maxlen=calibration_origins))
            q.append(fc.expected_incidents)
        rec.incidents.append(n_future)
        rec.ys.append(counts)
        while len(rec.ys) > calibration_origins:
            rec.ys.popleft()
        rec.hit_share.append(float((counts > 0).mean()))
        while len(rec.hit_share) > calibration_origins:
            rec.hit_share.popleft()
        if progress:
            progress(1)
    out: dict[str, Any] = {
        "origins": len(periods) - warmup,
        "warmup_origins": warmup,
        "domain_cells": len(domain),
        "incidents": int(next(iter(tallies.values())).incidents) if tallies else 0,
        "methods": {name: t.summary() for name, t in tallies.items()},
        "climatology": {"brier": climatology.brier(), "reliability": climatology.reliability()},
        # Diagnostic, not a method: the best PAI any ranking could reach (see Ceiling).
        "ceiling": ceiling.summary(),
        "per_origin_captured_1pct": per_origin,
    }
    final_cal = {
        name: calibration.fit_rolling(list(rec.mus.get(name, [])), list(rec.ys), p_map)
        for name in calibrate
    }
    out["final"] = {
        "calibrations": {n: c for n, c in final_cal.items() if c is not None},
    }
    if selection is not None:
        chosen, scores = rec.choose(selection)
        out["selection"] = {
            "rule": (
                f"at each origin, the candidate with the best PAI@1% pooled over the earlier "
                f"origins already scored (at least {selection.min_origins} with incidents; "
                f"before that: {selection.default}); ties go to the simpler candidate"
            ),
            "candidates": list(selection.candidates),
            "per_origin": choices,
            "counts": dict(Counter(c["chosen"] for c in choices if c["scored"])),
        }
        out["final"].update(
            chosen=chosen,
            scores={n: round(v, 2) for n, v in scores.items()},
            evaluated_origins=len(rec.incidents),
        )
    out["_forecasts"] = forecasts  # per scored origin, for callers (planning); not serialised
    return out
