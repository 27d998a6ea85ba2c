"""Forward-looking threat forecasts per H3 cell, the rolling-origin backtest that chooses which
model serves each area (nested: every choice uses only earlier origins), and the model card that
says so.

`forecast_result` / `forecast_layer` are the entry points other features use (patrol plans,
footprint reviews, scenarios); `run_backtest` and `build_card` are what `kinga backtest` runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import h3
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.repositories import forecast as repo
from app.repositories import hotspots as hotspot_repo
from app.services.forecast import backtest as bt
from app.services.forecast import methods as M
from app.services.forecast.area import ForecastArea, forecast_area
from app.services.forecast.calibration import Rolling
from app.services.forecast.errors import BeforeHistory, NoData
from app.services.forecast.features import event_frame, to_days
from app.settings import Settings

MIN_RES, MAX_RES = 4, 9
DOMAIN_ENUM_MAX_RES = 7  # finer domains are counted from res 7 (7 children per cell)
SELECTOR = "auto"
# Preference among equally good candidates: the simplest first.
CANDIDATE_ORDER = ("decay", "history", "last_365d", "last_90d", "etas", "blend", "count",
                   "count_spatial", "stack")
# A model card's calibration is applied to a request whose horizon is within this share of the
# card's (a quarter card serves 87-95 days): counts over another span are another distribution.
HORIZON_MATCH = 0.05


def _bad(detail: str, name: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": f"/query/{name}", "detail": detail}])


def method_names() -> tuple[str, ...]:
    return (SELECTOR, *M.METHODS)


def check_request(res: int, horizon_days: int, method: str | None) -> str | None:
    if not MIN_RES <= res <= MAX_RES:
        raise _bad(f"res must be between {MIN_RES} and {MAX_RES}", "res")
    if horizon_days <= 0:
        raise _bad("horizon_days must be a positive number of days", "horizon_days")
    if horizon_days > 366:
        raise _bad("horizon_days may be at most 366", "horizon_days")
    if method is not None and method not in method_names():
        raise _bad(f"method must be one of {', '.join(method_names())}", "method")
    return method


def domain_size(area: ForecastArea, res: int) -> int:
    if res <= DOMAIN_ENUM_MAX_RES:
        return len(area.cells(res))
    return len(area.cells(DOMAIN_ENUM_MAX_RES)) * 7 ** (res - DOMAIN_ENUM_MAX_RES)


def _in_bbox(cells: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    x1, y1, x2, y2 = bbox
    out = np.zeros(len(cells), bool)
    for i, c in enumerate(cells):
        lat, lng = h3.cell_to_latlng(h3.int_to_str(int(c)))
        out[i] = x1 <= lng <= x2 and y1 <= lat <= y2
    return out


@lru_cache(maxsize=64)
def _domain_in_bbox(area: ForecastArea, res: int, bbox: tuple[float, float, float, float]) -> int:
    """How many of the area's cells have their centre in bbox (counted at res <= 6, scaled)."""
    r = min(res, 6)
    n = int(_in_bbox(area.cells(r), bbox).sum())
    return n * 7 ** (res - r)


# --- which model serves ----------------------------------------------------------------------


@dataclass
class Served:
    """The method computed for a request and what stands behind the choice."""

    method: str
    requested: str
    why: str
    calibration: Rolling | None = None
    card: dict[str, Any] | None = None

    @property
    def calibration_note(self) -> str:
        if self.calibration is not None:
            return f"rolling out-of-time ({self.calibration.origins} earlier origins)"
        return "none (Poisson)" if self.method in M.BASELINES else "internal held-out"


def _card_for(cards: list[dict[str, Any]], horizon_days: int) -> tuple[dict[str, Any] | None, bool]:
    """The card whose horizon is nearest to the request's, and whether it matches it."""
    if not cards:
        return None, False
    best = min(cards, key=lambda c: abs(int(c["horizon_days"]) - horizon_days))
    matches = abs(int(best["horizon_days"]) - horizon_days) <= HORIZON_MATCH * int(
        best["horizon_days"]
    )
    return best, matches


async def served_method(
    session: AsyncSession, settings: Settings, area: ForecastArea, res: int, horizon_days: int,
    method: str | None,
) -> Served:
    requested = method or settings.forecast_default_method
    card_row, matches = _card_for(await repo.cards(session, area.code, res), horizon_days)
    card = card_row["card"] if card_row is not None else None
    if requested == SELECTOR:
        if card is None:
            chosen = settings.forecast_fallback_method
            why = (
                f"no backtest is stored for area {area.code} at res {res}: serving the fallback "
                f"{chosen!r} (KINGA_FORECAST_FALLBACK_METHOD). Run `kinga backtest --res {res} "
                f"--mission {area.code} …` to choose by backtest."
            )
        else:
            chosen = str(card["serving"]["method"])
            why = str(card["serving"]["why"])
            if not matches:
                why += (f" (the card is for {card_row['horizon_days']}-day periods; its "  # type: ignore[index]
                        f"calibration does not apply to {horizon_days} days)")
    else:
        chosen, why = requested, "asked for by name"
    cal = None
    if card is not None and matches and chosen not in M.BASELINES:
        raw = (card.get("calibrations") or {}).get(chosen)
        cal = Rolling.from_dict(raw) if raw else None
    return Served(chosen, requested, why, cal, card)


# --- the forecast layer ----------------------------------------------------------------------


@dataclass
class ForecastResult:
    cells: list[dict[str, Any]]
    method: str
    requested: str
    why: str
    calibration: str
    total: dict[str, float]  # expected incidents in the area (or bbox) with the 80 % interval
    area: str
    extras: dict[str, Any] = field(default_factory=dict)


async def forecast_result(
    session: AsyncSession,
    res: int,
    as_of: datetime,
    horizon_days: int,
    settings: Settings,
    method: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    approved_only: bool = False,
    area: ForecastArea | None = None,
) -> ForecastResult:
    """Forecast for [as_of, as_of + horizon_days) per cell, highest expected incidents first,
    with the 80 % interval per cell and for the area (or bbox) as a whole.

    Only incidents strictly before `as_of` are read. Cells far from any past incident are left
    out; they share the model's small uniform floor (counted in the area total).
    `approved_only` trains on approved incidents alone (what partners may know of)."""
    check_request(res, horizon_days, method)
    area = area or forecast_area(settings)
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
        session, res, max_radius_m=settings.forecast_max_location_radius_m, before=as_of,
        statuses=["approved"] if approved_only else None, bbox=area.event_bbox,
    )
    ev = event_frame(rows)
    if bbox is not None and not _in_bbox(ev["cell"].to_numpy(), bbox).any():
        raise NoData(
            "no incident before as_of lies in this area; nothing to forecast from",
            errors=[{"pointer": "/query/bbox", "detail": "no incidents in this area"}],
        )
    if ev.empty:
        raise NoData("no incident located precisely enough lies before as_of")
    served = await served_method(session, settings, area, res, horizon_days, method)
    n_domain = domain_size(area, res)
    params = M.Params(
        n_domain=n_domain,
        decay_scale_days=settings.forecast_decay_scale_days,
        calibration=settings.forecast_count_calibration,
        internal_calibration=served.calibration is None,
    )
    fc = M.compute(served.method, ev, to_days(as_of), float(horizon_days), params)
    if served.calibration is not None:
        fc = fc.calibrated(served.calibration)
    keep = np.ones(len(fc.cells), bool) if bbox is None else _in_bbox(fc.cells, bbox)
    keep &= area.inside(fc.cells)  # a named mission or AOR: only its cells
    order = np.lexsort((-fc.score[keep], -fc.expected_incidents[keep]))  # most likely first
    cells = fc.cells[keep][order]
    ei, eh, p = (a[keep][order] for a in (fc.expected_incidents, fc.expected_harm, fc.p_incident))
    lo, hi = (a[keep][order] for a in fc.interval())
    n_area = n_domain if bbox is None else _domain_in_bbox(area, res, bbox)
    n_floor = max(n_area - int(keep.sum()), 0)
    total = float(ei.sum()) + fc.floor_incidents * n_floor
    sum_sq = float((ei**2).sum()) + fc.floor_incidents**2 * n_floor
    if fc.rolling is not None:
        t, t_lo, t_hi = fc.rolling.total_interval_of(total, sum_sq)
    else:
        from app.services.forecast.calibration import poisson_total_interval

        t, t_lo, t_hi = poisson_total_interval(np.array([total]))
    out = [
        {
            "cell": h3.int_to_str(int(c)),
            "resolution": res,
            "expected_incidents": round(float(ei[i]), 6),
            "expected_incidents_low": int(lo[i]),
            "expected_incidents_high": int(hi[i]),
            "expected_harm": round(float(eh[i]), 4),
            "p_incident": round(float(p[i]), 6),
            "method": served.method,
        }
        for i, c in enumerate(cells)
    ]
    return ForecastResult(
        out, served.method, served.requested, served.why, served.calibration_note,
        {"expected": round(t, 2), "low": t_lo, "high": t_hi}, area.code,
    )


async def forecast_layer(
    session: AsyncSession,
    res: int,
    as_of: datetime,
    horizon_days: int,
    settings: Settings,
    method: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    approved_only: bool = False,
    area: ForecastArea | None = None,
) -> list[dict[str, Any]]:
    """The cells of `forecast_result` (what plans and reviews weigh)."""
    result = await forecast_result(
        session, res, as_of, horizon_days, settings, method, bbox, approved_only, area
    )
    return result.cells


# --- backtests ---------------------------------------------------------------------------------

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
    chosen = [m for m in (methods or list(M.METHODS)) if m != SELECTOR]
    bad = [m for m in chosen if m not in M.METHODS]
    if bad:
        raise _bad(
            f"unknown method(s) {', '.join(bad)}; one of {', '.join(method_names())}", "methods"
        )
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


def backtest_steps(periods: list[tuple[datetime, datetime]], settings: Settings) -> int:
    """Origins a backtest computes (the scored ones and the selection's warm-up)."""
    return len(periods) + settings.forecast_selection_warmup


async def load_backtest_events(
    session: AsyncSession, res: int, end: datetime, settings: Settings,
    area: ForecastArea | None = None,
) -> tuple[Any, tuple[Any, ...]]:
    """Events for a backtest and the stamp of the data they came from (part of the cache key).

    The stamp is read *before* the events, so a cached result is never older than its key: a write
    landing between the two reads makes the stamp older, never the data. The data version
    (migration 0005) is one row; the full-table fingerprint is only a fallback without it."""
    area = area or forecast_area(settings)
    version = await hotspot_repo.data_version(session)
    stamp: tuple[Any, ...] = (
        ("version", *version) if version is not None else ("scan", *await repo.fingerprint(session))
    )
    rows = await repo.events(
        session, res, max_radius_m=settings.forecast_max_location_radius_m, before=end,
        bbox=area.event_bbox,
    )
    return event_frame(rows), stamp


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, nd)


def run_backtest(
    ev: Any,
    res: int,
    horizon: str,
    periods: list[tuple[datetime, datetime]],
    methods: list[str],
    settings: Settings,
    progress: Callable[[int], None] | None = None,
    area: ForecastArea | None = None,
) -> dict[str, Any]:
    """Pure: score `methods` and `auto` (the nested selection among them) over `periods` on the
    events given (CPU-bound; run off the loop). The result keeps the scored origins' `auto`
    forecasts under `_forecasts` for callers that plan with them (not serialisable)."""
    area = area or forecast_area(settings)
    domain = area.cells(res)
    params = M.Params(
        n_domain=len(domain),
        decay_scale_days=settings.forecast_decay_scale_days,
        calibration=settings.forecast_count_calibration,
        internal_calibration=False,
    )

    def bind(method: str) -> bt.Method:
        return lambda e, o, h: M.compute(method, e, o, h, params)

    fns = {m: bind(m) for m in methods}
    warm = bt.warmup_periods(periods, horizon, settings.forecast_selection_warmup)
    candidates = tuple(m for m in CANDIDATE_ORDER if m in methods)
    selection = bt.Selection(
        candidates,
        default=settings.forecast_selection_default
        if settings.forecast_selection_default in candidates else candidates[0],
        min_origins=settings.forecast_selection_min_origins,
        name=SELECTOR,
    )
    models = [m for m in methods if m in M.MODELS]
    # a missing warm-up step still moves the progress bar, so it ends at backtest_steps()
    if progress and len(warm) < settings.forecast_selection_warmup:
        progress(settings.forecast_selection_warmup - len(warm))
    result = bt.run(
        ev, domain, [*warm, *periods], fns, progress=progress, warmup=len(warm),
        calibrate=models, calibration_origins=settings.forecast_calibration_origins,
        selection=selection, keep=(SELECTOR,), p_map=settings.forecast_calibration_map,
    )
    scores = {m: result["methods"][m]["pai_1pct"] or 0.0 for m in M.BASELINES if m in methods}
    best_baseline = max(scores, key=lambda m: scores[m])
    shipped = result["methods"][SELECTOR]
    base_pai = result["methods"][best_baseline]["pai_1pct"]
    gap: dict[str, Any] = {}
    for name, c in result["ceiling"].items():
        ceil = c["pai_1pct"]
        gap[name] = (
            _r((shipped["pai_1pct"] - base_pai) / (ceil - base_pai), 3)
            if ceil is not None and base_pai is not None and ceil > base_pai else None
        )
    methods_out = {SELECTOR: result["methods"].pop(SELECTOR), **result["methods"]}
    return {
        "res": res,
        "horizon": horizon,
        "horizon_days": settings.forecast_horizon_days[horizon],
        "start": periods[0][0].date().isoformat(),
        "end": periods[-1][1].date().isoformat(),
        "area": area.code,
        "max_location_radius_m": settings.forecast_max_location_radius_m,
        "decay_scale_days": settings.forecast_decay_scale_days,
        "shipped": SELECTOR,
        "best_baseline": best_baseline,
        "shipped_vs_best_baseline": _r(shipped["pai_1pct"] / base_pai, 4) if base_pai else None,
        "gap_closed": gap,
        **{k: v for k, v in result.items() if k != "methods"},
        "methods": methods_out,
    }


def json_ready(result: dict[str, Any]) -> dict[str, Any]:
    """The backtest result without the in-memory forecasts, calibrations as plain dicts."""
    out = {k: v for k, v in result.items() if not k.startswith("_")}
    final = dict(out.get("final") or {})
    final["calibrations"] = {
        n: c.to_dict() for n, c in (final.get("calibrations") or {}).items()
    }
    out["final"] = final
    return out


def build_card(result: dict[str, Any], planning: dict[str, Any] | None = None) -> dict[str, Any]:
    """The model card from a backtest: what serves, why, the figures with the baselines beside
    them, the reliability of its probabilities, and the calibrations the service applies."""
    final = result.get("final") or {}
    chosen = str(final.get("chosen") or SELECTOR)
    scores = final.get("scores") or {}
    methods = result["methods"]
    best = result["best_baseline"]
    shipped = methods[SELECTOR]
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    why = (
        f"{chosen} had the best PAI@1% ({scores.get(chosen)}) pooled over the "
        f"{final.get('evaluated_origins')} origins backtested up to {result['end']} "
        f"(each forecast made with earlier data only); next: "
        + ", ".join(f"{n} {v}" for n, v in ranked[1:4])
        + f". Out of sample, auto (which re-chooses at every origin from earlier origins only) "
        f"scored PAI@1% {shipped['pai_1pct']} against the best baseline {best} "
        f"{methods[best]['pai_1pct']}."
    )

    def figures(m: dict[str, Any]) -> dict[str, Any]:
        keys = ("pai_1pct", "pai_5pct", "harm_capture_1pct", "harm_capture_5pct", "brier",
                "pai_1pct_mean_over_origins")
        return {k: m.get(k) for k in keys}

    return {
        "area": result["area"],
        "res": result["res"],
        "horizon": result["horizon"],
        "horizon_days": result["horizon_days"],
        "serving": {"method": chosen, "selected_by": SELECTOR, "why": why},
        "backtest": {
            "start": result["start"],
            "end": result["end"],
            "origins": result["origins"],
            "warmup_origins": result["warmup_origins"],
            "incidents": result["incidents"],
            "domain_cells": result["domain_cells"],
            "shipped": SELECTOR,
            "best_baseline": best,
            "shipped_vs_best_baseline": result["shipped_vs_best_baseline"],
            "methods": {n: figures(m) for n, m in methods.items()},
            "ceiling": result["ceiling"],
            "gap_closed": result["gap_closed"],
            "climatology_brier": result["climatology"]["brier"],
        },
        "selection": {
            "rule": (result.get("selection") or {}).get("rule"),
            "final_scores": scores,
            "counts": (result.get("selection") or {}).get("counts"),
        },
        "calibration": {
            "method": "isotonic P(>=1) and a mean scale fitted on the model's own forecasts at "
                      "the previous origins (out of time); negative-binomial 80 % intervals",
            "reliability": shipped.get("reliability"),
            "harm_reliability": shipped.get("harm_reliability"),
            "interval_80": shipped.get("interval_80"),
        },
        "calibrations": {
            n: c.to_dict() if isinstance(c, Rolling) else c
            for n, c in (final.get("calibrations") or {}).items()
        },
        "forecast_weight": planning,
    }


async def store_card(session: AsyncSession, card: dict[str, Any], data_version: int | None) -> None:
    import orjson

    await repo.save_card(
        session, card["area"], int(card["res"]), card["horizon"], int(card["horizon_days"]),
        data_version, orjson.dumps(card).decode(),
    )
    await session.commit()


async def model_card(
    session: AsyncSession, settings: Settings, res: int, horizon: str,
    area: ForecastArea | None = None,
) -> dict[str, Any]:
    """The card serving (area, res, horizon), or what serves without one and why."""
    if not MIN_RES <= res <= MAX_RES:
        raise _bad(f"res must be between {MIN_RES} and {MAX_RES}", "res")
    if horizon not in settings.forecast_horizon_days:
        raise _bad(f"horizon must be one of {', '.join(settings.forecast_horizon_days)}", "horizon")
    area = area or forecast_area(settings)
    days = settings.forecast_horizon_days[horizon]
    rows = [c for c in await repo.cards(session, area.code, res) if c["horizon"] == horizon]
    served = await served_method(session, settings, area, res, days, None)
    if not rows:
        return {
            "area": area.code, "res": res, "horizon": horizon, "horizon_days": days,
            "backtested": False,
            "serving": {"method": served.method, "selected_by": served.requested,
                        "why": served.why},
            "calibration": {"method": served.calibration_note},
        }
    row = rows[0]
    card = dict(row["card"])
    card.pop("calibrations", None)  # the maps themselves are for the service, not for readers
    current = await hotspot_repo.data_version(session)
    card.update(
        backtested=True,
        stored_at=row["created_at"].isoformat(),
        data_changed_since=(
            None if current is None or row["data_version"] is None
            else current[1] != int(row["data_version"])
        ),
    )
    return card


def cached_backtest(key: tuple[Any, ...]) -> dict[str, Any] | None:
    return _BACKTEST_CACHE.get(key)


def store_backtest(key: tuple[Any, ...], result: dict[str, Any]) -> None:
    if len(_BACKTEST_CACHE) >= 32:
        _BACKTEST_CACHE.pop(next(iter(_BACKTEST_CACHE)))
    _BACKTEST_CACHE[key] = result
