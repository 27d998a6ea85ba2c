"""Requests for contingency scenarios, and the scenario pack."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from app.schemas.common import Finite, RequestModel, ResponseModel, SaneDate


class ScenarioRequest(RequestModel):
    """A tabletop-exercise scenario for an area of responsibility and a horizon."""

    as_of: SaneDate = Field(description="the day the scenario starts from (incidents up to it)")
    horizon_days: int = Field(default=28, ge=1, le=366, description="days the scenario covers")
    res: int | None = Field(default=None, ge=4, le=9, description="H3 resolution of its cells")
    bbox: list[Finite] | None = Field(default=None, min_length=4, max_length=4,
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


# --- answers ---------------------------------------------------------------------------------


class ScenarioHeader(ResponseModel):
    title: str
    as_of: date
    horizon_days: int
    until: date
    area: str = Field(description="the area forecast (a mission's code or the bbox)")
    bbox: list[float] | None
    resolution: int
    forecast_method: str = Field(description="the forecast method used")
    selected_by: str = Field(description="the method asked for (auto: chosen by backtest)")
    calibration: str


class Likely(ResponseModel):
    incidents: float = Field(description="expected incidents in the area over the horizon")
    interval_80: list[float] = Field(description="[low, high] of the 80 % interval")


class CategoryShare(ResponseModel):
    category: str
    incidents: int
    share: float


class QuickReaction(ResponseModel):
    base: str | None
    base_id: str
    cell: str
    mode: str
    km: float
    minutes: int


class WorstCell(ResponseModel):
    cell: str = Field(description="H3 index")
    latitude: float
    longitude: float
    likely_incidents: float
    worst_plausible_incidents: float
    p_incident: float = Field(description="P(at least one incident)")
    expected_harm: float
    worst_plausible_harm: float
    categories: list[CategoryShare] = Field(description="the cell's past mix, top three")
    bases_in_reach: list[str | None]
    qrf: list[QuickReaction] = Field(description="quick reaction forces that reach the cell")


class WorstPlausible(ResponseModel):
    incidents: float
    basis: str
    cells: list[WorstCell]


class LeftUncovered(ResponseModel):
    cells: list[str]
    harm_high: float
    share: float


class ScenarioBase(ResponseModel):
    id: str
    name: str | None
    kind: str | None
    qrf_standby: int
    worst_cells_in_reach: int
    worst_harm_in_reach: float
    left_uncovered_if_closed: LeftUncovered = Field(description="worst cells only it reaches")


class ScenarioPack(ResponseModel):
    """The worst plausible period of an area and what the bases can do about it."""

    scenario: ScenarioHeader
    likely: Likely
    worst_plausible: WorstPlausible
    bases: list[ScenarioBase] = Field(description="bases reaching a worst cell, largest "
                                      "closure risk first")
    beyond_every_base: list[str] = Field(description="worst cells no base reaches")
    largest_closure_risk: ScenarioBase | None
    quick_reaction_forces: list[str] = Field(description="bases with a QRF reaching a worst cell")
