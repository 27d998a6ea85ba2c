"""Threat score of an H3 cell: likelihood x impact, credibility-weighted, precision-aware.

The per-event terms (credibility, decay, harm, CRSV harm) and their parameters are defined here
(`threat_terms`); the repository renders the same terms into SQL (app/repositories/
sql_fragments.py) and the event store evaluates them over arrays. This module also turns per-cell
sums into a 0-100 score, a level and a protection tier. The reasons for every choice are in docs/scoring.md.

Laws the tests check: each event adds a non-negative term, so adding an incident or harm never
lowers a score; the decay is monotone in age; sums do not depend on insertion order; a parent
cell's sums are the sums of its children's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.domain import DATE_SPAN_DAYS, ThreatTerms
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


def threat_terms(settings: Settings, decay_scale_days: float | None = None,
                 precision_decay: bool = False) -> ThreatTerms:
    """The one definition of the per-event terms' parameters: the weights that are settings
    (decay scale, status and grade weights) and the harm coefficients above. The repository
    renders the same terms into SQL from this record (app/repositories/sql_fragments.py).
    `decay_scale_days` overrides the default recency decay and `precision_decay` widens it by
    each event's date precision (a request's or its mission's choice, issue 13)."""
    return ThreatTerms(decay_scale_days=decay_scale_days or settings.threat_decay_scale_days,
                       status_weight=dict(settings.threat_status_weight),
                       grade_weight=dict(settings.threat_grade_weight),
                       harm_fatality=HARM_FATALITY, harm_injured=HARM_INJURED,
                       harm_children=HARM_CHILDREN, harm_displaced_log=HARM_DISPLACED_LOG,
                       crsv_category=CRSV_CATEGORY,
                       precision_share=(settings.decay_precision_share if precision_decay
                                        else 0.0))


# Former name, kept for callers outside the threat package.
weight_spec = threat_terms
WeightSpec = ThreatTerms


# --- the per-event terms (sql_fragments renders the same; a PostGIS test holds them together) --
# Each takes numbers or numpy arrays alike (the event store evaluates them over arrays).

def credibility(status: Any, grade: Any, spec: ThreatTerms) -> Any:
    """Rejected information weighs nothing; unvalidated and low-grade information weighs less."""
    if isinstance(status, str):
        if status == "rejected":
            return 0.0
        return spec.status_weight.get(status, 0.0) * spec.grade_weight.get(grade, 0.0)
    status, grade = np.asarray(status), np.asarray(grade)
    sw = np.zeros(status.shape)
    gw = np.zeros(grade.shape)
    for name, w in spec.status_weight.items():
        if name != "rejected":
            sw[status == name] = w
    for name, w in spec.grade_weight.items():
        gw[grade == name] = w
    return sw * gw


# Past this, exp(-x) is 0 in float8 (PostgreSQL raises instead; the SQL returns 0 there too).
EXP_UNDERFLOW = 745.0


def decay_scale(spec: ThreatTerms, time_precision: Any = 1) -> Any:
    """The decay scale of an event: the layer's, widened to `precision_share` x the span its
    date covers when precision-widened decay is on (DATE_SPAN_DAYS; issue 13)."""
    if spec.precision_share <= 0:
        return spec.decay_scale_days
    prec = np.asarray(time_precision)
    span = np.zeros(prec.shape, dtype=np.float64)
    for code, days in DATE_SPAN_DAYS.items():
        span[prec == code] = days
    out = np.maximum(spec.decay_scale_days, spec.precision_share * span)
    return float(out) if out.ndim == 0 else out


def decay(age_days: Any, spec: ThreatTerms, time_precision: Any = 1) -> Any:
    """exp(-age / scale) for age >= 0 (1 for an event dated after the window's end), 0 where it
    underflows (windows of a century); the scale is `decay_scale` (precision-widened or not)."""
    x = (np.maximum(np.asarray(age_days, dtype=np.float64), 0.0)
         / decay_scale(spec, time_precision))
    out = np.where(x < EXP_UNDERFLOW, np.exp(-np.minimum(x, EXP_UNDERFLOW)), 0.0)
    return float(out) if out.ndim == 0 else out


def event_harm(fatalities: Any, injured: Any, children: Any, displaced: Any,
               spec: ThreatTerms) -> Any:
    """Harm of one event ("harm" everywhere in the threat layer): 1 + weighted casualties +
    log-scaled displacement. Forecasts count `casualties` instead (app/repositories/forecast.py)."""
    out = (1.0 + spec.harm_fatality * np.asarray(fatalities, dtype=np.float64)
           + spec.harm_injured * np.asarray(injured, dtype=np.float64)
           + spec.harm_children * np.asarray(children, dtype=np.float64)
           + spec.harm_displaced_log * np.log1p(np.asarray(displaced, dtype=np.float64)))
    return float(out) if np.ndim(out) == 0 else out


def event_crsv(category: Any, crsv_survivors: Any, spec: ThreatTerms) -> Any:
    """Survivors of sexual violence; an event of the CRSV category counts at least one."""
    if isinstance(category, str):
        return float(max(int(crsv_survivors), 1 if category == spec.crsv_category else 0))
    floor = (np.asarray(category) == spec.crsv_category).astype(np.float64)
    return np.maximum(np.asarray(crsv_survivors, dtype=np.float64), floor)


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


def trend_columns(trend_num: np.ndarray, steps: int, step_days: int
                  ) -> tuple[list[float], list[str], str]:
    """`trend` of many cells as columns: slope per step (4 decimals), its direction beyond a
    0.01 tolerance, and the step ("N days", the same for every cell)."""
    sxx = steps * (steps * steps - 1) / 12.0
    slope = trend_num / sxx if sxx > 0 else np.zeros_like(trend_num)
    direction = np.select([slope > 0.01, slope < -0.01], ["increasing", "decreasing"],
                          default="stable").tolist()
    return np.round(slope, 4).tolist(), direction, f"{step_days} days"


def trends(trend_num: np.ndarray, steps: int, step_days: int) -> list[dict[str, Any]]:
    """`trend` of many cells: slope per step, and its direction beyond a 0.01 tolerance."""
    slopes, directions, per = trend_columns(trend_num, steps, step_days)
    return [{"slope": s, "direction": d, "per": per}
            for s, d in zip(slopes, directions, strict=True)]
