"""How the forecast shapes plans: the objective of patrol plans and the coverage of footprint
reviews weigh each cell by a blend of its current threat and its forecast expected harm.

    weight(c) = (1 - w) * threat(c) / sum threat  +  w * forecast_harm(c) / sum forecast_harm

Both terms are shares of their totals over the cells considered, so `w` (`forecast_weight`,
0-1) is the share of the objective that looks ahead. w = 0 is the plan on current threat alone
(exactly the planner without a forecast). Cells with no current threat but a forecast
P(>=1) of at least `planning_forecast_min_p` join the cells considered: that is how a cell where
violence is expected, not yet seen, can win a patrol.

The default `w` of an area is chosen by backtest (`coverage_backtest`, run by
`kinga backtest`): at every origin, plans are made with each weight and scored by the share of
the *next* period's incidents that fell in the cells they patrol.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.repositories import bases as base_repo
from app.services.planning import patrol_plan
from app.services.planning.objective import blend  # noqa: F401 (the objective, re-exported)
from app.settings import Settings


def default_weight(card: dict[str, Any] | None, settings: Settings) -> tuple[float, str]:
    """The area's backtested default (model card), else the configured one."""
    fw = (card or {}).get("forecast_weight") or {}
    if fw.get("default") is not None:
        return float(fw["default"]), "backtested default of this area (model card)"
    return settings.planning_forecast_weight, "configured default (no backtest stored)"


# --- the backtest of plans -------------------------------------------------------------------


def _forecast_dict(fc: Any) -> dict[str, dict[str, Any]]:
    keep = fc.score >= 0  # cells the model forecast (the rest share the floor)
    cells, harm, p = fc.cells[keep], fc.expected_harm[keep], fc.p_incident[keep]
    return {
        h3.int_to_str(int(c)): {"expected_harm": float(harm[i]), "p_incident": float(p[i])}
        for i, c in enumerate(cells)
    }


async def coverage_backtest(
    session: AsyncSession,
    settings: Settings,
    result: dict[str, Any],
    ev: Any,
    periods: list[tuple[datetime, datetime]],
) -> dict[str, Any] | None:
    """Share of the incidents of the `planning_backtest_horizon_days` after each origin that
    fell in cells a plan made at that origin patrols, for every weight in
    `planning_forecast_weights`, with the bases of that day at their registered capacity and
    with a scarce capacity (`planning_backtest_scarce_patrols` road patrols per base over the
    horizon). The forecast is the backtest's
    shipped (`auto`) forecast of that origin; the threat layer is the planner's own as of the
    origin. Returns None when no base is registered."""
    from app.services.planning.threat_input import threat_cells_at

    forecasts: list[dict[str, Any]] = result.get("_forecasts") or []
    res = int(result["res"])
    days = settings.planning_backtest_horizon_days
    weights = list(settings.planning_forecast_weights)
    scen: dict[str, dict[str, float]] = {"registry_capacity": {}, "scarce_capacity": {}}
    total = 0.0
    origins_used = 0
    t = ev["t"].to_numpy()
    cell_of = ev["cell"].to_numpy()
    for (origin, _end), fcs in zip(periods, forecasts, strict=False):
        fc = fcs.get("auto")
        if fc is None:
            continue
        bases = [
            {**b, "id": str(b["id"])}
            for b in await base_repo.list_bases(session, as_of=origin.date())
        ]
        if not bases:
            continue
        t0 = (origin - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400.0
        sel = (t >= t0) & (t < t0 + days)
        future = [h3.int_to_str(int(c)) for c in cell_of[sel]]
        if not future:
            origins_used += 1
            continue
        cells = await threat_cells_at(session, res, origin - timedelta(microseconds=1),
                                      settings.patrol_window_days, settings, Role.analyst)
        forecast = _forecast_dict(fc)
        # scarce: one road patrol a day for as many days as the scarce budget, nothing else
        scarce = {(b["id"], m): 0 for b in bases for m in ("road", "foot", "air")}
        scarce.update({(b["id"], "road"): 1 for b in bases})
        runs = (("registry_capacity", None, days),
                ("scarce_capacity", scarce, settings.planning_backtest_scarce_patrols))
        for name, overrides, plan_days in runs:
            for w in weights:
                plan = patrol_plan.make_plan(
                    [dict(c) for c in cells], {}, bases, origin.date(), plan_days, settings,
                    overrides=overrides, forecast=forecast if w > 0 else None,
                    forecast_weight=w,
                )
                covered = {t_["cell_ids"][0] for t_ in plan["tasks"]}
                scen[name][str(w)] = scen[name].get(str(w), 0.0) + sum(
                    1 for c in future if c in covered
                )
        total += len(future)
        origins_used += 1
    if not origins_used or total == 0:
        return None

    def rows(name: str) -> list[dict[str, Any]]:
        return [{"weight": w, "share": round(scen[name].get(str(w), 0.0) / total, 4)}
                for w in weights]

    reg, scarce_rows = rows("registry_capacity"), rows("scarce_capacity")
    # the weight covering most of the next period's incidents with the registered capacity;
    # ties go to the one that does best with scarce capacity, then to the smaller weight
    best = max(
        range(len(weights)),
        key=lambda i: (reg[i]["share"], scarce_rows[i]["share"], -weights[i]),
    )
    return {
        "horizon_days": days,
        "origins": origins_used,
        "incidents": int(total),
        "registry_capacity": {"by_weight": reg},
        "scarce_capacity": {
            "road_patrols_per_base": settings.planning_backtest_scarce_patrols,
            "by_weight": scarce_rows,
        },
        "without_forecast": {"registry_capacity": reg[0]["share"] if weights[0] == 0 else None,
                             "scarce_capacity": scarce_rows[0]["share"]
                             if weights[0] == 0 else None},
        "default": weights[best],
        "rule": "the weight whose plans covered most of the next period's incidents at "
                "registered capacity (ties: most at scarce capacity, then the smaller weight)",
    }
