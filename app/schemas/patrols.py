"""Requests for patrol plans and footprint reviews."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Mode = Literal["road", "foot", "air"]


class CapacityOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_id: UUID
    mode: Mode
    patrols_per_day: int = Field(ge=0, le=1000)


class Area(BaseModel):
    """Shared by plans and reviews: the dated threat picture they work on."""

    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="the analysis date: that day's bases, incidents up to it")
    window_days: int | None = Field(default=None, ge=7, le=3650,
                                    description="threat window ending on as_of")
    res: int | None = Field(default=None, ge=4, le=9, description="H3 resolution of target cells")
    bbox: list[float] | None = Field(default=None, min_length=4, max_length=4,
                                     description="minLon, minLat, maxLon, maxLat")
    use_forecast: bool = False
    forecast_method: str | None = Field(default=None, max_length=40)

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        x1, y1, x2, y2 = v
        if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
            raise ValueError("bbox must be minLon, minLat, maxLon, maxLat within WGS84")
        return v


class PatrolPlanRequest(Area):
    horizon_days: int = Field(ge=1, le=90, description="days the plan covers")
    base_ids: list[UUID] | None = Field(default=None, max_length=500,
                                        description="plan for these bases only")
    capacity_overrides: list[CapacityOverride] = Field(default_factory=list, max_length=1500)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="randomise among near-equal cells, reproducibly")
    solver: Literal["milp", "greedy"] = "milp"


class CandidateSite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class FootprintReviewRequest(Area):
    horizon_days: int = Field(default=28, ge=1, le=366, description="forecast horizon")
    p: int = Field(default=3, ge=0, le=20, description="new temporary bases to propose")
    include_air: bool = Field(default=False,
                              description="count air reach in a base's footprint (default: ground)")
    candidates: list[CandidateSite] | None = Field(
        default=None, max_length=500,
        description="candidate towns; default: the centres of the highest-threat uncovered cells")


class PatrolPlanSave(PatrolPlanRequest):
    """A plan request that may be kept as a record (issue 15)."""

    save: bool = Field(default=False, description="keep the plan as a record (201 with its id); "
                                                  "its tasks can then be reported")
    supersedes: UUID | None = Field(default=None, description="the saved plan this one replaces "
                                                              "(it becomes the next version)")


ReportStatus = Literal["done", "partly", "not_done"]


class PatrolReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ReportStatus
    started_at: AwareDatetime | None = Field(default=None, description="required unless not_done")
    ended_at: AwareDatetime | None = None
    observations: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=2000,
                               description="why the patrol was not (fully) done; required unless done")
    civilians_engaged: int | None = Field(default=None, ge=0, le=1_000_000)
    incident_ids: list[UUID] = Field(default_factory=list, max_length=50,
                                     description="incidents the patrol found (reported)")
