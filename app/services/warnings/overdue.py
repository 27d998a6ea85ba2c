"""Overdue warnings escalate (scheduler job `warnings.overdue`, every KINGA_OVERDUE_CHECK_S).

A warning not acknowledged by its `acknowledge_by`, or with nobody on scene by its `on_scene_by`,
is overdue: every listing flags it at once (`overdue`, `?overdue=true`), and this job records each
missed deadline once (`acknowledge_overdue_at`, `on_scene_overdue_at`) and raises the warning one
escalation level per missed deadline.

Where an escalation goes:

- a warning owned by an area of responsibility climbs the AOR tree: level 1 is the owner's parent
  (a field office's sector), level 2 that AOR's parent, and so on; once the chain ends, the
  mission's headquarters (`kind: "mission"`, no AOR). The warning records it (`escalated_to`),
  operations tokens of that AOR see and act on it from then on (need_to_know), and
  `warning.escalated` goes to the webhook subscriptions scoped to that AOR;
- a warning without an AOR owner (owned by its nearest base) keeps its escalation level alone.

In both cases the unscoped subscriptions of the level reached (KINGA_ESCALATION_LEVEL_NAMES: level
1 the sector, 2 mission headquarters…) and those that hear every event are told too. Everything is
in the scheduler's one transaction: a crash before it commits leaves no mark and no delivery, and
the next run escalates once. The metrics count what was missed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import audit
from app.repositories import missions as mission_repo
from app.repositories import warnings as repo
from app.services.warnings import webhooks
from app.settings import Settings


def level_name(settings: Settings, level: int) -> str:
    names = settings.escalation_level_names
    return names[min(level, len(names) - 1)] if names else str(level)


def target(chain: list[dict[str, Any]], level: int, settings: Settings) -> dict[str, Any]:
    """Where escalation `level` (1, 2…) of a warning goes, given its owner's chain of parent AORs
    (nearest first): the level-th parent, else the mission's headquarters."""
    if 1 <= level <= len(chain):
        up = chain[level - 1]
        return {"id": up["id"], "name": up["name"], "kind": up["kind"]}
    names = settings.escalation_level_names
    return {"id": None, "name": names[-1] if names else "mission headquarters", "kind": "mission"}


async def escalate_overdue(session: AsyncSession, settings: Settings, now: datetime) -> int:
    missed = await repo.mark_overdue(session, now)
    owners = sorted({m["owner_aor_id"] for m in missed if m["owner_aor_id"] is not None}, key=str)
    chains = await mission_repo.aor_ancestors(session, owners)
    for m in missed:
        to: dict[str, Any] | None = None
        if m["owner_aor_id"] is not None:
            to = target(chains.get(m["owner_aor_id"], []), m["level"], settings)
            await repo.set_escalated_to(session, m["id"], aor_id=to["id"], name=to["name"],
                                        kind=to["kind"])
        await audit.record(
            session,
            actor="kinga:scheduler",
            action="escalate",
            object_type="warning",
            object_id=str(m["id"]),
            after={"missed": m["missed"], "level": m["level"],
                   "to": to["name"] if to else level_name(settings, m["level"]),
                   **({"to_aor_id": str(to["id"]) if to["id"] else None} if to else {})},
        )
        aors: list[uuid.UUID] = [to["id"]] if to and to["id"] else []
        await webhooks.enqueue_for(session, m["id"], "warning.escalated",
                                   escalation_level=m["level"], aors=aors)
    return len(missed)
