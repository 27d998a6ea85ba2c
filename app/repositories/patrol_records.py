"""Saved patrol plans, their tasks and patrol reports (issue 15): the only place their SQL is built."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.patrols import PatrolPlan, PatrolReport, PatrolTask

PLAN_COLUMNS = list(PatrolPlan.__table__.columns)
TASK_COLUMNS = list(PatrolTask.__table__.columns)
REPORT_COLUMNS = list(PatrolReport.__table__.columns)


async def insert_plan(session: AsyncSession, values: dict[str, Any], tasks: list[dict[str, Any]]
                      ) -> uuid.UUID:
    stmt = insert(PatrolPlan).values(**values).returning(PatrolPlan.id)
    plan_id = (await session.execute(stmt)).scalar_one()
    if tasks:
        await session.execute(insert(PatrolTask), [{**t, "plan_id": plan_id} for t in tasks])
    return plan_id


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, lock: bool = False
                   ) -> dict[str, Any] | None:
    stmt = select(*PLAN_COLUMNS).where(PatrolPlan.id == plan_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def set_plan(session: AsyncSession, plan_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(PatrolPlan).where(PatrolPlan.id == plan_id).values(**values))


async def tasks(session: AsyncSession, plan_id: uuid.UUID) -> list[dict[str, Any]]:
    stmt = select(*TASK_COLUMNS).where(PatrolTask.plan_id == plan_id).order_by(PatrolTask.task_id)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def task(session: AsyncSession, plan_id: uuid.UUID, task_id: str) -> dict[str, Any] | None:
    stmt = select(*TASK_COLUMNS).where(PatrolTask.plan_id == plan_id, PatrolTask.task_id == task_id)
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def reports(session: AsyncSession, plan_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    stmt = select(*REPORT_COLUMNS).where(PatrolReport.plan_id == plan_id)
    return {r["task_id"]: dict(r) for r in (await session.execute(stmt)).mappings()}


async def insert_report(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """The report, or None when the task already has one (nothing written)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    stmt = (pg_insert(PatrolReport).values(**values)
            .on_conflict_do_nothing(index_elements=["plan_id", "task_id"])
            .returning(PatrolReport.id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(*REPORT_COLUMNS).where(PatrolReport.id == report_id))
           ).mappings().first()
    return dict(row) if row else None


async def listing(session: AsyncSession, *, start: date | None, end: date | None, current_only: bool,
                  limit: int) -> list[dict[str, Any]]:
    conds: list[Any] = []
    if start is not None:
        conds.append(PatrolPlan.ends_on >= start)
    if end is not None:
        conds.append(PatrolPlan.starts_on <= end)
    if current_only:
        conds.append(PatrolPlan.superseded_by.is_(None))
    n_tasks = (select(func.count()).select_from(PatrolTask)
               .where(PatrolTask.plan_id == PatrolPlan.id).scalar_subquery())
    n_reported = (select(func.count()).select_from(PatrolReport)
                  .where(PatrolReport.plan_id == PatrolPlan.id).scalar_subquery())
    stmt = select(*(c for c in PLAN_COLUMNS if c.name not in ("uncovered",)),
                  n_tasks.label("tasks"), n_reported.label("reported"))
    if conds:
        stmt = stmt.where(and_(*conds))
    stmt = stmt.order_by(PatrolPlan.created_at.desc(), PatrolPlan.id).limit(limit)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


# A task's office (as in patrol de-confliction): the AOR its plan was made for (the request's
# `aor`, an id or a name in its mission), else the AOR holding its base (the smallest field
# office, else the sector, of the base's mission or any for a base of none). `t`, `p`: the task
# and its plan; gives `office.id`.
TASK_OFFICE = """
LEFT JOIN LATERAL (
    SELECT a.id FROM aor a
    WHERE p.parameters ->> 'aor' IS NOT NULL
      AND (a.id::text = p.parameters ->> 'aor'
           OR (lower(a.name) = lower(p.parameters ->> 'aor')
               AND (p.parameters ->> 'mission' IS NULL
                    OR a.mission_code = lower(p.parameters ->> 'mission'))))
    ORDER BY a.kind = 'sector', a.name LIMIT 1) planned_for ON true
LEFT JOIN LATERAL (
    SELECT a.id FROM mission_base b JOIN aor a ON ST_Intersects(a.area, b.location)
      AND (b.mission_code IS NULL OR a.mission_code = b.mission_code)
    WHERE b.id = t.base_id AND p.parameters ->> 'aor' IS NULL
    ORDER BY a.kind = 'sector', ST_Area(a.area), a.name LIMIT 1) based_in ON true
CROSS JOIN LATERAL (SELECT coalesce(planned_for.id, based_in.id) AS id) office
"""
IN_OFFICES = "(CAST(:aors AS uuid[]) IS NULL OR office.id = ANY(CAST(:aors AS uuid[])))"

# Execution: every task of a current (not superseded) saved plan whose period overlaps the
# window, with its report if any, by base and by the ISO week (Monday) the plan starts in
# (`aors`: only the tasks of these offices).
EXECUTION_SQL = f"""
SELECT t.base_id, coalesce(t.base_name, '(no base)') AS base_name,
       date_trunc('week', p.starts_on)::date AS week,
       count(*) AS planned,
       count(r.id) AS reported,
       count(*) FILTER (WHERE r.status = 'done') AS done,
       count(*) FILTER (WHERE r.status = 'partly') AS partly,
       count(*) FILTER (WHERE r.status = 'not_done') AS not_done
FROM patrol_task t
JOIN patrol_plan p ON p.id = t.plan_id
LEFT JOIN patrol_report r ON r.plan_id = t.plan_id AND r.task_id = t.task_id
{TASK_OFFICE}
WHERE p.superseded_by IS NULL
  AND (CAST(:start AS date) IS NULL OR p.ends_on >= CAST(:start AS date))
  AND (CAST(:end AS date) IS NULL OR p.starts_on <= CAST(:end AS date))
  AND {IN_OFFICES}
GROUP BY 1, 2, 3
ORDER BY 3, 2
"""


async def execution_rows(session: AsyncSession, *, start: date | None, end: date | None,
                         aors: list[uuid.UUID] | None = None) -> list[dict[str, Any]]:
    rows = await session.execute(text(EXECUTION_SQL), {"start": start, "end": end, "aors": aors})
    return [dict(r) for r in rows.mappings()]


REPORTED_SQL = f"""
SELECT p.id AS plan_id, t.task_id, t.base_id, t.base_name, t.mode, t.cells, t.desired_effect,
       t.threat_score, r.status, r.started_at, r.ended_at, office.id AS aor_id
FROM patrol_report r
JOIN patrol_task t ON t.plan_id = r.plan_id AND t.task_id = r.task_id
JOIN patrol_plan p ON p.id = r.plan_id
{TASK_OFFICE}
WHERE r.status IN ('done', 'partly') AND r.started_at >= :start AND r.started_at <= :end
ORDER BY r.started_at, p.id, t.task_id
"""


async def reported_patrols(session: AsyncSession, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Patrols that went (done or partly) and started in the window: the impact's treatments,
    each with its office (`aor_id`)."""
    rows = await session.execute(text(REPORTED_SQL), {"start": start, "end": end})
    return [dict(r) for r in rows.mappings()]


async def patrolled_cells(session: AsyncSession, start: datetime, end: datetime) -> list[int]:
    """Target cells of every patrol that went in the window (impact: not comparison cells)."""
    rows = await session.execute(text(
        "SELECT DISTINCT unnest(t.cells) FROM patrol_report r JOIN patrol_task t "
        "ON t.plan_id = r.plan_id AND t.task_id = r.task_id "
        "WHERE r.status IN ('done', 'partly') AND r.started_at >= :start AND r.started_at <= :end"),
        {"start": start, "end": end})
    return [int(r[0]) for r in rows]


# De-confliction: tasks of other approved, current plans whose period shares a day with a plan's.
CONCURRENT_SQL = """
SELECT p.id AS plan_id, p.starts_on, p.ends_on, p.approved_by, p.approved_at,
       p.parameters ->> 'mission' AS mission, p.parameters ->> 'aor' AS aor,
       t.task_id, t.base_id, t.base_name, t.cells
FROM patrol_plan p
JOIN patrol_task t ON t.plan_id = p.id
WHERE p.id <> :plan_id AND p.approved_at IS NOT NULL AND p.superseded_by IS NULL
  AND p.starts_on <= :ends_on AND p.ends_on >= :starts_on
ORDER BY p.approved_at, p.id, t.task_id
"""


async def concurrent_approved_tasks(session: AsyncSession, plan_id: uuid.UUID, starts_on: date,
                                    ends_on: date) -> list[dict[str, Any]]:
    rows = await session.execute(text(CONCURRENT_SQL), {"plan_id": plan_id, "starts_on": starts_on,
                                                        "ends_on": ends_on})
    return [dict(r) for r in rows.mappings()]
