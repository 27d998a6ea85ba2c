"""Forecast backtests on the two real data sets, timed: `python -m bench.bench_forecast [car|ssd]`.

For each data set it builds a dedicated database (fixed name, recreated each run), loads the
events and the mission's bases, runs `kinga backtest` exactly as a user would (quarterly origins,
res 6, the country outline as the area) and records the JSON, the wall time, the CPU time of the
backtest process and the load average before and after (the machine is shared).

* car: the bundled UCDP GED CAR events and Geo-PKO MINUSCA bases; origins 2014-01 … 2022-10.
* car_acled: the shared ACLED CAR export 2013-2015 (another source for the same country;
  violent event types), MINUSCA bases; origins 2014-01 … 2015-10 (one year of history at the
  first origin).
* ssd: the shared ACLED South Sudan export (`../shared/data`, not bundled: ACLED's terms),
  violent event types only (battles, violence against civilians, explosions/remote violence),
  and the Geo-PKO v1 UNMISS deployments converted here to the v2 columns the bases loader
  reads; origins 2012-07 … 2015-10.

Run it under `flock /tmp/kinga-bench.lock`.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from app.settings import PROJECT_ROOT, Settings

RESULTS = PROJECT_ROOT / "bench" / "results"
SHARED = PROJECT_ROOT.parent.parent / "shared" / "data"
KINGA = str(Path(sys.executable).parent / "kinga")
VIOLENT = {"Battles", "Violence against civilians", "Explosions/Remote violence"}

# Each data set is a mission record (docs/missions.md) whose area is the country outline.
DATASETS: dict[str, dict[str, Any]] = {
    "car": {"mission": "car", "countries": "CAF", "timezone": "Africa/Bangui",
            "start": "2014-01-01", "end": "2022-12-31"},
    "ssd": {"mission": "unmiss", "countries": "SSD", "timezone": "Africa/Juba",
            "start": "2012-07-01", "end": "2015-12-31"},
    "car_acled": {"mission": "car", "countries": "CAF", "timezone": "Africa/Bangui",
                  "start": "2014-01-01", "end": "2015-12-31"},
}


def _server_url() -> str:
    url = os.environ.get("KINGA_DATABASE_URL")
    if not url:
        sys.exit("set KINGA_DATABASE_URL (the server's URL; the bench makes its own databases)")
    return url.rsplit("/", 1)[0]


def fresh_db(name: str) -> str:
    base = _server_url()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    subprocess.run([KINGA, "db", "migrate"], check=True,
                   env={**os.environ, "KINGA_DATABASE_URL": url}, cwd=PROJECT_ROOT,
                   stdout=subprocess.DEVNULL)
    return url


def unmiss_v2(src: Path, dst: Path) -> None:
    """Geo-PKO v1 monthly UNMISS rows -> the v2 yearly columns (one row per site and year, the
    year's peak strength; HQ, police and observer flags carried over)."""
    def num(v: str) -> int:
        try:
            return int(float(v))
        except ValueError:
            return 0

    by: dict[tuple[str, int], dict[str, Any]] = {}
    with src.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (r["location"].strip(), num(r["year"]))
            row = by.setdefault(key, {
                "mission": r["Mission"], "year": key[1], "location": key[0],
                "latitude": r["latitude"], "longitude": r["longitude"], "troops": 0,
                "infantry": 0, "reserve": 0, "hq": 0, "unpol": 0, "medical": 0, "aviation": 0,
                "unmo": 0})
            troops = num(r["No.troops"])
            row["troops"] = max(row["troops"], troops)
            row["infantry"] = max(row["infantry"], troops)
            row["reserve"] = max(row["reserve"], num(r["RES"]))
            row["hq"] = max(row["hq"], num(r["HQ"]))
            row["unpol"] = max(row["unpol"], num(r["UNPOL..dummy."]))
            row["unmo"] = max(row["unmo"], num(r["UNMO..dummy."]))
    with dst.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(next(iter(by.values()))))
        w.writeheader()
        w.writerows(by.values())


def load(ds: str, url: str) -> dict[str, Any]:
    from app.cli.support import connect, run_import, stored_mission
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    spec = DATASETS[ds]
    subprocess.run([KINGA, "mission", "create", spec["mission"], "--name", spec["mission"].upper(),
                    "--countries", spec["countries"], "--timezone", spec["timezone"]],
                   check=True, env={**os.environ, "KINGA_DATABASE_URL": url}, cwd=PROJECT_ROOT,
                   stdout=subprocess.DEVNULL)
    settings = Settings(database_url=url)
    mission = stored_mission(settings, spec["mission"])
    if ds == "car":
        summary = run_import(settings, "ucdp", settings.geodata_dir / "ucdp-ged-v23.1-caf.geojson",
                             mission=mission)
        bases_csv = settings.geodata_dir / "geopko-minusca-deployments.csv"
        dropped = 0
    else:
        acled = SHARED / ("acled-south-sudan-2011-2015.csv" if ds == "ssd"
                          else "acled-car-2013-2015.csv")
        summary = run_import(settings, "acled", acled, mission=mission)
        with acled.open(newline="", encoding="utf-8") as f:
            other = [r["event_id_cnty"] for r in csv.DictReader(f) if r["event_type"] not in VIOLENT]
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM report WHERE incident_id IN (SELECT id FROM incident WHERE "
                         "external_source = 'acled' AND external_id = ANY(%s))", (other,))
            dropped = conn.execute("DELETE FROM incident WHERE external_source = 'acled' AND "
                                   "external_id = ANY(%s)", (other,)).rowcount
        if ds == "ssd":
            bases_csv = Path(tempfile.mkstemp(suffix=".csv")[1])
            unmiss_v2(SHARED / "geopko-v1-unmiss-2011-2018.csv", bases_csv)
        else:
            bases_csv = settings.geodata_dir / "geopko-minusca-deployments.csv"
    rows = geopko_bases(bases_csv, settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
    with connect(settings) as conn:
        inserted = import_rows(conn, rows, actor="bench")
    return {"imported": summary.render(), "non_violent_dropped": dropped, "bases": inserted}


def run(ds: str) -> dict[str, Any]:
    spec = DATASETS[ds]
    url = fresh_db(f"kinga_bench_forecast_{ds}")
    loaded = load(ds, url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"forecast_{ds}.json"
    load_before = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [KINGA, "backtest", "--res", "6", "--horizon", "quarter",
         "--start", spec["start"], "--end", spec["end"], "--mission", spec["mission"],
         "--json", str(out)],
        env={**os.environ, "KINGA_DATABASE_URL": url}, cwd=PROJECT_ROOT, check=True,
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.read_text())
    timing = {
        "wall_s": round(wall, 1),
        "cpu_s": round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "origins": result["origins"] + result["warmup_origins"],
    }
    (RESULTS / f"forecast_{ds}_timing.json").write_text(json.dumps(
        {"loaded": loaded, **timing}, indent=2))
    print(proc.stdout)
    print(f"{ds}: {json.dumps({'loaded': loaded, **timing})}")
    return result


if __name__ == "__main__":
    for name in sys.argv[1:] or list(DATASETS):
        run(name)
