"""Built assets go out as the build's brotli copy to clients that accept br (precompressed once at
build time, never per request), else gzip; a copy that no longer matches its file is not sent."""

import hashlib
import json

import pytest

from app.api import map as map_api
from app.api.map import STATIC_DIR

ASSETS = ["map.js", "map.css", "maplibre-gl.js"]


@pytest.mark.parametrize("name", ASSETS)
async def test_an_asset_is_sent_as_brotli_when_accepted_and_decodes_to_the_file(client, name):
    brotli = pytest.importorskip("brotli")
    async with client.stream("GET", f"/map/assets/{name}",
                             headers={"Accept-Encoding": "gzip, deflate, br"}) as r:
        wire = b"".join([chunk async for chunk in r.aiter_raw()])
    assert r.status_code == 200 and r.headers["content-encoding"] == "br"
    raw = (STATIC_DIR / name).read_bytes()
    assert brotli.decompress(wire) == raw
    assert len(wire) == int(r.headers["content-length"])
    gz = await client.get(f"/map/assets/{name}", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < int(gz.headers["content-length"])
    assert "Accept-Encoding" in r.headers["vary"]


async def test_the_page_is_brotli_too_and_revalidates_to_a_304(client):
    r = await client.get("/map", headers={"Accept-Encoding": "br"})
    assert r.headers["content-encoding"] == "br"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    again = await client.get("/map", headers={"Accept-Encoding": "br",
                                              "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("accept", ["gzip", "br;q=0, gzip", "identity", "brotli"])
async def test_no_brotli_unless_the_client_accepts_br(client, accept):
    r = await client.get("/map/assets/map.js", headers={"Accept-Encoding": accept})
    assert r.headers.get("content-encoding") in ("gzip", None)
    assert r.headers.get("content-encoding") != "br"


async def test_the_br_copies_are_not_served_as_assets(client):
    assert (await client.get("/map/assets/map.js.br")).status_code == 404


def test_the_build_names_the_file_each_copy_was_made_from():
    made_from = json.loads((STATIC_DIR / "brotli.json").read_text())
    for name in ["index.html", "sw.js", *ASSETS]:
        assert made_from[name] == hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()
        assert (STATIC_DIR / f"{name}.br").is_file()


async def test_a_copy_that_no_longer_matches_its_file_is_not_sent(client, monkeypatch):
    monkeypatch.setattr(map_api, "_sha256", lambda name: "0" * 64)  # as if the file had changed
    r = await client.get("/map/assets/map.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "gzip"
