"""Community acknowledgements in the delivery outbox, and the reporter contacts they go to."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import mark_outbox
from app.models.alerts import Alert, Integration, WebhookDelivery


async def enqueue(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Queue acknowledgements; one per (alert, event) ever, so a retried triage or a second
    dispatch queues nothing new. Returns how many were queued now."""
    if not rows:
        return 0
    stmt = (
        pg_insert(WebhookDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["alert_id", "event"],
                                index_where=WebhookDelivery.channel == "community_ack")
        .returning(WebhookDelivery.id)
    )
    queued = len((await session.execute(stmt)).scalars().all())
    if queued:
        mark_outbox(session)
    return queued


async def ack_targets(session: AsyncSession, alert_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """The alerts (with a contact, not dismissed, not collapsed repeats) and their integration's
    acknowledgement settings."""
    stmt = (
        select(Alert.id, Alert.integration_id, Alert.language, Alert.external_id,
               Integration.ack_url, Integration.acknowledge_reporters, Integration.revoked_at)
        .join(Integration, Integration.id == Alert.integration_id)
        .where(Alert.id.in_(alert_ids), Alert.status != "dismissed", Alert.collapsed_into.is_(None),
               Alert.reporter_contact.is_not(None))
        .order_by(Alert.received_at, Alert.id)
    )
    out = []
    for r in (await session.execute(stmt)).mappings():
        d = dict(r)
        d["integration"] = {k: d.pop(k) for k in ("ack_url", "acknowledge_reporters", "revoked_at")}
        out.append(d)
    return out


async def contact(session: AsyncSession, alert_id: uuid.UUID) -> str | None:
    stmt = select(Alert.reporter_contact).where(Alert.id == alert_id)
    return (await session.execute(stmt)).scalar_one_or_none()
