"""Brief benchmark (issue 18): the weekly brief of the bundled mission (1,848 UCDP events and the
Geo-PKO bases) to PDF, beside the same brief without charts and map, in the same run.

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.bench_briefs [--rounds 3]

Own database `kinga_bench_briefs`. Every variant takes a week of its own (so the threat layer,
reporting effort and forecast are computed afresh: cold) and times, in process, compose + HTML +
PDF for:
  - the brief as served (charts and map),
  - the same brief without charts (the baseline, same data, same run),
  - the brief again (warm: layers cached per data version),
  - informational: the brief quoting the shipped `count` forecast instead of `decay`.
Target: PDF <= 5 s and < 1 MB. Prints a table with the load average; writes
bench/results/bench_briefs.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from app.db import make_async_engine, make_sessionmaker
from app.services.briefs import period as periods
from app.services.briefs import render
from app.services.briefs import scope as scopes
from app.services.briefs.compose import compose
from app.services.incidents.import_pipeline import import_file
from app.settings import Settings
from bench.common import GED, bench_database, write_result

DB = "kinga_bench_briefs"
LAST_WEEK = date(2022, 12, 31)  # the bundled events end on 2022-12-30


def seed(url: str, settings: Settings) -> int:
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    with psycopg.connect(url) as c:
        s = import_file(c, "ucdp", GED, actor="bench", h3_res=settings.h3_resolution)
        rows = geopko_bases(settings.geodata_dir / "geopko-minusca-deployments.csv",
                            settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
        import_rows(c, rows, actor="bench")
    return s.inserted


async def one(sessionmaker: Any, settings: Settings, as_of: date, *, charts: bool) -> dict[str, Any]:
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    async with sessionmaker() as session:
        scope = await scopes.resolve(session, settings, None, None)
        p = periods.parse("week", as_of, tz=scope.tz, now=now)
        content = await compose(session, settings, p, scope, edition="full", now=now,
                                charts=charts)
    t1 = time.perf_counter()
    page = render.html(content, base_url="http://127.0.0.1:8000",
                       outline_path=settings.geodata_dir / "naturalearth-countries.geojson")
    t2 = time.perf_counter()
    pdf = await asyncio.to_thread(render.pdf, page)
    t3 = time.perf_counter()
    return {"compose_s": t1 - t0, "html_s": t2 - t1, "pdf_s": t3 - t2, "total_s": t3 - t0,
            "bytes": len(pdf), "incidents": content["figures"]["incidents"]}


async def run(url: str, rounds: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    count = settings.model_copy(update={"brief_forecast_method": None})
    engine = make_async_engine(settings)
    sm = make_sessionmaker(engine)
    render.pdf("<p>warm-up</p>")  # font discovery happens once per process
    out: dict[str, list[dict[str, Any]]] = {"charts": [], "no_charts": [], "warm": [],
                                            "count_forecast": []}
    try:
        for r in range(rounds):
            # Different weeks, so that every first measurement is cold (nothing cached).
            week = LAST_WEEK - timedelta(days=7 * r)
            other = LAST_WEEK - timedelta(days=7 * (rounds + r))
            spare = LAST_WEEK - timedelta(days=7 * (2 * rounds + r))
            if r % 2:  # alternate which variant runs first
                out["no_charts"].append(await one(sm, settings, other, charts=False))
                out["charts"].append(await one(sm, settings, week, charts=True))
            else:
                out["charts"].append(await one(sm, settings, week, charts=True))
                out["no_charts"].append(await one(sm, settings, other, charts=False))
            out["warm"].append(await one(sm, settings, week, charts=True))
            out["count_forecast"].append(await one(sm, count, spare, charts=True))
    finally:
        await engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    url = bench_database(DB)
    n = seed(url, Settings(database_url=url))
    load_before = os.getloadavg()[0]
    res = asyncio.run(run(url, args.rounds))
    load_after = os.getloadavg()[0]

    def med(kind: str, key: str) -> float:
        return statistics.median(x[key] for x in res[kind])

    summary = {k: {key: round(med(k, key), 3) for key in ("compose_s", "html_s", "pdf_s",
                                                          "total_s", "bytes")} for k in res}
    ratio = summary["charts"]["total_s"] / summary["no_charts"]["total_s"]
    print(f"bundled events: {n}; rounds: {args.rounds}; load average {load_before:.1f} -> "
          f"{load_after:.1f} (2 cores)")
    print(f"{'brief (week)':28} {'compose':>8} {'html':>6} {'pdf':>6} {'total':>7} {'bytes':>9}")
    for k, v in summary.items():
        print(f"{k:28} {v['compose_s']:8.2f} {v['html_s']:6.2f} {v['pdf_s']:6.2f} "
              f"{v['total_s']:7.2f} {int(v['bytes']):9,}")
    print(f"charts / no charts (same run): {ratio:.2f}x; target: PDF <= 5 s and < 1 MB -> "
          f"{'met' if summary['charts']['total_s'] <= 5 and summary['charts']['bytes'] < 1e6 else 'NOT met'}")
    path = write_result("bench_briefs", {"events": n, "rounds": res, "summary": summary,
                                         "ratio_charts_to_no_charts": ratio,
                                         "load_before": load_before, "load_after": load_after})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
