"""One definition of the threat terms: the SQL the layer runs (app/repositories/sql_fragments.py
via repositories/hotspots.cell_sums) and the Python definitions (app/services/threat/score.py)
score the same random incidents alike, per cell; and a parent cell's sums are its children's.

Each of these edits to the production SQL makes this file fail (tried by hand): doubling the
fatality weight, doubling every event's age in its decay, giving grade-a reports the grade-c
weight."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import h3
import numpy as np
import pytest

from app.db import make_async_engine, make_sessionmaker
from app.domain import Category
from app.repositories import hotspots as repo
from app.services.threat import score

END = datetime(2024, 6, 30, 13, 17, tzinfo=UTC)
WINDOW = timedelta(days=120)
STEP_DAYS = 7
STEPS = 18  # ceil(120 / 7)
PLACES = [(4.39, 18.56), (4.42, 18.60), (5.76, 20.67), (6.48, 21.98), (7.0, 19.2)]
COLUMNS = ("occurred_start", "h3_cell", "category", "status", "quality_grade", "fatalities_best",
           "injured", "children_affected", "displaced", "crsv_survivors")


def add_random(conn, rng, n):
    for _ in range(n):
        lat, lon = rng.choice(PLACES)
        lat, lon = lat + rng.uniform(-0.3, 0.3), lon + rng.uniform(-0.3, 0.3)
        conn.execute(
            "INSERT INTO incident (occurred_start, location, h3_cell, category, status, "
            "quality_grade, fatalities_best, injured, children_affected, displaced, "
            "crsv_survivors, created_by, updated_by) VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s),"
            " 4326), %s, %s, %s, %s, %s, %s, %s, %s, %s, 't', 't')",
            (END - timedelta(days=rng.uniform(0, 119.9)), lon, lat,
             h3.str_to_int(h3.latlng_to_cell(lat, lon, 9)), rng.choice(list(Category)).value,
             rng.choice(["entered", "validated", "approved", "approved", "rejected"]),
             rng.choice("abc"), rng.choice([0, 0, 1, 3, 12]), rng.choice([0, 2, 5]),
             rng.choice([0, 1, 4]), rng.choice([0, 0, 30, 2500]), rng.choice([0, 0, 1, 3])))
    conn.commit()


def python_sums(conn, res, terms):
    """Per parent cell, the layer's sums evaluated event by event with score.py's definitions."""
    rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM incident WHERE occurred_start >= %s "
                        "AND occurred_start <= %s AND status <> 'rejected'",
                        (END - WINDOW, END)).fetchall()
    conn.commit()
    out = defaultdict(lambda: {"incidents": 0, "likelihood": 0.0, "harm": 0.0, "crsv_harm": 0.0,
                               "trend_num": 0.0, "series": np.zeros(STEPS)})
    for t, cell, cat, status, grade, fat, inj, child, disp, crsv in rows:
        age = (END - t).total_seconds() / 86400.0
        c = score.credibility(status, grade, terms)
        d = score.decay(age, terms)
        ago = min(int(age // STEP_DAYS), STEPS - 1)
        s = out[h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), res))]
        s["incidents"] += 1
        s["likelihood"] += c * d
        s["harm"] += c * d * score.event_harm(fat, inj, child, disp, terms)
        s["crsv_harm"] += c * d * score.event_crsv(cat, crsv, terms)
        s["trend_num"] += c * ((STEPS - 1 - ago) - (STEPS - 1) / 2.0)
        s["series"][STEPS - 1 - ago] += c
    return out


async def sql_sums(settings, res, terms):
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            f = repo.CellFilter(res=res, start=END - WINDOW, end=END, max_radius_m=1e9,
                                statuses=["entered", "validated", "approved"],
                                step_days=STEP_DAYS)
            got = await repo.cell_sums(session, f, terms, steps=STEPS, with_series=True,
                                       with_perpetrators=False)
    finally:
        await engine.dispose()
    out = {}
    for r in got.rows:
        series = np.zeros(STEPS)
        for ago, w in zip(r["series_ago"], r["series_w"], strict=True):
            series[STEPS - 1 - ago] += w
        out[r["cell"]] = {**r, "series": series}
    return out


@pytest.mark.parametrize("seed", [11, 12])
async def test_sql_and_python_score_random_incidents_alike(settings, conn, seed):
    add_random(conn, random.Random(seed), 160)
    terms = score.threat_terms(settings)
    for res in (9, 6):
        py, db = python_sums(conn, res, terms), await sql_sums(settings, res, terms)
        assert db.keys() == py.keys() and len(db) > 3
        for cell, want in py.items():
            got = db[cell]
            assert got["incidents"] == want["incidents"]
            for key in ("likelihood", "harm", "crsv_harm", "trend_num"):
                assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), (res, cell, key)
            assert got["series"] == pytest.approx(want["series"], rel=1e-9, abs=1e-12)


async def test_the_terms_weigh_what_they_say(settings, conn):
    """Every weight matters: changing it in the definition moves the SQL result the same way."""
    add_random(conn, random.Random(5), 60)
    base = score.threat_terms(settings)
    varied = [
        base.__class__(**{**base.__dict__, "harm_fatality": 2 * base.harm_fatality}),
        base.__class__(**{**base.__dict__, "decay_scale_days": base.decay_scale_days / 2}),
        base.__class__(**{**base.__dict__, "grade_weight": {**base.grade_weight,
                                                              "a": base.grade_weight["c"]}}),
    ]
    before = await sql_sums(settings, 6, base)
    for terms in varied:
        py, db = python_sums(conn, 6, terms), await sql_sums(settings, 6, terms)
        assert any(db[c]["harm"] != pytest.approx(before[c]["harm"]) for c in db)
        for cell, want in py.items():
            assert db[cell]["harm"] == pytest.approx(want["harm"], rel=1e-9, abs=1e-12)


async def test_a_parent_cells_sums_are_its_childrens(settings, conn):
    add_random(conn, random.Random(7), 200)
    terms = score.threat_terms(settings)
    for res in (6, 7):
        parents, children = await sql_sums(settings, res, terms), await sql_sums(settings, res + 1,
                                                                                  terms)
        summed = defaultdict(lambda: defaultdict(float))
        for cell, s in children.items():
            parent = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), res))
            for key in ("incidents", "fatalities", "likelihood", "harm", "crsv_harm",
                        "trend_num"):
                summed[parent][key] += s[key]
        assert summed.keys() == parents.keys()
        for cell, s in parents.items():
            for key, value in summed[cell].items():
                assert s[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (cell, key)


def test_decay_is_underflow_safe_in_both_renderings(settings, conn):
    """A century-long window: the oldest events' decay is 0 in Python and in SQL (PostgreSQL's
    exp() raises an underflow error rather than returning 0)."""
    terms = score.threat_terms(settings)
    assert score.decay(36_600, terms) == 0.0
    from app.repositories import sql_fragments as sql

    value = conn.execute(f"SELECT {sql.decay('CAST(%(age)s AS float8)')}".replace(
        ":t_scale", "%(t_scale)s"), {"age": 36_600, "t_scale": terms.decay_scale_days}
    ).fetchone()[0]
    conn.commit()
    assert value == 0.0
