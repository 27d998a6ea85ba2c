"""Writes go to the primary and are on the synchronous standby when answered; reads that may come
from a standby do, and still see the caller's own write; a lagging standby is skipped; a layer
computed on the standby carries its data version, so the layer caches stay exact."""

from __future__ import annotations

import contextlib
import itertools
import time
from datetime import timedelta
from typing import Any

import h3
import httpx
import orjson

from app import ha_cluster
from app.main import create_app
from app.settings import Settings
from tests.api.threat.test_hotspots_api import AS_OF, BANGUI
from tests.conftest import incident_body
from tests.ha.conftest import node_conn, roles
from tests.support.alerts import alert_doc, signed


@contextlib.asynccontextmanager
async def client_for(settings: Settings) -> Any:
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kinga.test") as c:
        yield c


@contextlib.contextmanager
def replay_paused(cluster: ha_cluster.Layout, standby: str) -> Any:
    with node_conn(cluster, standby) as c:
        c.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            c.execute("SELECT pg_wal_replay_resume()")


def caught_up(cluster: ha_cluster.Layout, primary: str, standby: str, timeout: float = 60) -> None:
    with node_conn(cluster, primary) as p:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with node_conn(cluster, standby) as s:
        while s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0] is not True:
            assert time.monotonic() < deadline, "standby did not catch up"
            time.sleep(0.05)


_EVENTS = itertools.count()


def at_bangui(**over: Any) -> dict[str, Any]:
    """A distinct event each time (four days apart: beyond triangulation's candidate gate, so
    no write is matched as another account of an earlier one)."""
    back = 2 + 4 * next(_EVENTS)
    return incident_body(occurred_start=(AS_OF - timedelta(days=back)).isoformat(),
                         latitude=BANGUI[0], longitude=BANGUI[1], **over)


async def test_the_cluster_has_a_primary_and_a_synchronous_standby_with_postgis(cluster):
    primary, standby = roles(cluster)
    with node_conn(cluster, primary) as p:
        assert p.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        states = [r[0] for r in p.execute("SELECT sync_state FROM pg_stat_replication")]
        assert states and set(states) <= {"sync", "quorum"}, states
        assert p.execute("SELECT current_setting('synchronous_standby_names')").fetchone()[0]
    for name in (primary, standby):
        with node_conn(cluster, name) as c:
            assert c.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")


async def test_a_201_alert_and_incident_are_on_the_standby_when_answered(ha_client, ha_auth, cluster):
    _, standby = roles(cluster)
    r = await ha_client.post("/api/v1/integrations", json={"name": "can-sync"}, headers=ha_auth("admin"))
    assert r.status_code == 201, r.text
    integ = r.json()
    body = orjson.dumps(alert_doc(text="Armed men at the ford (sync test)"))
    a = await ha_client.post("/api/v1/alerts", content=body, headers=signed(integ, body, key="sync-1"))
    assert a.status_code == 201, a.text
    i = await ha_client.post("/api/v1/incidents", json=at_bangui(), headers=ha_auth("analyst"))
    assert i.status_code == 201, i.text
    with node_conn(cluster, standby) as s:  # no wait: the answer came after the standby applied it
        assert s.execute("SELECT count(*) FROM alert WHERE id = %s", (a.json()["id"],)).fetchone()[0] == 1
        assert s.execute("SELECT count(*) FROM idempotency_key WHERE key = 'sync-1'").fetchone()[0] == 1
        assert s.execute("SELECT count(*) FROM incident WHERE id = %s", (i.json()["id"],)).fetchone()[0] == 1


async def test_own_writes_are_seen_in_listings_read_from_the_standby(ha_app, ha_client, ha_auth, cluster):
    _, standby = roles(cluster)
    for n in range(15):
        r = await ha_client.post("/api/v1/incidents", json=at_bangui(narrative=f"own write {n}"),
                                 headers=ha_auth("analyst"))
        assert r.status_code == 201, r.text
        new_id = r.json()["id"]
        listed = await ha_client.get("/api/v1/incidents", params={"limit": 1000},
                                     headers=ha_auth("analyst"))
        assert listed.status_code == 200
        assert new_id in {i["id"] for i in listed.json()["items"]}, n
        one = await ha_client.get(f"/api/v1/incidents/{new_id}", headers=ha_auth("analyst"))
        assert one.status_code == 200  # the record itself is read from the writer
    route = ha_app.state.read_route
    assert route.status["usable"] and route.status["role"] == "standby"
    assert route.status["port"] == cluster.port(standby)


async def test_health_reports_the_writer_the_read_route_and_the_lag(ha_client, cluster):
    primary, standby = roles(cluster)
    r = await ha_client.get("/api/v1/health")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["writer"]["port"] == cluster.port(primary)
    assert doc["writer"]["synchronous_standbys"] == 1
    assert doc["reads"]["source"] == "standby" and doc["reads"]["port"] == cluster.port(standby)
    assert isinstance(doc["reads"]["lag_s"], float)


async def test_a_standby_behind_the_lag_limit_is_skipped_for_reads(ha_settings, ha_auth, cluster):
    primary, standby = roles(cluster)
    # remote_apply would wait for the paused standby: these writes wait for its disk only.
    strict = ha_settings.model_copy(update={"max_replica_lag_s": 0.0,
                                            "write_synchronous_commit": "on"})
    lenient = ha_settings.model_copy(update={"max_replica_lag_s": 86_400.0,
                                             "write_synchronous_commit": "on"})
    async with client_for(strict) as c_strict, client_for(lenient) as c_lenient:
        with replay_paused(cluster, standby):
            r = await c_strict.post("/api/v1/incidents", json=at_bangui(narrative="while paused"),
                                    headers=ha_auth("analyst"))
            assert r.status_code == 201, r.text
            new_id = r.json()["id"]
            ids_strict = {i["id"] for i in (await c_strict.get(
                "/api/v1/incidents", params={"limit": 1000}, headers=ha_auth("analyst"))).json()["items"]}
            ids_lenient = {i["id"] for i in (await c_lenient.get(
                "/api/v1/incidents", params={"limit": 1000}, headers=ha_auth("analyst"))).json()["items"]}
            health = (await c_strict.get("/api/v1/health")).json()
        assert new_id in ids_strict  # skipped the lagging standby: read from the writer
        assert new_id not in ids_lenient  # proof that the standby was behind and is read otherwise
        assert health["reads"]["source"] == "writer" and "behind" in health["reads"]["reason"]
        caught_up(cluster, primary, standby)
        assert (await c_strict.get("/api/v1/health")).json()["reads"]["source"] == "standby"


async def test_a_layer_computed_on_the_standby_is_recomputed_when_the_version_moves(
        ha_settings, ha_auth, cluster):
    primary, standby = roles(cluster)
    lenient = ha_settings.model_copy(update={"max_replica_lag_s": 86_400.0,
                                             "write_synchronous_commit": "on"})
    cell = h3.latlng_to_cell(*BANGUI, 6)
    params = {"as_of": AS_OF.isoformat(), "window_days": 90, "res": 6, "pattern": "false"}

    async def incidents_in_cell(c: httpx.AsyncClient) -> int:
        r = await c.get("/api/v1/hotspots", params=params, headers=ha_auth("analyst"))
        assert r.status_code == 200, r.text
        return next((f["properties"]["incidents"] for f in r.json()["features"] if f["id"] == cell), 0)

    async with client_for(lenient) as c:
        before = await incidents_in_cell(c)
        with replay_paused(cluster, standby):
            r = await c.post("/api/v1/incidents", json=at_bangui(narrative="layer"),
                             headers=ha_auth("analyst"))
            assert r.status_code == 201, r.text
            assert await incidents_in_cell(c) == before  # standby's state, cached under its version
        caught_up(cluster, primary, standby)
        assert await incidents_in_cell(c) == before + 1  # its version moved: not the cached layer
