"""GET /api/v1/impact: for every closed response that went and every patrol that went in a period,
incidents and harm per cell in the target cells before and after (KINGA_IMPACT_BEFORE_DAYS /
KINGA_IMPACT_AFTER_DAYS), beside matched comparison cells (similar prior incidents, within
KINGA_IMPACT_MATCH_RADIUS_KM, no response or patrol in either window): a difference in
differences per treatment and pooled by field office, month, rule and desired effect.

"Harm" is the undecayed harm term of the threat score (docs/scoring.md: one per incident plus its
victims), so "threat" here is the threat score's impact side, not its credibility-weighted, decayed
level. Everything here is an association, not a proof of effect (`NOTE`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.repositories import impact as repo
from app.repositories import patrol_records
from app.services.auth import Principal
from app.services.impact.did import NOTE, CellObs, match, summarise
from app.services.threat.score import weight_spec
from app.services.warnings import need_to_know
from app.settings import Settings

GROUPS = ("field_office", "month", "rule", "desired_effect")
MAX_PERIOD_DAYS = 400


def _at_res(cell: int, res: int) -> list[int]:
    s = h3.int_to_str(int(cell))
    r = h3.get_resolution(s)
    if r == res:
        return [int(cell)]
    if r > res:
        return [h3.str_to_int(h3.cell_to_parent(s, res))]
    return [h3.str_to_int(c) for c in h3.cell_to_children(s, res)]


async def _treatments(session: AsyncSession, settings: Settings, start: datetime, end: datetime
                      ) -> list[dict[str, Any]]:
    res = settings.impact_res
    out: list[dict[str, Any]] = []
    for w in await repo.closed_responses(session, start, end):
        cell = (_at_res(w["h3_cell"], res) if w["h3_cell"] is not None
                else [h3.str_to_int(h3.latlng_to_cell(w["latitude"], w["longitude"], res))])
        out.append({"kind": "response", "warning_id": str(w["id"]), "at": w["at"], "cells": cell,
                    "aor_id": w["aor_id"],
                    "field_office": w["assigned_to"] or "unassigned", "rule": w["rule"],
                    "desired_effect": "response", "outcome": w["outcome"],
                    "source": w["source"]})
    for p in await patrol_records.reported_patrols(session, start, end):
        cells = sorted({c for cell in p["cells"] for c in _at_res(cell, res)})
        out.append({"kind": "patrol", "plan_id": str(p["plan_id"]), "task_id": p["task_id"],
                    "at": p["started_at"], "cells": cells, "aor_id": p["aor_id"],
                    "field_office": p["base_name"] or "unassigned", "rule": "patrol",
                    "desired_effect": p["desired_effect"], "status": p["status"]})
    return out


async def compute(session: AsyncSession, settings: Settings, *, start: datetime | None,
                  end: datetime | None, now: datetime | None = None,
                  who: Principal | None = None) -> dict[str, Any]:
    """`who`: a token limited to an AOR (operations, analyst) is shown the treatments of that AOR
    and its children only (responses to warnings they own, their offices' patrols); comparison
    cells still exclude every treated cell, so each shown treatment's figures are the same as in
    the unscoped report."""
    now = now or datetime.now(UTC)
    aors = await need_to_know.figures_aors(session, who)
    end = min(end or now, now)
    start = start or end - timedelta(days=90)
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise InvalidInput(f"the period may span at most {MAX_PERIOD_DAYS} days", errors=[
            {"pointer": "/query/start", "detail": f"at most {MAX_PERIOD_DAYS} days before end"}])
    before = timedelta(days=settings.impact_before_days)
    after = timedelta(days=settings.impact_after_days)
    spec = weight_spec(settings)
    harm = {"fatality": spec.harm_fatality, "injured": spec.harm_injured,
            "children": spec.harm_children, "displaced_log": spec.harm_displaced_log}
    # Cells treated at any time that could overlap a window are never comparison cells.
    everything = await _treatments(session, settings, start - before - after, now)
    shown = [t for t in everything if start <= t["at"] <= end
             and (aors is None or t["aor_id"] in aors)]
    events: list[dict[str, Any]] = []
    pooled: list[tuple[dict[str, Any], list[CellObs], list[CellObs]]] = []
    for t in shown:
        at: datetime = t["at"]
        lo, hi = at - before, at + after
        treated = {c for o in everything if lo - after <= o["at"] <= hi for c in o["cells"]}
        observed = min(hi, now) - at
        event = {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in t.items() if k not in ("cells", "aor_id")}
        event["target_cells"] = [h3.int_to_str(c) for c in t["cells"]]
        if observed < timedelta(days=1):
            event.update(pending=True, reason="the after window has not begun")
            events.append(event)
            continue
        centre = h3.cell_to_latlng(h3.int_to_str(t["cells"][0]))
        counts = await repo.cell_counts(
            session, at=at, t0=lo, t1=min(hi, now), lat=centre[0], lon=centre[1],
            radius_m=settings.impact_match_radius_km * 1000, res=settings.impact_res, harm=harm)
        bd, ad = before.total_seconds() / 86400, observed.total_seconds() / 86400

        def obs(cell: int, counts: dict[int, dict[str, float]] = counts, bd: float = bd,
                ad: float = ad) -> CellObs:
            c = counts.get(cell, {})
            return CellObs(cell, c.get("n_before", 0), c.get("n_after", 0), c.get("harm_before", 0.0),
                           c.get("harm_after", 0.0), bd, ad)

        targets = [obs(c) for c in t["cells"]]
        # Candidates: cells with incidents nearby, and the quiet ring around the targets (so a
        # target with no prior incident finds quiet comparison cells too).
        ring = {h3.str_to_int(n) for c in t["cells"] for n in h3.grid_disk(h3.int_to_str(c), 3)}
        candidates = [obs(c) for c in sorted(set(counts) | ring) if c not in treated]
        comparison = match(targets, candidates, settings.impact_matches)
        event["after_days_observed"] = round(ad, 2)
        event["comparison_cells"] = [h3.int_to_str(c.cell) for c in comparison]
        event.update(summarise(targets, comparison, settings.impact_min_cells))
        events.append(event)
        pooled.append((t, targets, comparison))
    groups: dict[str, list[dict[str, Any]]] = {}
    for g in GROUPS:
        keys: dict[str, tuple[list[CellObs], list[CellObs], int]] = {}
        for t, targets, comparison in pooled:
            key = t["at"].strftime("%Y-%m") if g == "month" else str(t[g])
            tt, cc, n = keys.get(key, ([], [], 0))
            keys[key] = (tt + targets, cc + comparison, n + 1)
        groups[g] = [{g: k, "treatments": n, **summarise(tt, cc, settings.impact_min_cells)}
                     for k, (tt, cc, n) in sorted(keys.items())]
    return {
        "note": NOTE,
        "start": start.isoformat(), "end": end.isoformat(),
        "windows": {"before_days": settings.impact_before_days,
                    "after_days": settings.impact_after_days},
        "res": settings.impact_res, "min_cells": settings.impact_min_cells,
        "treatments": {"responses": sum(1 for t in shown if t["kind"] == "response"),
                       "patrols": sum(1 for t in shown if t["kind"] == "patrol"),
                       "measured": len(pooled)},
        "overall": summarise([c for _, t, _ in pooled for c in t],
                             [c for _, _, cmp in pooled for c in cmp], settings.impact_min_cells),
        "by": groups,
        "events": events,
    }
