from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent


def _json_safe(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """Dates, UUIDs and enums as strings, so any service's values can go into the JSONB columns."""
    return None if d is None else orjson.loads(orjson.dumps(d, default=str))


async def record(session: AsyncSession, *, actor: str, action: str, object_type: str,
                 object_id: str, before: dict[str, Any] | None = None,
                 after: dict[str, Any] | None = None) -> None:
    await session.execute(insert(AuditEvent).values(
        actor=actor, action=action, object_type=object_type, object_id=object_id,
        before=_json_safe(before), after=_json_safe(after),
    ))
