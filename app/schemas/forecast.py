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
    method: str
    links: list[Link]


class Backtest(BaseModel):
    res: int
    horizon: str
    start: str
    end: str
    area: str
    max_location_radius_m: int
    decay_scale_days: float
    count_calibration: str
    best_baseline: str
    origins: int
    domain_cells: int
    incidents: int
    methods: dict[str, dict[str, Any]] = Field(description="scores per method")
    ceiling: dict[str, Any] | None = None
