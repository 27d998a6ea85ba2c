"""Requests for information requirements (IRs, PIRs, CCIRs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain import Category, Section


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
