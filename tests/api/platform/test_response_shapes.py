"""The OpenAPI document describes what the routes really answer.

1. No operation documents a 2xx JSON answer as an untyped object (`{"type": "object"}` with no
   properties, or no schema at all): every one declares its model.
2. The real answers of the operations that build their JSON themselves (orjson, no validation on
   the way out) validate against the schema the document declares for them, for a realistic call
   each over the bundled real data (`kinga seed`: the UCDP CAR events, the Geo-PKO bases, the
   mission). Response models forbid fields they do not name, so a field a route adds without
   documenting it fails here too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from app.cli.support import seed_bundled
from app.main import create_app
from app.settings import Settings
from tests.conftest import incident_body

DOC = create_app(Settings()).openapi()
SCHEMAS = DOC["components"]["schemas"]


def _resolve(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    while schema and "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def untyped(schema: dict[str, Any] | None, top: bool = True) -> str | None:
    """Why `schema` says nothing of the body's shape, or None when it does."""
    schema = _resolve(schema)
    if not schema:
        return "no schema"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            reasons = [untyped(s, top) for s in schema[key] if _resolve(s) != {"type": "null"}]
            return next((r for r in reasons if r), None)
    if schema.get("type") == "array":
        return untyped(schema.get("items"), False) if top else None
    is_object = schema.get("type") == "object" or not ({"type", "allOf", "const", "enum"}
                                                       & schema.keys())
    if is_object and not schema.get("properties") \
            and schema.get("additionalProperties") in (None, True, {}):
        return "an untyped object"
    return None


def _json_responses() -> list[tuple[str, str, str, dict[str, Any] | None]]:
    out = []
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            for status, resp in (op.get("responses") or {}).items():
                if not status.startswith("2"):
                    continue
                for media, content in (resp.get("content") or {}).items():
                    if "json" in media:
                        out.append((f"{method.upper()} {path}", status, media,
                                    content.get("schema")))
    return out


def test_no_success_response_is_an_untyped_object() -> None:
    found = [f"{label} {status} {media}: {why}"
             for label, status, media, schema in _json_responses()
             if (why := untyped(schema))]
    assert found == [], "\n".join(found)


def test_the_check_sees_an_untyped_object() -> None:
    """The law above can fail: a bare object, a missing schema, a list of bare objects."""
    assert untyped({"type": "object"}) == "an untyped object"
    assert untyped(None) == "no schema"
    assert untyped({"type": "array", "items": {"type": "object",
                                                "additionalProperties": True}})
    assert untyped({"$ref": "#/components/schemas/Problem"}) is None


# --- the real answers validate against the declared schemas ---------------------------------

# Every operation this file calls: each built its JSON without a model until the models below
# were declared (docs/hardening.md).
CALLED = {
    "POST /api/v1/bases/imports", "GET /api/v1/briefs", "POST /api/v1/briefs",
    "GET /api/v1/briefs/records", "GET /api/v1/briefs/{brief_id}",
    "POST /api/v1/alerts/{alert_id}/escalate", "POST /api/v1/incidents/{incident_id}/escalate",
    "POST /api/v1/alerts/{alert_id}/reporter-contact", "POST /api/v1/alerts/{alert_id}/acknowledgement",
    "POST /api/v1/footprint-reviews/compare", "GET /api/v1/impact",
    "GET /api/v1/information-requirements", "POST /api/v1/information-requirements",
    "GET /api/v1/information-requirements/gaps", "PATCH /api/v1/integrations/{name}",
    "GET /api/v1/missions", "POST /api/v1/missions", "GET /api/v1/missions/{code}",
    "PATCH /api/v1/missions/{code}", "GET /api/v1/missions/{code}/aors",
    "POST /api/v1/missions/{code}/aors", "GET /ogc/collections/{collection_id}/schema",
    "GET /ogc/collections/{collection_id}/queryables", "GET /api/v1/patrol-plans",
    "GET /api/v1/patrol-plans/{plan_id}", "POST /api/v1/patrol-plans/{plan_id}/approve",
    "POST /api/v1/patrol-plans/{plan_id}/tasks/{task_id}/report", "GET /api/v1/patrol-execution",
    "GET /api/v1/places", "GET /api/v1/reporting-effort",
    "PATCH /api/v1/warnings/{warning_id}/responses/{response_id}", "POST /api/v1/scenarios",
    "GET /api/v1/incidents/{incident_id}/duplicates", "POST /api/v1/incidents/{incident_id}/merge",
    "POST /api/v1/incidents/{incident_id}/unmerge", "GET /api/v1/duplicates",
    "POST /api/v1/duplicates/{duplicate_id}/confirm", "POST /api/v1/duplicates/{duplicate_id}/reject",
    "GET /api/v1/actor-aliases", "POST /api/v1/actor-aliases", "GET /api/v1/triangulation/thresholds",
    "PUT /api/v1/triangulation/thresholds", "POST /api/v1/warnings",
    "POST /api/v1/incidents/{incident_id}/reports/{report_id}/reporter",
}
DUMP = os.environ.get("KINGA_DUMP_SHAPES")  # a directory: write each answer there (development)
AOR = {"type": "Polygon", "coordinates": [[[20.3, 5.5], [21.0, 5.5], [21.0, 6.1], [20.3, 6.1],
                                           [20.3, 5.5]]]}


def _schema_of(label: str, status: int, media: str) -> dict[str, Any] | None:
    """The schema the document declares for this answer (None: the status or media type is not
    documented at all)."""
    method, path = label.split(" ", 1)
    op = DOC["paths"][path][method.lower()]
    content = (op["responses"].get(str(status)) or {}).get("content") or {}
    if media not in content:
        return None
    return {**content[media]["schema"], "components": DOC["components"]}


class Calls:
    """Calls operations, keeps each answer with the operation it came from."""

    def __init__(self, client: Any, auth: Any) -> None:
        self.client, self.auth = client, auth
        self.answers: list[tuple[str, Any]] = []

    async def __call__(self, label: str, url: str, role: str = "analyst", *, expect: int = 200,
                       **kw: Any) -> Any:
        method = label.split(" ", 1)[0]
        headers = {**self.auth(role), **kw.pop("headers", {})}
        r = await self.client.request(method, url, headers=headers, **kw)
        assert r.status_code == expect, f"{label}: {r.status_code} {r.text[:2000]}"
        self.answers.append((label, r))
        if DUMP:
            name = label.replace("/", "_").replace(" ", "_").replace("{", "").replace("}", "")
            Path(DUMP).mkdir(parents=True, exist_ok=True)
            (Path(DUMP) / f"{name}.json").write_bytes(r.content)
        return r.json()


async def _exercise(call: Calls, client: Any, auth: Any, settings: Settings) -> None:
    from tests.api.planning.test_patrols_api import PLAN, seed
    from tests.support.alerts import alert_doc, make_integration, post_alert

    list(seed_bundled(settings))
    # missions and their areas of responsibility
    await call("GET /api/v1/missions", "/api/v1/missions")
    await call("POST /api/v1/missions", "/api/v1/missions", "admin", expect=201,
               json={"code": "unq", "name": "Exercise mission", "countries": ["SSD"],
                     "timezone": "Africa/Juba"})
    await call("GET /api/v1/missions/{code}", "/api/v1/missions/minusca")
    await call("PATCH /api/v1/missions/{code}", "/api/v1/missions/unq", "admin",
               json={"name": "Exercise mission (renamed)"})
    await call("POST /api/v1/missions/{code}/aors", "/api/v1/missions/minusca/aors", "admin",
               expect=201, json={"aors": [{"name": "Sector East", "kind": "sector", "area": AOR}]})
    await call("GET /api/v1/missions/{code}/aors", "/api/v1/missions/minusca/aors")
    await call("GET /api/v1/places", "/api/v1/places?q=Bambari&limit=3")
    csv = (b"mission,year,location,latitude,longitude,no.troops\n"
           b"MINUSCA,2023,Exercise Post,5.76,20.67,120\n")
    await call("POST /api/v1/bases/imports", "/api/v1/bases/imports", "admin", expect=201,
               files={"file": ("geopko.csv", csv, "text/csv")})
    # information requirements
    await call("POST /api/v1/information-requirements", "/api/v1/information-requirements",
               expect=201, json={"question": "Where are civilians being killed?",
                                 "categories": ["killing", "sexual_violence"],
                                 "frequency_days": 30, "owner_section": "jmac", "area": AOR})
    await call("GET /api/v1/information-requirements", "/api/v1/information-requirements")
    await call("GET /api/v1/information-requirements/gaps",
               "/api/v1/information-requirements/gaps?as_of=2022-12-31&periods=3")
    # briefs over the seeded record
    await call("GET /api/v1/briefs", "/api/v1/briefs?as_of=2022-12-31")
    kept = await call("POST /api/v1/briefs", "/api/v1/briefs", expect=201,
                      json={"as_of": "2022-12-31"})
    await call("GET /api/v1/briefs/records", "/api/v1/briefs/records")
    await call("GET /api/v1/briefs/{brief_id}", f"/api/v1/briefs/{kept['id']}")
    # planning: the footprint compared between two dates, a scenario, the reporting effort
    await call("POST /api/v1/footprint-reviews/compare", "/api/v1/footprint-reviews/compare",
               "operations", json={"as_of": "2022-12-31", "compare_to": "2020-12-31",
                                   "window_days": 180})
    await call("POST /api/v1/scenarios", "/api/v1/scenarios", "operations",
               json={"as_of": "2022-12-31", "res": 6})
    await call("GET /api/v1/reporting-effort",
               "/api/v1/reporting-effort?start=2022-07-01&end=2022-12-31")
    await call("GET /ogc/collections/{collection_id}/schema", "/ogc/collections/incidents/schema")
    await call("GET /ogc/collections/{collection_id}/queryables",
               "/ogc/collections/bases/queryables", "partner")
    # triangulation: a possible duplicate confirmed, another rejected, a merge and its undoing
    a = await call("POST /api/v1/incidents", "/api/v1/incidents", expect=201,
                   json=incident_body())
    near = incident_body(latitude=4.39 + 5 / 111, occurred_start="2024-03-03T21:00:00Z",
                         fatalities_best=3)
    b = await call("POST /api/v1/incidents", "/api/v1/incidents", expect=201, json=near)
    assert b["triangulation"]["outcome"] == "queued", b
    report = (await client.get(f"/api/v1/incidents/{a['id']}", headers=auth("analyst"))
              ).json()["reports"][0]
    await call("POST /api/v1/incidents/{incident_id}/reports/{report_id}/reporter",
               f"/api/v1/incidents/{a['id']}/reports/{report['id']}/reporter", "admin",
               json={"reason": "follow-up interview"})
    await call("GET /api/v1/incidents/{incident_id}/duplicates",
               f"/api/v1/incidents/{a['id']}/duplicates")
    await call("GET /api/v1/duplicates", "/api/v1/duplicates?status=pending&limit=5")
    await call("POST /api/v1/duplicates/{duplicate_id}/confirm",
               f"/api/v1/duplicates/{b['triangulation']['duplicate_id']}/confirm",
               json={"comment": "same attack"})
    c = await call("POST /api/v1/incidents", "/api/v1/incidents", expect=201,
                   json=incident_body(latitude=4.39 + 5 / 111, fatalities_best=4,
                                      occurred_start="2024-03-03T22:00:00Z"))
    if c["triangulation"]["outcome"] == "queued":
        await call("POST /api/v1/duplicates/{duplicate_id}/reject",
                   f"/api/v1/duplicates/{c['triangulation']['duplicate_id']}/reject")
    far = await call("POST /api/v1/incidents", "/api/v1/incidents", expect=201,
                     json=incident_body(latitude=3.0, longitude=16.0))
    other = await call("POST /api/v1/incidents", "/api/v1/incidents", expect=201,
                       json=incident_body(latitude=6.0, longitude=20.0))
    await call("POST /api/v1/incidents/{incident_id}/merge", f"/api/v1/incidents/{far['id']}/merge",
               json={"into": other["id"]})
    await call("POST /api/v1/incidents/{incident_id}/unmerge",
               f"/api/v1/incidents/{far['id']}/unmerge")
    await call("POST /api/v1/actor-aliases", "/api/v1/actor-aliases", expect=201,
               json={"alias": "Union pour la Paix", "canonical": "UPC"})
    await call("GET /api/v1/actor-aliases", "/api/v1/actor-aliases")
    await call("PUT /api/v1/triangulation/thresholds", "/api/v1/triangulation/thresholds",
               "admin", json={"auto_link": 0.9, "review": 0.7})
    await call("GET /api/v1/triangulation/thresholds", "/api/v1/triangulation/thresholds")
    # the response loop: a warning and a response step, escalations, integration settings
    w = await call("POST /api/v1/warnings", "/api/v1/warnings", "operations", expect=201,
                   json={"latitude": 5.80, "longitude": 20.70, "severity": "Severe",
                         "headline": "Armed men gathering at the market",
                         "urgency": "Immediate", "certainty": "Likely"})
    step = await call("POST /api/v1/warnings/{warning_id}/responses",
                      f"/api/v1/warnings/{w['id']}/responses", "operations", expect=201,
                      json={"type": "patrol", "unit": "Coy A"})
    await call("PATCH /api/v1/warnings/{warning_id}/responses/{response_id}",
               f"/api/v1/warnings/{w['id']}/responses/{step['id']}", "operations",
               json={"people": 12})
    integ = await make_integration(client, auth)
    alert = (await post_alert(client, integ, alert_doc())).json()
    await call("POST /api/v1/alerts/{alert_id}/escalate", f"/api/v1/alerts/{alert['id']}/escalate",
               "operations", expect=201)
    await call("POST /api/v1/incidents/{incident_id}/escalate",
               f"/api/v1/incidents/{a['id']}/escalate", "operations", expect=201,
               json={"headline": "Killings at the market"})
    # a reporter's contact, read by an analyst and acknowledged through a gateway that is down
    gateway = await make_integration(client, auth, name="sms-gateway", formats=["json"],
                                     ack_url="http://127.0.0.1:9/ack")
    reported = (await post_alert(client, gateway, alert_doc(
        reporter_contact="+236 70 00 00 01", text="armed men at the ford"))).json()
    await call("POST /api/v1/alerts/{alert_id}/reporter-contact",
               f"/api/v1/alerts/{reported['id']}/reporter-contact", "analyst",
               json={"reason": "call back the reporter"})
    await call("POST /api/v1/alerts/{alert_id}/acknowledgement",
               f"/api/v1/alerts/{reported['id']}/acknowledgement", "operations",
               json={"message": "Your alert was received."})
    await call("PATCH /api/v1/integrations/{name}", f"/api/v1/integrations/{integ['name']}",
               "admin", json={"acknowledge_reporters": False})
    # saved patrol plans, a report, execution
    await seed(client, auth)
    plan = await call("POST /api/v1/patrol-plans", "/api/v1/patrol-plans", "operations",
                      expect=201, json={**PLAN, "save": True})
    await call("GET /api/v1/patrol-plans", "/api/v1/patrol-plans", "operations")
    await call("GET /api/v1/patrol-plans/{plan_id}", f"/api/v1/patrol-plans/{plan['id']}")
    await call("POST /api/v1/patrol-plans/{plan_id}/approve",
               f"/api/v1/patrol-plans/{plan['id']}/approve", "operations")
    await call("POST /api/v1/patrol-plans/{plan_id}/tasks/{task_id}/report",
               f"/api/v1/patrol-plans/{plan['id']}/tasks/{plan['tasks'][0]['id']}/report",
               "operations", expect=201,
               json={"status": "done", "started_at": "2024-03-11T18:00:00Z"})
    await call("GET /api/v1/patrol-execution", "/api/v1/patrol-execution", "operations")
    # the patrol reported above is a treatment the impact report measures
    impact = await call("GET /api/v1/impact",
                        "/api/v1/impact?start=2024-02-01T00:00:00Z&end=2024-04-30T00:00:00Z",
                        "operations")
    assert impact["events"], impact


async def test_real_answers_validate_against_their_declared_schemas(client, auth, settings,
                                                                    monkeypatch):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)  # a loopback gateway
    call = Calls(client, auth)
    await _exercise(call, client, auth, settings)
    wrong = []
    for label, r in call.answers:
        media = r.headers["content-type"].split(";")[0]
        body = r.json()
        schema = _schema_of(label, r.status_code, media)
        if schema is None:
            wrong.append(f"{label}: {r.status_code} {media} is not documented")
            continue
        validator = jsonschema_rs.validator_for(schema)
        errors = [f"  {'/'.join(map(str, e.instance_path))}: {e.message[:300]}"
                  for e in validator.iter_errors(body)][:8]
        if errors:
            wrong.append(f"{label} ({r.status_code} {media}):\n" + "\n".join(errors))
    missing = CALLED - {label for label, _ in call.answers}
    assert not missing, f"not exercised: {sorted(missing)}"
    assert wrong == [], "\n\n".join(wrong)


@pytest.mark.parametrize("body", [{"items": [{"code": 7}], "default": "unx"},
                                  {"items": [], "default": "unx", "surplus": 1},
                                  {"items": []}])
def test_a_wrong_answer_fails_validation(body: dict[str, Any]) -> None:
    """The validation above can fail: a wrong type, a field the model does not name, a field
    missing (while the right shape passes)."""
    schema = _schema_of("GET /api/v1/missions", 200, "application/json")
    assert schema is not None
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid({"items": [], "default": "unx"})
    assert not validator.is_valid(body)
