"""Documented shapes of the hotspot responses (for OpenAPI; responses are built as plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Geometry, ResponseModel


class Trend(BaseModel):
    slope: float = Field(description="least-squares slope of credible events per step, per step")
    direction: Literal["increasing", "decreasing", "stable"]
    per: str


class CategoryCount(BaseModel):
    category: str
    incidents: int


class PerpetratorCount(BaseModel):
    name: str
    incidents: int


class HotspotProperties(BaseModel):
    cell: str = Field(description="H3 cell index")
    resolution: int
    threat_score: float = Field(ge=0, le=100)
    threat_level: Literal["low", "medium", "high", "critical"]
    protection_tier: Literal["must", "should", "could"]
    likelihood: float = Field(description="credibility-weighted, time-decayed event count")
    impact: float = Field(description="mean harm per credible event")
    crsv_impact: float
    vulnerability: float
    incidents: int
    fatalities: int | None = Field(description="null when suppressed for partners")
    crsv: int | None
    top_categories: list[CategoryCount]
    top_perpetrators: list[PerpetratorCount] = Field(description="empty for partners")
    trend: Trend
    pattern: str | None = Field(description="emerging hot-spot class (Esri definitions)")


class HotspotFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any]
    properties: HotspotProperties


class HotspotCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[HotspotFeature]
    numberReturned: int
    resolution: int
    start: str
    end: str


class WeekCount(BaseModel):
    week: str
    incidents: int | None
    fatalities: int | None
    crsv: int | None


class HotspotDetail(BaseModel):
    cell: str
    resolution: int
    geometry: dict[str, Any]
    properties: HotspotProperties | None
    weekly: list[WeekCount]
    categories: list[CategoryCount]
    perpetrators: list[PerpetratorCount]
    incidents: list[dict[str, Any]] | None = Field(description="absent for partners")


class LevelChange(BaseModel):
    cell: str
    level: Literal["low", "medium", "high", "critical"] | None = Field(
        description="the cell's level from this step on; null: it left the layer")


class SeriesStep(BaseModel):
    as_of: str
    changes: list[LevelChange]


class HotspotSeries(BaseModel):
    resolution: int
    start: str
    end: str
    step_days: int
    window_days: int
    steps: list[SeriesStep]


class ReportingEffortProperties(ResponseModel):
    cell: str = Field(description="H3 index")
    resolution: int
    reports: int = Field(description="reports in the window")
    sections: int = Field(description="sections that reported")
    sources: int = Field(description="independent sources")
    incidents: int
    history_mean: float = Field(description="reports per window in the windows before")
    neighbour_mean: float = Field(description="reports in the window, mean of the six neighbours")
    last_report: datetime | None
    status: Literal["none", "thin", "adequate"] = Field(description="none: a cell once reported "
                                                        "on is silent; unwatched is not safe")


class ReportingEffortFeature(ResponseModel):
    type: Literal["Feature"]
    id: str = Field(description="H3 index")
    geometry: Geometry
    properties: ReportingEffortProperties


class ReportingEffortCollection(ResponseModel):
    type: Literal["FeatureCollection"]
    features: list[ReportingEffortFeature]
    numberReturned: int  # noqa: N815 (OGC spelling)
