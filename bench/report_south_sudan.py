"""A second mission end to end, as figures (issue 13): UNMISS from the shared ACLED South Sudan
export (2011-2015) and the Geo-PKO v1 monthly deployment maps, beside the bundled CAR data.

Prints what an analyst of that mission would see: the imports (rows, rejects, outside the
outline, idempotence), the Geo-PKO sites and periods, the 2014 hotspots with the places the data
itself names in each top cell, footprint coverage with the bases of 2014-12-31 and 2016-12-31,
and SMS alerts located by the mission's gazetteer with their match scores.

    python -m bench.report_south_sudan [--json PATH]

Uses its own database (kinga_report_ssd) on the configured server; the shared data folder
must be present (tests/support/shared_data.py finds it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import time
from pathlib import Path
from typing import Any

import h3
import httpx
import orjson

from app.cli.support import create_token, import_bases, run_import, seed_bundled, stored_mission
from app.domain import Role
from app.main import create_app
from app.settings import Settings
from tests.support.alerts import make_integration, signed, triage_now
from tests.support.db import fresh_database
from tests.support.shared_data import shared_file

ACLED = "acled-south-sudan-2011-2015.csv"
GEOPKO = "geopko-v1-unmiss-2011-2018.csv"
UNMISS = {"code": "unmiss", "name": "UNMISS", "countries": ["SSD"], "timezone": "Africa/Juba",
          "languages": ["en", "apd", "ar"], "cap_sender": "kinga@unmiss.example",
          "seasons": [{"name": "rainy", "months": [5, 6, 7, 8, 9, 10],
                       "speed_factor": {"road": 0.5, "foot": 0.8}}]}


def _places_by_cell(res: int, year: str) -> dict[str, collections.Counter[str]]:
    """The ACLED `location` names of each res-`res` cell's events of `year` (the data's own)."""
    out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    with shared_file(ACLED).open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["event_date"].endswith(year):
                cell = h3.latlng_to_cell(float(r["latitude"]), float(r["longitude"]), res)
                out[cell][r["location"]] += 1
    return out


async def report() -> dict[str, Any]:
    url = fresh_database("kinga_report_ssd")
    settings = Settings(database_url=url, environment="test", brief_schedule=False)
    tokens = {r.value: create_token(settings, r, f"report-{r.value}") for r in Role}

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    out: dict[str, Any] = {}
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kinga.report",
            timeout=600) as client:
        r = await client.post("/api/v1/missions", json=UNMISS, headers=auth("admin"))
        r.raise_for_status()
        mission = stored_mission(settings, "unmiss")
        t0 = time.perf_counter()
        first = run_import(settings, "acled", shared_file(ACLED), mission=mission)
        again = run_import(settings, "acled", shared_file(ACLED), mission=mission)
        read, inserted, places = import_bases(settings, shared_file(GEOPKO), mission=mission,
                                              actor="report")
        read2, inserted2, _ = import_bases(settings, shared_file(GEOPKO), mission=mission,
                                           actor="report")
        list(seed_bundled(settings))  # the CAR demonstration data beside it
        out["imports"] = {
            "acled": {"rows_read": first.rows_read, "inserted": first.inserted,
                      "rejected": len(first.rejects), "outside_area": first.outside_area,
                      "gazetteer_places": first.places,
                      "reimport_inserted": again.inserted, "reimport_duplicates": again.duplicates},
            "geopko": {"site_periods_read": read, "inserted": inserted, "places": places,
                       "reimport_inserted": inserted2, "reimport_read": read2},
            "seconds": round(time.perf_counter() - t0, 1)}

        # 2014 hotspots, clipped to the mission, yearly decay
        r = await client.get("/api/v1/hotspots", params={
            "mission": "unmiss", "res": 5, "start": "2014-01-01", "end": "2014-12-31",
            "pattern": "false", "decay_scale_days": 365}, headers=auth("analyst"))
        r.raise_for_status()
        names = _places_by_cell(5, "2014")
        top = []
        for f in r.json()["features"][:8]:
            p = f["properties"]
            top.append({"cell": p["cell"], "score": p["threat_score"], "level": p["threat_level"],
                        "incidents": p["incidents"],
                        "places": [n for n, _ in names.get(p["cell"], collections.Counter())
                                   .most_common(3)]})
        out["hotspots_2014_top"] = top

        # footprint coverage with each date's bases
        foot = {}
        for day in ("2014-12-31", "2016-12-31"):
            r = await client.post("/api/v1/footprint-reviews", json={
                "mission": "unmiss", "as_of": day, "window_days": 365},
                headers=auth("analyst"))
            r.raise_for_status()
            body = r.json()
            s = body["summary"]
            foot[day] = {"bases": len(body["bases"]),
                         "threat_covered_share": s.get("threat_covered_share"),
                         "cells_with_threat": s.get("cells_with_threat", s.get("cells")),
                         "top_candidate": body["candidates"][0]["name"] if body["candidates"]
                         else None}
        r = await client.post("/api/v1/footprint-reviews/compare", json={
            "mission": "unmiss", "as_of": "2014-12-31", "compare_to": "2016-12-31",
            "window_days": 365}, headers=auth("analyst"))
        r.raise_for_status()
        cmp = r.json()
        foot["compare"] = {k: cmp[k] for k in ("a", "b") if k in cmp}
        # The data ends in 2015: the bases of 2016-12-31 against the threat of 2014 (one picture)
        r = await client.post("/api/v1/footprint-reviews/compare", json={
            "mission": "unmiss", "as_of": "2014-12-31", "compare_to": "2016-12-31",
            "threat_as_of": "2014-12-31", "window_days": 365}, headers=auth("analyst"))
        r.raise_for_status()
        cmp = r.json()
        foot["compare_on_2014_threat"] = {k: cmp[k] for k in ("a", "b") if k in cmp}
        out["footprint"] = foot

        # SMS and JSON alerts located by the gazetteer
        integ = await make_integration(client, auth, name="can-malakal", mission="unmiss")
        located = []
        for kind, body_bytes, ctype in (
                ("sms", b"sender=%2B211900000001&text=Armed+men+attacked+Malakal+PoC+last+night",
                 "application/x-www-form-urlencoded"),
                ("json misspelt", orjson.dumps({"text": "shooting reported", "place": "Bentui"}),
                 "application/json"),
                ("sms juba arabic", b"sender=%2B211900000002&text=nas+katalu+tolata+fi+Bor",
                 "application/x-www-form-urlencoded")):
            r = await client.post("/api/v1/alerts", content=body_bytes,
                                  headers=signed(integ, body_bytes, ctype))
            r.raise_for_status()
            a = (await client.get(f"/api/v1/alerts/{r.json()['id']}",
                                  headers=auth("analyst"))).json()
            located.append({"alert": kind, "latitude": a.get("latitude"),
                            "longitude": a.get("longitude"), "category": a.get("category"),
                            "place_match": a.get("place_match")})
        await triage_now(client)
        out["alerts"] = located
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    out = asyncio.run(report())
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.json is not None:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
