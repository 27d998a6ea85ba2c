"""The gap report: for each information requirement, whether reporting in its area met its
required frequency over the last `periods` periods, when the last report was, and which sections
reported. Pure functions over the repository's rows, plus the use case."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.repositories import information_requirements as repo

STATUS_ORDER = {"no reporting": 0, "gap": 1, "met": 2}


def assess(ir: dict[str, Any], rows: list[dict[str, Any]], last: datetime | None, *,
           until: datetime, periods: int) -> dict[str, Any]:
    f = int(ir["frequency_days"])
    counts = [0] * periods
    sections: Counter[str] = Counter()
    for r in rows:
        k = int(r["periods_ago"])
        if 0 <= k < periods:
            counts[k] += int(r["reports"])
            sections[r["section"]] += int(r["reports"])
    windows = []
    for k in reversed(range(periods)):  # oldest first
        end = until - timedelta(days=f * k)
        windows.append({"start": (end - timedelta(days=f)).isoformat(), "end": end.isoformat(),
                        "reports": counts[k]})
    missed = [w for w in windows if w["reports"] == 0]
    status = "met" if not missed else ("no reporting" if len(missed) == periods else "gap")
    days_since = (until - last).total_seconds() / 86400 if last is not None else None
    return {
        "id": str(ir["id"]), "code": ir.get("code"), "kind": ir["kind"],
        "question": ir["question"], "priority": ir["priority"], "crsv": ir["crsv"],
        "owner_section": ir["owner_section"], "frequency_days": f,
        "categories": ir["categories"], "status": status, "in_gap": status != "met",
        "periods": windows, "periods_missed": len(missed),
        "reports": sum(counts),
        "last_report": last.isoformat() if last is not None else None,
        "days_since_last_report": round(days_since, 1) if days_since is not None else None,
        "sections": dict(sorted(sections.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """IRs in gap first; among them CRSV first, then priority."""
    return sorted(items, key=lambda i: (STATUS_ORDER[i["status"]], not i["crsv"], i["priority"],
                                        i["code"] or "", i["id"]))


async def gap_report(session: AsyncSession, *, until: datetime, periods: int,
                     mission: str | None = None, now: datetime) -> dict[str, Any]:
    if periods < 1 or periods > 52:
        raise InvalidInput("periods must be between 1 and 52",
                           errors=[{"pointer": "/query/periods", "detail": "1..52"}])
    if until > now:
        if until.date() > now.date():
            raise InvalidInput("as_of is in the future",
                               errors=[{"pointer": "/query/as_of", "detail": "not after today"}])
        until = now  # today: up to now
    irs = await repo.listing(session, mission=mission)
    rows, last = await repo.reporting(session, [ir["id"] for ir in irs], until=until,
                                      periods=periods)
    by_ir: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        by_ir.setdefault(r["id"], []).append(r)
    items = order([assess(ir, by_ir.get(ir["id"], []), last.get(ir["id"]), until=until,
                          periods=periods) for ir in irs])
    return {"as_of": until.isoformat(), "periods": periods,
            "in_gap": sum(1 for i in items if i["in_gap"]), "total": len(items), "items": items}
