"""A brief's period in mission time: `day` is one calendar day, `week` the seven days ending on
`as_of` (inclusive); the previous period is the one just before, of the same length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.errors import InvalidInput

PERIODS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class Period:
    kind: str
    as_of: date
    start: datetime  # UTC instants of the local midnights
    end: datetime
    previous_start: datetime
    tz: tzinfo

    @property
    def days(self) -> int:
        return PERIODS[self.kind]

    def label(self) -> str:
        first = self.as_of - timedelta(days=self.days - 1)
        if self.kind == "day":
            return self.as_of.isoformat()
        return f"{first.isoformat()} to {self.as_of.isoformat()}"


def local_today(now: datetime, tz: tzinfo) -> date:
    return now.astimezone(tz).date()


def parse(kind: str | None, as_of: date | None, *, tz: tzinfo, now: datetime) -> Period:
    """Refuse an unknown period or a future day (422 with a pointer). Default as_of: yesterday in
    mission time (the last complete day)."""
    kind = kind or "week"
    if kind not in PERIODS:
        raise InvalidInput(f"unknown period {kind!r}; day or week",
                           errors=[{"pointer": "/query/period", "detail": "day or week"}])
    today = local_today(now, tz)
    day = as_of or today - timedelta(days=1)
    if day > today:
        raise InvalidInput(f"as_of {day.isoformat()} is in the future (today is {today} in "
                           "mission time)",
                           errors=[{"pointer": "/query/as_of", "detail": "not after today"}])
    n = PERIODS[kind]
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    start = datetime.combine(day - timedelta(days=n - 1), time.min, tzinfo=tz).astimezone(UTC)
    previous = datetime.combine(day - timedelta(days=2 * n - 1), time.min,
                                tzinfo=tz).astimezone(UTC)
    return Period(kind, day, start, end, previous, tz)
