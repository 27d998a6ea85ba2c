"""Threat score of an H3 cell: likelihood x impact, credibility-weighted, precision-aware.

The database sums the per-event terms defined here (see `WeightSpec`, which the repository turns
into bound parameters); this module turns those per-cell sums into a 0-100 score, a level and a
protection tier. The reasons for every choice are in docs/scoring.md.

Laws the tests check: each event adds a non-negative term, so adding an incident or harm never
lowers a score; the decay is monotone in age; sums do not depend on insertion order; a parent
cell's sums are the sums of its children's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.settings import Settings

LEVELS = ("low", "medium", "high", "critical")
TIER_OF_LEVEL = {"critical": "must", "high": "must", "medium": "should", "low": "could"}

# Harm of one event, in "event units": every event counts 1, plus its victims. Displacement is
# counted on a log scale (thousands displaced must not drown killings); children are counted on
# top of the casualties they may already be part of, because harm to them weighs more.
HARM_FATALITY = 1.0
HARM_INJURED = 0.5
HARM_CHILDREN = 0.5
HARM_DISPLACED_LOG = 0.5
# An event of category sexual_violence with no survivor count still counts one survivor.
CRSV_CATEGORY = "sexual_violence"


@dataclass(frozen=True)
class WeightSpec:
    """Everything the database needs to compute per-event weights (bound as parameters)."""

    decay_scale_days: float
    status_weight: dict[str, float]
    grade_weight: dict[str, float]
    harm_fatality: float = HARM_FATALITY
    harm_injured: float = HARM_INJURED
    harm_children: float = HARM_CHILDREN
    harm_displaced_log: float = HARM_DISPLACED_LOG
    crsv_category: str = CRSV_CATEGORY
    # Precision-widened decay (issue 13): an event dated only to a week, month or year decays on
    # max(scale, share x the span its date covers); 0 = off.
    precision_share: float = 0.0


# Days a date of each precision code (UCDP date_prec; ACLED's are mapped onto it) may be off by.
DATE_SPAN_DAYS = {1: 0.0, 2: 6.0, 3: 7.0, 4: 30.0, 5: 365.0}


def weight_spec(settings: Settings, decay_scale_days: float | None = None,
                precision_decay: bool = False) -> WeightSpec:
    """The weights of a layer; `decay_scale_days` overrides the default recency decay and
    `precision_decay` widens it by each event's date precision (a request's or its mission's
    choice, issue 13)."""
    return WeightSpec(decay_scale_days=decay_scale_days or settings.threat_decay_scale_days,
                      precision_share=settings.decay_precision_share if precision_decay else 0.0,
                      status_weight=dict(settings.threat_status_weight),
                      grade_weight=dict(settings.threat_grade_weight))


# --- the per-event terms (the SQL in repositories/hotspots.py computes the same) ---------------

def credibility(status: str, grade: str, spec: WeightSpec) -> float:
    """Rejected information weighs nothing; unvalidated and low-grade information weighs less."""
    if status == "rejected":
        return 0.0
    return spec.status_weight.get(status, 0.0) * spec.grade_weight.get(grade, 0.0)


def decay_scale(spec: WeightSpec, time_precision: int = 1) -> float:
    span = DATE_SPAN_DAYS.get(time_precision, 0.0) if spec.precision_share > 0 else 0.0
    return max(spec.decay_scale_days, spec.precision_share * span)


def decay(age_days: float, spec: WeightSpec, time_precision: int = 1) -> float:
    return math.exp(-max(age_days, 0.0) / decay_scale(spec, time_precision))


def event_harm(fatalities: int, injured: int, children: int, displaced: int,
               spec: WeightSpec) -> float:
    return (1.0 + spec.harm_fatality * fatalities + spec.harm_injured * injured
            + spec.harm_children * children + spec.harm_displaced_log * math.log1p(displaced))


def event_crsv(category: str, crsv_survivors: int, spec: WeightSpec) -> float:
    return float(max(crsv_survivors, 1 if category == spec.crsv_category else 0))


def max_radius_m(res: int, settings: Settings) -> float:
    """Events located more coarsely than this are left out of resolution `res` (docs/scoring.md)."""
    from app.services.geo.h3cells import cell_radius_m

    return cell_radius_m(res) * settings.threat_precision_edges


# --- per-cell combination (the scalar forms are the laws; the layer uses the array forms) -------

def level(score: float, thresholds: tuple[float, float, float]) -> str:
    medium, high, critical = thresholds
    if score >= critical:
        return "critical"
    if score >= high:
        return "high"
    return "medium" if score >= medium else "low"


def threat_score(harm: Any, crsv_harm: Any, settings: Settings, vulnerability: Any = 1.0) -> Any:
    """0-100 (for numbers or numpy arrays alike). General harm and sexual violence saturate
    separately and combine like independent risks (1 - (1-a)(1-b)), so CRSV keeps its own weight
    however many killings a cell has."""
    general = 1.0 - np.exp(-vulnerability * harm / settings.threat_saturation)
    crsv = 1.0 - np.exp(-vulnerability * crsv_harm / settings.threat_crsv_saturation)
    return 100.0 * (1.0 - (1.0 - general) * (1.0 - crsv))


def trend(trend_num: float, steps: int, step_days: int) -> dict[str, Any]:
    """Least-squares slope of credible events per step over the window's steps (zeros included).

    With x = step index and c_x the credible count, slope = sum((x - mean) c_x) / Sxx and the
    numerator is a plain sum over events, so the database computes it in the same pass.
    """
    return trends(np.array([trend_num], dtype=np.float64), steps, step_days)[0]


def score_cells(harm: np.ndarray, crsv_harm: np.ndarray, likelihood: np.ndarray,
                vulnerability: np.ndarray, settings: Settings) -> dict[str, list[Any]]:
    """Score, level, tier and the likelihood x impact split of many cells at once: property
    lists (`threat_score` and `level` over arrays)."""
    score = threat_score(harm, crsv_harm, settings, vulnerability)
    medium, high, critical = settings.threat_level_thresholds
    levels = np.select([score >= critical, score >= high, score >= medium],
                       ["critical", "high", "medium"], default="low").tolist()
    safe = np.where(likelihood > 0, likelihood, 1.0)
    return {
        "threat_score": np.round(score, 2).tolist(),
        "threat_level": levels,
        "protection_tier": [TIER_OF_LEVEL[lvl] for lvl in levels],
        "likelihood": np.round(likelihood, 4).tolist(),
        "impact": np.where(likelihood > 0, np.round(harm / safe, 4), 0.0).tolist(),
        "crsv_impact": np.where(likelihood > 0, np.round(crsv_harm / safe, 4), 0.0).tolist(),
        "vulnerability": vulnerability.tolist(),
    }


def trends(trend_num: np.ndarray, steps: int, step_days: int) -> list[dict[str, Any]]:
    """`trend` of many cells: slope per step, and its direction beyond a 0.01 tolerance."""
    sxx = steps * (steps * steps - 1) / 12.0
    slope = trend_num / sxx if sxx > 0 else np.zeros_like(trend_num)
    direction = np.select([slope > 0.01, slope < -0.01], ["increasing", "decreasing"],
                          default="stable").tolist()
    per = f"{step_days} days"
    return [{"slope": s, "direction": d, "per": per}
            for s, d in zip(np.round(slope, 4).tolist(), direction, strict=True)]
