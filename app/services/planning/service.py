"""Patrol plans and footprint reviews end to end: check the request, gather the dated inputs
(that day's bases, the threat layer, cell profiles, forecasts) and call the pure planners.
No SQL (repositories) and no HTTP (routers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Conflict, DomainError, InvalidInput
from app.repositories import bases as base_repo
from app.repositories import patrols as patrol_repo
from app.schemas.patrols import (
    Area,
    FootprintCompareRequest,
    FootprintReviewRequest,
    PatrolPlanRequest,
)
from app.services.missions.profile import fallback
from app.services.missions.registry import Scope
from app.services.planning import footprint_compare
from app.services.planning import footprint_review as footprint
from app.services.planning import patrol_plan as patrol_planning
from app.services.planning.threat_input import threat_cells_at
from app.settings import Settings


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _bbox(area: Area) -> tuple[float, float, float, float] | None:
    if not area.bbox:
        return None
    x1, y1, x2, y2 = area.bbox
    return x1, y1, x2, y2


def _bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": pointer, "detail": detail}])


async def _check_history(session: AsyncSession, as_of: date) -> None:
    first = await patrol_repo.earliest_incident(session)
    if first is None:
        raise _bad("/body/as_of", "no incidents are recorded yet: there is no threat to plan for")
    if first > end_of(as_of):
        raise _bad("/body/as_of", f"as_of is before the first recorded incident "
                                  f"({first.date().isoformat()})")


async def threat_cells(session: AsyncSession, area: Area, res: int, window_days: int,
                       settings: Settings, role: Role, scope: Scope | None = None
                       ) -> list[dict[str, Any]]:
    """The hotspot threat layer for the dated window (issue 3's scoring, never a copy of it),
    clipped to the scope's mission or AOR and decayed on its scale."""
    return await threat_cells_at(session, res, end_of(area.as_of), window_days, settings, role,
                                 bbox=_bbox(area), with_pattern=True, scope=scope,
                                 decay_scale_days=area.decay_scale_days)


def _check_weight(area: Area) -> None:
    if area.forecast_weight is not None and area.forecast_weight > 0 and not area.use_forecast:
        raise _bad("/body/forecast_weight", "a forecast weight needs use_forecast: true")


async def forecast_weight_for(session: AsyncSession, area: Area, res: int, horizon_days: int,
                              settings: Settings, scope: Scope | None = None
                              ) -> tuple[float, str]:
    """The request's forecast weight, else the area's backtested default (model card)."""
    if not area.use_forecast:
        return 0.0, "no forecast requested"
    if area.forecast_weight is not None:
        return area.forecast_weight, "given in the request"
    from app.services.forecast import served_method
    from app.services.forecast.area import scope_area
    from app.services.planning.forecast_weight import default_weight

    served = await served_method(session, settings, scope_area(settings, scope), res,
                                 horizon_days, area.forecast_method)
    return default_weight(served.card, settings)


async def forecast_cells(session: AsyncSession, area: Area, res: int, horizon_days: int,
                         settings: Settings, scope: Scope | None = None
                         ) -> dict[str, dict[str, Any]] | None:
    if not area.use_forecast:
        return None
    try:
        from app.services.forecast import forecast_layer
        from app.services.forecast.area import scope_area
    except ImportError:
        raise Conflict("forecasts are not available in this deployment",
                       errors=[{"pointer": "/body/use_forecast",
                                "detail": "set to false or wait for forecasts"}]) from None
    try:
        rows = await forecast_layer(session, res, end_of(area.as_of), horizon_days, settings,
                                    method=area.forecast_method,
                                    bbox=_bbox(area),
                                    area=scope_area(settings, scope))
    except DomainError as exc:
        # Re-point the forecaster's query-parameter errors at this request's body.
        for e in exc.errors:
            e["pointer"] = e["pointer"].replace("/query/method", "/body/forecast_method") \
                                       .replace("/query/", "/body/")
        raise
    return {r["cell"]: r for r in rows}


def _base_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "id": str(row["id"])}


def _base_filter(scope: Scope | None) -> dict[str, Any]:
    """Which bases a clipped answer uses: the mission's own (and unassigned ones in its area),
    inside the AOR when one is asked for."""
    if scope is None or not scope.clip:
        return {}
    return {"mission": scope.mission.code, "area": scope.mission.area,
            "within": scope.aor["area"] if scope.aor else None}


def _inside(area: Area, scope: Scope | None, mission: Any) -> Any:
    """Whether a point lies in the area a plan is made for: the mission's area (its AOR when one
    is asked for) and the request's bbox."""
    import shapely
    from shapely.geometry import shape

    aor = shape(scope.aor["area"]) if scope is not None and scope.aor else None
    box = _bbox(area)

    def inside(lon: float, lat: float) -> bool:
        if box and not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
            return False
        if aor is not None and not shapely.intersects_xy(aor, lon, lat):
            return False
        return bool(mission.covers(lon, lat))

    return inside


async def plan(session: AsyncSession, body: PatrolPlanRequest, settings: Settings, role: Role,
               scope: Scope | None = None) -> dict[str, Any]:
    ids = body.base_ids or []
    wanted = set(ids) | {o.base_id for o in body.capacity_overrides}
    known = await base_repo.existing_ids(session, list(wanted))
    for i, b in enumerate(ids):
        if b not in known:
            raise _bad(f"/body/base_ids/{i}", f"unknown base {b}")
    pairs: dict[tuple[Any, str], int] = {}
    for i, o in enumerate(body.capacity_overrides):
        if o.base_id not in known:
            raise _bad(f"/body/capacity_overrides/{i}/base_id", f"unknown base {o.base_id}")
        if (o.base_id, o.mode) in pairs:
            raise _bad(f"/body/capacity_overrides/{i}", f"{o.mode} patrols of base {o.base_id} "
                       f"are already set (/body/capacity_overrides/{pairs[(o.base_id, o.mode)]})")
        pairs[(o.base_id, o.mode)] = i
    _check_weight(body)
    await _check_history(session, body.as_of)
    bases = await base_repo.list_bases(session, as_of=body.as_of, ids=ids or None,
                                       **_base_filter(scope))
    active = {b["id"] for b in bases}
    for i, b in enumerate(ids):
        if b not in active:
            raise _bad(f"/body/base_ids/{i}", f"base {b} is not active on {body.as_of}"
                       + (f" in {scope.mission.code}" if scope and scope.clip else ""))
    if not bases:
        raise _bad("/body/as_of", f"no base is active on {body.as_of}")
    res = body.res or settings.patrol_res
    window_days = body.window_days or settings.patrol_window_days
    cells = await threat_cells(session, body, res, window_days, settings, role, scope)
    forecast = await forecast_cells(session, body, res, body.horizon_days, settings, scope)
    weight, weight_basis = await forecast_weight_for(session, body, res, body.horizon_days,
                                                     settings, scope)
    mission = scope.mission if scope else fallback(settings)
    profiles = await patrol_repo.cell_profiles(
        session, res=res, until=end_of(body.as_of),
        window_days=window_days,
        ongoing_days=settings.patrol_ongoing_days, violation_days=settings.patrol_violation_days,
        timezone=mission.timezone)
    overrides: dict[tuple[str, str], int] = {
        (str(o.base_id), o.mode): o.patrols_per_day for o in body.capacity_overrides}
    result = patrol_planning.make_plan(
        cells, profiles, [_base_dict(b) for b in bases], body.as_of, body.horizon_days, settings,
        overrides=overrides, solver=body.solver, seed=body.seed, forecast=forecast,
        mission=mission, forecast_weight=weight)
    if body.tasks is not None:
        result = patrol_planning.adjust(
            result, [c.model_dump() for c in body.tasks], cells, profiles,
            [_base_dict(b) for b in bases], body.as_of, res, settings,
            inside=_inside(body, scope, mission), forecast=forecast, mission=mission)
    result["summary"].update(as_of=body.as_of.isoformat(), horizon_days=body.horizon_days,
                             resolution=res, mission=scope.code if scope else None,
                             aor=scope.aor["name"] if scope and scope.aor else None,
                             timezone=mission.timezone, forecast_weight_basis=weight_basis)
    return result


async def review(session: AsyncSession, body: FootprintReviewRequest, settings: Settings,
                 role: Role, scope: Scope | None = None) -> dict[str, Any]:
    _check_weight(body)
    await _check_history(session, body.as_of)
    res = body.res or settings.footprint_res
    bases = await base_repo.list_bases(session, as_of=body.as_of, bbox=_bbox(body),
                                       **_base_filter(scope))
    window_days = body.window_days or settings.footprint_window_days
    cells = await threat_cells(session, body, res, window_days, settings, role, scope)
    forecast = await forecast_cells(session, body, res, body.horizon_days, settings, scope)
    weight, weight_basis = await forecast_weight_for(session, body, res, body.horizon_days,
                                                     settings, scope)
    towns = [c.model_dump() for c in body.candidates] if body.candidates is not None else None
    mission = scope.mission if scope else fallback(settings)
    result = footprint.review(cells, [_base_dict(b) for b in bases], body.as_of, settings,
                              p=body.p, candidates=towns, forecast=forecast,
                              include_air=body.include_air, mission=mission,
                              forecast_weight=weight)
    result["summary"].update(resolution=res, window_days=window_days,
                             forecast_weight_basis=weight_basis,
                             mission=scope.code if scope else None,
                             aor=scope.aor["name"] if scope and scope.aor else None)
    return result


async def compare(session: AsyncSession, body: FootprintCompareRequest, settings: Settings,
                  role: Role, scope: Scope | None = None) -> dict[str, Any]:
    """Two footprints side by side (app.services.planning.footprint_compare)."""
    if body.compare_to is None and not body.closures and not body.openings:
        raise _bad("/body/compare_to", "give compare_to, or closures/openings to compare with")
    await _check_history(session, body.as_of)
    res = body.res or settings.footprint_res
    window_days = body.window_days or settings.footprint_window_days
    mission = scope.mission if scope else fallback(settings)

    async def scenario(on: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        dated = body.model_copy(update={"as_of": body.threat_as_of or on})
        bases = await base_repo.list_bases(session, as_of=on, bbox=_bbox(body),
                                           **_base_filter(scope))
        cells = await threat_cells(session, dated, res, window_days, settings, role, scope)
        return cells, [_base_dict(b) for b in bases]

    cells_a, bases_a = await scenario(body.as_of)
    if body.compare_to is not None:
        await _check_history(session, body.compare_to)
        cells_b, bases_b = await scenario(body.compare_to)
        label_b, on_b = f"bases as of {body.compare_to}", body.compare_to
    else:
        known = {b["id"] for b in bases_a}
        for i, cid in enumerate(body.closures):
            if str(cid) not in known:
                raise _bad(f"/body/closures/{i}", f"base {cid} is not active on {body.as_of}")
        closed = {str(c) for c in body.closures}
        opened = [{"id": f"opening-{i + 1}", "name": o.name, "kind": "temporary_operating_base",
                   "latitude": o.latitude, "longitude": o.longitude, "road_patrols_per_day": 1}
                  for i, o in enumerate(body.openings)]
        cells_b, bases_b = cells_a, [b for b in bases_a if b["id"] not in closed] + opened
        label_b, on_b = "proposed closures and openings", body.as_of
    result = footprint_compare.compare(
        {"label": f"bases as of {body.as_of}", "as_of": body.as_of, "cells": cells_a,
         "bases": bases_a},
        {"label": label_b, "as_of": on_b, "cells": cells_b, "bases": bases_b},
        settings, include_air=body.include_air, mission=mission)
    result["summary"] = {"resolution": res, "window_days": window_days,
                         "threat_as_of": body.threat_as_of.isoformat() if body.threat_as_of
                         else None,
                         "mission": scope.code if scope else None,
                         "aor": scope.aor["name"] if scope and scope.aor else None}
    return result
