"""Merge, unmerge and the possible-duplicates queue (analysts), and the outcome of matching a staff
entry or an alert. Every change is audited and reversible.

Merging A into B moves every report of A to B (none is created or deleted), marks A `merged`
(never counted; `merged_into` = B), keeps B's own location and dates aside (`incident_basis`) and
gives B the most precise location and date range among its own and its merged accounts, then
regrades B from all its reports. Unmerging A moves exactly those reports back, restores A's
status, and recomputes B from what is still merged into it — or restores B exactly as it was
when nothing is left.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import COUNTED_STATUSES, Status
from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.repositories import triangulation as repo
from app.services.auth import Principal
from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import Outcome
from app.services.triangulation.service import MatchConfig, Matched, match_accounts, regrade

COUNTED = {s.value for s in COUNTED_STATUSES}
MAX_CHAIN = 8


def _into_pointer(detail: str) -> list[dict[str, str]]:
    return [{"pointer": "/body/into", "detail": detail}]


async def _apply_merge(session: AsyncSession, incident_id: uuid.UUID, into_id: uuid.UUID, *,
                       previous_status: str, reason: str, actor: str, score: float | None = None,
                       evidence: dict[str, Any] | None = None) -> dict[str, Any]:
    await repo.ensure_basis(session, [into_id])
    moved = await repo.move_reports(session, incident_id, into_id)
    await repo.set_status(session, incident_id, Status.merged.value, into_id, actor)
    merge_id = await repo.insert_merge(session, incident_id=incident_id, into_id=into_id,
                                       previous_status=previous_status, report_ids=moved,
                                       reason=reason, score=score, evidence=evidence, actor=actor)
    await repo.consolidate(session, [into_id])
    grades = await regrade(session, [into_id])
    after = {"into": str(into_id), "reports_moved": len(moved), "reason": reason,
             "previous_status": previous_status, "score": score, "merge_id": str(merge_id)}
    await audit.record(session, actor=actor, action="merge", object_type="incident",
                       object_id=str(incident_id), before={"status": previous_status}, after=after)
    g = grades.get(into_id)
    await audit.record(session, actor=actor, action="merge_into", object_type="incident",
                       object_id=str(into_id),
                       after={"merged": str(incident_id), "reports_moved": len(moved),
                              "quality_grade": g[0] if g else None,
                              "independent_sources": g[1] if g else None})
    return {"id": str(incident_id), "merged_into": str(into_id), "reports_moved": len(moved),
            "quality_grade": g[0] if g else None, "independent_sources": g[1] if g else None}


async def merge(session: AsyncSession, incident_id: uuid.UUID, into_id: uuid.UUID,
                who: Principal) -> dict[str, Any]:
    """Analyst's merge of one incident into another (POST /incidents/{id}/merge)."""
    if incident_id == into_id:
        raise InvalidInput("an incident cannot be merged into itself",
                           errors=_into_pointer("must be another incident"))
    rows = await repo.lock_incidents(session, [incident_id, into_id])
    src, dst = rows.get(incident_id), rows.get(into_id)
    if src is None:
        raise NotFound(f"no incident with id {incident_id}")
    if dst is None:
        raise InvalidInput(f"no incident with id {into_id}", errors=_into_pointer("no such incident"))
    if dst["status"] == Status.merged:
        raise Conflict(f"incident {into_id} is itself merged into {dst['merged_into']}; merge into that one",
                       errors=_into_pointer("already merged"))
    if dst["status"] == Status.rejected:
        raise Conflict(f"incident {into_id} is rejected", errors=_into_pointer("rejected"))
    if dst["status"] == Status.duplicate:
        raise Conflict(f"incident {into_id} is held as a possible duplicate; decide it first",
                       errors=_into_pointer("held as a possible duplicate"))
    pointer = [{"pointer": "/path/incident_id", "detail": src["status"]}]
    if src["status"] == Status.merged:
        raise Conflict(f"incident {incident_id} is already merged into {src['merged_into']}; "
                       "unmerge it first", errors=pointer)
    if src["status"] == Status.rejected:
        raise Conflict(f"incident {incident_id} is rejected", errors=pointer)
    if src["status"] == Status.duplicate:
        raise Conflict(f"incident {incident_id} is held as a possible duplicate: confirm or reject "
                       "its queue entry", errors=pointer)
    out = await _apply_merge(session, incident_id, into_id, previous_status=src["status"],
                             reason="manual", actor=who.actor)
    await session.commit()
    return out


async def unmerge(session: AsyncSession, incident_id: uuid.UUID, who: Principal) -> dict[str, Any]:
    rows = await repo.lock_incidents(session, [incident_id])
    row = rows.get(incident_id)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    m = await repo.active_merge(session, incident_id)
    if row["status"] != Status.merged or m is None:
        raise Conflict(f"incident {incident_id} is not merged into another",
                       errors=[{"pointer": "/path/incident_id", "detail": "never merged"}])
    into_id = m["into_id"]
    # Its reports are where the chain of merges from `into_id` took them; a report held anywhere
    # else left with an account unmerged since (its own report, not this incident's to take back).
    chain = await _chain(session, into_id)
    holders = set((await repo.report_holders(session, m["report_ids"])).values()) & set(chain)
    for holder in holders:
        await repo.return_reports(session, m["report_ids"], holder, incident_id)
    await repo.set_status(session, incident_id, m["previous_status"], None, who.actor)
    await repo.undo_merge(session, m["id"], who.actor)
    # The incident it was merged into first (its own values may come back), then wherever its
    # reports had travelled (a chain of merges), then itself (the reports it holds again).
    for target in [into_id, *sorted(holders - {into_id}), incident_id]:
        await _recompute(session, target)
    await audit.record(session, actor=who.actor, action="unmerge", object_type="incident",
                       object_id=str(incident_id),
                       before={"status": Status.merged.value, "merged_into": str(into_id)},
                       after={"status": m["previous_status"], "reports_returned": len(m["report_ids"]),
                              "merge_id": str(m["id"])})
    await audit.record(session, actor=who.actor, action="unmerge_from", object_type="incident",
                       object_id=str(into_id), after={"unmerged": str(incident_id)})
    await session.commit()
    return {"id": str(incident_id), "status": m["previous_status"], "unmerged_from": str(into_id),
            "reports_returned": len(m["report_ids"])}


async def _chain(session: AsyncSession, start: uuid.UUID) -> list[uuid.UUID]:
    """`start` and the incidents it is (transitively) merged into, each locked."""
    chain, current = [], start
    for _ in range(MAX_CHAIN):
        row = (await repo.lock_incidents(session, [current])).get(current)
        if row is None:
            break
        chain.append(current)
        if row["status"] != Status.merged or row["merged_into"] is None:
            break
        current = row["merged_into"]
    return chain


async def _recompute(session: AsyncSession, target: uuid.UUID) -> None:
    """After accounts left `target`: its own values back if nothing is merged into it any more,
    else the most precise among what is; grade from the reports it holds."""
    restored = await repo.restore_basis(session, [target])
    if target not in restored:
        await repo.consolidate(session, [target])
    if not restored.get(target, False):
        row = (await repo.lock_incidents(session, [target])).get(target)
        if row is not None and row["status"] != Status.merged:
            await regrade(session, [target])


# ------------------------------------------------------------------ the queue
async def _resolve(session: AsyncSession, incident_id: uuid.UUID) -> dict[str, Any] | None:
    """Follow merges: a candidate merged since it was queued stands for the incident it joined."""
    current = incident_id
    for _ in range(MAX_CHAIN):
        row = (await repo.lock_incidents(session, [current])).get(current)
        if row is None or row["status"] != Status.merged:
            return row
        current = row["merged_into"]
    return None


def _decided(entry: dict[str, Any]) -> Conflict:
    return Conflict(f"this possible duplicate was already {entry['status']} by {entry['decided_by']}",
                    errors=[{"pointer": "/path/duplicate_id", "detail": f"already {entry['status']}"}])


async def _pending(session: AsyncSession, entry_id: uuid.UUID) -> dict[str, Any]:
    entry = await repo.queue_get(session, entry_id, lock=True)
    if entry is None:
        raise NotFound(f"no possible duplicate with id {entry_id}")
    if entry["status"] != "pending":
        raise _decided(entry)
    return entry


async def confirm(session: AsyncSession, entry_id: uuid.UUID, who: Principal,
                  comment: str | None) -> dict[str, Any]:
    entry = await _pending(session, entry_id)
    held = (await repo.lock_incidents(session, [entry["incident_id"]])).get(entry["incident_id"])
    if held is None or held["status"] != Status.duplicate:
        raise Conflict("the held account is no longer waiting (it was rejected or changed)",
                       errors=[{"pointer": "/path/duplicate_id", "detail": "not held"}])
    target = await _resolve(session, entry["candidate_id"])
    if target is None or target["status"] not in COUNTED:
        raise Conflict("the candidate incident is no longer counted (rejected or held)",
                       errors=[{"pointer": "/path/duplicate_id", "detail": "candidate not counted"}])
    out = await _apply_merge(session, entry["incident_id"], target["id"],
                             previous_status=entry["held_status"], reason="confirmed",
                             actor=who.actor, score=entry["score"], evidence=entry["evidence"])
    await repo.queue_decide(session, entry_id, "confirmed", who.actor, comment)
    await audit.record(session, actor=who.actor, action="confirm", object_type="duplicate",
                       object_id=str(entry_id), before={"status": "pending"},
                       after={"status": "confirmed", "merged_into": str(target["id"]), "comment": comment})
    await session.commit()
    return {**(await _entry(session, entry_id)), "merge": out}


async def reject(session: AsyncSession, entry_id: uuid.UUID, who: Principal,
                 comment: str | None) -> dict[str, Any]:
    entry = await _pending(session, entry_id)
    held = (await repo.lock_incidents(session, [entry["incident_id"]])).get(entry["incident_id"])
    if held is not None and held["status"] == Status.duplicate:
        await repo.set_status(session, entry["incident_id"], entry["held_status"], None, who.actor)
    await repo.queue_decide(session, entry_id, "rejected", who.actor, comment)
    await audit.record(session, actor=who.actor, action="reject", object_type="duplicate",
                       object_id=str(entry_id), before={"status": "pending"},
                       after={"status": "rejected", "incident_status": entry["held_status"],
                              "comment": comment})
    await session.commit()
    return await _entry(session, entry_id)


async def _entry(session: AsyncSession, entry_id: uuid.UUID) -> dict[str, Any]:
    entry = await repo.queue_get(session, entry_id)
    assert entry is not None
    return present_entry(entry, await _summaries(session, [entry]))


async def _summaries(session: AsyncSession, entries: list[dict[str, Any]]) -> dict[uuid.UUID, dict[str, Any]]:
    ids = sorted({e["incident_id"] for e in entries} | {e["candidate_id"] for e in entries})
    return {r["id"]: r for r in await repo.summaries(session, ids)}


def present_entry(entry: dict[str, Any], summaries: dict[uuid.UUID, dict[str, Any]]) -> dict[str, Any]:
    out = dict(entry)
    out["incident"] = summaries.get(entry["incident_id"])
    out["candidate"] = summaries.get(entry["candidate_id"])
    return out


async def queue_page(session: AsyncSession, *, status: str | None, limit: int,
                     after: tuple[Any, uuid.UUID] | None
                     ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    rows = await repo.queue_page(session, status=status, limit=limit + 1, after=after)
    more = rows[limit] if len(rows) > limit else None
    rows = rows[:limit]
    summaries = await _summaries(session, rows) if rows else {}
    return [present_entry(r, summaries) for r in rows], (rows[-1] if more and rows else None)


# ------------------------------------------------------------------ a new staff entry or alert
async def place_new_incident(session: AsyncSession, incident_id: uuid.UUID, config: MatchConfig,
                             *, origin: str, actor: str, matched: Matched | None = None
                             ) -> dict[str, Any]:
    """Match a just-inserted incident (a staff entry, or one an alert opened) against every
    counted incident, and apply the outcome in the caller's transaction."""
    if matched is None:
        row = await incident_repo.get(session, incident_id)
        if row is None:
            raise NotFound(f"no incident with id {incident_id}")
        left = acc.from_rows([{**row, "cites": []}])
        config = config.for_mission(row.get("mission_code"))
        matched = await match_accounts(session, left, config, source=row["external_source"],
                                       exclude=[incident_id])
    d = matched.decisions
    outcome = Outcome(int(d.outcome[0]))
    result: dict[str, Any] = {"outcome": outcome.name, "candidates": matched.candidates}
    if outcome == Outcome.new:
        return result
    target = d.target[0]
    score = float(d.score[0])
    ev = matched.evidence(0)
    result.update(incident_id=str(target), score=round(score, 4))
    if outcome == Outcome.linked:
        row = (await repo.lock_incidents(session, [incident_id, target])).get(incident_id)
        assert row is not None
        await _apply_merge(session, incident_id, target, previous_status=row["status"],
                           reason="auto", actor=actor, score=score, evidence=ev)
    else:
        row = (await repo.lock_incidents(session, [incident_id])).get(incident_id)
        assert row is not None
        await repo.set_status(session, incident_id, Status.duplicate.value, None, actor)
        entry = await repo.queue_insert(session, incident_id=incident_id, candidate_id=target,
                                        score=score, evidence={**(ev or {}),
                                                               "alternatives": matched.alternatives(0)},
                                        origin=origin, held_status=row["status"])
        await audit.record(session, actor=actor, action="hold", object_type="incident",
                           object_id=str(incident_id), before={"status": row["status"]},
                           after={"status": Status.duplicate.value, "candidate": str(target),
                                  "score": score, "duplicate_id": str(entry)})
        result["duplicate_id"] = str(entry)
    return result


async def duplicates_of(session: AsyncSession, incident_id: uuid.UUID, config: MatchConfig,
                        *, limit: int = 20) -> dict[str, Any]:
    """Candidate incidents for one incident, scored now with the evidence, its queue entries and
    merge history (GET /incidents/{id}/duplicates)."""
    row = await incident_repo.get(session, incident_id)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    reports = await repo.reports(session, [incident_id])
    cites = sorted({c for r in reports for c in (r["cites"] or [])})
    left = acc.from_rows([{**row, "cites": cites}])
    config = config.for_mission(row.get("mission_code"))  # its mission's aliases and thresholds
    constituents = await repo.constituents(session, incident_id)
    matched = await match_accounts(session, left, config, source=row["external_source"],
                                   exclude=[incident_id, *constituents])
    th = config.thresholds(await repo.thresholds(session, config.mission))
    return {
        "incident_id": str(incident_id), "status": row["status"],
        "merged_into": str(row["merged_into"]) if row["merged_into"] else None,
        "thresholds": {"auto_link": th.auto_link, "review": th.review},
        "candidates": matched.alternatives(0, limit=limit),
        "queue": [present_entry(e, {}) for e in await repo.queue_for_incident(session, incident_id)],
        "merges": await repo.merge_history(session, incident_id),
    }
