"""Overdue warnings escalate (scheduler job `warnings.overdue`, every KINGA_OVERDUE_CHECK_S).

A warning not acknowledged by its `acknowledge_by`, or with nobody on scene by its `on_scene_by`,
is overdue: every listing flags it at once (`overdue`, `?overdue=true`), and this job records each
missed deadline once (`acknowledge_overdue_at`, `on_scene_overdue_at`), raises the warning one
escalation level per missed deadline and announces `warning.escalated` to the webhook subscribers
of that level (KINGA_ESCALATION_LEVEL_NAMES: level 1 the sector, 2 mission headquarters…) as well
as to those who hear every event. The metrics count what was missed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import audit
from app.repositories import warnings as repo
from app.services.warnings import webhooks
from app.settings import Settings


def level_name(settings: Settings, level: int) -> str:
    names = settings.escalation_level_names
    return names[min(level, len(names) - 1)] if names else str(level)


async def escalate_overdue(session: AsyncSession, settings: Settings, now: datetime) -> int:
    missed = await repo.mark_overdue(session, now)
    for m in missed:
        await audit.record(
            session,
            actor="kinga:scheduler",
            action="escalate",
            object_type="warning",
            object_id=str(m["id"]),
            after={"missed": m["missed"], "level": m["level"],
                   "to": level_name(settings, m["level"])},
        )
        await webhooks.enqueue_for(session, m["id"], "warning.escalated", escalation_level=m["level"])
    return len(missed)
