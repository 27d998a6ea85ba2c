"""Requests for patrol plans and footprint reviews, and their answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import (
    DECAY_SCALE_MAX_DAYS,
    DECAY_SCALE_MIN_DAYS,
    Geometry,
    RequestModel,
    ResponseModel,
    SaneDate,
)

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Mode = Literal["road", "foot", "air"]


# More patrols a day than this from one base and mode is a typing error, not a plan.
MAX_PATROLS_PER_DAY = 100


class CapacityOverride(RequestModel):
    base_id: UUID
    mode: Mode
    patrols_per_day: int = Field(ge=0, le=MAX_PATROLS_PER_DAY,
                                 description="patrols a day from this base by this mode, for "
                                             "this plan only (0: none)")


class TaskChoice(RequestModel):
    """One task of a plan adjusted by its planners: this base sends this mode to this cell."""

    cell_id: str = Field(min_length=1, max_length=20, description="H3 cell at the plan's resolution")
    base_id: UUID
    mode: Mode


class Area(RequestModel):
    """Shared by plans and reviews: the dated threat picture they work on."""

    as_of: SaneDate = Field(description="the analysis date: that day's bases, incidents up to it")
    window_days: int | None = Field(default=None, ge=7, le=3650,
                                    description="threat window ending on as_of")
    res: int | None = Field(default=None, ge=4, le=9, description="H3 resolution of target cells")
    bbox: list[FiniteFloat] | None = Field(default=None, min_length=4, max_length=4,
                                           description="minLon, minLat, maxLon, maxLat")
    use_forecast: bool = False
    forecast_method: str | None = Field(default=None, max_length=40)
    mission: str | None = Field(default=None, max_length=32,
                                description="mission code: its bases and its area only")
    aor: str | None = Field(default=None, max_length=200,
                            description="area of responsibility (name or id) inside the mission")
    decay_scale_days: float | None = Field(default=None, ge=DECAY_SCALE_MIN_DAYS,
                                           le=DECAY_SCALE_MAX_DAYS, allow_inf_nan=False,
                                           description="recency decay (default: the mission's)")
    forecast_weight: float | None = Field(
        default=None, ge=0.0, le=1.0, allow_inf_nan=False,
        description="share of the objective given to forecast expected harm (0 = current threat "
                    "only); default: the area's backtested default")

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        x1, y1, x2, y2 = v
        if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
            raise ValueError("bbox must be minLon, minLat, maxLon, maxLat within WGS84")
        return v


class PatrolPlanRequest(Area):
    horizon_days: int = Field(ge=1, le=90, description="days the plan covers")
    base_ids: list[UUID] | None = Field(default=None, max_length=500,
                                        description="plan for these bases only")
    capacity_overrides: list[CapacityOverride] = Field(default_factory=list, max_length=1500)
    tasks: list[TaskChoice] | None = Field(
        default=None, max_length=5000,
        description="the plan as adjusted by its planners: exactly these tasks (tasks the planner "
                    "chose keep their details; dropped ones are left out; added cells are built "
                    "for the base and mode given). Default: the planner's own tasks")
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1,
                             description="randomise among near-equal cells, reproducibly")
    solver: Literal["milp", "greedy"] = "milp"


class CandidateSite(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class FootprintReviewRequest(Area):
    horizon_days: int = Field(default=28, ge=1, le=366, description="forecast horizon")
    p: int = Field(default=3, ge=0, le=20, description="new temporary bases to propose")
    include_air: bool = Field(default=False,
                              description="count air reach in a base's footprint (default: ground)")
    candidates: list[CandidateSite] | None = Field(
        default=None, max_length=500,
        description="candidate towns; default: the centres of the highest-threat uncovered cells")


class PatrolPlanSave(PatrolPlanRequest):
    """A plan request that may be kept as a record (issue 15)."""

    save: bool = Field(default=False, description="keep the plan as a record (201 with its id); "
                                                  "its tasks can then be reported")
    supersedes: UUID | None = Field(default=None, description="the saved plan this one replaces "
                                                              "(it becomes the next version)")


ReportStatus = Literal["done", "partly", "not_done"]


class PatrolReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ReportStatus
    started_at: AwareDatetime | None = Field(default=None, description="required unless not_done")
    ended_at: AwareDatetime | None = None
    observations: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=2000,
                               description="why the patrol was not (fully) done; required unless done")
    civilians_engaged: int | None = Field(default=None, ge=0, le=1_000_000)
    incident_ids: list[UUID] = Field(default_factory=list, max_length=50,
                                     description="incidents the patrol found (reported)")
class FootprintCompareRequest(Area):
    """Scenario A is `as_of` with that day's bases; scenario B is `compare_to` with that day's
    bases (and threat), or A with `closures` removed and `openings` added."""

    compare_to: SaneDate | None = Field(default=None, description="the second date")
    threat_as_of: SaneDate | None = Field(
        default=None, description="one threat picture for both footprints (this date's); "
                                  "default: each scenario's own date")
    closures: list[UUID] = Field(default_factory=list, max_length=500,
                                 description="bases (ids) scenario B closes")
    openings: list[CandidateSite] = Field(default_factory=list, max_length=100,
                                          description="sites scenario B opens (road patrols)")
    include_air: bool = False


# --- responses (documented shapes; the planner builds them as plain dicts) --------------------


class FeatureCollectionDoc(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]


class PatrolTask(BaseModel):
    id: str
    base_id: str
    base_name: str
    mode: Mode
    cell_ids: list[str]
    cells: FeatureCollectionDoc
    distance_km: float
    travel_minutes: float
    desired_effect: str
    reason: str
    other_effects: list[str]
    time_window: dict[str, Any]
    composition: list[dict[str, Any]]
    priority: int
    threat_score: float
    threat_level: str
    visits: int


class PatrolPlanSummary(BaseModel):
    cells_considered: int
    tasks: int
    threat_total: float
    threat_covered: float
    threat_covered_share: float | None
    forecast_covered_share: float | None
    solver: str
    seed: int | None
    patrols: list[dict[str, Any]]
    as_of: str
    horizon_days: int
    resolution: int
    adjusted: bool = Field(default=False, description="the tasks are the planners' adjusted "
                                                       "list (`tasks` in the request)")


class PatrolPlan(BaseModel):
    tasks: list[PatrolTask]
    summary: PatrolPlanSummary
    uncovered: FeatureCollectionDoc


class ReviewedBase(BaseModel):
    id: str
    name: str
    kind: str
    latitude: float
    longitude: float
    cells_in_reach: int
    high_threat_cells_in_reach: int
    threat_in_reach: float
    share_of_mission_threat: float | None
    trend_in_reach: dict[str, Any] | None
    forecast_harm_in_reach: float | None
    coverage_lost_if_closed: float
    coverage_lost_share: float | None
    cells_lost_if_closed: int
    population_in_reach: float | None


class CandidateBase(BaseModel):
    name: str
    cell: str
    latitude: float
    longitude: float
    rank: int
    new_threat_covered: float
    new_share: float | None
    new_cells_covered: int
    threat_in_reach: float


class FootprintReview(BaseModel):
    summary: dict[str, Any]
    bases: list[ReviewedBase]
    uncovered: FeatureCollectionDoc
    candidates: list[CandidateBase]
    candidates_considered: int


class PlanningCollection(BaseModel):
    """`?f=geojson`: the plan's task cells (or the review's bases, candidates and uncovered
    cells) as one FeatureCollection with the summary."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    summary: dict[str, Any]


# --- footprint comparison (POST /api/v1/footprint-reviews/compare) ----------------------------


class ScenarioTotals(ResponseModel):
    label: str = Field(description="which bases: as of a date, or with closures/openings")
    as_of: str = Field(description="the date the scenario's bases are taken at (YYYY-MM-DD)")
    bases: int
    cells: int = Field(description="cells of the threat layer")
    threat_total: float
    threat_covered: float
    threat_covered_share: float
    high_threat_cells_uncovered: int


class BaseInScenario(ResponseModel):
    id: str
    kind: str | None
    latitude: float
    longitude: float
    threat_in_reach: float
    share_of_mission_threat: float | None
    cells_in_reach: int


class ComparedBase(ResponseModel):
    name: str | None
    a: BaseInScenario | None = Field(description="None: the base is not in scenario A")
    b: BaseInScenario | None = Field(description="None: the base is not in scenario B")


class CellFeature(ResponseModel):
    type: Literal["Feature"]
    id: str = Field(description="H3 index")
    geometry: Geometry
    properties: dict[str, Any] = Field(description="threat_score, threat_level")


class CellCollection(ResponseModel):
    type: Literal["FeatureCollection"]
    features: list[CellFeature]


class Closure(ResponseModel):
    base: str | None
    id: str
    threat_left_uncovered: float
    cells_left_uncovered: CellCollection = Field(description="cells only this base covered")


class Opening(ResponseModel):
    base: str | None
    id: str


class CompareSummary(ResponseModel):
    resolution: int
    window_days: int
    threat_as_of: str | None
    mission: str | None
    aor: str | None


class FootprintComparison(ResponseModel):
    a: ScenarioTotals
    b: ScenarioTotals
    change: dict[str, float] = Field(description="B minus A: threat_covered_share")
    bases: list[ComparedBase] = Field(description="by name")
    closures: list[Closure] = Field(description="bases in A that B closes, largest loss first")
    openings: list[Opening] = Field(description="bases in B that A does not have")
    summary: CompareSummary


# --- saved patrol plans, patrol reports, execution --------------------------------------------


class PatrolReportPublic(ResponseModel):
    id: UUID
    status: Literal["done", "partly", "not_done"]
    started_at: datetime | None
    ended_at: datetime | None
    observations: str | None
    reason: str | None = Field(description="why not (fully) done")
    civilians_engaged: int | None
    incident_ids: list[UUID]
    created_by: str
    created_at: datetime
    plan_id: UUID | None = Field(default=None, description="in the answer to a report")
    task_id: str | None = Field(default=None, description="in the answer to a report")


class SavedTask(PatrolTask):
    forecast: dict[str, Any] | None = Field(default=None, description="the forecast for the "
                                            "task's cells when the plan used one")
    report: PatrolReportPublic | None = Field(description="the patrol's report, once made")


class SavedPlanFields(ResponseModel):
    id: UUID
    series_id: UUID = Field(description="shared by every version of the plan")
    version: int
    superseded_by: UUID | None
    as_of: date
    horizon_days: int
    starts_on: date
    ends_on: date
    parameters: dict[str, Any] = Field(description="the request the plan was made from")
    layer_version: int | None = Field(description="data version of the threat layer used")
    summary: PatrolPlanSummary
    approved_by: str | None
    approved_at: datetime | None
    created_by: str
    created_at: datetime


class SavedPlanListed(SavedPlanFields):
    tasks: int = Field(description="number of tasks")
    reported: int = Field(description="tasks reported")


class SavedPlanList(ResponseModel):
    items: list[SavedPlanListed]
    numberReturned: int  # noqa: N815 (OGC spelling)


class OfficeShown(ResponseModel):
    id: str | None
    name: str
    kind: str | None


class OverlapDays(ResponseModel):
    from_: date = Field(alias="from")
    to: date


class PlanOverlap(ResponseModel):
    """Another office's approved plan patrolling the same cells on the same days (informs, never
    blocks; app.services.patrols.deconfliction)."""

    task_id: str
    office: OfficeShown | None
    base: str | None
    cells: list[str] = Field(description="the shared H3 cells")
    other_plan_id: UUID
    other_task_id: str
    other_office: OfficeShown | None
    other_base: str | None
    other_approved_by: str | None
    days: OverlapDays


class SavedPatrolPlan(SavedPlanFields):
    uncovered: FeatureCollectionDoc
    saved: Literal[True]
    tasks: list[SavedTask]
    reported: int = Field(description="tasks reported")
    overlaps: list[PlanOverlap] = Field(default_factory=list, description="other offices' "
                                        "approved plans in the same cells on the same days")


class ExecutionCounts(ResponseModel):
    planned: int
    reported: int
    done: int
    partly: int
    not_done: int
    unreported: int
    execution_rate: float | None = Field(description="(done + ½ partly) / planned")


class ExecutionGroup(ExecutionCounts):
    base_id: str | None = None
    base_name: str | None = None
    week: date | None = Field(default=None, description="Monday of the plan's first week")


class ExecutionWindow(ResponseModel):
    start: date | None
    end: date | None


class PatrolExecution(ResponseModel):
    total: ExecutionCounts
    groups: list[ExecutionGroup] | None = None
    window: ExecutionWindow
    by: Literal["base", "week", "base_week"] | None
