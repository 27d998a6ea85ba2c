"""Cursor-on-Target feed for TAK clients: GET /api/v1/cot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.deps import ReadSessionDep, SettingsDep, parse_instant, require
from app.domain import Role
from app.services.auth import Principal
from app.services.cot import feed
from app.services.cot.service import cot_document

router = APIRouter(prefix="/api/v1/cot", tags=["warnings"])

READERS = (Role.admin, Role.analyst, Role.operations)


@router.get("", summary="Warnings and critical/high hotspot cells as CoT 2.0 events (XML)",
            response_class=Response, responses={200: {"content": {feed.MEDIA_TYPE: {}}}})
async def cot(
    session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    as_of: Annotated[str | None, Query(description="hotspot window end (ISO date or date-time); "
                                       "default the newest incident, or now if sooner")] = None,
) -> Response:
    """One XML document: an `<events>` root wrapping zero or more CoT 2.0 `<event>` elements —
    one per open warning (`stale` = its expiry) and one per hotspot cell at the configured levels
    (`KINGA_COT_HOTSPOT_LEVELS`, default critical and high)."""
    body = await cot_document(session, settings, role=who.role, now=datetime.now(UTC),
                              as_of=parse_instant(as_of, "as_of", end_of_day=True), who=who)
    return Response(body, media_type=feed.MEDIA_TYPE, headers={"Cache-Control": "no-store"})
