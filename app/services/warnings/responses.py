"""Response tracking: what was done about a warning, when each step happened, and why it was late;
and the figures missions report upward (time to acknowledge / dispatch / arrive, no-response share,
delay reasons)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.repositories import warnings as repo
from app.schemas.alerts import ResponseCreate, ResponseUpdate
from app.services.auth import Principal
from app.services.community import acknowledgements as community
from app.services.patrols.execution import patrol_execution
from app.services.warnings import lifecycle as warning_svc
from app.services.warnings import need_to_know
from app.settings import Settings

STEPS = ("acknowledged_at", "dispatched_at", "on_scene_at", "completed_at")
# A clock a minute ahead of the server's is not an error; a step later than that is.
CLOCK_SKEW = timedelta(minutes=1)


def check_steps(
    warning_created: datetime,
    recorded: dict[str, datetime | None],
    given: dict[str, datetime | None],
    now: datetime,
    response_type: str,
) -> dict[str, datetime | None]:
    """The response's steps once `given` is added to what is `recorded`, or a refusal: a step
    earlier than the warning or in the future, out of order, without the step before it (an
    arrival needs a dispatch), or changing a step already recorded."""
    merged = dict(recorded)
    for name in STEPS:
        t = given.get(name)
        if t is None:
            continue
        if recorded.get(name) is not None and recorded[name] != t:
            raise Conflict(f"{name} is already recorded ({recorded[name].isoformat()}); "  # type: ignore[union-attr]
                           "a recorded step does not change",
                           errors=[{"pointer": f"/body/{name}", "detail": "already recorded"}])
        if t < warning_created:
            raise InvalidInput.at(f"/body/{name}", f"{name} is earlier than the warning "
                                                   f"({warning_created.isoformat()})")
        if t > now + CLOCK_SKEW:
            raise InvalidInput.at(f"/body/{name}", f"{name} is in the future")
        merged[name] = t
    previous: tuple[str, datetime] | None = None
    for name in STEPS:
        t = merged.get(name)
        if t is None:
            continue
        if previous is not None and t < previous[1]:
            blame = name if given.get(name) is not None else previous[0]
            raise InvalidInput.at(f"/body/{blame}", f"{name} is before {previous[0]}: the steps "
                                                    "are acknowledged, dispatched, on scene, completed")
        previous = (name, t)
    if merged.get("on_scene_at") and not merged.get("dispatched_at"):
        raise InvalidInput.at("/body/on_scene_at", "an arrival needs its dispatch: give dispatched_at")
    if merged.get("completed_at") and response_type != "none" and not merged.get("dispatched_at"):
        raise InvalidInput.at("/body/completed_at", "a response is completed after its dispatch: "
                                                    "give dispatched_at")
    if response_type == "none" and (merged.get("dispatched_at") or merged.get("on_scene_at")):
        raise InvalidInput.at("/body/dispatched_at", "a response of type none has no dispatch or arrival")
    return merged


async def check_incidents(session: AsyncSession, ids: list[uuid.UUID], pointer: str) -> None:
    known = await incident_repo.existing_ids(session, ids)
    for i, incident_id in enumerate(ids):
        if incident_id not in known:
            raise InvalidInput.at(f"{pointer}/{i}", f"no incident with id {incident_id}")


async def _open_warning(session: AsyncSession, warning_id: uuid.UUID, who: Principal
                        ) -> dict[str, Any]:
    w = await repo.get(session, warning_id, lock=True)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    await need_to_know.check(session, who, w)
    if w["status"] in warning_svc.TERMINAL:
        raise Conflict(f"the warning is {w['status']}; responses can no longer be recorded",
                       errors=[{"pointer": "/path/warning_id", "detail": w["status"]}])
    return w


async def _after_steps(session: AsyncSession, settings: Settings, w: dict[str, Any],
                       steps: dict[str, datetime | None], response_type: str, actor: str,
                       *, now: datetime) -> None:
    """What a response's steps change on its warning: acknowledged on the first response, responded
    on a real one, its first dispatch and arrival (the overdue queue reads them), and the reporters
    hear that help was sent."""
    if w["status"] == "active":
        await warning_svc.move(session, w, "acknowledged", actor, None,
                               now=steps.get("acknowledged_at") or now)
    if response_type != "none" and w["status"] == "acknowledged":
        await warning_svc.move(session, w, "responded", actor, None, now=now)
    await repo.first_steps(session, w["id"], steps.get("dispatched_at"), steps.get("on_scene_at"))
    if steps.get("dispatched_at") and response_type != "none":
        await community.on_dispatched(session, settings, list(w.get("alert_ids") or []))


async def record(
    session: AsyncSession,
    settings: Settings,
    warning_id: uuid.UUID,
    body: ResponseCreate,
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    w = await _open_warning(session, warning_id, who)
    given: dict[str, datetime | None] = {n: getattr(body, n) for n in STEPS}
    if body.outcome is not None and given["completed_at"] is None:
        given["completed_at"] = now  # an outcome completes the response
    if given["acknowledged_at"] is None:
        # The warning's own acknowledgement, else the earliest step given (not before the
        # warning: a step given earlier than it is refused for itself), else now.
        earliest = min((t for t in given.values() if t is not None), default=now)
        given["acknowledged_at"] = w["acknowledged_at"] or max(w["created_at"], min(earliest, now))
    steps = check_steps(w["created_at"], {}, given, now, body.type)
    if steps.get("completed_at") and body.outcome is None:
        raise InvalidInput.at("/body/outcome", "a completed response records its outcome")
    await check_incidents(session, body.incident_ids, "/body/incident_ids")
    values = body.model_dump()
    values.update(steps, warning_id=warning_id, created_by=who.actor)
    response_id = await repo.add_response(session, values)
    await audit.record(
        session,
        actor=who.actor,
        action="response",
        object_type="warning",
        object_id=str(warning_id),
        after={"response_id": str(response_id), "type": body.type,
               **{k: v.isoformat() for k, v in steps.items() if v is not None}},
    )
    await _after_steps(session, settings, w, steps, body.type, who.actor, now=now)
    await session.commit()
    return {**_shown(await repo.get_response(session, response_id) or {}),
            "warning_status": w["status"]}


async def update(
    session: AsyncSession,
    settings: Settings,
    warning_id: uuid.UUID,
    response_id: uuid.UUID,
    body: ResponseUpdate,
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Record later steps of a response (arrival, completion with its outcome, delay reasons,
    incidents found). Steps and the outcome, once recorded, do not change."""
    w = await _open_warning(session, warning_id, who)
    r = await repo.get_response(session, response_id, lock=True)
    if r is None or r["warning_id"] != warning_id:
        raise NotFound(f"no response {response_id} to warning {warning_id}")
    sent = body.model_dump(exclude_unset=True)
    given: dict[str, datetime | None] = {n: sent.get(n) for n in STEPS if n in sent}
    if sent.get("outcome") is not None:
        if r["outcome"] is not None and r["outcome"] != sent["outcome"]:
            raise Conflict(f"the outcome is already recorded ({r['outcome']})",
                           errors=[{"pointer": "/body/outcome", "detail": "already recorded"}])
        if r["completed_at"] is None and given.get("completed_at") is None:
            given["completed_at"] = now
    steps = check_steps(w["created_at"], {n: r[n] for n in STEPS}, given, now, r["type"])
    if steps.get("completed_at") and (sent.get("outcome") or r["outcome"]) is None:
        raise InvalidInput.at("/body/outcome", "a completed response records its outcome")
    await check_incidents(session, body.incident_ids, "/body/incident_ids")
    values: dict[str, Any] = {k: v for k, v in sent.items()
                              if k in ("unit", "mode", "people", "outcome", "outcome_note",
                                       "delay_note") and v is not None}
    values.update({k: v for k, v in steps.items() if r[k] is None and v is not None})
    if body.delay_reasons:
        values["delay_reasons"] = sorted(set(r["delay_reasons"]) | set(body.delay_reasons))
    if body.incident_ids:
        values["incident_ids"] = list(dict.fromkeys([*r["incident_ids"], *body.incident_ids]))
    if not values:
        raise InvalidInput.at("/body", "nothing to record")
    await repo.update_response(session, response_id, values)
    await audit.record(
        session,
        actor=who.actor,
        action="response_update",
        object_type="warning",
        object_id=str(warning_id),
        after={"response_id": str(response_id),
               **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}},
    )
    new_steps = {k: v for k, v in steps.items() if r[k] is None}
    await _after_steps(session, settings, w, new_steps, r["type"], who.actor, now=now)
    await session.commit()
    return {**_shown(await repo.get_response(session, response_id) or {}),
            "warning_status": w["status"]}


def _shown(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "id": str(r.get("id")), "warning_id": str(r.get("warning_id")),
            "incident_ids": [str(i) for i in r.get("incident_ids") or []]}


def _minutes(rows: list[dict[str, Any]], step: str) -> list[float]:
    return [(r[step] - r["created_at"]).total_seconds() / 60 for r in rows if r.get(step)]


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median": None, "p90": None}
    arr = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "median": round(float(np.median(arr)), 2),
        "p90": round(float(np.percentile(arr, 90)), 2),
    }


def share(count: int, of: int) -> dict[str, Any]:
    """A share with the counts it rests on, so a reader can judge it."""
    return {"count": count, "of": of, "share": round(count / of, 4) if of else None}


def judged(rows: list[dict[str, Any]], step: str, deadline: str, now: datetime) -> tuple[int, int]:
    """(met, decided) for one deadline: a warning counts once the step happened or its deadline
    passed; it met the target when the step happened by the deadline. Warnings without that
    deadline, or still within it with the step not yet done, are not judged."""
    met = decided = 0
    for r in rows:
        due, done = r.get(deadline), r.get(step)
        if due is None or (done is None and due > now):
            continue
        decided += 1
        met += done is not None and done <= due
    return met, decided


def metrics(rows: list[dict[str, Any]], reasons: dict[str, int], now: datetime | None = None
            ) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    total = len(rows)
    unanswered = sum(1 for r in rows if not r["responded"])
    ack_met, ack_of = judged(rows, "acknowledged_at", "acknowledge_by", now)
    scene_met, scene_of = judged(rows, "on_scene_at", "on_scene_by", now)
    endings: dict[str, int] = {}
    for r in rows:
        # closed: its outcome; otherwise open, expired (not yet resolved)
        ending = r.get("outcome") or ("open" if r.get("status") in warning_svc.OPEN
                                      else str(r.get("status")))
        endings[ending] = endings.get(ending, 0) + 1
    return {
        "warnings": total,
        "unit": "minutes from warning to step",
        "time_to_acknowledge": summary(_minutes(rows, "acknowledged_at")),
        "time_to_dispatch": summary(_minutes(rows, "dispatched_at")),
        "time_to_arrive": summary(_minutes(rows, "on_scene_at")),
        "no_response": {
            "count": unanswered,
            "share": round(unanswered / total, 4) if total else None,
        },
        "acknowledged_within_target": share(ack_met, ack_of),
        "on_scene_within_target": share(scene_met, scene_of),
        "overdue": {
            "acknowledgement_missed": share(ack_of - ack_met, ack_of),
            "on_scene_missed": share(scene_of - scene_met, scene_of),
            "escalated": sum(1 for r in rows if (r.get("escalation_level") or 0) > 0),
        },
        "endings": dict(sorted(endings.items())),
        "delay_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


GROUPS = ("field_office", "month", "rule", "severity", "source")


def group_key(r: dict[str, Any], by: str) -> str:
    if by == "field_office":
        return r.get("assigned_to") or "(unassigned)"
    if by == "month":
        return r["created_at"].astimezone(UTC).strftime("%Y-%m")
    return str(r.get(by) or "(none)")


async def answered_in_period(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[dict[str, Any]]:
    """Warnings raised in a period and how each was answered: owner, deadlines, the first time
    each step happened, whether each target was met, escalation, how it ended (the function
    briefs and reports read)."""
    now = datetime.now(UTC)
    out = []
    for r in await repo.metric_rows(session, start=start, end=end, bbox=bbox):
        ack_met, ack_of = judged([r], "acknowledged_at", "acknowledge_by", now)
        scene_met, scene_of = judged([r], "on_scene_at", "on_scene_by", now)
        out.append({**{k: v for k, v in r.items() if k not in ("h3_cell",)},
                    "acknowledged_in_time": bool(ack_met) if ack_of else None,
                    "on_scene_in_time": bool(scene_met) if scene_of else None})
    return out


async def compute(
    session: AsyncSession,
    settings: Settings | None = None,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
    by: str | None = None,
    who: Principal | None = None,
) -> dict[str, Any]:
    """The figures missions report upward, each with its counts; by field office (owner), month,
    rule, severity or source when asked. For a token limited to an AOR (operations, analyst),
    only that AOR's records count (need_to_know.figures_aors)."""
    now = datetime.now(UTC)
    aors = await need_to_know.figures_aors(session, who)
    rows = await repo.metric_rows(session, start=start, end=end, bbox=bbox, aors=aors)
    pairs = await repo.delay_reasons(session, start=start, end=end, bbox=bbox, aors=aors)
    counts: dict[str, int] = {}
    for _, reason in pairs:
        counts[reason] = counts.get(reason, 0) + 1
    out = metrics(rows, counts, now)
    alerts = await repo.unanswered_alerts(session, start=start, end=end, bbox=bbox,
                                          received_before=now - timedelta(hours=24), aors=aors)
    out["alerts_without_warning_or_dismissal_24h"] = share(alerts["unanswered"], alerts["alerts"])
    acks: dict[str, dict[str, int]] = {}
    for a in await repo.acknowledgement_counts(session, start=start, end=end, aors=aors):
        acks.setdefault(a["event"], {"queued": 0, "sent": 0, "failed": 0, "pending": 0})
        acks[a["event"]]["queued"] += a["count"]
        key = {"delivered": "sent"}.get(a["status"], a["status"])
        acks[a["event"]][key] += a["count"]
    out["community_acknowledgements"] = {
        "sent": sum(v["sent"] for v in acks.values()),
        "queued": sum(v["queued"] for v in acks.values()),
        "failed": sum(v["failed"] for v in acks.values()),
        "by_event": acks,
    }
    out["patrol_execution"] = (await patrol_execution(
        session, start.date() if start else None, end.date() if end else None, by=None,
        aors=aors))["total"]
    if by is not None:
        by_warning: dict[Any, list[str]] = {}
        for wid, reason in pairs:
            by_warning.setdefault(wid, []).append(reason)
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(group_key(r, by), []).append(r)
        out["by"] = by
        out["groups"] = []
        for key in sorted(groups):
            g = groups[key]
            reasons: dict[str, int] = {}
            for r in g:
                for reason in by_warning.get(r["id"], []):
                    reasons[reason] = reasons.get(reason, 0) + 1
            out["groups"].append({"key": key, **metrics(g, reasons, now)})
    out["window"] = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "bbox": list(bbox) if bbox else None,
        "aor_id": str(who.aor_id) if aors is not None and who is not None else None,
    }
    return out
