"""Need to know for operations (issues 13 and 15): an operations token limited to an area of
responsibility (`kinga token create … --mission CODE --aor NAME`, `api_token.aor_id`) lists,
reads, acknowledges and responds to the warnings its AOR owns (`warning.owner_aor_id`: the AOR
itself, or for a sector its field offices too) or that an overdue escalation sent to it
(`warning.escalated_to_aor_id`, app/services/warnings/overdue.py), and to no other: another
AOR's warning, or one no AOR owns (owned by the nearest base), is absent from its lists and
refused with 403 on the action routes; it cannot raise (flash, escalate) a warning another AOR
would own. Operations tokens without an AOR, and the other roles, are not limited here (their
answers are clipped by area like any scoped answer). The response metrics and the impact report
of an operations or analyst token limited to an AOR count that AOR's records only
(`figures_aors`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Forbidden
from app.repositories import missions as mission_repo
from app.services.auth import Principal


def limited(who: Principal) -> bool:
    return who.role == Role.operations and who.aor_id is not None


async def owner_aors(session: AsyncSession, who: Principal) -> list[uuid.UUID] | None:
    """The AORs whose warnings this caller may see and act on; None: not limited."""
    if not limited(who):
        return None
    return await mission_repo.aor_and_children(session, who.aor_id)


async def figures_aors(session: AsyncSession, who: Principal | None) -> list[uuid.UUID] | None:
    """Whose records the response metrics and the impact report count for this caller: an
    operations or analyst token limited to an AOR counts that AOR's and its children's only
    (warnings they own, alerts located in them, their offices' patrols); None: everything."""
    if who is None or who.aor_id is None or who.role not in (Role.operations, Role.analyst):
        return None
    return await mission_repo.aor_and_children(session, who.aor_id)


def held(warning: dict[str, Any], aors: list[uuid.UUID]) -> bool:
    """Whether one of these AORs owns the warning or an overdue escalation sent it to one."""
    return warning.get("owner_aor_id") in aors or warning.get("escalated_to_aor_id") in aors


async def check(session: AsyncSession, who: Principal, warning: dict[str, Any], *,
                pointer: str = "/path/warning_id") -> None:
    """403 unless the caller may act on this warning (also for one it is about to raise: a flash
    warning or an escalation another AOR would own is refused, and rolled back)."""
    mine = await owner_aors(session, who)
    if mine is not None and not held(warning, mine):
        raise Forbidden("this warning is owned by another area of responsibility than this "
                        "token's", errors=[{"pointer": pointer,
                                            "detail": "not a warning of this token's AOR"}])
