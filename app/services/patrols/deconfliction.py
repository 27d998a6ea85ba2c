"""Patrol de-confliction between offices: two field offices must not task the same cells (or ask
one sector commander for the same troops) on the same days. Kinga informs, it does not block:
a saved plan lists the tasks of *other* approved, current plans whose period shares a day with
its own and whose cells are the same as its tasks' cells, when those tasks belong to another
office.

A task's office is the area of responsibility the plan was made for (`"aor"` in its request: the
office that plans it), else the AOR holding its base (the smallest field office, else the sector;
docs/missions.md). Tasks
whose offices are both unknown are not compared (nothing says they are two offices). Cells are
compared at the coarser of the two plans' resolutions.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import missions as mission_repo
from app.repositories import patrol_records as repo
from app.services.geo.h3cells import parent_int, to_str


def _res(cell: int) -> int:
    return (cell >> 52) & 0xF


def _office_key(office: dict[str, Any] | None) -> str | None:
    if office is None:
        return None
    return str(office["id"]) if office.get("id") else f"name:{str(office['name']).lower()}"


async def _plan_office(session: AsyncSession, params: dict[str, Any] | None,
                       cache: dict[tuple[Any, Any], dict[str, Any] | None]
                       ) -> dict[str, Any] | None:
    """The AOR a plan was made for (its request's `aor`, name or id), if any."""
    aor, mission = (params or {}).get("aor"), (params or {}).get("mission")
    if not aor:
        return None
    key = (mission, aor)
    if key not in cache:
        row = None
        try:
            row = await mission_repo.get_aor(session, uuid.UUID(str(aor)))
        except ValueError:
            if mission:
                row = await mission_repo.aor_by_name(session, str(mission).lower(), str(aor))
        cache[key] = ({"id": row["id"], "name": row["name"], "kind": row["kind"]} if row
                      else {"id": None, "name": str(aor), "kind": None})
    return cache[key]


def _shown(office: dict[str, Any] | None) -> dict[str, Any] | None:
    if office is None:
        return None
    return {"id": str(office["id"]) if office.get("id") else None, "name": office["name"],
            "kind": office.get("kind")}


async def overlaps(session: AsyncSession, plan: dict[str, Any], tasks: list[dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """Overlaps of this saved plan's tasks with other offices' approved plans of the same days:
    one item per pair of tasks, with the shared cells, the days both plans cover, the other plan
    and both offices."""
    others = await repo.concurrent_approved_tasks(session, plan["id"], plan["starts_on"],
                                                  plan["ends_on"])
    if not others or not tasks:
        return []
    base_ids = {t["base_id"] for t in [*tasks, *others] if t.get("base_id")}
    by_base = await mission_repo.aors_of_bases(session, list(base_ids))
    cache: dict[tuple[Any, Any], dict[str, Any] | None] = {}
    mine_default = await _plan_office(session, plan.get("parameters"), cache)
    out: list[dict[str, Any]] = []
    for t in tasks:
        office = mine_default or (by_base.get(t["base_id"]) if t.get("base_id") else None)
        for o in others:
            other_office = await _plan_office(
                session, {"aor": o.get("aor"), "mission": o.get("mission")}, cache) \
                or (by_base.get(o["base_id"]) if o.get("base_id") else None)
            a, b = _office_key(office), _office_key(other_office)
            if a == b:  # the same office (or both unknown): not a conflict between offices
                continue
            if not t["cells"] or not o["cells"]:
                continue
            res = min(_res(t["cells"][0]), _res(o["cells"][0]))
            shared = ({parent_int(c, res) for c in t["cells"]}
                      & {parent_int(c, res) for c in o["cells"]})
            if not shared:
                continue
            out.append({
                "task_id": t["task_id"], "office": _shown(office), "base": t.get("base_name"),
                "cells": sorted(to_str(c) for c in shared),
                "other_plan_id": str(o["plan_id"]), "other_task_id": o["task_id"],
                "other_office": _shown(other_office), "other_base": o.get("base_name"),
                "other_approved_by": o["approved_by"],
                "days": {"from": max(plan["starts_on"], o["starts_on"]).isoformat(),
                         "to": min(plan["ends_on"], o["ends_on"]).isoformat()},
            })
    return out
