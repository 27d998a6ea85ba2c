"""Unwatched is not safe: the reporting-effort layer and "low — thin reporting" on the threat
layer, for a cell that used to be reported on and went quiet, beside a well-reported one."""

from tests.api.threat.test_hotspots_api import AS_OF, add

PARAMS = {"as_of": AS_OF.date().isoformat(), "window_days": 90, "res": 6}
QUIET = (6.0, 20.0)   # reported on every month last year, one old report in the window
BUSY = (4.39, 18.56)  # reported on steadily, now too


def reports_for_all(conn, section="civil_affairs"):
    """One report per incident that has none (the layer helper inserts bare incidents)."""
    conn.execute(
        "INSERT INTO report (incident_id, section, source_name, source_reliability, "
        "information_credibility, created_by) SELECT id, %s, 'Source S', 'B', 2, 't' "
        "FROM incident i WHERE NOT EXISTS (SELECT FROM report r WHERE r.incident_id = i.id)",
        (section,))
    conn.commit()


def _seed(conn):
    for i in range(12):
        add(conn, *QUIET, days_ago=100 + i * 30, fat=0, category="threat_intimidation")
        add(conn, *BUSY, days_ago=100 + i * 30, fat=0, category="threat_intimidation")
    add(conn, *QUIET, days_ago=85, fat=0, category="threat_intimidation")
    for i in range(6):
        add(conn, *BUSY, days_ago=5 + i * 10, fat=0, category="threat_intimidation")
    reports_for_all(conn)


async def test_low_cells_on_thin_reporting_are_labelled_distinctly(client, auth, conn):
    _seed(conn)
    r = await client.get("/api/v1/hotspots", params={**PARAMS, "reporting": "true"},
                         headers=auth("analyst"))
    cells = {f["properties"]["incidents"]: f["properties"] for f in r.json()["features"]}
    quiet, busy = cells[1], cells[6]
    assert quiet["threat_level"] == "low" and quiet["level_label"] == "low — thin reporting"
    assert quiet["reporting_effort"]["status"] == "thin"
    assert quiet["reporting_effort"]["history_mean"] >= 2
    assert busy["reporting_effort"]["status"] == "adequate"
    assert busy["level_label"] == busy["threat_level"]
    # Without the flag the layer is as before.
    plain = await client.get("/api/v1/hotspots", params=PARAMS, headers=auth("analyst"))
    assert all("level_label" not in f["properties"] for f in plain.json()["features"])


async def test_effort_layer_shows_silent_cells_and_partners_see_status_only(client, auth, conn):
    _seed(conn)
    add(conn, 8.0, 22.0, days_ago=200)  # reported on once before the window, never since
    reports_for_all(conn)
    r = await client.get("/api/v1/reporting-effort", params=PARAMS, headers=auth("operations"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    statuses = [f["properties"]["status"] for f in r.json()["features"]]
    assert statuses[0] == "none" and statuses.count("none") == 1  # least reported first
    assert set(statuses) == {"none", "thin", "adequate"}
    only = await client.get("/api/v1/reporting-effort", params={**PARAMS, "status": "thin"},
                            headers=auth("analyst"))
    assert {f["properties"]["status"] for f in only.json()["features"]} == {"thin"}
    assert (await client.get("/api/v1/reporting-effort", params=PARAMS,
                             headers=auth("partner"))).status_code == 403
    p = await client.get("/api/v1/hotspots", params={**PARAMS, "reporting": "true"},
                         headers=auth("partner"))
    for f in p.json()["features"]:
        assert set(f["properties"]["reporting_effort"]) == {"status"}
    bad = await client.get("/api/v1/reporting-effort", params={**PARAMS, "status": "sparse"},
                           headers=auth("analyst"))
    assert bad.status_code == 422
