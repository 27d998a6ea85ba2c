"""A week of data for briefs and partner products, entered through the API as staff would: two
areas of incidents (one busy, one under the partner suppression threshold), reports carrying
analyst-only values, a warning with a response, an information requirement in gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import h3

AS_OF = "2024-06-30"
WEEK_END = datetime(2024, 6, 30, 12, tzinfo=UTC)
BUSY = (4.39, 18.56)
SMALL = (6.5, 21.0)
SECRETS = {
    "narrative": "NARRATIVE-SECRET-7A1",
    "report_narrative": "REPORT-NARRATIVE-SECRET-3B",
    "perpetrator": "Commander Zebulon Secret",
    "reporter": "REPORTER-REF-SECRET-42",
    "source": "SOURCE-NAME-SECRET-99",
}
SMALL_CELL = h3.latlng_to_cell(*SMALL, 6)


def _body(lat: float, lon: float, when: datetime, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "occurred_start": when.isoformat(), "latitude": lat, "longitude": lon,
        "category": "killing", "fatalities_best": 1, "perpetrators": [SECRETS["perpetrator"]],
        "narrative": SECRETS["narrative"], "admin1": "Bangui",
        "report": {"section": "human_rights", "source_reliability": "B",
                   "information_credibility": 2, "source_name": SECRETS["source"],
                   "reporter_ref": SECRETS["reporter"], "narrative": SECRETS["report_narrative"]},
    }
    body.update(over)
    return body


async def _approved(client: Any, auth: Any, body: dict[str, Any]) -> str:
    r = await client.post("/api/v1/incidents", json=body, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert (await client.post(f"/api/v1/incidents/{iid}/validate",
                              headers=auth("analyst"))).status_code == 200
    assert (await client.post(f"/api/v1/incidents/{iid}/approve",
                              headers=auth("admin"))).status_code == 200
    return str(iid)


async def seed_week(client: Any, auth: Any, conn: Any) -> dict[str, Any]:
    # Distinct events by design, though close in place and time with one perpetrator and one
    # narrative (triangulation would take them for accounts of one event): thresholds at 1 keep
    # each its own incident.
    r = await client.put("/api/v1/triangulation/thresholds", json={"auto_link": 1.0, "review": 1.0},
                         headers=auth("admin"))
    assert r.status_code == 200, r.text
    ids = []
    for i in range(6):  # the brief's week: six killings in the busy area
        ids.append(await _approved(client, auth, _body(
            BUSY[0] + i * 0.002, BUSY[1], WEEK_END - timedelta(days=i, hours=1))))
    ids.append(await _approved(client, auth, _body(  # one CRSV survivor: under the threshold
        BUSY[0], BUSY[1] + 0.003, WEEK_END - timedelta(days=2), category="sexual_violence",
        fatalities_best=0, crsv_survivors=1)))
    for i in range(3):  # the previous week
        ids.append(await _approved(client, auth, _body(
            BUSY[0], BUSY[1] + 0.001 * i, WEEK_END - timedelta(days=8 + i))))
    for i in range(2):  # a far area with two incidents: under the partner threshold
        ids.append(await _approved(client, auth, _body(
            SMALL[0], SMALL[1] + 0.001 * i, WEEK_END - timedelta(days=1 + i), admin1="Far East")))
    created = WEEK_END - timedelta(days=3)
    wid = conn.execute(
        "INSERT INTO warning (rule, dedupe_key, status, area, category, severity, urgency, "
        "certainty, headline, description, expires_at, created_at) VALUES ('alert_cluster', "
        "'alert_cluster:test', 'responded', ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
        "0.05), 'killing', 'Severe', 'Immediate', 'Likely', '3 alerts near the market', "
        "'three alerts', %s, %s) RETURNING id",
        (BUSY[1], BUSY[0], created + timedelta(hours=72), created)).fetchone()[0]
    conn.execute(
        "INSERT INTO warning_response (warning_id, type, acknowledged_at, dispatched_at, "
        "on_scene_at, outcome, outcome_note, delay_reasons, created_by) VALUES (%s, 'patrol', "
        "%s, %s, %s, 'deterred', 'Patrol deployed; market calm', ARRAY['road_or_access_denied'], "
        "'t')",
        (wid, created + timedelta(minutes=12), created + timedelta(minutes=40),
         created + timedelta(minutes=95)))
    unanswered = conn.execute(
        "INSERT INTO warning (rule, dedupe_key, status, area, category, severity, urgency, "
        "certainty, headline, description, expires_at, created_at) VALUES ('sexual_violence', "
        "'sv:test', 'active', ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.05), "
        "'sexual_violence', 'Severe', 'Immediate', 'Possible', 'Sexual violence alert near the "
        "river', 'one alert', %s, %s) RETURNING id",
        (BUSY[1], BUSY[0], created + timedelta(hours=72), created + timedelta(hours=5))
    ).fetchone()[0]
    conn.commit()
    far = {"type": "Polygon", "coordinates": [[[20.5, 6.0], [21.5, 6.0], [21.5, 7.0], [20.5, 7.0],
                                                [20.5, 6.0]]]}
    r = await client.post("/api/v1/information-requirements", json={
        "code": "CCIR-1", "kind": "ccir", "question": "Is sexual violence reported in the east?",
        "priority": 1, "area": far, "categories": ["sexual_violence"], "frequency_days": 7,
        "owner_section": "human_rights"}, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    return {"incidents": ids, "warning": str(wid), "unanswered": str(unanswered)}
