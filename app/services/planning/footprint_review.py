"""Base-footprint review: threat within each base's reach, what closing it would leave
uncovered, high-threat cells beyond every base, and where p temporary bases would cover most.

Pure functions. A base covers a cell when the cell's centre lies within the base's longest reach
(any mode it has capacity for; a base with no stated capacity still counts by road, its presence
being what deters). Coverage is a union, so closing a base can only lose coverage and adding one
can only gain it. Candidate sites are chosen by a maximal covering location problem (MCLP) with
the existing bases fixed, solved exactly with HiGHS; same inputs, same answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import h3
import numpy as np

from app.services.geo.h3cells import cell_polygon
from app.services.planning.milp import maximise
from app.services.planning.reach import MODES, coverage_sets, distance_matrix

HIGH_LEVELS = ("high", "critical")
# Bases cover by ground (road, foot): aircraft are a mission-wide asset, not a base footprint.
GROUND = ("road", "foot")
RISING = ("increasing", "rising", "up")
FALLING = ("decreasing", "falling", "down")


def covered_counts(n_cells: int, sets: list[np.ndarray]) -> np.ndarray:
    counts = np.zeros(n_cells, dtype=np.int64)
    for s in sets:
        counts[s] += 1
    return counts


def covered_threat(weights: np.ndarray, sets: list[np.ndarray]) -> float:
    """Threat in the union of the coverage sets."""
    return float(weights[covered_counts(len(weights), sets) > 0].sum())


def candidate_sites(
    cells: list[dict[str, Any]], uncovered_mask: np.ndarray, n: int,
    weights: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Default candidates: the centres of the n highest-weight (threat, or the blend with the
    forecast) cells no base reaches."""
    idx = [i for i in range(len(cells)) if uncovered_mask[i]]
    if weights is None:
        weights = np.asarray([float(c.get("threat_score") or 0) for c in cells])
    idx.sort(key=lambda i: (-float(weights[i]), cells[i]["cell"]))
    out = []
    for i in idx[:n]:
        lat, lon = h3.cell_to_latlng(cells[i]["cell"])
        out.append(
            {
                "name": f"cell {cells[i]['cell']}",
                "cell": cells[i]["cell"],
                "latitude": lat,
                "longitude": lon,
            }
        )
    return out


def mclp(
    weights: np.ndarray, sets: list[np.ndarray], p: int, time_limit_s: float = 20.0
) -> tuple[list[int], str]:
    """Choose at most p of the sets maximising the weight they cover (weights already zeroed for
    cells the fixed bases cover). Columns: x_j (site chosen, binary) then y_i (cell covered)."""
    m = len(sets)
    if p <= 0 or m == 0:
        return [], "optimal"
    useful = np.flatnonzero(weights > 0)
    pos = -np.ones(len(weights), dtype=np.int64)
    pos[useful] = np.arange(len(useful))
    k = len(useful)
    # y_i - sum_j a_ij x_j <= 0 for each useful cell i; sum_j x_j <= p.
    r_y, c_y = np.arange(k), m + np.arange(k)
    r_x, c_x = [], []
    for j, s in enumerate(sets):
        ii = pos[s]
        ii = ii[ii >= 0]
        r_x.append(ii)
        c_x.append(np.full(len(ii), j))
    rows = np.concatenate([r_y, *r_x, np.full(m, k)])
    cols = np.concatenate([c_y, *c_x, np.arange(m)])
    vals = np.concatenate([np.ones(k), -np.ones(sum(len(r) for r in r_x)), np.ones(m)])
    # A tiny per-site cost makes ties resolve to the lower index and keeps useless sites out.
    cost = np.concatenate(
        [-1e-9 * (1 + np.arange(m)) * max(1.0, weights.max(initial=0)), weights[useful]]
    )
    integer = np.concatenate([np.ones(m, dtype=bool), np.zeros(k, dtype=bool)])
    upper = np.concatenate([np.zeros(k), [float(p)]])
    res = maximise(cost, rows, cols, vals, upper, integer=integer, time_limit_s=time_limit_s)
    if not res.optimal:
        return greedy_mclp(weights, sets, p), f"greedy fallback ({res.status})"
    return [j for j in range(m) if res.x[j] > 0.5], "optimal"


def greedy_mclp(weights: np.ndarray, sets: list[np.ndarray], p: int) -> list[int]:
    left = weights.copy()
    chosen: list[int] = []
    for _ in range(p):
        gains = [float(left[s].sum()) if j not in chosen else -1.0 for j, s in enumerate(sets)]
        if not gains or max(gains) <= 0:
            break
        j = int(np.argmax(gains))
        chosen.append(j)
        left[sets[j]] = 0
    return chosen


def review(
    cells: list[dict[str, Any]],
    bases: list[dict[str, Any]],
    on: date,
    settings: Any,
    *,
    p: int = 3,
    candidates: list[dict[str, Any]] | None = None,
    forecast: dict[str, dict[str, Any]] | None = None,
    include_air: bool = False,
    mission: Any = None,
    forecast_weight: float = 0.0,
) -> dict[str, Any]:
    """With a forecast and `forecast_weight` > 0, every coverage figure (threat in reach, lost
    if closed, gained by a candidate) weighs cells by the blend of current threat and forecast
    expected harm (`forecast_weight.blend`), scaled so that the weights sum to the threat
    total: the figures stay in threat units and w = 0 gives exactly the review without."""
    from app.services.planning.objective import blend

    threat_total = sum(float(c.get("threat_score") or 0) for c in cells)
    cells, objective = blend(cells, forecast, forecast_weight, settings.planning_forecast_min_p)
    centres = [h3.cell_to_latlng(c["cell"]) for c in cells]
    w = (objective * threat_total if forecast is not None and forecast_weight > 0
         else objective)
    harm = (
        np.asarray(
            [float((forecast.get(c["cell"]) or {}).get("expected_harm") or 0) for c in cells]
        )
        if forecast is not None
        else None
    )
    modes = MODES if include_air else GROUND
    sets = (coverage_sets(bases, centres, on, settings, modes, mission=mission) if cells
            else [np.zeros(0, int)] * len(bases))
    counts = covered_counts(len(cells), sets)
    total = float(w.sum())
    rows = [
        _base_row(b, s, counts, cells, w, harm, total) for b, s in zip(bases, sets, strict=True)
    ]
    covered_now = float(w[counts > 0].sum())
    summary: dict[str, Any] = {
        "as_of": on.isoformat(),
        "bases": len(bases),
        "cells": len(cells),
        "threat_total": round(total, 3),
        "threat_covered": round(covered_now, 3),
        "threat_covered_share": round(covered_now / total, 4) if total > 0 else 0.0,
        "forecast_covered_share": (
            round(float(harm[counts > 0].sum()) / float(harm.sum()), 4)
            if harm is not None and harm.sum() > 0
            else None
        ),
        "population_in_reach": None,
        "forecast_weight": forecast_weight if forecast is not None else 0.0,
    }
    sites = (
        candidates
        if candidates is not None
        else candidate_sites(cells, counts == 0, settings.footprint_candidates, w)
    )
    chosen, status = _choose_sites(sites, cells, centres, w, counts, p, on, settings, total,
                                   mission)
    summary["candidate_solver"] = status
    gained = sum(c["new_threat_covered"] for c in chosen)
    summary["threat_covered_share_with_candidates"] = (
        round((covered_now + gained) / total, 4) if total > 0 else 0.0
    )
    return {
        "summary": summary,
        "bases": rows,
        "uncovered": _uncovered(cells, centres, w, counts, bases),
        "candidates": chosen,
        "candidates_considered": len(sites),
    }


def _base_row(
    b: dict[str, Any],
    s: np.ndarray,
    counts: np.ndarray,
    cells: list[dict[str, Any]],
    w: np.ndarray,
    harm: np.ndarray | None,
    total: float,
) -> dict[str, Any]:
    only = s[counts[s] == 1]
    in_reach = float(w[s].sum())
    lost = float(w[only].sum())
    directions = [str((cells[i].get("trend") or {}).get("direction") or "") for i in s]
    slopes = [float((cells[i].get("trend") or {}).get("slope") or 0) for i in s]
    return {
        "id": str(b["id"]),
        "name": b.get("name"),
        "kind": b.get("kind"),
        "latitude": b["latitude"],
        "longitude": b["longitude"],
        "cells_in_reach": int(len(s)),
        "high_threat_cells_in_reach": sum(
            1 for i in s if cells[i].get("threat_level") in HIGH_LEVELS
        ),
        "threat_in_reach": round(in_reach, 3),
        "share_of_mission_threat": round(in_reach / total, 4) if total > 0 else 0.0,
        "trend_in_reach": {
            "rising_cells": sum(1 for d in directions if d in RISING),
            "falling_cells": sum(1 for d in directions if d in FALLING),
            "slope_sum": round(sum(slopes), 4),
        },
        "forecast_harm_in_reach": round(float(harm[s].sum()), 3) if harm is not None else None,
        "coverage_lost_if_closed": round(lost, 3),
        "coverage_lost_share": round(lost / total, 4) if total > 0 else 0.0,
        "cells_lost_if_closed": int(len(only)),
        "population_in_reach": None,
    }


def _choose_sites(
    sites: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    centres: list[tuple[float, float]],
    w: np.ndarray,
    counts: np.ndarray,
    p: int,
    on: date,
    settings: Any,
    total: float,
    mission: Any = None,
) -> tuple[list[dict[str, Any]], str]:
    if not sites or not cells or p <= 0:
        return [], "optimal"
    as_bases = [
        {"id": i, "latitude": s["latitude"], "longitude": s["longitude"], "road_patrols_per_day": 1}
        for i, s in enumerate(sites)
    ]
    sets = coverage_sets(as_bases, centres, on, settings, mission=mission)
    new_w = np.where(counts > 0, 0.0, w)
    chosen, status = mclp(new_w, sets, p, settings.solver_time_limit_s)
    # Report in order of marginal gain: the site adding most first, then the next given it.
    left = new_w.copy()
    out: list[dict[str, Any]] = []
    pending = list(chosen)
    while pending:
        j = max(pending, key=lambda j: (float(left[sets[j]].sum()), -j))
        pending.remove(j)
        gain = float(left[sets[j]].sum())
        left[sets[j]] = 0
        out.append(
            {
                **sites[j],
                "rank": len(out) + 1,
                "new_threat_covered": round(gain, 3),
                "new_share": round(gain / total, 4) if total > 0 else 0.0,
                "new_cells_covered": int(np.count_nonzero(new_w[sets[j]] > 0)),
                "threat_in_reach": round(float(w[sets[j]].sum()), 3),
            }
        )
    return out, status


def _uncovered(
    cells: list[dict[str, Any]],
    centres: list[tuple[float, float]],
    w: np.ndarray,
    counts: np.ndarray,
    bases: list[dict[str, Any]],
) -> dict[str, Any]:
    idx = [
        i
        for i in range(len(cells))
        if counts[i] == 0 and cells[i].get("threat_level") in HIGH_LEVELS
    ]
    dist = distance_matrix(
        [centres[i] for i in idx], [(b["latitude"], b["longitude"]) for b in bases]
    )
    feats = []
    for k, i in enumerate(idx):
        near = int(np.argmin(dist[k])) if bases else None
        feats.append(
            {
                "type": "Feature",
                "id": cells[i]["cell"],
                "geometry": cell_polygon(cells[i]["cell"]),
                "properties": {
                    "threat_score": float(w[i]),
                    "threat_level": cells[i].get("threat_level"),
                    "nearest_base": bases[near].get("name") if near is not None else None,
                    "nearest_base_km": round(float(dist[k, near]), 1) if near is not None else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}
