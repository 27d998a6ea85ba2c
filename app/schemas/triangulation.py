"""Requests of the triangulation endpoints (merge, review decisions, aliases, thresholds)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: UUID = Field(description="the incident this one becomes a report of")


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class AliasCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alias: str = Field(min_length=1, max_length=200, description="a spelling sources use")
    canonical: str = Field(min_length=1, max_length=200, description="the actor it stands for")
    mission: str | None = Field(default=None, max_length=32,
                                description="mission code; none: every mission")
    valid_from: date | None = None
    valid_to: date | None = None


class ThresholdsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mission: str | None = Field(default=None, max_length=32)
    auto_link: float = Field(description="at or above: the account becomes a report (0-1)")
    review: float = Field(description="from here up to auto_link: the review queue (0-1)")
