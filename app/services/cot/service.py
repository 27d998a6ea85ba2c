"""The CoT feed's data: open, unexpired warnings and the hotspot cells at the configured levels,
for a window ending `as_of` (default: the newest incident, or now if sooner)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import ogc as ogc_repo
from app.repositories import warnings as warning_repo
from app.services.auth import Principal
from app.services.cot import feed
from app.services.threat.layer import LEVEL_RANK, HotspotQuery, threat_layer
from app.services.warnings import need_to_know
from app.settings import Settings

MAX_WARNINGS = 1000


async def cot_document(session: AsyncSession, settings: Settings, *, role: Role, now: datetime,
                       as_of: datetime | None, who: Principal | None = None) -> bytes:
    """`who`: an operations token limited to an AOR gets that AOR's warnings only."""
    owners = await need_to_know.owner_aors(session, who) if who is not None else None
    rows = await warning_repo.listing(session, statuses=list(warning_repo.OPEN), bbox=None,
                                      start=None, end=None, limit=MAX_WARNINGS, owner_aors=owners)
    open_warnings = [w for w in rows if w["expires_at"] > now]
    if as_of is None:
        statuses = [Status.approved.value] if (role == Role.partner
                                               and settings.partner_approved_only) else None
        latest = await ogc_repo.latest_incident(session, statuses)
        as_of = min(latest, now) if latest is not None else now
    levels = [lvl for lvl in settings.cot_hotspot_levels if lvl in LEVEL_RANK]
    cells: list[dict[str, Any]] = []
    if levels:
        floor = min(levels, key=lambda lvl: LEVEL_RANK[lvl])
        q = HotspotQuery(res=settings.cot_hotspot_res, as_of=as_of, role=role,
                         with_pattern=False, min_level=floor)
        cells = [c for c in await threat_layer(session, q, settings)
                 if c["threat_level"] in levels]
    return feed.document(open_warnings, cells, now=now, stale_hours=settings.cot_hotspot_stale_hours)
