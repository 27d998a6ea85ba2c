"""Triangulation through HTTP: staff entries link or wait for review, analysts merge and unmerge,
everything downstream counts an incident once, partners see none of it, bad input writes nothing."""

import random
from datetime import timedelta

import h3
import pytest

from app.repositories import forecast as forecast_repo
from tests.api.threat.test_hotspots_api import AS_OF, by_cell, layer
from tests.api.threat.test_hotspots_delta import assert_same, full_layer
from tests.conftest import incident_body

WHEN = (AS_OF - timedelta(days=3)).isoformat()
REPORT_B = {"section": "human_rights", "source_reliability": "B", "information_credibility": 2}
REPORT_C = {"section": "u2_military", "source_reliability": "C", "information_credibility": 3}


def body(**over):
    base = {"occurred_start": WHEN, "perpetrators": ["Seleka"], "fatalities_best": 4,
            "report": REPORT_B}
    return incident_body(**{**base, **over})


async def post(client, auth, role="analyst", **over):
    r = await client.post("/api/v1/incidents", json=body(**over), headers=auth(role))
    assert r.status_code == 201, r.text
    return r.json()


async def get(client, auth, iid, role="analyst"):
    return await client.get(f"/api/v1/incidents/{iid}", headers=auth(role))


def rows(conn):
    """Every incident and report as stored, except when/by whom they were last updated."""
    cols = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'incident' "
        "AND column_name NOT IN ('updated_at', 'updated_by') ORDER BY column_name").fetchall()]
    inc = [dict(zip(cols, r, strict=True)) for r in
           conn.execute(f"SELECT {', '.join(cols)} FROM incident ORDER BY id").fetchall()]
    rep = conn.execute("SELECT * FROM report ORDER BY id").fetchall()
    conn.commit()
    return inc, rep


def assert_restored(now, original):
    """Every incident and report as it was (the differing columns named when not)."""
    diffs = [(o["id"], {k: (o[k], n[k]) for k in o if o[k] != n[k]})
             for o, n in zip(original[0], now[0], strict=True) if o != n]
    assert diffs == []
    assert now == original


def counts(conn):
    out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
           for t in ("incident", "report", "incident_merge", "duplicate_candidate", "audit_event",
                     "triangulation_threshold", "actor_alias")}
    conn.commit()
    return out


# ------------------------------------------------------------------ staff entries
async def test_a_second_section_reporting_a_known_incident_becomes_its_report(client, auth, conn):
    first = await post(client, auth)
    assert first["triangulation"]["outcome"] == "new"
    second = await post(client, auth, report=REPORT_C, narrative="Men killed near the market.")
    assert second["triangulation"]["outcome"] == "linked"
    assert second["triangulation"]["incident_id"] == first["id"]
    listed = (await client.get("/api/v1/incidents", headers=auth("operations"))).json()["items"]
    assert [i["id"] for i in listed] == [first["id"]]
    target = (await get(client, auth, first["id"])).json()
    assert len(target["reports"]) == 2 and target["independent_sources"] == 2
    assert target["quality_grade"] == "a"  # two independent sources, one of them strong
    merged = (await get(client, auth, second["id"])).json()
    assert merged["status"] == "merged" and merged["merged_into"] == first["id"]
    assert merged["reports"] == []
    assert counts(conn)["report"] == 2


async def test_a_possible_duplicate_waits_uncounted_until_an_analyst_decides(client, auth, conn):
    first = await post(client, auth, category="killing")
    # 8 km away, a day later, another count: likely, not certain
    later = (AS_OF - timedelta(days=2)).isoformat()
    held = await post(client, auth, latitude=4.39 + 8 / 111, occurred_start=later, fatalities_best=3,
                      report=REPORT_C)
    assert held["triangulation"]["outcome"] == "queued", held
    assert (await get(client, auth, held["id"])).json()["status"] == "duplicate"
    listed = (await client.get("/api/v1/incidents", headers=auth("analyst"))).json()["items"]
    assert [i["id"] for i in listed] == [first["id"]]
    cells = by_cell(await layer(client, auth, res=4))
    assert sum(p["incidents"] for p in cells.values()) == 1

    queue = (await client.get("/api/v1/duplicates?status=pending", headers=auth("analyst"))).json()
    [entry] = queue["items"]
    assert entry["incident_id"] == held["id"] and entry["candidate_id"] == first["id"]
    ev = entry["evidence"]
    assert {"distance_km", "days_apart", "names", "fatalities", "parts"} <= set(ev)
    assert ev["days_apart"] == 1 and 7 < ev["distance_km"] < 9 and 0.70 <= entry["score"] < 0.85
    assert entry["incident"]["status"] == "duplicate" and entry["candidate"]["id"] == first["id"]

    r = await client.post(f"/api/v1/duplicates/{entry['id']}/confirm", json={"comment": "same attack"},
                          headers=auth("analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert (await get(client, auth, held["id"])).json()["merged_into"] == first["id"]
    assert len((await get(client, auth, first["id"])).json()["reports"]) == 2
    assert (await client.get("/api/v1/duplicates?status=pending", headers=auth("analyst"))).json()["items"] == []


async def test_rejecting_a_possible_duplicate_makes_it_an_incident(client, auth, conn):
    first = await post(client, auth)
    held = await post(client, auth, latitude=4.39 + 8 / 111,
                      occurred_start=(AS_OF - timedelta(days=2)).isoformat(), fatalities_best=3)
    [entry] = (await client.get("/api/v1/duplicates", headers=auth("analyst"))).json()["items"]
    r = await client.post(f"/api/v1/duplicates/{entry['id']}/reject", headers=auth("admin"))
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert (await get(client, auth, held["id"])).json()["status"] == "entered"
    listed = (await client.get("/api/v1/incidents", headers=auth("analyst"))).json()["items"]
    assert {i["id"] for i in listed} == {first["id"], held["id"]}


async def test_candidates_of_an_incident_with_score_and_evidence(client, auth):
    a = await post(client, auth)
    b = await post(client, auth, latitude=4.39 + 20 / 111, perpetrators=["Anti-balaka"])
    assert b["triangulation"]["outcome"] == "new"
    r = await client.get(f"/api/v1/incidents/{a['id']}/duplicates", headers=auth("analyst"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [c["incident_id"] for c in doc["candidates"]] == [b["id"]]
    c = doc["candidates"][0]
    assert 0 <= c["score"] < 0.70 and 19 < c["distance_km"] < 21 and c["names"] == [["seleka"], ["anti balaka"]]
    assert doc["thresholds"] == {"auto_link": 0.85, "review": 0.70}


# ------------------------------------------------------------------ merge and unmerge
async def distinct_incidents(client, auth, n):
    """n incidents too far apart to be matched with each other."""
    return [(await post(client, auth, latitude=3.0 + i * 0.9, longitude=16.0 + i * 0.9,
                        fatalities_best=i))["id"] for i in range(n)]


def counted(conn):
    n = conn.execute("SELECT count(*) FROM incident WHERE status IN ('entered', 'validated', 'approved')"
                     ).fetchone()[0]
    conn.commit()
    return n


async def layer_counts_once(client, auth, conn):
    """The layer served after the writes (cached sums + change log) is a full recomputation, and
    counts each counted incident once."""
    served = await layer(client, auth, res=4)
    assert_same(served, await full_layer(client, auth, res=4))
    assert sum(p["incidents"] for p in by_cell(served).values()) == counted(conn)


@pytest.mark.parametrize("seed", [14, 7, 3, 21, 40])
async def test_merge_then_unmerge_restores_every_incident_and_report_exactly(client, auth, conn, seed):
    rng = random.Random(seed)
    ids = await distinct_incidents(client, auth, 6)
    await layer_counts_once(client, auth, conn)  # cached now: later answers come from the log
    original = rows(conn)
    n_reports = counts(conn)["report"]
    merged = []
    for _ in range(4):  # random merges, chains included (merge into an incident that holds others)
        free = [i for i in ids if i not in merged]
        a, b = rng.sample(free, 2)
        r = await client.post(f"/api/v1/incidents/{a}/merge", json={"into": b}, headers=auth("analyst"))
        assert r.status_code == 200, r.text
        merged.append(a)
        assert counts(conn)["report"] == n_reports  # merging never changes the number of reports
    await layer_counts_once(client, auth, conn)
    rng.shuffle(merged)
    for a in merged:  # unmerged in any order
        r = await client.post(f"/api/v1/incidents/{a}/unmerge", headers=auth("analyst"))
        assert r.status_code == 200, r.text
        assert counts(conn)["report"] == n_reports
    await layer_counts_once(client, auth, conn)
    assert_restored(rows(conn), original)
    assert counts(conn)["incident_merge"] == 4  # the history is kept (undone, not deleted)


async def test_a_merge_keeps_the_most_precise_place_and_dates_and_regrades(client, auth):
    coarse = (await post(client, auth, location_radius_m=25_000, latitude=4.5,
                         occurred_end=(AS_OF + timedelta(days=2)).isoformat(), time_precision=3))["id"]
    precise = (await post(client, auth, latitude=3.0, longitude=16.0, report=REPORT_C))["id"]
    r = await client.post(f"/api/v1/incidents/{precise}/merge", json={"into": coarse}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    t = (await get(client, auth, coarse)).json()
    assert t["location_radius_m"] == 0 and t["latitude"] == 3.0 and t["occurred_end"] is None
    assert t["independent_sources"] == 2 and len(t["reports"]) == 2
    await client.post(f"/api/v1/incidents/{precise}/unmerge", headers=auth("analyst"))
    t = (await get(client, auth, coarse)).json()
    assert t["location_radius_m"] == 25_000 and t["latitude"] == 4.5 and t["independent_sources"] == 1


async def brief_incidents(client, auth):
    r = await client.get("/api/v1/briefs", params={"period": "week", "as_of": AS_OF.date().isoformat(),
                                                   "charts": "false"}, headers=auth("analyst"))
    assert r.status_code == 200, r.text
    return r.json()["content"]["figures"]["incidents"]


async def exported(client, auth):
    r = await client.get("/api/v1/exports/incidents?f=csv", headers=auth("analyst"))
    assert r.status_code == 200, r.text
    return len(r.content.decode().strip().splitlines()) - 1  # rows below the header


async def test_counted_once_in_every_layer_after_a_merge(client, auth, conn, app):
    a = (await post(client, auth))["id"]
    b = (await post(client, auth, perpetrators=["Anti-balaka"], category="abduction", latitude=4.395,
                    fatalities_best=0, occurred_start=(AS_OF - timedelta(days=2)).isoformat()))["id"]
    assert (await get(client, auth, b)).json()["status"] == "entered"  # not matched: other actors
    assert (await brief_incidents(client, auth), await exported(client, auth)) == (2, 2)
    before = by_cell(await layer(client, auth, res=6))
    cell = h3.latlng_to_cell(4.39, 18.56, 6)
    assert before[cell]["incidents"] == 2
    r = await client.post(f"/api/v1/incidents/{b}/merge", json={"into": a}, headers=auth("analyst"))
    assert r.status_code == 200
    served = await layer(client, auth, res=6)  # answered from the change log
    assert by_cell(served)[cell]["incidents"] == 1
    assert_same(served, await full_layer(client, auth, res=6))  # exactly a full recomputation
    listed = (await client.get("/api/v1/incidents?f=geojson", headers=auth("operations"))).json()
    assert listed["numberMatched"] == 1
    ogc = (await client.get("/ogc/collections/incidents/items", headers=auth("analyst"))).json()
    assert ogc["numberMatched"] == 1
    async with app.state.sessionmaker() as session:
        events = await forecast_repo.events(session, 6, max_radius_m=50_000)
    assert len(events) == 1
    assert (await brief_incidents(client, auth), await exported(client, auth)) == (1, 1)
    await client.post(f"/api/v1/incidents/{b}/unmerge", headers=auth("analyst"))
    served = await layer(client, auth, res=6)
    assert by_cell(served)[cell]["incidents"] == 2
    assert_same(served, await full_layer(client, auth, res=6))


# ------------------------------------------------------------------ need to know
async def test_partners_never_see_duplicates_scores_or_merges(client, auth):
    a, b = await distinct_incidents(client, auth, 2)
    for iid in (a, b):
        await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
        await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    await client.post(f"/api/v1/incidents/{b}/merge", json={"into": a}, headers=auth("analyst"))
    partner = auth("partner")
    assert (await get(client, auth, b, "partner")).status_code == 404
    seen = (await get(client, auth, a, "partner")).json()
    assert "merged_into" not in seen and "reports" not in seen
    listed = (await client.get("/api/v1/incidents", headers=partner)).json()["items"]
    assert [i["id"] for i in listed] == [a]
    for path in (f"/api/v1/incidents/{a}/duplicates", "/api/v1/duplicates?status=pending",
                 "/api/v1/actor-aliases", "/api/v1/triangulation/thresholds"):
        r = await client.get(path, headers=partner)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    for path in (f"/api/v1/incidents/{a}/duplicates", "/api/v1/duplicates"):
        assert (await client.get(path, headers=auth("operations"))).status_code == 403


# ------------------------------------------------------------------ bad input
def problem(r, status, pointer):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json().get("errors", [])], r.json()
    return r.json()


async def test_bad_merges_are_refused_and_write_nothing(client, auth, conn):
    a, b, c, d = await distinct_incidents(client, auth, 4)
    await client.post(f"/api/v1/incidents/{c}/reject", headers=auth("analyst"))
    await client.post(f"/api/v1/incidents/{d}/merge", json={"into": b}, headers=auth("analyst"))
    before, written = rows(conn), counts(conn)
    h = auth("analyst")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={"into": a}, headers=h), 422, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={"into": c}, headers=h), 409, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={"into": d}, headers=h), 409, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={"into": "nope"}, headers=h), 422, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{a}/merge",
                              json={"into": "00000000-0000-0000-0000-000000000000"}, headers=h), 422, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{d}/merge", json={"into": a}, headers=h), 409, "/path/incident_id")
    problem(await client.post(f"/api/v1/incidents/{a}/unmerge", headers=h), 409, "/path/incident_id")
    problem(await client.post(f"/api/v1/incidents/{d}/reports", json=REPORT_C, headers=h), 409, "/path/incident_id")
    assert rows(conn) == before and counts(conn) == written


async def test_deciding_a_possible_duplicate_twice_is_refused(client, auth, conn):
    await post(client, auth)
    await post(client, auth, latitude=4.39 + 8 / 111, occurred_start=(AS_OF - timedelta(days=2)).isoformat(),
               fatalities_best=3)
    [entry] = (await client.get("/api/v1/duplicates", headers=auth("analyst"))).json()["items"]
    assert (await client.post(f"/api/v1/duplicates/{entry['id']}/confirm", headers=auth("analyst"))).status_code == 200
    before, written = rows(conn), counts(conn)
    for verb in ("confirm", "reject"):
        problem(await client.post(f"/api/v1/duplicates/{entry['id']}/{verb}", headers=auth("analyst")),
                409, "/path/duplicate_id")
    assert rows(conn) == before and counts(conn) == written


async def test_thresholds_out_of_order_are_refused(client, auth, conn):
    written = counts(conn)
    h = auth("admin")
    problem(await client.put("/api/v1/triangulation/thresholds", json={"auto_link": 0.6, "review": 0.7},
                             headers=h), 422, "/body/review")
    problem(await client.put("/api/v1/triangulation/thresholds", json={"auto_link": 1.5, "review": 0.7},
                             headers=h), 422, "/body/auto_link")
    problem(await client.put("/api/v1/triangulation/thresholds", json={"auto_link": 0.9},
                             headers=h), 422, "/body/review")
    assert counts(conn) == written
    r = await client.put("/api/v1/triangulation/thresholds", json={"mission": "M1", "auto_link": 0.9, "review": 0.5},
                         headers=h)
    assert r.status_code == 200 and r.json()["source"] == "mission"
    got = (await client.get("/api/v1/triangulation/thresholds?mission=M1", headers=auth("analyst"))).json()
    assert (got["auto_link"], got["review"]) == (0.9, 0.5)
    default = (await client.get("/api/v1/triangulation/thresholds", headers=auth("analyst"))).json()
    assert (default["auto_link"], default["source"]) == (0.85, "settings")


async def test_mission_thresholds_decide_the_outcome(client, auth):
    await client.put("/api/v1/triangulation/thresholds", json={"auto_link": 0.99, "review": 0.6},
                     headers=auth("admin"))
    await post(client, auth)
    second = await post(client, auth, report=REPORT_C)  # identical: linked at 0.85, held at 0.99
    assert second["triangulation"]["outcome"] == "queued"


async def test_actor_aliases_are_edited_by_analysts_and_used(client, auth, conn):
    h = auth("analyst")
    problem(await client.post("/api/v1/actor-aliases", json={"alias": "Unidentified Armed Group", "canonical": "X"},
                              headers=h), 422, "/body/alias")
    problem(await client.post("/api/v1/actor-aliases", json={"alias": "A", "canonical": "B", "valid_from": "2024-02-01",
                                                             "valid_to": "2024-01-01"}, headers=h), 422, "/body/valid_to")
    assert counts(conn)["actor_alias"] == 0
    a = await post(client, auth, perpetrators=["Union pour la Paix en Centrafrique"])
    b = await post(client, auth, perpetrators=["UPC"], report=REPORT_C)
    assert b["triangulation"]["outcome"] != "linked"  # unknown to each other: names disagree
    r = await client.post("/api/v1/actor-aliases", json={"alias": "Union pour la Paix en Centrafrique",
                                                         "canonical": "UPC"}, headers=h)
    assert r.status_code == 201, r.text
    problem(await client.post("/api/v1/actor-aliases", json={"alias": "Union pour la Paix en Centrafrique",
                                                             "canonical": "UPC"}, headers=h), 409, "/body/alias")
    c = await post(client, auth, perpetrators=["UPC"], report={**REPORT_C, "section": "police"})
    assert c["triangulation"]["outcome"] == "linked" and c["triangulation"]["incident_id"] == a["id"]
    items = (await client.get("/api/v1/actor-aliases", headers=h)).json()["items"]
    assert [(i["alias"], i["canonical"]) for i in items] == [("Union pour la Paix en Centrafrique", "UPC")]
    assert (await client.delete(f"/api/v1/actor-aliases/{items[0]['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/actor-aliases/{items[0]['id']}", headers=h)).status_code == 404


async def test_a_missions_aliases_and_thresholds_apply_to_its_own_records_only(client, auth, settings,
                                                                              conn):
    """Each record is matched with its own mission's aliases and thresholds: the mission of the
    token that entered it (likewise an import's --mission, an alert integration's mission)."""
    from app.cli.support import create_token
    from app.domain import Role
    from tests.api.missions.test_missions_api import box, create

    for code in ("unx", "uny"):
        await create(client, auth, code=code, area=box(14, 2, 28, 11))
    scoped = {code: {"Authorization": "Bearer " + create_token(settings, Role.analyst, f"{code}-a",
                                                                 mission=code)}
              for code in ("unx", "uny")}
    r = await client.post("/api/v1/actor-aliases", json={"mission": "unx", "canonical": "UPC",
                                                         "alias": "Union pour la Paix en Centrafrique"},
                          headers=auth("analyst"))
    assert r.status_code == 201, r.text

    async def entered_by(headers, **over):
        r = await client.post("/api/v1/incidents", json=body(**over), headers=headers)
        assert r.status_code == 201, r.text
        return r.json()

    full = ["Union pour la Paix en Centrafrique"]
    here, there = {"latitude": 4.39, "longitude": 18.56}, {"latitude": 7.0, "longitude": 21.0}
    a = await post(client, auth, perpetrators=full, **here)
    other = await entered_by(scoped["uny"], perpetrators=["UPC"], report=REPORT_C, **here)
    assert other["triangulation"]["outcome"] != "linked"  # another mission's alias: names disagree
    b = await post(client, auth, perpetrators=full, **there)
    own = await entered_by(scoped["unx"], perpetrators=["UPC"], report=REPORT_C, **there)
    assert own["triangulation"]["outcome"] == "linked"
    assert own["triangulation"]["incident_id"] == b["id"] != a["id"]
    assert conn.execute("SELECT mission_code FROM incident WHERE id = %s",
                        (own["id"],)).fetchone()[0] == "unx"
    conn.commit()

    # thresholds likewise: the strict one of unx holds its records' identical accounts for review
    await client.put("/api/v1/triangulation/thresholds",
                     json={"mission": "unx", "auto_link": 0.99, "review": 0.6}, headers=auth("admin"))
    far = {"latitude": 9.0, "longitude": 16.0}
    await post(client, auth, **far)
    held = await entered_by(scoped["unx"], report=REPORT_C, **far)
    assert held["triangulation"]["outcome"] == "queued"
    far2 = {"latitude": 9.5, "longitude": 25.0}
    await post(client, auth, **far2)
    linked = await entered_by(scoped["uny"], report=REPORT_C, **far2)
    assert linked["triangulation"]["outcome"] == "linked"


@pytest.mark.parametrize("path", ["/api/v1/duplicates?status=maybe", "/api/v1/duplicates?cursor=zz"])
async def test_bad_queue_queries_are_422(client, auth, path):
    r = await client.get(path, headers=auth("analyst"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


# ------------------------------------------------------------------ alerts on the one matcher
async def test_an_alert_held_as_a_possible_duplicate_leaves_the_queue_when_dismissed(
        client, auth, conn, settings, monkeypatch):
    from tests.support.alerts import alert_doc, make_integration, post_alert

    monkeypatch.setattr(settings, "triage_link_score", 0.99)  # likely, not certain: held
    first = await post(client, auth, narrative="Two men killed at the market.")
    integ = await make_integration(client, auth)
    r = await post_alert(client, integ, alert_doc(category="killing", text="Two men killed at the market",
                                                  latitude=4.392, longitude=18.561,
                                                  observed_at=WHEN))
    alert = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("operations"))).json()
    opened = alert["incident_id"]
    assert opened != first["id"] and (await get(client, auth, opened)).json()["status"] == "duplicate"
    [entry] = (await client.get("/api/v1/duplicates?status=pending", headers=auth("analyst"))).json()["items"]
    assert entry["incident_id"] == opened and entry["candidate_id"] == first["id"]
    listed = (await client.get("/api/v1/incidents", headers=auth("operations"))).json()["items"]
    assert [i["id"] for i in listed] == [first["id"]]  # held: not listed, not counted

    # operations may not join another alert to the held account
    other = (await post_alert(client, integ, alert_doc(latitude=6.0, longitude=20.0))).json()["id"]
    before, written = rows(conn), counts(conn)
    r = await client.post(f"/api/v1/alerts/{other}/merge", json={"incident_id": opened},
                          headers=auth("operations"))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert rows(conn) == before and counts(conn) == written

    r = await client.post(f"/api/v1/alerts/{alert['id']}/dismiss", json={"reason": "prank"},
                          headers=auth("operations"))
    assert r.status_code == 200, r.text
    assert (await get(client, auth, opened)).json()["status"] == "rejected"
    # nothing left to decide: the held account is gone
    assert (await client.get("/api/v1/duplicates?status=pending", headers=auth("analyst"))).json()["items"] == []


async def test_an_alert_cannot_join_a_merged_incident(client, auth, conn):
    from tests.support.alerts import alert_doc, make_integration, post_alert

    a, b = await distinct_incidents(client, auth, 2)
    await client.post(f"/api/v1/incidents/{b}/merge", json={"into": a}, headers=auth("analyst"))
    integ = await make_integration(client, auth)
    alert = (await post_alert(client, integ, alert_doc(latitude=6.5, longitude=21.0))).json()["id"]
    before, written = rows(conn), counts(conn)
    r = await client.post(f"/api/v1/alerts/{alert}/merge", json={"incident_id": b}, headers=auth("operations"))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert rows(conn) == before and counts(conn) == written
    r = await client.post(f"/api/v1/alerts/{alert}/merge", json={"incident_id": a}, headers=auth("operations"))
    assert r.status_code == 200, r.text


async def test_malformed_requests_are_refused_and_write_nothing(client, auth, conn):
    a, b = await distinct_incidents(client, auth, 2)
    await post(client, auth, latitude=3.0 + 8 / 111, longitude=16.0,
               occurred_start=(AS_OF - timedelta(days=2)).isoformat(), fatalities_best=3)
    [entry] = (await client.get("/api/v1/duplicates", headers=auth("analyst"))).json()["items"]
    before, written = rows(conn), counts(conn)
    h = auth("analyst")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={}, headers=h), 422, "/body/into")
    problem(await client.post(f"/api/v1/incidents/{a}/merge", json={"into": b, "why": "x"}, headers=h),
            422, "/body/why")
    problem(await client.post(f"/api/v1/duplicates/{entry['id']}/confirm", json={"comment": "x" * 2001},
                              headers=h), 422, "/body/comment")
    missing = "00000000-0000-0000-0000-000000000000"
    for path in (f"/api/v1/incidents/{missing}/merge", f"/api/v1/incidents/{missing}/unmerge",
                 f"/api/v1/duplicates/{missing}/confirm", f"/api/v1/duplicates/{missing}/reject"):
        r = await client.post(path, json={"into": a} if path.endswith("merge") else None, headers=h)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", path
    problem(await client.post("/api/v1/duplicates/nope/reject", headers=h), 422, "/path/duplicate_id")
    assert rows(conn) == before and counts(conn) == written


# ------------------------------------------------------------------ imports
ACLED_CSV = ("event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,actor2,latitude,"
             "longitude,geo_precision,fatalities,source,notes\n"
             "CAF1,2024-06-27,1,Violence against civilians,Attack,Seleka,Civilians,4.39,18.56,1,4,AFP,"
             "Two men killed at the market.\n"
             "CAF2,2024-06-20,1,Battles,Armed clash,Anti-balaka,Seleka,3.0,16.0,1,2,RFI,Clash.\n"
             "CAF3,2024-05-01,1,Battles,Armed clash,LRA,Civilians,6.5,23.0,1,0,RFI,Raid.\n")


async def upload(client, auth, text):
    files = {"file": ("acled.csv", text.encode(), "text/csv")}
    r = await client.post("/api/v1/imports", data={"source": "acled"}, files=files, headers=auth("analyst"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_reimporting_a_file_after_merges_adds_nothing(client, auth, conn):
    staff = await post(client, auth, report=REPORT_C)  # a section's entry of the market killing
    first = await upload(client, auth, ACLED_CSV)
    assert (first["inserted"], first["linked"], first["queued"], first["new"]) == (3, 1, 0, 2)
    ids = dict(conn.execute("SELECT external_id, id::text FROM incident WHERE external_source = 'acled'"
                            ).fetchall())
    conn.commit()
    assert (await get(client, auth, ids["CAF1"])).json()["merged_into"] == staff["id"]
    r = await client.post(f"/api/v1/incidents/{ids['CAF3']}/merge", json={"into": ids["CAF2"]},
                          headers=auth("analyst"))
    assert r.status_code == 200, r.text
    before, written = rows(conn), counts(conn)
    again = await upload(client, auth, ACLED_CSV)
    assert (again["inserted"], again["duplicates"], again["linked"], again["new"]) == (0, 3, 0, 0)
    assert rows(conn) == before
    assert {k: v for k, v in counts(conn).items() if k != "audit_event"} == \
        {k: v for k, v in written.items() if k != "audit_event"}
