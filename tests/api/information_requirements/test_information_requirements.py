"""Information requirements: registration (bad input refused with a pointer, nothing written),
listing with CRSV first, and the gap report against reporting in each IR's area."""

import pytest

from tests.api.threat.test_hotspots_api import AS_OF, add
from tests.api.threat.test_reporting_effort_api import reports_for_all

URL = "/api/v1/information-requirements"
# A box around the capital's area (lon 18.4-18.7, lat 4.3-4.5) and one far to the north-east.
SOUTH = {"type": "Polygon", "coordinates": [[[18.4, 4.3], [18.7, 4.3], [18.7, 4.5], [18.4, 4.5],
                                              [18.4, 4.3]]]}
NORTH = {"type": "Polygon", "coordinates": [[[22.0, 8.0], [23.0, 8.0], [23.0, 9.0], [22.0, 9.0],
                                              [22.0, 8.0]]]}


def ir(**over):
    body = {"code": "PIR-1", "kind": "pir", "question": "Where are civilians being killed?",
            "priority": 1, "area": SOUTH, "categories": ["killing"], "frequency_days": 7,
            "owner_section": "jmac"}
    body.update(over)
    return body


async def test_register_and_list_crsv_first(client, auth, conn):
    r = await client.post(URL, json=ir(), headers=auth("analyst"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["area"]["type"] == "MultiPolygon" and created["crsv"] is False
    crsv = await client.post(URL, json=ir(code="CCIR-2", kind="ccir", priority=2,
                                          categories=["sexual_violence"],
                                          question="Is sexual violence reported near the camps?"),
                             headers=auth("admin"))
    assert crsv.json()["crsv"] is True
    listed = (await client.get(URL, headers=auth("operations"))).json()["items"]
    assert [i["code"] for i in listed] == ["CCIR-2", "PIR-1"]
    only = (await client.get(URL, params={"crsv": "true"}, headers=auth("analyst"))).json()
    assert [i["code"] for i in only["items"]] == ["CCIR-2"]
    audit = conn.execute("SELECT actor FROM audit_event WHERE object_type = "
                         "'information_requirement'").fetchall()
    assert {a[0] for a in audit} == {"analyst:test-analyst", "admin:test-admin"}
    dup = await client.post(URL, json=ir(), headers=auth("analyst"))
    assert dup.status_code == 409


@pytest.mark.parametrize("over,pointer", [
    ({"area": None}, "/body/area"),                                    # no area nor AOR
    ({"categories": []}, "/body/categories"),                          # no categories
    ({"frequency_days": 0}, "/body/frequency_days"),                   # frequency zero
    ({"frequency_days": -3}, "/body/frequency_days"),
    ({"categories": ["massacre"]}, "/body/categories/0"),
    ({"area": {"type": "Point", "coordinates": [18.5, 4.4]}}, "/body/area"),
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "/body/area"),                                                    # self-intersecting
    ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [0, 1], [0, 0]]]}},
     "/body/area"),
    ({"area": None, "aor": "Sector West"}, "/body/aor"),               # no such AOR
    ({"owner_section": "intelligence"}, "/body/owner_section"),
    ({"priority": 0}, "/body/priority"),
    ({"question": ""}, "/body/question"),
    ({"colour": "red"}, "/body/colour"),
])
async def test_bad_requirements_are_refused_and_nothing_is_written(client, auth, conn, over,
                                                                   pointer):
    r = await client.post(URL, json=ir(**over), headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json()["errors"]], r.json()
    assert conn.execute("SELECT count(*) FROM information_requirement").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == 0


@pytest.mark.parametrize("role", ["operations", "partner", "integration"])
async def test_only_analysts_register(client, auth, role):
    assert (await client.post(URL, json=ir(), headers=auth(role))).status_code == 403


async def test_gap_report_measures_reporting_against_the_frequency(client, auth, conn):
    # Killings in the south in each of the last 4 weeks but the second; one in the north, long ago.
    for days in (2, 16, 23, 35):
        add(conn, 4.39, 18.56, days_ago=days, category="killing")
    add(conn, 4.40, 18.57, days_ago=3, category="looting_destruction")  # not of interest
    add(conn, 8.5, 22.5, days_ago=120, category="sexual_violence")
    reports_for_all(conn, section="human_rights")
    await client.post(URL, json=ir(), headers=auth("analyst"))
    await client.post(URL, json=ir(code="CCIR-2", kind="ccir", area=NORTH, priority=2,
                                   categories=["sexual_violence"], frequency_days=14,
                                   question="Is sexual violence reported in the north-east?"),
                      headers=auth("analyst"))
    await client.post(URL, json=ir(code="IR-9", priority=3, frequency_days=10,
                                   question="Is there killing reported in the south?"),
                      headers=auth("analyst"))
    r = await client.get(f"{URL}/gaps", params={"as_of": AS_OF.isoformat(), "periods": 4},
                         headers=auth("operations"))
    assert r.status_code == 200, r.text
    doc = r.json()
    items = {i["code"]: i for i in doc["items"]}
    assert [i["code"] for i in doc["items"]] == ["CCIR-2", "PIR-1", "IR-9"]  # gaps, CRSV first
    north, south, monthly = items["CCIR-2"], items["PIR-1"], items["IR-9"]
    assert north["status"] == "no reporting" and north["days_since_last_report"] == 120
    assert south["status"] == "gap" and south["periods_missed"] == 1
    assert [p["reports"] for p in south["periods"]] == [1, 1, 0, 1]
    assert south["sections"] == {"human_rights": 3}
    assert south["days_since_last_report"] == 2 and south["reports"] == 3
    assert monthly["status"] == "met" and not monthly["in_gap"]
    assert doc["in_gap"] == 2 and doc["total"] == 3


@pytest.mark.parametrize("query,pointer", [("as_of=2999-01-01", "/query/as_of"),
                                           ("periods=0", "/query/periods"),
                                           ("as_of=yesterday", "/query/as_of")])
async def test_bad_gap_queries(client, auth, query, pointer):
    r = await client.get(f"{URL}/gaps?{query}", headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == pointer
