"""Requests of the triangulation endpoints (merge, review decisions, aliases, thresholds) and
their answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import ResponseModel


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


# --- answers ---------------------------------------------------------------------------------


class ScoreParts(ResponseModel):
    space: float
    time: float
    names: float | None = Field(description="None when either side names no actor")
    fatalities: float
    category: float
    outlets: float


class Evidence(ResponseModel):
    """What an analyst sees of one pair: the facts of both sides and the score's parts."""

    score: float
    distance_km: float
    combined_radius_km: float = Field(description="both accounts' location uncertainty")
    days_apart: float
    categories: list[str] = Field(description="[this account's, the candidate's]")
    names: list[list[str]] = Field(description="actors named: [this account's, the candidate's]")
    fatalities: list[int | None]
    parts: ScoreParts
    outlets: list[list[str]] = Field(description="sources cited by each side")


class Alternative(Evidence):
    incident_id: UUID = Field(description="the candidate incident")


class QueueEvidence(Evidence):
    alternatives: list[Alternative] = Field(default_factory=list,
                                            description="the best candidates when queued")


class IncidentSummary(ResponseModel):
    """What the review queue shows of an incident next to the evidence."""

    id: UUID
    status: str
    merged_into: UUID | None
    external_source: str | None
    external_id: str | None
    occurred_start: datetime
    occurred_end: datetime | None
    longitude: float
    latitude: float
    location_radius_m: int | None
    place_name: str | None
    admin1: str | None
    admin2: str | None
    category: str
    perpetrators: list[str] | None
    fatalities_best: int | None
    quality_grade: str | None
    independent_sources: int | None
    narrative: str | None


class MergeResult(ResponseModel):
    id: UUID = Field(description="the incident merged (no longer counted)")
    merged_into: UUID
    reports_moved: int
    quality_grade: str | None = Field(description="the surviving incident's grade")
    independent_sources: int | None = Field(description="the surviving incident's sources")


class UnmergeResult(ResponseModel):
    id: UUID
    status: str = Field(description="the status it had before the merge")
    unmerged_from: UUID
    reports_returned: int


class QueueEntry(ResponseModel):
    """A possible duplicate held for review."""

    id: UUID
    incident_id: UUID = Field(description="the account held (status duplicate while pending)")
    candidate_id: UUID = Field(description="the incident it may be a report of")
    score: float
    evidence: QueueEvidence
    origin: str = Field(description="how the account arrived: entry, import, alert…")
    status: Literal["pending", "confirmed", "rejected"]
    held_status: str = Field(description="the held account's status before it was held")
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    incident: IncidentSummary | None = Field(description="the held account (lists and "
                                             "decisions; None in an incident's own queue)")
    candidate: IncidentSummary | None


class DuplicateDecided(QueueEntry):
    merge: MergeResult | None = Field(default=None, description="confirm: the merge made")


class QueuePage(ResponseModel):
    items: list[QueueEntry]
    next: str | None = Field(description="URL of the next page")
    numberReturned: int  # noqa: N815 (OGC spelling)


class MergeRecord(ResponseModel):
    id: UUID
    incident_id: UUID
    into_id: UUID
    previous_status: str
    reason: str = Field(description="manual, confirmed, auto…")
    score: float | None
    merged_by: str
    merged_at: datetime
    undone_by: str | None
    undone_at: datetime | None
    reports: int = Field(description="reports moved")


class Thresholds(ResponseModel):
    auto_link: float = Field(description="a score from which an account is linked automatically")
    review: float = Field(description="a score from which it is held for review")


class IncidentDuplicates(ResponseModel):
    incident_id: UUID
    status: str
    merged_into: UUID | None
    thresholds: Thresholds
    candidates: list[Alternative] = Field(description="scored now, best first")
    queue: list[QueueEntry] = Field(description="its review-queue entries")
    merges: list[MergeRecord] = Field(description="merges into or of it, oldest first")


class ActorAlias(ResponseModel):
    id: UUID
    mission_code: str | None = Field(description="None: every mission")
    alias: str
    canonical: str
    valid_from: date | None
    valid_to: date | None
    created_by: str
    created_at: datetime


class AliasList(ResponseModel):
    items: list[ActorAlias]


class ThresholdsInForce(ResponseModel):
    mission: str | None
    auto_link: float
    review: float
    source: str = Field(description="mission (its own row), all missions, or settings")
