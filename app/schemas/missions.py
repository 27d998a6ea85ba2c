"""Request models for missions and areas of responsibility (issue 13). Only the shape is
checked here; the profile's meaning (time zone, area, languages…) is checked by the service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SeasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    months: list[int] = Field(min_length=1, max_length=12)
    speed_factor: dict[str, float] = Field(default_factory=dict)
    region: dict[str, Any] | None = None


class MissionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    countries: list[str] | None = Field(default=None, max_length=20,
                                        description="ISO 3166 alpha-3 codes of bundled outlines")
    area: dict[str, Any] | None = Field(default=None, description="GeoJSON (Multi)Polygon")
    timezone: str | None = Field(default=None, max_length=64, description="IANA, e.g. Region/City")
    seasons: list[SeasonIn] | None = Field(default=None, max_length=24)
    languages: list[str] | None = Field(default=None, max_length=12)
    cap_sender: str | None = Field(default=None, max_length=200)
    cap_identifier_prefix: str | None = Field(default=None, max_length=64)
    map_view: dict[str, Any] | None = None
    decay_scale_days: float | None = Field(default=None, gt=0, le=3650, allow_inf_nan=False)
    precision_decay: bool | None = None
    un_names: list[str] | None = Field(default=None, max_length=50)
    armed_groups: list[str] | None = Field(default=None, max_length=500)
    aor_overlap: Literal["forbid", "allow"] | None = None


class MissionCreate(MissionFields):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9_-]{1,31}$")
    timezone: str = Field(max_length=64, description="IANA, e.g. Region/City")


class MissionUpdate(MissionFields):
    pass


class AorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["sector", "field_office"] = "field_office"
    parent: str | None = Field(default=None, max_length=200, description="the sector's name")
    area: dict[str, Any] = Field(description="GeoJSON (Multi)Polygon inside the mission's area")


class AorImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aors: list[AorIn] = Field(min_length=1, max_length=500)
