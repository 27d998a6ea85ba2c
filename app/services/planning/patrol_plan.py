"""Effects-based patrol plans: which base sends which patrol, by which mode, to which cell.

The assignment is a 0-1 programme: maximise the threat covered, each cell assigned at most once
(de-confliction between bases), each (base, mode) within its patrols-per-day x horizon capacity
and every assignment within that mode's reach. Its constraint matrix is the incidence matrix of a
bipartite graph (cells x base-modes), so HiGHS solves it at the root; a greedy fallback is kept.
Pure functions: bases, threat cells, profiles and forecasts come in as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import h3
import numpy as np

from app.services.geo.h3cells import cell_polygon
from app.services.planning import desired_effect as effects
from app.services.planning.milp import maximise
from app.services.planning.reach import MODES, distance_matrix, mode_reach

HIGH_LEVELS = ("high", "critical")


@dataclass
class Arcs:
    """Feasible (slot, cell) pairs: slot = (base index, mode), within reach and with capacity."""

    slot: np.ndarray
    cell: np.ndarray
    km: np.ndarray
    minutes: np.ndarray
    slots: list[tuple[int, str]] = field(default_factory=list)
    capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))


def capacities(
    bases: list[dict[str, Any]],
    horizon_days: int,
    overrides: dict[tuple[str, str], int] | None = None,
) -> list[tuple[int, str, int]]:
    """(base index, mode, patrols over the horizon) for every slot with capacity."""
    out = []
    for i, b in enumerate(bases):
        for m in MODES:
            per_day = int(b.get(f"{m}_patrols_per_day") or 0)
            if overrides and (str(b["id"]), m) in overrides:
                per_day = overrides[(str(b["id"]), m)]
            if per_day > 0:
                out.append((i, m, per_day * horizon_days))
    return out


def build_arcs(
    bases: list[dict[str, Any]],
    centres: list[tuple[float, float]],
    on: date,
    settings: Any,
    horizon_days: int,
    overrides: dict[tuple[str, str], int] | None = None,
    *,
    prefilter: bool = True,
    mission: Any = None,
) -> Arcs:
    """All within-reach arcs. prefilter=False keeps every pair (the benchmark's naive model)."""
    dist = distance_matrix([(b["latitude"], b["longitude"]) for b in bases], centres)
    slots, caps, parts = [], [], []
    for s, (i, m, cap) in enumerate(capacities(bases, horizon_days, overrides)):
        r = mode_reach(bases[i], m, on, settings, mission)
        idx = np.flatnonzero(dist[i] <= r.reach_km) if prefilter else np.arange(len(centres))
        km = dist[i, idx]
        parts.append((np.full(len(idx), s), idx, km, km * r.detour / r.speed_kmh * 60.0))
        slots.append((i, m))
        caps.append(cap)
    if not parts:
        e = np.zeros(0, dtype=np.int64)
        return Arcs(e, e, np.zeros(0), np.zeros(0), [], np.zeros(0))
    slot, cell, km, minutes = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return Arcs(
        slot.astype(np.int64),
        cell.astype(np.int64),
        km,
        minutes,
        slots,
        np.asarray(caps, dtype=float),
    )


# Preference among modes that all reach a cell: on foot into neighbourhoods and fields first,
# then by road; aircraft only where the ground cannot reach.
MODE_EFFORT = {"foot": 0.0, "road": 1.0, "air": 3.0}


def arc_values(weights: np.ndarray, arcs: Arcs, seed: int | None, tolerance: float) -> np.ndarray:
    """Objective per arc: the cell's threat, seeded jitter of up to `tolerance` (so near-equal
    cells are picked unpredictably), minus a tie-breaker far below any threat difference that
    prefers foot over road over air, then the quicker trip."""
    w = weights.astype(float)
    if seed is not None and tolerance > 0:
        w = w * (1.0 + tolerance * np.random.default_rng(seed).random(len(w)))
    positive = w[w > 0]
    eps = 1e-7 * (positive.min() if len(positive) else 1.0) / max(1, len(w))
    scale = max(float(arcs.minutes.max()) if len(arcs.minutes) else 1.0, 1e-9)
    effort = np.asarray([MODE_EFFORT[m] for _, m in arcs.slots] or [0.0])[arcs.slot]
    return w[arcs.cell] - eps * (effort + arcs.minutes / scale)


def solve_milp(
    values: np.ndarray, arcs: Arcs, n_cells: int, time_limit_s: float = 20.0
) -> tuple[np.ndarray, str]:
    """Chosen arc indices. Rows: one per cell (<= 1), then one per slot (<= capacity)."""
    keep = np.flatnonzero(values > 0)
    if len(keep) == 0:
        return keep, "optimal"
    n = len(keep)
    rows = np.concatenate([arcs.cell[keep], n_cells + arcs.slot[keep]])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    upper = np.concatenate([np.ones(n_cells), arcs.capacity])
    res = maximise(values[keep], rows, cols, np.ones(2 * n), upper, time_limit_s=time_limit_s)
    if not res.optimal:
        return solve_greedy(values, arcs, n_cells), f"greedy fallback ({res.status})"
    return keep[res.x > 0.5], "optimal"


def solve_greedy(values: np.ndarray, arcs: Arcs, n_cells: int) -> np.ndarray:
    """Best arc first, skipping cells already taken and slots already full."""
    order = np.lexsort((arcs.slot, arcs.cell, -values))
    left = arcs.capacity.copy()
    taken = np.zeros(n_cells, dtype=bool)
    chosen = []
    for a in order:
        if values[a] <= 0:
            break
        c, s = arcs.cell[a], arcs.slot[a]
        if not taken[c] and left[s] >= 1:
            taken[c] = True
            left[s] -= 1
            chosen.append(a)
    return np.asarray(chosen, dtype=np.int64)


def assign(
    weights: np.ndarray,
    arcs: Arcs,
    *,
    solver: str = "milp",
    seed: int | None = None,
    tolerance: float = 0.05,
    time_limit_s: float = 20.0,
) -> tuple[np.ndarray, str]:
    values = arc_values(weights, arcs, seed, tolerance)
    if solver == "greedy":
        return solve_greedy(values, arcs, len(weights)), "greedy"
    return solve_milp(values, arcs, len(weights), time_limit_s)


def _spread_visits(tasks: list[dict[str, Any]], arcs: Arcs, horizon_days: int) -> None:
    """Capacity left after every reachable cell is served goes back to the same cells as repeat
    visits, highest priority first, never more than one visit per day."""
    by_slot: dict[int, list[dict[str, Any]]] = {}
    for t in tasks:
        by_slot.setdefault(t["_slot"], []).append(t)
    for s, group in by_slot.items():
        left = int(arcs.capacity[s]) - len(group)
        group.sort(key=lambda t: (t["priority"], -t["threat_score"], t["cell_ids"][0]))
        while left > 0 and any(t["visits"] < horizon_days for t in group):
            for t in group:
                if left > 0 and t["visits"] < horizon_days:
                    t["visits"] += 1
                    left -= 1


def make_plan(
    cells: list[dict[str, Any]],
    profiles: dict[str, dict[str, Any]],
    bases: list[dict[str, Any]],
    on: date,
    horizon_days: int,
    settings: Any,
    *,
    overrides: dict[tuple[str, str], int] | None = None,
    solver: str = "milp",
    seed: int | None = None,
    forecast: dict[str, dict[str, Any]] | None = None,
    mission: Any = None,
    forecast_weight: float = 0.0,
) -> dict[str, Any]:
    """The plan: tasks (one target cell each, with repeat visits), summary and uncovered cells.

    The objective weighs each cell by `forecast_weight.blend`: current threat alone when
    `forecast_weight` is 0 (or no forecast is given), else a blend with the forecast's expected
    harm, cells expected to see violence joining those that have."""
    from app.services.planning.objective import blend

    cells, objective = blend(cells, forecast, forecast_weight, settings.planning_forecast_min_p)
    centres = [h3.cell_to_latlng(c["cell"]) for c in cells]
    weights = np.asarray([float(c.get("threat_score") or 0) for c in cells])
    arcs = build_arcs(bases, centres, on, settings, horizon_days, overrides, mission=mission)
    chosen, status = assign(
        objective,
        arcs,
        solver=solver,
        seed=seed,
        tolerance=settings.patrol_tie_tolerance,
        time_limit_s=settings.solver_time_limit_s,
    )
    tasks = []
    for a in chosen:
        ci, (bi, mode) = int(arcs.cell[a]), arcs.slots[int(arcs.slot[a])]
        tasks.append(
            _task(
                cells[ci],
                profiles,
                bases[bi],
                mode,
                float(arcs.km[a]),
                float(arcs.minutes[a]),
                settings,
            )
            | {"_slot": int(arcs.slot[a])}
        )
    _spread_visits(tasks, arcs, horizon_days)
    tasks.sort(key=lambda t: (t["priority"], -t["threat_score"], t["cell_ids"][0]))
    for n, t in enumerate(tasks, 1):
        t["id"] = f"T{n:03d}"
    covered = {t["cell_ids"][0] for t in tasks}
    return {
        "tasks": tasks,
        "summary": _summary(cells, weights, covered, tasks, arcs, bases, status, seed, forecast)
        | {"forecast_weight": forecast_weight if forecast is not None else 0.0},
        "uncovered": _uncovered(cells, covered, arcs, bases, centres),
    }


def _task(
    cell: dict[str, Any],
    profiles: dict[str, dict[str, Any]],
    base: dict[str, Any],
    mode: str,
    km: float,
    minutes: float,
    settings: Any,
) -> dict[str, Any]:
    profile = profiles.get(cell["cell"], {})
    around = effects.neighbourhood(profiles, cell["cell"])
    effect, reason, also = effects.desired_effect(cell, profile, settings)
    feature = {
        "type": "Feature",
        "id": cell["cell"],
        "geometry": cell_polygon(cell["cell"]),
        "properties": {
            "threat_score": cell.get("threat_score"),
            "threat_level": cell.get("threat_level"),
        },
    }
    return {
        "base_id": str(base["id"]),
        "base_name": base.get("name"),
        "mode": mode,
        "cell_ids": [cell["cell"]],
        "cells": {"type": "FeatureCollection", "features": [feature]},
        "distance_km": round(km, 2),
        "travel_minutes": round(minutes, 1),
        "desired_effect": effect,
        "reason": reason,
        "other_effects": also,
        "time_window": effects.time_window(around, settings.patrol_time_window_hours),
        "composition": effects.composition(effect, cell, around, base, mode),
        "priority": effects.priority(cell, effect),
        "threat_score": float(cell.get("threat_score") or 0),
        "threat_level": cell.get("threat_level"),
        "forecast": cell.get("forecast"),
        "visits": 1,
    }


def _summary(
    cells: list[dict[str, Any]],
    weights: np.ndarray,
    covered: set[str],
    tasks: list[dict[str, Any]],
    arcs: Arcs,
    bases: list[dict[str, Any]],
    status: str,
    seed: int | None,
    forecast: dict[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    total = float(weights.sum())
    got = float(sum(w for c, w in zip(cells, weights, strict=True) if c["cell"] in covered))
    used = np.zeros(len(arcs.slots), dtype=int)
    for t in tasks:
        used[t.pop("_slot")] += t["visits"]
    summary = {
        "cells_considered": len(cells),
        "tasks": len(tasks),
        "threat_total": round(total, 3),
        "threat_covered": round(got, 3),
        "threat_covered_share": round(got / total, 4) if total > 0 else 0.0,
        "forecast_covered_share": None,
        "solver": status,
        "seed": seed,
        "patrols": [
            {
                "base_id": str(bases[i]["id"]),
                "base_name": bases[i].get("name"),
                "mode": m,
                "available": int(arcs.capacity[s]),
                "planned": int(used[s]),
            }
            for s, (i, m) in enumerate(arcs.slots)
        ],
    }
    if forecast is not None:
        harm = {c: float(f.get("expected_harm") or 0) for c, f in forecast.items()}
        f_total = sum(harm.values())
        f_got = sum(v for c, v in harm.items() if c in covered)
        summary["forecast_covered_share"] = round(f_got / f_total, 4) if f_total > 0 else 0.0
    return summary


def _uncovered(
    cells: list[dict[str, Any]],
    covered: set[str],
    arcs: Arcs,
    bases: list[dict[str, Any]],
    centres: list[tuple[float, float]],
) -> dict[str, Any]:
    reachable = set(arcs.cell.tolist())
    idx = [
        i
        for i, c in enumerate(cells)
        if c.get("threat_level") in HIGH_LEVELS and c["cell"] not in covered
    ]
    dist = distance_matrix(
        [centres[i] for i in idx], [(b["latitude"], b["longitude"]) for b in bases]
    )
    feats = []
    for k, i in enumerate(idx):
        c = cells[i]
        nearest = int(np.argmin(dist[k])) if len(bases) else None
        feats.append(
            {
                "type": "Feature",
                "id": c["cell"],
                "geometry": cell_polygon(c["cell"]),
                "properties": {
                    "threat_score": c.get("threat_score"),
                    "threat_level": c.get("threat_level"),
                    "reason": "no_capacity" if i in reachable else "out_of_reach",
                    "nearest_base": bases[nearest].get("name") if nearest is not None else None,
                    "nearest_base_km": round(float(dist[k, nearest]), 1)
                    if nearest is not None
                    else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def adjust(
    plan: dict[str, Any],
    choices: list[dict[str, Any]],
    cells: list[dict[str, Any]],
    profiles: dict[str, dict[str, Any]],
    bases: list[dict[str, Any]],
    on: date,
    res: int,
    settings: Any,
    *,
    inside: Any = None,
    forecast: dict[str, dict[str, Any]] | None = None,
    mission: Any = None,
) -> dict[str, Any]:
    """The plan as its planners adjusted it: exactly the tasks in `choices` (cell_id, base_id,
    mode). A choice the planner made too keeps its task (id, details, repeat visits); a cell moved
    to another base or mode, or added, gets a task built for that base and mode like the
    planner's own. Summary and uncovered cells follow the adjusted tasks. Refuses (422, with the
    choice's pointer) a malformed cell, one at another resolution or outside the area planned
    for (`inside(lon, lat)`), a cell tasked twice, and a base the plan does not use."""
    from app.errors import InvalidInput

    by_id = {str(b["id"]): b for b in bases}
    by_cell = {c["cell"]: c for c in cells}
    planned = {t["cell_ids"][0]: t for t in plan["tasks"]}
    seen: dict[str, int] = {}
    for i, ch in enumerate(choices):
        cell, at = ch["cell_id"], f"/body/tasks/{i}"
        if not h3.is_valid_cell(cell):
            raise InvalidInput.at(f"{at}/cell_id", f"{cell!r} is not an H3 cell")
        if h3.get_resolution(cell) != res:
            raise InvalidInput.at(f"{at}/cell_id", f"cell {cell} is at resolution "
                                  f"{h3.get_resolution(cell)}; this plan's cells are at {res}")
        if cell in seen:
            raise InvalidInput.at(f"{at}/cell_id", f"cell {cell} is already tasked "
                                  f"(/body/tasks/{seen[cell]}): one task per cell")
        seen[cell] = i
        lat, lon = h3.cell_to_latlng(cell)
        # A cell the planner itself weighed is in the area planned for; any other must lie in it.
        if cell not in by_cell and inside is not None and not inside(lon, lat):
            raise InvalidInput.at(f"{at}/cell_id", f"cell {cell} is outside the area planned for")
        if str(ch["base_id"]) not in by_id:
            raise InvalidInput.at(f"{at}/base_id", f"base {ch['base_id']} is not one of this "
                                  f"plan's bases (active on {on.isoformat()}, in its area)")
    taken_ids = {t["id"] for t in plan["tasks"]}
    next_n = len(taken_ids) + 1
    tasks = []
    for ch in choices:
        cell, base, mode = ch["cell_id"], by_id[str(ch["base_id"])], ch["mode"]
        was = planned.get(cell)
        if was is not None and was["base_id"] == str(base["id"]) and was["mode"] == mode:
            tasks.append(was)
            continue
        (km,) = distance_matrix([(base["latitude"], base["longitude"])],
                                [h3.cell_to_latlng(cell)])[0]
        r = mode_reach(base, mode, on, settings, mission)
        known = by_cell.get(cell) or {"cell": cell, "threat_score": 0.0, "threat_level": "low"}
        task = _task(known, profiles, base, mode, float(km),
                     float(km) * r.detour / r.speed_kmh * 60.0, settings)
        if was is not None:
            task["id"] = was["id"]
        else:
            while f"T{next_n:03d}" in taken_ids:
                next_n += 1
            task["id"] = f"T{next_n:03d}"
            taken_ids.add(task["id"])
        tasks.append(task)
    covered = {t["cell_ids"][0] for t in tasks}
    summary = dict(plan["summary"])
    total = float(summary.get("threat_total") or 0)
    got = float(sum(float(c.get("threat_score") or 0) for c in cells if c["cell"] in covered))
    use: dict[tuple[str, str], int] = {}
    for t in tasks:
        use[(t["base_id"], t["mode"])] = use.get((t["base_id"], t["mode"]), 0) + int(t["visits"])
    patrols = [dict(p) | {"planned": use.pop((p["base_id"], p["mode"]), 0)}
               for p in summary.get("patrols", [])]
    patrols += [{"base_id": b, "base_name": by_id[b].get("name"), "mode": m, "available": 0,
                 "planned": n} for (b, m), n in use.items()]
    summary.update(tasks=len(tasks), threat_covered=round(got, 3), patrols=patrols,
                   threat_covered_share=round(got / total, 4) if total > 0 else 0.0,
                   adjusted=True)
    if forecast is not None:
        harm = {c: float(f.get("expected_harm") or 0) for c, f in forecast.items()}
        f_total = sum(harm.values())
        summary["forecast_covered_share"] = (
            round(sum(v for c, v in harm.items() if c in covered) / f_total, 4) if f_total > 0
            else 0.0)
    left = [f for f in plan["uncovered"]["features"] if f["id"] not in covered]
    for cell, t in planned.items():
        if cell not in covered and t.get("threat_level") in HIGH_LEVELS:
            left.append({"type": "Feature", "id": cell, "geometry": cell_polygon(cell),
                         "properties": {"threat_score": t["threat_score"],
                                        "threat_level": t["threat_level"], "reason": "dropped",
                                        "nearest_base": t.get("base_name"),
                                        "nearest_base_km": t.get("distance_km")}})
    return {"tasks": tasks, "summary": summary,
            "uncovered": {"type": "FeatureCollection", "features": left}}
