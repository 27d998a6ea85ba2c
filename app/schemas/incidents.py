"""Request and response models for incidents and reports (Create / Update / Public families)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from app.domain import Category, PerpetratorType, Section
from app.schemas.common import COUNT_MAX, ObservedAt, RequestModel, refuse_nulls

Reliability = Literal["A", "B", "C", "D", "E", "F"]
Perpetrator = Annotated[str, Field(min_length=1, max_length=200)]
Count = Field(default=0, ge=0, le=COUNT_MAX)


class ReportCreate(RequestModel):
    section: Section
    source_name: str | None = Field(default=None, max_length=200)
    source_reliability: Reliability
    information_credibility: int = Field(ge=1, le=6)
    source_count: int = Field(default=1, ge=1, le=1000)
    received_at: ObservedAt | None = None
    narrative: str | None = Field(default=None, max_length=20_000)
    reporter_ref: str | None = Field(
        default=None, max_length=500,
        description="Protected: encrypted at rest; read through the audited "
                    "POST /api/v1/incidents/{id}/reports/{report_id}/reporter")


class _Victims(RequestModel):
    fatalities_low: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    fatalities_best: int = Count
    fatalities_high: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    injured: int = Count
    crsv_survivors: int = Count
    children_affected: int = Count
    displaced: int = Count

    @model_validator(mode="after")
    def _fatality_order(self) -> _Victims:
        lo, best, hi = self.fatalities_low, self.fatalities_best, self.fatalities_high
        if lo is not None and lo > best:
            raise ValueError("fatalities_low must not exceed fatalities_best")
        if hi is not None and hi < best:
            raise ValueError("fatalities_high must not be below fatalities_best")
        return self


class IncidentCreate(_Victims):
    occurred_start: ObservedAt
    occurred_end: ObservedAt | None = None
    time_precision: int = Field(default=1, ge=1, le=5, description="1 exact day … 5 over a month")
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
    location_precision: int = Field(default=1, ge=1, le=7)
    location_radius_m: int = Field(default=0, ge=0, le=2_000_000)
    place_name: str | None = Field(default=None, max_length=200)
    admin1: str | None = Field(default=None, max_length=200)
    admin2: str | None = Field(default=None, max_length=200)
    category: Category
    subcategory: str | None = Field(default=None, max_length=200)
    perpetrators: list[Perpetrator] = Field(default_factory=list, max_length=20)
    perpetrator_type: PerpetratorType = PerpetratorType.unknown
    narrative: str | None = Field(default=None, max_length=20_000)
    report: ReportCreate

    @model_validator(mode="after")
    def _time_order(self) -> IncidentCreate:
        if self.occurred_end is not None and self.occurred_end < self.occurred_start:
            raise ValueError("occurred_end must not be before occurred_start")
        return self


class IncidentUpdate(RequestModel):
    """Fields left out keep their value; only the optional ones may be set to null."""

    occurred_start: ObservedAt | None = None
    occurred_end: ObservedAt | None = None
    time_precision: int | None = Field(default=None, ge=1, le=5)
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    location_precision: int | None = Field(default=None, ge=1, le=7)
    location_radius_m: int | None = Field(default=None, ge=0, le=2_000_000)
    place_name: str | None = Field(default=None, max_length=200)
    category: Category | None = None
    subcategory: str | None = Field(default=None, max_length=200)
    perpetrators: list[Perpetrator] | None = Field(default=None, max_length=20)
    perpetrator_type: PerpetratorType | None = None
    fatalities_low: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    fatalities_best: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    fatalities_high: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    injured: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    crsv_survivors: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    children_affected: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    displaced: int | None = Field(default=None, ge=0, le=COUNT_MAX)
    narrative: str | None = Field(default=None, max_length=20_000)

    @model_validator(mode="after")
    def _pairs(self) -> IncidentUpdate:
        refuse_nulls(self, NOT_NULL_INCIDENT_FIELDS)
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be changed together")
        return self


NOT_NULL_INCIDENT_FIELDS = (
    "occurred_start", "time_precision", "latitude", "longitude", "location_precision",
    "location_radius_m", "category", "perpetrators", "perpetrator_type", "fatalities_best",
    "injured", "crsv_survivors", "children_affected", "displaced")


class StatusChange(RequestModel):
    comment: str | None = Field(default=None, max_length=2000)


class ReportPublic(BaseModel):
    id: UUID
    section: Section
    source_reliability: Reliability
    information_credibility: int
    source_count: int
    received_at: datetime
    narrative: str | None = None
    source_name: str | None = Field(default=None, description="analysts only")
    has_reporter_ref: bool | None = Field(
        default=None, description="analysts only: a reporter reference is held (read it through "
                                  "the audited reveal)")


class IncidentPublic(BaseModel):
    """Fields a role may not see are absent from the response, not null."""

    id: UUID
    occurred_start: datetime
    occurred_end: datetime | None
    time_precision: int
    latitude: float
    longitude: float
    location_precision: int
    precision_scheme: str
    location_radius_m: int
    h3_cell: str
    category: Category
    subcategory: str | None
    perpetrator_type: PerpetratorType
    perpetrators: list[str] | None = Field(default=None, description="not for partners")
    # Per-incident counts: partners get null for a count under the suppression threshold
    # (KINGA_PARTNER_MIN_COUNT), and the incident at its partner-resolution cell's centroid.
    fatalities_low: int | None
    fatalities_best: int | None
    fatalities_high: int | None
    injured: int | None
    crsv_survivors: int | None
    children_affected: int | None
    displaced: int | None
    narrative: str | None = Field(default=None, description="not for partners")
    status: str
    quality_grade: Literal["a", "b", "c"]
    independent_sources: int
    reports: list[ReportPublic] | None = Field(default=None, description="not for partners")
    # Who entered it and who changed it last (analysts and admins). Who validated or approved it
    # is not stored on the incident: it is in its audit trail (GET /api/v1/incidents/{id}/audit).
    created_by: str | None = Field(default=None, description="who entered it (analysts, admins)")
    updated_by: str | None = Field(default=None, description="who changed it last (analysts, "
                                                              "admins)")
    external_source: str | None = Field(default=None, description="analysts, admins")
    external_id: str | None = Field(default=None, description="analysts, admins")


class IncidentPage(BaseModel):
    items: list[IncidentPublic]
    next: str | None
    numberReturned: int  # noqa: N815 (OGC spelling)


class IncidentCreated(BaseModel):
    id: UUID


class ReportAdded(BaseModel):
    id: UUID
    incident_id: UUID
    quality_grade: Literal["a", "b", "c"]
    independent_sources: int


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)


class IncidentFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: dict[str, Any] = Field(description="the incident's fields this role may see")


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class IncidentCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[IncidentFeature]
    numberMatched: int | None = None  # noqa: N815 (OGC spelling)
    numberReturned: int  # noqa: N815
    links: list[Link] = []
    next: str | None = None


class ImportReject(BaseModel):
    row: int
    external_id: str | None
    reason: str


class ImportResult(BaseModel):
    """One import run: rows refused one by one with their reasons, never the whole file."""

    id: UUID
    source: Literal["ucdp", "acled"]
    rows_read: int
    inserted: int
    duplicates: int
    rejected: int
    rejects: list[ImportReject] = Field(description="the first 1000")
