"""The scheduler's rule scan: its cursor, what the incident change log (0007) says changed since,
and the staff-recorded sexual-violence incidents no warning holds yet."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.alerts import RuleScanState
from app.repositories.hotspots import PARENT


async def state(session: AsyncSession) -> dict[str, Any] | None:
    """The cursor (read without a row lock: the job runs under its advisory lock, and a locking
    read would make the transaction a writer, which may not use the threat-layer caches)."""
    row = (await session.execute(text(
        "SELECT version, full_at, scanned_at FROM rule_scan_state WHERE id"))).mappings().first()
    return dict(row) if row else None


async def save_state(session: AsyncSession, *, version: int, full_at: datetime, scanned_at: datetime
                     ) -> None:
    stmt = pg_insert(RuleScanState).values(id=True, version=version, full_at=full_at,
                                           scanned_at=scanned_at)
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={
        "version": stmt.excluded.version, "full_at": stmt.excluded.full_at,
        "scanned_at": stmt.excluded.scanned_at})
    await session.execute(stmt)


async def log_position(session: AsyncSession) -> tuple[int, int] | None:
    """(data version now, the version from which the change log is complete), or None."""
    row = (await session.execute(text(
        "SELECT version, log_since FROM data_version WHERE id"))).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def changed_cells(session: AsyncSession, *, after: int, upto: int, res: int) -> set[int]:
    """Parent cells at `res` of every incident row the log recorded after version `after`, up to
    `upto` (old and new images: a cell an incident left changed too)."""
    sql = text(f"SELECT DISTINCT {PARENT} FROM incident_change i "
               "WHERE i.version > :after AND i.version <= :upto")
    rows = await session.execute(sql, {"after": after, "upto": upto, "res": res})
    return {int(r[0]) for r in rows}


STAFF_SV = """
SELECT i.id, i.category, i.h3_cell, i.place_name, i.occurred_start, i.status,
       ST_X(i.location) AS longitude, ST_Y(i.location) AS latitude
FROM incident i
WHERE i.category = 'sexual_violence' AND i.status <> 'rejected'
  AND i.external_source IS NULL AND i.created_by NOT LIKE 'integration:%'
  AND i.occurred_start >= :since
  AND NOT EXISTS (SELECT 1 FROM warning w WHERE w.incident_ids @> ARRAY[i.id])
"""


async def staff_sexual_violence(session: AsyncSession, *, since: datetime,
                                ids: list[uuid.UUID] | None = None) -> list[dict[str, Any]]:
    """Sexual-violence incidents recorded by staff (not imported, not opened by an alert) since
    `since`, that no warning holds yet; only these ids when given (from the change log)."""
    sql = STAFF_SV
    params: dict[str, Any] = {"since": since}
    if ids is not None:
        if not ids:
            return []
        sql += " AND i.id = ANY(:ids)"
        params["ids"] = ids
    sql += " ORDER BY i.created_at, i.id"
    return [dict(r) for r in (await session.execute(text(sql), params)).mappings()]


async def logged_sexual_violence(session: AsyncSession, *, after: int, upto: int) -> list[uuid.UUID]:
    rows = await session.execute(text(
        "SELECT DISTINCT id FROM incident_change WHERE version > :after AND version <= :upto "
        "AND sign = 1 AND category = 'sexual_violence'"), {"after": after, "upto": upto})
    return [r[0] for r in rows]


async def recent_dedupe_keys(session: AsyncSession, keys: list[str], since: datetime) -> set[str]:
    """Which of these rule-and-cell keys raised a warning since `since` (whatever its status)."""
    if not keys:
        return set()
    rows = await session.execute(text(
        "SELECT DISTINCT dedupe_key FROM warning WHERE dedupe_key = ANY(:keys) AND created_at >= :since"),
        {"keys": keys, "since": since})
    return {r[0] for r in rows}
