"""Every input the access rules refuse (issue 11) is answered with problem+json and writes
nothing: not a row, not a changed value, not an audit line, in any table. The state of every table
is fingerprinted before and after each refusal (a token's `last_used_at` aside: recording that a
valid token was used is bookkeeping, batched, not the refused request's effect)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import incident_body
from tests.support.alerts import alert_doc, make_integration, post_alert, signed, triage_now

NOBODY = "00000000-0000-0000-0000-000000000000"
SKIP_TABLES = {"spatial_ref_sys", "alembic_version"}


def fingerprint(conn) -> dict[str, str]:
    """A digest of every row of every table (api_token without last_used_at)."""
    conn.commit()  # a fresh snapshot
    tables = [t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1") if t not in SKIP_TABLES]
    out = {}
    for table in tables:
        row = "to_jsonb(t) - 'last_used_at'" if table == "api_token" else "to_jsonb(t)"
        rows = [r for (r,) in conn.execute(f'SELECT ({row})::text FROM "{table}" t')]
        out[table] = hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()[:16]
    conn.commit()
    return out


@dataclass
class World:
    validated: str  # created by the analyst, validated
    own: str  # created by the admin, validated (four-eyes: the admin may not approve it)
    entered: str
    report: str
    alert: str  # holds an encrypted contact; its integration has no ack_url
    blanked: str  # its contact was blanked by retention
    revoked_token_id: str
    expired_token: str
    gateway: dict[str, Any]
    revoked_gateway: dict[str, Any]


async def _world(client, auth, conn) -> World:
    async def incident(role: str, validate: bool, day: int) -> str:
        # distinct events (days apart): identical accounts would be triangulated into one
        body = incident_body(occurred_start=f"2024-03-{day:02d}T21:00:00Z")
        iid = (await client.post("/api/v1/incidents", json=body, headers=auth(role))).json()["id"]
        if validate:
            r = await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("analyst"))
            assert r.status_code == 200, r.text
        return iid

    validated, own, entered = (await incident("analyst", True, 2), await incident("admin", True, 9),
                               await incident("analyst", False, 16))
    report = (await client.get(f"/api/v1/incidents/{validated}",
                               headers=auth("analyst"))).json()["reports"][0]["id"]
    gateway = await make_integration(client, auth, name="gw", formats=["json"])
    alert = (await post_alert(client, gateway, alert_doc(reporter_contact="+236 72 41 88 05"))).json()["id"]
    blanked = (await post_alert(client, gateway, alert_doc(text="armed men at the ferry",
                                                           reporter_contact="+236 72 00 00 01"))).json()["id"]
    revoked_gateway = await make_integration(client, auth, name="gw-old", formats=["json"])
    assert (await client.post("/api/v1/integrations/gw-old/revoke",
                              headers=auth("admin"))).status_code == 200
    await triage_now(client)
    conn.execute("UPDATE alert SET reporter_contact = NULL, sender_key = NULL WHERE id = %s", (blanked,))
    made = (await client.post("/api/v1/tokens", json={"name": "gone", "role": "partner"},
                              headers=auth("admin"))).json()
    assert (await client.delete(f"/api/v1/tokens/{made['id']}", headers=auth("admin"))).status_code == 200
    expired = (await client.post("/api/v1/tokens", json={"name": "old", "role": "analyst"},
                                 headers=auth("admin"))).json()
    conn.execute("UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = %s",
                 (expired["id"],))
    conn.commit()
    return World(validated, own, entered, report, alert, blanked, made["id"], expired["token"],
                 gateway, revoked_gateway)


CSV = b"event_id_cnty,event_date\n"
# (id, role or a World attribute holding a token, method, path template, request kwargs,
#  status, problem type suffix or None, pointer or None)
CASES: list[tuple[Any, ...]] = [
    # approval means approval
    ("analyst-import-approve", "analyst", "POST", "/api/v1/imports",
     {"data": {"source": "acled", "approve": "true"}, "files": {"file": ("x.csv", CSV, "text/csv")}},
     403, "forbidden", "/body/approve"),
    ("analyst-import-status-approved", "analyst", "POST", "/api/v1/imports",
     {"data": {"source": "acled", "status": "approved"}, "files": {"file": ("x.csv", CSV, "text/csv")}},
     403, "forbidden", "/body/status"),
    ("four-eyes", "admin", "POST", "/api/v1/incidents/{own}/approve", {}, 403, "four-eyes", None),
    ("analyst-approves", "analyst", "POST", "/api/v1/incidents/{validated}/approve", {},
     403, "forbidden", None),
    ("approve-unvalidated", "admin", "POST", "/api/v1/incidents/{entered}/approve", {}, 409, None, None),
    ("approve-missing", "admin", "POST", f"/api/v1/incidents/{NOBODY}/approve", {}, 404, None, None),
    # no inference through filters
    ("partner-perpetrator-incidents", "partner", "GET", "/api/v1/incidents?perpetrator=anti-balaka",
     {}, 403, "forbidden-filter", "/query/perpetrator"),
    ("partner-perpetrator-hotspots", "partner", "GET", "/api/v1/hotspots?perpetrator=anti-balaka",
     {}, 403, "forbidden-filter", "/query/perpetrator"),
    # reporters: reveal
    ("reveal-no-reason", "analyst", "POST", "/api/v1/alerts/{alert}/reporter-contact", {"json": {}},
     422, "validation", "/body/reason"),
    ("reveal-control-chars", "analyst", "POST", "/api/v1/alerts/{alert}/reporter-contact",
     {"json": {"reason": "why\x07"}}, 422, "validation", "/body/reason"),
    ("reveal-operations", "operations", "POST", "/api/v1/alerts/{alert}/reporter-contact",
     {"json": {"reason": "curious"}}, 403, "forbidden", None),
    ("reveal-missing-alert", "analyst", "POST", f"/api/v1/alerts/{NOBODY}/reporter-contact",
     {"json": {"reason": "follow-up"}}, 404, None, None),
    ("reveal-blanked", "analyst", "POST", "/api/v1/alerts/{blanked}/reporter-contact",
     {"json": {"reason": "follow-up"}}, 404, None, None),
    ("reveal-report-partner", "partner", "POST", "/api/v1/incidents/{validated}/reports/{report}/reporter",
     {"json": {"reason": "curious"}}, 403, "forbidden", None),
    ("reveal-report-other-incident", "analyst", "POST",
     "/api/v1/incidents/{entered}/reports/{report}/reporter", {"json": {"reason": "follow-up"}},
     404, None, None),
    # reporters: acknowledgement
    ("ack-no-ack-url", "operations", "POST", "/api/v1/alerts/{alert}/acknowledgement",
     {"json": {"message": "reçu"}}, 409, None, None),
    ("ack-blanked", "operations", "POST", "/api/v1/alerts/{blanked}/acknowledgement",
     {"json": {"message": "reçu"}}, 409, None, None),
    ("ack-too-long", "operations", "POST", "/api/v1/alerts/{alert}/acknowledgement",
     {"json": {"message": "x" * 481}}, 422, "validation", "/body/message"),
    # tokens
    ("token-integration-role", "admin", "POST", "/api/v1/tokens",
     {"json": {"name": "x", "role": "integration"}}, 422, "validation", "/body/role"),
    ("token-forever", "admin", "POST", "/api/v1/tokens",
     {"json": {"name": "x", "role": "partner", "expires_days": 100_000}}, 422, "validation",
     "/body/expires_days"),
    ("token-by-analyst", "analyst", "POST", "/api/v1/tokens",
     {"json": {"name": "x", "role": "admin"}}, 403, "forbidden", None),
    ("token-revoke-twice", "admin", "DELETE", "/api/v1/tokens/{revoked_token_id}", {}, 409, None, None),
    ("token-revoke-missing", "admin", "DELETE", f"/api/v1/tokens/{NOBODY}", {}, 404, None, None),
    ("token-revoke-not-uuid", "admin", "DELETE", "/api/v1/tokens/x'--", {}, 422, "validation",
     "/path/token_id"),
    ("token-expired", "expired_token", "GET", "/api/v1/incidents", {}, 401, "token-expired", None),
    ("token-list-by-operations", "operations", "GET", "/api/v1/tokens", {}, 403, "forbidden", None),
    # integrations: rate limit, ack URL, revocation
    ("integration-zero-limit", "admin", "POST", "/api/v1/integrations",
     {"json": {"name": "new", "rate_limit_per_minute": 0}}, 422, "validation",
     "/body/rate_limit_per_minute"),
    ("integration-6to4-ack", "admin", "POST", "/api/v1/integrations",
     {"json": {"name": "new", "ack_url": "http://[2002:7f00:1::]/ack"}}, 422, "validation",
     "/body/ack_url"),
    ("integration-patch-burst", "admin", "PATCH", "/api/v1/integrations/gw",
     {"json": {"rate_limit_burst": -1}}, 422, "validation", "/body/rate_limit_burst"),
    ("integration-patch-loopback-ack", "admin", "PATCH", "/api/v1/integrations/gw",
     {"json": {"ack_url": "http://localhost:9/ack"}}, 422, "validation", "/body/ack_url"),
    ("integration-patch-unknown-field", "admin", "PATCH", "/api/v1/integrations/gw",
     {"json": {"require_signature": False}}, 422, "validation", "/body/require_signature"),
    ("integration-patch-revoked", "admin", "PATCH", "/api/v1/integrations/gw-old",
     {"json": {"rate_limit_per_minute": 5}}, 404, None, None),
    ("integration-revoke-twice", "admin", "POST", "/api/v1/integrations/gw-old/revoke", {}, 404, None, None),
    ("integration-patch-by-analyst", "analyst", "PATCH", "/api/v1/integrations/gw",
     {"json": {"rate_limit_per_minute": 5}}, 403, "forbidden", None),
    # outbound: webhook targets embedding private ranges
    ("subscription-6to4", "admin", "POST", "/api/v1/warnings/subscriptions",
     {"json": {"name": "h", "url": "http://[2002:7f00:1::]/h"}}, 422, "validation", "/body/url"),
    ("subscription-nat64", "admin", "POST", "/api/v1/warnings/subscriptions",
     {"json": {"name": "h", "url": "http://[64:ff9b::a00:1]/h"}}, 422, "validation", "/body/url"),
    ("subscription-teredo", "admin", "POST", "/api/v1/warnings/subscriptions",
     {"json": {"name": "h", "url": "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/h"}}, 422,
     "validation", "/body/url"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_a_refused_access_input_writes_nothing(client, auth, conn, case):
    _, who, method, path, kwargs, status, kind, pointer = case
    world = await _world(client, auth, conn)
    headers = (auth(who) if who in ("admin", "analyst", "operations", "partner", "integration")
               else {"Authorization": f"Bearer {getattr(world, who)}"})
    url = path.format(**{k: v for k, v in vars(world).items() if isinstance(v, str)})
    before = fingerprint(conn)
    r = await client.request(method, url, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    if kind:
        assert problem["type"] == f"urn:kinga:problem:{kind}"
    if pointer:
        assert pointer in [e["pointer"] for e in problem.get("errors", [])], problem
    after = fingerprint(conn)
    assert {t: h for t, h in after.items() if before.get(t) != h} == {}


async def test_alerts_of_a_revoked_integration_store_nothing(client, auth, conn):
    world = await _world(client, auth, conn)
    body = b'{"latitude": 4.39, "longitude": 18.56, "text": "armed men near the school"}'
    before = fingerprint(conn)
    r = await client.post("/api/v1/alerts", content=body,
                          headers=signed(world.revoked_gateway, body, key="k-1"))
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert fingerprint(conn) == before


async def test_the_fingerprint_sees_a_write(client, auth, conn):
    """The law above can fail: an accepted change moves the fingerprint of its tables."""
    world = await _world(client, auth, conn)
    before = fingerprint(conn)
    r = await client.patch("/api/v1/integrations/gw", json={"rate_limit_per_minute": 5},
                           headers=auth("admin"))
    assert r.status_code == 200
    changed = {t for t, h in fingerprint(conn).items() if before[t] != h}
    assert {"integration", "audit_event"} <= changed
    assert world.alert
