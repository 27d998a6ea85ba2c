"""Patrol execution: of the tasks of current saved plans in a period, how many were done, partly
done, not done or not reported, by base and by the week the plan starts in. The execution rate
counts a partly done task as half: (done + 0.5 x partly) / planned."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import patrol_records as repo

COUNTS = ("planned", "reported", "done", "partly", "not_done")


def _rate(c: dict[str, int]) -> dict[str, Any]:
    planned = c["planned"]
    out: dict[str, Any] = {k: int(c[k]) for k in COUNTS}
    out["unreported"] = planned - c["reported"]
    out["execution_rate"] = round((c["done"] + 0.5 * c["partly"]) / planned, 4) if planned else None
    return out


def summarise(rows: list[dict[str, Any]], by: str | None) -> dict[str, Any]:
    total = {k: sum(int(r[k]) for r in rows) for k in COUNTS}
    out: dict[str, Any] = {"total": _rate(total)}
    if by is None:
        return out
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    names: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if by == "base":
            key: tuple[Any, ...] = (str(r["base_id"]),)
            names[key] = {"base_id": str(r["base_id"]) if r["base_id"] else None,
                          "base_name": r["base_name"]}
        elif by == "week":
            key = (r["week"].isoformat(),)
            names[key] = {"week": r["week"].isoformat()}
        else:  # base_week
            key = (str(r["base_id"]), r["week"].isoformat())
            names[key] = {"base_id": str(r["base_id"]) if r["base_id"] else None,
                          "base_name": r["base_name"], "week": r["week"].isoformat()}
        for k in COUNTS:
            groups[key][k] += int(r[k])
    out["groups"] = [{**names[k], **_rate(groups[k])} for k in sorted(groups)]
    return out


async def patrol_execution(session: AsyncSession, start: date | None, end: date | None,
                           by: str | None = "base_week", aors: list[uuid.UUID] | None = None
                           ) -> dict[str, Any]:
    """Patrol execution in a period (plans whose period overlaps it): the function briefs and
    metrics call. `aors`: only the tasks of these offices (need to know)."""
    rows = await repo.execution_rows(session, start=start, end=end, aors=aors)
    out = summarise(rows, by)
    out["window"] = {"start": start.isoformat() if start else None,
                     "end": end.isoformat() if end else None}
    out["by"] = by
    return out
