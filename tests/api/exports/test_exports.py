"""Exports: incidents as CSV and GeoPackage for analysts (streamed above the row limit), the
threat layer as CSV, GeoPackage and HXL (parsed and checked with libhxl)."""

import csv
import io

import httpx
import hxl
import pyogrio
import pytest

from app.main import create_app
from tests.api.threat.test_hotspots_api import AS_OF, add

PARAMS = {"as_of": AS_OF.date().isoformat(), "window_days": 90, "res": 6}


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


async def test_incident_csv_has_every_analyst_field(client, auth, conn):
    add(conn, perps=("Group A", "Group B"), fat=3, days_ago=10)
    add(conn, 4.5, 18.6, category="abduction", status="entered")
    r = await client.get("/api/v1/exports/incidents?f=csv", headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-kinga-export-mode"] == "in-memory" and r.headers["x-kinga-export-rows"] == "2"
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r.content)
    head, body = rows[0], rows[1:]
    assert len(body) == 2 and {"narrative", "perpetrators", "latitude", "h3_cell"} <= set(head)
    rec = dict(zip(head, body[0], strict=True))
    assert rec["perpetrators"] == "Group A; Group B" and rec["fatalities_best"] == "3"
    only = await client.get("/api/v1/exports/incidents?f=csv&category=abduction",
                            headers=auth("admin"))
    assert len(_csv(only.content)) == 2


async def test_incident_geopackage_opens_with_points_and_fields(client, auth, conn, tmp_path):
    for i in range(5):
        add(conn, 4.3 + i * 0.02, 18.5, fat=i)
    r = await client.get("/api/v1/exports/incidents?f=gpkg", headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "x.gpkg"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path, layer="incidents")
    assert info["features"] == 5 and info["geometry_type"] == "Point"
    df = pyogrio.read_dataframe(path)
    assert sorted(df["fatalities_best"].tolist()) == [0, 1, 2, 3, 4]
    assert df.geometry.x.round(6).eq(18.5).all()


@pytest.mark.parametrize("role", ["operations", "partner", "integration"])
async def test_incident_exports_are_for_analysts(client, auth, role):
    r = await client.get("/api/v1/exports/incidents", headers=auth(role))
    assert r.status_code == 403


@pytest.mark.parametrize("query,pointer", [
    ("f=xlsx", "/query/f"), ("category=massacre", "/query/category"),
    ("status=lost", "/query/status"), ("start=2024-02-01&end=2024-01-01", "/query/end"),
    ("bbox=1,2,3", "/query/bbox"),
])
async def test_bad_export_requests_are_refused_with_a_pointer(client, auth, conn, query, pointer):
    before = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    r = await client.get(f"/api/v1/exports/incidents?{query}", headers=auth("analyst"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"] == pointer for e in r.json()["errors"])
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == before


@pytest.fixture
async def small_limit_client(settings):
    """The service with an export row limit of 3 and batches of 100 rows."""
    small = settings.model_copy(update={"export_max_rows_in_memory": 3, "export_batch_rows": 100})
    application = create_app(small)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://kinga.test") as c:
        yield c


async def test_exports_above_the_row_limit_stream_and_say_so(small_limit_client, auth, conn,
                                                            tmp_path):
    for i in range(250):
        add(conn, 4.0 + (i % 50) * 0.01, 18.0 + (i // 50) * 0.01, days_ago=i % 80)
    r = await small_limit_client.get("/api/v1/exports/incidents?f=csv", headers=auth("analyst"))
    assert r.status_code == 200 and r.headers["x-kinga-export-mode"] == "streamed"
    assert "content-length" not in r.headers and r.headers["x-kinga-export-rows"] == "250"
    assert len(_csv(r.content)) == 251
    g = await small_limit_client.get("/api/v1/exports/incidents?f=gpkg", headers=auth("analyst"))
    assert g.status_code == 200 and g.headers["x-kinga-export-mode"] == "streamed"
    path = tmp_path / "big.gpkg"
    path.write_bytes(g.content)
    assert pyogrio.read_info(path)["features"] == 250


async def test_streamed_csv_is_read_batch_by_batch(app, settings, conn):
    """No full materialisation: the CSV arrives as the header and one chunk per batch."""
    from app.repositories.incidents import IncidentFilter
    from app.services.exports import incidents as svc

    for i in range(250):
        add(conn, 4.0 + (i % 50) * 0.01, 18.0, days_ago=i % 80)
    small = settings.model_copy(update={"export_max_rows_in_memory": 3, "export_batch_rows": 100})
    export = await svc.export(app.state.sessionmaker, IncidentFilter(), "csv", small)
    assert export.streamed and export.body is None and export.chunks is not None
    sizes = [len(_csv(chunk)) async for chunk in export.chunks]
    assert sizes == [1, 100, 100, 50]


async def _hotspot_data(conn):
    for i in range(5):  # one cell with 5 incidents, 2 killed, named perpetrators
        add(conn, 4.39 + i * 0.001, 18.56, fat=1 if i < 2 else 0, perps=("Commander Secret",),
            days_ago=5 + i)
    for i in range(2):  # a cell under the suppression threshold (2 < 3 incidents)
        add(conn, 6.5, 21.0 + i * 0.001, days_ago=3)


async def test_hxl_export_parses_with_libhxl_and_withholds_small_counts(client, auth, conn):
    await _hotspot_data(conn)
    for role in ("partner", "analyst"):
        r = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "hxl"},
                             headers=auth(role))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        raw = _csv(r.content)
        names, tags = raw[0], raw[1]
        assert names[0] == "H3 cell" and all(t.startswith("#") for t in tags)
        data = hxl.data(io.BytesIO(r.content))
        assert [c.header for c in data.columns] == names
        assert [c.display_tag for c in data.columns] == tags
        for tag in tags:
            assert hxl.model.Column.parse(tag), tag  # a valid hashtag with attributes
        assert {"#adm1+name", "#geo+lat", "#geo+lon", "#date+start", "#event+type",
                "#affected+killed"} <= set(tags)
        rows = list(data)
        assert len(rows) == 1  # the 2-incident cell is withheld
        row = rows[0]
        assert row.get("#event+num") == "5" and row.get("#affected+killed") in ("", None)  # 2 < 3
        assert row.get("#date+end") == PARAMS["as_of"]
        assert b"Commander Secret" not in r.content


async def test_layer_csv_and_gpkg_follow_the_role(client, auth, conn, tmp_path):
    await _hotspot_data(conn)
    analyst = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "csv"},
                               headers=auth("analyst"))
    rows = _csv(analyst.content)
    assert len(rows) == 3 and b"Commander Secret" in analyst.content  # analysts: both cells
    partner = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "csv"},
                               headers=auth("partner"))
    assert len(_csv(partner.content)) == 2 and b"Commander Secret" not in partner.content
    g = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "gpkg"},
                         headers=auth("operations"))
    path = tmp_path / "h.gpkg"
    path.write_bytes(g.content)
    info = pyogrio.read_info(path)
    assert info["features"] == 2 and info["geometry_type"] == "Polygon"
    r = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "hxl", "res": 8},
                         headers=auth("partner"))
    assert r.status_code == 403
    r = await client.get("/api/v1/exports/hotspots", params={**PARAMS, "f": "pdf"},
                         headers=auth("partner"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/query/f"
