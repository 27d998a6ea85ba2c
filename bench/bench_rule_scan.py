"""The scheduler's rule scan after a batch import (issue 15 target: a 1,000-incident batch is
re-evaluated in <= 10 s on this machine; no warning is ever raised for a past date).

    .venv/bin/python -m bench.bench_rule_scan [--background 20000] [--batch 1000]

Own database (kinga_bench_rule_scan). A background of GED-shaped incidents resampled from the
real CAR events (~5 km jitter) dated over the last 80 days is imported with the COPY importer;
then, in one process and one run:
  (a) baseline: the scan's first run (a full scan of every cell: threat level, emerging pattern,
      staff sexual-violence incidents);
  (b) baseline: a run with nothing changed (one small read);
  (c) the target: a 1,000-incident batch imported with the same importer (dated the last 3
      days), then one scan run, which re-evaluates what the batch changed (or everything, when
      the batch was too large for the change log);
  (d) the same batch size dated two years back: the scan raises nothing for it.
Times are wall seconds of `Scheduler.run_job("warnings.rule_scan")`, its transaction included.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from app.services.incidents.import_pipeline import import_file
from app.settings import Settings
from bench.common import bench_database, synthetic_ged_rows, write_result


def _rows(n: int, seed: int, days_back: tuple[float, float], id0: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = synthetic_ged_rows(n, seed=seed)
    for i, r in enumerate(rows):
        day = (now - timedelta(days=rng.uniform(*days_back))).date().isoformat()
        r.update(id=id0 + i, date_start=day, date_end=day)
    return rows


def _import(url: str, rows: list[dict[str, Any]]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ged.csv"
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            s = import_file(conn, "ucdp", path, actor="bench", h3_res=9,
                            connect=lambda: psycopg.connect(url))
            assert s.inserted == len(rows), s.render()
            return time.perf_counter() - t0


def _state(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as c:
        v, since = c.execute("SELECT version, log_since FROM data_version").fetchone()  # type: ignore[misc]
        row = c.execute("SELECT version FROM rule_scan_state").fetchone()
        n = c.execute("SELECT count(*) FROM warning").fetchone()[0]  # type: ignore[index]
    return {"version": v, "log_since": since, "cursor": row[0] if row else None, "warnings": n}


async def _runs(url: str, steps: list[tuple[str, list[dict[str, Any]] | None]]) -> list[dict[str, Any]]:
    from app.db import make_async_engine, make_sessionmaker
    from app.workers.scheduler import Scheduler

    settings = Settings(database_url=url, environment="test")
    engine = make_async_engine(settings)
    sched = Scheduler(settings)
    sched.maker = make_sessionmaker(engine)
    out = []
    try:
        for name, batch in steps:
            imported = None
            before = _state(url)
            if batch is not None:
                imported = round(await asyncio.to_thread(_import, url, batch), 2)
            mid = _state(url)
            full = mid["cursor"] is None or mid["cursor"] < mid["log_since"]
            t0 = time.perf_counter()
            raised = await sched.run_job("warnings.rule_scan")
            took = time.perf_counter() - t0
            after = _state(url)
            out.append({"step": name, "scan_s": round(took, 2), "raised": raised,
                        "import_s": imported, "full_scan": full,
                        "warnings": after["warnings"] - before["warnings"]})
    finally:
        await engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--background", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1_000)
    args = ap.parse_args()
    url = bench_database("kinga_bench_rule_scan")
    t_bg = _import(url, _rows(args.background, 3, (4, 80), 20_000_000))
    print(f"background: {args.background} incidents imported in {t_bg:.1f} s", file=sys.stderr)
    steps = [("(a) first run: full scan", None), ("(b) nothing changed", None),
             (f"(c) after a {args.batch}-incident batch", _rows(args.batch, 4, (0, 3), 30_000_000)),
             ("(d) after a batch dated 2 years back", _rows(args.batch, 5, (700, 760), 40_000_000))]
    res = asyncio.run(_runs(url, steps))
    print(f"\n{'step':40} {'scan s':>7} {'raised':>7} {'full':>5} {'import s':>9}")
    for r in res:
        print(f"{r['step']:40} {r['scan_s']:>7} {r['raised']:>7} {str(r['full_scan']):>5} "
              f"{r['import_s'] if r['import_s'] is not None else '-':>9}")
    c, a = res[2], res[0]
    print(f"\nbatch re-evaluation: {c['scan_s']} s ({c['scan_s'] / max(a['scan_s'], 1e-3):.2f}x the "
          f"same run's full scan); target <= 10 s: {'met' if c['scan_s'] <= 10 else 'NOT met'} "
          f"(cores={os.cpu_count()}, load {os.getloadavg()[0]:.1f})")
    print(f"past-dated batch: {res[3]['raised']} warnings raised (must be 0)")
    out = write_result("bench_rule_scan", {"args": vars(args), "runs": res,
                                           "background_import_s": round(t_bg, 1)})
    print(f"wrote {out}", file=sys.stderr)
    if res[3]["raised"]:
        sys.exit("the scan raised warnings for a past-dated batch")


if __name__ == "__main__":
    main()
