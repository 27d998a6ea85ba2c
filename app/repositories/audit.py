from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent


async def record(session: AsyncSession, *, actor: str, action: str, object_type: str,
                 object_id: str, before: dict[str, Any] | None = None,
                 after: dict[str, Any] | None = None) -> None:
    await session.execute(insert(AuditEvent).values(
        actor=actor, action=action, object_type=object_type, object_id=object_id,
        before=before, after=after,
    ))


async def for_object(session: AsyncSession, object_type: str, object_id: str) -> list[AuditEvent]:
    from sqlalchemy import select

    stmt = (select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id))
    return list((await session.execute(stmt)).scalars())
