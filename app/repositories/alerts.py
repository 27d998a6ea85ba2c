"""Alerts and idempotency keys. The only place alert SQL is built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report, table
from app.models.alerts import Alert, IdempotencyKey
from app.repositories.incidents import POINT_PARAMS, point

ALERT_COLUMNS = [
    *(c for c in table(Alert).columns if c.name != "location"),
    func.ST_X(Alert.location).label("longitude"),
    func.ST_Y(Alert.location).label("latitude"),
]


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


async def recent_from_sender(
    session: AsyncSession,
    sender_key: str,
    since: datetime,
    *,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """The sender's alerts received since `since` (and, given `before`, ahead of that alert in
    the triage order), newest first."""
    conds = [Alert.sender_key == sender_key, Alert.received_at >= since]
    if before is not None:
        conds.append(tuple_(Alert.received_at, Alert.id) < tuple_(*before))
    stmt = (
        select(Alert.id, Alert.text, Alert.incident_id, Alert.collapsed_into)
        .where(*conds)
        .order_by(Alert.received_at.desc())
        .limit(20)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


# Intake in one statement: the idempotency record and the alert are inserted together; when the
# key is already taken (ON CONFLICT waits for a concurrent holder to commit or roll back) nothing
# is inserted and no row comes back. The alert's location is built from bound coordinates.
STORE_ACCEPTED = text(
    """
WITH k AS (
    INSERT INTO idempotency_key (integration_id, key, request_hash, status_code, response)
    SELECT :integration_id, CAST(:key AS text), :request_hash, :status_code, CAST(:response AS jsonb)
    WHERE CAST(:key AS text) IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1
)
INSERT INTO alert (id, integration_id, format, status, category, text, language, observed_at,
                   location, location_radius_m, location_source, h3_cell, place_name,
                   needs_location, reporter_contact, sender_key, external_id, area, place_match)
SELECT :id, :integration_id, :format, 'new', :category, :text, :language, :observed_at,
       CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) END,
       :location_radius_m, :location_source, CAST(:h3_cell AS bigint), :place_name,
       :needs_location, :reporter_contact, :sender_key, :external_id, CAST(:area AS jsonb),
       CAST(:place_match AS jsonb)
WHERE CAST(:key AS text) IS NULL OR EXISTS (SELECT 1 FROM k)
RETURNING id
"""
)
STORED_FIELDS = (
    "id", "integration_id", "format", "category", "text", "language", "observed_at",
    "location_radius_m", "location_source", "h3_cell", "place_name", "needs_location",
    "reporter_contact", "sender_key", "external_id",
)  # fmt: skip


async def store_accepted(
    session: AsyncSession,
    values: dict[str, Any],
    lonlat: tuple[float, float] | None,
    *,
    key: str | None,
    request_hash: str,
    status_code: int,
    response: dict[str, Any],
) -> bool:
    """Insert the alert (untriaged) and its idempotency record, committed when this returns;
    False when the key was taken (nothing inserted)."""
    params = {f: values.get(f) for f in STORED_FIELDS}
    params.update(
        lon=lonlat[0] if lonlat else None,
        lat=lonlat[1] if lonlat else None,
        area=orjson.dumps(values["area"]).decode() if values.get("area") is not None else None,
        place_match=(orjson.dumps(values["place_match"]).decode()
                     if values.get("place_match") is not None else None),
        key=key,
        request_hash=request_hash,
        status_code=status_code,
        response=orjson.dumps(response).decode(),
    )
    # One statement, its own transaction: in autocommit it is sent, executed and committed
    # (synchronously: see app.db) in a single round trip, instead of BEGIN, INSERT and COMMIT.
    if session.in_transaction():
        await session.commit()  # only reads so far (token or integration lookups)
    conn = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return (await conn.execute(STORE_ACCEPTED, params)).first() is not None


async def claim_untriaged(session: AsyncSession, limit: int) -> list[dict[str, Any]]:
    """The oldest untriaged alerts, locked for this transaction; rows other transactions hold
    (another worker, a reviewer) are skipped."""
    stmt = (
        select(*ALERT_COLUMNS)
        .where(Alert.triage.is_(None))
        .order_by(Alert.received_at, Alert.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Alert)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def claim_untriaged_ids(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """`claim_untriaged`, ids only: rows whose values cannot be read are still claimed."""
    stmt = (
        select(Alert.id)
        .where(Alert.triage.is_(None))
        .order_by(Alert.received_at, Alert.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Alert)
    )
    return list((await session.execute(stmt)).scalars())


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


# Constant statements, the changed columns as parameters (their compiled forms are cached per
# set of columns; triage updates every alert).
_UPDATE_ALERT = (update(table(Alert)).where(table(Alert).c.id == bindparam("id_"))
                 .values(updated_at=func.now()))
_UPDATE_ALERT_AT = _UPDATE_ALERT.values(location=POINT_PARAMS)


async def update_alert(
    session: AsyncSession,
    alert_id: uuid.UUID,
    values: dict[str, Any],
    lonlat: tuple[float, float] | None = None,
) -> None:
    if lonlat is None:
        await session.execute(_UPDATE_ALERT, {**values, "id_": alert_id})
    else:
        await session.execute(_UPDATE_ALERT_AT,
                              {**values, "id_": alert_id, "lon_": lonlat[0], "lat_": lonlat[1]})


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
    low, high = cell_range
    return list((await session.execute(_CELL_BURST, {"low": low, "high": high, "since": since}))
                .scalars())


_CELL_BURST = (
    select(Alert.id)
    .where(
        Alert.h3_cell.between(bindparam("low"), bindparam("high")),
        Alert.observed_at >= bindparam("since"),
        Alert.status != "dismissed",
        Alert.collapsed_into.is_(None),
    )
    .order_by(Alert.observed_at)
    .limit(500)
)


async def count_all(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Alert))).scalar_one())
