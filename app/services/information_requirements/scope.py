"""Areas of responsibility as IR areas: an AOR named by a requirement is looked up in its
mission (docs/missions.md); its area becomes the requirement's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.missions import registry
from app.settings import Settings


async def aor_area(session: AsyncSession, settings: Settings, mission: str | None, aor: str
                   ) -> dict[str, Any]:
    """The AOR's area (422 at /body/aor when the mission has no such AOR, /body/mission when
    the mission is unknown)."""
    s = await registry.scope(session, settings, mission, aor=aor, pointer="/body/mission")
    assert s.aor is not None
    return s.aor["area"]  # type: ignore[no-any-return]
