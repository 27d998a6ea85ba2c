"""Alerts and idempotency keys. The only place alert SQL is built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report
from app.models.alerts import Alert, IdempotencyKey
from app.repositories.incidents import point

ALERT_COLUMNS = [
    *(c for c in Alert.__table__.columns if c.name != "location"),
    func.ST_X(Alert.location).label("longitude"),
    func.ST_Y(Alert.location).label("latitude"),
]


async def lock_key(session: AsyncSession, integration_id: uuid.UUID, key: str) -> None:
    """Serialise requests that share an idempotency key (held until commit or rollback)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 4))"),
        {"k": f"{integration_id}:{key}"},
    )


async def get_key(session: AsyncSession, integration_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(
                    IdempotencyKey.request_hash, IdempotencyKey.status_code, IdempotencyKey.response
                ).where(IdempotencyKey.integration_id == integration_id, IdempotencyKey.key == key)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def put_key(
    session: AsyncSession,
    integration_id: uuid.UUID,
    key: str,
    request_hash: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    await session.execute(
        pg_insert(IdempotencyKey).values(
            integration_id=integration_id,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response=response,
        )
    )


async def purge_keys(session: AsyncSession, before: datetime) -> int:
    res = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < before))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


async def insert_alert(
    session: AsyncSession, values: dict[str, Any], lonlat: tuple[float, float] | None
) -> uuid.UUID:
    vals = dict(values)
    if lonlat is not None:
        vals["location"] = point(*lonlat)
    return (await session.execute(insert(Alert).values(**vals).returning(Alert.id))).scalar_one()


async def recent_from_sender(session: AsyncSession, sender_key: str, since: datetime) -> list[dict[str, Any]]:
    stmt = (
        select(Alert.id, Alert.text, Alert.incident_id, Alert.collapsed_into)
        .where(Alert.sender_key == sender_key, Alert.received_at >= since)
        .order_by(Alert.received_at.desc())
        .limit(20)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def get(session: AsyncSession, alert_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = select(*ALERT_COLUMNS).where(Alert.id == alert_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def page(
    session: AsyncSession,
    *,
    statuses: list[str] | None,
    needs_location: bool | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[dict[str, Any]]:
    conds: list[ColumnElement[bool]] = []
    if statuses:
        conds.append(Alert.status.in_(statuses))
    if needs_location is not None:
        conds.append(Alert.needs_location.is_(needs_location))
    if after is not None:
        conds.append(tuple_(Alert.received_at, Alert.id) < tuple_(*after))
    stmt = select(*ALERT_COLUMNS)
    if conds:
        stmt = stmt.where(and_(*conds))
    stmt = stmt.order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def update_alert(
    session: AsyncSession,
    alert_id: uuid.UUID,
    values: dict[str, Any],
    lonlat: tuple[float, float] | None = None,
) -> None:
    vals = {**values, "updated_at": func.now()}
    if lonlat is not None:
        vals["location"] = point(*lonlat)
    await session.execute(update(Alert).where(Alert.id == alert_id).values(**vals))


async def move_report(session: AsyncSession, report_id: uuid.UUID, incident_id: uuid.UUID) -> None:
    await session.execute(update(Report).where(Report.id == report_id).values(incident_id=incident_id))


async def report_count(session: AsyncSession, incident_id: uuid.UUID) -> int:
    return int(
        (
            await session.execute(
                select(func.count()).select_from(Report).where(Report.incident_id == incident_id)
            )
        ).scalar_one()
    )


async def cell_burst(session: AsyncSession, cell_range: tuple[int, int], since: datetime) -> list[uuid.UUID]:
    """Alerts (not dismissed, not collapsed repeats) whose fine cell lies in a parent's range."""
    stmt = (
        select(Alert.id)
        .where(
            Alert.h3_cell.between(*cell_range),
            Alert.observed_at >= since,
            Alert.status != "dismissed",
            Alert.collapsed_into.is_(None),
        )
        .order_by(Alert.observed_at)
        .limit(500)
    )
    return list((await session.execute(stmt)).scalars())


async def count_all(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Alert))).scalar_one())


async def require_durable_commit(session: AsyncSession) -> None:
    """An accepted alert must survive a database crash even where the server runs with
    synchronous_commit = off (the local cluster does): this transaction waits for its WAL flush."""
    await session.execute(text("SET LOCAL synchronous_commit TO on"))
