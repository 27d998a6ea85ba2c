"""Alert intake: JSON, CAP 1.2 and SMS posts end as new or linked incidents."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.conftest import incident_body
from tests.support.alerts import alert_doc, counts, make_integration, post_alert

CAP_ALERT = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>ocha-car-2024-0042</identifier>
  <sender>alerts@partner.example</sender>
  <sent>2024-03-02T22:00:00+00:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Security</category>
    <event>Armed attack</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>2024-03-02T20:30:00+00:00</onset>
    <headline>Armed men attack village</headline>
    <description>Houses burned, two people killed</description>
    <parameter><valueName>kinga:category</valueName><value>killing</value></parameter>
    <area>
      <areaDesc>{area}</areaDesc>
      {geo}
    </area>
  </info>
</alert>"""


def cap(area: str = "Bria", geo: str = "") -> bytes:
    return CAP_ALERT.format(area=area, geo=geo).encode()


async def test_json_alert_opens_a_new_entered_incident(client, auth, conn):
    integ = await make_integration(client, auth)
    r = await post_alert(client, integ, alert_doc())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {"id": body["id"], "status": "new", "triaged": False, "needs_location": False}
    assert "incident_id" not in body  # integrations learn nothing about incidents
    row = conn.execute(
        "SELECT a.incident_id, i.status, i.category, i.quality_grade, a.opened_incident "
        "FROM alert a JOIN incident i ON i.id = a.incident_id"
    ).fetchone()
    assert row[1:] == ("entered", "threat_intimidation", "c", True)


async def test_alert_near_a_known_incident_is_linked_and_regrades_it(client, auth, conn):
    r = await client.post(
        "/api/v1/incidents",
        json=incident_body(
            report={
                "section": "human_rights",
                "source_reliability": "C",
                "information_credibility": 3,
            }
        ),
        headers=auth("analyst"),
    )
    incident_id = r.json()["id"]
    integ = await make_integration(client, auth)
    r = await post_alert(
        client,
        integ,
        alert_doc(
            category="killing",
            text="Two men killed at the market",
            latitude=4.392,
            longitude=18.561,
        ),
    )
    assert r.status_code == 201 and r.json()["status"] == "new"  # stored; triage follows
    seen = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("operations"))).json()
    assert seen["status"] == "linked" and seen["triaged"] is True and seen["incident_id"] == incident_id
    inc = conn.execute(
        "SELECT independent_sources, quality_grade FROM incident WHERE id = %s", (incident_id,)
    ).fetchone()
    assert inc == (2, "b")
    assert (
        conn.execute("SELECT count(*) FROM report WHERE incident_id = %s", (incident_id,)).fetchone()[0] == 2
    )


async def test_place_name_resolves_through_the_gazetteer(client, auth, conn):
    integ = await make_integration(client, auth)
    doc = alert_doc(latitude=None, longitude=None, place="Bambari town")
    r = await post_alert(client, integ, doc)
    assert r.status_code == 201 and r.json()["needs_location"] is False
    lon, lat, source = conn.execute(
        "SELECT ST_X(location), ST_Y(location), location_source FROM alert"
    ).fetchone()
    assert abs(lat - 5.76) < 0.05 and abs(lon - 20.67) < 0.05 and source == "gazetteer"


async def test_unresolved_place_is_kept_and_flagged_never_dropped(client, auth, conn):
    integ = await make_integration(client, auth)
    r = await post_alert(
        client, integ, alert_doc(latitude=None, longitude=None, place="Nowhere-by-the-river")
    )
    assert r.status_code == 201 and r.json()["needs_location"] is True
    assert counts(conn)["alert"] == 1 and counts(conn)["incident"] == 0
    r = await client.get("/api/v1/alerts?needs_location=true", headers=auth("operations"))
    assert [a["place_name"] for a in r.json()["items"]] == ["Nowhere-by-the-river"]


async def test_cap_alert_with_circle_is_mapped(client, auth, conn):
    integ = await make_integration(client, auth, name="ocha")
    r = await post_alert(
        client,
        integ,
        raw=cap(geo="<circle>6.54,21.99 2.5</circle>"),
        content_type="application/cap+xml",
    )
    assert r.status_code == 201, r.text
    row = conn.execute(
        "SELECT category, external_id, location_radius_m, ST_Y(location), format, "
        "observed_at::text FROM alert"
    ).fetchone()
    assert row[:3] == ("killing", "ocha-car-2024-0042", 2500) and abs(row[3] - 6.54) < 1e-6
    assert row[4] == "cap" and row[5].startswith("2024-03-02 20:30")


async def test_cap_polygon_and_area_desc_gazetteer(client, auth, conn):
    integ = await make_integration(client, auth, name="ocha")
    poly = "<polygon>6.5,21.9 6.6,21.9 6.6,22.0 6.5,22.0 6.5,21.9</polygon>"
    r = await post_alert(client, integ, raw=cap(geo=poly), content_type="application/xml")
    assert r.status_code == 201
    r = await post_alert(client, integ, raw=cap(area="Birao"), content_type="application/cap+xml")
    assert r.status_code == 201 and r.json()["needs_location"] is False
    sources = sorted(x[0] for x in conn.execute("SELECT location_source FROM alert").fetchall())
    assert sources == ["cap_area", "gazetteer"]


async def test_sms_gateway_post_and_resend_collapses(client, auth, conn):
    integ = await make_integration(client, auth, name="sms-gw", formats=["sms"])
    form = urlencode(
        {
            "sender": "+236 70 00 00 01",
            "text": "Hommes armés à Bambari, menaces",
            "received_at": "2024-03-02T21:00:00Z",
        }
    ).encode()
    r1 = await post_alert(client, integ, raw=form, content_type="application/x-www-form-urlencoded")
    r2 = await post_alert(
        client,
        integ,
        raw=form.replace(b"menaces", b"menaces%21"),
        content_type="application/x-www-form-urlencoded",
    )
    assert r1.status_code == r2.status_code == 201
    seen = (await client.get(f"/api/v1/alerts/{r2.json()['id']}", headers=auth("analyst"))).json()
    assert seen["collapsed_into"] == r1.json()["id"] and seen["status"] == "linked"
    assert counts(conn)["incident"] == 1 and counts(conn)["report"] == 1
    cat = conn.execute("SELECT category FROM alert WHERE collapsed_into IS NULL").fetchone()[0]
    assert cat == "armed_group_presence"


async def test_text_is_stored_inert_and_returned_as_a_plain_string(client, auth):
    integ = await make_integration(client, auth)
    evil = "<script>alert(1)</script> & <b>bold</b>"
    await post_alert(client, integ, alert_doc(text=evil))
    r = await client.get("/api/v1/alerts", headers=auth("operations"))
    assert r.headers["content-type"] == "application/json"
    assert r.json()["items"][0]["text"] == evil


async def test_reporter_contact_is_for_analysts_only_through_the_audited_reveal(client, auth):
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(reporter_contact="+236 75 12 34 56"))
    ops = (await client.get("/api/v1/alerts", headers=auth("operations"))).json()["items"][0]
    ana = (await client.get("/api/v1/alerts", headers=auth("analyst"))).json()["items"][0]
    assert "reporter_contact" not in ops and "has_reporter_contact" not in ops
    assert "reporter_contact" not in ana and ana["has_reporter_contact"] is True
    r = await client.post(f"/api/v1/alerts/{ana['id']}/reporter-contact",
                          json={"reason": "call back about the market"}, headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["reporter_contact"] == "+236 75 12 34 56"


async def test_integration_tokens_may_only_post_alerts(client, auth):
    integ = await make_integration(client, auth)
    bearer = {"Authorization": f"Bearer {integ['token']}"}
    for path in (
        "/api/v1/incidents",
        "/api/v1/alerts",
        "/api/v1/warnings",
        "/api/v1/response-metrics",
        "/api/v1/integrations",
    ):
        r = await client.get(path, headers=bearer)
        assert r.status_code == 403, path
    r = await client.post("/api/v1/alerts", json=alert_doc(), headers=auth("operations"))
    assert r.status_code == 403
