"""Saved patrol plans and patrol reports.

`POST /api/v1/patrol-plans` with `"save": true` keeps the plan it computed (app.services.planning)
as a record: the request's parameters, the data version of the threat layer it was computed on
(`layer_version`: the same request on the same data gives the same plan), the summary, the
uncovered cells and every task. A plan that `supersedes` a saved one becomes the next version of
its series (the old one stays readable and points to its successor). Approval by operations is
recorded when given; a saved plan's tasks can be reported without it. A saved plan shows the
`overlaps` of its tasks with other offices' approved plans of the same days (deconfliction.py).

Each task gets one report: done, partly or not done (a reason is required unless done), when the
patrol started and ended, what it saw, the civilians it engaged and the incidents it found.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.repositories import patrol_records as repo
from app.repositories import rule_scan as version_repo
from app.schemas.patrols import PatrolPlanSave, PatrolReportCreate
from app.services.auth import Principal
from app.services.geo.h3cells import to_int, to_str
from app.services.patrols import deconfliction
from app.services.planning import service as planning
from app.settings import Settings

CLOCK_SKEW = timedelta(minutes=1)


def _task_row(t: dict[str, Any]) -> dict[str, Any]:
    detail = dict(t)  # the task as planned, cells' GeoJSON included
    return {
        "task_id": t["id"],
        "base_id": uuid.UUID(t["base_id"]) if t.get("base_id") else None,
        "base_name": t.get("base_name"),
        "mode": t["mode"],
        "cells": [to_int(c) for c in t["cell_ids"]],
        "desired_effect": t["desired_effect"],
        "priority": int(t["priority"]),
        "threat_score": float(t["threat_score"]),
        "visits": int(t["visits"]),
        "detail": detail,
    }


async def plan(session: AsyncSession, body: PatrolPlanSave, settings: Settings, who: Principal,
               scope: Any = None) -> dict[str, Any]:
    """Compute the plan; keep it when asked (`save`), as a new series or the next version."""
    request = PatrolPlanSave.model_validate(body.model_dump(exclude={"save", "supersedes"}))
    previous = None
    if body.supersedes is not None:
        if not body.save:
            raise InvalidInput.at("/body/supersedes", "only a saved plan supersedes another: "
                                                      "send \"save\": true")
        previous = await repo.get_plan(session, body.supersedes, lock=True)
        if previous is None:
            raise InvalidInput.at("/body/supersedes", f"no saved plan {body.supersedes}")
        if previous["superseded_by"] is not None:
            raise Conflict(f"plan {body.supersedes} was already superseded by "
                           f"{previous['superseded_by']}",
                           errors=[{"pointer": "/body/supersedes", "detail": "not the latest version"}])
        if await repo.reports(session, previous["id"]):
            raise Conflict(f"plan {body.supersedes} already has patrol reports: a plan whose "
                           "patrols have reported is the record of what was done and is not "
                           "replaced (save the new plan without supersedes)",
                           errors=[{"pointer": "/body/supersedes",
                                    "detail": "the plan has patrol reports"}])
    position = await version_repo.log_position(session) if body.save else None
    result = await planning.plan(session, request, settings, who.role, scope)
    if not body.save:
        return result
    parameters = request.model_dump(mode="json", exclude={"save", "supersedes"})
    starts = body.as_of + timedelta(days=1)
    values = {
        "series_id": previous["series_id"] if previous else uuid.uuid4(),
        "version": previous["version"] + 1 if previous else 1,
        "as_of": body.as_of,
        "horizon_days": body.horizon_days,
        "starts_on": starts,
        "ends_on": starts + timedelta(days=body.horizon_days - 1),
        "parameters": parameters,
        "layer_version": position[0] if position else None,
        "summary": result["summary"],
        "uncovered": result["uncovered"],
        "created_by": who.actor,
    }
    plan_id = await repo.insert_plan(session, values, [_task_row(t) for t in result["tasks"]])
    if previous is not None:
        await repo.set_plan(session, previous["id"], {"superseded_by": plan_id})
    await audit.record(session, actor=who.actor, action="save", object_type="patrol_plan",
                       object_id=str(plan_id),
                       after={"version": values["version"], "series_id": str(values["series_id"]),
                              "tasks": len(result["tasks"]), "layer_version": values["layer_version"],
                              "supersedes": str(previous["id"]) if previous else None})
    await session.commit()
    return await read(session, plan_id)


def _shown_task(t: dict[str, Any], report: dict[str, Any] | None) -> dict[str, Any]:
    return {**t["detail"], "id": t["task_id"], "cell_ids": [to_str(c) for c in t["cells"]],
            "report": _shown_report(report) if report else None}


def _shown_report(r: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in r.items()
            if k not in ("plan_id", "task_id")} | {
        "incident_ids": [str(i) for i in r.get("incident_ids") or []]}


async def read(session: AsyncSession, plan_id: uuid.UUID) -> dict[str, Any]:
    p = await repo.get_plan(session, plan_id)
    if p is None:
        raise NotFound(f"no saved plan with id {plan_id}",
                       errors=[{"pointer": "/path/plan_id", "detail": "no saved plan"}])
    done = await repo.reports(session, plan_id)
    stored = await repo.tasks(session, plan_id)
    tasks = [_shown_task(t, done.get(t["task_id"])) for t in stored]
    # Other offices' approved plans tasking the same cells on the same days: to inform, not block.
    clashes = await deconfliction.overlaps(session, p, stored)
    return {**{k: v for k, v in p.items()}, "id": str(p["id"]), "saved": True, "tasks": tasks,
            "reported": len(done), "overlaps": clashes}


async def listing(session: AsyncSession, *, start: Any, end: Any, current_only: bool, limit: int
                  ) -> list[dict[str, Any]]:
    return await repo.listing(session, start=start, end=end, current_only=current_only, limit=limit)


async def approve(session: AsyncSession, plan_id: uuid.UUID, who: Principal, *, now: datetime
                  ) -> dict[str, Any]:
    p = await repo.get_plan(session, plan_id, lock=True)
    if p is None:
        raise NotFound(f"no saved plan with id {plan_id}",
                       errors=[{"pointer": "/path/plan_id", "detail": "no saved plan"}])
    if p["approved_at"] is not None:
        raise Conflict(f"plan {plan_id} was approved by {p['approved_by']}",
                       errors=[{"pointer": "/path/plan_id", "detail": "already approved"}])
    if p["superseded_by"] is not None:
        raise Conflict(f"plan {plan_id} was superseded by {p['superseded_by']}",
                       errors=[{"pointer": "/path/plan_id", "detail": "superseded"}])
    await repo.set_plan(session, plan_id, {"approved_by": who.actor, "approved_at": now})
    await audit.record(session, actor=who.actor, action="approve", object_type="patrol_plan",
                       object_id=str(plan_id))
    await session.commit()
    return await read(session, plan_id)


async def report(session: AsyncSession, plan_id: uuid.UUID, task_id: str, body: PatrolReportCreate,
                 who: Principal, *, now: datetime) -> dict[str, Any]:
    """Record what the patrol of one task did (once)."""
    p = await repo.get_plan(session, plan_id)
    if p is None:
        raise NotFound(f"no saved plan with id {plan_id}: only saved plans (\"save\": true) take "
                       "patrol reports",
                       errors=[{"pointer": "/path/plan_id", "detail": "no saved plan"}])
    if await repo.task(session, plan_id, task_id) is None:
        raise NotFound(f"plan {plan_id} has no task {task_id!r}",
                       errors=[{"pointer": "/path/task_id", "detail": "no such task"}])
    if body.status != "done" and not (body.reason or "").strip():
        raise InvalidInput.at("/body/reason", "say why the patrol was not (fully) done")
    if body.status != "not_done" and body.started_at is None:
        raise InvalidInput.at("/body/started_at", "when did the patrol start?")
    plan_start = datetime.combine(p["as_of"], time.min, tzinfo=UTC)
    for name in ("started_at", "ended_at"):
        t = getattr(body, name)
        if t is None:
            continue
        if t < plan_start:
            raise InvalidInput.at(f"/body/{name}", f"{name} is before the plan's date ({p['as_of']})")
        if t > now + CLOCK_SKEW:
            raise InvalidInput.at(f"/body/{name}", f"{name} is in the future")
    if body.started_at and body.ended_at and body.ended_at < body.started_at:
        raise InvalidInput.at("/body/ended_at", "ended_at is before started_at")
    known = await incident_repo.existing_ids(session, body.incident_ids)
    for i, incident_id in enumerate(body.incident_ids):
        if incident_id not in known:
            raise InvalidInput.at(f"/body/incident_ids/{i}", f"no incident with id {incident_id}")
    values = body.model_dump() | {"plan_id": plan_id, "task_id": task_id, "created_by": who.actor}
    report_id = await repo.insert_report(session, values)
    if report_id is None:
        raise Conflict(f"task {task_id} of plan {plan_id} is already reported",
                       errors=[{"pointer": "/path/task_id", "detail": "already reported"}])
    await audit.record(session, actor=who.actor, action="report", object_type="patrol_plan",
                       object_id=str(plan_id), after={"task_id": task_id, "status": body.status,
                                                      "report_id": str(report_id)})
    await session.commit()
    r = await repo.get_report(session, report_id)
    assert r is not None
    return {**_shown_report(r), "plan_id": str(plan_id), "task_id": task_id}


def role_sees_plans(role: Role) -> bool:
    return role in (Role.admin, Role.analyst, Role.operations)
