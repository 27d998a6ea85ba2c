"""The CSV COPY path stores every value exactly as mapped, through the fast path and through
the staging fallback (ON CONFLICT) alike."""

from datetime import UTC, datetime

import pytest

from app.repositories import imports as repo
from app.services.incidents.import_mapping import ParsedEvent

AWKWARD = ['quote " inside', "back\\slash", "comma, and {braces}", "tab\tand\nnewline", "NULL",
           "", "\\N", "accents é ü — ✓"]


def _event(i: int, text: str | None) -> ParsedEvent:
    return ParsedEvent(
        external_id=f"X{i}", occurred_start=datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        occurred_end=None if i % 2 else datetime(2020, 1, 3, tzinfo=UTC), time_precision=1,
        lon=18.123456789012345, lat=-4.987654321098765, location_precision=2,
        precision_scheme="ucdp", location_radius_m=25_000, h3_cell=617700169958293503,
        place_name=text, admin1=None, admin2="", category="killing", subcategory=text,
        perpetrators=[t for t in AWKWARD[i % 3: i % 3 + 3]], perpetrator_type="unknown",
        fatalities_low=None if i % 2 else 1, fatalities_best=2, fatalities_high=None,
        injured=0, crsv_survivors=0, children_affected=0, displaced=0, narrative=text,
        section="open_source", source_name="S", source_reliability="B",
        information_credibility=2, source_count=1, report_narrative=text)


def _stored(conn):
    return {r[0]: r[1:] for r in conn.execute(
        "SELECT external_id, occurred_start, occurred_end, ST_X(location), ST_Y(location), "
        "ST_SRID(location), place_name, admin1, admin2, subcategory, perpetrators, fatalities_low, "
        "i.narrative, h3_cell, r.narrative, quality_grade FROM incident i "
        "JOIN report r ON r.incident_id = i.id").fetchall()}


def _expected(events):
    return {e.external_id: (e.occurred_start, e.occurred_end, e.lon, e.lat, 4326, e.place_name,
                            e.admin1, e.admin2, e.subcategory, e.perpetrators, e.fatalities_low,
                            e.narrative, e.h3_cell, e.report_narrative, "b") for e in events}


@pytest.mark.parametrize("via_staging", [False, True])
def test_awkward_values_round_trip(conn, monkeypatch, via_staging):
    events = [_event(i, t) for i, t in enumerate([*AWKWARD, None])]
    batch = [(e, "b", 1) for e in events]
    if via_staging:  # a "concurrent writer" stored the first two: the batch takes the fallback
        assert repo.load_batch(conn, batch[:2], source="ucdp", status="approved", actor="a") == 2
        monkeypatch.setattr(repo, "_already_stored", lambda cur, source, ids: set())
    assert repo.load_batch(conn, batch, source="ucdp", status="approved", actor="a") == (
        len(events) - 2 if via_staging else len(events))
    conn.commit()
    assert _stored(conn) == _expected(events)


def test_duplicate_ids_in_one_batch_store_the_first(conn):
    a, b = _event(1, "first"), _event(1, "second")
    assert repo.load_batch(conn, [(a, "b", 1), (b, "b", 1)], source="ucdp", status="approved",
                           actor="a") == 1
    assert conn.execute("SELECT narrative FROM incident").fetchall() == [("first",)]


def test_an_id_stored_outside_the_sample_still_lands_once(conn):
    """The pre-COPY lookup samples a batch's ids; a stored id it missed makes the COPY hit the
    unique index, and the batch goes through the staging table instead."""
    events = [(_event(i, f"n{i}"), "b", 1) for i in range(200)]
    step = len(events) // repo.SAMPLE
    missed = next(i for i in range(len(events)) if i % step)
    assert repo.load_batch(conn, [events[missed]], source="ucdp", status="approved", actor="a") == 1
    assert repo.load_batch(conn, events, source="ucdp", status="approved", actor="a") == 199
    conn.commit()
    assert conn.execute("SELECT count(*), count(DISTINCT external_id) FROM incident").fetchone() == (200, 200)
    assert conn.execute("SELECT count(*) FROM report").fetchone()[0] == 200
