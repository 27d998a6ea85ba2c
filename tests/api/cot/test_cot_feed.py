"""The Cursor-on-Target feed validates against the CoT 2.0 event schema (tests/support/cot), with
one event per open warning (stale = its expiry) and per critical/high hotspot cell."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from tests.api.threat.test_hotspots_api import AS_OF, add

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parents[2] / "support" / "cot" / "events.xsd"))


def _warning(conn, *, status="active", expires_in_h=48, rule="alert_cluster"):
    now = datetime.now(UTC)
    row = conn.execute(
        "INSERT INTO warning (rule, dedupe_key, status, area, category, severity, urgency, "
        "certainty, headline, description, expires_at, created_at, outcome, cancel_reason) "
        "VALUES (%s, %s, %s, "
        "ST_Buffer(ST_SetSRID(ST_MakePoint(18.56, 4.39), 4326), 0.05), 'killing', 'Severe', "
        "'Immediate', 'Likely', '3 alerts near the market', 'Commander Secret seen', %s, %s, "
        "%s, %s) RETURNING id",
        (rule, f"{rule}:{status}:{expires_in_h}", status, now + timedelta(hours=expires_in_h),
         now - timedelta(hours=1), "nothing_found" if status == "closed" else None,
         "raised twice" if status == "cancelled" else None)).fetchone()
    conn.commit()
    return str(row[0]), now + timedelta(hours=expires_in_h)


async def _feed(client, auth, **params):
    r = await client.get("/api/v1/cot", params=params, headers=auth("operations"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    SCHEMA.validate(r.content)  # raises on any violation
    return etree.fromstring(r.content)


async def test_empty_feed_is_a_valid_events_document(client, auth):
    root = await _feed(client, auth)
    assert root.tag == "events" and len(root) == 0


async def test_warnings_and_high_cells_become_valid_cot_events(client, auth, conn):
    wid, expires = _warning(conn)
    _warning(conn, status="closed")          # closed: not in the feed
    _warning(conn, expires_in_h=-1)          # past its expiry: not in the feed
    for i in range(12):                      # a critical cell
        add(conn, 4.39 + i * 0.001, 18.56, fat=4, days_ago=1 + i)
    add(conn, 7.0, 21.0, fat=0, days_ago=5)  # a low cell: not in the feed
    root = await _feed(client, auth, as_of=AS_OF.date().isoformat())
    events = root.findall("event")
    warnings = [e for e in events if e.get("uid") == f"kinga-warning-{wid}"]
    cells = [e for e in events if e.get("uid").startswith("kinga-hotspot-")]
    assert len(warnings) == 1 and len(events) == 1 + len(cells) and len(cells) >= 1
    w = warnings[0]
    assert w.get("version") == "2.0" and w.get("type") == "a-h-G"
    stale = datetime.fromisoformat(w.get("stale").replace("Z", "+00:00"))
    assert abs((stale - expires).total_seconds()) < 1
    point = w.find("point")
    assert float(point.get("lat")) == pytest.approx(4.39, abs=0.01)
    assert float(point.get("ce")) > 1000
    for c in cells:
        assert c.get("type") == "u-d-f" and len(c.findall("detail/link")) == 7
        assert c.find("detail/kinga").get("level") in ("critical", "high")
    assert b"Commander Secret" not in etree.tostring(root)


@pytest.mark.parametrize("role,code", [("partner", 403), ("integration", 403), (None, 401)])
async def test_feed_is_for_staff(client, auth, role, code):
    r = await client.get("/api/v1/cot", headers=auth(role) if role else {})
    assert r.status_code == code


def test_the_schema_refuses_what_is_not_cot():
    bad = (b'<events><event version="1.1" uid="x" type="a-h-G" how="m-f" '
           b'time="2024-01-01T00:00:00Z" start="2024-01-01T00:00:00Z" stale="2024-01-01T00:00:00Z">'
           b'<point lat="95" lon="0" hae="0" ce="0" le="0"/></event></events>')
    assert not SCHEMA.is_valid(bad)
