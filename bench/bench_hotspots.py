"""Threat-layer benchmark (issue 3 section 4): 1,000,000 incidents over 5 years, through HTTP.

    .venv/bin/python -m bench.bench_hotspots [--n 1000000] [--reuse] [--baseline-timeout 900]

Generates incidents resampled from the real UCDP CAR events (with ~9 km jitter, their real
precision codes, perpetrators and fatalities) into its own database `kinga_bench_hot`, serves
the app with uvicorn on a free port and measures, through HTTP:
  - GET /api/v1/hotspots?res=6&window_days=90 (the whole area): median and p95,
  - the same for a 5-year window,
  - z8 vector tiles over the densest area,
each in two regimes:
  - WARM: repeated identical requests (served from the data-versioned cache),
  - COLD: the first request after one new incident was posted through the API (the write moves
    the data version, so the response is recomputed from the cached sums plus the change log);
    each cold response must count the new incident (its cell gains one),
  - UNCACHED (layers only, informational): a window nothing was computed for yet, i.e. the full
    aggregation, as after a restart or an import batch too large for the change log,
against a naive PostGIS ST_HexagonGrid + ST_Intersects aggregation of the same 90-day window,
timed in the same run. The incidents posted by the cold cycles are deleted at the end.
Prints a table (with the load average) and writes bench/results/bench_hotspots.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import httpx
import psycopg

from app import localdb
from app.cli.support import create_token
from app.db import libpq_url
from app.domain import Role
from app.settings import PROJECT_ROOT, Settings

DB = "kinga_bench_hot"
AS_OF = datetime(2024, 12, 31, 23, 59, tzinfo=UTC)
YEARS = 5
GED = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"


def database(reuse: bool, name: str = DB) -> str:
    from alembic import command
    from alembic.config import Config

    base = localdb.resolve_url(Settings())
    root = base.rpartition("/")[0]
    localdb.ensure_database(libpq_url(f"{root}/postgres"), name, fresh=not reuse)
    url = f"{root}/{name}"
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(cfg, "heads")
    return libpq_url(url)


GED_FIELDS = ("id", "latitude", "longitude", "type_of_violence", "date_start", "date_end",
              "where_prec", "date_prec", "best", "low", "high", "deaths_civilians",
              "number_of_sources", "event_clarity", "side_a", "side_b", "where_description",
              "dyad_name", "where_coordinates", "adm_1", "adm_2", "source_article")
# Imported in three files with their own workflow status (`kinga import ucdp --status`).
STATUS_SHARES = (("approved", 0.8), ("validated", 0.1), ("entered", 0.1))


def write_ged_csv(path: Path, n: int, first_id: int, seed: int) -> None:
    """n UCDP GED rows resampled from the real CAR events: ~9 km jitter, a day drawn uniformly
    over the five years before AS_OF, the real event's precision codes, sides and deaths."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    real = [f["properties"] | {"_lon": f["geometry"]["coordinates"][0],
                               "_lat": f["geometry"]["coordinates"][1]}
            for f in json.loads(GED.read_text())["features"]]
    days = int(YEARS * 365.25)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(GED_FIELDS)
        for i in range(n):
            p = real[rng.randrange(len(real))]
            day = (AS_OF - timedelta(days=rng.randrange(days))).date().isoformat()
            w.writerow((first_id + i, round(p["_lat"] + rng.gauss(0, 0.08), 5),
                        round(p["_lon"] + rng.gauss(0, 0.08), 5), p["type_of_violence"], day, day,
                        p["where_prec"], p["date_prec"], p["best"], p["low"], p["high"],
                        p["deaths_civilians"], p["number_of_sources"], p["event_clarity"],
                        p["side_a"], p["side_b"], p["where_description"], p["dyad_name"],
                        p["where_coordinates"], p["adm_1"], p["adm_2"], p["source_article"]))


def generate(url: str, n: int, seed: int = 3) -> dict[str, Any]:
    """Import n incidents through the `kinga import ucdp` pipeline (three files, one per
    workflow status); returns the import's throughput."""
    from app.cli.support import run_import

    settings = Settings(database_url=url)
    out: dict[str, Any] = {"rows": 0, "seconds": 0.0, "loadavg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        first = 0
        for k, (status, share) in enumerate(STATUS_SHARES):
            rows = n - first if k == len(STATUS_SHARES) - 1 else int(n * share)
            path = Path(tmp) / f"ged-{status}.csv"
            write_ged_csv(path, rows, 50_000_000 + first, seed + k)
            t0 = time.perf_counter()
            summary = run_import(settings, "ucdp", path, status=status, actor="bench")
            out["seconds"] += time.perf_counter() - t0
            out["rows"] += summary.inserted
            print(f"  imported {summary.inserted:,} {status} incidents "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
            first += rows
    out["rows_per_s"] = out["rows"] / out["seconds"]
    out["loadavg_end"] = os.getloadavg()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE incident")
    print(f"imported {out['rows']:,} incidents in {out['seconds']:.0f} s "
          f"({out['rows_per_s']:,.0f} rows/s)", flush=True)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, tree: Path = PROJECT_ROOT, **env_extra: str
          ) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn (one worker) serving the app of `tree` (this checkout, or an export of the
    commit to compare with) on a free port."""
    port = free_port()
    env = {**os.environ, "KINGA_DATABASE_URL": url, "KINGA_ENVIRONMENT": "development",
           "PYTHONPATH": str(tree), **env_extra}
    # --factory: `app.main:app` resolves to the `app` package (app/main.py imports app.api).
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
           "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=tree)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/api/v1/health", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def warmups(base: str) -> int:
    """How many warm-ups (store loads) the server has completed."""
    return int(httpx.get(base + "/api/v1/health", timeout=10).json().get("threat_warmups", 0))


def wait_store(base: str, timeout_s: float = 900, after: int = 0) -> float:
    """Seconds until the server's threat event store is loaded and its background warm-up of
    the default layers has finished (the issue times requests after that work), and more than
    `after` warm-ups have completed (after an import: the rebuild it calls for)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        health = httpx.get(base + "/api/v1/health", timeout=10).json()
        if (health.get("threat_event_store") in ("ready", "off")
                and health.get("threat_warmup") in ("done", "off", None)
                and (health.get("threat_warmup") == "off"
                     or health.get("threat_warmups", 1) > after)):
            return time.perf_counter() - t0
        time.sleep(0.25)
    raise RuntimeError("the threat event store did not load")


def rss_mb(proc: subprocess.Popen[bytes]) -> dict[str, float]:
    """Resident and peak resident memory of the server process (MB)."""
    out = {}
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


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
    return {**summary(times), "bytes": size, "cells": cells}


def summary(times: list[float]) -> dict[str, Any]:
    times = sorted(times)
    return {"median_ms": statistics.median(times),
            "p95_ms": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)],
            "runs": len(times)}


def post_incident(client: httpx.Client, lat: float, lon: float) -> str:
    body = {"occurred_start": (AS_OF - timedelta(days=1)).isoformat(), "latitude": lat,
            "longitude": lon, "category": "killing", "fatalities_best": 1,
            "report": {"section": "civil_affairs", "source_reliability": "B",
                       "information_credibility": 2}}
    r = client.post("/api/v1/incidents", json=body)
    r.raise_for_status()
    return str(r.json()["id"])


def layer_count(r: httpx.Response, cell: str) -> int:
    return sum(f["properties"]["incidents"] for f in r.json()["features"] if f["id"] == cell)


def tile_count(r: httpx.Response, cell: str) -> int:
    import mapbox_vector_tile

    feats = mapbox_vector_tile.decode(r.content).get("hotspots", {}).get("features", [])
    return sum(f["properties"].get("incidents", 0) for f in feats
               if f["properties"].get("cell") == cell)


def cold(client: httpx.Client, path: str, params: dict[str, Any], spot: tuple[float, float],
         cell: str, count: Any, cycles: int, posted: list[str]) -> dict[str, Any]:
    """`cycles` times: read (warm), post one incident at `spot`, time the next read, and check
    that it counts the new incident in `cell`."""
    times, seen = [], 0
    for _ in range(cycles):
        before = count(client.get(path, params=params), cell)
        posted.append(post_incident(client, *spot))
        t = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        seen += count(r, cell) == before + 1
    return {**summary(times), "new_incident_counted": f"{seen}/{cycles}",
            "all_counted": seen == cycles}


def uncached(client: httpx.Client, path: str, params: dict[str, Any], runs: int
             ) -> dict[str, Any]:
    """A query nothing was computed for yet (as_of moved back one more minute each run): the
    full aggregation, as after a restart or an import batch too large for the change log."""
    times = []
    for i in range(runs):
        shifted = {**params, "as_of": (AS_OF - timedelta(minutes=i + 1)).isoformat()}
        t = time.perf_counter()
        r = client.get(path, params=shifted)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return summary(times)


def tile_spot(z: int, x: int, y: int) -> tuple[float, float]:
    """A point near the middle of a tile (lat, lon)."""
    n = 1 << z
    lon = (x + 0.5) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
    return lat, lon


def delete_posted(url: str, ids: list[str]) -> None:
    if not ids:
        return
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM report WHERE incident_id = ANY(%s::uuid[])", (ids,))
        conn.execute("DELETE FROM incident WHERE id = ANY(%s::uuid[])", (ids,))
        conn.commit()


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


SERIES_DAYS, SERIES_STEP = 364, 7  # 52 weekly steps over one year


def series_uncached(client: httpx.Client, runs: int) -> dict[str, Any]:
    """The 52-step time slider over one year at res 6, a new range each run (nothing cached)."""
    times, steps, changes = [], 0, 0
    for i in range(runs):
        end = AS_OF - timedelta(minutes=i + 1)
        params = {"res": 6, "start": (end - timedelta(days=SERIES_DAYS)).isoformat(),
                  "end": end.isoformat(), "step_days": SERIES_STEP}
        t = time.perf_counter()
        r = client.get("/api/v1/hotspots/series", params=params)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        doc = r.json()
        steps = len(doc["steps"])
        changes = sum(len(s["changes"]) for s in doc["steps"])
    return {**summary(times), "steps": steps, "changes": changes}


def profile(url: str, runs: int) -> dict[str, Any]:
    """Where an uncached layer's time goes, in process (CPU seconds of this process, so other
    jobs on the machine weigh less), for the SQL aggregation and for the event store."""
    import asyncio

    from bench.profile_layer import stage_profile

    return asyncio.run(stage_profile(url, AS_OF, runs))


def import_during_run(url: str, base: str, client: httpx.Client, n: int) -> dict[str, Any]:
    """Import n more incidents through the `kinga import ucdp` pipeline while the server runs,
    then time until its event store has caught up and the next uncached layer."""
    from app.cli.support import run_import

    before = warmups(base)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ged-more.csv"
        write_ged_csv(path, n, 90_000_000, seed=77)
        t0 = time.perf_counter()
        summary_ = run_import(Settings(database_url=url), "ucdp", path, actor="bench")
        seconds = time.perf_counter() - t0
    catch_up = wait_store(base, after=before)  # the store rebuilt after the import
    t = time.perf_counter()
    client.get("/api/v1/hotspots", params={"res": 6, "window_days": 90,
                                           "as_of": (AS_OF - timedelta(hours=3)).isoformat()}
               ).raise_for_status()
    return {"rows": summary_.inserted, "seconds": seconds,
            "rows_per_s": summary_.inserted / seconds, "store_catch_up_s": catch_up,
            "first_uncached_layer_ms": (time.perf_counter() - t) * 1000}


def delete_imported(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM incident WHERE external_source = 'ucdp' "
                     "AND external_id::bigint >= 90000000")
        conn.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep an already generated database")
    ap.add_argument("--db", default=DB, help="the bench database's name")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cold-runs", type=int, default=6, help="write/read cycles per request")
    ap.add_argument("--sql-runs", type=int, default=3,
                    help="uncached requests on a server without the event store (the baseline)")
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--baseline-tree", type=Path, default=None,
                    help="an export of the commit to compare with (git archive REV | tar -x -C "
                         "DIR), served on the same database in the same run; default: this "
                         "checkout without the event store")
    ap.add_argument("--baseline-timeout", type=int, default=600)
    args = ap.parse_args()
    out: dict[str, Any] = {"incidents": args.n, "as_of": AS_OF.isoformat(),
                           "loadavg_start": os.getloadavg()}
    url = database(args.reuse, args.db)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM incident").fetchone()[0]  # type: ignore[index]
    if have < args.n:
        if have:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE incident CASCADE")
        out["build_import"] = generate(url, args.n)
    print("profile of an uncached layer (in process)...", flush=True)
    out["profile"] = profile(url, 3)
    token = create_token(Settings(database_url=url), Role.analyst, f"bench-{time.time_ns()}")
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    layer = {"res": 6, "as_of": AS_OF.isoformat()}
    five_years = int(YEARS * 365.25)

    # The baseline, same database, same run: the commit to compare with (or this checkout
    # without the event store): uncached, warm and cold layers.
    tree = args.baseline_tree or PROJECT_ROOT
    out["baseline_tree"] = str(tree)
    print(f"baseline server ({tree}, SQL aggregation) ...", flush=True)
    proc, base = serve(url, tree, KINGA_THREAT_EVENT_STORE="false")
    posted: list[str] = []
    spot = (9.9, 15.1)  # lat, lon in the north-west cluster
    spot_cell = h3.latlng_to_cell(*spot, 6)
    try:
        with httpx.Client(base_url=base, timeout=900, headers=headers) as client:
            out["sql_uncached"] = {}
            for name, days, runs in (("res6_90d", 90, args.sql_runs),
                                     ("res6_5y", five_years, max(2, args.sql_runs - 1))):
                params = {**layer, "window_days": days}
                out["sql_uncached"][name] = {
                    **uncached(client, "/api/v1/hotspots", params, runs),
                    "warm": timed(client, "/api/v1/hotspots", params, args.runs),
                    "cold": cold(client, "/api/v1/hotspots", params, spot, spot_cell,
                                 layer_count, max(3, args.cold_runs // 2), posted)}
    finally:
        proc.terminate()
        proc.wait(10)
        delete_posted(url, posted)

    proc, base = serve(url)
    posted = []
    try:
        out["store_load_s"] = wait_store(base)
        print(f"event store loaded in {out['store_load_s']:.1f} s", flush=True)
        with httpx.Client(base_url=base, timeout=900, headers=headers) as client:
            for name, days, cycles in (("res6_90d", 90, args.cold_runs),
                                       ("res6_5y", five_years, max(3, args.cold_runs // 2))):
                params = {**layer, "window_days": days}
                print(f"{name}: uncached, warm, then {cycles} write/read cycles...", flush=True)
                out[name] = {"uncached": uncached(client, "/api/v1/hotspots", params, args.runs),
                             "warm": timed(client, "/api/v1/hotspots", params, args.runs),
                             "cold": cold(client, "/api/v1/hotspots", params, spot, spot_cell,
                                          layer_count, cycles, posted)}
            print("series: 52 weekly steps over a year...", flush=True)
            out["series_52w"] = series_uncached(client, max(3, args.runs // 3))
            tiles = densest_z8_tiles(url)
            tile_params = {"as_of": AS_OF.isoformat(), "window_days": 90}
            warm_tiles, cold_times, counted = [], [], []
            print(f"z8 tiles: {len(tiles)} tiles warm, then cold cycles...", flush=True)
            for z, x, y in tiles:
                path = f"/api/v1/hotspots/tiles/{z}/{x}/{y}.mvt"
                warm_tiles.append({"tile": f"{z}/{x}/{y}",
                                   **timed(client, path, tile_params, args.runs)})
                lat, lon = tile_spot(z, x, y)
                c = cold(client, path, tile_params, (lat, lon), h3.latlng_to_cell(lat, lon, 6),
                         tile_count, max(2, args.cold_runs // len(tiles) + 1), posted)
                cold_times.append(c)
                counted.append(c["all_counted"])
            out["z8_tiles"] = {
                "warm": {"median_ms": statistics.median(t["median_ms"] for t in warm_tiles),
                         "p95_ms": max(t["p95_ms"] for t in warm_tiles),
                         "runs": sum(t["runs"] for t in warm_tiles), "tiles": warm_tiles},
                "cold": {"median_ms": statistics.median(c["median_ms"] for c in cold_times),
                         "p95_ms": max(c["p95_ms"] for c in cold_times),
                         "runs": sum(c["runs"] for c in cold_times),
                         "all_counted": all(counted), "per_tile": cold_times}}
            out["rss_after_requests_mb"] = rss_mb(proc)
            if args.import_rows:
                print(f"import of {args.import_rows:,} more incidents while serving...",
                      flush=True)
                out["import_during_run"] = import_during_run(url, base, client, args.import_rows)
            out["rss_mb"] = rss_mb(proc)
        print("naive baseline running (may take minutes)...", flush=True)
        out["naive_res6_90d"] = naive_baseline(url, args.baseline_timeout)
    finally:
        proc.terminate()
        proc.wait(10)
        delete_posted(url, posted)
        if args.import_rows:
            delete_imported(url)
    out["loadavg_end"] = os.getloadavg()
    naive = out["naive_res6_90d"]
    out["speedup_uncached_vs_naive"] = naive["ms"] / out["res6_90d"]["uncached"]["median_ms"]
    results = PROJECT_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "bench_hotspots.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    report(out)
    print("wrote", path)


def report(out: dict[str, Any]) -> None:
    naive, sql = out["naive_res6_90d"], out["sql_uncached"]
    load = ", ".join(f"{x:.1f}" for x in out["loadavg_start"])
    load_end = ", ".join(f"{x:.1f}" for x in out["loadavg_end"])
    print(f"\n{out['incidents']:,} incidents, as of {out['as_of']}; load average {load} at the "
          f"start, {load_end} at the end ({os.cpu_count()} cores); requests accept gzip")
    print("\nprofile of one uncached layer, wall ms per stage in process (median of 3):")
    for window, stages in out["profile"].items():
        if window == "store_load_in_process_s":
            continue
        for path_, times in stages.items():
            parts = "  ".join(f"{k} {v:.0f}" for k, v in times.items())
            print(f"  {window:<8}{path_:<7}{parts}")
    print(f"\n{'request':<26}{'regime':<10}{'median ms':>10}{'p95 ms':>9}{'runs':>6}  target")
    rows = [("res 6, 90 days", "res6_90d", "uncached", "<= 200 p50, <= 300 p95"),
            ("", "res6_90d", "warm", "no slower"), ("", "res6_90d", "cold", "no slower"),
            ("res 6, 5 years", "res6_5y", "uncached", "<= 1000"),
            ("", "res6_5y", "warm", "no slower"), ("", "res6_5y", "cold", "no slower"),
            ("z8 tile (5 densest)", "z8_tiles", "warm", ""), ("", "z8_tiles", "cold", "")]
    for label, key, regime, target in rows:
        m = out[key][regime]
        print(f"{label:<26}{regime:<10}{m['median_ms']:>10.1f}{m['p95_ms']:>9.1f}"
              f"{m['runs']:>6}  {target}")
    print(f"baseline in the same run: {out['baseline_tree']} (no event store)")
    for key, label in (("res6_90d", "res 6, 90 days"), ("res6_5y", "res 6, 5 years")):
        m = sql[key]
        for regime, r in (("uncached", m), ("warm", m["warm"]), ("cold", m["cold"])):
            print(f"{label:<26}{regime:<10}{r['median_ms']:>10.1f}{r['p95_ms']:>9.1f}"
                  f"{r['runs']:>6}  baseline")
    s = out["series_52w"]
    print(f"{'series, 52 weekly steps':<26}{'uncached':<10}{s['median_ms']:>10.1f}"
          f"{s['p95_ms']:>9.1f}{s['runs']:>6}  <= 3000 ({s['changes']} level changes)")
    label = "timed out after" if naive["timed_out"] else "took"
    print(f"naive ST_HexagonGrid + ST_Intersects (res 6, 90 days, counts only) {label} "
          f"{naive['ms']:.0f} ms -> uncached layer {out['speedup_uncached_vs_naive']:.1f}x "
          f"faster (target >= 10x); SQL-only uncached "
          f"{naive['ms'] / sql['res6_90d']['median_ms']:.1f}x")
    print(f"event store loaded in {out['store_load_s']:.1f} s after start (in the background)")
    if "import_during_run" in out:
        i = out["import_during_run"]
        print(f"import while serving: {i['rows']:,} rows in {i['seconds']:.1f} s "
              f"({i['rows_per_s']:,.0f} rows/s); store caught up {i['store_catch_up_s']:.1f} s "
              f"later; next uncached 90-day layer {i['first_uncached_layer_ms']:.0f} ms")
    if "build_import" in out:
        b = out["build_import"]
        print(f"database build: {b['rows']:,} rows imported at {b['rows_per_s']:,.0f} rows/s")
    print(f"server RSS after the requests {out['rss_after_requests_mb']}, at the end "
          f"{out['rss_mb']} (MB)")


if __name__ == "__main__":
    main()
