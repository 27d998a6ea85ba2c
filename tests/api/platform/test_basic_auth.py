"""HTTP Basic authentication with the API token as the password (QGIS and GDAL send only Basic
to an OGC API server): any user name, the same role rules and audit as a bearer token, refused
like a bearer token when wrong, and never written to the logs."""

import base64
import logging

import pytest

from tests.conftest import incident_body


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.mark.parametrize("user", ["qgis", "", "anyone at all", "ünïcode"])
async def test_the_token_as_basic_password_authenticates_with_any_user_name(client, tokens, user):
    r = await client.get("/ogc/collections", headers=basic(user, tokens["operations"]))
    assert r.status_code == 200, r.text
    r = await client.get("/api/v1/incidents", headers=basic(user, tokens["partner"]))
    assert r.status_code == 200


async def test_role_rules_are_those_of_the_token(client, tokens):
    body = incident_body()
    assert (await client.post("/api/v1/incidents", json=body,
                              headers=basic("x", tokens["partner"]))).status_code == 403
    assert (await client.get("/ogc", headers=basic("x", tokens["integration"]))).status_code == 403
    r = await client.post("/api/v1/incidents", json=body, headers=basic("x", tokens["analyst"]))
    assert r.status_code == 201


async def test_writes_are_audited_under_the_token_holder_as_with_bearer(client, tokens, auth, conn):
    via_basic = (await client.post("/api/v1/incidents", json=incident_body(),
                                   headers=basic("someone-else", tokens["analyst"]))).json()["id"]
    via_bearer = (await client.post("/api/v1/incidents", json=incident_body(),
                                    headers=auth("analyst"))).json()["id"]
    actors = dict(conn.execute(
        "SELECT object_id, actor FROM audit_event WHERE object_type = 'incident' AND action = 'create'"
    ).fetchall())
    assert actors[via_basic] == actors[via_bearer] == "analyst:test-analyst"


@pytest.mark.parametrize("header", [
    "Basic " + base64.b64encode(b"qgis:kinga_wrong").decode(),    # unknown token
    "Basic " + base64.b64encode(b"qgis:").decode(),               # no password
    "Basic " + base64.b64encode(b"no-colon-at-all").decode(),     # not user:password
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),       # not UTF-8
    "Basic ",
    "Digest username=x",
])
async def test_bad_basic_credentials_are_refused_with_a_basic_challenge_on_ogc(client, header):
    r = await client.get("/ogc/collections", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert "Basic" in r.headers["www-authenticate"] and "Bearer" in r.headers["www-authenticate"]


async def test_only_ogc_offers_basic_so_browsers_do_not_prompt_on_the_api(client):
    r = await client.get("/api/v1/incidents")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_token_is_refused_as_basic_password(client, settings):
    from app.cli.support import create_token, revoke_tokens
    from app.domain import Role

    token = create_token(settings, Role.analyst, "basic-revoked")
    assert (await client.get("/ogc", headers=basic("q", token))).status_code == 200
    revoke_tokens(settings, "basic-revoked")
    assert (await client.get("/ogc", headers=basic("q", token))).status_code == 401


async def test_the_token_is_never_logged_or_echoed(client, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    secret = tokens["analyst"]
    ok = await client.get("/ogc/collections", headers=basic("qgis", secret))
    bad = await client.get("/ogc/collections", headers=basic("qgis", secret + "x"))
    assert ok.status_code == 200 and bad.status_code == 401
    assert secret not in bad.text and secret not in ok.text
    assert secret not in caplog.text
