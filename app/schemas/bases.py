"""Request and response models for mission bases (Create / Update / Public)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from app.schemas.common import RequestModel, ResponseModel, SaneDate, refuse_nulls

BaseKind = Literal["mission_hq", "sector_hq", "company_operating_base",
                   "temporary_operating_base", "field_office", "police_post"]
PerDay = Field(default=0, ge=0, le=1000, description="patrols per day")
ReachKm = Field(default=None, ge=0, le=2000, allow_inf_nan=False,
                description="dry-season reach in km; null = from the configured speeds")


class BaseCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    kind: BaseKind
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    opened_on: SaneDate
    closed_on: SaneDate | None = Field(default=None, description="last day active; null = open")
    troops: int = Field(default=0, ge=0, le=100_000)
    road_patrols_per_day: int = PerDay
    foot_patrols_per_day: int = PerDay
    air_patrols_per_day: int = PerDay
    qrf_standby: int = Field(default=0, ge=0, le=100, description="quick reaction forces at 15 min")
    road_reach_km: float | None = ReachKm
    foot_reach_km: float | None = ReachKm
    air_reach_km: float | None = ReachKm
    notes: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _period(self) -> BaseCreate:
        if self.closed_on is not None and self.closed_on < self.opened_on:
            raise ValueError("closed_on is before opened_on")
        return self


class BaseUpdate(RequestModel):
    """Fields left out keep their value; `closed_on`, the reaches and `notes` may be set to null,
    the others may not."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: BaseKind | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    opened_on: SaneDate | None = None
    closed_on: SaneDate | None = None
    troops: int | None = Field(default=None, ge=0, le=100_000)
    road_patrols_per_day: int | None = Field(default=None, ge=0, le=1000)
    foot_patrols_per_day: int | None = Field(default=None, ge=0, le=1000)
    air_patrols_per_day: int | None = Field(default=None, ge=0, le=1000)
    qrf_standby: int | None = Field(default=None, ge=0, le=100)
    road_reach_km: float | None = ReachKm
    foot_reach_km: float | None = ReachKm
    air_reach_km: float | None = ReachKm
    notes: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _both_coordinates(self) -> BaseUpdate:
        refuse_nulls(self, NOT_NULL_BASE_FIELDS)
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give latitude and longitude together")
        return self


NOT_NULL_BASE_FIELDS = ("name", "kind", "latitude", "longitude", "opened_on", "troops",
                        "road_patrols_per_day", "foot_patrols_per_day", "air_patrols_per_day",
                        "qrf_standby")


class BasePublic(BaseModel):
    id: UUID
    name: str
    kind: BaseKind
    latitude: float
    longitude: float
    opened_on: date
    closed_on: date | None
    troops: int | None = None
    road_patrols_per_day: int | None = None
    foot_patrols_per_day: int | None = None
    air_patrols_per_day: int | None = None
    qrf_standby: int | None = None
    road_reach_km: float | None = None
    foot_reach_km: float | None = None
    air_reach_km: float | None = None
    notes: str | None = None
    external_source: str | None = None
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class BaseList(BaseModel):
    items: list[BasePublic]
    numberReturned: int


class BaseFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any] = Field(description="GeoJSON Point")
    properties: dict[str, Any]


class BaseCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[BaseFeature]
    numberMatched: int  # noqa: N815 (OGC spelling)
    numberReturned: int  # noqa: N815
    as_of: str | None = None


class BasesImported(ResponseModel):
    """A Geo-PKO deployments file imported (POST /api/v1/bases/imports)."""

    read: int = Field(description="sites and periods read from the file")
    inserted: int = Field(description="bases stored")
    already_present: int = Field(description="read but already stored (the import is idempotent)")
    places: int = Field(description="sites added to the gazetteer")
    mission: str | None = Field(description="the mission whose rows were imported (None: all)")
