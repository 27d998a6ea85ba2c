"""The quarantine of rows a worker could not process. The only place its SQL is built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.quarantine import QuarantinedRow

COLUMNS = list(QuarantinedRow.__table__.columns)


async def add(session: AsyncSession, *, source: str, object_type: str, object_id: str,
              error: str, detail: dict[str, Any] | None = None) -> uuid.UUID:
    stmt = insert(QuarantinedRow).values(source=source, object_type=object_type,
                                         object_id=object_id, error=error, detail=detail)
    return (await session.execute(stmt.returning(QuarantinedRow.id))).scalar_one()


async def page(session: AsyncSession, *, source: str | None, limit: int,
               after: tuple[datetime, uuid.UUID] | None) -> list[dict[str, Any]]:
    stmt = select(*COLUMNS)
    if source is not None:
        stmt = stmt.where(QuarantinedRow.source == source)
    if after is not None:
        stmt = stmt.where(tuple_(QuarantinedRow.created_at, QuarantinedRow.id) < tuple_(*after))
    stmt = stmt.order_by(QuarantinedRow.created_at.desc(), QuarantinedRow.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def purge_before(session: AsyncSession, before: datetime) -> int:
    """Delete quarantined rows set aside before `before` (retention)."""
    res = await session.execute(delete(QuarantinedRow).where(QuarantinedRow.created_at < before))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]
