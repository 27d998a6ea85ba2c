"""Forecast event fetch on real PostGIS: parent cells by bit arithmetic, the strict cut-off,
rejected and coarsely located incidents left out."""

from __future__ import annotations

from datetime import UTC, datetime

import h3
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import make_async_engine, make_sessionmaker
from app.repositories import forecast as repo


def add(
    conn,
    when: str,
    lat: float = 4.37,
    lng: float = 18.56,
    *,
    status: str = "approved",
    radius: int = 1000,
    fatalities: int = 1,
    category: str = "killing",
) -> None:
    cell = h3.str_to_int(h3.latlng_to_cell(lat, lng, 9))
    conn.execute(
        "INSERT INTO incident (occurred_start, location, h3_cell, category, status, "
        "location_radius_m, fatalities_best, injured, perpetrator_type, created_by, updated_by) "
        "VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s, %s, 1, "
        "'non_state_armed_group', 'test', 'test')",
        (when, lng, lat, cell, category, status, radius, fatalities),
    )
    conn.commit()


@pytest.fixture
async def session(settings):
    engine = make_async_engine(settings)
    async with make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def test_events_at_coarser_resolutions_match_h3_parents(conn, session: AsyncSession):
    pts = [(4.37, 18.56), (6.5, 21.99), (7.3, 22.7)]
    for i, (lat, lng) in enumerate(pts):
        add(conn, f"2020-0{i + 1}-01T00:00:00Z", lat, lng)
    for res in (4, 6, 9):
        rows = await repo.events(session, res, max_radius_m=50_000)
        assert [h3.int_to_str(r["cell"]) for r in rows] == [
            h3.latlng_to_cell(lat, lng, res) for lat, lng in pts
        ]
        assert all(r["harm"] == 2 for r in rows)  # fatalities + injured


async def test_before_is_strict_and_rejected_or_coarse_incidents_are_left_out(conn, session):
    add(conn, "2020-01-01T00:00:00Z")
    add(conn, "2020-02-01T00:00:00Z")  # exactly at the cut-off: excluded
    add(conn, "2020-01-15T00:00:00Z", status="rejected")
    add(conn, "2020-01-16T00:00:00Z", radius=150_000)  # province-level location
    add(conn, "2020-01-17T00:00:00Z", status="entered")
    cut = datetime(2020, 2, 1, tzinfo=UTC)
    rows = await repo.events(session, 6, max_radius_m=50_000, before=cut)
    assert len(rows) == 2 and all(r["occurred"] < cut for r in rows)
    approved = await repo.events(session, 6, max_radius_m=50_000, before=cut, statuses=["approved"])
    assert len(approved) == 1
    first, last, coarse = await repo.span(session, 50_000)
    assert first == datetime(2020, 1, 1, tzinfo=UTC) and coarse == 1


async def test_fingerprint_changes_when_an_incident_changes(conn, session):
    add(conn, "2020-01-01T00:00:00Z")
    before = await repo.fingerprint(session)
    await session.rollback()
    conn.execute("UPDATE incident SET fatalities_best = 9, updated_at = now() + interval '1 s'")
    conn.commit()
    assert await repo.fingerprint(session) != before
