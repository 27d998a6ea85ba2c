"""Per-integration rate limit on alert intake (issue 11): off unless configured; over it a post
answers 429 problem+json with Retry-After and stores nothing; the limit is shared by every
server process (kept on the integration's row) and can be changed or removed by an admin."""

from __future__ import annotations

import pytest

from tests.support.alerts import alert_doc, counts, make_integration, post_alert


async def test_no_limit_unless_configured(client, auth):
    integ = await make_integration(client, auth)
    for i in range(30):
        r = await post_alert(client, integ, alert_doc(text=f"alert {i}", latitude=4.0 + i / 100))
        assert r.status_code == 201


async def test_over_the_limit_is_429_with_retry_after_and_nothing_stored(client, auth, conn):
    limited = await make_integration(client, auth, name="busy-gw", rate_limit_per_minute=2,
                                     rate_limit_burst=2)
    free = await make_integration(client, auth, name="quiet-gw")
    assert (await post_alert(client, limited, alert_doc(text="one"))).status_code == 201
    assert (await post_alert(client, limited, alert_doc(text="two"))).status_code == 201
    before = counts(conn)
    r = await post_alert(client, limited, alert_doc(text="three"), key="k-3")
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:kinga:problem:rate-limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    assert counts(conn) == before  # neither the alert nor its idempotency record
    # another integration is not affected
    assert (await post_alert(client, free, alert_doc(text="elsewhere"))).status_code == 201


async def test_an_admin_changes_or_removes_the_limit(client, auth, conn):
    integ = await make_integration(client, auth, name="gw", rate_limit_per_minute=1,
                                   rate_limit_burst=1)
    assert (await post_alert(client, integ, alert_doc(text="one"))).status_code == 201
    assert (await post_alert(client, integ, alert_doc(text="two"))).status_code == 429
    r = await client.patch("/api/v1/integrations/gw", json={"rate_limit_per_minute": None},
                           headers=auth("admin"))
    assert r.status_code == 200 and r.json()["rate_limit_per_minute"] is None
    assert (await post_alert(client, integ, alert_doc(text="three"))).status_code == 201
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_event WHERE object_type = "
                                          "'integration' ORDER BY id").fetchall()]
    assert actions == ["create", "update"]


@pytest.mark.parametrize("body,pointer", [
    ({"rate_limit_per_minute": 0}, "/body/rate_limit_per_minute"),
    ({"rate_limit_per_minute": "many"}, "/body/rate_limit_per_minute"),
    ({"rate_limit_burst": -1}, "/body/rate_limit_burst"),
    ({"ack_url": "http://10.0.0.1/ack"}, "/body/ack_url"),
    ({"ack_url": "gopher://x"}, "/body/ack_url"),
    ({"token": "x"}, "/body/token"),
])
async def test_bad_integration_changes_are_refused_and_write_nothing(client, auth, conn, body,
                                                                     pointer):
    await make_integration(client, auth, name="gw")
    before = conn.execute("SELECT to_jsonb(i) - 'created_at' FROM integration i").fetchone()[0]
    r = await client.patch("/api/v1/integrations/gw", json=body, headers=auth("admin"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json()["errors"]]
    assert conn.execute("SELECT to_jsonb(i) - 'created_at' FROM integration i").fetchone()[0] == before
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action = 'update'").fetchone()[0] == 0


async def test_unknown_integration_is_404(client, auth):
    r = await client.patch("/api/v1/integrations/nobody", json={"rate_limit_per_minute": 5},
                           headers=auth("admin"))
    assert r.status_code == 404
