"""The workbench's low-bandwidth contract: ETag + 304 on lists and layers, gzip on JSON and built
assets, and incident submissions that are recorded once however often they are resent."""

import gzip
import uuid

from tests.conftest import incident_body


async def _count_incidents(conn) -> int:
    return conn.execute("SELECT count(*) FROM incident").fetchone()[0]


async def test_an_unchanged_list_is_a_304_and_a_change_is_a_200(client, auth):
    h = auth("analyst")
    first = await client.get("/api/v1/incidents", headers=h)
    etag = first.headers["etag"]
    again = await client.get("/api/v1/incidents", headers={**h, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await client.post("/api/v1/incidents", json=incident_body(), headers=h)
    changed = await client.get("/api/v1/incidents", headers={**h, "If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["items"]) == 1


async def test_queues_and_layers_answer_304_when_unchanged(client, auth):
    h = auth("operations")
    for path in ("/api/v1/alerts?status=new", "/api/v1/warnings?status=active",
                 "/api/v1/hotspots?res=5&as_of=2024-03-31", "/api/v1/incidents?f=geojson"):
        r = await client.get(path, headers=h)
        assert r.status_code == 200, path
        r2 = await client.get(path, headers={**h, "If-None-Match": r.headers["etag"]})
        assert r2.status_code == 304, path


async def test_json_is_gzip_compressed_when_accepted(client, auth):
    h = auth("analyst")
    for _ in range(20):
        await client.post("/api/v1/incidents", json=incident_body(), headers=h)
    plain = await client.get("/api/v1/incidents?limit=20", headers={**h, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = await client.get("/api/v1/incidents?limit=20",
                           headers={**h, "Accept-Encoding": "gzip, br"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == plain.content  # the same document …
    assert raw.num_bytes_downloaded * 2 < plain.num_bytes_downloaded  # … in under half the bytes


async def test_built_assets_are_gzipped_revalidated_and_never_listed(client):
    r = await client.get("/map/assets/maplibre-gl.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["cache-control"] == "no-cache"
    again = await client.get("/map/assets/maplibre-gl.js",
                             headers={"If-None-Match": r.headers["etag"], "Accept-Encoding": "gzip"})
    assert again.status_code == 304
    assert (await client.get("/map/assets/")).status_code == 404
    assert (await client.get("/map/assets/..%2Fmap.py")).status_code == 404
    page = await client.get("/map")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sw = await client.get("/map/sw.js")
    assert sw.headers["service-worker-allowed"] == "/map"


def test_the_compressed_asset_is_at_most_a_third_of_the_original():
    from app.api.http import gzip_once
    from app.api.map import STATIC_DIR
    body = (STATIC_DIR / "maplibre-gl.js").read_bytes()
    packed = gzip_once("test-maplibre", body)
    assert gzip.decompress(packed) == body
    assert len(packed) * 3 < len(body)


async def test_a_resent_submission_is_recorded_once(client, auth, conn):
    h = {**auth("operations"), "Idempotency-Key": str(uuid.uuid4())}
    body = incident_body(narrative="queued while the link was down")
    first = await client.post("/api/v1/incidents", json=body, headers=h)
    second = await client.post("/api/v1/incidents", json=body, headers=h)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert await _count_incidents(conn) == 1


async def test_another_token_may_use_the_same_key(client, auth, conn):
    key = str(uuid.uuid4())
    body = incident_body()
    a = await client.post("/api/v1/incidents", json=body, headers={**auth("operations"), "Idempotency-Key": key})
    b = await client.post("/api/v1/incidents", json=body, headers={**auth("analyst"), "Idempotency-Key": key})
    assert a.json()["id"] != b.json()["id"]
    assert await _count_incidents(conn) == 2


async def test_a_reused_key_with_another_body_is_refused_and_nothing_is_written(client, auth, conn):
    h = {**auth("operations"), "Idempotency-Key": "form-1"}
    await client.post("/api/v1/incidents", json=incident_body(), headers=h)
    r = await client.post("/api/v1/incidents", json=incident_body(injured=3), headers=h)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await _count_incidents(conn) == 1


async def test_a_malformed_key_is_refused_and_nothing_is_written(client, auth, conn):
    r = await client.post("/api/v1/incidents", json=incident_body(),
                          headers={**auth("operations"), "Idempotency-Key": "x" * 201})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["pointer"] == "/header/idempotency-key"
    assert await _count_incidents(conn) == 0
    assert conn.execute("SELECT count(*) FROM submission_key").fetchone()[0] == 0


async def test_session_tells_the_header_what_to_show(client, auth):
    r = await client.get("/api/v1/map/session", headers=auth("partner"))
    doc = r.json()
    assert doc["role"] == "partner"
    assert {"mission", "poll_s", "ack_minutes"} <= set(doc)
    assert doc["mission"]["timezone"]  # times on screen are in the mission's zone
