"""Warnings, responses, webhook subscriptions and deliveries. The only place their SQL is built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, case, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import mark_outbox
from app.models.alerts import (
    EarlyWarning,
    WarningResponse,
    WebhookDelivery,
    WebhookSubscription,
)

OPEN = ("active", "acknowledged", "responded")
OPEN_PREDICATE = text("status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")")
WARNING_COLUMNS = [
    *(c for c in EarlyWarning.__table__.columns if c.name != "area"),
    func.ST_AsGeoJSON(EarlyWarning.area, 6).label("geometry_json"),
]


# A warning past its expiry is listed as expired at once, before the scheduler's expiry job
# records it (reads never write): the stored status catches up within one job interval.
EFFECTIVE_STATUS = case(
    (
        and_(EarlyWarning.status.in_(("active", "acknowledged")), EarlyWarning.expires_at <= func.now()),
        literal("expired"),
    ),
    else_=EarlyWarning.status,
)
LISTED_COLUMNS = [c if getattr(c, "name", None) != "status" else EFFECTIVE_STATUS.label("status")
                  for c in WARNING_COLUMNS]


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["geometry"] = orjson.loads(d.pop("geometry_json"))
    return d


def _geom(geojson: dict[str, Any]) -> Any:
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(orjson.dumps(geojson).decode()), 4326)


async def insert_or_join(
    session: AsyncSession, values: dict[str, Any], area: dict[str, Any], alert_id: uuid.UUID | None
) -> tuple[uuid.UUID, bool]:
    """Raise a warning unless one with the same dedupe key is open; then add the alert to it.
    Returns (warning id, created)."""
    stmt = (
        pg_insert(EarlyWarning)
        .values(**values, area=_geom(area))
        # The partial index's predicate as literals: with bound parameters PostgreSQL cannot match
        # it once psycopg prepares the statement (5th execution on a connection) and refuses.
        .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=OPEN_PREDICATE)
        .returning(EarlyWarning.id)
    )
    new_id = (await session.execute(stmt)).scalar_one_or_none()
    if new_id is not None:
        return new_id, True
    existing = (
        await session.execute(
            select(EarlyWarning.id).where(
                EarlyWarning.dedupe_key == values["dedupe_key"], EarlyWarning.status.in_(OPEN)
            )
        )
    ).scalar_one()
    if alert_id is not None:
        await session.execute(
            update(EarlyWarning)
            .where(
                EarlyWarning.id == existing,
                func.array_position(EarlyWarning.alert_ids, alert_id).is_(None),
            )
            .values(alert_ids=func.array_append(EarlyWarning.alert_ids, alert_id))
        )
    return existing, False


async def get(session: AsyncSession, warning_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    stmt = select(*WARNING_COLUMNS).where(EarlyWarning.id == warning_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return _row(row) if row else None


async def listing(
    session: AsyncSession,
    *,
    statuses: list[str] | None,
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    conds: list[ColumnElement[bool]] = []
    if statuses:
        conds.append(EFFECTIVE_STATUS.in_(statuses))
    if bbox:
        conds.append(EarlyWarning.area.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    if start:
        conds.append(EarlyWarning.created_at >= start)
    if end:
        conds.append(EarlyWarning.created_at <= end)
    stmt = select(*LISTED_COLUMNS)
    if conds:
        stmt = stmt.where(and_(*conds))
    stmt = stmt.order_by(EarlyWarning.updated_at.desc(), EarlyWarning.id).limit(limit)
    return [_row(r) for r in (await session.execute(stmt)).mappings()]


async def set_status(session: AsyncSession, warning_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(EarlyWarning).where(EarlyWarning.id == warning_id).values(**values, updated_at=func.now())
    )


async def expire_due(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    stmt = (
        update(EarlyWarning)
        .where(EarlyWarning.status.in_(("active", "acknowledged")), EarlyWarning.expires_at <= now)
        .values(status="expired", updated_at=func.now(), closed_at=now)
        .returning(EarlyWarning.id)
    )
    return list((await session.execute(stmt)).scalars())


async def add_response(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    return (
        await session.execute(insert(WarningResponse).values(**values).returning(WarningResponse.id))
    ).scalar_one()


async def responses_for(session: AsyncSession, warning_id: uuid.UUID) -> list[dict[str, Any]]:
    stmt = (
        select(*WarningResponse.__table__.columns)
        .where(WarningResponse.warning_id == warning_id)
        .order_by(WarningResponse.created_at)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


def _metric_conds(
    start: datetime | None, end: datetime | None, bbox: tuple[float, float, float, float] | None
) -> list[Any]:
    conds: list[Any] = [EarlyWarning.status != "cancelled"]
    if start:
        conds.append(EarlyWarning.created_at >= start)
    if end:
        conds.append(EarlyWarning.created_at <= end)
    if bbox:
        conds.append(EarlyWarning.area.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    return conds


async def metric_rows(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
) -> list[dict[str, Any]]:
    """One row per warning raised in the window (cancelled ones excluded): when it was raised,
    the first time each response step happened, and whether any real response exists."""
    r = WarningResponse
    stmt = (
        select(
            EarlyWarning.id,
            EarlyWarning.created_at,
            func.least(EarlyWarning.acknowledged_at, func.min(r.acknowledged_at)).label("acknowledged_at"),
            func.min(r.dispatched_at).label("dispatched_at"),
            func.min(r.on_scene_at).label("on_scene_at"),
            func.coalesce(func.bool_or(r.type != "none"), False).label("responded"),
        )
        .select_from(EarlyWarning)
        .outerjoin(r, r.warning_id == EarlyWarning.id)
        .where(and_(*_metric_conds(start, end, bbox)))
        .group_by(EarlyWarning.id)
    )
    return [dict(x) for x in (await session.execute(stmt)).mappings()]


async def delay_reason_counts(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
) -> dict[str, int]:
    reason = func.unnest(WarningResponse.delay_reasons).label("reason")
    inner = (
        select(reason)
        .select_from(WarningResponse)
        .join(EarlyWarning, EarlyWarning.id == WarningResponse.warning_id)
        .where(and_(*_metric_conds(start, end, bbox)))
        .subquery()
    )
    stmt = select(inner.c.reason, func.count()).group_by(inner.c.reason)
    return {k: int(v) for k, v in (await session.execute(stmt)).all()}


# --- webhooks -------------------------------------------------------------------------------


async def add_subscription(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    return (
        await session.execute(insert(WebhookSubscription).values(**values).returning(WebhookSubscription.id))
    ).scalar_one()


async def subscriptions(session: AsyncSession, *, active_only: bool = True) -> list[dict[str, Any]]:
    stmt = select(*WebhookSubscription.__table__.columns).order_by(WebhookSubscription.created_at)
    if active_only:
        stmt = stmt.where(WebhookSubscription.active.is_(True))
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def enqueue(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
        mark_outbox(session)  # the dispatcher is woken once this transaction commits


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """Claim pending deliveries whose time has come: each one's next attempt moves to
    `lease_until`, so once the caller commits no other dispatcher takes it, and if the caller dies
    before recording the attempt the delivery is due again when the lease ends (at least once)."""
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = (
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due))
            .values(next_attempt_at=lease_until)
            .returning(WebhookDelivery.id)
        )
    ).scalars().all()
    if not claimed:
        return []
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.subscription_id,
            WebhookDelivery.event,
            WebhookDelivery.payload,
            WebhookDelivery.attempt_count,
            WebhookDelivery.attempts,
            WebhookSubscription.url,
            WebhookSubscription.secret_salt,
        )
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(claimed))
        .order_by(WebhookDelivery.created_at)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def record_attempt(session: AsyncSession, delivery_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))


async def deliveries(
    session: AsyncSession, *, warning_id: uuid.UUID | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    stmt = select(*(c for c in WebhookDelivery.__table__.columns if c.name != "payload"))
    if warning_id is not None:
        stmt = stmt.where(WebhookDelivery.warning_id == warning_id)
    stmt = stmt.order_by(WebhookDelivery.created_at.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def has_due(session: AsyncSession, now: datetime) -> bool:
    stmt = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def set_mission(session: AsyncSession, ids: list[uuid.UUID], mission: str | None) -> None:
    """Record the mission a scan raised these warnings for."""
    if ids and mission is not None:
        await session.execute(update(EarlyWarning).where(EarlyWarning.id.in_(ids))
                              .values(mission_code=mission))
