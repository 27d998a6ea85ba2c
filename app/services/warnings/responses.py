"""Response tracking: what was done about a warning, when each step happened, and why it was late;
and the figures missions report upward (time to acknowledge / dispatch / arrive, no-response share,
delay reasons)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import audit
from app.repositories import warnings as repo
from app.schemas.alerts import ResponseCreate
from app.services.auth import Principal
from app.services.warnings import lifecycle as warning_svc


async def record(
    session: AsyncSession,
    warning_id: uuid.UUID,
    body: ResponseCreate,
    who: Principal,
    *,
    now: datetime,
) -> dict[str, Any]:
    w = await repo.get(session, warning_id, lock=True)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    if w["status"] in warning_svc.TERMINAL:
        raise Conflict(f"the warning is {w['status']}; responses can no longer be recorded")
    for name in ("acknowledged_at", "dispatched_at", "on_scene_at"):
        t = getattr(body, name)
        if t is not None and (t < w["created_at"] or t > now):
            raise InvalidInput(
                f"{name} must lie between the warning ({w['created_at'].isoformat()}) and now",
                errors=[{"pointer": f"/body/{name}", "detail": "outside the warning's lifetime"}],
            )
    values = body.model_dump()
    values.update(warning_id=warning_id, created_by=who.actor, acknowledged_at=body.acknowledged_at or now)
    response_id = await repo.add_response(session, values)
    await audit.record(
        session,
        actor=who.actor,
        action="response",
        object_type="warning",
        object_id=str(warning_id),
        after={"response_id": str(response_id), "type": body.type},
    )
    # Recording a response acknowledges the warning; a real response marks it responded.
    if w["status"] == "active":
        await warning_svc.move(session, w, "acknowledged", who.actor, None, now=values["acknowledged_at"])
    if body.type != "none" and w["status"] == "acknowledged":
        await warning_svc.move(session, w, "responded", who.actor, None, now=now)
    await session.commit()
    return {"id": str(response_id), "warning_id": str(warning_id), "warning_status": w["status"]}


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


def metrics(rows: list[dict[str, Any]], reasons: dict[str, int]) -> dict[str, Any]:
    total = len(rows)
    unanswered = sum(1 for r in rows if not r["responded"])
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
        "delay_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


async def compute(
    session: AsyncSession,
    *,
    start: datetime | None,
    end: datetime | None,
    bbox: tuple[float, float, float, float] | None,
) -> dict[str, Any]:
    rows = await repo.metric_rows(session, start=start, end=end, bbox=bbox)
    reasons = await repo.delay_reason_counts(session, start=start, end=end, bbox=bbox)
    out = metrics(rows, reasons)
    out["window"] = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "bbox": list(bbox) if bbox else None,
    }
    return out
