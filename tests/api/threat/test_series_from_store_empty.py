"""GET /hotspots/series answered from the event store when no event matches the filter: no
cell at any step (schemathesis found a 500: NumPy cannot reshape zero sums into zero cells)."""

from __future__ import annotations

from app.services.threat import event_store
from tests.api.threat.test_hotspots_api import add


async def test_a_series_no_event_matches_answers_empty(store_client, auth, conn):
    client, _ = store_client
    add(conn, category="killing")
    assert await event_store.reload()
    params = {"res": 6, "start": "2024-01-01", "end": "2024-06-30", "step_days": 7}
    r = await client.get("/api/v1/hotspots/series", headers=auth("analyst"),
                         params={**params, "category": "abduction"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["steps"] and all(s["changes"] == [] for s in body["steps"]), body
