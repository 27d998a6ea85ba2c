"""A second real mission end to end (issue 13): UNMISS with the shared ACLED South Sudan export
and the Geo-PKO v1 monthly deployment maps, beside the bundled CAR data. Assertions are about
properties of the data itself (its densest places, its row counts), never hard-coded cells."""

from __future__ import annotations

import collections
import csv

import h3
import pytest
from shapely.geometry import Point, shape

from app.cli.support import import_bases, run_import, seed_bundled, stored_mission
from app.services.bases.registry import geopko_bases
from tests.support.alerts import make_integration, signed, triage_now
from tests.support.shared_data import shared_file

ACLED = "acled-south-sudan-2011-2015.csv"
GEOPKO = "geopko-v1-unmiss-2011-2018.csv"
UNMISS = {"code": "unmiss", "name": "UNMISS", "countries": ["SSD"], "timezone": "Africa/Juba",
          "languages": ["en", "apd", "ar"], "cap_sender": "kinga@unmiss.example",
          "seasons": [{"name": "rainy", "months": [5, 6, 7, 8, 9, 10],
                       "speed_factor": {"road": 0.5, "foot": 0.8}}]}


async def _unmiss(client, auth, settings, *, events=True, bases=True):
    r = await client.post("/api/v1/missions", json=UNMISS, headers=auth("admin"))
    assert r.status_code == 201, r.text
    mission = stored_mission(settings, "unmiss")
    out = {}
    if events:
        out["acled"] = run_import(settings, "acled", shared_file(ACLED), mission=mission)
    if bases:
        out["bases"] = import_bases(settings, shared_file(GEOPKO), mission=mission, actor="test")
    return out


def _acled_rows():
    with shared_file(ACLED).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def test_acled_and_geopko_import_unmodified_and_idempotent(client, auth, settings, conn):
    out = await _unmiss(client, auth, settings)
    acled = out["acled"]
    rows = _acled_rows()
    assert acled.rows_read == len(rows) == 2590 and acled.inserted == 2590 and not acled.rejects
    # kept and counted, never silently dropped: the coarse outline misses some border events
    outline = shape((await client.get("/api/v1/missions/unmiss", headers=auth("admin"))).json()["area"])
    outside = sum(1 for r in rows if not outline.covers(Point(float(r["longitude"]), float(r["latitude"]))))
    assert acled.outside_area == outside > 0
    n = conn.execute("SELECT count(*) FROM incident WHERE mission_code = 'unmiss'").fetchone()[0]
    assert n == 2590
    again = run_import(settings, "acled", shared_file(ACLED), mission=stored_mission(settings, "unmiss"))
    assert again.inserted == 0 and again.duplicates == 2590
    read, inserted, _ = out["bases"]
    assert inserted == read > 0
    assert import_bases(settings, shared_file(GEOPKO), mission=stored_mission(settings, "unmiss"),
                        actor="test")[1] == 0
    sites = {r[0] for r in conn.execute("SELECT name FROM mission_base WHERE mission_code = 'unmiss'")}
    with shared_file(GEOPKO).open(newline="") as f:
        assert sites == {r["location"] for r in csv.DictReader(f)}


async def test_skip_outside_drops_only_the_rows_outside(client, auth, settings, conn):
    await _unmiss(client, auth, settings, events=False, bases=False)
    s = run_import(settings, "acled", shared_file(ACLED), mission=stored_mission(settings, "unmiss"),
                   skip_outside=True)
    assert s.skipped_outside == s.outside_area > 0
    assert s.inserted == 2590 - s.outside_area


def test_geopko_periods_follow_the_maps():
    rows = geopko_bases(shared_file(GEOPKO), 150, 325, mission="UNMISS")
    with shared_file(GEOPKO).open(newline="") as f:
        maps = collections.defaultdict(set)
        for r in csv.DictReader(f):
            maps[r["location"]].add((int(r["year"]), int(r["month"])))
    all_maps = sorted(set().union(*maps.values()))
    last = all_maps[-1]
    for b in rows:
        seen = maps[b["name"]]
        # opens on the 1st of the month of a map showing it (not on 1 January)
        assert (b["opened_on"].year, b["opened_on"].month) in seen and b["opened_on"].day == 1
        if b["closed_on"] is None:
            assert last in seen  # on the mission's last map
        else:
            end = (b["closed_on"].year, b["closed_on"].month)
            assert end in seen
            nxt = all_maps[all_maps.index(end) + 1]
            assert nxt not in seen  # the next map of the mission omits it
    # a site that disappeared from the maps part-way through a year closed then
    assert any(b["closed_on"] is not None and b["closed_on"].month != 12 for b in rows)


def test_geopko_file_with_another_mission_is_refused():
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        geopko_bases(shared_file(GEOPKO), 150, 325, mission="MONUSCO")
    assert exc.value.errors[0]["pointer"] == "/mission"


async def test_hotspots_2014_sit_at_the_densest_places_and_stay_in_the_mission(client, auth, settings):
    await _unmiss(client, auth, settings, bases=False)
    list(seed_bundled(settings))  # the CAR data beside it
    r = await client.get("/api/v1/hotspots", params={
        "mission": "unmiss", "res": 5, "start": "2014-01-01", "end": "2014-12-31",
        "pattern": "false", "decay_scale_days": 365}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    outline = shape((await client.get("/api/v1/missions/unmiss", headers=auth("analyst"))).json()["area"])
    for f in feats:  # nothing from the CAR data leaks in
        lat, lon = h3.cell_to_latlng(f["id"] if isinstance(f["id"], str) else f["properties"]["cell"])
        assert outline.covers(Point(lon, lat))
    # the data's own densest places in 2014, by precisely located events
    counts = collections.Counter(
        r["location"] for r in _acled_rows()
        if r["event_date"].endswith("2014") and r["geo_precision"] == "1")
    densest = [name for name, _ in counts.most_common(4)]
    top_cells = {f["properties"]["cell"] for f in feats[:8]}
    located = {name: h3.latlng_to_cell(float(row["latitude"]), float(row["longitude"]), 5)
               for row in _acled_rows() for name in [row["location"]] if name in densest}
    hits = [n for n in densest if located[n] in top_cells]
    assert len(hits) >= 3, (densest, hits)
    car = await client.get("/api/v1/hotspots", params={
        "res": 5, "start": "2014-01-01", "end": "2014-12-31", "pattern": "false"},
        headers=auth("analyst"))
    assert len(car.json()["features"]) > len(feats)  # unclipped: both countries


async def test_footprints_2014_and_2016_use_their_dates_bases(client, auth, settings):
    await _unmiss(client, auth, settings)
    list(seed_bundled(settings))
    shares = {}
    for day in ("2014-12-31", "2016-12-31"):
        r = await client.post("/api/v1/footprint-reviews", json={
            "mission": "unmiss", "as_of": day, "window_days": 365, "p": 0}, headers=auth("analyst"))
        assert r.status_code == 200, r.text
        body = r.json()
        names = {b["name"] for b in body["bases"]}
        assert "Juba" in names and not names & {"Bangui", "Bambari"}  # no MINUSCA base
        shares[day] = body["summary"]
    assert {"Leer"} <= {b["name"] for b in (await client.post("/api/v1/footprint-reviews", json={
        "mission": "unmiss", "as_of": "2016-12-31", "window_days": 365, "p": 0},
        headers=auth("analyst"))).json()["bases"]}
    r = await client.post("/api/v1/footprint-reviews/compare", json={
        "mission": "unmiss", "as_of": "2014-12-31", "compare_to": "2016-12-31",
        "window_days": 365}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    cmp = r.json()
    assert cmp["a"]["threat_covered_share"] == shares["2014-12-31"]["threat_covered_share"]
    assert cmp["b"]["threat_covered_share"] == shares["2016-12-31"]["threat_covered_share"]


async def test_compare_a_proposed_closure(client, auth, settings):
    await _unmiss(client, auth, settings)
    bases = (await client.get("/api/v1/bases", params={"as_of": "2014-12-31"},
                              headers=auth("analyst"))).json()
    bases = bases["items"] if isinstance(bases, dict) else bases
    bor = next(b for b in bases if b["name"] == "Bor")
    r = await client.post("/api/v1/footprint-reviews/compare", json={
        "mission": "unmiss", "as_of": "2014-12-31", "window_days": 365,
        "closures": [bor["id"]]}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["b"]["bases"] == out["a"]["bases"] - 1
    closure = out["closures"][0]
    assert closure["base"] == "Bor" and closure["threat_left_uncovered"] > 0
    assert out["b"]["threat_covered"] == pytest.approx(
        out["a"]["threat_covered"] - closure["threat_left_uncovered"], abs=0.01)


async def test_patrol_time_windows_are_in_juba_time(client, auth, settings):
    await _unmiss(client, auth, settings)
    r = await client.post("/api/v1/patrol-plans", json={
        "mission": "unmiss", "as_of": "2014-03-31", "horizon_days": 7, "window_days": 90},
        headers=auth("operations"))
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["summary"]["timezone"] == "Africa/Juba" and plan["summary"]["mission"] == "unmiss"
    assert plan["tasks"] and {t["base_name"] if "base_name" in t else t.get("base") for t in plan["tasks"]}


async def test_forecast_covers_south_sudan_not_car(client, auth, settings):
    await _unmiss(client, auth, settings, bases=False)
    list(seed_bundled(settings))
    r = await client.get("/api/v1/forecast", params={
        "mission": "unmiss", "res": 5, "as_of": "2015-06-30", "horizon_days": 91, "limit": 20},
        headers=auth("analyst"))
    assert r.status_code == 200, r.text
    outline = shape((await client.get("/api/v1/missions/unmiss", headers=auth("analyst"))).json()["area"])
    feats = r.json()["features"]
    assert feats
    for f in feats:
        lat, lon = h3.cell_to_latlng(f["id"])
        assert outline.covers(Point(lon, lat))


async def test_sms_naming_a_town_is_located_with_its_score(client, auth, settings):
    await _unmiss(client, auth, settings, events=True, bases=True)
    integ = await make_integration(client, auth, name="can-malakal", mission="unmiss")
    form = b"sender=%2B211900000001&text=Armed+men+attacked+Malakal+PoC+last+night"
    r = await client.post("/api/v1/alerts", content=form,
                          headers=signed(integ, form, "application/x-www-form-urlencoded"))
    assert r.status_code == 201, r.text
    assert r.json()["needs_location"] is False
    alert = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("analyst"))).json()
    malakal = next(b for b in geopko_bases(shared_file(GEOPKO), 150, 325) if b["name"] == "Malakal")
    assert abs(alert["latitude"] - malakal["latitude"]) < 0.05
    assert abs(alert["longitude"] - malakal["longitude"]) < 0.05
    assert alert["place_match"]["name"] == "Malakal" and alert["place_match"]["score"] == 100
    assert alert["category"] == "armed_group_presence"
    # a misspelt place still resolves, with its (lower) score recorded
    import orjson

    doc = orjson.dumps({"text": "shooting reported", "place": "Bentui"})
    r = await client.post("/api/v1/alerts", content=doc, headers=signed(integ, doc))
    assert r.status_code == 201 and r.json()["needs_location"] is False
    alert = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("analyst"))).json()
    assert alert["place_match"]["name"] == "Bentiu" and 80 <= alert["place_match"]["score"] < 100
    # an integration of no mission searches every mission's gazetteer
    anywhere = await make_integration(client, auth, name="partner-ngo")
    doc = orjson.dumps({"text": "Attack reported", "place": "Malakal"})
    r = await client.post("/api/v1/alerts", content=doc, headers=signed(anywhere, doc))
    alert = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("analyst"))).json()
    assert alert["place_match"]["mission"] == "unmiss" and alert["latitude"] is not None
    await triage_now(client)


async def test_juba_arabic_sms_is_categorised(client, auth, settings):
    await _unmiss(client, auth, settings, events=False)
    integ = await make_integration(client, auth, name="can-bor", mission="unmiss")
    form = b"sender=%2B211900000002&text=nas+katalu+tolata+fi+Bor"
    r = await client.post("/api/v1/alerts", content=form,
                          headers=signed(integ, form, "application/x-www-form-urlencoded"))
    alert = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("analyst"))).json()
    assert alert["category"] == "killing" and alert["place_name"] == "Bor"
    await triage_now(client)


async def test_places_search(client, auth, settings):
    await _unmiss(client, auth, settings)
    r = await client.get("/api/v1/places", params={"q": "malakal", "mission": "unmiss"},
                         headers=auth("operations"))
    assert r.status_code == 200
    assert r.json()["items"][0]["name"] == "Malakal"


async def test_historical_scan_raises_no_live_warning(client, auth, settings, conn):
    await _unmiss(client, auth, settings, bases=False)
    r = await client.post("/api/v1/warnings/scan", params={"as_of": "2014-02-28", "mission": "unmiss"},
                          headers=auth("analyst"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["historical"] is True and body["raised"] == []
    assert conn.execute("SELECT count(*) FROM warning").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM webhook_delivery").fetchone()[0] == 0
    # what it would have raised names places, not only cells
    assert body["would_raise"] and any("near" in w["headline"] and "," not in w["headline"].split("near")[1][:12]
                                       for w in body["would_raise"])


async def test_purge_removes_one_missions_import_and_is_audited(client, auth, settings, conn):
    from app.cli.support import purge_source

    await _unmiss(client, auth, settings)
    list(seed_bundled(settings))
    before = conn.execute("SELECT count(*) FROM incident WHERE external_source = 'ucdp'").fetchone()[0]
    assert "2590 incidents" in purge_source(settings, "acled", "unmiss")
    assert conn.execute("SELECT count(*) FROM incident WHERE mission_code = 'unmiss'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM incident WHERE external_source = 'ucdp'").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action = 'purge'").fetchone()[0] == 1
