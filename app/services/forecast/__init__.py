"""Forward-looking threat forecasts per H3 cell, and their honest rolling-origin backtest.

`forecast_layer` is the entry point other features use (patrol plans, footprint reviews).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import h3
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, InvalidInput
from app.repositories import forecast as repo
from app.repositories import hotspots as hotspot_repo
from app.services.forecast import backtest as bt
from app.services.forecast import methods as M
from app.services.forecast.features import event_frame, to_days
from app.services.missions import clip
from app.services.missions.profile import Mission, fallback
from app.settings import Settings

MIN_RES, MAX_RES = 4, 9
DOMAIN_ENUM_MAX_RES = 7  # finer domains are counted from res 7 (7 children per cell)


class NoData(DomainError):
    status, kind, title = 404, "no-forecast-data", "No data to forecast from"


class BeforeHistory(DomainError):
    status, kind, title = 422, "forecast-before-history", "Forecast origin precedes all incidents"


def _bad(detail: str, name: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": f"/query/{name}", "detail": detail}])


def check_request(res: int, horizon_days: int, method: str | None) -> str | None:
    if not MIN_RES <= res <= MAX_RES:
        raise _bad(f"res must be between {MIN_RES} and {MAX_RES}", "res")
    if horizon_days <= 0:
        raise _bad("horizon_days must be a positive number of days", "horizon_days")
    if horizon_days > 366:
        raise _bad("horizon_days may be at most 366", "horizon_days")
    if method is not None and method not in M.METHODS:
        raise _bad(f"method must be one of {', '.join(M.METHODS)}", "method")
    return method


def forecast_area(settings: Settings, mission: Mission | None) -> Mission:
    """The area a forecast covers: the mission's area of operations (issue 13); without one,
    the default mission's (the bundled profile)."""
    m = mission if mission is not None and mission.area is not None else fallback(settings)
    if m.area is None:
        raise NoData("no mission area to forecast over: create a mission (kinga mission create)")
    return m


def domain_size(area: dict[str, Any], res: int) -> int:
    if res <= DOMAIN_ENUM_MAX_RES:
        return len(clip.domain_cells(area, res))
    return len(clip.domain_cells(area, DOMAIN_ENUM_MAX_RES)) * 7 ** (res - DOMAIN_ENUM_MAX_RES)


def clip_events(ev: Any, area: dict[str, Any] | None) -> Any:
    """Only the events whose cell lies in the area (by cell centre, as every clipped answer)."""
    if area is None or ev.empty:
        return ev
    cells = ev["cell"].to_numpy()
    uniq, inverse = np.unique(cells, return_inverse=True)
    return ev[clip.inside(area, uniq.tolist())[inverse]]


def _in_bbox(cells: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    x1, y1, x2, y2 = bbox
    out = np.zeros(len(cells), bool)
    for i, c in enumerate(cells):
        lat, lng = h3.cell_to_latlng(h3.int_to_str(int(c)))
        out[i] = x1 <= lng <= x2 and y1 <= lat <= y2
    return out


async def forecast_layer(
    session: AsyncSession,
    res: int,
    as_of: datetime,
    horizon_days: int,
    settings: Settings,
    method: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    approved_only: bool = False,
    mission: Mission | None = None,
    clip_area: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Forecast for [as_of, as_of + horizon_days) per cell, highest expected incidents first.

    Only incidents strictly before `as_of` are read. Cells far from any past incident are left
    out; they share the model's small uniform background (see docs/forecast.md).
    `approved_only` trains on approved incidents alone (what partners may know of).
    The area term is `mission`'s area of operations (the default mission's without one); with
    `clip_area` (a named mission's area or an AOR) only incidents and cells inside it count.
    """
    area = forecast_area(settings, mission).area
    assert area is not None
    method = check_request(res, horizon_days, method) or settings.forecast_default_method
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    first, _last, _coarse = await repo.span(session, settings.forecast_max_location_radius_m)
    if first is None:
        raise NoData("there are no incidents to forecast from")
    if as_of <= first:
        raise BeforeHistory(
            f"as_of must be after the first incident ({first.date().isoformat()})",
            errors=[
                {"pointer": "/query/as_of", "detail": "must be after the first recorded incident"}
            ],
        )
    rows = await repo.events(
        session,
        res,
        max_radius_m=settings.forecast_max_location_radius_m,
        before=as_of,
        statuses=["approved"] if approved_only else None,
    )
    ev = clip_events(event_frame(rows), clip_area)
    if bbox is not None and not _in_bbox(ev["cell"].to_numpy(), bbox).any():
        raise NoData(
            "no incident before as_of lies in this area; nothing to forecast from",
            errors=[{"pointer": "/query/bbox", "detail": "no incidents in this area"}],
        )
    if ev.empty:
        raise NoData("no incident located precisely enough lies before as_of")
    params = M.Params(
        n_domain=domain_size(area, res),
        decay_scale_days=settings.forecast_decay_scale_days,
        calibration=settings.forecast_count_calibration,
    )
    fc = M.compute(method, ev, to_days(as_of), float(horizon_days), params)
    keep = np.ones(len(fc.cells), bool) if bbox is None else _in_bbox(fc.cells, bbox)
    if clip_area is not None:
        keep &= clip.inside(clip_area, fc.cells.tolist())
    order = np.argsort(-fc.expected_incidents[keep], kind="stable")
    cells = fc.cells[keep][order]
    ei, eh, p = (a[keep][order] for a in (fc.expected_incidents, fc.expected_harm, fc.p_incident))
    return [
        {
            "cell": h3.int_to_str(int(c)),
            "resolution": res,
            "expected_incidents": round(float(ei[i]), 6),
            "expected_harm": round(float(eh[i]), 4),
            "p_incident": round(float(p[i]), 6),
            "method": method,
        }
        for i, c in enumerate(cells)
    ]


_BACKTEST_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
BACKTEST_MAX_RES = DOMAIN_ENUM_MAX_RES


def backtest_plan(
    res: int,
    horizon: str,
    start: date,
    end: date,
    methods: list[str] | None,
    settings: Settings,
    *,
    limit_origins: bool = True,
) -> tuple[list[tuple[datetime, datetime]], list[str]]:
    """Validate a backtest request; return its periods and the methods to score. The HTTP
    endpoint limits the number of origins; the CLI (offline, with a progress bar) does not."""
    if not MIN_RES <= res <= BACKTEST_MAX_RES:
        raise _bad(f"backtest res must be between {MIN_RES} and {BACKTEST_MAX_RES}", "res")
    if horizon not in settings.forecast_horizon_days:
        raise _bad(f"horizon must be one of {', '.join(settings.forecast_horizon_days)}", "horizon")
    if end < start:
        raise _bad("end is before start", "end")
    chosen = methods or list(M.METHODS)
    bad = [m for m in chosen if m not in M.METHODS]
    if bad:
        raise _bad(f"unknown method(s) {', '.join(bad)}; one of {', '.join(M.METHODS)}", "methods")
    periods = bt.origins(start, end, horizon)
    if not periods:
        raise _bad("no forecast origin lies between start and end", "start")
    if limit_origins and len(periods) > settings.forecast_backtest_max_origins:
        raise _bad(
            f"{len(periods)} origins; at most {settings.forecast_backtest_max_origins} "
            "per backtest (narrow start/end)",
            "start",
        )
    # Baselines always run beside the models.
    chosen = list(dict.fromkeys([*chosen, *M.BASELINES]))
    return periods, chosen


async def load_backtest_events(
    session: AsyncSession, res: int, end: datetime, settings: Settings,
    clip_area: dict[str, Any] | None = None,
) -> tuple[Any, tuple[Any, ...]]:
    """Events for a backtest and the stamp of the data they came from (part of the cache key).

    The stamp is read *before* the events, so a cached result is never older than its key: a write
    landing between the two reads makes the stamp older, never the data. The data version
    (migration 0005) is one row; the full-table fingerprint is only a fallback without it."""
    version = await hotspot_repo.data_version(session)
    stamp: tuple[Any, ...] = (
        ("version", *version) if version is not None else ("scan", *await repo.fingerprint(session))
    )
    rows = await repo.events(
        session, res, max_radius_m=settings.forecast_max_location_radius_m, before=end
    )
    return clip_events(event_frame(rows), clip_area), stamp


def run_backtest(
    ev: Any,
    res: int,
    horizon: str,
    periods: list[tuple[datetime, datetime]],
    methods: list[str],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
    mission: Mission | None = None,
) -> dict[str, Any]:
    """Pure: score `methods` over `periods` on the events given (CPU-bound; run off the loop),
    over the cells of the mission's area (the default mission's without one)."""
    m = forecast_area(settings, mission)
    assert m.area is not None
    domain = clip.domain_cells(m.area, res)
    params = M.Params(
        n_domain=len(domain),
        decay_scale_days=settings.forecast_decay_scale_days,
        calibration=settings.forecast_count_calibration,
    )
    def bind(method: str) -> bt.Method:
        return lambda e, o, h: M.compute(method, e, o, h, params)

    fns = {m: bind(m) for m in methods}
    result = bt.run(ev, domain, periods, fns, progress=progress)
    best_baseline = max(M.BASELINES, key=lambda m: result["methods"][m]["pai_1pct"] or 0)
    return {
        "res": res,
        "horizon": horizon,
        "start": periods[0][0].date().isoformat(),
        "end": periods[-1][1].date().isoformat(),
        "area": m.code if m.stored or not m.countries else ",".join(m.countries),
        "max_location_radius_m": settings.forecast_max_location_radius_m,
        "decay_scale_days": settings.forecast_decay_scale_days,
        "count_calibration": settings.forecast_count_calibration,
        "best_baseline": best_baseline,
        **result,
    }


def cached_backtest(key: tuple[Any, ...]) -> dict[str, Any] | None:
    return _BACKTEST_CACHE.get(key)


def store_backtest(key: tuple[Any, ...], result: dict[str, Any]) -> None:
    if len(_BACKTEST_CACHE) >= 32:
        _BACKTEST_CACHE.pop(next(iter(_BACKTEST_CACHE)))
    _BACKTEST_CACHE[key] = result
