"""Every endpoint declares its roles: 401 without a token, 403 for roles that may not, and the
right fields for roles that may (need to know)."""

import pytest

from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert

ROLES = ["admin", "analyst", "operations", "partner", "integration"]
BODY = incident_body()

# (method, path template, body, roles allowed)
ENDPOINTS = [
    ("POST", "/api/v1/incidents", BODY, {"admin", "analyst", "operations"}),
    ("GET", "/api/v1/incidents", None, {"admin", "analyst", "operations", "partner"}),
    ("GET", "/api/v1/incidents/{id}", None, {"admin", "analyst", "operations", "partner"}),
    ("PATCH", "/api/v1/incidents/{id}", {"injured": 1}, {"admin", "analyst"}),
    ("POST", "/api/v1/incidents/{id}/reports",
     {"section": "police", "source_reliability": "C", "information_credibility": 3},
     {"admin", "analyst", "operations"}),
    ("POST", "/api/v1/incidents/{id}/validate", None, {"admin", "analyst"}),
    ("POST", "/api/v1/incidents/{id}/reject", None, {"admin", "analyst"}),
    ("POST", "/api/v1/imports", None, {"admin", "analyst"}),
    ("GET", "/api/v1/tokens", None, {"admin"}),
    ("POST", "/api/v1/tokens", {"name": "matrix", "role": "partner"}, {"admin"}),
    ("DELETE", "/api/v1/tokens/{token}", None, {"admin"}),
    ("POST", "/api/v1/incidents/{id}/reports/{report}/reporter", {"reason": "role matrix"},
     {"admin", "analyst"}),
    ("POST", "/api/v1/alerts/{alert}/reporter-contact", {"reason": "role matrix"},
     {"admin", "analyst"}),
    ("PATCH", "/api/v1/integrations/{integration}", {"rate_limit_per_minute": 600}, {"admin"}),
    ("POST", "/api/v1/integrations", {"name": "matrix-new"}, {"admin"}),
    ("GET", "/api/v1/integrations", None, {"admin"}),
    ("POST", "/api/v1/integrations/{integration}/revoke", None, {"admin"}),
    # the matrix integration has no ack_url: allowed roles reach the service, which answers 409
    ("POST", "/api/v1/alerts/{alert}/acknowledgement", {"message": "reçu"},
     {"admin", "analyst", "operations"}),
    # approving: analysts reach the route but only admins approve (a validated incident an
    # analyst created, so four-eyes lets the admin)
    ("POST", "/api/v1/incidents/{id}/approve", None, {"admin"}),
    ("POST", "/api/v1/imports?approve", None, {"admin"}),
    ("GET", "/api/v1/hotspots/series?res=6&start=2024-01-01&end=2024-03-01&step_days=7", None,
     {"admin", "analyst", "operations", "partner"}),
    # products (issue 18)
    ("GET", "/api/v1/exports/incidents", None, {"admin", "analyst"}),
    ("GET", "/api/v1/exports/hotspots?as_of=2024-03-31", None,
     {"admin", "analyst", "operations", "partner"}),
    ("GET", "/api/v1/cot", None, {"admin", "analyst", "operations"}),
    ("GET", "/api/v1/information-requirements", None, {"admin", "analyst", "operations"}),
    ("POST", "/api/v1/information-requirements",
     {"question": "Where are civilians being killed?", "categories": ["killing"],
      "frequency_days": 7, "owner_section": "jmac",
      "area": {"type": "Polygon", "coordinates": [[[18, 4], [19, 4], [19, 5], [18, 5], [18, 4]]]}},
     {"admin", "analyst"}),
    ("GET", "/api/v1/information-requirements/gaps", None, {"admin", "analyst", "operations"}),
    ("GET", "/api/v1/reporting-effort", None, {"admin", "analyst", "operations"}),
    ("GET", "/api/v1/incidents/tiles/8/140/126.mvt", None,
     {"admin", "analyst", "operations", "partner"}),
    ("GET", "/api/v1/briefs?as_of=2024-03-03&charts=false", None,
     {"admin", "analyst", "operations", "partner"}),
    ("POST", "/api/v1/briefs", {"as_of": "2024-03-03"}, {"admin", "analyst"}),
    ("GET", "/api/v1/briefs/records", None, {"admin", "analyst", "operations", "partner"}),
    ("GET", "/api/v1/briefs/{brief}", None, {"admin", "analyst", "operations", "partner"}),
    ("GET", "/ogc/collections/warnings/schema.xsd", None, {"admin", "analyst", "operations"}),
    ("GET", "/ogc/collections/bases/queryables", None,
     {"admin", "analyst", "operations", "partner"}),
    # missions as data (issue 13)
    ("GET", "/api/v1/missions", None, {"admin", "analyst", "operations", "partner"}),
    ("POST", "/api/v1/missions",
     {"code": "unq", "countries": ["SSD"], "timezone": "Africa/Juba"}, {"admin"}),
    ("GET", "/api/v1/places?q=Bambari", None, {"admin", "analyst", "operations", "partner"}),
    ("POST", "/api/v1/footprint-reviews/compare",
     {"as_of": "2024-03-31", "compare_to": "2024-03-31", "window_days": 30},
     {"admin", "analyst", "operations"}),
    ("POST", "/api/v1/bases/imports", None, {"admin", "analyst"}),
    ("GET", "/api/v1/forecast/model", None, {"admin", "analyst", "operations", "partner"}),
    ("POST", "/api/v1/scenarios", {"as_of": "2024-03-10", "res": 6},
     {"admin", "analyst", "operations"}),
    # triangulation (docs/triangulation.md): analysts' work, partners never see it
    ("GET", "/api/v1/incidents/{id}/duplicates", None, {"admin", "analyst"}),
    ("POST", "/api/v1/incidents/{id}/merge", {"into": "{other}"}, {"admin", "analyst"}),
    ("POST", "/api/v1/incidents/{merged}/unmerge", None, {"admin", "analyst"}),
    ("GET", "/api/v1/duplicates?status=pending", None, {"admin", "analyst"}),
    ("POST", "/api/v1/duplicates/{duplicate}/confirm", None, {"admin", "analyst"}),
    ("POST", "/api/v1/duplicates/{duplicate}/reject", None, {"admin", "analyst"}),
    ("GET", "/api/v1/actor-aliases", None, {"admin", "analyst"}),
    ("POST", "/api/v1/actor-aliases", {"alias": "Union pour la Paix", "canonical": "UPC"},
     {"admin", "analyst"}),
    ("DELETE", "/api/v1/actor-aliases/{alias}", None, {"admin", "analyst"}),
    ("GET", "/api/v1/triangulation/thresholds", None, {"admin", "analyst"}),
    ("PUT", "/api/v1/triangulation/thresholds", {"auto_link": 0.9, "review": 0.7}, {"admin"}),
]
# statuses an allowed role gets when the service refuses for a reason other than the role
ALLOWED_STATUS = {"/api/v1/alerts/{alert}/acknowledgement": 409}
ELSEWHERE = incident_body(latitude=6.0, longitude=20.0)  # too far from BODY to be matched with it


async def _approved_incident(client, auth):
    iid = (await client.post("/api/v1/incidents", json=BODY, headers=auth("analyst"))).json()["id"]
    await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
    await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    return iid


async def _fill(client, auth, path, body, iid):
    """Ids the triangulation endpoints need: another incident, a merged one, a queue entry, an
    alias."""
    ids = {"id": iid}
    if "{other}" in str(body) or "{merged}" in path:
        ids["other"] = (await client.post("/api/v1/incidents", json=ELSEWHERE, headers=auth("analyst"))).json()["id"]
    if "{merged}" in path:
        far = incident_body(latitude=3.0, longitude=16.0)
        ids["merged"] = (await client.post("/api/v1/incidents", json=far, headers=auth("analyst"))).json()["id"]
        r = await client.post(f"/api/v1/incidents/{ids['merged']}/merge", json={"into": ids["other"]},
                              headers=auth("analyst"))
        assert r.status_code == 200, r.text
    if "{duplicate}" in path:  # 5 km away and a day later than BODY: a possible duplicate
        near = incident_body(latitude=4.39 + 5 / 111, occurred_start="2024-03-03T21:00:00Z",
                             fatalities_best=3)
        r = await client.post("/api/v1/incidents", json=near, headers=auth("analyst"))
        assert r.json()["triangulation"]["outcome"] == "queued", r.text
        ids["duplicate"] = r.json()["triangulation"]["duplicate_id"]
    if "{alias}" in path:
        r = await client.post("/api/v1/actor-aliases", json={"alias": "Z", "canonical": "Y"},
                              headers=auth("analyst"))
        ids["alias"] = r.json()["id"]
    if isinstance(body, dict) and body.get("into") == "{other}":
        body = {"into": ids["other"]}
    for name, value in ids.items():  # other placeholders ({brief}) are _call's
        path = path.replace("{" + name + "}", value)
    return path, body


async def _call(client, method, path, body, headers, auth=None):
    if "{brief}" in path:  # a kept partner edition, which every reader may open
        kept = await client.post("/api/v1/briefs", json={"as_of": "2024-03-03",
                                                         "edition": "partner"},
                                 headers=auth("analyst"))
        path = path.replace("{brief}", kept.json()["id"])
    if path == "/api/v1/bases/imports":
        files = {"file": ("g.csv", b"mission,year,location,latitude,longitude\n"
                                   b"UNQ,2024,Somewhere,5.0,20.0\n", "text/csv")}
        return await client.post(path, files=files, headers=headers)
    if path.startswith("/api/v1/imports"):
        files = {"file": ("x.csv", b"event_id_cnty,event_date\n", "text/csv")}
        data = {"source": "acled"} | ({"approve": "true"} if path.endswith("?approve") else {})
        return await client.post("/api/v1/imports", data=data, files=files, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("role", [None, *ROLES])
@pytest.mark.parametrize("method,path,body,allowed", ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
async def test_role_matrix(client, auth, role, method, path, body, allowed):
    iid = await _approved_incident(client, auth)
    if path.endswith(("/validate", "/reject", "/approve")):
        iid = (await client.post("/api/v1/incidents", json=ELSEWHERE, headers=auth("analyst"))).json()["id"]
    if path.endswith("/approve"):
        await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
    headers = auth(role) if role else {}
    ids: dict[str, str] = {}
    if "{token}" in path:
        ids["{token}"] = (await client.post("/api/v1/tokens",
                                            json={"name": "victim", "role": "partner"},
                                            headers=auth("admin"))).json()["id"]
    if "{report}" in path:
        ids["{report}"] = (await client.get(f"/api/v1/incidents/{iid}",
                                            headers=auth("admin"))).json()["reports"][0]["id"]
    if "{alert}" in path or "{integration}" in path:
        integ = await make_integration(client, auth, name="matrix")
        ids["{integration}"] = "matrix"
        posted = await post_alert(client, integ, alert_doc(reporter_contact="+236 70 00 00 99"))
        ids["{alert}"] = posted.json()["id"]
    url = path
    for placeholder, value in ids.items():
        url = url.replace(placeholder, value)
    url, body = await _fill(client, auth, url, body, iid)
    r = await _call(client, method, url, body, headers, auth)
    if role is None:
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    elif role not in allowed:
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "urn:kinga:problem:forbidden"
    elif path in ALLOWED_STATUS:
        assert r.status_code == ALLOWED_STATUS[path], r.text
    else:
        assert r.status_code in (200, 201, 204), r.text


async def test_a_revoked_or_unknown_token_is_refused(client):
    r = await client.get("/api/v1/incidents", headers={"Authorization": "Bearer kinga_nope"})
    assert r.status_code == 401


async def test_fields_follow_the_role(client, auth):
    iid = await _approved_incident(client, auth)
    entered = (await client.post("/api/v1/incidents", json=BODY, headers=auth("analyst"))).json()["id"]
    analyst = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("analyst"))).json()
    ops = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("operations"))).json()
    partner = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("partner"))).json()
    assert analyst["reports"][0]["has_reporter_ref"] is True  # the reference itself: audited reveal
    assert "CAN focal point 17" not in str(analyst)
    assert "has_reporter_ref" not in ops["reports"][0] and "source_name" not in ops["reports"][0]
    assert ops["perpetrators"] == ["Unknown armed men"]
    for hidden in ("narrative", "perpetrators", "reports", "created_by"):
        assert hidden not in partner
    assert "Unknown armed men" not in str(partner) and "focal point" not in str(partner)
    # partners see approved incidents only, in reads and in lists
    assert (await client.get(f"/api/v1/incidents/{entered}", headers=auth("partner"))).status_code == 404
    listed = (await client.get("/api/v1/incidents", headers=auth("partner"))).json()["items"]
    assert [i["id"] for i in listed] == [iid]


# --- the response loop (issue 15): warnings from every source, responses, escalation,
# acknowledgement settings, saved patrol plans and reports, metrics and impact. Partners read
# (sanitised) warnings because the test settings share them (KINGA_PARTNER_WARNINGS_SHARED);
# tests/api/loop/test_response_record.py refuses them where a mission does not.
STAFF = {"admin", "analyst", "operations"}
READ = STAFF | {"partner"}
FLASH = {"latitude": 5.80, "longitude": 20.70, "headline": "Armed men gathering at the market",
         "severity": "Severe", "urgency": "Immediate", "certainty": "Likely"}
LOOP_ENDPOINTS = [
    ("POST", "/api/v1/warnings", FLASH, STAFF),
    ("GET", "/api/v1/warnings", None, READ),
    ("GET", "/api/v1/warnings?overdue=true", None, READ),
    ("GET", "/api/v1/warnings/{wid}", None, READ),
    ("POST", "/api/v1/warnings/{wid}/status", {"status": "acknowledged"}, STAFF),
    ("POST", "/api/v1/warnings/{wid}/responses", {"type": "patrol", "unit": "Coy A"}, STAFF),
    ("PATCH", "/api/v1/warnings/{wid}/responses/{rid}", {"people": 12}, STAFF),
    ("POST", "/api/v1/alerts/{aid}/escalate", None, STAFF),
    ("POST", "/api/v1/incidents/{iid}/escalate", None, STAFF),
    ("PATCH", "/api/v1/integrations/{name}", {"acknowledge_reporters": False}, {"admin"}),
    ("POST", "/api/v1/patrol-plans", "PLAN", STAFF),
    ("GET", "/api/v1/patrol-plans", None, STAFF),
    ("GET", "/api/v1/patrol-plans/{pid}", None, STAFF),
    ("POST", "/api/v1/patrol-plans/{pid}/approve", None, {"admin", "operations"}),
    ("POST", "/api/v1/patrol-plans/{pid}/tasks/{tid}/report",
     {"status": "done", "started_at": "2024-03-11T18:00:00Z"}, STAFF),
    ("GET", "/api/v1/patrol-execution", None, STAFF),
    ("GET", "/api/v1/response-metrics?by=field_office", None, STAFF),
    ("GET", "/api/v1/impact", None, STAFF),
]


async def _loop_ids(client, auth, path):
    from tests.support.alerts import alert_doc, make_integration, post_alert

    ids = {}
    if "{wid}" in path:
        r = await client.post("/api/v1/warnings", json=FLASH, headers=auth("analyst"))
        ids["wid"] = r.json()["id"]
    if "{rid}" in path:
        r = await client.post(f"/api/v1/warnings/{ids['wid']}/responses", headers=auth("analyst"),
                              json={"type": "patrol", "unit": "Coy A"})
        ids["rid"] = r.json()["id"]
    if "{aid}" in path or "{name}" in path:
        integ = await make_integration(client, auth)
        ids["name"] = integ["name"]
        ids["aid"] = (await post_alert(client, integ, alert_doc())).json()["id"]
    if "{iid}" in path:
        ids["iid"] = (await client.post("/api/v1/incidents", json=BODY, headers=auth("analyst"))).json()["id"]
    if "{pid}" in path or path == "/api/v1/patrol-plans":
        from tests.api.planning.test_patrols_api import PLAN, seed

        await seed(client, auth)
        ids["plan"] = PLAN
        if "{pid}" in path:
            plan = (await client.post("/api/v1/patrol-plans", json={**PLAN, "save": True},
                                      headers=auth("operations"))).json()
            ids["pid"], ids["tid"] = plan["id"], plan["tasks"][0]["id"]
    return ids


@pytest.mark.parametrize("role", [None, *ROLES])
@pytest.mark.parametrize("method,path,body,allowed", LOOP_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in LOOP_ENDPOINTS])
async def test_response_loop_role_matrix(client, auth, conn, role, method, path, body, allowed):
    ids = await _loop_ids(client, auth, path)
    if body == "PLAN":
        body = {**ids["plan"], "save": True}
    headers = auth(role) if role else {}
    before = conn.execute("SELECT (SELECT count(*) FROM warning), (SELECT count(*) FROM "
                          "warning_response), (SELECT count(*) FROM patrol_report)").fetchone()
    conn.commit()
    r = await client.request(method, path.format(**ids), json=body, headers=headers)
    if role is None:
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    elif role not in allowed:
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "urn:kinga:problem:forbidden"
    else:
        assert r.status_code in (200, 201), r.text
        return
    after = conn.execute("SELECT (SELECT count(*) FROM warning), (SELECT count(*) FROM "
                         "warning_response), (SELECT count(*) FROM patrol_report)").fetchone()
    conn.commit()
    assert after == before  # refused: nothing written
# --- generated from the app's routes: a new route without declared roles fails ---------------

from app.main import create_app  # noqa: E402
from app.openapi import api_routes, route_roles  # noqa: E402
from app.settings import Settings  # noqa: E402

# Routes anyone may call: they hold no mission data.
PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/health/ping"), ("GET", "/map"),
          ("GET", "/map/countries.geojson"), ("GET", "/map/assets/{name}"), ("GET", "/map/sw.js")}
ROUTES = sorted((method, route.path_format, route_roles(route))
                for route in api_routes(create_app(Settings()))
                for method in route.methods)


def test_every_route_declares_its_roles():
    undeclared = [(m, p) for m, p, roles in ROUTES if roles is None and (m, p) not in PUBLIC]
    assert undeclared == [], f"routes without require(...): {undeclared}"
    assert {(m, p) for m, p, roles in ROUTES if roles is None} == PUBLIC


async def _world(client, auth):
    incident = (await client.post("/api/v1/incidents", json=BODY, headers=auth("analyst"))).json()["id"]
    base = (await client.post("/api/v1/bases", headers=auth("admin"), json={
        "name": "Matrix base", "kind": "field_office", "latitude": 4.4, "longitude": 18.6,
        "opened_on": "2020-01-01"})).json()["id"]
    integ = (await client.post("/api/v1/integrations", headers=auth("admin"), json={
        "name": "matrix", "require_signature": False})).json()["token"]
    return {"incident_id": incident, "base_id": base, "feature_id": incident,
            "alert_id": "00000000-0000-4000-8000-000000000001",
            "warning_id": "00000000-0000-4000-8000-000000000002", "name": "no-such-integration",
            "cell": "862a1072fffffff", "collection_id": "incidents", "z": "1", "x": "0", "y": "0",
            "brief_id": "00000000-0000-4000-8000-000000000003", "code": "no-such-mission",
            "duplicate_id": "00000000-0000-4000-8000-000000000004",
            "alias_id": "00000000-0000-4000-8000-000000000005",
            "response_id": "00000000-0000-4000-8000-000000000006",
            "plan_id": "00000000-0000-4000-8000-000000000007", "task_id": "no-such-task",
            "report_id": "00000000-0000-4000-8000-000000000008",
            "token_id": "00000000-0000-4000-8000-000000000009",
            }, integ


async def test_generated_role_matrix(client, auth):
    """Every route × every caller: no token → 401, a role the route does not declare → 403,
    a declared role → neither (the request itself may still be refused: 404, 409, 422…).
    One pass over one small world (routes that change it run last; a deleted base or a moved
    incident only turns later answers into 404 or 409)."""
    world, integration_token = await _world(client, auth)
    wrong = []
    checked = 0
    order = sorted((r for r in ROUTES if r[2] is not None),
                   key=lambda r: (r[0] == "DELETE", r[0] != "GET", r[1]))
    for method, path, roles in order:
        url = path.format(**{k: v for k, v in world.items() if "{" + k + "}" in path})
        for role in [None, *sorted(ROLES, key=lambda r: r in roles)]:
            if role is None:
                headers = {}
            elif role == "integration" and role in roles:
                headers = {"Authorization": f"Bearer {integration_token}"}
            else:
                headers = auth(role)
            r = await client.request(method, url, headers=headers)
            checked += 1
            expected = ("401" if role is None else "403" if role not in roles
                        else "neither 401 nor 403 (nor 5xx)")
            ok = (r.status_code == 401 if role is None
                  else r.status_code == 403 and r.json()["type"].endswith(":forbidden")
                  if role not in roles else r.status_code not in (401, 403) and r.status_code < 500)
            if not ok:
                wrong.append(f"{method} {path} as {role}: {r.status_code}, expected {expected}")
    assert checked == len(order) * (len(ROLES) + 1)
    assert wrong == [], "\n".join(wrong)
