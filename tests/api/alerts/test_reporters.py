"""Reporter protection (issue 11): contacts encrypted at rest, recognised by a keyed hash, never in
listings, features, audit trails or logs, read only through an audited reveal, decrypted
otherwise only to acknowledge through the integration, blanked after their retention period;
keys rotate without losing a contact."""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine

from app.services.community import acknowledgements as community_acks
from app.services.reporters import contacts, crypto
from app.services.signing import sign
from app.settings import PROJECT_ROOT
from tests.support.alerts import alert_doc, make_integration, post_alert, signed, triage_now
from tests.support.cli import run_cli

NUMBER = "+236 72 41 88 05"
DIGITS = "72418805"


async def _sms(client, auth, name="sms-gw", sender=NUMBER, text="Hommes armés à Bambari, tirs"):
    integ = await make_integration(client, auth, name=name, formats=["sms"])
    form = urlencode({"sender": sender, "text": text, "received_at": "2024-03-02T21:00:00Z"}).encode()
    r = await post_alert(client, integ, raw=form, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 201, r.text
    return integ, r.json()["id"]


def _all_text(conn) -> str:
    """Every stored value of the tables a reporter's number could leak into."""
    out = []
    for table in ("alert", "report", "incident", "audit_event", "warning", "webhook_delivery",
                  "idempotency_key"):
        out += [json.dumps(r, default=str) for r in conn.execute(f"SELECT to_jsonb(t) FROM {table} t")]
    return "\n".join(out)


async def test_contacts_are_encrypted_at_rest_and_hashed_for_repeats(client, auth, conn):
    _, alert_id = await _sms(client, auth)
    stored, key = conn.execute("SELECT reporter_contact, sender_key FROM alert").fetchone()
    assert crypto.is_encrypted(stored) and DIGITS not in stored
    assert len(key) == 64 and DIGITS not in key
    [ref] = conn.execute("SELECT reporter_ref FROM report").fetchone()
    assert crypto.is_encrypted(ref)
    stored_text = _all_text(conn)
    assert DIGITS not in stored_text and "72 41 88" not in stored_text
    # the same number, however spaced, is recognised (repeat collapse) without being stored
    form = urlencode({"sender": "+23672418805", "text": "Hommes armés à Bambari, tirs!",
                      "received_at": "2024-03-02T21:01:00Z"}).encode()
    other = await make_integration(client, auth, name="sms-gw-2", formats=["sms"])
    r = await client.post("/api/v1/alerts", content=form,
                          headers=signed(other, form, "application/x-www-form-urlencoded"))
    await triage_now(client)
    seen = (await client.get(f"/api/v1/alerts/{r.json()['id']}", headers=auth("analyst"))).json()
    assert seen["collapsed_into"] == alert_id


async def test_the_number_appears_in_no_listing_feature_or_log(client, auth, conn, caplog):
    caplog.set_level(logging.DEBUG)
    _, alert_id = await _sms(client, auth)
    incident = conn.execute("SELECT incident_id FROM alert").fetchone()[0]
    pages = []
    for role in ("admin", "analyst", "operations"):
        for path in ("/api/v1/alerts", f"/api/v1/alerts/{alert_id}", "/api/v1/incidents",
                     f"/api/v1/incidents/{incident}", "/api/v1/incidents?f=geojson",
                     "/ogc/collections/incidents/items", f"/ogc/collections/incidents/items/{incident}",
                     "/api/v1/warnings"):
            r = await client.get(path, headers=auth(role))
            assert r.status_code == 200, (path, r.text)
            pages.append(r.text)
    joined = "\n".join(pages) + caplog.text
    assert DIGITS not in joined and "72 41 88" not in joined
    assert "kc1:" not in joined  # not even the ciphertext leaves the database


async def test_reading_a_contact_is_audited_and_needs_a_reason(client, auth, conn):
    _, alert_id = await _sms(client, auth)
    url = f"/api/v1/alerts/{alert_id}/reporter-contact"
    for body, pointer in (({}, "/body/reason"), ({"reason": ""}, "/body/reason"),
                          ({"reason": "ok\x00"}, "/body/reason"), ({"reason": "why", "x": 1}, "/body/x")):
        r = await client.post(url, json=body, headers=auth("analyst"))
        assert r.status_code == 422 and pointer in [e["pointer"] for e in r.json()["errors"]]
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action = 'reveal_reporter'").fetchone()[0] == 0
    for role in ("operations", "partner", "integration"):
        assert (await client.post(url, json={"reason": "curious"}, headers=auth(role))).status_code == 403
    r = await client.post(url, json={"reason": "tell her the patrol went"}, headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["reporter_contact"] == NUMBER
    audit = conn.execute("SELECT actor, object_type, object_id, after FROM audit_event "
                         "WHERE action = 'reveal_reporter'").fetchall()
    assert audit == [("analyst:test-analyst", "alert", alert_id, {"reason": "tell her the patrol went"})]
    missing = await client.post("/api/v1/alerts/00000000-0000-0000-0000-000000000000/reporter-contact",
                                json={"reason": "nothing"}, headers=auth("analyst"))
    assert missing.status_code == 404


async def test_a_reports_reference_is_revealed_the_same_way(client, auth, conn):
    from tests.conftest import incident_body

    iid = (await client.post("/api/v1/incidents", json=incident_body(), headers=auth("analyst"))).json()["id"]
    [ref] = conn.execute("SELECT reporter_ref FROM report WHERE incident_id = %s", (iid,)).fetchone()
    assert crypto.is_encrypted(ref) and "focal point" not in ref
    rid = (await client.get(f"/api/v1/incidents/{iid}", headers=auth("analyst"))).json()["reports"][0]["id"]
    r = await client.post(f"/api/v1/incidents/{iid}/reports/{rid}/reporter",
                          json={"reason": "follow-up interview"}, headers=auth("admin"))
    assert r.status_code == 200 and r.json()["reporter_ref"] == "CAN focal point 17"
    assert conn.execute("SELECT object_type, object_id FROM audit_event WHERE action = 'reveal_reporter'"
                        ).fetchall() == [("report", rid)]
    other = await client.post(f"/api/v1/incidents/{iid}/reports/00000000-0000-0000-0000-000000000000/reporter",
                              json={"reason": "x-check"}, headers=auth("admin"))
    assert other.status_code == 404


async def test_contacts_are_blanked_after_their_retention(app, client, auth, conn, settings):
    _, old = await _sms(client, auth)
    _, new = await _sms(client, auth, name="sms-2", sender="+236 75 00 00 02", text="Pillage à Kaga")
    conn.execute("UPDATE alert SET received_at = now() - interval '91 days' WHERE id = %s", (old,))
    conn.execute("UPDATE report SET created_at = now() - interval '91 days' WHERE id = "
                 "(SELECT report_id FROM alert WHERE id = %s)", (old,))
    conn.commit()
    done = await app.state.workers.scheduler.run_job("reporters.blank_expired_contacts")
    assert done == 2  # the old alert and its report
    rows = dict(conn.execute("SELECT id::text, reporter_contact IS NULL AND sender_key IS NULL "
                             "FROM alert").fetchall())
    assert rows == {old: True, new: False}
    assert conn.execute("SELECT count(*) FROM report WHERE reporter_ref IS NULL").fetchone()[0] == 1
    r = await client.post(f"/api/v1/alerts/{old}/reporter-contact", json={"reason": "too late"},
                          headers=auth("analyst"))
    assert r.status_code == 404 and "90 days" in r.json()["detail"]
    assert await app.state.workers.scheduler.run_job("reporters.blank_expired_contacts") == 0


async def test_keys_rotate_without_losing_a_contact(client, auth, conn, settings, monkeypatch):
    first, second = crypto.new_key(), crypto.new_key()
    monkeypatch.setattr(settings, "reporter_contact_keys", SecretStr(first))
    _, alert_id = await _sms(client, auth)
    monkeypatch.setattr(settings, "reporter_contact_keys", SecretStr(f"{second},{first}"))
    url = f"/api/v1/alerts/{alert_id}/reporter-contact"
    assert (await client.post(url, json={"reason": "rotation"}, headers=auth("analyst"))).json()[
        "reporter_contact"] == NUMBER
    maker = client._transport.app.state.sessionmaker
    async with maker() as session:
        done = await contacts.reencrypt_all(session, settings)
    assert done == {"alert": 1, "report": 1}
    monkeypatch.setattr(settings, "reporter_contact_keys", SecretStr(second))  # old key dropped
    assert (await client.post(url, json={"reason": "rotation"}, headers=auth("analyst"))).json()[
        "reporter_contact"] == NUMBER
    # a contact under a key no longer configured is refused loudly, never shown garbled
    stored = conn.execute("SELECT reporter_contact FROM alert").fetchone()[0]
    with pytest.raises(crypto.UndecryptableContact):
        crypto.ContactCipher([first.encode()]).decrypt(stored)


async def test_a_contact_no_key_opens_is_a_409_not_a_server_error(client, auth, conn, settings,
                                                                    monkeypatch):
    """A key dropped before re-encryption finished leaves rows no key opens: revealing or
    acknowledging them is refused with the remedy, nothing audited; the queued sender skips them."""
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    integ = await make_integration(client, auth, name="sms-lost", formats=["json"],
                                   ack_url="http://127.0.0.1:9/ack")
    alert_id = (await post_alert(client, integ, alert_doc(reporter_contact=NUMBER))).json()["id"]
    monkeypatch.setattr(settings, "reporter_contact_keys", SecretStr(crypto.new_key()))
    reveal = await client.post(f"/api/v1/alerts/{alert_id}/reporter-contact",
                               json={"reason": "call back"}, headers=auth("analyst"))
    ack = await client.post(f"/api/v1/alerts/{alert_id}/acknowledgement",
                            json={"message": "reçu"}, headers=auth("operations"))
    for r in (reveal, ack):
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "kinga reporters reencrypt" in r.json()["detail"] and DIGITS not in r.text
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action IN "
                        "('reveal_reporter', 'acknowledge')").fetchone()[0] == 0
    maker = client._transport.app.state.sessionmaker
    async with maker() as session:
        assert await community_acks.reporter_contact(session, settings, alert_id) is None


def test_cli_new_key_and_reencrypt(settings, monkeypatch):
    r = run_cli(settings, monkeypatch, ["reporters", "new-key"])
    assert r.exit_code == 0 and len(r.output.strip()) == 44
    r = run_cli(settings, monkeypatch, ["reporters", "reencrypt"])
    assert r.exit_code == 0 and "re-encrypted 0 alert contact(s)" in r.output


def test_the_migration_encrypts_clear_text_rows(conn, db_url, settings):
    conn.execute("INSERT INTO api_token (name, role, token_hash) VALUES ('m', 'integration', "
                 "'h-0011k') ON CONFLICT DO NOTHING")
    tid = conn.execute("SELECT id FROM api_token WHERE token_hash = 'h-0011k'").fetchone()[0]
    iid = conn.execute("INSERT INTO integration (name, token_id, secret_salt, formats, created_by) "
                       "VALUES ('legacy', %s, '\\x00', '{sms}', 't') RETURNING id", (tid,)).fetchone()[0]
    conn.execute("INSERT INTO alert (integration_id, format, category, text, observed_at, "
                 "location_source, reporter_contact) VALUES (%s, 'sms', 'other', 't', now(), 'none', "
                 "'+236 70 11 22 33')", (iid,))
    conn.commit()
    spec = importlib.util.spec_from_file_location(
        "m0011k", PROJECT_ROOT / "migrations/versions/0011k_access.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    engine = create_engine("postgresql+psycopg://" + db_url.split("://", 1)[1])
    with engine.begin() as bind:
        module.op = type("Op", (), {"get_bind": staticmethod(lambda: bind)})
        module._encrypt_clear("alert", "reporter_contact")
    engine.dispose()
    stored = conn.execute("SELECT reporter_contact FROM alert").fetchone()[0]
    assert crypto.is_encrypted(stored) and crypto.cipher(settings).decrypt(stored) == "+236 70 11 22 33"


def _ack_receiver():
    got: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


async def test_an_acknowledgement_goes_to_the_reporter_through_the_integration(
        client, auth, conn, settings, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    server, got = _ack_receiver()
    try:
        integ = await make_integration(client, auth, name="sms-ack", formats=["sms"],
                                       ack_url=f"http://127.0.0.1:{server.server_port}/ack")
        form = urlencode({"sender": NUMBER, "text": "Tirs à Kaga"}).encode()
        alert_id = (await post_alert(client, integ, raw=form,
                                     content_type="application/x-www-form-urlencoded")).json()["id"]
        # operations sends it without ever seeing the number
        r = await client.post(f"/api/v1/alerts/{alert_id}/acknowledgement",
                              json={"message": "Votre alerte est reçue; une patrouille est en route."},
                              headers=auth("operations"))
    finally:
        server.shutdown()
    assert r.status_code == 200, r.text
    assert r.json() == {"alert_id": alert_id, "delivered": True, "status_code": 202, "error": None}
    assert DIGITS not in r.text
    # the response loop's own "received" acknowledgement may reach the gateway too; this is the
    # one operations wrote
    [(headers, raw)] = [(h, b) for h, b in got
                        if json.loads(b).get("message", "").startswith("Votre alerte est reçue")]
    body = json.loads(raw)
    assert body["to"] == NUMBER and body["alert_id"] == alert_id
    assert headers["X-Kinga-Signature"] == sign(integ["signing_secret"], headers["X-Kinga-Timestamp"], raw)
    audit = conn.execute("SELECT actor, after FROM audit_event WHERE action = 'acknowledge'").fetchall()
    assert audit[0][0] == "operations:test-operations" and audit[0][1]["status_code"] == 202
    assert DIGITS not in json.dumps(audit, default=str) and DIGITS not in caplog.text


async def test_an_unreachable_gateway_is_reported_and_audited(client, auth, conn, settings,
                                                              monkeypatch):
    monkeypatch.setattr(settings, "webhook_allow_private_targets", True)
    integ = await make_integration(client, auth, name="sms-down", formats=["json"],
                                   ack_url="http://127.0.0.1:9/ack")
    alert_id = (await post_alert(client, integ, alert_doc(reporter_contact=NUMBER))).json()["id"]
    r = await client.post(f"/api/v1/alerts/{alert_id}/acknowledgement",
                          json={"message": "reçu"}, headers=auth("analyst"))
    assert r.status_code == 200 and r.json()["delivered"] is False and r.json()["error"]
    assert DIGITS not in r.text
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action = 'acknowledge'").fetchone()[0] == 1


async def test_acknowledgement_refusals_write_nothing(client, auth, conn):
    from tests.support.alerts import counts

    no_ack = await make_integration(client, auth, name="no-ack", formats=["json"])
    with_contact = (await post_alert(client, no_ack, alert_doc(reporter_contact=NUMBER))).json()["id"]
    without = (await post_alert(client, no_ack, alert_doc(text="armed men at the bridge"))).json()["id"]
    before = counts(conn)
    url = "/api/v1/alerts/{}/acknowledgement"
    cases = [
        (with_contact, {"message": "reçu"}, "analyst", 409, None),  # integration has no ack_url
        (without, {"message": "reçu"}, "analyst", 409, None),  # no contact held
        ("00000000-0000-0000-0000-000000000000", {"message": "reçu"}, "analyst", 404, None),
        (with_contact, {}, "analyst", 422, "/body/message"),
        (with_contact, {"message": ""}, "analyst", 422, "/body/message"),
        (with_contact, {"message": "x" * 481}, "analyst", 422, "/body/message"),
        (with_contact, {"message": "a\x00b"}, "analyst", 422, "/body/message"),
        (with_contact, {"message": "reçu", "to": "+236 1"}, "analyst", 422, "/body/to"),
        ("not-a-uuid", {"message": "reçu"}, "analyst", 422, "/path/alert_id"),
        (with_contact, {"message": "reçu"}, "partner", 403, None),
        (with_contact, {"message": "reçu"}, "integration", 403, None),
    ]
    for alert_id, body, role, status, pointer in cases:
        r = await client.post(url.format(alert_id), json=body, headers=auth(role))
        assert r.status_code == status, (body, role, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        if pointer:
            assert pointer in [e["pointer"] for e in r.json()["errors"]]
    assert counts(conn) == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/ack", "http://[2002:7f00:1::]/ack",
                                 "ftp://example.org/ack", "http://user:pw@example.org/ack"])
async def test_private_or_odd_ack_urls_are_refused(client, auth, conn, url):
    r = await client.post("/api/v1/integrations", json={"name": "gw", "ack_url": url},
                          headers=auth("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/body/ack_url"
    assert conn.execute("SELECT count(*) FROM integration").fetchone()[0] == 0


def test_keyed_hash_needs_the_key():
    class S:
        token_pepper = SecretStr("one")
        reporter_hash_key = None
        reporter_contact_keys = None

    class T(S):
        token_pepper = SecretStr("two")

    a, b = crypto.contact_key(S, NUMBER, sms=True), crypto.contact_key(T, NUMBER, sms=True)
    assert a != b and a == crypto.contact_key(S, "+23672418805", sms=True)
