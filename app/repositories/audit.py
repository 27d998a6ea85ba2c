from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent, table

_INSERT = insert(table(AuditEvent))  # one cached statement, the values as parameters


def _json_safe(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """Dates, UUIDs and enums as strings, so any service's values can go into the JSONB columns."""
    return None if d is None else orjson.loads(orjson.dumps(d, default=str))


async def record(session: AsyncSession, *, actor: str, action: str, object_type: str,
                 object_id: str, before: dict[str, Any] | None = None,
                 after: dict[str, Any] | None = None) -> None:
    await session.execute(_INSERT, dict(
        actor=actor, action=action, object_type=object_type, object_id=object_id,
        before=_json_safe(before), after=_json_safe(after),
    ))


async def events_for(session: AsyncSession, object_type: str, object_id: str, *, limit: int,
                     after_id: int | None = None) -> list[dict[str, Any]]:
    """One object's audit events, oldest first (id order is insertion order), from after_id."""
    stmt = (select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                   AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id).limit(limit))
    if after_id is not None:
        stmt = stmt.where(AuditEvent.id > after_id)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]
