"""The threat layer after a write is computed from the cached sums plus the incident change log
(migration 0007, app/services/layer_sums.py). Law: whatever the writes, that answer equals a
full recomputation; and the log is only trusted when it is complete."""

import random
import threading
from datetime import timedelta

import h3
import psycopg
import pytest

from app.services.threat import cell_items as layer_items
from app.services.threat import cell_sums as layer_sums
from app.services.threat import layer as hotspots
from tests.api.threat.test_hotspots_api import AS_OF, add, by_cell, layer

CATEGORIES = ["killing", "abduction", "sexual_violence", "looting_destruction", "displacement"]
PLACES = [(4.39, 18.56), (4.42, 18.60), (5.76, 20.67), (6.48, 21.98), (4.36, 18.58)]


CACHES = (hotspots._BYTES, hotspots._CELLS, layer_sums._SUMS, layer_items._SCORED)


async def full_layer(client, auth, role="analyst", **params):
    """The layer recomputed from scratch; the caches are left as they were."""
    saved = [list(cache._items.items()) for cache in CACHES]
    for cache in CACHES:
        cache.clear()
    before = layer_sums.STATS["full"]
    doc = await layer(client, auth, role, **params)
    assert layer_sums.STATS["full"] == before + 1
    for cache, items in zip(CACHES, saved, strict=True):
        cache.clear()
        for key, (value, _) in items:
            cache.put(key, value)
    return doc


def assert_same(served, fresh):
    a, b = by_cell(served), by_cell(fresh)
    assert a.keys() == b.keys()
    for cell in a:
        x, y = a[cell], b[cell]
        for key in ("incidents", "fatalities", "crsv", "top_categories", "top_perpetrators",
                    "pattern", "threat_level", "protection_tier"):
            assert x[key] == y[key], (cell, key)
        for key in ("threat_score", "likelihood", "impact", "crsv_impact"):
            assert x[key] == pytest.approx(y[key], abs=0.011), (cell, key)
        assert x["trend"]["slope"] == pytest.approx(y["trend"]["slope"], abs=1e-3)


def ids(conn):
    rows = conn.execute("SELECT id FROM incident ORDER BY id").fetchall()
    conn.commit()
    return [r[0] for r in rows]


def random_write(conn, rng):
    """One write of a kind users and importers make; some move incidents out of the layer."""
    kind = rng.choice(["insert", "insert", "status", "category", "harm", "move", "delete",
                       "too_coarse", "out_of_window", "perpetrators", "grade"])
    known = ids(conn)
    if kind in ("insert", "too_coarse", "out_of_window") or not known:
        lat, lon = rng.choice(PLACES)
        add(conn, lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.02, 0.02),
            days_ago=200 if kind == "out_of_window" else rng.uniform(0, 88),
            category=rng.choice(CATEGORIES), fat=rng.randint(0, 5), crsv=rng.randint(0, 2),
            status=rng.choice(["entered", "validated", "approved"]), grade=rng.choice("abc"),
            radius=500_000 if kind == "too_coarse" else 0,
            perps=rng.sample(["FPRC", "UPC", "3R", "Anti-balaka"], rng.randint(0, 2)))
        return kind
    target = rng.choice(known)
    if kind == "status":
        conn.execute("UPDATE incident SET status = %s WHERE id = %s",
                     (rng.choice(["entered", "validated", "approved", "rejected"]), target))
    elif kind == "category":
        conn.execute("UPDATE incident SET category = %s WHERE id = %s",
                     (rng.choice(CATEGORIES), target))
    elif kind == "harm":
        conn.execute("UPDATE incident SET fatalities_best = %s, injured = %s, displaced = %s "
                     "WHERE id = %s", (rng.randint(0, 9), rng.randint(0, 9), rng.randint(0, 900),
                                       target))
    elif kind == "move":
        lat, lon = rng.choice(PLACES)
        conn.execute("UPDATE incident SET location = ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
                     "h3_cell = %s, occurred_start = %s WHERE id = %s",
                     (lon, lat, h3.str_to_int(h3.latlng_to_cell(lat, lon, 9)),
                      AS_OF - timedelta(days=rng.uniform(0, 88)), target))
    elif kind == "perpetrators":
        conn.execute("UPDATE incident SET perpetrators = %s WHERE id = %s",
                     (rng.sample(["FPRC", "UPC", "3R"], rng.randint(0, 3)), target))
    elif kind == "grade":
        conn.execute("UPDATE incident SET quality_grade = %s WHERE id = %s",
                     (rng.choice("abc"), target))
    else:
        conn.execute("DELETE FROM incident WHERE id = %s", (target,))
    conn.commit()
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_after_any_writes_the_layer_from_the_log_equals_a_full_recomputation(
        client, auth, conn, seed):
    rng = random.Random(seed)
    for _ in range(12):
        lat, lon = rng.choice(PLACES)
        add(conn, lat, lon, days_ago=rng.uniform(0, 88), category=rng.choice(CATEGORIES))
    for params in ({"res": 7}, {"res": 6, "category": "killing"}, {"res": 8, "window_days": 30}):
        await layer(client, auth, **params)  # the cached bases
    kinds = set()
    for _ in range(10):
        kinds.add(random_write(conn, rng))
        for params in ({"res": 7}, {"res": 6, "category": "killing"},
                       {"res": 8, "window_days": 30}):
            deltas, fulls = layer_sums.STATS["delta"], layer_sums.STATS["full"]
            served = await layer(client, auth, **params)
            assert layer_sums.STATS["delta"] == deltas + 1  # answered from the log ...
            assert layer_sums.STATS["full"] == fulls
            assert_same(served, await full_layer(client, auth, **params))  # ... exactly
    assert len(kinds) >= 4


async def test_partner_and_bbox_layers_from_the_log_equal_a_full_recomputation(
        client, auth, conn):
    for lat, lon in PLACES * 3:
        add(conn, lat, lon, days_ago=4, perps=("UPC",))
    bbox = {"bbox": "18.4,4.3,18.7,4.5", "res": 6}
    await layer(client, auth, "partner", **bbox)
    add(conn, 4.39, 18.56, days_ago=1, fat=3)
    conn.execute("UPDATE incident SET status = 'validated' WHERE id = (SELECT min(id::text)::uuid "
                 "FROM incident)")
    conn.commit()
    deltas = layer_sums.STATS["delta"]
    served = await layer(client, auth, "partner", **bbox)
    assert layer_sums.STATS["delta"] == deltas + 1
    assert_same(served, await full_layer(client, auth, "partner", **bbox))


async def test_a_statement_too_large_to_log_forces_a_full_recomputation(client, auth, conn):
    add(conn, *PLACES[0])
    first = await full_layer(client, auth, res=6)
    cell = h3.latlng_to_cell(*PLACES[0], 6)
    conn.execute(
        "INSERT INTO incident (occurred_start, location, h3_cell, category, status, quality_grade, "
        "created_by, updated_by) SELECT %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'killing', "
        "'approved', 'b', 't', 't' FROM generate_series(1, 2001)",
        (AS_OF - timedelta(days=1), PLACES[0][1], PLACES[0][0],
         h3.str_to_int(h3.latlng_to_cell(*PLACES[0], 9))))
    conn.commit()
    logged = conn.execute("SELECT count(*) FROM incident_change").fetchone()[0]
    conn.commit()
    fulls = layer_sums.STATS["full"]
    after = by_cell(await layer(client, auth, res=6))
    assert layer_sums.STATS["full"] == fulls + 1  # the log could not bridge the gap
    assert after[cell]["incidents"] == by_cell(first)[cell]["incidents"] + 2001
    assert logged <= 1  # the 2001 rows were not copied into the log


async def test_truncating_incidents_empties_the_next_layer(client, auth, conn):
    add(conn, *PLACES[0])
    assert (await full_layer(client, auth, res=6))["features"]
    conn.execute("TRUNCATE incident CASCADE")
    conn.commit()
    assert (await layer(client, auth, res=6))["features"] == []


async def test_a_pruned_log_forces_a_full_recomputation(client, auth, conn):
    add(conn, *PLACES[0])
    await full_layer(client, auth, res=6)
    add(conn, *PLACES[1])
    conn.execute("UPDATE incident_change SET at = now() - interval '2 days'")
    conn.commit()
    # 1 % of logging statements prune; 3000 tries leave a 1e-13 chance of none.
    for i in range(3000):
        conn.execute("UPDATE incident SET fatalities_best = %s", (i % 7,))
        conn.commit()
        if conn.execute("SELECT count(*) FROM incident_change WHERE at < now() - interval '1 day'"
                        ).fetchone()[0] == 0:
            break
    conn.commit()
    fulls = layer_sums.STATS["full"]
    served = await layer(client, auth, res=6)
    assert layer_sums.STATS["full"] == fulls + 1
    assert len(served["features"]) == 2


def test_versions_are_handed_out_in_commit_order(db_url, conn):
    """A writer that waits for the version lock takes its version after the holder's last one,
    so a snapshot seeing version V has every change stamped <= V (what the deltas rely on)."""
    add(conn, *PLACES[0])
    first = psycopg.connect(db_url)
    second = psycopg.connect(db_url)
    try:
        first.execute("UPDATE incident SET fatalities_best = 7")  # holds the version lock
        done = threading.Event()

        def write_second():
            second.execute("UPDATE incident SET fatalities_best = 8")
            second.commit()
            done.set()

        t = threading.Thread(target=write_second)
        t.start()
        assert not done.wait(0.5)  # blocked on the incident row / version row
        first.execute("UPDATE incident SET injured = 2")
        first.commit()
        t.join(10)
        assert done.is_set()
    finally:
        first.close()
        second.close()
    rows = conn.execute("SELECT version, sign, fatalities_best, injured FROM incident_change "
                        "ORDER BY version, sign").fetchall()
    final = conn.execute("SELECT version FROM data_version").fetchone()[0]
    conn.commit()
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    # the last change applied is the second writer's, and it carries the highest stamp
    assert rows[-1][2:] == (8, 2) and rows[-1][0] <= final


def test_a_transaction_takes_one_version_however_many_statements_it_runs(conn):
    before = conn.execute("SELECT nextval('data_version_seq')").fetchone()[0]
    conn.commit()
    for i in range(5):
        add_row = ("INSERT INTO incident (occurred_start, location, h3_cell, category, status, "
                   "quality_grade, created_by, updated_by) VALUES (%s, ST_SetSRID(ST_MakePoint("
                   "18.5, 4.4), 4326), %s, 'killing', 'approved', 'b', 't', 't')")
        conn.execute(add_row, (AS_OF - timedelta(days=i), h3.str_to_int(
            h3.latlng_to_cell(4.4, 18.5, 9))))
        conn.execute("UPDATE incident SET fatalities_best = %s", (i,))
    conn.commit()
    stamps = {r[0] for r in conn.execute("SELECT version FROM incident_change").fetchall()}
    final = conn.execute("SELECT version FROM data_version").fetchone()[0]
    conn.commit()
    assert stamps == {final} and final == before + 1


async def test_a_writing_transaction_reads_its_own_writes_and_caches_nothing(settings, conn):
    from sqlalchemy import text

    from app.db import make_async_engine, make_sessionmaker

    add(conn, *PLACES[0])
    insert = text("INSERT INTO incident (occurred_start, location, h3_cell, category, status, "
                  "quality_grade, created_by, updated_by) VALUES (:t, ST_SetSRID(ST_MakePoint("
                  ":lon, :lat), 4326), :cell, 'killing', 'approved', 'b', 't', 't')")
    lat, lon = PLACES[0]
    values = {"t": AS_OF - timedelta(days=1), "lat": lat, "lon": lon,
              "cell": h3.str_to_int(h3.latlng_to_cell(lat, lon, 9))}
    q = hotspots.HotspotQuery(res=6, as_of=AS_OF, window_days=90)
    cell = h3.latlng_to_cell(lat, lon, 6)
    engine = make_async_engine(settings)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as session:
            committed = await hotspots.threat_layer(session, q, settings)  # fills the caches
            await session.commit()
            filled = [[(k, id(v)) for k, (v, _) in c._items.items()] for c in CACHES]
            counts = []
            for _ in range(2):
                await session.execute(insert, values)
                layer_now = await hotspots.threat_layer(session, q, settings)
                counts.append(next(c["incidents"] for c in layer_now if c["cell"] == cell))
                assert [[(k, id(v)) for k, (v, _) in c._items.items()]  # nothing cached
                        for c in CACHES] == filled
            await session.rollback()
            after = await hotspots.threat_layer(session, q, settings)
    finally:
        await engine.dispose()
    first = next(c["incidents"] for c in committed if c["cell"] == cell)
    assert counts == [first + 1, first + 2]  # each read sees the transaction's own writes
    assert next(c["incidents"] for c in after if c["cell"] == cell) == first  # rolled back
