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

from app.services.triangulation.names import AliasTable, Mentions, canonical_names, mentioned, variants

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
    given_text: list[str | None] | None  # alerts' own text; None: narrative and names (`text`)
    days: list[date | None]
    cites: list[frozenset[str]]  # outlets the account's reports draw on
    names: list[frozenset[str]] = field(default_factory=list)
    mentions: list[frozenset[str]] = field(default_factory=list)
    _group: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def text(self) -> list[str | None]:
        """What alerts are compared on: the alert's text, or an incident's narrative and names
        (built on first use: only alert matching reads it)."""
        if self.given_text is None:
            self.given_text = [" ".join(filter(None, [x, *p])) or None
                               for x, p in zip(self.narrative, self.perpetrators, strict=True)]
        return self.given_text

    @property
    def group(self) -> np.ndarray:
        """Rows of one account (identical free-text narratives) share a key; None otherwise
        (built on first use: only the new side of a match reads it)."""
        if self._group is None:
            self._group = _group_keys(self.narrative)
        return self._group

    def resolve(self, aliases: AliasTable, mention_index: Mentions | None = None) -> Accounts:
        """Canonical names (alias table applied on each account's date) and the names its
        narrative mentions."""
        # Many accounts share an actor list (and rows of one account a narrative): each distinct
        # list and narrative is read once, and the day matters only when the alias table has a
        # row for one of its names.
        aliased = aliases.rows.keys()
        plain: dict[tuple[str, ...], frozenset[str] | None] = {}  # None: an alias applies
        dated: dict[tuple[tuple[str, ...], date | None], frozenset[str]] = {}
        names: list[frozenset[str]] = []
        for p, d in zip(self.perpetrators, self.days, strict=True):
            if p not in plain:
                keys = frozenset(v for n in p for v in variants(n))
                plain[p] = None if aliased & keys else keys
            got = plain[p]
            if got is None:
                if (p, d) not in dated:
                    dated[(p, d)] = canonical_names(p, d, aliases)
                got = dated[(p, d)]
            names.append(got)
        self.names = names
        if mention_index is None:
            self.mentions = [frozenset()] * len(self)
            return self
        said: dict[str | None, frozenset[str]] = {}
        said_on: dict[tuple[frozenset[str], date | None], frozenset[str]] = {}
        mentions: list[frozenset[str]] = []
        for t, d in zip(self.narrative, self.days, strict=True):
            if t not in said:
                said[t] = mention_index.of(t)
            found = said[t]
            if aliased & found:
                if (found, d) not in said_on:
                    said_on[(found, d)] = mentioned(found, d, aliases)
                found = said_on[(found, d)]
            mentions.append(found)
        self.mentions = mentions
        return self

    def all_name_keys(self) -> set[str]:
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
    return _assemble(key=key, source=source, lon=_floats(lon), lat=_floats(lat),
                     radius_m=_floats(radius_m), start=s, end=np.where(np.isnan(e), s, e) + 1.0,
                     days=utc_days(start), category=category, fatalities=_floats(fatalities),
                     fat_low=_floats(fat_low), fat_high=_floats(fat_high),
                     perpetrators=perpetrators, narrative=narrative, text=text, cites=cites)


def _assemble(*, key: Any, source: Any, lon: np.ndarray, lat: np.ndarray, radius_m: np.ndarray,
              start: np.ndarray, end: np.ndarray, days: list[date | None], category: Any,
              fatalities: np.ndarray, fat_low: np.ndarray, fat_high: np.ndarray,
              perpetrators: Iterable[Sequence[str] | None], narrative: Sequence[str | None],
              text: Sequence[str | None] | None,
              cites: Iterable[Iterable[str] | None] | None) -> Accounts:
    n = len(start)
    return Accounts(
        key=np.asarray(key, dtype=object), source=np.asarray(source, dtype=object).reshape(n),
        lon=lon, lat=lat, radius_m=np.nan_to_num(radius_m), start=start, end=end,
        category=np.asarray(category, dtype=object), fatalities=fatalities, fat_low=fat_low,
        fat_high=fat_high, perpetrators=[tuple(p) if p else () for p in perpetrators],
        narrative=[x if isinstance(x, str) and x else None for x in narrative],
        given_text=None if text is None else list(text), days=days,
        cites=[frozenset(c) if c else _NO_CITES for c in cites] if cites is not None
        else [_NO_CITES] * n)


_NO_CITES: frozenset[str] = frozenset()


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


_US_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US_INT64 = (2**63 - 1) // 1000  # below this many microseconds, ns = us * 1000 fits an int64


def day_numbers_of_us(us: Sequence[int]) -> np.ndarray:
    """Microseconds since the epoch → days since the epoch, the same floats as `days_since_epoch`
    of the instants (whole nanoseconds as a float, divided by a day's nanoseconds)."""
    a = np.asarray(us, dtype=np.int64)
    out = (a * 1000).astype(np.float64) / _NS_PER_DAY
    big = np.flatnonzero(np.abs(a) >= _US_INT64)
    for i in big.tolist():  # beyond ~292 years from 1970: Python's exact integers
        out[i] = float(int(a[i]) * 1000) / _NS_PER_DAY
    return out


def utc_days_of_us(us: Sequence[int]) -> list[date | None]:
    """Microseconds since the epoch → each instant's UTC calendar day (as `utc_days`)."""
    whole = np.floor_divide(np.asarray(us, dtype=np.int64), _US_PER_DAY)
    uniq, inv = np.unique(whole, return_inverse=True)
    days = [date.fromordinal(_EPOCH_ORDINAL + int(d)) for d in uniq.tolist()]
    return [days[i] for i in inv.tolist()]


def from_columns(cols: dict[str, list[Any]]) -> Accounts:
    """Stored incidents as the candidate search returns them, column-wise: dates as microseconds
    since the epoch (`end_us` = the end, or the start when there is none). The same accounts as
    `from_rows` of the same incidents (tests/unit/triangulation/test_accounts.py)."""
    def num(name: str) -> np.ndarray:  # database numbers or NULL (NaN): no parsing needed
        return np.array(cols[name], dtype=np.float64)

    start = day_numbers_of_us(cols["start_us"])
    return _assemble(key=np.asarray(cols["id"], dtype=object),
                     source=np.asarray(cols["external_source"], dtype=object),
                     lon=num("longitude"), lat=num("latitude"), radius_m=num("location_radius_m"),
                     start=start, end=day_numbers_of_us(cols["end_us"]) + 1.0,
                     days=utc_days_of_us(cols["start_us"]), category=cols["category"],
                     fatalities=num("fatalities_best"), fat_low=num("fatalities_low"),
                     fat_high=num("fatalities_high"),
                     perpetrators=cols["perpetrators"], narrative=cols["narrative"], text=None,
                     cites=cols["cites"])


def as_datetime(days: float) -> datetime:
    return (EPOCH + pd.Timedelta(days=days)).to_pydatetime()
