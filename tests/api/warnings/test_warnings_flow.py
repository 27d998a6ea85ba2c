"""Warnings: rules, GeoJSON, lifecycle, CAP feed, webhooks, hotspot rules."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import h3
import xmlschema
from lxml import etree

from app.services.warnings import lifecycle as warning_svc
from app.settings import PROJECT_ROOT
from tests.support.alerts import alert_doc, make_integration, post_alert

XSD = PROJECT_ROOT / "geodata" / "cap" / "CAP-v1.2.xsd"


async def _warnings(client, auth, query=""):
    r = await client.get(f"/api/v1/warnings{query}", headers=auth("operations"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    return r.json()["features"]


def _signed_area(ring):
    return sum((x2 - x1) * (y2 + y1) for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))


async def test_sexual_violence_alert_raises_a_warning(client, auth):
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(category="sexual_violence", text="Woman assaulted"))
    [w] = await _warnings(client, auth)
    p = w["properties"]
    assert p["rule"] == "sexual_violence" and p["status"] == "active"
    assert (p["severity"], p["urgency"], p["certainty"]) == ("Severe", "Immediate", "Possible")
    ring = w["geometry"]["coordinates"][0]
    assert w["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
    assert _signed_area(ring) < 0  # counter-clockwise exterior (RFC 7946)


async def test_n_alerts_in_one_area_raise_one_cluster_warning(client, auth):
    integ = await make_integration(client, auth)
    texts = ["Armed men seen", "Shots heard at night", "People fleeing the village", "More men"]
    for i, t in enumerate(texts[:2]):
        await post_alert(client, integ, alert_doc(text=t, latitude=4.39 + i * 0.001))
    assert await _warnings(client, auth) == []
    for i, t in enumerate(texts[2:]):
        await post_alert(client, integ, alert_doc(text=t, latitude=4.392 + i * 0.001))
    [w] = await _warnings(client, auth)
    assert w["properties"]["rule"] == "alert_cluster" and len(w["properties"]["alert_ids"]) == 4


async def test_lifecycle_and_illegal_transitions(client, auth, conn):
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(category="sexual_violence"))
    [w] = await _warnings(client, auth)
    url = f"/api/v1/warnings/{w['id']}/status"
    ops = auth("operations")
    r = await client.post(url, json={"status": "closed"}, headers=ops)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    for target in ("acknowledged", "responded", "closed"):
        body = {"status": target, "outcome": "deterred"} if target == "closed" else {"status": target}
        r = await client.post(url, json=body, headers=ops)
        assert r.status_code == 200 and r.json()["properties"]["status"] == target
    for target in ("acknowledged", "cancelled", "expired"):
        assert (await client.post(url, json={"status": target}, headers=ops)).status_code == 409
    actions = [
        r[0]
        for r in conn.execute(
            "SELECT action FROM audit_event WHERE object_type = 'warning' ORDER BY id"
        ).fetchall()
    ]
    assert actions == ["raise", "acknowledged", "responded", "closed"]
    assert await _warnings(client, auth, "?status=active") == []


async def test_feed_is_atom_of_cap_alerts_valid_against_oasis_schema(client, auth):
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(category="sexual_violence", text="<b>&</b>"))
    await post_alert(client, integ, alert_doc(category="sexual_violence", latitude=6.5, longitude=21.9))
    r = await client.get("/api/v1/warnings/feed", headers=auth("operations"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(r.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    alerts = feed.findall(".//{urn:oasis:names:tc:emergency:cap:1.2}alert")
    assert len(alerts) == 2
    schema = xmlschema.XMLSchema(str(XSD))
    for alert in alerts:
        schema.validate(etree.tostring(alert))


def _receiver(statuses):
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(statuses[min(len(got), len(statuses)) - 1])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


async def test_private_webhook_targets_are_refused_by_default(client, auth, conn):
    for url in (
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/x",
        "http://[::1]/hook",
        "http://localhost/hook",
        "http://[2002:7f00:1::]/h",        # 6to4 embedding 127.0.0.1
        "http://[2002:a9fe:a9fe::]/h",     # 6to4 embedding 169.254.169.254
        "http://[64:ff9b::a00:1]/h",       # NAT64 embedding 10.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/h",  # Teredo, client 127.0.0.1
        "http://[::ffff:7f00:1]/h",
        "http://2130706433/h",              # 127.0.0.1 as one number
    ):
        r = await client.post(
            "/api/v1/warnings/subscriptions", json={"name": "x", "url": url}, headers=auth("admin")
        )
        assert r.status_code == 422, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["pointer"] == "/body/url"
    assert conn.execute("SELECT count(*) FROM webhook_subscription").fetchone()[0] == 0


async def test_webhook_is_signed_retried_and_logged(client, auth, settings, monkeypatch):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    monkeypatch.setattr(settings, "webhook_retry_schedule_s", (0, 0, 0))
    server, got = _receiver([500, 204])
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        r = await client.post(
            "/api/v1/warnings/subscriptions",
            json={"name": "ops", "url": url},
            headers=auth("admin"),
        )
        assert r.status_code == 201
        secret = r.json()["secret"]
        integ = await make_integration(client, auth)
        await post_alert(client, integ, alert_doc(category="sexual_violence"))
    finally:
        server.shutdown()
    assert len(got) == 2
    headers, body = got[-1]
    mac = hmac.new(
        secret.encode(), headers["X-Kinga-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Kinga-Signature"] == mac and headers["X-Kinga-Event"] == "warning.created"
    assert json.loads(body)["warning"]["properties"]["rule"] == "sexual_violence"
    log = (await client.get("/api/v1/warnings/deliveries", headers=auth("admin"))).json()["items"]
    assert log[0]["status"] == "delivered" and log[0]["attempt_count"] == 2
    assert [a["status_code"] for a in log[0]["attempts"]] == [500, 204]


async def test_hotspot_rules_raise_threat_and_pattern_warnings(app, settings, client, auth):
    cell = h3.latlng_to_cell(5.76, 20.67, 6)
    layer = [
        {
            "cell": cell,
            "threat_level": "critical",
            "pattern": "intensifying hot spot",
            "threat_score": 0.93,
        },
        {
            "cell": h3.latlng_to_cell(6.5, 17.4, 6),
            "threat_level": "low",
            "pattern": "sporadic hot spot",
            "threat_score": 0.1,
        },
    ]
    async with app.state.sessionmaker() as session:
        raised = await warning_svc.evaluate_threat_layer(session, settings, layer, now=datetime.now(UTC))
        again = await warning_svc.evaluate_threat_layer(session, settings, layer, now=datetime.now(UTC))
        await session.commit()
    assert len(raised) == 2 and again == []
    rules = sorted(
        (w["properties"]["rule"], w["properties"]["severity"]) for w in await _warnings(client, auth)
    )
    assert rules == [("emerging_pattern", "Moderate"), ("threat_level", "Extreme")]
