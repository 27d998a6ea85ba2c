"""The forecast's own refusals (problem+json types), importable by every forecast module."""

from __future__ import annotations

from app.errors import DomainError


class NoData(DomainError):
    status, kind, title = 404, "no-forecast-data", "No data to forecast from"


class BeforeHistory(DomainError):
    status, kind, title = 422, "forecast-before-history", "Forecast origin precedes all incidents"
