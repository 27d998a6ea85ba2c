"""Requests for contingency scenarios."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ScenarioRequest(BaseModel):
    """A tabletop-exercise scenario for an area of responsibility and a horizon."""

    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="the day the scenario starts from (incidents up to it)")
    horizon_days: int = Field(default=28, ge=1, le=366, description="days the scenario covers")
    res: int | None = Field(default=None, ge=4, le=9, description="H3 resolution of its cells")
    bbox: list[float] | None = Field(default=None, min_length=4, max_length=4,
                                     description="the area of responsibility: minLon, minLat, "
                                                 "maxLon, maxLat (default: the mission area)")
    mission: str | None = Field(default=None, max_length=40,
                                description="mission / area code (default: configured)")
    method: str | None = Field(default=None, max_length=40,
                               description="forecast method (default: auto)")
    cells: int = Field(default=15, ge=1, le=200,
                       description="cells of the worst plausible period to list")
    title: str | None = Field(default=None, max_length=200)

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        x1, y1, x2, y2 = v
        if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
            raise ValueError("bbox must be minLon, minLat, maxLon, maxLat within WGS84")
        return v
