"""Credentials (issue 11): tokens expire (default 90 days, per token), record their last use,
are listed without secrets and revoked by admins through the API and the CLI; a revocation is
heard by every server process at once (LISTEN/NOTIFY), not after a cache's lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from app.cli.support import revoke_tokens
from tests.support.alerts import alert_doc, make_integration, post_alert
from tests.support.cli import run_cli

LISTED = {"id", "name", "role", "created_at", "created_by", "expires_at", "last_used_at",
          "revoked_at", "expired", "active"}


def _count(conn):
    return conn.execute("SELECT count(*) FROM api_token").fetchone()[0]


async def _create(client, auth, **body):
    r = await client.post("/api/v1/tokens", json={"name": "field office", "role": "analyst", **body},
                          headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


async def test_admins_list_tokens_without_secrets(client, auth, conn):
    r = await client.get("/api/v1/tokens", headers=auth("admin"))
    assert r.status_code == 200
    items = r.json()["items"]
    assert {t["name"] for t in items} >= {"test-admin", "test-partner"}
    for t in items:
        assert set(t) == LISTED
    hashes = [h for (h,) in conn.execute("SELECT token_hash FROM api_token").fetchall()]
    assert not any(h in r.text for h in hashes) and "kinga_" not in r.text


async def test_a_new_token_expires_in_90_days_unless_told_and_works_once_shown(client, auth, conn):
    made = await _create(client, auth)
    assert made["token"].startswith("kinga_") and made["role"] == "analyst"
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=89, hours=23) < expires - datetime.now(UTC) <= timedelta(days=90)
    short = await _create(client, auth, name="short", expires_days=7)
    assert datetime.fromisoformat(short["expires_at"]) - datetime.now(UTC) <= timedelta(days=7)
    r = await client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {made['token']}"})
    assert r.status_code == 200
    listed = {t["id"]: t for t in (await client.get("/api/v1/tokens", headers=auth("admin"))).json()["items"]}
    assert "token" not in listed[made["id"]] and listed[made["id"]]["created_by"] == "admin:test-admin"
    audit = conn.execute("SELECT actor, after->>'role' FROM audit_event WHERE object_type = 'api_token' "
                         "AND object_id = %s", (made["id"],)).fetchall()
    assert audit == [("admin:test-admin", "analyst")]


@pytest.mark.parametrize("body,pointer", [
    ({"role": "integration"}, "/body/role"),
    ({"role": "root"}, "/body/role"),
    ({"expires_days": 0}, "/body/expires_days"),
    ({"expires_days": 100_000}, "/body/expires_days"),
    ({"expires_days": "soon"}, "/body/expires_days"),
    ({"name": ""}, "/body/name"),
    ({"name": "a\x00b"}, "/body/name"),
    ({"secret": "x"}, "/body/secret"),
])
async def test_bad_token_requests_are_refused_and_write_nothing(client, auth, conn, body, pointer):
    before = _count(conn)
    r = await client.post("/api/v1/tokens", json={"name": "x", "role": "analyst", **body},
                          headers=auth("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in r.json()["errors"]]
    assert _count(conn) == before
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == 0


async def test_an_expired_token_is_refused(client, auth, conn):
    made = await _create(client, auth)
    conn.execute("UPDATE api_token SET expires_at = now() - interval '1 minute' WHERE id = %s",
                 (made["id"],))
    conn.commit()
    r = await client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {made['token']}"})
    assert r.status_code == 401 and r.json()["type"] == "urn:kinga:problem:token-expired"
    listed = {t["id"]: t for t in (await client.get("/api/v1/tokens", headers=auth("admin"))).json()["items"]}
    assert listed[made["id"]]["expired"] is True and listed[made["id"]]["active"] is False


async def test_last_use_is_recorded_at_most_once_a_minute(client, auth, conn):
    made = await _create(client, auth)
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert (await client.get("/api/v1/incidents", headers=headers)).status_code == 200
    first = conn.execute("SELECT last_used_at FROM api_token WHERE id = %s", (made["id"],)).fetchone()[0]
    assert first is not None
    conn.commit()
    assert (await client.get("/api/v1/incidents", headers=headers)).status_code == 200
    again = conn.execute("SELECT last_used_at FROM api_token WHERE id = %s", (made["id"],)).fetchone()[0]
    assert again == first  # batched: no write per request


async def test_revoke_through_the_api(client, auth, conn):
    made = await _create(client, auth)
    headers = {"Authorization": f"Bearer {made['token']}"}
    r = await client.delete(f"/api/v1/tokens/{made['id']}", headers=auth("admin"))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None and not r.json()["active"]
    assert (await client.get("/api/v1/incidents", headers=headers)).status_code == 401
    again = await client.delete(f"/api/v1/tokens/{made['id']}", headers=auth("admin"))
    assert again.status_code == 409
    missing = await client.delete("/api/v1/tokens/00000000-0000-0000-0000-000000000000",
                                  headers=auth("admin"))
    assert missing.status_code == 404
    bad = await client.delete("/api/v1/tokens/not-a-uuid", headers=auth("admin"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/path/token_id"
    actions = [a for (a,) in conn.execute("SELECT action FROM audit_event WHERE object_id = %s "
                                          "ORDER BY id", (made["id"],)).fetchall()]
    assert actions == ["create", "revoke"]


async def test_revoking_an_integrations_token_stops_the_integration(client, auth, conn):
    integ = await make_integration(client, auth)
    assert (await post_alert(client, integ, alert_doc())).status_code == 201
    token_id = conn.execute("SELECT token_id FROM integration WHERE name = 'can-bambari'").fetchone()[0]
    r = await client.delete(f"/api/v1/tokens/{token_id}", headers=auth("admin"))
    assert r.status_code == 200
    assert (await post_alert(client, integ, alert_doc())).status_code == 401
    listed = (await client.get("/api/v1/integrations", headers=auth("admin"))).json()["items"]
    assert listed[0]["revoked_at"] is not None


async def test_a_revocation_elsewhere_is_heard_at_once_not_after_the_cache(app, client, auth, conn,
                                                                            settings, monkeypatch):
    """The integration's token is cached (60 s); a revoke by another process (here the CLI's own
    connection) empties the cache when it commits: the next post is refused."""
    monkeypatch.setattr(settings, "integration_auth_cache_s", 60)
    listener = app.state.workers.revocations
    assert listener.listening.is_set()
    integ = await make_integration(client, auth, name="can-kaga")
    assert (await post_alert(client, integ, alert_doc())).status_code == 201  # cached now
    heard = listener.heard
    assert revoke_tokens(settings, "integration:can-kaga") == 1
    assert await listener.wait_heard(heard + 1, timeout=10)
    assert (await post_alert(client, integ, alert_doc(text="again"))).status_code == 401


async def test_while_deaf_nothing_is_cached(app, client, auth, settings, monkeypatch):
    from app.services.auth import Revocations

    monkeypatch.setattr(settings, "integration_auth_cache_s", 60)
    integ = await make_integration(client, auth, name="can-sibut")
    assert (await post_alert(client, integ, alert_doc())).status_code == 201
    monkeypatch.setattr(Revocations, "listening", False)
    # a revoke that no notification announces (written straight into the table)
    with psycopg.connect(settings.database_url.get_secret_value()) as c:
        c.execute("UPDATE api_token SET revoked_at = now() WHERE name = 'integration:can-sibut'")
    assert (await post_alert(client, integ, alert_doc(text="again"))).status_code == 401


async def test_cli_token_list_create_and_revoke(settings, conn, monkeypatch):
    r = run_cli(settings, monkeypatch, ["token", "create", "--role", "partner", "--name", "ngo-x",
                                        "--expires-days", "7"])
    assert r.exit_code == 0, r.output
    token = r.output.strip()
    expires = conn.execute("SELECT expires_at FROM api_token WHERE name = 'ngo-x'").fetchone()[0]
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    listed = run_cli(settings, monkeypatch, ["token", "list"])
    assert listed.exit_code == 0
    header, *lines = listed.output.strip().splitlines()
    assert header.split("\t") == ["id", "name", "role", "created", "expires", "last used", "revoked",
                                  "state"]
    ours = [line.split("\t") for line in lines if "\tngo-x\t" in line]
    assert len(ours) == 1 and ours[0][2] == "partner" and ours[0][-1] == "active"
    hashes = [h for (h,) in conn.execute("SELECT token_hash FROM api_token").fetchall()]
    assert token not in listed.output and not any(h in listed.output for h in hashes)
    before = _count(conn)
    bad = run_cli(settings, monkeypatch, ["token", "create", "--role", "partner", "--name", "y",
                                          "--expires-days", "0"])
    assert bad.exit_code == 1 and "expires-days" in bad.output
    assert _count(conn) == before
    revoked = run_cli(settings, monkeypatch, ["token", "revoke", "ngo-x"])
    assert "revoked 1 token(s)" in revoked.output
    assert conn.execute("SELECT revoked_at IS NOT NULL FROM api_token WHERE name = 'ngo-x'").fetchone()[0]
