"""Documented answers of the response loop that routes build as plain dicts: a warning raised
(flash or escalation), a response step recorded and the impact report. The warning itself is
`WarningFeature` (app/schemas/alerts.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from app.schemas.alerts import WarningFeature
from app.schemas.common import ResponseModel


class WarningRaised(ResponseModel):
    """A warning raised by staff (flash) or from one alert or incident (escalation), with its
    owner and deadlines."""

    id: UUID
    assigned_to: str | None = Field(description="the owning base or field office (None: none "
                                    "in reach)")
    acknowledge_by: datetime | None = Field(description="deadline to acknowledge")
    on_scene_by: datetime | None = Field(description="deadline to be on scene")
    warning: WarningFeature


class ResponseStep(ResponseModel):
    """A response to a warning with every step recorded so far."""

    id: UUID
    warning_id: UUID
    type: str = Field(description="patrol, engagement, …")
    unit: str | None
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    outcome: str | None
    delay_reasons: list[str]
    delay_note: str | None
    created_by: str
    created_at: datetime
    mode: str | None = Field(description="road, foot or air")
    people: int | None
    completed_at: datetime | None
    outcome_note: str | None
    incident_ids: list[UUID] = Field(description="incidents found on scene")
    updated_at: datetime
    warning_status: str = Field(description="the warning's status after this step")


class BeforeAfter(ResponseModel):
    before: int
    after: int


class Rate(ResponseModel):
    before_per_30d: float
    after_per_30d: float


class ImpactSummary(ResponseModel):
    """Counts always; rates per 30 days and the difference in differences only on enough cells
    (`suppressed` otherwise, with the reason)."""

    n_target_cells: int
    n_comparison_cells: int
    target_incidents: BeforeAfter
    comparison_incidents: BeforeAfter
    suppressed: bool
    reason: str | None = None
    target: dict[str, Rate] | None = Field(description="per measure (incidents, harm)")
    comparison: dict[str, Rate] | None
    prior_gap_per_30d: float | None = Field(description="how unlike the groups were before")
    difference_in_differences: dict[str, float] | None = Field(description="per measure")


class ImpactGroup(ImpactSummary):
    field_office: str | None = None
    month: str | None = None
    rule: str | None = None
    desired_effect: str | None = None
    treatments: int


class ImpactEvent(ResponseModel):
    """One treatment (a closed response or a reported patrol) and its cells' before and after."""

    kind: Literal["response", "patrol"]
    at: datetime
    field_office: str
    rule: str
    desired_effect: str | None
    warning_id: UUID | None = Field(default=None, description="responses")
    outcome: str | None = Field(default=None, description="responses")
    source: str | None = Field(default=None, description="responses: the warning's source")
    plan_id: UUID | None = Field(default=None, description="patrols")
    task_id: str | None = Field(default=None, description="patrols")
    status: str | None = Field(default=None, description="patrols: the report's status")
    target_cells: list[str]
    pending: bool | None = Field(default=None, description="the after window has not begun")
    reason: str | None = None
    after_days_observed: float | None = None
    comparison_cells: list[str] | None = None
    n_target_cells: int | None = None
    n_comparison_cells: int | None = None
    target_incidents: BeforeAfter | None = None
    comparison_incidents: BeforeAfter | None = None
    suppressed: bool | None = None
    target: dict[str, Rate] | None = None
    comparison: dict[str, Rate] | None = None
    prior_gap_per_30d: float | None = None
    difference_in_differences: dict[str, float] | None = None


class ImpactWindows(ResponseModel):
    before_days: int
    after_days: int


class Treatments(ResponseModel):
    responses: int
    patrols: int
    measured: int = Field(description="treatments whose after window has begun")


class ImpactReport(ResponseModel):
    note: str = Field(description="an association, not a proof of effect")
    start: datetime
    end: datetime
    windows: ImpactWindows
    res: int
    min_cells: int
    treatments: Treatments
    overall: ImpactSummary
    by: dict[str, list[ImpactGroup]] = Field(description="per field_office, month, rule and "
                                             "desired_effect")
    events: list[ImpactEvent]

