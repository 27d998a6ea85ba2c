"""Domain vocabularies shared by models, schemas, services and importers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    killing = "killing"
    injury = "injury"
    abduction = "abduction"
    sexual_violence = "sexual_violence"
    looting_destruction = "looting_destruction"
    displacement = "displacement"
    attack_on_peacekeepers = "attack_on_peacekeepers"
    threat_intimidation = "threat_intimidation"
    armed_group_presence = "armed_group_presence"
    other = "other"


class PerpetratorType(StrEnum):
    state_force = "state_force"
    non_state_armed_group = "non_state_armed_group"
    community_militia = "community_militia"
    criminal = "criminal"
    unknown = "unknown"


class Status(StrEnum):
    entered = "entered"
    validated = "validated"
    approved = "approved"
    rejected = "rejected"
    # Triangulation (docs/triangulation.md): never counted, never listed by default.
    merged = "merged"  # now a report of the incident in `merged_into`
    duplicate = "duplicate"  # held in the possible-duplicates queue until an analyst decides


# The statuses every count, layer, forecast and metric includes: an incident that is rejected,
# merged into another or held as a possible duplicate is not counted (docs/triangulation.md).
COUNTED_STATUSES: tuple[Status, ...] = (Status.entered, Status.validated, Status.approved)
# What an import or a workflow step may set.
WORKFLOW_STATUSES: tuple[Status, ...] = (*COUNTED_STATUSES, Status.rejected)


class Section(StrEnum):
    jmac = "jmac"
    u2_military = "u2_military"
    civil_affairs = "civil_affairs"  # includes the community alert network
    human_rights = "human_rights"
    police = "police"
    military_observers = "military_observers"
    humanitarian_partner = "humanitarian_partner"
    open_source = "open_source"
    other = "other"


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    operations = "operations"
    partner = "partner"
    integration = "integration"


RELIABILITY = ("A", "B", "C", "D", "E", "F")  # A completely reliable … E unreliable, F cannot be judged
CREDIBILITY = (1, 2, 3, 4, 5, 6)  # 1 confirmed … 5 improbable, 6 cannot be judged
GRADES = ("a", "b", "c")
GRADE_RANK = {"a": 3, "b": 2, "c": 1}

# Allowed workflow transitions: target status -> statuses it may come from.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.validated: (Status.entered,),
    Status.approved: (Status.validated,),
    Status.rejected: (Status.entered, Status.validated),
}


@dataclass(frozen=True)
class ThreatTerms:
    """The parameters of the per-event threat terms (credibility, decay, harm, CRSV harm).

    Their values are declared once, in `app.services.threat.score` (`threat_terms(settings)`);
    this plain record is what crosses into the repositories, which render the same terms as SQL
    (`app.repositories.sql_fragments`). A test on PostGIS holds the two renderings together."""

    decay_scale_days: float
    status_weight: Mapping[str, float]
    grade_weight: Mapping[str, float]
    harm_fatality: float
    harm_injured: float
    harm_children: float
    harm_displaced_log: float
    crsv_category: str
    # Precision-widened decay (issue 13): an event dated only to a week, month or year decays on
    # max(scale, share x the span its date covers, DATE_SPAN_DAYS); 0 = off.
    precision_share: float = 0.0


# Days a date of each precision code (UCDP date_prec; ACLED's are mapped onto it) may be off by.
DATE_SPAN_DAYS: Mapping[int, float] = {1: 0.0, 2: 6.0, 3: 7.0, 4: 30.0, 5: 365.0}
