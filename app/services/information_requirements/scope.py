"""Areas of responsibility as IR areas. Kinga has no AOR registry yet (missions and AORs arrive
with docs/missions.md); until then an AOR cannot be resolved and an IR needs its own area."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput


async def aor_area(session: AsyncSession, mission: str | None, aor: str) -> dict[str, Any]:
    raise InvalidInput(f"unknown area of responsibility {aor!r}",
                       errors=[{"pointer": "/body/aor",
                                "detail": "no such AOR in the mission; give an area instead"}])
