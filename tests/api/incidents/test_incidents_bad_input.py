"""Bad input: RFC 9457 problem+json with a pointer to the field, and nothing written."""

import uuid

import pytest

from tests.conftest import incident_body


def count(conn):
    return conn.execute("SELECT (SELECT count(*) FROM incident) + (SELECT count(*) FROM report) "
                        "+ (SELECT count(*) FROM audit_event)").fetchone()[0]


BAD_BODIES = [
    ({"latitude": 91}, "/body/latitude"),
    ({"longitude": -180.5}, "/body/longitude"),
    ({"category": "massacre"}, "/body/category"),
    ({"occurred_end": "2024-03-01T00:00:00Z"}, "/body"),
    ({"fatalities_best": "two"}, "/body/fatalities_best"),
    ({"fatalities_best": -1}, "/body/fatalities_best"),
    ({"occurred_start": "last tuesday"}, "/body/occurred_start"),
    ({"occurred_start": "2024-03-02T21:00:00"}, "/body/occurred_start"),  # no time zone
    ({"report": {"section": "jmac", "source_reliability": "G", "information_credibility": 2}},
     "/body/report/source_reliability"),
    ({"report": {"section": "jmac", "source_reliability": "A", "information_credibility": 9}},
     "/body/report/information_credibility"),
    ({"perpetrators": "Unknown"}, "/body/perpetrators"),
    ({"unexpected": 1}, "/body/unexpected"),
]


@pytest.mark.parametrize("over,pointer", BAD_BODIES, ids=[p for _, p in BAD_BODIES])
async def test_bad_incident_is_refused_and_nothing_written(client, auth, conn, over, pointer):
    before = count(conn)
    r = await client.post("/api/v1/incidents", json=incident_body(**over), headers=auth("analyst"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "urn:kinga:problem:validation" and problem["status"] == 422
    assert any(e["pointer"].startswith(pointer) for e in problem["errors"]), problem
    assert count(conn) == before


async def test_nan_latitude_is_refused(client, auth, conn):
    raw = incident_body()
    text = __import__("json").dumps(raw).replace('"latitude": 4.39', '"latitude": NaN')
    r = await client.post("/api/v1/incidents", content=text, headers={
        **auth("analyst"), "content-type": "application/json"})
    assert r.status_code == 422 and any(e["pointer"] == "/body/latitude" for e in r.json()["errors"])
    assert count(conn) == 0


async def test_body_over_the_limit_is_413(client, auth, conn):
    r = await client.post("/api/v1/incidents", json=incident_body(narrative="x" * 300_000),
                          headers=auth("analyst"))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert count(conn) == 0


async def test_malformed_json_is_422(client, auth, conn):
    r = await client.post("/api/v1/incidents", content=b'{"latitude": ',
                          headers={**auth("analyst"), "content-type": "application/json"})
    assert r.status_code == 422 and count(conn) == 0


async def test_unknown_incident_is_404(client, auth):
    r = await client.get(f"/api/v1/incidents/{uuid.uuid4()}", headers=auth("analyst"))
    assert r.status_code == 404 and r.json()["type"] == "urn:kinga:problem:not-found"
    r = await client.post(f"/api/v1/incidents/{uuid.uuid4()}/reports", headers=auth("analyst"),
                          json={"section": "police", "source_reliability": "C", "information_credibility": 3})
    assert r.status_code == 404


async def test_patch_end_before_start_writes_nothing(client, auth, conn):
    iid = (await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))).json()["id"]
    before = count(conn)
    r = await client.patch(f"/api/v1/incidents/{iid}", json={"occurred_end": "2020-01-01T00:00:00Z"},
                           headers=auth("analyst"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/occurred_end"
    assert count(conn) == before


@pytest.mark.parametrize("params,pointer", [
    ({"bbox": "10,10,5,5"}, "/query/bbox"), ({"bbox": "1,2,3"}, "/query/bbox"),
    ({"category": "massacre"}, "/query/category"), ({"start": "2024-13-01"}, "/query/start"),
    ({"start": "2024-02-01", "end": "2024-01-01"}, "/query/end"), ({"min_grade": "z"}, "/query/min_grade"),
    ({"cursor": "garbage"}, "/query/cursor"), ({"limit": 0}, "/query/limit"),
])
async def test_bad_list_parameters(client, auth, params, pointer):
    r = await client.get("/api/v1/incidents", params=params, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == pointer


async def test_import_of_a_non_csv_file_is_422_and_writes_nothing(client, auth, conn):
    files = {"file": ("x.geojson", b"{nope", "application/geo+json")}
    r = await client.post("/api/v1/imports", data={"source": "ucdp"}, files=files, headers=auth("analyst"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert count(conn) == 0


async def test_import_endpoint_reports_rejects(client, auth):
    csv_text = ("event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,latitude,"
                "longitude,geo_precision,fatalities\n"
                "CAF9,2024-01-05,1,Violence against civilians,Abduction/forced disappearance,LRA,6.1,23.4,1,0\n"
                "CAF10,2024-01-05,1,Battles,Armed clash,LRA,not-a-lat,23.4,1,0\n")
    files = {"file": ("acled.csv", csv_text.encode(), "text/csv")}
    r = await client.post("/api/v1/imports", data={"source": "acled"}, files=files, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["inserted"] == 1 and body["rejected"] == 1 and body["rejects"][0]["external_id"] == "CAF10"
