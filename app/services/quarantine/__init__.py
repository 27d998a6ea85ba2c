"""The quarantine: rows a worker or an import set aside with their error, read by admins."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.repositories import quarantine as repo


def _cursor(row: dict[str, Any]) -> str:
    raw = orjson.dumps([row["created_at"].isoformat(), str(row["id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        ts, ident = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(ts), uuid.UUID(ident)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput.at("/query/cursor", "not a cursor this service issued") from None


async def list_page(session: AsyncSession, *, source: str | None, limit: int,
                    cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    rows = await repo.page(session, source=source, limit=limit + 1,
                           after=_decode(cursor) if cursor else None)
    nxt = _cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], nxt
