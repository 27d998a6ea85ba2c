"""Does the threat layer's in-process event store slow imports? 1M incidents imported through the
`kinga import ucdp` pipeline into an empty database, twice in the same run: once with nothing
else running, once while a server with the event store and its warm-up serves that database (it
rebuilds the store after each batch the change log cannot bridge, as in production).

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.bench_store_import [--n 1000000]

Target (issue 16): the import stays >= 20,000 rows/s with the store maintained.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import httpx

from bench.bench_hotspots import database, generate, serve, wait_store, warmups
from bench.common import write_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    out: dict[str, Any] = {"incidents": args.n, "loadavg_start": os.getloadavg()}
    url = database(False, "kinga_bench_store_import")
    print("import, nothing else running...", flush=True)
    out["alone"] = generate(url, args.n)
    url = database(False, "kinga_bench_store_import")
    proc, base = serve(url)
    try:
        wait_store(base)
        before = warmups(base)
        print("import, a server with the event store serving the database...", flush=True)
        out["serving"] = generate(url, args.n)
        out["store_caught_up_s"] = wait_store(base, after=before)
        out["store_loads_during_import"] = warmups(base) - before
        health = httpx.get(base + "/api/v1/health", timeout=10).json()
        out["incidents_seen_by_server"] = health.get("incidents")
    finally:
        proc.kill()
        proc.wait()
    out["loadavg_end"] = os.getloadavg()
    write_result("bench_store_import", out)
    a, s = out["alone"], out["serving"]
    print(f"\n{args.n:,} incidents; load average {out['loadavg_start']} at the start, "
          f"{out['loadavg_end']} at the end")
    print(f"import alone:            {a['rows_per_s']:>9,.0f} rows/s ({a['seconds']:.1f} s)")
    print(f"import while serving:    {s['rows_per_s']:>9,.0f} rows/s ({s['seconds']:.1f} s), "
          f"{s['rows_per_s'] / a['rows_per_s']:.2f}x of alone; the store caught up "
          f"{out['store_caught_up_s']:.1f} s after the last batch, loaded "
          f"{out['store_loads_during_import']} time(s) (target >= 20,000 rows/s)")


if __name__ == "__main__":
    main()
