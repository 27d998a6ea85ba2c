"""Read scaling: map clients against the primary only vs primary + standby reads, with alert
writes beside, same run, same data (reported; no pass mark: both servers share this machine).

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.bench_read_scaling \
        [--incidents 100000] [--seconds 15] [--rounds 2] [--map-clients 24] [--alert-clients 8]

A throwaway replicated cluster (bench/ha_common.py) with --incidents synthetic incidents resampled
from the real UCDP CAR events (bench_hotspots.generate). Two uvicorn servers (2 workers each, as
`make run`): A with KINGA_DATABASE_URL only (every read on the primary), B with
KINGA_DATABASE_READ_URL = the standby too. Runs alternate A, B, A, B... (--rounds) so that drift
in the machine's load falls on both. In each run, map clients loop over a fixed mix built before
the clock starts: threat layers (res 6, 90-day window ending on one of 4 dates), z8-z10 vector
tiles around the events, and OGC incident pages (1-degree bbox, 100 items); beside them,
alert clients post signed alerts to the same server (the write load of bench_alerts).
Reported per configuration: map requests/s, p50, p95; alerts accepted/s; which server did what
(pg_stat_database transaction counts of each node during the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import psycopg

from app import ha_cluster
from app.cli.support import create_token
from app.domain import Role
from app.settings import Settings
from bench.bench_alerts import AlertMaker, create_integration, serve
from bench.bench_hotspots import AS_OF, generate
from bench.common import write_result
from bench.ha_common import throwaway_ha

CAR = (14.4, 2.2, 27.5, 11.0)  # lon/lat box of the generated data


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def map_requests(seed: int, n: int, places: list[tuple[float, float]]) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 (bench mix)
    # A few map views (dates) that clients share, as a field office's map clients do: repeated
    # layers and tiles come from the data-versioned caches, OGC pages always reach the database.
    dates = [(AS_OF - timedelta(days=7 * i)).date().isoformat() for i in range(4)]
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:
            out.append(f"/api/v1/hotspots?res=6&window_days=90&pattern=false&as_of={rng.choice(dates)}")
        elif kind < 0.7:
            lat, lon = rng.choice(places)
            z, x, y = tile_of(lat, lon, rng.choice((8, 9, 10)))
            out.append(f"/api/v1/hotspots/tiles/{z}/{x}/{y}.mvt?as_of={rng.choice(dates)}")
        else:
            lat, lon = rng.choice(places)
            d = 0.5
            out.append(f"/ogc/collections/incidents/items?limit=100&bbox={lon - d:.3f},{lat - d:.3f},"
                       f"{lon + d:.3f},{lat + d:.3f}")
    return out


async def run(base: str, token: str, maker: AlertMaker, reqs: list[str], args: argparse.Namespace
              ) -> dict[str, Any]:
    lat: list[float] = []
    codes: dict[int, int] = {}
    alerts_ok = 0
    nxt = iter(reqs)
    stop = time.perf_counter() + args.seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def map_client(http: httpx.AsyncClient) -> None:
        for path in nxt:
            if time.perf_counter() >= stop:
                return
            t0 = time.perf_counter()
            r = await http.get(base + path, headers=headers)
            lat.append(time.perf_counter() - t0)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1

    async def alert_client(http: httpx.AsyncClient, k: int) -> None:
        nonlocal alerts_ok
        n = k * 1_000_000
        while time.perf_counter() < stop:
            key, body = maker.make(n)
            n += 1
            r = await http.post(base + "/api/v1/alerts", content=body, headers=maker.headers(key, body))
            alerts_ok += r.status_code in (200, 201)

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(map_client(http) for _ in range(args.map_clients)),
                             *(alert_client(http, k) for k in range(args.alert_clients)))
        elapsed = time.perf_counter() - t0
    arr = np.asarray(lat) * 1000 if lat else np.zeros(1)
    return {"map_requests": len(lat), "map_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": round(float(np.percentile(arr, 50)), 1),
            "p95_ms": round(float(np.percentile(arr, 95)), 1),
            "alerts_per_s": round(alerts_ok / elapsed, 1), "codes": codes, "seconds": round(elapsed, 1)}


def xacts(lay: ha_cluster.Layout) -> dict[str, int]:
    out = {}
    for name in ha_cluster.NODES:
        with psycopg.connect(ha_cluster.node_url(lay, name)) as c:
            out[name] = int(c.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                      "WHERE datname = current_database()").fetchone()[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--map-clients", type=int, default=16)
    ap.add_argument("--alert-clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with throwaway_ha("kinga_reads") as lay:
        writer, reader = ha_cluster.writer_url(lay), ha_cluster.read_url(lay)
        generate(writer, args.incidents)
        token = create_token(Settings(database_url=writer), Role.analyst, "map-bench")
        itoken, secret = asyncio.run(create_integration(writer, "reads-bench"))
        maker = AlertMaker(itoken, secret, seed=21)
        places = maker.places
        results: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
        per_node: dict[str, dict[str, int]] = {"A": {}, "B": {}}
        pool = -(-(args.map_clients + args.alert_clients) // args.workers) + 4
        os.environ.pop("KINGA_DATABASE_READ_URL", None)
        with serve(writer, workers=args.workers, pool_size=pool) as (base_a, _):
            os.environ["KINGA_DATABASE_READ_URL"] = reader
            try:
                with serve(writer, workers=args.workers, pool_size=pool) as (base_b, _):
                    health_b = httpx.get(base_b + "/api/v1/health", timeout=10).json()
                    print(f"B reads from: {health_b['reads']}", file=sys.stderr)
                    for rnd in range(args.rounds):
                        for cfg, base in (("A", base_a), ("B", base_b)):
                            reqs = map_requests(100 + rnd, 200_000, places)
                            before = xacts(lay)
                            r = asyncio.run(run(base, token, maker, reqs, args))
                            after = xacts(lay)
                            for n in ha_cluster.NODES:
                                per_node[cfg][n] = per_node[cfg].get(n, 0) + after[n] - before[n]
                            results[cfg].append(r)
                            print(f"round {rnd} {cfg}: {r}", file=sys.stderr)
            finally:
                os.environ.pop("KINGA_DATABASE_READ_URL", None)
        primary = ha_cluster.primary(lay)
    load1 = os.getloadavg()[0]

    def agg(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {k: round(float(np.mean([r[k] for r in rs])), 1)
                for k in ("map_per_s", "p50_ms", "p95_ms", "alerts_per_s")}

    a, b = agg(results["A"]), agg(results["B"])
    print(f"\n{'configuration':34} {'map req/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'alerts/s':>9}  "
          "transactions per node")
    for cfg, name, v in (("A", "A: primary only", a), ("B", "B: primary + standby reads", b)):
        nodes = ", ".join(f"{n}{' (primary)' if n == primary else ''} {c}" for n, c in per_node[cfg].items())
        print(f"{name:34} {v['map_per_s']:>10} {v['p50_ms']:>8} {v['p95_ms']:>8} {v['alerts_per_s']:>9}  {nodes}")
    print(f"B/A: map throughput {b['map_per_s'] / max(a['map_per_s'], 0.1):.2f}x, p95 "
          f"{b['p95_ms'] / max(a['p95_ms'], 0.1):.2f}x, alerts {b['alerts_per_s'] / max(a['alerts_per_s'], 0.1):.2f}x"
          f"  ({os.cpu_count()} cores; 1-min load {load0:.1f} before, {load1:.1f} after)")
    write_result("bench_read_scaling", {
        "args": vars(args), "A_primary_only": a, "B_standby_reads": b, "runs": results,
        "transactions_per_node": per_node, "primary_at_end": primary, "load": [load0, load1],
        "at": datetime.now(UTC).isoformat()})


if __name__ == "__main__":
    main()
