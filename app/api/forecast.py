"""Threat forecasts per H3 cell and their backtest: /api/v1/forecast."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api import http
from app.deps import BBox, ReadSessionDep, ScopeDep, SettingsDep, parse_instant, require
from app.domain import Role
from app.errors import Forbidden, InvalidInput
from app.openapi import GeoJSONDoc
from app.schemas.forecast import Backtest, ForecastCollection, ModelCard
from app.services import forecast as svc
from app.services.auth import Principal
from app.services.forecast.area import scope_area
from app.services.geo.h3cells import cell_polygon

router = APIRouter(prefix="/api/v1/forecast", tags=["forecast"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
BACKTESTERS = (Role.admin, Role.analyst)


@router.get(
    "",
    summary="Forecast per H3 cell: expected incidents and harm, P(at least one)",
    response_model=ForecastCollection,
    response_class=GeoJSONDoc,
    responses={404: {"description": "No incident to forecast from (in this area)"}},
)
async def forecast(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    bbox: BBox,
    who: Annotated[Principal, Depends(require(*READERS))],
    scope: ScopeDep,
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution 4-9")] = 6,
    as_of: Annotated[
        str | None, Query(description="forecast origin (ISO date/date-time); default now")
    ] = None,
    horizon_days: Annotated[
        int, Query(ge=1, le=366, description="days ahead (28 = four weeks, 91 = a quarter)")
    ] = 28,
    method: Annotated[
        str | None,
        Query(
            description="auto (the model the area's backtest chose), etas, count, count_spatial, "
            "blend, stack, decay, last_90d, last_365d, history; default: auto"
        ),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="most likely cells first")] = None,
) -> Response:
    origin = parse_instant(as_of, "as_of") or datetime.now(UTC)
    partner = who.role == Role.partner
    if partner and res > settings.forecast_partner_max_res:
        raise Forbidden(
            f"partners see forecasts at res {settings.forecast_partner_max_res} or coarser",
            errors=[
                {"pointer": "/query/res", "detail": f"at most {settings.forecast_partner_max_res}"}
            ],
        )
    result = await svc.forecast_result(
        session, res, origin, horizon_days, settings, method, bbox=bbox, approved_only=partner,
        area=scope_area(settings, scope),
    )
    cells = result.cells
    total = len(cells)
    cells = cells[: min(limit or settings.forecast_layer_limit, settings.forecast_layer_limit)]
    feats = [
        {
            "type": "Feature",
            "id": c["cell"],
            "geometry": cell_polygon(c["cell"]),
            "properties": {k: v for k, v in c.items() if k != "cell"},
        }
        for c in cells
    ]
    return http.response(
        http.collection(
            feats,
            numberMatched=total,
            numberReturned=len(feats),
            as_of=origin.isoformat(),
            horizon_days=horizon_days,
            mission=scope.code,
            area=result.area,
            method=result.method,
            selected_by=result.requested,
            why=result.why,
            calibration=result.calibration,
            expected_incidents_total=result.total,
            links=[{"rel": "self", "href": str(request.url), "type": http.GEOJSON},
                   {"rel": "describedby", "href": "/api/v1/forecast/model",
                    "type": "application/json"}],
        )
    )


def _methods(value: str | None) -> list[str] | None:
    return [m.strip() for m in value.split(",") if m.strip()] if value else None


@router.get("/model", summary="Model card: which model serves, why, and its backtest figures",
            response_model=ModelCard)
async def model(
    session: ReadSessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    scope: ScopeDep,
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution 4-9")] = 6,
    horizon: Annotated[str, Query(max_length=20, description="quarter or 4weeks")] = "quarter",
) -> Response:
    """The model `auto` serves for the mission's area (or the AOR), resolution and horizon, why
    (the nested backtest's choice), its figures out of sample with every baseline beside them
    and the ceiling, the reliability of its probabilities, how often its 80 % intervals held,
    and the plans' backtested forecast weight. Without a stored backtest: what serves instead,
    and why."""
    card = await svc.model_card(session, settings, res, horizon, scope_area(settings, scope))
    return http.json_response(card)


@router.get("/backtest", summary="Rolling-origin backtest of every method (slow; cached)",
            response_model=Backtest)
async def backtest(
    session: ReadSessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*BACKTESTERS))],
    scope: ScopeDep,
    start: Annotated[str, Query(description="first origin on or after this date")],
    end: Annotated[str, Query(description="last origin on or before this date")],
    res: Annotated[int, Query(ge=4, le=7)] = 6,
    horizon: Annotated[str, Query(max_length=20, description="quarter or 4weeks")] = "quarter",
    methods: Annotated[
        str | None, Query(max_length=500,
                          description="comma-separated; baselines and auto always run")
    ] = None,
) -> Response:
    s, e = parse_instant(start, "start"), parse_instant(end, "end")
    if s is None or e is None:
        raise InvalidInput(
            "start and end are required", errors=[{"pointer": "/query/start", "detail": "ISO date"}]
        )
    area = scope_area(settings, scope)
    periods, chosen = svc.backtest_plan(
        res, horizon, s.date(), e.date(), _methods(methods), settings
    )
    ev, stamp = await svc.load_backtest_events(session, res, periods[-1][1], settings, area)
    key = (
        area.code,
        res,
        horizon,
        periods[0][0],
        periods[-1][0],
        tuple(chosen),
        stamp,
        settings.forecast_decay_scale_days,
        settings.forecast_max_location_radius_m,
        settings.forecast_selection_warmup,
        settings.forecast_selection_min_origins,
        settings.forecast_calibration_origins,
        scope.key,
    )
    result = svc.cached_backtest(key)
    if result is None:
        result = svc.json_ready(await anyio.to_thread.run_sync(
            lambda: svc.run_backtest(ev, res, horizon, periods, chosen, settings, area=area)
        ))
        svc.store_backtest(key, result)
    return http.json_response(result)
