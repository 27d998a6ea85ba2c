"""Requests for information requirements (IRs, PIRs, CCIRs), and the answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.domain import Category, Section
from app.schemas.common import Area, ResponseModel


class InformationRequirementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=1, max_length=40,
                             description="the mission's own reference, e.g. PIR-3")
    kind: Literal["ccir", "pir", "ir"] = "ir"
    question: str = Field(min_length=5, max_length=2000)
    priority: int = Field(default=2, ge=1, le=3, description="1 highest")
    area: dict[str, Any] | None = Field(default=None,
                                        description="GeoJSON Polygon or MultiPolygon (WGS84)")
    aor: str | None = Field(default=None, min_length=1, max_length=100,
                            description="an area of responsibility instead of an area")
    mission: str | None = Field(default=None, max_length=40)
    categories: list[Category] = Field(default_factory=list, max_length=20,
                                       description="at least one category of interest")
    perpetrators: list[str] = Field(default_factory=list, max_length=50,
                                    description="names of interest (matched case-insensitively)")
    crsv: bool = Field(default=False, description="a CRSV requirement (also implied by the "
                       "sexual_violence category)")
    frequency_days: int = Field(ge=1, le=366, description="at least one report every N days")
    owner_section: Section


# --- answers ---------------------------------------------------------------------------------


class InformationRequirement(ResponseModel):
    id: UUID
    code: str | None = Field(description="the mission's own reference, e.g. PIR-3")
    kind: Literal["ccir", "pir", "ir"]
    question: str
    priority: int = Field(description="1 highest … 3")
    aor: str | None = Field(description="the area of responsibility it was set on, if any")
    mission: str | None
    categories: list[str]
    perpetrators: list[str]
    crsv: bool
    frequency_days: int = Field(description="at least one report every N days")
    owner_section: str
    active: bool
    created_by: str
    created_at: datetime
    area: Area | None = Field(description="GeoJSON MultiPolygon (WGS84)")


class InformationRequirementList(ResponseModel):
    items: list[InformationRequirement]
    numberReturned: int  # noqa: N815 (OGC spelling)


class GapPeriod(ResponseModel):
    start: datetime
    end: datetime
    reports: int


class RequirementGap(ResponseModel):
    id: UUID
    code: str | None
    kind: Literal["ccir", "pir", "ir"]
    question: str
    priority: int
    crsv: bool
    owner_section: str
    frequency_days: int
    categories: list[str]
    status: Literal["met", "gap", "no reporting"]
    in_gap: bool
    periods: list[GapPeriod] = Field(description="oldest first, each `frequency_days` long")
    periods_missed: int
    reports: int
    last_report: datetime | None
    days_since_last_report: float | None
    sections: dict[str, int] = Field(description="reports per section, most first")


class GapReport(ResponseModel):
    as_of: datetime
    periods: int
    in_gap: int
    total: int
    items: list[RequirementGap] = Field(description="in gap first (CRSV first among them)")
