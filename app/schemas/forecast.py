"""Documented shapes of the forecast responses (built as plain dicts by the router)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.incidents import Link


class ForecastProperties(BaseModel):
    resolution: int
    expected_incidents: float = Field(ge=0)
    expected_harm: float = Field(ge=0)
    p_incident: float = Field(ge=0, le=1, description="P(at least one incident) in the horizon")
    expected_incidents_low: int | None = Field(default=None, ge=0,
                                               description="80 % interval, low end")
    expected_incidents_high: int | None = Field(default=None, ge=0,
                                                description="80 % interval, high end")
    method: str


class ForecastFeature(BaseModel):
    type: Literal["Feature"]
    id: str = Field(description="H3 cell index")
    geometry: dict[str, Any]
    properties: ForecastProperties


class ForecastCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[ForecastFeature]
    numberMatched: int  # noqa: N815 (OGC spelling)
    numberReturned: int  # noqa: N815
    as_of: str
    horizon_days: int
    mission: str | None = Field(default=None, description="the mission asked for (clipped)")
    area: str = Field(description="the area forecast (mission code, with the AOR's id)")
    method: str
    selected_by: str = Field(description="what was asked for (auto: the backtest's choice)")
    why: str
    calibration: str
    expected_incidents_total: dict[str, float] = Field(
        description="expected incidents in the area (or bbox) with the 80 % interval")
    links: list[Link]


class Backtest(BaseModel):
    res: int
    horizon: str
    start: str
    end: str
    area: str
    max_location_radius_m: int
    decay_scale_days: float
    best_baseline: str
    methods: dict[str, dict[str, Any]] = Field(description="scores per method")
    ceiling: dict[str, Any] | None = None


class ModelCard(BaseModel):
    """Which model `auto` serves for an area, resolution and horizon, and why (docs/forecast.md)."""

    model_config = {"extra": "allow"}

    area: str
    res: int
    horizon: str
    horizon_days: int
