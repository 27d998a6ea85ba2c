"""Unwatched is not safe: reporting effort per cell, and the "low — thin reporting" flag.

A quiet cell on a threat map is either safe or unwatched. For each H3 cell and window this module
counts the reports (and the sections and sources behind them) and compares them with two
expectations: the cell's own history (the mean over the `reporting_history_windows` windows of the
same length before this one) and its ring-1 neighbours (the mean of their reports in this window).
A cell's reporting is

- `none`     — no report in the window;
- `thin`     — fewer than `reporting_min_reports`, or under `reporting_thin_ratio` of an
               expectation that is itself at least `reporting_min_reports`;
- `adequate` — otherwise.

A hotspot cell whose level is low and whose reporting is none or thin is labelled
"low — thin reporting": its low score rests on little information, not on evidence of calm.
Method and reasons: docs/scoring.md. It annotates the threat layer's cells after scoring (the hook
is `HotspotQuery.with_reporting` in layer.py); scoring itself is untouched.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import hotspots as hotspot_repo
from app.repositories import reporting as repo
from app.services.threat import score as scoring
from app.settings import Settings

LOW_THIN = "low — thin reporting"
_CACHE: OrderedDict[tuple[Any, ...], dict[str, dict[str, Any]]] = OrderedDict()
_CACHE_ENTRIES = 32


def classify(reports: int, history_mean: float, neighbour_mean: float, settings: Settings) -> str:
    """none / thin / adequate (see the module docstring)."""
    floor, ratio = settings.reporting_min_reports, settings.reporting_thin_ratio
    if reports == 0:
        return "none"
    if reports < floor:
        return "thin"
    for expected in (history_mean, neighbour_mean):
        if expected >= floor and reports < ratio * expected:
            return "thin"
    return "adequate"


@dataclass(frozen=True)
class Window:
    res: int
    start: datetime
    end: datetime


def _statuses(role: Role, settings: Settings) -> list[str]:
    if role == Role.partner and settings.partner_approved_only:
        return [Status.approved.value]
    return [Status.entered.value, Status.validated.value, Status.approved.value]


async def effort(session: AsyncSession, w: Window, role: Role, settings: Settings
                 ) -> dict[str, dict[str, Any]]:
    """Per cell (H3 string): reports, sections, sources, incidents, history_mean, neighbour_mean,
    last_report and status — for every cell with a report in the window or in its history."""
    statuses = _statuses(role, settings)
    version = await hotspot_repo.data_version(session)
    key = (version, w, tuple(statuses), settings.model_dump_json())
    if version is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    k = settings.reporting_history_windows
    history_start = w.start - (w.end - w.start) * k
    rows = await repo.cell_effort(session, res=w.res, start=w.start, end=w.end,
                                  history_start=history_start, statuses=statuses,
                                  max_radius_m=scoring.max_radius_m(w.res, settings))
    current = {h3.int_to_str(int(r["cell"])): r for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for cell, r in current.items():
        ring = [c for c in h3.grid_disk(cell, 1) if c != cell]
        neighbour_mean = sum(int(current[c]["reports"]) if c in current else 0
                             for c in ring) / max(len(ring), 1)
        reports = int(r["reports"])
        history_mean = int(r["history_reports"]) / k
        out[cell] = {
            "reports": reports, "sections": int(r["sections"]), "sources": int(r["sources"]),
            "incidents": int(r["incidents"]), "history_mean": round(history_mean, 3),
            "neighbour_mean": round(neighbour_mean, 3),
            "last_report": r["last_report"].isoformat() if r["last_report"] else None,
            "status": classify(reports, history_mean, neighbour_mean, settings),
        }
    if version is not None:
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return out


def level_label(threat_level: str, reporting_status: str | None) -> str:
    if threat_level == "low" and reporting_status in ("none", "thin"):
        return LOW_THIN
    return threat_level


async def annotate(session: AsyncSession, cells: list[dict[str, Any]], w: Window, role: Role,
                   settings: Settings) -> None:
    """Add `reporting_effort` and `level_label` to each scored cell (in place). Partners get the
    status only: counts of reports, sections and sources describe collection, not threat."""
    found = await effort(session, w, role, settings)
    for c in cells:
        e = found.get(c["cell"]) or {"reports": 0, "sections": 0, "sources": 0, "incidents": 0,
                                     "history_mean": 0.0, "neighbour_mean": 0.0,
                                     "last_report": None, "status": "none"}
        c["reporting_effort"] = {"status": e["status"]} if role == Role.partner else dict(e)
        c["level_label"] = level_label(c["threat_level"], e["status"])

