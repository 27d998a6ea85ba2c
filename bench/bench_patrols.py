"""Patrol-plan and footprint-review benchmark (issue 5 section 5).

    .venv/bin/python -m bench.bench_patrols [--cells 5000] [--runs 5]

Builds its own database `kinga_bench_bases`: 30 bases spread over the Central African Republic
(10 road patrols a day each, horizon 1 day = 10 patrols per base) and synthetic incidents in the
90 days before as_of in 5,000 distinct res-7 cells (half near real UCDP CAR events, half
anywhere in the country), so that the res-7 threat layer has 5,000 cells. Measures, in the same run:
  - plan: the service end to end (threat layer + profiles + HiGHS), and the planner alone,
    against the naive model: the same MILP without reach pre-filtering (every base x mode x
    cell pair a column, out-of-reach pairs fixed to 0 by bounds);
  - review with 50 candidate sites (p = 3): end to end and the review alone, against exhaustive
    search over all C(50, 3) candidate triples (which must find the same covered threat).
Prints a table and writes bench/results/bench_patrols.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import h3
import numpy as np
import psycopg

from bench.common import bench_database, real_events, write_result

DB = "kinga_bench_bases"
AS_OF = date(2024, 6, 30)
N_BASES, PATROLS = 30, 10
CATS = ("killing", "injury", "abduction", "sexual_violence", "looting_destruction",
        "displacement", "armed_group_presence")


def seed_db(url: str, n_cells: int) -> int:
    """n_cells distinct res-7 cells (half near real UCDP events, half anywhere in the country),
    each with 1-6 incidents in the 90 days before as_of. Returns the number of incidents."""
    rng = random.Random(11)  # noqa: S311 - reproducible synthetic data, not secrets
    real = real_events()
    end = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
    cells: set[str] = set()
    while len(cells) < n_cells:
        if len(cells) % 2:
            src = rng.choice(real)
            lat, lon = src["_lat"] + rng.gauss(0, 0.3), src["_lon"] + rng.gauss(0, 0.3)
        else:
            lat, lon = rng.uniform(3.5, 10.5), rng.uniform(15.0, 27.0)
        cells.add(h3.latlng_to_cell(lat, lon, 7))
    rows = []
    for c in sorted(cells):
        for child in rng.sample(h3.cell_to_children(c, 9), rng.randint(1, 6)):
            lat, lon = h3.cell_to_latlng(child)
            ts = end - timedelta(days=rng.uniform(0, 89), hours=rng.uniform(0, 24))
            rows.append((ts, f"SRID=4326;POINT({lon} {lat})", h3.str_to_int(child),
                         rng.choice(CATS), rng.choice((0, 0, 1, 2, 5)),
                         rng.choice(("entered", "validated", "approved"))))
    with psycopg.connect(url) as conn:
        for i in range(N_BASES):
            lat, lon = rng.uniform(3.8, 10.0), rng.uniform(15.5, 26.5)
            conn.execute(
                "INSERT INTO mission_base (name, kind, location, opened_on, troops, "
                "road_patrols_per_day, created_by, updated_by) VALUES (%s, "
                "'company_operating_base', ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
                "'2014-01-01', 1500, %s, 'bench', 'bench')", (f"Base {i}", lon, lat, PATROLS))
        with conn.cursor().copy(
                "COPY incident (occurred_start, location, h3_cell, category, fatalities_best, "
                "status, created_by, updated_by) FROM STDIN") as cp:
            for r in rows:
                cp.write_row((*r, "bench", "bench"))
        conn.execute("ANALYZE incident")
    return len(rows)


async def atimed(fn: Any, runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = await fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def naive_plan_value(cells: list[dict[str, Any]], bases: list[dict[str, Any]], settings: Any
                     ) -> float:
    from app.services.planning.milp import maximise
    from app.services.planning.patrol_plan import arc_values, build_arcs
    from app.services.planning.reach import mode_reach

    cells = sorted(cells, key=lambda c: c["cell"])
    centres = [h3.cell_to_latlng(c["cell"]) for c in cells]
    w = np.asarray([float(c["threat_score"]) for c in cells])
    arcs = build_arcs(bases, centres, AS_OF, settings, 1, prefilter=False)
    reach = np.asarray([mode_reach(bases[i], m, AS_OF, settings).reach_km for i, m in arcs.slots])
    within = arcs.km <= reach[arcs.slot]
    n = len(arcs.cell)
    rows = np.concatenate([arcs.cell, len(cells) + arcs.slot])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    res = maximise(arc_values(w, arcs, None, 0), rows, cols, np.ones(2 * n),
                   np.concatenate([np.ones(len(cells)), arcs.capacity]),
                   col_upper=within.astype(float))
    return float(w[arcs.cell[res.x > 0.5]].sum())


def exhaustive_best(cells: list[dict[str, Any]], bases: list[dict[str, Any]], settings: Any,
                    p: int) -> float:
    from app.services.planning.footprint_review import GROUND, candidate_sites, covered_counts
    from app.services.planning.reach import coverage_sets

    cells = sorted(cells, key=lambda c: c["cell"])
    centres = [h3.cell_to_latlng(c["cell"]) for c in cells]
    w = np.asarray([float(c["threat_score"]) for c in cells])
    counts = covered_counts(len(cells), coverage_sets(bases, centres, AS_OF, settings, GROUND))
    sites = candidate_sites(cells, counts == 0, settings.footprint_candidates)
    sets = coverage_sets([{**s, "road_patrols_per_day": 1} for s in sites], centres, AS_OF,
                         settings)
    new_w = np.where(counts > 0, 0.0, w)
    best = 0.0
    for combo in itertools.combinations(range(len(sets)), p):
        mask = np.zeros(len(w), dtype=bool)
        for j in combo:
            mask[sets[j]] = True
        best = max(best, float(new_w[mask].sum()))
    return best


async def main(n: int, runs: int) -> None:
    from app.db import make_async_engine, make_sessionmaker
    from app.domain import Role
    from app.repositories import bases as base_repo
    from app.schemas.patrols import FootprintReviewRequest, PatrolPlanRequest
    from app.services.planning import footprint_review as footprint
    from app.services.planning import patrol_plan as patrol_planning
    from app.services.planning import service as planning
    from app.settings import Settings

    url = bench_database(DB)
    n = seed_db(url, n)
    settings = Settings(database_url=url, footprint_candidates=50)
    engine = make_async_engine(settings)
    maker = make_sessionmaker(engine)
    out: dict[str, Any] = {"incidents": n, "bases": N_BASES, "patrols_per_base": PATROLS}
    async with maker() as s:
        plan_req = PatrolPlanRequest(as_of=AS_OF, horizon_days=1, res=7)
        rev_req = FootprintReviewRequest(as_of=AS_OF, res=7, window_days=90, p=3)
        out["threat_layer_s"], cells = await atimed(
            lambda: planning.threat_cells(s, plan_req, 7, 90, settings, Role.analyst), runs)
        bases = [{**b, "id": str(b["id"])} for b in await base_repo.list_bases(s, as_of=AS_OF)]
        out["cells"] = len(cells)
        e2e = []
        for _ in range(runs):
            t = time.perf_counter()
            plan = await planning.plan(s, plan_req, settings, Role.operations)
            e2e.append(time.perf_counter() - t)
        out["plan_end_to_end_s"] = statistics.median(e2e)
        rev_e2e = []
        for _ in range(runs):
            t = time.perf_counter()
            rev = await planning.review(s, rev_req, settings, Role.analyst)
            rev_e2e.append(time.perf_counter() - t)
        out["review_end_to_end_s"] = statistics.median(rev_e2e)
    await engine.dispose()
    out["plan_solver_s"], p2 = timed(lambda: patrol_planning.make_plan(
        cells, {}, bases, AS_OF, 1, settings), runs)
    out["plan_naive_s"], naive_value = timed(lambda: naive_plan_value(cells, bases, settings), 1)
    out["plan_tasks"] = plan["summary"]["tasks"]
    out["plan_threat_covered"] = p2["summary"]["threat_covered"]
    out["plan_naive_threat_covered"] = round(naive_value, 3)
    out["review_alone_s"], r2 = timed(lambda: footprint.review(cells, bases, AS_OF, settings, p=3),
                                      runs)
    out["review_naive_s"], best = timed(lambda: exhaustive_best(cells, bases, settings, 3), 1)
    gained = sum(c["new_threat_covered"] for c in r2["candidates"])
    out["review_candidates_considered"] = rev["candidates_considered"]
    out["review_new_threat_covered"] = round(gained, 3)
    out["review_naive_new_threat_covered"] = round(best, 3)
    rows = [
        ("threat layer alone (issue 3, with patterns)", out["threat_layer_s"], None),
        ("plan: service end to end (layer+profiles+MILP)", out["plan_end_to_end_s"], 2.0),
        ("plan: planner alone (reach-filtered MILP)", out["plan_solver_s"], 2.0),
        ("plan: naive MILP, no reach pre-filter", out["plan_naive_s"], None),
        ("review: service end to end, 50 candidates", out["review_end_to_end_s"], 5.0),
        ("review: review alone (exact MCLP, MILP)", out["review_alone_s"], 5.0),
        ("review: naive exhaustive C(50,3)", out["review_naive_s"], None),
    ]
    print(f"\n{out['cells']} threat cells (res 7), {N_BASES} bases x {PATROLS} patrols, "
          f"{n} incidents")
    print(f"{'measure':52} {'seconds':>9} {'target':>7}")
    for name, secs, target in rows:
        print(f"{name:52} {secs:9.3f} {target if target else '':>7}")
    print(f"plan speed-up over naive: {out['plan_naive_s'] / out['plan_solver_s']:.1f}x; "
          f"same covered threat: {out['plan_threat_covered']} vs "
          f"{out['plan_naive_threat_covered']}")
    print(f"review speed-up over exhaustive: {out['review_naive_s'] / out['review_alone_s']:.1f}x; "
          f"same new threat: {out['review_new_threat_covered']} vs "
          f"{out['review_naive_new_threat_covered']}")
    print("written", write_result("bench_patrols", out))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    asyncio.run(main(a.cells, a.runs))
