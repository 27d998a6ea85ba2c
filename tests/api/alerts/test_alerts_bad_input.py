"""Bad alert posts are refused with problem+json and write nothing; retries are idempotent."""

from __future__ import annotations

import time

import orjson
import pytest

from tests.support.alerts import alert_doc, counts, make_integration, post_alert, signed

NOTHING = {"alert": 0, "incident": 0, "report": 0, "idempotency_key": 0, "warning": 0}


def written(conn):
    c = counts(conn)
    return {k: c[k] for k in NOTHING}


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def test_wrong_signature_is_401(client, auth, conn):
    integ = await make_integration(client, auth)
    body = orjson.dumps(alert_doc())
    headers = signed(integ, body)
    headers["X-Kinga-Signature"] = "0" * 64
    problem(await client.post("/api/v1/alerts", content=body, headers=headers), 401)
    tampered = body.replace(b"traders", b"nobody!")
    problem(await client.post("/api/v1/alerts", content=tampered, headers=signed(integ, body)), 401)
    assert written(conn) == NOTHING


async def test_missing_signature_is_401_unless_the_integration_is_unsigned(client, auth, conn):
    integ = await make_integration(client, auth)
    bearer = {"Authorization": f"Bearer {integ['token']}"}
    problem(await client.post("/api/v1/alerts", json=alert_doc(), headers=bearer), 401)
    assert written(conn) == NOTHING
    loose = await make_integration(client, auth, name="loose", require_signature=False)
    r = await client.post(
        "/api/v1/alerts", json=alert_doc(), headers={"Authorization": f"Bearer {loose['token']}"}
    )
    assert r.status_code == 201


@pytest.mark.parametrize("offset", [-301, 301, -86400])
async def test_stale_timestamp_is_401(client, auth, conn, offset):
    integ = await make_integration(client, auth)
    body = orjson.dumps(alert_doc())
    ts = str(int(time.time()) + offset)
    r = await client.post("/api/v1/alerts", content=body, headers=signed(integ, body, ts=ts))
    assert "X-Kinga-Timestamp" in problem(r, 401)["detail"]
    assert written(conn) == NOTHING


async def test_unknown_and_revoked_integrations_are_401(client, auth, conn):
    integ = await make_integration(client, auth)
    body = orjson.dumps(alert_doc())
    fake = {**integ, "token": "kinga_not-a-real-token"}
    problem(await client.post("/api/v1/alerts", content=body, headers=signed(fake, body)), 401)
    r = await client.post(f"/api/v1/integrations/{integ['name']}/revoke", headers=auth("admin"))
    assert r.status_code == 200
    problem(await client.post("/api/v1/alerts", content=body, headers=signed(integ, body)), 401)
    assert written(conn) == NOTHING


async def test_oversized_body_is_413(client, auth, conn):
    integ = await make_integration(client, auth)
    r = await post_alert(client, integ, {**alert_doc(), "text": "x" * 70_000})
    problem(r, 413)
    r = await post_alert(client, integ, raw=b"{" + b" " * 300_000 + b"}")
    problem(r, 413)
    assert written(conn) == NOTHING


BAD_JSON = [
    (b'{"latitude": 4.39, "longitude": 18.56, "text": "x"', "/body"),
    (orjson.dumps(alert_doc(latitude=91)), "/body/latitude"),
    (orjson.dumps(alert_doc(longitude=-180.5)), "/body/longitude"),
    (orjson.dumps(alert_doc(longitude=None)), "/body"),
    (orjson.dumps(alert_doc(category="massacre")), "/body/category"),
    (orjson.dumps(alert_doc(text="")), "/body/text"),
    (orjson.dumps(alert_doc(observed_at="2024-03-02T21:00:00")), "/body/observed_at"),
    (orjson.dumps(alert_doc(observed_at="2999-01-01T00:00:00Z")), "/body/observed_at"),
    (orjson.dumps({**alert_doc(), "html": "<b>"}), "/body/html"),
    (b'{"latitude": NaN, "longitude": 18.56, "text": "x"}', "/body"),
    (b"[1, 2]", "/body"),
]


@pytest.mark.parametrize("raw,pointer", BAD_JSON, ids=[p for _, p in BAD_JSON])
async def test_malformed_json_is_422_with_pointer(client, auth, conn, raw, pointer):
    integ = await make_integration(client, auth)
    body = problem(await post_alert(client, integ, raw=raw), 422)
    assert any(e["pointer"].startswith(pointer) for e in body["errors"]), body
    assert written(conn) == NOTHING


BAD_CAP = [
    b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier>",
    b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier></alert>",
    b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'boom'>]><alert>&x;</alert>",
    b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>",
]


@pytest.mark.parametrize("raw", BAD_CAP, ids=["truncated", "invalid", "doctype", "cap11"])
async def test_malformed_cap_is_422(client, auth, conn, raw):
    integ = await make_integration(client, auth)
    r = await post_alert(client, integ, raw=raw, content_type="application/cap+xml")
    assert problem(r, 422)["errors"]
    assert written(conn) == NOTHING


async def test_cap_coordinates_out_of_range_are_422(client, auth, conn):
    from tests.api.alerts.test_alerts_intake import cap

    integ = await make_integration(client, auth)
    r = await post_alert(
        client,
        integ,
        raw=cap(geo="<circle>95.0,21.99 2</circle>"),
        content_type="application/cap+xml",
    )
    assert problem(r, 422)["errors"][0]["pointer"] == "/body/info/area/circle"
    assert written(conn) == NOTHING


async def test_bad_sms_form_and_unknown_media_type(client, auth, conn):
    integ = await make_integration(client, auth)
    form = "application/x-www-form-urlencoded"
    body = problem(await post_alert(client, integ, raw=b"text=hello", content_type=form), 422)
    assert body["errors"][0]["pointer"] == "/body/sender"
    problem(await post_alert(client, integ, raw=b"hello", content_type="text/plain"), 415)
    sms_only = await make_integration(client, auth, name="sms", formats=["sms"])
    problem(await post_alert(client, sms_only, alert_doc()), 403)
    assert written(conn) == NOTHING


async def test_same_key_same_body_replays_and_stores_nothing_new(client, auth, conn):
    integ = await make_integration(client, auth)
    r1 = await post_alert(client, integ, alert_doc(), key="k-1")
    r2 = await post_alert(client, integ, alert_doc(), key="k-1")
    assert r1.status_code == r2.status_code == 201
    assert r1.json() == r2.json() and r2.headers["idempotent-replayed"] == "true"
    assert counts(conn)["alert"] == 1 and counts(conn)["idempotency_key"] == 1


async def test_same_key_different_body_is_409(client, auth, conn):
    integ = await make_integration(client, auth)
    await post_alert(client, integ, alert_doc(), key="k-2")
    before = counts(conn)
    problem(await post_alert(client, integ, alert_doc(text="something else"), key="k-2"), 409)
    assert counts(conn) == before


async def test_failed_request_does_not_burn_its_key(client, auth, conn):
    integ = await make_integration(client, auth)
    problem(await post_alert(client, integ, alert_doc(latitude=99), key="k-3"), 422)
    assert (await post_alert(client, integ, alert_doc(), key="k-3")).status_code == 201
