"""Per-integration rate limit on alert intake: off unless configured on the integration
(`rate_limit_per_minute`, optional `rate_limit_burst`, default a minute's worth of requests, at
least 1). GCRA on the integration's row, so every server process shares one budget; a refused
request answers 429 problem+json with Retry-After."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import TooManyRequests
from app.repositories import integrations as repo


async def take(session: AsyncSession, integ: dict[str, Any]) -> None:
    per_minute = integ.get("rate_limit_per_minute")
    if not per_minute:
        return  # no limit configured: no database work at all
    burst = integ.get("rate_limit_burst") or max(1, per_minute)
    wait = await repo.take_rate_slot(session, integ["id"], interval_s=60.0 / per_minute,
                                     burst=burst)
    await session.commit()
    if wait is not None:
        raise TooManyRequests(
            f"integration {integ['name']!r} may post {per_minute} alerts a minute "
            f"(bursts of {burst}); retry in {wait:.1f} s", retry_after_s=wait)
