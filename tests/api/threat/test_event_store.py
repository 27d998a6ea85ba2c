"""The in-process event store (app/services/threat/event_store.py) answers uncached layers; law:
whatever the writes, a layer summed from the store (its base plus the change log) equals the layer
aggregated in SQL from the incidents, for analyst, partner, filtered and bbox layers; a write the
log cannot bridge sends the layer back to SQL (still exact) and the store is rebuilt."""

import asyncio
import random
from datetime import timedelta

import h3
import pytest

from app.services.threat import cell_sums as layer_sums
from app.services.threat import event_store
from tests.api.threat.test_hotspots_api import AS_OF, add, layer
from tests.api.threat.test_hotspots_delta import CACHES, CATEGORIES, PLACES, assert_same, random_write

QUERIES = ({"res": 7}, {"res": 6, "category": "killing,abduction"},
           {"res": 8, "window_days": 30}, {"res": 6, "perpetrator": "upc"},
           {"res": 5, "min_grade": "b", "window_days": 400},
           {"res": 6, "bbox": "18.4,4.3,18.7,4.5"})


def clear():
    for cache in CACHES:
        cache.clear()


async def from_store(client, auth, role="analyst", **params):
    clear()
    before = layer_sums.STATS["store"]
    doc = await layer(client, auth, role, **params)
    assert layer_sums.STATS["store"] == before + 1, "answered from the store"
    return doc


async def from_sql(client, auth, role="analyst", **params):
    clear()
    event_store.STORE.enabled = False
    try:
        before = layer_sums.STATS["full"]
        doc = await layer(client, auth, role, **params)
        assert layer_sums.STATS["full"] == before + 1
    finally:
        event_store.STORE.enabled = True
    return doc


@pytest.mark.parametrize("seed", [1, 2])
async def test_after_any_writes_the_layer_from_the_store_equals_sql(store_client, auth, conn,
                                                                    seed):
    client, _ = store_client
    rng = random.Random(seed)
    for _ in range(15):
        lat, lon = rng.choice(PLACES)
        add(conn, lat, lon, days_ago=rng.uniform(0, 88), category=rng.choice(CATEGORIES),
            perps=rng.sample(["FPRC", "UPC", "3R", "Anti-balaka"], rng.randint(0, 3)),
            status=rng.choice(["entered", "validated", "approved"]), grade=rng.choice("abc"))
    assert await event_store.reload()
    loads = event_store.STORE.loads
    kinds, shown = set(), 0
    for step in range(10):
        if step:
            kinds.add(random_write(conn, rng))
        for params in QUERIES:
            role = "partner" if params.get("res") == 6 and "bbox" in params else "analyst"
            served = await from_store(client, auth, role, **params)
            assert_same(served, await from_sql(client, auth, role, **params))
            shown += len(served["features"])
    assert shown > 100  # the layers were not empty
    assert event_store.STORE.loads == loads  # every write came through the change log
    assert len(kinds) >= 4


def big_batch(conn, rows: int = 2001) -> None:
    """One statement of an import batch's size at the first place (more rows than the change
    log copies: the store cannot bridge it), committed."""
    conn.execute(
        "INSERT INTO incident (occurred_start, location, h3_cell, category, status, quality_grade, "
        "created_by, updated_by) SELECT %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'killing', "
        "'approved', 'b', 't', 't' FROM generate_series(1, %s)",
        (AS_OF - timedelta(days=1), PLACES[0][1], PLACES[0][0],
         h3.str_to_int(h3.latlng_to_cell(*PLACES[0], 9)), rows))
    conn.commit()


async def test_a_write_too_large_to_log_is_answered_in_sql_then_the_store_is_rebuilt(
        store_client, auth, conn):
    client, app = store_client
    add(conn, *PLACES[0])
    assert await event_store.reload()
    loads, warmed = event_store.STORE.loads, app.state.threat_warmup.warmed
    big_batch(conn)
    clear()
    full = layer_sums.STATS["full"]
    doc = await layer(client, auth, res=6)
    assert layer_sums.STATS["full"] == full + 1  # the store could not bridge the gap: SQL
    assert sum(f["properties"]["incidents"] for f in doc["features"]) == 2002
    for _ in range(600):  # the worker rebuilds it in the background (the request did not wait)
        if event_store.STORE.loads > loads and app.state.threat_warmup.warmed > warmed:
            break
        await asyncio.sleep(0.05)
    assert event_store.STORE.loads > loads
    assert_same(await from_store(client, auth, res=6), doc)


async def test_the_warm_up_rebuilds_the_store_after_an_import_without_any_request(
        polling_client, conn):
    _, app = polling_client
    warmup = app.state.threat_warmup
    await asyncio.wait_for(warmup.ready.wait(), 60)
    assert event_store.STORE.base is not None
    loads, warmed = event_store.STORE.loads, warmup.warmed
    big_batch(conn, 2500)  # one statement of an import batch's size: not logged
    for _ in range(600):
        if event_store.STORE.loads > loads and warmup.warmed > warmed:
            break
        await asyncio.sleep(0.05)
    assert event_store.STORE.loads > loads and warmup.warmed > warmed
    assert len(event_store.STORE.base) == 2500


async def test_health_says_when_the_warm_up_has_finished(store_client, auth):
    """Benchmarks and operators wait for the background warm-up before timing or serving load:
    /health says "done" once the store is loaded and the default layers are computed, and
    "warming" while a warm-up runs."""
    client, app = store_client
    body = (await client.get("/api/v1/health")).json()
    assert body["threat_event_store"] == "ready" and body["threat_warmup"] == "done"
    assert body["threat_warmups"] == app.state.threat_warmup.warmed >= 1
    warmup = app.state.threat_warmup
    warmup.warming = True  # as inside warm(): what a request sees meanwhile
    try:
        assert (await client.get("/api/v1/health")).json()["threat_warmup"] == "warming"
    finally:
        warmup.warming = False


async def test_during_an_import_the_store_is_rebuilt_once_after_the_last_batch(
        store_client, conn):
    """Each import batch is a write the change log cannot bridge. The warm-up does not rebuild
    the store after each (that competed with the import): it waits until a check finds no new
    such write since the previous one, then rebuilds."""
    client, app = store_client
    warmup = app.state.threat_warmup

    assert not await warmup._stale()  # nothing written since the warm-up
    big_batch(conn)
    assert not await warmup._stale() and warmup.settling  # stale, but writes may go on
    big_batch(conn)
    assert not await warmup._stale() and warmup.settling  # another batch: still waiting
    assert (await client.get("/api/v1/health")).json()["threat_warmup"] == "settling"
    assert await warmup._stale()  # no batch since the last check: rebuild now
