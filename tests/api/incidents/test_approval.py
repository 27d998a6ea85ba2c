"""Approval means approval (issue 11): imports land validated unless an admin approves the batch
(audited once per batch); an analyst cannot approve through an import; the creator of an
incident never approves it (four-eyes, on by default)."""

from __future__ import annotations

import pytest

from app.cli.support import create_token
from app.domain import Role
from tests.conftest import incident_body
from tests.support.cli import run_cli

ACLED = ("event_id_cnty,event_date,time_precision,event_type,sub_event_type,actor1,latitude,"
         "longitude,geo_precision,fatalities\n"
         "CAF1,2024-01-05,1,Violence against civilians,Attack,LRA,6.1,23.4,1,2\n"
         "CAF2,2024-01-06,1,Violence against civilians,Attack,LRA,6.2,23.5,1,0\n")


def _upload(client, auth, role, **data):
    files = {"file": ("acled.csv", ACLED.encode(), "text/csv")}
    return client.post("/api/v1/imports", data={"source": "acled", **data}, files=files,
                       headers=auth(role))


def _statuses(conn):
    return sorted(s for (s,) in conn.execute("SELECT status FROM incident").fetchall())


def _approvals(conn):
    return conn.execute("SELECT actor, object_type, after FROM audit_event "
                        "WHERE action = 'approved' ORDER BY id").fetchall()


async def test_an_analysts_import_lands_validated(client, auth, conn):
    r = await _upload(client, auth, "analyst")
    assert r.status_code == 201, r.text
    assert _statuses(conn) == ["validated", "validated"]
    assert _approvals(conn) == []
    # partners see none of it until an admin approves
    listed = (await client.get("/api/v1/incidents", headers=auth("partner"))).json()["items"]
    assert listed == []


async def test_an_admins_import_without_approve_lands_validated_too(client, auth, conn):
    assert (await _upload(client, auth, "admin")).status_code == 201
    assert _statuses(conn) == ["validated", "validated"]


@pytest.mark.parametrize("data,pointer", [({"status": "approved"}, "/body/status"),
                                          ({"approve": "true"}, "/body/approve"),
                                          ({"status": "validated", "approve": "true"}, "/body/approve")])
async def test_an_analyst_cannot_import_approved_and_nothing_is_written(client, auth, conn, data,
                                                                        pointer):
    r = await _upload(client, auth, "analyst", **data)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["pointer"] == pointer
    assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM import_run").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == 0


async def test_an_admin_approves_a_batch_audited_once(client, auth, conn):
    r = await _upload(client, auth, "admin", approve="true")
    assert r.status_code == 201, r.text
    assert _statuses(conn) == ["approved", "approved"]
    [(actor, object_type, after)] = _approvals(conn)
    assert (actor, object_type) == ("admin:test-admin", "import_run")
    assert after["incidents_approved"] == 2 and after["source"] == "acled"
    # re-importing the same file approves nothing new and says so
    r = await _upload(client, auth, "admin", approve="true")
    assert r.json()["inserted"] == 0
    assert [a[2]["incidents_approved"] for a in _approvals(conn)] == [2, 0]


async def test_cli_import_is_validated_unless_approved(settings, conn, monkeypatch, tmp_path):
    path = tmp_path / "acled.csv"
    path.write_text(ACLED)
    r = run_cli(settings, monkeypatch, ["import", "acled", str(path)])
    assert r.exit_code == 0, r.output
    assert _statuses(conn) == ["validated", "validated"] and _approvals(conn) == []
    conn.execute("DELETE FROM report")
    conn.execute("DELETE FROM incident")
    conn.commit()
    r = run_cli(settings, monkeypatch, ["import", "acled", str(path), "--approve"])
    assert r.exit_code == 0, r.output
    assert "approved (audited as one batch)" in r.output
    assert _statuses(conn) == ["approved", "approved"]
    assert [(a[0], a[2]["incidents_approved"]) for a in _approvals(conn)] == [("cli", 2)]


async def test_the_creator_of_an_incident_never_approves_it(client, auth, conn, settings):
    iid = (await client.post("/api/v1/incidents", json=incident_body(),
                             headers=auth("admin"))).json()["id"]
    assert (await client.post(f"/api/v1/incidents/{iid}/validate",
                              headers=auth("admin"))).status_code == 200
    r = await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    assert r.status_code == 403 and r.json()["type"] == "urn:kinga:problem:four-eyes"
    assert conn.execute("SELECT status FROM incident WHERE id = %s", (iid,)).fetchone()[0] == "validated"
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action = 'approved'").fetchone()[0] == 0
    other = create_token(settings, Role.admin, "second-admin")
    r = await client.post(f"/api/v1/incidents/{iid}/approve",
                          headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 200 and r.json()["status"] == "approved"


async def test_four_eyes_can_be_turned_off(client, auth, settings, monkeypatch):
    monkeypatch.setattr(settings, "four_eyes_approval", False)
    iid = (await client.post("/api/v1/incidents", json=incident_body(),
                             headers=auth("admin"))).json()["id"]
    await client.post(f"/api/v1/incidents/{iid}/validate", headers=auth("admin"))
    r = await client.post(f"/api/v1/incidents/{iid}/approve", headers=auth("admin"))
    assert r.status_code == 200
