"""Contingency scenarios for tabletop exercises, built from the forecast's upper range.

A scenario pack answers, for an area of responsibility and a horizon: what does the *worst
plausible* period look like (the cells whose 90th-percentile incident count is at least one,
worst first, with the categories of violence they have seen), which bases and quick reaction
forces reach those cells and how fast, and what closing each base would leave uncovered in that
period. "Worst plausible" is the upper end of the forecast's 80 % interval, not a prediction:
one period in ten is expected to be worse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import h3
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.repositories import bases as base_repo
from app.repositories import forecast as forecast_repo
from app.schemas.scenarios import ScenarioRequest
from app.services.forecast import forecast_result
from app.services.forecast.area import scope_area
from app.services.missions.registry import Scope
from app.services.planning.footprint_review import GROUND, covered_counts
from app.services.planning.reach import (
    MODES,
    base_reaches,
    coverage_sets,
    distance_matrix,
    travel_minutes,
)
from app.settings import Settings

CATEGORY_YEARS = 3  # the categories a cell has seen in this many years before the scenario


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _bbox(body: ScenarioRequest) -> tuple[float, float, float, float] | None:
    if not body.bbox:
        return None
    x1, y1, x2, y2 = body.bbox
    return x1, y1, x2, y2


def worst_cells(cells: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Cells where at least one incident is plausible (upper bound >= 1), worst first: by the
    upper bound, then by the harm it would bring."""
    out = []
    for c in cells:
        high = int(c["expected_incidents_high"])
        if high < 1:
            continue
        ei = float(c["expected_incidents"])
        per_incident = float(c["expected_harm"]) / ei if ei > 0 else 0.0
        out.append({**c, "harm_high": round(high * per_incident, 2)})
    out.sort(key=lambda c: (-c["expected_incidents_high"], -c["harm_high"], c["cell"]))
    return out[:n]


def _categories(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_cell: dict[str, dict[str, int]] = {}
    for r in rows:
        cid = h3.int_to_str(int(r["cell"]))
        by_cell.setdefault(cid, {})[str(r["category"])] = int(r["n"])
    out = {}
    for cid, counts in by_cell.items():
        total = sum(counts.values())
        out[cid] = [
            {"category": k, "incidents": v, "share": round(v / total, 3)}
            for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ]
    return out


def reach_table(
    worst: list[dict[str, Any]], bases: list[dict[str, Any]], on: date, settings: Settings
) -> tuple[list[list[int]], list[dict[str, Any]]]:
    """Per worst cell, the bases whose ground reach covers it; per base with a quick reaction
    force, the fastest mode and minutes to each worst cell within any reach (air included)."""
    centres = [h3.cell_to_latlng(c["cell"]) for c in worst]
    sets = coverage_sets(bases, centres, on, settings, GROUND) if worst else []
    by_cell: list[list[int]] = [[] for _ in worst]
    for k, s in enumerate(sets):
        for i in s:
            by_cell[int(i)].append(k)
    dist = distance_matrix([(b["latitude"], b["longitude"]) for b in bases], centres)
    qrf = []
    for b_i, base in enumerate(bases):
        if int(base.get("qrf_standby") or 0) <= 0:
            continue
        reaches = base_reaches(base, on, settings, any_capacity=True, modes=MODES)
        for c_i, c in enumerate(worst):
            km = float(dist[b_i, c_i])
            options = [(travel_minutes(km, r), r.mode) for r in reaches if km <= r.reach_km]
            if options:
                minutes, mode = min(options)
                qrf.append({"base": base.get("name"), "base_id": str(base["id"]),
                            "cell": c["cell"], "mode": mode, "km": round(km, 1),
                            "minutes": round(minutes)})
    return by_cell, qrf


async def build(session: AsyncSession, body: ScenarioRequest, settings: Settings,
                scope: Scope | None = None) -> dict[str, Any]:
    """The scenario pack of the scope's mission (the default mission's without one)."""
    res = body.res or settings.footprint_res
    as_of = _end_of(body.as_of)
    bbox = _bbox(body)
    try:
        fr = await forecast_result(session, res, as_of, body.horizon_days, settings,
                                   method=body.method, bbox=bbox,
                                   area=scope_area(settings, scope))
    except DomainError as exc:  # the forecaster speaks of query parameters; this is a body
        for e in exc.errors:
            e["pointer"] = e["pointer"].replace("/query/", "/body/")
        raise
    worst = worst_cells(fr.cells, body.cells)
    mix = _categories(await forecast_repo.category_mix(
        session, res, [h3.str_to_int(c["cell"]) for c in worst],
        since=as_of - timedelta(days=365 * CATEGORY_YEARS), before=as_of,
        max_radius_m=settings.forecast_max_location_radius_m))
    bases = [{**b, "id": str(b["id"])}
             for b in await base_repo.list_bases(session, as_of=body.as_of)]
    by_cell, qrf = reach_table(worst, bases, body.as_of, settings)
    weights = np.asarray([float(c["harm_high"]) or float(c["expected_incidents_high"])
                          for c in worst])
    sets = [np.asarray([i for i, bs in enumerate(by_cell) if b in bs], dtype=np.int64)
            for b in range(len(bases))]
    counts = covered_counts(len(worst), sets)
    total_w = float(weights.sum())
    base_rows = []
    for b, s in enumerate(sets):
        if not len(s):
            continue
        only = s[counts[s] == 1]
        base_rows.append({
            "id": bases[b]["id"], "name": bases[b].get("name"), "kind": bases[b].get("kind"),
            "qrf_standby": int(bases[b].get("qrf_standby") or 0),
            "worst_cells_in_reach": int(len(s)),
            "worst_harm_in_reach": round(float(weights[s].sum()), 2),
            "left_uncovered_if_closed": {
                "cells": [worst[i]["cell"] for i in only],
                "harm_high": round(float(weights[only].sum()), 2),
                "share": round(float(weights[only].sum()) / total_w, 4) if total_w else 0.0,
            },
        })
    base_rows.sort(key=lambda r: (-r["left_uncovered_if_closed"]["harm_high"], r["name"] or ""))
    cells_out = []
    for i, c in enumerate(worst):
        cells_out.append({
            "cell": c["cell"],
            "latitude": round(h3.cell_to_latlng(c["cell"])[0], 4),
            "longitude": round(h3.cell_to_latlng(c["cell"])[1], 4),
            "likely_incidents": c["expected_incidents"],
            "worst_plausible_incidents": c["expected_incidents_high"],
            "p_incident": c["p_incident"],
            "expected_harm": c["expected_harm"],
            "worst_plausible_harm": c["harm_high"],
            "categories": mix.get(c["cell"], []),
            "bases_in_reach": [bases[b].get("name") for b in by_cell[i]],
            "qrf": [q for q in qrf if q["cell"] == c["cell"]],
        })
    uncovered = [c["cell"] for c, bs in zip(worst, by_cell, strict=True) if not bs]
    closure = base_rows[0] if base_rows and base_rows[0]["left_uncovered_if_closed"]["cells"] \
        else None
    return {
        "scenario": {
            "title": body.title or f"Worst plausible {body.horizon_days} days from "
                                   f"{body.as_of.isoformat()}",
            "as_of": body.as_of.isoformat(),
            "horizon_days": body.horizon_days,
            "until": (body.as_of + timedelta(days=body.horizon_days)).isoformat(),
            "area": fr.area,
            "bbox": body.bbox,
            "resolution": res,
            "forecast_method": fr.method,
            "selected_by": fr.requested,
            "calibration": fr.calibration,
        },
        "likely": {
            "incidents": fr.total["expected"],
            "interval_80": [fr.total["low"], fr.total["high"]],
        },
        "worst_plausible": {
            "incidents": fr.total["high"],
            "basis": "the upper end of the forecast's 80 % interval: about one period in ten "
                     "is expected to be worse",
            "cells": cells_out,
        },
        "bases": base_rows,
        "beyond_every_base": uncovered,
        "largest_closure_risk": closure,
        "quick_reaction_forces": sorted(
            {q["base"] for q in qrf if q["base"]}),
    }
