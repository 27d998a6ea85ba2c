"""Accounts: what the matcher knows of each side of a pair, as aligned numpy arrays.

An account is a new row of an import batch, a staff entry, an alert, or an incident already
stored. Times are days since 1970-01-01 (UTC) with an exclusive end: an event dated to one day
covers [day, day + 1), a UCDP range date_start..date_end covers [start, end + 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from app.services.triangulation.names import AliasTable, Mentions, canonical_names, mentioned

EPOCH = pd.Timestamp(0, tz="UTC")
# Identical free-text narratives (sentences, at least this long) are one account coded as several
# rows: ACLED splits a multi-day or multi-place report into one row per day or place. Coded
# labels ("<place> — <dyad>") are not narratives: distinct events share them.
SAME_ACCOUNT_MIN_CHARS = 40
SAME_ACCOUNT_MIN_WORDS = 8


@dataclass
class Accounts:
    key: np.ndarray  # incident id (stored) or row position (new)
    source: np.ndarray  # import source, None for staff entries and alerts
    lon: np.ndarray
    lat: np.ndarray
    radius_m: np.ndarray
    start: np.ndarray  # days since the epoch
    end: np.ndarray  # exclusive
    category: np.ndarray
    fatalities: np.ndarray  # NaN when not given
    fat_low: np.ndarray
    fat_high: np.ndarray
    perpetrators: list[tuple[str, ...]]
    narrative: list[str | None]
    text: list[str | None]  # what alerts are compared on: narrative and names
    days: list[date | None]
    cites: list[frozenset[str]]  # outlets the account's reports draw on
    names: list[frozenset[str]] = field(default_factory=list)
    mentions: list[frozenset[str]] = field(default_factory=list)
    group: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))

    def __len__(self) -> int:
        return len(self.lon)

    def resolve(self, aliases: AliasTable, mention_index: Mentions | None = None) -> Accounts:
        """Canonical names (alias table applied on each account's date) and the names its
        narrative mentions."""
        # Many accounts share an actor list (and rows of one account a narrative): each distinct
        # (names, day) and (narrative, day) is resolved once.
        names: dict[tuple[tuple[str, ...], date | None], frozenset[str]] = {}
        self.names = [names[k] if (k := (p, d)) in names
                      else names.setdefault(k, canonical_names(p, d, aliases))
                      for p, d in zip(self.perpetrators, self.days, strict=True)]
        if mention_index is None:
            self.mentions = [frozenset()] * len(self)
        else:
            said: dict[tuple[str | None, date | None], frozenset[str]] = {}
            self.mentions = [said[m] if (m := (t, d)) in said
                             else said.setdefault(m, mentioned(mention_index.of(t), d, aliases))
                             for t, d in zip(self.narrative, self.days, strict=True)]
        return self

    def all_name_keys(self) -> set[str]:
        from app.services.triangulation.names import variants

        return {v for p in self.perpetrators for n in p for v in variants(n)}


# Triage matches one alert against a few stored incidents at a time: there, building a pandas
# Series per column cost more than the matching. Lists of plain values take a loop that gives the
# same floats (tests/unit/triangulation/test_accounts.py); anything else goes through pandas.
_EPOCH_DT = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_DAY = 86_400e9


def _plain_times(values: Any) -> bool:
    return isinstance(values, list | tuple) and all(
        v is None or (isinstance(v, datetime) and not isinstance(v, pd.Timestamp)) for v in values)


def _day_number(v: datetime) -> float:
    td = (v if v.tzinfo is not None else v.replace(tzinfo=UTC)) - _EPOCH_DT
    # as pandas: whole nanoseconds as a float, divided by a day's nanoseconds
    return float(((td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds) * 1_000) / _NS_PER_DAY


def days_since_epoch(values: Any) -> np.ndarray:
    if _plain_times(values):
        return np.array([np.nan if v is None else _day_number(v) for v in values], dtype="float64")
    ts = pd.to_datetime(pd.Series(values), utc=True)
    return ((ts - EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype="float64", na_value=np.nan)


def utc_days(values: Any) -> list[date | None]:
    """Each instant's UTC calendar day."""
    if _plain_times(values):
        return [None if v is None else (v.astimezone(UTC) if v.tzinfo is not None else v).date()
                for v in values]
    return [None if pd.isna(t) else t.date() for t in pd.to_datetime(pd.Series(values), utc=True)]


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, list | tuple) and all(
            v is None or (type(v) in (int, float)) for v in values):
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _group_keys(narratives: Sequence[str | None]) -> np.ndarray:
    out = np.empty(len(narratives), dtype=object)
    for i, n in enumerate(narratives):
        words = n.casefold().split() if n else []
        key = " ".join(words)
        prose = "." in key and len(words) >= SAME_ACCOUNT_MIN_WORDS
        out[i] = key if prose and len(key) >= SAME_ACCOUNT_MIN_CHARS else None
    return out


def build(*, key: Any, source: Any, lon: Any, lat: Any, radius_m: Any, start: Any, end: Any,
          category: Any, fatalities: Any, fat_low: Any, fat_high: Any,
          perpetrators: Iterable[Sequence[str] | None], narrative: Sequence[str | None],
          text: Sequence[str | None] | None = None,
          cites: Iterable[Iterable[str] | None] | None = None) -> Accounts:
    s = days_since_epoch(start)
    e = days_since_epoch(end)
    e = np.where(np.isnan(e), s, e) + 1.0
    n = len(s)
    perps = [tuple(p or ()) for p in perpetrators]
    narr = [x if isinstance(x, str) and x else None for x in narrative]
    days = utc_days(start)
    if text is None:
        text = [" ".join(filter(None, [x, *p])) or None for x, p in zip(narr, perps, strict=True)]
    return Accounts(
        key=np.asarray(key, dtype=object), source=np.asarray(source, dtype=object).reshape(n),
        lon=_floats(lon), lat=_floats(lat), radius_m=np.nan_to_num(_floats(radius_m)),
        start=s, end=e, category=np.asarray(category, dtype=object), fatalities=_floats(fatalities),
        fat_low=_floats(fat_low), fat_high=_floats(fat_high), perpetrators=perps, narrative=narr,
        text=list(text), days=days,
        cites=[frozenset(c or ()) for c in cites] if cites is not None else [frozenset()] * n,
        group=_group_keys(narr))


def from_events(events: pd.DataFrame, source: str | None) -> Accounts:
    """An import batch (the mapped frame of import_mapping)."""
    n = len(events)
    narrative = events["narrative"]
    acc = build(key=np.arange(n), source=np.full(n, source, dtype=object), lon=events["lon"],
                lat=events["lat"], radius_m=events["location_radius_m"],
                start=events["occurred_start"], end=events["occurred_end"],
                category=events["category"].to_numpy(dtype=object),
                fatalities=events["fatalities_best"], fat_low=events["fatalities_low"],
                fat_high=events["fatalities_high"], perpetrators=events["perpetrators"].tolist(),
                narrative=narrative.where(narrative.notna(), None).tolist(),
                cites=events["report_cites"].tolist() if "report_cites" in events else None)
    return acc


def from_rows(rows: Sequence[dict[str, Any]]) -> Accounts:
    """Stored incidents (or one new staff entry) as read back: longitude/latitude, the incident
    columns; alerts give `text` and no fatalities."""

    def col(name: str, default: Any = None) -> list[Any]:
        return [r.get(name, default) for r in rows]

    return build(key=np.asarray(col("id"), dtype=object),
                 source=np.asarray(col("external_source"), dtype=object),
                 lon=col("longitude"), lat=col("latitude"), radius_m=col("location_radius_m", 0),
                 start=col("occurred_start"), end=col("occurred_end"), category=col("category"),
                 fatalities=col("fatalities_best"), fat_low=col("fatalities_low"),
                 fat_high=col("fatalities_high"), perpetrators=col("perpetrators"),
                 narrative=col("narrative"),
                 text=col("text") if rows and "text" in rows[0] else None, cites=col("cites"))


def as_datetime(days: float) -> datetime:
    return (EPOCH + pd.Timedelta(days=days)).to_pydatetime()
