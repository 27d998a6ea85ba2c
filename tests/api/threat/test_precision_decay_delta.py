"""A precision-widened threat layer (each incident's decay widened by its date precision, a
mission's `precision_decay`) is kept up to date from the incident change log too, since the log
holds each image's date precision (migration 0015c). Law: whatever the writes, including a change
of date precision alone, the layer from cached sums plus the log equals a full recomputation."""

from __future__ import annotations

import random

import pytest

from app.services.threat import cell_sums as layer_sums
from tests.api.threat.test_hotspots_api import add, layer
from tests.api.threat.test_hotspots_delta import (
    CATEGORIES,
    PLACES,
    assert_same,
    full_layer,
    ids,
    random_write,
)

WIDE = {"precision_decay": "true"}


def set_precisions(conn, rng):
    for incident_id in ids(conn):
        conn.execute("UPDATE incident SET time_precision = %s WHERE id = %s",
                     (rng.choice([1, 2, 3, 4, 5]), incident_id))
    conn.commit()


@pytest.mark.parametrize("seed", [4, 5])
async def test_after_any_writes_the_widened_layer_from_the_log_equals_a_full_recomputation(
        client, auth, conn, seed):
    rng = random.Random(seed)
    for _ in range(12):
        lat, lon = rng.choice(PLACES)
        add(conn, lat, lon, days_ago=rng.uniform(0, 88), category=rng.choice(CATEGORIES))
    set_precisions(conn, rng)
    queries = ({"res": 7, **WIDE}, {"res": 6, "category": "killing", **WIDE})
    for params in queries:
        await layer(client, auth, **params)  # the cached bases
    kinds = set()
    for step in range(10):
        if step % 3 == 2:  # a change of date precision alone
            target = rng.choice(ids(conn))
            conn.execute("UPDATE incident SET time_precision = %s WHERE id = %s",
                         (rng.choice([1, 3, 5]), target))
            conn.commit()
            kinds.add("precision")
        else:
            kinds.add(random_write(conn, rng))
            conn.execute("UPDATE incident SET time_precision = 4 WHERE time_precision = 1 "
                         "AND random() < 0.3")
            conn.commit()
        for params in queries:
            deltas, fulls = layer_sums.STATS["delta"], layer_sums.STATS["full"]
            served = await layer(client, auth, **params)
            assert layer_sums.STATS["delta"] == deltas + 1  # answered from the log ...
            assert layer_sums.STATS["full"] == fulls
            assert_same(served, await full_layer(client, auth, **params))  # ... exactly
    assert "precision" in kinds


async def test_the_widening_is_in_the_answer(client, auth, conn):
    """The law above can fail: a widened layer differs from the plain one once dates are
    imprecise, and a precision change alone moves the widened layer."""
    for d in (30, 45, 60, 80):
        add(conn, PLACES[0][0], PLACES[0][1], days_ago=d)
    plain = await layer(client, auth, res=7)
    await layer(client, auth, res=7, **WIDE)
    conn.execute("UPDATE incident SET time_precision = 5")
    conn.commit()
    wide = await layer(client, auth, res=7, **WIDE)
    [a], [b] = plain["features"], wide["features"]
    assert b["properties"]["likelihood"] > a["properties"]["likelihood"]
