"""The mapped event record that crosses from import mapping (services) to storage (repositories)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class ParsedEvent(NamedTuple):
    """One mapped event (a tuple: files map to hundreds of thousands of these)."""

    external_id: str
    occurred_start: datetime
    occurred_end: datetime | None
    time_precision: int
    lon: float
    lat: float
    location_precision: int
    precision_scheme: str
    location_radius_m: int
    h3_cell: int
    place_name: str | None
    admin1: str | None
    admin2: str | None
    category: str
    subcategory: str | None
    perpetrators: list[str]
    perpetrator_type: str
    fatalities_low: int | None
    fatalities_best: int
    fatalities_high: int | None
    injured: int
    crsv_survivors: int
    children_affected: int
    displaced: int
    narrative: str | None
    section: str
    source_name: str | None
    source_reliability: str
    information_credibility: int
    source_count: int
    report_narrative: str | None = None
    report_cites: tuple[str, ...] = ()  # normalised outlets the report draws on (triangulation)
