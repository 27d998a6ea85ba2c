"""Warnings, responses, webhook subscriptions and deliveries. The only place their SQL is built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import mark_outbox
from app.models.alerts import (
    EarlyWarning,
    Integration,
    WarningResponse,
    WebhookDelivery,
    WebhookSubscription,
)

OPEN = ("active", "acknowledged", "responded")
OPEN_PREDICATE = text("status IN (" + ", ".join(f"'{s}'" for s in OPEN) + ")")
# Past a deadline now (issue 15): the flag every listing carries, whether or not the scheduler's
# escalation job has recorded it yet. A warning past its expiry is expired, not overdue.
NOT_EXPIRED = EarlyWarning.expires_at > func.now()
OVERDUE_ACK = and_(EarlyWarning.status == "active", EarlyWarning.acknowledge_by <= func.now(),
                   NOT_EXPIRED)
OVERDUE_SCENE = and_(EarlyWarning.status.in_(OPEN), EarlyWarning.on_scene_at.is_(None),
                     EarlyWarning.on_scene_by <= func.now(), NOT_EXPIRED)
WARNING_COLUMNS = [
    *(c for c in EarlyWarning.__table__.columns if c.name != "area"),
    func.ST_AsGeoJSON(EarlyWarning.area, 6).label("geometry_json"),
    func.coalesce(OVERDUE_ACK, False).label("overdue_acknowledgement"),
    func.coalesce(OVERDUE_SCENE, False).label("overdue_on_scene"),
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


def held_by(aors: list[uuid.UUID]) -> ColumnElement[bool]:
    """Need to know: warnings these AORs own, or that an overdue escalation sent to one of them."""
    if not aors:
        return literal(False)
    return or_(EarlyWarning.owner_aor_id.in_(aors), EarlyWarning.escalated_to_aor_id.in_(aors))


def in_aors(location: Any, aors: list[uuid.UUID]) -> ColumnElement[bool]:
    """A location inside one of these areas of responsibility."""
    from app.models.missions import Aor

    if not aors:
        return literal(False)
    return select(Aor.id).where(Aor.id.in_(aors), func.ST_Intersects(Aor.area, location)).exists()


def uuid_array(ids: list[uuid.UUID]) -> Any:
    return literal(ids, type_=PG_ARRAY(PG_UUID(as_uuid=True)))


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["geometry"] = orjson.loads(d.pop("geometry_json"))
    return d


def _geom(geojson: dict[str, Any]) -> Any:
    return func.ST_SetSRID(func.ST_GeomFromGeoJSON(orjson.dumps(geojson).decode()), 4326)


async def insert_or_join(
    session: AsyncSession, values: dict[str, Any], area: dict[str, Any], alert_id: uuid.UUID | None,
    incident_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    """Raise a warning unless one with the same dedupe key is open; then add the alert (or the
    incident) to it. Returns (warning id, created)."""
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
    if incident_id is not None:
        await session.execute(
            update(EarlyWarning)
            .where(
                EarlyWarning.id == existing,
                func.array_position(EarlyWarning.incident_ids, incident_id).is_(None),
            )
            .values(incident_ids=func.array_append(EarlyWarning.incident_ids, incident_id))
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
    overdue: bool | None = None,
    owner_aors: list[uuid.UUID] | None = None,
    mission: str | None = None,
) -> list[dict[str, Any]]:
    """`owner_aors`: only warnings these AORs own or that were escalated to one of them;
    `mission`: none raised in another mission."""
    conds: list[ColumnElement[bool]] = []
    if owner_aors is not None:
        conds.append(held_by(owner_aors))
    if mission is not None:
        conds.append(or_(EarlyWarning.mission_code.is_(None), EarlyWarning.mission_code == mission))
    if overdue is not None:
        late = or_(OVERDUE_ACK, OVERDUE_SCENE)
        conds.append(func.coalesce(late, False) if overdue else ~func.coalesce(late, False))
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
    if overdue:  # the duty officer's queue: the longest overdue first
        first = func.least(EarlyWarning.acknowledge_by, EarlyWarning.on_scene_by)
        stmt = stmt.order_by(first, EarlyWarning.id).limit(limit)
    else:
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
    start: datetime | None, end: datetime | None, bbox: tuple[float, float, float, float] | None,
    aors: list[uuid.UUID] | None = None,
) -> list[Any]:
    conds: list[Any] = [EarlyWarning.status != "cancelled"]
    if aors is not None:  # an AOR's figures: the warnings it (or an AOR under it) owns
        conds.append(EarlyWarning.owner_aor_id.in_(aors) if aors else literal(False))
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
    aors: list[uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """One row per warning raised in the window (cancelled ones excluded): when it was raised, its
    grouping keys (owner, rule, severity, source), deadlines, escalation and ending, the first
    time each response step happened, and whether any real response exists."""
    r = WarningResponse
    stmt = (
        select(
            EarlyWarning.id,
            EarlyWarning.created_at,
            EarlyWarning.rule,
            EarlyWarning.severity,
            EarlyWarning.urgency,
            EarlyWarning.source,
            EarlyWarning.status,
            EarlyWarning.outcome,
            EarlyWarning.assigned_to,
            EarlyWarning.owner_id,
            EarlyWarning.acknowledge_by,
            EarlyWarning.on_scene_by,
            EarlyWarning.escalation_level,
            EarlyWarning.alert_ids,
            EarlyWarning.incident_ids,
            EarlyWarning.h3_cell,
            EarlyWarning.closed_at,
            func.least(EarlyWarning.acknowledged_at, func.min(r.acknowledged_at)).label("acknowledged_at"),
            func.least(EarlyWarning.dispatched_at, func.min(r.dispatched_at)).label("dispatched_at"),
            func.least(EarlyWarning.on_scene_at, func.min(r.on_scene_at)).label("on_scene_at"),
            func.max(r.completed_at).label("completed_at"),
            func.count(r.id).label("responses"),
            func.coalesce(func.bool_or(r.type != "none"), False).label("responded"),
        )
        .select_from(EarlyWarning)
        .outerjoin(r, r.warning_id == EarlyWarning.id)
        .where(and_(*_metric_conds(start, end, bbox, aors)))
        .group_by(EarlyWarning.id)
        .order_by(EarlyWarning.created_at, EarlyWarning.id)
    )
    return [dict(x) for x in (await session.execute(stmt)).mappings()]


async def delay_reasons(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
    aors: list[uuid.UUID] | None = None,
) -> list[tuple[uuid.UUID, str]]:
    """(warning id, delay reason) for every reason of every response to the window's warnings."""
    reason = func.unnest(WarningResponse.delay_reasons).label("reason")
    stmt = (
        select(WarningResponse.warning_id, reason)
        .select_from(WarningResponse)
        .join(EarlyWarning, EarlyWarning.id == WarningResponse.warning_id)
        .where(and_(*_metric_conds(start, end, bbox, aors)))
    )
    return [(w, str(x)) for w, x in (await session.execute(stmt)).all()]


async def delay_reason_counts(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, reason in await delay_reasons(session, start=start, end=end, bbox=bbox):  # unscoped
        counts[reason] = counts.get(reason, 0) + 1
    return counts


async def unanswered_alerts(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
    received_before: datetime,
    aors: list[uuid.UUID] | None = None,
) -> dict[str, int]:
    """Of the alerts received in the window and before `received_before` (collapsed repeats
    excluded): how many, and how many neither reached a warning nor were dismissed (with a
    reason)."""
    from app.models.alerts import Alert

    conds: list[Any] = [Alert.received_at <= received_before, Alert.collapsed_into.is_(None)]
    if start:
        conds.append(Alert.received_at >= start)
    if end:
        conds.append(Alert.received_at <= end)
    if bbox:
        conds.append(Alert.location.op("&&")(func.ST_MakeEnvelope(*bbox, 4326)))
    if aors is not None:
        conds.append(in_aors(Alert.location, aors))
    in_warning = (select(EarlyWarning.id)
                  .where(EarlyWarning.alert_ids.op("@>")(pg_array([Alert.id]))).exists())
    stmt = select(
        func.count(),
        func.count().filter(and_(Alert.status != "dismissed", ~in_warning)),
    ).where(and_(*conds))
    total, unanswered = (await session.execute(stmt)).one()
    return {"alerts": int(total), "unanswered": int(unanswered)}


async def acknowledgement_counts(
    session: AsyncSession, *, start: datetime | None, end: datetime | None,
    aors: list[uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """Community acknowledgements queued in the window, by event and delivery status; `aors`:
    only those of alerts located in these AORs."""
    from app.models.alerts import Alert

    conds: list[Any] = [WebhookDelivery.channel == "community_ack"]
    if aors is not None:
        conds.append(select(Alert.id).where(Alert.id == WebhookDelivery.alert_id,
                                            in_aors(Alert.location, aors)).exists())
    if start:
        conds.append(WebhookDelivery.created_at >= start)
    if end:
        conds.append(WebhookDelivery.created_at <= end)
    stmt = (select(WebhookDelivery.event, WebhookDelivery.status, func.count())
            .where(and_(*conds)).group_by(WebhookDelivery.event, WebhookDelivery.status))
    return [{"event": e, "status": st, "count": int(n)} for e, st, n in (await session.execute(stmt)).all()]


# --- webhooks -------------------------------------------------------------------------------


async def add_subscription(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID:
    return (
        await session.execute(insert(WebhookSubscription).values(**values).returning(WebhookSubscription.id))
    ).scalar_one()


async def subscriptions(
    session: AsyncSession, *, active_only: bool = True, levels: tuple[int, ...] | None = None,
    with_scoped: bool = False,
) -> list[dict[str, Any]]:
    """With `levels`: the unscoped subscriptions of those levels, and (`with_scoped`) every
    subscription scoped to an AOR, whatever its level."""
    stmt = select(*WebhookSubscription.__table__.columns).order_by(WebhookSubscription.created_at)
    if active_only:
        stmt = stmt.where(WebhookSubscription.active.is_(True))
    if levels is not None:
        unscoped = and_(WebhookSubscription.aor_id.is_(None), WebhookSubscription.level.in_(levels))
        stmt = stmt.where(or_(unscoped, WebhookSubscription.aor_id.is_not(None))
                          if with_scoped else unscoped)
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
    # A community acknowledgement goes to its integration's gateway, signed with that
    # integration's own secret; `sendable` is false once the integration opted out or was revoked.
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.channel,
            WebhookDelivery.subscription_id,
            WebhookDelivery.alert_id,
            WebhookDelivery.event,
            WebhookDelivery.payload,
            WebhookDelivery.attempt_count,
            WebhookDelivery.attempts,
            func.coalesce(WebhookSubscription.url, Integration.ack_url).label("url"),
            func.coalesce(WebhookSubscription.secret_salt, Integration.secret_salt).label("secret_salt"),
            or_(WebhookDelivery.channel == "webhook",
                and_(Integration.ack_url.is_not(None), Integration.acknowledge_reporters.is_(True),
                     Integration.revoked_at.is_(None))).label("sendable"),
        )
        .outerjoin(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .outerjoin(Integration, Integration.id == WebhookDelivery.integration_id)
        .where(WebhookDelivery.id.in_(claimed))
        .order_by(WebhookDelivery.created_at)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def record_attempt(session: AsyncSession, delivery_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))


async def deliveries(
    session: AsyncSession, *, warning_id: uuid.UUID | None = None, alert_id: uuid.UUID | None = None,
    channel: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    stmt = select(*(c for c in WebhookDelivery.__table__.columns if c.name != "payload"))
    if warning_id is not None:
        stmt = stmt.where(WebhookDelivery.warning_id == warning_id)
    if alert_id is not None:
        stmt = stmt.where(WebhookDelivery.alert_id == alert_id)
    if channel is not None:
        stmt = stmt.where(WebhookDelivery.channel == channel)
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


async def purge_deliveries(session: AsyncSession, before: datetime) -> int:
    """Delete the logs of deliveries that are finished (delivered or failed) and older than
    `before`; pending ones stay whatever their age."""
    res = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.created_at < before,
                                      WebhookDelivery.status.in_(("delivered", "failed"))))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


# --- the response record (issue 15) -----------------------------------------------------------


async def get_response(session: AsyncSession, response_id: uuid.UUID, *, lock: bool = False
                       ) -> dict[str, Any] | None:
    stmt = select(*WarningResponse.__table__.columns).where(WarningResponse.id == response_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def update_response(session: AsyncSession, response_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(WarningResponse).where(WarningResponse.id == response_id)
                          .values(**values, updated_at=func.now()))


async def first_steps(session: AsyncSession, warning_id: uuid.UUID, dispatched_at: datetime | None,
                      on_scene_at: datetime | None) -> None:
    """Keep the warning's first dispatch and first arrival over all its responses."""
    values: dict[str, Any] = {}
    if dispatched_at is not None:
        values["dispatched_at"] = func.least(EarlyWarning.dispatched_at, dispatched_at)
    if on_scene_at is not None:
        values["on_scene_at"] = func.least(EarlyWarning.on_scene_at, on_scene_at)
    if values:
        await session.execute(update(EarlyWarning).where(EarlyWarning.id == warning_id)
                              .values(**values, updated_at=func.now()))


async def open_warnings_holding(session: AsyncSession, *, alert_id: uuid.UUID | None = None,
                                incident_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Open warnings that already hold this alert or incident."""
    conds: list[Any] = [EarlyWarning.status.in_(OPEN)]
    if alert_id is not None:
        conds.append(EarlyWarning.alert_ids.op("@>")(uuid_array([alert_id])))
    if incident_id is not None:
        conds.append(EarlyWarning.incident_ids.op("@>")(uuid_array([incident_id])))
    stmt = select(EarlyWarning.id).where(and_(*conds)).order_by(EarlyWarning.created_at)
    return list((await session.execute(stmt)).scalars())


async def mark_overdue(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """Record the deadlines missed since the last look: each raises the warning one escalation
    level. Returns (id, missed, level) per deadline found missed now."""
    live = [EarlyWarning.expires_at > now]
    ack = (
        update(EarlyWarning)
        .where(EarlyWarning.status == "active", EarlyWarning.acknowledge_by <= now,
               EarlyWarning.acknowledge_overdue_at.is_(None), *live)
        .values(acknowledge_overdue_at=now, escalation_level=EarlyWarning.escalation_level + 1,
                updated_at=func.now())
        .returning(EarlyWarning.id, EarlyWarning.escalation_level, EarlyWarning.owner_aor_id,
                   EarlyWarning.mission_code)
    )
    scene = (
        update(EarlyWarning)
        .where(EarlyWarning.status.in_(OPEN), EarlyWarning.on_scene_at.is_(None),
               EarlyWarning.on_scene_by <= now, EarlyWarning.on_scene_overdue_at.is_(None), *live)
        .values(on_scene_overdue_at=now, escalation_level=EarlyWarning.escalation_level + 1,
                updated_at=func.now())
        .returning(EarlyWarning.id, EarlyWarning.escalation_level, EarlyWarning.owner_aor_id,
                   EarlyWarning.mission_code)
    )
    out = [{"id": i, "missed": "acknowledgement", "level": lvl, "owner_aor_id": a, "mission_code": m}
           for i, lvl, a, m in (await session.execute(ack)).all()]
    out += [{"id": i, "missed": "on_scene", "level": lvl, "owner_aor_id": a, "mission_code": m}
            for i, lvl, a, m in (await session.execute(scene)).all()]
    return out


async def set_escalated_to(session: AsyncSession, warning_id: uuid.UUID, *,
                           aor_id: uuid.UUID | None, name: str, kind: str) -> None:
    await session.execute(update(EarlyWarning).where(EarlyWarning.id == warning_id).values(
        escalated_to_aor_id=aor_id, escalated_to=name, escalated_to_kind=kind))


async def set_mission(session: AsyncSession, ids: list[uuid.UUID], mission: str | None) -> None:
    """Record the mission a scan raised these warnings for."""
    if ids and mission is not None:
        await session.execute(update(EarlyWarning).where(EarlyWarning.id.in_(ids))
                              .values(mission_code=mission))
