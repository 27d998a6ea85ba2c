"""Threat-layer benchmark (issue 3 section 4): 1,000,000 incidents over 5 years, through HTTP.

    .venv/bin/python -m bench.bench_hotspots [--n 1000000] [--reuse] [--baseline-timeout 900]

Generates incidents resampled from the real UCDP CAR events (with ~9 km jitter, their real
precision codes, perpetrators and fatalities) into its own database `kinga_bench_hot`, serves
the app with uvicorn on a free port and measures, through HTTP:
  - GET /api/v1/hotspots?res=6&window_days=90 (the whole area): median and p95,
  - the same for a 5-year window,
  - z8 vector tiles over the densest area,
against a naive PostGIS ST_HexagonGrid + ST_Intersects aggregation of the same 90-day window,
timed in the same run. Finally a new incident is posted and must show in the next response.
Prints a table and writes bench/results/bench_hotspots.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import httpx
import psycopg

from app import localdb
from app.db import libpq_url
from app.domain import Role
from app.services.cli_support import create_token
from app.settings import PROJECT_ROOT, Settings

DB = "kinga_bench_hot"
AS_OF = datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
YEARS = 5
GED = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"
UCDP_RADIUS = {1: 1000, 2: 25000, 3: 50000, 4: 150000, 5: 150000, 6: 300000, 7: 300000}
COLUMNS = ("occurred_start", "location", "location_precision", "precision_scheme",
           "location_radius_m", "h3_cell", "category", "perpetrators", "perpetrator_type",
           "fatalities_best", "crsv_survivors", "status", "quality_grade", "created_by",
           "updated_by")


def database(reuse: bool) -> str:
    from alembic import command
    from alembic.config import Config

    base = localdb.resolve_url(Settings())
    root = base.rpartition("/")[0]
    localdb.ensure_database(libpq_url(f"{root}/postgres"), DB, fresh=not reuse)
    url = f"{root}/{DB}"
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(cfg, "heads")
    return libpq_url(url)


def _pg_array(items: list[str]) -> str:
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def generate(url: str, n: int, seed: int = 3) -> None:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    real = json.loads(GED.read_text())["features"]
    span = YEARS * 365.25 * 86400
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor().copy(f"COPY incident ({', '.join(COLUMNS)}) FROM STDIN") as cp:
            for i in range(n):
                f = real[rng.randrange(len(real))]
                p = f["properties"]
                lon0, lat0 = f["geometry"]["coordinates"][:2]
                lon, lat = lon0 + rng.gauss(0, 0.08), lat0 + rng.gauss(0, 0.08)
                prec = int(p.get("where_prec") or 1)
                r = rng.random()
                category = ("sexual_violence" if r < 0.05 else "abduction" if r < 0.10
                            else "killing" if p.get("type_of_violence") == 3 or r < 0.6
                            else "armed_group_presence")
                perps = [s for s in (p.get("side_a"), p.get("side_b")) if s]
                at = AS_OF - timedelta(seconds=rng.random() * span)
                cp.write_row((
                    at, f"SRID=4326;POINT({lon:.5f} {lat:.5f})", prec, "ucdp", UCDP_RADIUS[prec],
                    h3.str_to_int(h3.latlng_to_cell(lat, lon, 9)), category, _pg_array(perps),
                    "unknown", int(p.get("best") or 0),
                    rng.randint(1, 4) if category == "sexual_violence" else 0,
                    "approved" if r < 0.8 else "validated" if r < 0.9 else "entered",
                    rng.choice("aabbbc"), "bench", "bench"))
                if i and i % 200_000 == 0:
                    print(f"  {i:,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE incident")
    print(f"generated {n:,} incidents in {time.perf_counter() - t0:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KINGA_DATABASE_URL": url, "KINGA_ENVIRONMENT": "development"}
    # --factory: `app.main:app` resolves to the `app` package (app/main.py imports app.api).
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
           "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/api/v1/health", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def timed(client: httpx.Client, path: str, params: dict[str, Any], runs: int,
          warmup: int = 2) -> dict[str, Any]:
    for _ in range(warmup):
        client.get(path, params=params).raise_for_status()
    times, size, cells = [], 0, None
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        size = len(r.content)
        if r.headers["content-type"].startswith("application/geo+json"):
            cells = r.json()["numberReturned"]
    times.sort()
    return {"median_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)],
            "runs": runs, "bytes": size, "cells": cells}


NAIVE = """
WITH area AS (SELECT ST_Transform(ST_SetSRID(ST_Extent(location), 4326), 3857) AS g FROM incident),
grid AS (SELECT h.geom, h.i, h.j FROM area, ST_HexagonGrid(%(size)s, area.g) AS h)
SELECT grid.i, grid.j, count(*), sum(fatalities_best)
FROM grid JOIN incident t ON ST_Intersects(grid.geom, ST_Transform(t.location, 3857))
WHERE t.occurred_start > %(start)s AND t.occurred_start <= %(end)s AND t.status <> 'rejected'
GROUP BY grid.i, grid.j
"""


def naive_baseline(url: str, timeout_s: int) -> dict[str, Any]:
    """The naive aggregation: a Web-Mercator hexagon grid over the data's extent (hexagons of
    the res-6 edge length) joined to the window's points with ST_Intersects."""
    size = h3.average_hexagon_edge_length(6, unit="m")
    params = {"size": size, "start": AS_OF - timedelta(days=90), "end": AS_OF}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET statement_timeout = '{int(timeout_s)}s'")
        t = time.perf_counter()
        try:
            rows = conn.execute(NAIVE, params).fetchall()
            return {"ms": (time.perf_counter() - t) * 1000, "cells": len(rows), "timed_out": False}
        except psycopg.errors.QueryCanceled:
            return {"ms": (time.perf_counter() - t) * 1000, "cells": None, "timed_out": True}


def densest_z8_tiles(url: str, count: int = 5) -> list[tuple[int, int, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT floor((ST_X(location) + 180) / 360 * 256)::int AS x, "
            "floor((1 - ln(tan(radians(ST_Y(location))) + 1 / cos(radians(ST_Y(location)))) / pi())"
            " / 2 * 256)::int AS y, count(*) FROM incident WHERE occurred_start > %s "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT %s",
            (AS_OF - timedelta(days=90), count)).fetchall()
    return [(8, x, y) for x, y, _ in rows]


def freshness(client: httpx.Client) -> dict[str, Any]:
    """Post an incident; the very next layer response must count it (its cell gains one)."""
    lat, lon = 9.9, 15.1
    cell = h3.latlng_to_cell(lat, lon, 6)
    params = {"res": 6, "as_of": AS_OF.isoformat(), "window_days": 90, "bbox": "15.0,9.8,15.2,10.0"}

    def count() -> int:
        feats = client.get("/api/v1/hotspots", params=params).json()["features"]
        return sum(f["properties"]["incidents"] for f in feats if f["id"] == cell)

    before = count()
    body = {"occurred_start": (AS_OF - timedelta(days=1)).isoformat(), "latitude": lat,
            "longitude": lon, "category": "killing", "fatalities_best": 1,
            "report": {"section": "civil_affairs", "source_reliability": "B",
                       "information_credibility": 2}}
    client.post("/api/v1/incidents", json=body).raise_for_status()
    after = count()
    return {"cell": cell, "before": before, "after": after, "seen": after == before + 1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep an already generated database")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baseline-timeout", type=int, default=900)
    args = ap.parse_args()
    url = database(args.reuse)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM incident").fetchone()[0]  # type: ignore[index]
    if have < args.n:
        if have:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE incident CASCADE")
        generate(url, args.n)
    token = create_token(Settings(database_url=url), Role.analyst, f"bench-{time.time_ns()}")
    proc, base = serve(url)
    out: dict[str, Any] = {"incidents": args.n, "as_of": AS_OF.isoformat()}
    try:
        with httpx.Client(base_url=base, timeout=600,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            layer = {"res": 6, "as_of": AS_OF.isoformat()}
            out["res6_90d"] = timed(client, "/api/v1/hotspots", {**layer, "window_days": 90},
                                    args.runs)
            out["res6_5y"] = timed(client, "/api/v1/hotspots",
                                   {**layer, "window_days": int(YEARS * 365.25)},
                                   max(5, args.runs // 4))
            tile_times = []
            for z, x, y in densest_z8_tiles(url):
                t = timed(client, f"/api/v1/hotspots/tiles/{z}/{x}/{y}.mvt",
                          {"as_of": AS_OF.isoformat(), "window_days": 90}, args.runs)
                tile_times.append({"tile": f"{z}/{x}/{y}", **t})
            out["z8_tiles"] = tile_times
            out["z8_tile_median_ms"] = statistics.median(t["median_ms"] for t in tile_times)
            print("naive baseline running (may take minutes)...", flush=True)
            out["naive_res6_90d"] = naive_baseline(url, args.baseline_timeout)
            out["freshness"] = freshness(client)
    finally:
        proc.terminate()
        proc.wait(10)
    naive = out["naive_res6_90d"]
    out["speedup"] = naive["ms"] / out["res6_90d"]["median_ms"]
    report(out)
    results = PROJECT_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "bench_hotspots.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print("wrote", path)


def report(out: dict[str, Any]) -> None:
    naive = out["naive_res6_90d"]
    rows = [
        ("res 6, 90 days", out["res6_90d"], "<= 150 ms, >= 100x naive"),
        ("res 6, 5 years", out["res6_5y"], "<= 1000 ms"),
    ]
    print(f"\n{out['incidents']:,} incidents, as of {out['as_of']}")
    print(f"{'request':<22}{'median ms':>11}{'p95 ms':>10}{'cells':>8}{'MB':>7}  target")
    for name, r, target in rows:
        print(f"{name:<22}{r['median_ms']:>11.1f}{r['p95_ms']:>10.1f}{r['cells'] or 0:>8}"
              f"{r['bytes'] / 1e6:>7.2f}  {target}")
    for t in out["z8_tiles"]:
        print(f"{'tile ' + t['tile']:<22}{t['median_ms']:>11.1f}{t['p95_ms']:>10.1f}{'':>8}"
              f"{t['bytes'] / 1e6:>7.2f}  <= 50 ms")
    label = "timed out after" if naive["timed_out"] else "took"
    print(f"naive ST_HexagonGrid + ST_Intersects (res 6, 90 days) {label} {naive['ms']:.0f} ms "
          f"({naive['cells']} hexagons) -> speed-up {out['speedup']:.0f}x"
          + (" (lower bound)" if naive["timed_out"] else ""))
    f = out["freshness"]
    print(f"new incident in next response: {f['seen']} "
          f"({f['before']} -> {f['after']} in {f['cell']})")


if __name__ == "__main__":
    main()
