"""No single stored row can make a list or a worker fail.

The edge refuses bad values, but rows also arrive around it (an older version, a hand repair, a
restore, a migration). Here the worst rows PostgreSQL accepts are written straight into the
database: infinite and out-of-Python-range dates, NaN and empty points, counts at the int4 limit,
invalid H3 cells and geometries, control characters, odd JSON. Then every list and read answers
(no 5xx), and the workers finish: triage quarantines the alerts it cannot process (visible to
admins), the warning scan and the webhook dispatcher complete.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.services.warnings import webhooks
from tests.conftest import incident_body
from tests.support.alerts import make_integration, triage_now

BAD_TIMES = ["infinity", "-infinity", "4713-01-01 00:00:00+00 BC", "0001-01-01T00:00:00+14:00",
             "10000-01-01 00:00:00+00", "294276-12-31 00:00:00+00"]
INT4 = 2**31 - 1

INCIDENT = """
INSERT INTO incident (occurred_start, occurred_end, time_precision, location, location_precision,
    location_radius_m, h3_cell, place_name, category, perpetrators, fatalities_best,
    fatalities_high, injured, crsv_survivors, children_affected, displaced, narrative, status,
    quality_grade, independent_sources, created_by, updated_by)
VALUES (%(start)s, %(end)s, %(tp)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(lp)s,
    %(radius)s, %(cell)s, %(place)s, %(category)s, %(perps)s, %(n)s, %(high)s, %(n)s, %(n)s,
    %(n)s, %(n)s, %(narrative)s, %(status)s, 'c', %(sources)s, 'worst', 'worst')
RETURNING id"""


def _incident(**over: Any) -> dict[str, Any]:
    row = {"start": "2024-03-01T00:00:00Z", "end": None, "tp": 1, "lon": 18.56, "lat": 4.39,
           "lp": 1, "radius": 0, "cell": 617700169958293503, "place": "Market",
           "category": "killing", "perps": ["Armed men"], "n": 1, "high": None,
           "narrative": "x", "status": "approved", "sources": 1}
    row.update(over)
    return row


def insert_worst(conn: Any, integration_id: str) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {"incident": [], "alert": [], "base": [], "warning": []}
    incidents = [_incident(start=t) for t in BAD_TIMES]
    incidents += [_incident(end=t) for t in ("infinity", "294276-12-31 00:00:00+00")]
    incidents += [_incident(start="2024-03-01T00:00:00Z", n=INT4, high=INT4) for _ in range(3)]
    incidents += [
        _incident(lon=float("nan"), lat=float("nan"), cell=0),
        _incident(lon=float("inf"), lat=float("-inf"), cell=-1),
        _incident(lon=500.0, lat=-100.0, cell=2**63 - 1),
        _incident(cell=-(2**63)),
        _incident(tp=32767, lp=-5, radius=INT4, sources=-1),
        _incident(perps=["", "\x01\x1b" + "p" * 10_000, "Armed men"] * 5,
                  narrative="\x07\x1b[31m" + "n" * 200_000, place="\x0b" * 500),
        _incident(status="entered", category="sexual_violence", n=0),
    ]
    for row in incidents:
        ids["incident"].append(str(conn.execute(INCIDENT, row).fetchone()[0]))
    first = ids["incident"][0]
    for t in ("infinity", "-infinity", "4713-01-01 BC"):
        conn.execute("INSERT INTO report (incident_id, section, source_reliability, "
                     "information_credibility, source_count, received_at, reporter_ref, "
                     "created_by) VALUES (%s, 'police', 'F', 6, 32767, %s, %s, 'worst')",
                     (first, t, "\x1b" * 300))

    alert_sql = """
INSERT INTO alert (integration_id, format, status, category, text, language, observed_at,
    received_at, location, location_radius_m, location_source, h3_cell, place_name,
    needs_location, reporter_contact, area, triage)
VALUES (%(integ)s, 'json', 'new', %(category)s, %(text)s, %(lang)s, %(observed)s,
    %(received)s, CASE WHEN %(lon)s::float8 IS NULL THEN NULL
                       ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
    %(radius)s, 'given', %(cell)s, %(place)s, %(needs)s, %(contact)s, %(area)s::jsonb, NULL)
RETURNING id"""

    def alert(**over: Any) -> None:
        row = {"integ": integration_id, "category": "threat_intimidation", "text": "help",
               "lang": "fr", "observed": "2024-03-01T00:00:00Z", "received": "2024-03-01T00:00:00Z",
               "lon": 18.56, "lat": 4.39, "radius": 0, "cell": 617700169958293503,
               "place": "Market", "needs": False, "contact": "+236", "area": None}
        row.update(over)
        ids["alert"].append(str(conn.execute(alert_sql, row).fetchone()[0]))

    for t in BAD_TIMES:
        alert(observed=t)
    alert(received="infinity")
    alert(received="-infinity", observed="-infinity")
    alert(lon=float("nan"), lat=float("nan"), cell=0)
    alert(lon=float("inf"), lat=1.0, cell=-1)
    alert(lon=None, lat=None, needs=False, cell=None)
    alert(category="no-such-category", text="\x00".replace("\x00", "") + "\x01\x02" * 2000)
    alert(area='"a string"', radius=INT4)
    alert(area="[1, 2, 3]", lang="x" * 35)
    alert(area='{"type": "Polygon"}', place="\x1b" * 1000, contact="\x07")

    base_sql = """
INSERT INTO mission_base (name, kind, location, opened_on, closed_on, troops, road_patrols_per_day,
    foot_patrols_per_day, air_patrols_per_day, qrf_standby, road_reach_km, foot_reach_km,
    air_reach_km, notes, created_by, updated_by)
VALUES (%(name)s, 'company_operating_base', ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
    %(opened)s, %(closed)s, %(n)s, %(n)s, %(n)s, %(n)s, %(n)s, %(reach)s, %(reach)s, %(reach)s,
    %(notes)s, 'worst', 'worst')
RETURNING id"""

    def base(**over: Any) -> None:
        row = {"name": "Worst base", "lon": 18.6, "lat": 4.4, "opened": "2020-01-01",
               "closed": None, "n": 1, "reach": None, "notes": None}
        row.update(over)
        ids["base"].append(str(conn.execute(base_sql, row).fetchone()[0]))

    base(opened="-infinity")
    base(opened="4713-01-01 BC", closed="infinity")
    base(closed="5874897-12-31")
    base(lon=float("nan"), lat=float("nan"))
    base(lon=500.0, lat=95.0)
    base(reach=float("nan"))
    base(reach=float("inf"))
    base(n=INT4, reach=1e300)
    base(name="\x1b[2J" + "b" * 10_000, notes="\x00".replace("\x00", "") + "\x7f")

    warning_sql = """
INSERT INTO warning (rule, dedupe_key, status, area, h3_cell, category, severity, urgency,
    certainty, headline, description, alert_ids, created_at, updated_at, expires_at)
VALUES ('alert_burst', %(key)s, %(status)s, ST_GeomFromText(%(wkt)s, 4326), %(cell)s,
    %(category)s, 'Severe', 'Immediate', 'Likely', %(headline)s, 'd', %(alerts)s::uuid[],
    %(created)s, %(updated)s, %(expires)s)
RETURNING id"""

    def warning(**over: Any) -> None:
        row = {"key": f"worst-{len(ids['warning'])}", "status": "active",
               "wkt": "POLYGON((18 4, 19 4, 19 5, 18 5, 18 4))", "cell": 617700169958293503,
               "category": "killing", "headline": "Threat", "alerts": [],
               "created": "2024-03-01T00:00:00Z", "updated": "2024-03-01T00:00:00Z",
               "expires": "2099-01-01T00:00:00Z"}
        row.update(over)
        ids["warning"].append(str(conn.execute(warning_sql, row).fetchone()[0]))

    warning(wkt="POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))")  # a bow tie: not a valid area
    warning(wkt="POLYGON EMPTY")
    warning(expires="infinity", created="-infinity", updated="infinity")
    warning(expires="-infinity", status="acknowledged")
    warning(cell=-1, category="no-such-category", headline="\x1b" + "h" * 20_000)
    warning(alerts=["00000000-0000-4000-8000-000000000000"] * 50)

    conn.execute("INSERT INTO webhook_subscription (name, url, secret_salt, created_by) VALUES "
                 "('broken', 'http://[::1', '\\x00'::bytea, 'worst'), "
                 "('refused', 'http://127.0.0.1:9/hook', '\\x01'::bytea, 'worst')")
    for sub in conn.execute("SELECT id FROM webhook_subscription").fetchall():
        conn.execute("INSERT INTO webhook_delivery (subscription_id, warning_id, event, payload, "
                     "attempts, next_attempt_at) VALUES (%s, %s, 'warning.raised', '\"x\"', "
                     "'{\"not\": \"a list\"}', '-infinity')", (sub[0], ids["warning"][0]))
    conn.execute("UPDATE integration SET area = ST_GeomFromText("
                 "'POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 4326) WHERE id = %s", (integration_id,))
    conn.execute("INSERT INTO import_run (source, filename, sha256, actor, rejects, status) "
                 "VALUES ('acled', %s, 'x', 'worst', '\"not a list\"', 'running')", ("\x1b" * 10,))
    conn.commit()
    return ids


def _reads(ids: dict[str, list[str]]) -> list[str]:
    urls = [
        "/api/v1/health", "/api/v1/alerts", "/api/v1/alerts?status=new", "/api/v1/alerts?limit=1",
        "/api/v1/alerts?needs_location=true", "/api/v1/incidents", "/api/v1/incidents?limit=1",
        "/api/v1/incidents?f=geojson", "/api/v1/incidents?status=approved&category=killing",
        "/api/v1/incidents?perpetrator=armed", "/api/v1/incidents?start=1900-01-01&end=2200-01-01",
        "/api/v1/incidents?bbox=-180,-90,180,90", "/ogc/collections", "/ogc/collections/incidents",
        "/ogc/collections/incidents/items", "/ogc/collections/incidents/items?limit=1&offset=2",
        "/ogc/collections/hotspots/items", "/api/v1/hotspots",
        "/api/v1/hotspots?as_of=2024-03-02&window_days=36600",
        "/api/v1/hotspots?start=1900-01-01&end=2200-01-01&res=4",
        "/api/v1/hotspots/tiles/3/4/3.mvt", "/api/v1/hotspots/867a4c6d7ffffff?as_of=2024-03-02",
        "/api/v1/forecast", "/api/v1/forecast?as_of=2024-03-02&method=decay",
        "/api/v1/bases", "/api/v1/bases?f=geojson", "/api/v1/bases?as_of=2021-01-01",
        "/api/v1/map/reach", "/api/v1/map/reach?as_of=2024-06-01", "/api/v1/warnings",
        "/api/v1/warnings/feed", "/api/v1/warnings/deliveries", "/api/v1/integrations",
        "/api/v1/response-metrics", "/api/v1/quarantine",
    ]
    urls += [f"/api/v1/incidents/{i}" for i in ids["incident"]]
    urls += [f"/ogc/collections/incidents/items/{i}" for i in ids["incident"][:4]]
    urls += [f"/api/v1/alerts/{i}" for i in ids["alert"]]
    urls += [f"/api/v1/bases/{i}" for i in ids["base"]]
    urls += [f"/api/v1/bases/{i}?f=geojson" for i in ids["base"]]
    urls += [f"/api/v1/warnings/{i}" for i in ids["warning"]]
    return urls


@pytest.mark.parametrize("role", ["admin", "analyst", "operations", "partner"])
async def test_no_stored_row_breaks_a_list_or_a_worker(client, auth, conn, app, settings, role):
    await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))
    integ = await make_integration(client, auth, name="worst-rows")
    integration_id = conn.execute("SELECT id FROM integration WHERE name = 'worst-rows'"
                                  ).fetchone()[0]
    conn.commit()
    ids = insert_worst(conn, str(integration_id))

    # the workers: triage finishes, quarantining what it cannot process
    await triage_now(client)
    left = conn.execute("SELECT count(*) FROM alert WHERE triage IS NULL").fetchone()[0]
    quarantined = conn.execute("SELECT count(*) FROM quarantine WHERE source = 'alert_triage'"
                               ).fetchone()[0]
    conn.commit()
    assert left == 0
    assert quarantined >= 8  # the out-of-range dates and unusable locations at least
    # the webhook dispatcher: every stored delivery gets its attempt recorded, bad ones included
    # (the app's own dispatcher may hold one under its lease for a moment: poll, not time)
    for _ in range(600):  # up to 30 s: a loaded machine may hold the app's lease longer
        await webhooks.deliver_all_due(app.state.sessionmaker, settings)
        attempted = conn.execute("SELECT min(attempt_count) FROM webhook_delivery").fetchone()[0]
        conn.commit()
        if attempted >= 1:
            break
        await asyncio.sleep(0.05)
    assert attempted >= 1
    r = await client.post("/api/v1/warnings/scan", headers=auth("admin"))
    assert r.status_code < 500, r.text

    failures = []
    requests = [("GET", url, None) for url in _reads(ids)] + [
        ("POST", "/api/v1/patrol-plans", {"as_of": "2024-03-02", "horizon_days": 7}),
        ("POST", "/api/v1/footprint-reviews", {"as_of": "2024-03-02"}),
        ("POST", "/api/v1/patrol-plans", {"as_of": "2024-03-02", "horizon_days": 7,
                                          "window_days": 3650})]
    for method, url, body in requests:
        try:  # the test transport raises what the app raised after its 500
            r = await client.request(method, url, json=body, headers=auth(role))
        except Exception as exc:
            failures.append(f"{method} {url}: {type(exc).__name__}: {exc}")
            continue
        if r.status_code >= 500:
            failures.append(f"{method} {url}: {r.status_code}")
    assert failures == [], "\n".join(failures)

    if role == "admin":  # the quarantine is visible to admins, with each alert's error
        page = (await client.get("/api/v1/quarantine?source=alert_triage",
                                 headers=auth("admin"))).json()
        assert page["numberReturned"] == quarantined
        assert all(item["error"] and item["object_type"] == "alert" for item in page["items"])
        assert {i["object_id"] for i in page["items"]} <= set(ids["alert"])
    assert integ["name"] == "worst-rows"
