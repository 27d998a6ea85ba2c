"""Coarse dates and the time scale (issue 13): the decay scale is a request parameter with a
per-mission default, and a date's precision can widen its decay."""

from __future__ import annotations

from app.cli.support import run_import

HEADER = "id,latitude,longitude,type_of_violence,date_start,date_end,date_prec,where_prec,best\n"


def _ged(tmp_path, prec):
    rows = [f"{i},-1.5,29.2,3,2019-01-01,2019-12-31,{prec},1,2" for i in range(1, 9)]
    path = tmp_path / f"ged-{prec}.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


async def _max_score(client, auth, **params):
    r = await client.get("/api/v1/hotspots", params={
        "res": 6, "as_of": "2019-12-31", "window_days": 365, "pattern": "false", **params},
        headers=auth("analyst"))
    assert r.status_code == 200, r.text
    return max(f["properties"]["threat_score"] for f in r.json()["features"])


async def test_decay_scale_per_request_and_precision_widening(client, auth, settings, tmp_path):
    run_import(settings, "ucdp", _ged(tmp_path, 5))  # eight killings known only to the year
    default = await _max_score(client, auth)
    longer = await _max_score(client, auth, decay_scale_days=365)
    widened = await _max_score(client, auth, precision_decay="true")
    assert default < longer and default < widened
    assert widened == await _max_score(client, auth, precision_decay="true")  # stable (cached)
    r = await client.get("/api/v1/hotspots", params={"decay_scale_days": 0}, headers=auth("analyst"))
    assert r.status_code == 422


async def test_precision_widening_leaves_exact_dates_alone(client, auth, settings, tmp_path):
    run_import(settings, "ucdp", _ged(tmp_path, 1))
    assert await _max_score(client, auth) == await _max_score(client, auth, precision_decay="true")


async def test_the_mission_default_decay_applies_when_the_mission_is_asked_for(client, auth, settings, tmp_path):
    run_import(settings, "ucdp", _ged(tmp_path, 5))
    square = {"type": "Polygon", "coordinates": [[[28, -3], [31, -3], [31, 0], [28, 0], [28, -3]]]}
    r = await client.post("/api/v1/missions", json={
        "code": "coarse", "area": square, "timezone": "Africa/Kigali", "decay_scale_days": 365,
        "precision_decay": True}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert await _max_score(client, auth, mission="coarse") == await _max_score(
        client, auth, decay_scale_days=365, precision_decay="true")
