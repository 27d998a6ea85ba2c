"""Request models for missions and areas of responsibility (issue 13). Only the shape is
checked here; the profile's meaning (time zone, area, languages…) is checked by the service."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import DECAY_SCALE_MAX_DAYS, DECAY_SCALE_MIN_DAYS, Area, ResponseModel


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
    decay_scale_days: float | None = Field(default=None, ge=DECAY_SCALE_MIN_DAYS,
                                           le=DECAY_SCALE_MAX_DAYS, allow_inf_nan=False)
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


# --- answers ---------------------------------------------------------------------------------


class Season(ResponseModel):
    name: str
    months: list[int] = Field(description="1-12")
    speed_factor: dict[str, float] = Field(description="per travel mode (road, foot, air): the "
                                           "share of normal speed in this season")
    region: dict[str, Any] | None = Field(default=None, description="GeoJSON area the season "
                                          "holds in (absent: the whole mission)")


class MapView(ResponseModel):
    center: list[float] = Field(description="[latitude, longitude]")
    zoom: float


class MissionPublic(ResponseModel):
    """A mission's profile (GET/POST/PATCH /api/v1/missions…)."""

    code: str
    name: str
    timezone: str = Field(description="IANA time zone of the mission's dates and briefs")
    countries: list[str] = Field(description="ISO 3166 alpha-3 codes")
    area: Area | None = Field(description="GeoJSON MultiPolygon (None: the generic fallback)")
    seasons: list[Season]
    languages: list[str]
    cap_sender: str
    cap_identifier_prefix: str
    map_view: MapView | None
    decay_scale_days: float | None = Field(description="threat decay scale (None: the setting)")
    precision_decay: bool = Field(description="widen the decay by each event's date precision")
    un_names: list[str]
    armed_groups: list[str]
    gazetteer_files: list[str]
    aor_overlap: Literal["forbid", "allow"]
    stored: bool = Field(description="a stored mission (false: a bundled profile only)")


class MissionList(ResponseModel):
    items: list[MissionPublic]
    default: str = Field(description="code of the default mission")


class AorBase(ResponseModel):
    id: str
    name: str
    kind: str
    opened_on: date | None
    closed_on: date | None


class AorPublic(ResponseModel):
    id: str
    mission: str
    name: str
    kind: Literal["sector", "field_office"]
    parent: str | None = Field(description="the sector's name (field offices)")
    area: Area
    bases: list[AorBase] = Field(description="bases inside the area")


class AorList(ResponseModel):
    mission: str
    items: list[AorPublic]


class AorsImported(ResponseModel):
    mission: str
    imported: int
    created: int
    replaced: int = Field(description="AORs of the same name replaced")


class PlaceMatch(ResponseModel):
    query: str
    name: str
    score: float = Field(description="match score 0-100")
    mission: str | None = Field(description="the mission whose gazetteer holds it (None: shared)")
    source: str
    precision: int | None = Field(description="location precision class (1 exact … 5+ coarse)")
    latitude: float
    longitude: float


class PlaceSearch(ResponseModel):
    q: str
    mission: str | None
    items: list[PlaceMatch]
