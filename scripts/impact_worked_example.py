"""A worked example of GET /api/v1/impact on the bundled data (docs/response.md).

    KINGA_DATABASE_URL=... .venv/bin/python scripts/impact_worked_example.py

On a database loaded with `kinga seed` (the real UCDP GED events in the CAR and the Geo-PKO
bases), records a response, through the API, at six places and dates where the real events
cluster in 2020 (the responses are illustrative: the bundled data holds no real responses; each
warning is dated back to its moment by SQL, as a record entered afterwards would be), closes each
with an outcome, then asks for their impact and prints one response's before/after and comparison
cells and the pooled difference in differences. Run it on a scratch database: it adds warnings.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from app.cli.support import create_token
from app.db import libpq_url
from app.domain import Role
from app.main import create_app
from app.settings import Settings

# (latitude, longitude, the day after the month's last event there): places of real clusters.
PLACES = [(8.41, 20.65, "2020-03-28"), (6.54, 21.99, "2020-01-26"), (10.14, 22.79, "2020-02-17"),
          (5.88, 21.07, "2020-02-22"), (5.40, 26.49, "2020-05-21"), (5.77, 20.67, "2020-12-23")]


async def main() -> None:
    settings = Settings()
    url = libpq_url(settings.database_url.get_secret_value())
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        token = create_token(settings, Role.operations, "impact example")
        h = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://kinga.local") as client:
            wids = []
            for lat, lon, day in PLACES:
                t0 = datetime.fromisoformat(day).replace(hour=6, tzinfo=UTC)
                r = await client.post("/api/v1/warnings", headers=h, json={
                    "latitude": lat, "longitude": lon, "headline": "Armed men reported near the village",
                    "severity": "Severe", "urgency": "Immediate", "certainty": "Likely"})
                r.raise_for_status()
                wid = r.json()["id"]
                with psycopg.connect(url) as c:
                    c.execute("UPDATE warning SET created_at = %s, acknowledge_by = %s, "
                              "on_scene_by = NULL WHERE id = %s",
                              (t0, t0 + timedelta(minutes=15), wid))
                r = await client.post(f"/api/v1/warnings/{wid}/responses", headers=h, json={
                    "type": "patrol", "unit": "Coy", "mode": "road", "people": 30,
                    "acknowledged_at": (t0 + timedelta(minutes=10)).isoformat(),
                    "dispatched_at": (t0 + timedelta(minutes=30)).isoformat()})
                r.raise_for_status()
                rid = r.json()["id"]
                for step in ({"on_scene_at": (t0 + timedelta(hours=3)).isoformat()},
                             {"completed_at": (t0 + timedelta(hours=8)).isoformat(),
                              "outcome": "deterred"}):
                    (await client.patch(f"/api/v1/warnings/{wid}/responses/{rid}", headers=h,
                                        json=step)).raise_for_status()
                (await client.post(f"/api/v1/warnings/{wid}/status", headers=h, json={
                    "status": "closed", "outcome": "deterred"})).raise_for_status()
                wids.append(wid)
            r = await client.get("/api/v1/impact", headers=h,
                                 params={"start": "2020-01-01", "end": "2020-12-31"})
            r.raise_for_status()
            out = r.json()
    ev = next(e for e in out["events"] if e.get("warning_id") == wids[0])
    print(json.dumps({"note": out["note"], "windows": out["windows"], "res": out["res"],
                      "one_response": ev, "overall": out["overall"],
                      "by_field_office": out["by"]["field_office"]}, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
