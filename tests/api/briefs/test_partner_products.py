"""Need to share: every product partners can get — briefs (JSON, HTML, PDF; on request, kept and
scheduled), exports (HXL, CSV, GeoPackage), layers, OGC collections and tiles — is scanned for the
analyst-only values of the same data: narratives, perpetrator names, reporters, sources, and the
area whose counts are under the suppression threshold."""

import json
import shutil
import subprocess
from datetime import UTC, datetime

from app.services.briefs.schedule import run_once
from tests.support.products import AS_OF, BUSY, SECRETS, SMALL_CELL, seed_week

LAYER = {"as_of": AS_OF, "window_days": 90, "res": 6}


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "partner.pdf"
    path.write_bytes(content)
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: run `bash scripts/install-products.sh`"
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _counts(node, path=""):
    """Every integer under a key that names a count, with its path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _counts(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _counts(v, f"{path}/{i}")
    elif isinstance(node, int) and not isinstance(node, bool):
        yield path, node


async def test_no_partner_product_holds_analyst_only_values(app, settings, client, auth, conn,
                                                          tmp_path):
    await seed_week(client, auth, conn)
    h = auth("partner")
    products: dict[str, bytes] = {}
    for f in ("json", "html", "pdf"):
        r = await client.get("/api/v1/briefs", params={"as_of": AS_OF, "f": f}, headers=h)
        assert r.status_code == 200, r.text
        products[f"brief.{f}"] = r.content
    day = await client.get("/api/v1/briefs", params={"as_of": AS_OF, "period": "day"}, headers=h)
    products["brief-day.json"] = day.content
    assert (await client.get("/api/v1/briefs", params={"as_of": AS_OF, "edition": "full"},
                             headers=h)).status_code == 403
    kept = await client.post("/api/v1/briefs", json={"as_of": AS_OF, "edition": "partner"},
                             headers=auth("analyst"))
    products["kept.json"] = (await client.get(f"/api/v1/briefs/{kept.json()['id']}",
                                              headers=h)).content
    await run_once(app.state.sessionmaker, settings.model_copy(update={"brief_schedule": True}),
                   now=datetime(2024, 7, 1, 6, tzinfo=UTC))
    for item in (await client.get("/api/v1/briefs/records", headers=h)).json()["items"]:
        assert item["edition"] == "partner"
        products[f"scheduled-{item['period']}.html"] = (await client.get(
            f"/api/v1/briefs/{item['id']}", params={"f": "html"}, headers=h)).content
    for f in ("hxl", "csv", "gpkg"):
        r = await client.get("/api/v1/exports/hotspots", params={**LAYER, "f": f}, headers=h)
        assert r.status_code == 200, r.text
        products[f"hotspots.{f}"] = r.content
    products["layer.json"] = (await client.get("/api/v1/hotspots", params={
        **LAYER, "reporting": "true"}, headers=h)).content
    for cid in ("hotspots", "incidents", "bases", "forecast"):
        r = await client.get(f"/ogc/collections/{cid}/items", params={"limit": 1000}, headers=h)
        assert r.status_code == 200, r.text
        products[f"ogc-{cid}.json"] = r.content
    from tests.api.threat.test_hotspots_tiles import tile_of

    x, y = tile_of(*BUSY, 8)
    for layer in ("incidents", "hotspots"):
        r = await client.get(f"/api/v1/{layer}/tiles/8/{x}/{y}.mvt", params=LAYER, headers=h)
        assert r.status_code == 200 and r.content
        products[f"{layer}.mvt"] = r.content
    assert len(products) >= 16

    texts = {name: (_pdf_text(body, tmp_path) if name.endswith(".pdf")
                    else body.decode("utf-8", "replace")) for name, body in products.items()}
    assert "situation brief" in texts["brief.pdf"].lower()  # the scan reads real text
    for name, text in texts.items():
        for what, secret in SECRETS.items():
            assert secret not in text, f"{what} in partner product {name}"
    # The area with two incidents (under the threshold of 3) is in no partner aggregate.
    for name in ("hotspots.hxl", "hotspots.csv", "hotspots.gpkg", "layer.json",
                 "ogc-hotspots.json"):
        assert SMALL_CELL not in texts[name], f"sub-threshold cell in {name}"
    for name in ("brief.json", "brief-day.json", "kept.json"):
        doc = json.loads(products[name])["content"]
        for sec in doc["sections"]:
            assert sec["id"] not in ("warnings", "patrols")
            if sec["id"] != "forecast":  # forecasts are expectations, not counts
                assert SMALL_CELL not in json.dumps(sec), f"sub-threshold cell in {name}"
    brief = json.loads(products["brief.json"])["content"]
    # No count of incidents or victims under the threshold in the partner brief's figures
    # (numbers of cells are not counts of incidents).
    floor = settings.partner_min_count
    harm = {k: brief["figures"][k] for k in ("incidents", "incidents_previous", "fatalities",
                                              "crsv_survivors")}
    for path, n in _counts(harm):
        assert n == 0 or n >= floor, (path, n)
    assert brief["figures"]["crsv_survivors"] is None  # 1 survivor: withheld
    rows = next(s for s in brief["sections"] if s["id"] == "incidents")["table"]["rows"]
    assert ["sexual violence", f"fewer than {floor}", "0", "change withheld"] in rows
    assert "fewer than 3 survivors of sexual violence" in brief["summary"][0]["text"]
    # The analyst's edition of the same week does hold those values (the scan can fail).
    full = await client.get("/api/v1/briefs", params={"as_of": AS_OF}, headers=auth("analyst"))
    assert SECRETS["perpetrator"] in full.text and SMALL_CELL in full.text
