"""Requests for briefs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class BriefKeep(BaseModel):
    """Generate a brief and keep it as a dated record."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(default="week", description="day or week")
    as_of: date | None = Field(default=None, description="the last day covered (mission time); "
                               "default yesterday")
    mission: str | None = Field(default=None, max_length=40)
    aor: str | None = Field(default=None, max_length=100)
    edition: Literal["full", "partner"] = "full"
