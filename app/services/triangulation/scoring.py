"""The pair score: how likely two accounts describe one event, in [0, 1]. Vectorised over arrays of
candidate pairs (numpy), never a Python loop per pair except for actor names (memoised).

Components (the reasons are in docs/triangulation.md):

- space: exp(-(d / (R + 10 km))^2 / 2) / (1 + R / 100 km), d the great-circle distance, R the sum
  of both location radii: geocoding differs by a few km; a province centroid is weak evidence
  however close it is.
- time: exp(-(g / 1.5)^2 / 2) / (1 + (w1 + w2 - 2) / 14), g the days between the two date ranges
  (0 when they overlap), w their lengths in days: a month-long range overlaps much, proves little.
- names: actor agreement (names.similarity: every actor of each side found on the other, as a
  coded name after the alias table or as a mention in its narrative); 0.5 when a side names
  nobody.
- fatalities: sqrt((min + 1) / (max + 1)), 1 when one count lies in the other's low-high range;
  0.5 when a side gives none.
- category: 1 same, 0.6 both violent, 0.3 violence vs property or displacement, 0.2 otherwise.
- outlets: 1 when both cite a common outlet (coded from one report), 0.4 when both cite outlets
  and none is common, 0.5 when a side cites none.

score = 0.25 space + 0.25 time + 0.20 names + 0.10 fatalities + 0.10 category + 0.10 outlets.

A pair is a candidate at all only when d <= R + slack_km and g <= slack_days (the gate the
indexed search applies, re-checked exactly here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from app.domain import Category
from app.services.triangulation import names as actor_names
from app.services.triangulation.accounts import Accounts

EARTH_KM = 6371.0088
WEIGHTS = {"space": 0.25, "time": 0.25, "names": 0.20, "fatalities": 0.10, "category": 0.10,
           "outlets": 0.10}
# Outlets: a common cited outlet (both coded from one report) is strong evidence; two disjoint
# lists are weak evidence against (sources differ for most true pairs too); no list, none.
OUTLET_SHARED, OUTLET_DISJOINT = 1.0, 0.4
NEUTRAL = 0.5

VIOLENT = frozenset({Category.killing, Category.injury, Category.abduction,
                     Category.sexual_violence, Category.attack_on_peacekeepers,
                     Category.armed_group_presence})
PROPERTY = frozenset({Category.looting_destruction, Category.displacement})


@dataclass(frozen=True)
class ScoreParams:
    slack_km: float = 25.0  # the gate: distance beyond both radii
    slack_days: float = 3.0  # the gate: days between the date ranges
    geocoding_km: float = 10.0  # s above
    radius_scale_km: float = 100.0
    time_scale_days: float = 1.5
    span_scale_days: float = 14.0
    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    # Alerts: free text in place of actor names, and a link needs the same category or a
    # similar text (an alert's category is often guessed from keywords).
    text_in_place_of_names: bool = False
    text_gate: float | None = None


def category_compatibility(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if a in VIOLENT and b in VIOLENT:
        return 0.6
    if (a in VIOLENT and b in PROPERTY) or (b in VIOLENT and a in PROPERTY):
        return 0.3
    return 0.2


_CATS = [c.value for c in Category]
_CAT_INDEX = {c: i for i, c in enumerate(_CATS)}
_COMPAT = np.array([[category_compatibility(a, b) for b in _CATS] for a in _CATS])


def _cat_codes(values: np.ndarray) -> np.ndarray:
    return np.array([_CAT_INDEX.get(v, _CAT_INDEX[Category.other]) for v in values], dtype=np.int64)


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def day_gap(s1: np.ndarray, e1: np.ndarray, s2: np.ndarray, e2: np.ndarray) -> np.ndarray:
    """Days between two ranges [s, e) (e exclusive, in days): 0 when they overlap, 1 for
    consecutive days."""
    return np.maximum(0.0, np.maximum(s1, s2) - np.minimum(e1, e2) + 1.0)


@dataclass
class PairScores:
    """Scores of candidate pairs (left[i], right[j]) with every component, aligned arrays."""

    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    distance_km: np.ndarray
    radius_km: np.ndarray
    gap_days: np.ndarray
    space: np.ndarray
    time: np.ndarray
    names: np.ndarray
    names_known: np.ndarray
    fatalities: np.ndarray
    category: np.ndarray
    outlets: np.ndarray

    def take(self, mask: np.ndarray) -> PairScores:
        return PairScores(**{k: v[mask] for k, v in self.__dict__.items()})

    def __len__(self) -> int:
        return len(self.score)


def gate(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray,
         params: ScoreParams) -> np.ndarray:
    """Which pairs pass the space–time gate (exact: distance on the sphere)."""
    d = haversine_km(left.lat[li], left.lon[li], right.lat[ri], right.lon[ri])
    r = (left.radius_m[li] + right.radius_m[ri]) / 1000.0
    g = day_gap(left.start[li], left.end[li], right.start[ri], right.end[ri])
    return (d <= r + params.slack_km) & (g <= params.slack_days)


@lru_cache(maxsize=262144)
def _names(a: frozenset[str], b: frozenset[str], am: frozenset[str], bm: frozenset[str]) -> float:
    sim = actor_names.similarity(a, b, am, bm)
    return np.nan if sim is None else sim


@lru_cache(maxsize=65536)
def _outlets(a: frozenset[str], b: frozenset[str]) -> float:
    if not (a and b):
        return NEUTRAL
    return OUTLET_SHARED if a & b else OUTLET_DISJOINT


def _profiles(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's index among the distinct values (first seen first), and those values."""
    seen: dict[Any, int] = {}
    ids = np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64,
                      count=len(values))
    return ids, list(seen)


def _per_distinct_pair(lvals: list[Any], rvals: list[Any], li: np.ndarray, ri: np.ndarray,
                       f: Any) -> np.ndarray:
    """f(lvals[i], rvals[j]) for every pair, computed once per distinct pair of values (many
    accounts share an actor list or the outlets they cite)."""
    lid, lu = _profiles(lvals)
    rid, ru = _profiles(rvals)
    code = lid[li] * len(ru) + rid[ri]
    uniq, inv = np.unique(code, return_inverse=True)
    vals = np.array([f(lu[c // len(ru)], ru[c % len(ru)]) for c in uniq.tolist()], dtype=float)
    return vals[inv.reshape(-1)] if len(uniq) else np.zeros(0)


def _name_scores(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray,
                 params: ScoreParams) -> tuple[np.ndarray, np.ndarray]:
    if params.text_in_place_of_names:
        pairs = zip(li.tolist(), ri.tolist(), strict=True)
        sims = [actor_names_text(left.text[i], right.text[j]) for i, j in pairs]
        raw = np.array([np.nan if x is None else x for x in sims], dtype=float)
    else:
        raw = _per_distinct_pair(list(zip(left.names, left.mentions, strict=True)),
                                 list(zip(right.names, right.mentions, strict=True)), li, ri,
                                 lambda a, b: _names(a[0], b[0], a[1], b[1]))
    known = ~np.isnan(raw)
    return np.where(known, raw, NEUTRAL), known


def actor_names_text(a: str | None, b: str | None) -> float | None:
    """Alerts: token-set similarity of the alert's text with the incident's narrative and names."""
    if not a or not b:
        return None
    from rapidfuzz import fuzz

    return fuzz.token_set_ratio(a.casefold(), b.casefold()) / 100.0


def _fatality_scores(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    fa, fb = left.fatalities[li], right.fatalities[ri]
    known = ~np.isnan(fa) & ~np.isnan(fb)
    lo = np.fmin(fa, fb)
    hi = np.fmax(fa, fb)
    agree = np.sqrt((np.nan_to_num(lo) + 1.0) / (np.nan_to_num(hi) + 1.0))
    with np.errstate(invalid="ignore"):
        inside = ((fb >= left.fat_low[li]) & (fb <= left.fat_high[li])) | (
            (fa >= right.fat_low[ri]) & (fa <= right.fat_high[ri]))
    agree = np.where(inside, 1.0, agree)
    return np.where(known, agree, NEUTRAL)


def score_pairs(left: Accounts, right: Accounts, li: np.ndarray, ri: np.ndarray,
                params: ScoreParams | None = None) -> PairScores:
    """Score the pairs (left[li[k]], right[ri[k]]). The caller has gated them."""
    p = params or ScoreParams()
    li = np.asarray(li, dtype=np.int64)
    ri = np.asarray(ri, dtype=np.int64)
    d = haversine_km(left.lat[li], left.lon[li], right.lat[ri], right.lon[ri])
    r = (left.radius_m[li] + right.radius_m[ri]) / 1000.0
    space = np.exp(-0.5 * (d / (r + p.geocoding_km)) ** 2) / (1.0 + r / p.radius_scale_km)
    g = day_gap(left.start[li], left.end[li], right.start[ri], right.end[ri])
    spans = np.maximum(0.0, (left.end[li] - left.start[li]) + (right.end[ri] - right.start[ri]) - 2.0)
    time = np.exp(-0.5 * (g / p.time_scale_days) ** 2) / (1.0 + spans / p.span_scale_days)
    nm, known = _name_scores(left, right, li, ri, p)
    fat = _fatality_scores(left, right, li, ri)
    outl = _per_distinct_pair(left.cites, right.cites, li, ri, _outlets)
    cat = _COMPAT[_cat_codes(left.category)[li], _cat_codes(right.category)[ri]]
    w = p.weights
    score = (w["space"] * space + w["time"] * time + w["names"] * nm + w["fatalities"] * fat
             + w["category"] * cat + w["outlets"] * outl)
    if p.text_gate is not None:  # alerts: same category or similar text
        score = np.where((cat >= 1.0) | (known & (nm >= p.text_gate)), score, 0.0)
    return PairScores(li, ri, np.round(score, 6), d, r, g, space, time, nm, known, fat, cat, outl)


def evidence(left: Accounts, right: Accounts, s: PairScores, k: int) -> dict[str, Any]:
    """What an analyst sees for one pair: the facts and the score's parts."""
    i, j = int(s.left[k]), int(s.right[k])

    def fat(a: Accounts, x: int) -> int | None:
        v = a.fatalities[x]
        return None if np.isnan(v) else int(v)

    return {
        "score": round(float(s.score[k]), 4),
        "distance_km": round(float(s.distance_km[k]), 2),
        "combined_radius_km": round(float(s.radius_km[k]), 2),
        "days_apart": round(float(s.gap_days[k]), 2),
        "categories": [str(left.category[i]), str(right.category[j])],
        "names": [sorted(left.names[i]), sorted(right.names[j])],
        "fatalities": [fat(left, i), fat(right, j)],
        "parts": {"space": round(float(s.space[k]), 4), "time": round(float(s.time[k]), 4),
                  "names": round(float(s.names[k]), 4) if s.names_known[k] else None,
                  "fatalities": round(float(s.fatalities[k]), 4),
                  "category": round(float(s.category[k]), 4),
                  "outlets": round(float(s.outlets[k]), 4)},
        "outlets": [sorted(left.cites[i]), sorted(right.cites[j])],
    }
