"""An incident's audit trail (GET /incidents/{id}/audit): every recorded change to it, oldest
first — creation, edits, reports added, workflow steps, merges and unmerges, alert links — with
who did it, when, and the values before and after. Analysts' and admins' view."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.repositories import audit
from app.repositories import incidents as repo


def _after_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInput("cursor is not one this service issued",
                           errors=[{"pointer": "/query/cursor", "detail": "invalid cursor"}])
    return int(cursor)


async def trail(session: AsyncSession, incident_id: uuid.UUID, *, limit: int,
                cursor: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The incident's events (a page of `limit`) and the cursor of the next page, if any."""
    after_id = _after_id(cursor)
    row = await repo.get(session, incident_id)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    rows = await audit.events_for(session, "incident", str(incident_id), limit=limit + 1,
                                  after_id=after_id)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"id": r["id"], "at": r["at"], "actor": r["actor"], "action": r["action"],
              "before": r["before"], "after": r["after"]} for r in rows]
    body = {"incident_id": str(incident_id), "status": row["status"],
            "merged_into": str(row["merged_into"]) if row["merged_into"] else None,
            "items": items}
    return body, (str(rows[-1]["id"]) if more and rows else None)
