"""GET /api/v1/hotspots/series: per step, the cells whose threat level changed. Law: replaying
the stream gives, at every step, the levels of the layer as of that step; the store's one-pass
answer equals the per-step layers aggregated in SQL. Bad input is refused and writes nothing."""

import gzip
import random
from datetime import timedelta

import pytest

from app.services.threat import event_store
from tests.api.threat.test_event_store import clear
from tests.api.threat.test_hotspots_api import AS_OF, add, by_cell, layer
from tests.api.threat.test_hotspots_delta import CATEGORIES, PLACES

RANGE = {"start": (AS_OF - timedelta(days=70)).isoformat(), "end": AS_OF.isoformat()}


def seed(conn, n=40, rng=None):
    rng = rng or random.Random(3)
    for _ in range(n):
        lat, lon = rng.choice(PLACES)
        add(conn, lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05),
            days_ago=rng.uniform(0, 160), category=rng.choice(CATEGORIES), fat=rng.randint(0, 9),
            crsv=rng.randint(0, 2), status=rng.choice(["entered", "validated", "approved"]),
            grade=rng.choice("abc"))


async def series(client, auth, role="analyst", **params):
    r = await client.get("/api/v1/hotspots/series", params={**RANGE, "res": 6, "step_days": 7,
                                                             "window_days": 60, **params},
                         headers=auth(role))
    assert r.status_code == 200, r.text
    return r.json()


def replay(doc):
    levels, out = {}, []
    for step in doc["steps"]:
        for change in step["changes"]:
            if change["level"] is None:
                levels.pop(change["cell"])
            else:
                assert levels.get(change["cell"]) != change["level"]  # only changes are sent
                levels[change["cell"]] = change["level"]
        out.append((step["as_of"], dict(levels)))
    return out


@pytest.mark.parametrize("role", ["analyst", "partner"])
async def test_replaying_the_stream_gives_each_steps_layer(client, auth, conn, role):
    seed(conn)
    for days in (5, 30, 50, 75, 100):  # a cell dense enough for partners (>= 3 approved)
        for _ in range(3):
            add(conn, *PLACES[0], days_ago=days, status="approved", fat=4)
    doc = await series(client, auth, role)
    assert len(doc["steps"]) == 11 and doc["steps"][0]["changes"]
    for as_of, levels in replay(doc):
        want = await layer(client, auth, role, res=6, as_of=as_of, window_days=60,
                           pattern="false")
        assert levels == {c: p["threat_level"] for c, p in by_cell(want).items()}, as_of


async def test_the_store_answers_the_series_in_one_pass_as_the_layers_do(store_client, auth,
                                                                         conn):
    client, _ = store_client
    seed(conn, 60, random.Random(9))
    assert await event_store.reload()
    add(conn, *PLACES[2], days_ago=20, fat=30)  # through the change log
    for params in ({}, {"category": "killing"}, {"res": 7, "step_days": 3}):
        clear()
        fast = await series(client, auth, **params)
        clear()
        event_store.STORE.enabled = False
        try:
            slow = await series(client, auth, **params)
        finally:
            event_store.STORE.enabled = True
        assert fast == slow
    assert any(s["changes"] for s in fast["steps"][1:])  # levels move over the range


async def test_gzip_is_sent_to_clients_that_accept_it(client, auth, conn):
    seed(conn, 10)
    plain = await client.get("/api/v1/hotspots", params={"res": 6, "as_of": AS_OF.isoformat()},
                             headers={**auth("analyst"), "Accept-Encoding": "identity"})
    packed = await client.get("/api/v1/hotspots", params={"res": 6, "as_of": AS_OF.isoformat()},
                              headers={**auth("analyst"), "Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip" and "Accept-Encoding" in packed.headers[
        "vary"]
    assert packed.json() == plain.json()  # httpx decodes the gzip body
    raw = await client.get("/api/v1/hotspots/series", params={**RANGE, "res": 6},
                           headers={**auth("analyst"), "Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip" and raw.json()["steps"]
    assert gzip.decompress(gzip.compress(raw.content)) == raw.content


@pytest.mark.parametrize("params,pointer", [
    ({"start": None}, "/query/start"),
    ({"end": None}, "/query/end"),
    ({"end": (AS_OF - timedelta(days=90)).isoformat()}, "/query/end"),
    ({"step_days": 0}, "/query/step_days"),
    ({"step_days": 1, "start": (AS_OF - timedelta(days=900)).isoformat()}, "/query/step_days"),
    ({"res": 12}, "/query/res"),
    ({"window_days": 0}, "/query/window_days"),
    ({"category": "weather"}, "/query/category"),
])
async def test_bad_series_queries_are_refused_and_write_nothing(client, auth, conn, params,
                                                                pointer):
    seed(conn, 3)
    before = conn.execute("SELECT version FROM data_version").fetchone()
    conn.commit()
    query = {**RANGE, "res": 6, "step_days": 7, **params}
    query = {k: v for k, v in query.items() if v is not None}
    r = await client.get("/api/v1/hotspots/series", params=query, headers=auth("analyst"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert pointer in str(r.json())
    assert conn.execute("SELECT version FROM data_version").fetchone() == before
    conn.commit()
