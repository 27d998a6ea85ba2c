"""Alert, warning and response request models, and the normalised alert every format maps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.domain import Category

Format = Literal["json", "cap", "sms"]
ALL_FORMATS: tuple[Format, ...] = ("json", "cap", "sms")
ResponseType = Literal[
    "patrol", "quick_reaction_force", "civil_affairs_engagement", "referral_to_partner", "none"
]
DelayReason = Literal[
    "no_air_asset",
    "road_or_access_denied",
    "awaiting_authorisation",
    "insufficient_troops",
    "weather_season",
    "other",
]
WarningTarget = Literal["acknowledged", "responded", "closed", "cancelled", "expired"]


@dataclass
class AlertInput:
    """One alert, whatever format it came in."""

    format: str
    text: str
    observed_at: datetime | None = None
    category: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int = 0
    place: str | None = None
    language: str | None = None
    reporter_contact: str | None = None
    sender: str | None = None  # SMS sender number: only a keyed hash is stored
    external_id: str | None = None
    area: dict[str, Any] | None = None
    location_source: str = "given"
    extra: dict[str, Any] = field(default_factory=dict)


class _Point(BaseModel):
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _pair(self) -> _Point:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class AlertJson(_Point):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    category: Category | None = None
    observed_at: AwareDatetime | None = None
    place: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
    reporter_contact: str | None = Field(
        default=None, max_length=200, description="Protected: visible to analysts only"
    )
    external_id: str | None = Field(default=None, max_length=200)


class SmsForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=1600)
    received_at: AwareDatetime | None = None


class AlertLocate(_Point):
    model_config = ConfigDict(extra="forbid")

    place: str | None = Field(default=None, max_length=200)
    category: Category | None = None
    comment: str | None = Field(default=None, max_length=2000)


class AlertMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: UUID
    comment: str | None = Field(default=None, max_length=2000)


class AlertDismiss(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .:-]+$")
    formats: list[Format] = Field(default_factory=lambda: list(ALL_FORMATS), min_length=1)
    require_signature: bool = True
    section: str = "civil_affairs"
    area: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon/MultiPolygon")
    mission: str | None = Field(default=None, max_length=32,
                                description="the mission whose gazetteer and languages read its "
                                            "alerts (default: every mission's)")


class WarningStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: WarningTarget
    comment: str | None = Field(default=None, max_length=2000)


class ResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ResponseType
    unit: str | None = Field(default=None, max_length=200)
    acknowledged_at: AwareDatetime | None = None
    dispatched_at: AwareDatetime | None = None
    on_scene_at: AwareDatetime | None = None
    outcome: str | None = Field(default=None, max_length=5000)
    delay_reasons: list[DelayReason] = Field(default_factory=list, max_length=6)
    delay_note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _order(self) -> ResponseCreate:
        steps = [
            ("acknowledged_at", self.acknowledged_at),
            ("dispatched_at", self.dispatched_at),
            ("on_scene_at", self.on_scene_at),
        ]
        given = [(n, t) for n, t in steps if t is not None]
        for (n1, t1), (n2, t2) in zip(given, given[1:], strict=False):
            if t2 < t1:
                raise ValueError(f"{n2} must not be before {n1}")
        if self.type == "none" and (self.dispatched_at or self.on_scene_at):
            raise ValueError("a response of type none has no dispatch or arrival")
        return self


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
