"""Map UCDP GED and ACLED exports onto Kinga incidents. Pure functions: no SQL.

The mapping is written once, column-wise over a pandas frame (a 200,000-row export maps in about
a second); `ucdp_event` / `acled_event` apply the same code to one row. Every row that cannot be
imported gets a reason; the mapping tables are documented in docs/import-mapping.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from h3.api import basic_int as h3int

from app.domain import Category, PerpetratorType
from app.schemas.common import COUNT_MAX, INT32_MAX, OBSERVED_MIN, observed_max
from app.schemas.events import ParsedEvent  # noqa: F401  (the mapped record; re-exported)
from app.services.incidents import import_readers as export_readers
from app.services.incidents.outlets import cited_outlets

# UCDP where_prec: 1 exact, 2 within 25 km, 3 admin-2, 4 admin-1, 5 linear/large area, 6 country,
# 7 international waters/airspace. Radii are the typical uncertainty in metres.
UCDP_RADIUS_M = {1: 1_000, 2: 25_000, 3: 50_000, 4: 150_000, 5: 150_000, 6: 300_000, 7: 300_000}
# ACLED geo_precision: 1 the town itself, 2 near a town / part of a region, 3 a larger region.
ACLED_RADIUS_M = {1: 2_000, 2: 25_000, 3: 100_000}
# ACLED time_precision 1 day, 2 week, 3 month -> UCDP-style date_prec codes (1 day, 3 week, 4 month).
ACLED_TIME_PREC = {1: 1, 2: 3, 3: 4}
ACLED_SPAN_DAYS = {1: None, 2: 6, 3: 30}
UNKNOWN_PRECISION = 0  # a blank precision code: unknown, at the scheme's coarsest radius

def _actor_patterns() -> dict[str, re.Pattern[str]]:
    """Actor classes from app/data/actors.json (mission and armed-group names are data)."""
    doc = json.loads((Path(__file__).resolve().parents[2] / "data" / "actors.json").read_bytes())
    return {k: re.compile(("" if k == "state" else r"\b") + "(" + "|".join(v) + ")", re.I)
            for k, v in doc.items() if not k.startswith("_")}


ACTORS = _actor_patterns()
PEACEKEEPER_PATTERN = ACTORS["peacekeepers"]
HUMANITARIAN_PATTERN = ACTORS["humanitarians"]
UN_PATTERN = re.compile(PEACEKEEPER_PATTERN.pattern + "|" + HUMANITARIAN_PATTERN.pattern, re.I)
MILITIA_PATTERN = ACTORS["community_militias"]
CRIMINAL_PATTERN = ACTORS["criminals"]
NOT_ARMED_PATTERN = ACTORS["not_armed"]
STATE_PATTERN = ACTORS["state"]
# ACLED exports seen in the wild: "31 December 2015", "31-Dec-15", "2015-12-31", "31/12/2015".
DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y", "%d-%b-%y", "%d-%B-%y",
                "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y")


class RowError(ValueError):
    """A row (or a file) that cannot be imported; the message is shown in the import summary."""


@dataclass(order=True)
class Reject:
    row: int
    external_id: str | None
    reason: str


@lru_cache(maxsize=8192)
def is_un_mission(name: str | None) -> bool:
    """A peacekeeping mission or a UN/humanitarian agency (attacks on either share a category)."""
    return bool(name and UN_PATTERN.search(name))


@lru_cache(maxsize=8192)
def is_peacekeeper(name: str | None) -> bool:
    return bool(name and PEACEKEEPER_PATTERN.search(name))


@lru_cache(maxsize=8192)
def perpetrator_type_of(name: str | None) -> str:
    if not name:
        return PerpetratorType.unknown
    if STATE_PATTERN.search(name):
        return PerpetratorType.state_force
    if NOT_ARMED_PATTERN.search(name):  # protesters, rioters, parties: not armed groups
        return PerpetratorType.unknown
    if MILITIA_PATTERN.search(name):
        return PerpetratorType.community_militia
    if CRIMINAL_PATTERN.search(name):
        return PerpetratorType.criminal
    if re.search(r"unknown|unidentified", name, re.I):
        return PerpetratorType.unknown
    return PerpetratorType.non_state_armed_group


# ------------------------------------------------------------------ column helpers
class _Checks:
    """Collects the first failure reason per row. Messages are built only for failing rows."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.failed = np.zeros(len(index), dtype=bool)
        self.reasons: dict[int, str] = {}

    def fail(self, mask: pd.Series | np.ndarray, message: str | Callable[[pd.Series], Any]) -> None:
        """`message`: a string, or a function of the new failures' mask giving one per row."""
        new = np.asarray(mask, dtype=bool) & ~self.failed
        if not new.any():
            return
        rows = np.flatnonzero(new)
        if isinstance(message, str):
            texts = [message] * len(rows)
        else:
            texts = list(message(pd.Series(new, index=self.index)))
        self.reasons.update(zip(rows.tolist(), texts, strict=True))
        self.failed |= new

    @property
    def ok(self) -> pd.Series:
        return pd.Series(~self.failed, index=self.index)


UCDP_COLUMNS = frozenset({
    "id", "latitude", "longitude", "type_of_violence", "date_start", "date_end", "where_prec",
    "date_prec", "best", "low", "high", "deaths_civilians", "number_of_sources", "event_clarity",
    "side_a", "side_b", "where_description", "dyad_name", "where_coordinates", "adm_1", "adm_2",
    "source_article", "source_office"})
ACLED_COLUMNS = frozenset({
    "event_id_cnty", "latitude", "longitude", "event_date", "time_precision", "geo_precision",
    "fatalities", "event_type", "sub_event_type", "civilian_targeting", "actor1", "assoc_actor_1",
    "actor2", "assoc_actor_2", "inter1", "source_scale", "source", "location", "admin1", "admin2",
    "notes"})


class _Cols:
    """Columns of one export as stripped strings ("" when absent or null), each computed once.
    Only `declared` columns may be read (CSV readers convert just those)."""

    def __init__(self, df: pd.DataFrame, *, all_str: bool, declared: frozenset[str]) -> None:
        self.df, self.all_str, self.declared = df, all_str, declared
        self.cache: dict[str, pd.Series] = {}

    def text(self, col: str) -> pd.Series:
        if col not in self.cache:
            self.cache[col] = self._text(col, strip=True)
        return self.cache[col]

    def free_text(self, col: str) -> pd.Series:
        """Narrative columns: kept as written (no per-cell strip; a 200,000-row file has millions)."""
        key = "\0" + col
        if key not in self.cache:
            self.cache[key] = self._text(col, strip=False)
        return self.cache[key]

    def _text(self, col: str, *, strip: bool) -> pd.Series:
        if col not in self.declared:
            raise RuntimeError(f"mapper reads undeclared column {col!r}")
        df = self.df
        if col not in df:
            return pd.Series("", index=df.index, dtype=object)
        s = df[col]
        if s.dtype.kind in "fiub":  # numbers from GeoJSON: whole floats print without ".0"
            whole = s.notna() & (s == s.round())
            out = s.astype(object).where(~whole, s.fillna(0).astype("int64")).astype(str)
            return out.where(s.notna(), "")
        if self.all_str:  # CSV cells are strings already, never null
            return s.str.strip() if strip else s
        out = s.where(s.notna(), "").astype(object)
        return out.str.strip() if strip else out.astype(str)


NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _numbers(raw: pd.Series) -> pd.Series:
    """Decimal numbers (NaN where a cell is not one), parsed by Arrow: no per-cell Python."""
    arr = pa.array(raw, type=pa.string(), from_pandas=True)
    valid = pc.match_substring_regex(arr, NUMBER)
    num = pc.cast(pc.if_else(valid, arr, pa.scalar(None, pa.string())), pa.float64())
    return pd.Series(num.to_numpy(zero_copy_only=False), index=raw.index)


def _per_value(s: pd.Series, f: Callable[[Any], Any]) -> pd.Series:
    """f applied once per distinct value (names and codes repeat across an export)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    values = np.empty(len(uniques), dtype=object)  # element-wise: tuples stay tuples
    values[:] = [f(u) for u in uniques]
    return pd.Series(values[codes], index=s.index)


def _none_if_empty(s: pd.Series) -> pd.Series:
    return s.where(s != "", None)


def _ints(cols: _Cols, col: str, chk: _Checks, *, default: int | None, lo: int | None = 0,
          unknown: int | None = None) -> pd.Series:
    """Whole numbers; blank → default; `unknown` (e.g. UCDP's -1) → default."""
    raw = cols.text(col)
    num = _numbers(raw)
    blank = raw == ""
    chk.fail(~blank & num.isna(), lambda m: col + ": not a number (" + raw[m].str.slice(0, 30) + ")")
    chk.fail(~blank & num.notna() & (num != np.floor(num.fillna(0))),
             lambda m: col + ": not a whole number (" + raw[m] + ")")
    huge = num.abs() > INT32_MAX  # no column holds it (and it cannot become an integer)
    chk.fail(~blank & huge, lambda m: col + ": out of range (" + raw[m].str.slice(0, 30) + ")")
    num = num.where(~huge)
    if unknown is not None:
        blank = blank | (num == unknown)
    if lo is not None:
        chk.fail(~blank & (num < lo), lambda m: col + ": must be ≥ " + str(lo) + " (got " + raw[m] + ")")
    out = num.where(~blank & num.notna(), np.nan if default is None else default)
    return out.astype("Int64")


def _in(series: pd.Series, allowed: dict[int, Any] | set[int], chk: _Checks, col: str, what: str) -> None:
    chk.fail(series.notna() & ~series.isin(list(allowed)),
             lambda m: col + ": must be " + what + " (got " + series[m].astype(str) + ")")


@lru_cache(maxsize=65536)
def _parse_date(value: str) -> Any:
    for fmt in DATE_FORMATS:
        try:
            return pd.Timestamp(datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC))
        except ValueError:
            continue
    return pd.NaT


def _dates(cols: _Cols, col: str, chk: _Checks, *, required: bool) -> pd.Series:
    raw = cols.text(col)
    out = pd.to_datetime(raw.where(raw != "", None), errors="coerce", utc=True, format="ISO8601")
    retry = out.isna() & (raw != "")
    if retry.any():  # exports with "02 March 2024" or "31-Dec-15" dates: parse each distinct one
        parsed = {v: _parse_date(v) for v in pd.unique(raw[retry])}
        fixed = pd.to_datetime(raw[retry].map(parsed), utc=True).astype(out.dtype)
        out = out.copy()
        out[retry] = fixed
    if required:
        chk.fail(raw == "", col + ": missing")
    chk.fail((raw != "") & out.isna(), lambda m: col + ": not a date (" + raw[m].str.slice(0, 30) + ")")
    return out


def _coords(cols: _Cols, chk: _Checks, lat_col: str = "latitude", lon_col: str = "longitude"
            ) -> tuple[pd.Series, pd.Series]:
    lat = _numbers(cols.text(lat_col))
    lon = _numbers(cols.text(lon_col))
    chk.fail(lat.isna() | lon.isna(), "latitude/longitude: not numbers")
    bad = ~lat.between(-90, 90) | ~lon.between(-180, 180)
    chk.fail(bad, lambda m: "latitude/longitude out of range (" + cols.text(lat_col)[m] + ", "
             + cols.text(lon_col)[m] + ")")
    return lat, lon


def _cells(lat: pd.Series, lon: pd.Series, ok: pd.Series, res: int) -> pd.Series:
    cells = pd.Series(0, index=lat.index, dtype="int64")
    if not ok.any():
        return cells
    la, lo = lat[ok].to_numpy(), lon[ok].to_numpy()
    cells[ok] = [h3int.latlng_to_cell(a, b, res) for a, b in zip(la.tolist(), lo.tolist(), strict=True)]
    return cells


def _kept(frame: dict[str, Any], ok: pd.Series, rownum: pd.Series) -> pd.DataFrame:
    """The rows that passed every check, one column per ParsedEvent field plus "__row"."""
    keep = ok.to_numpy()
    data = {name: (v[keep] if isinstance(v, pd.Series) else v)
            for name, v in ((n, frame[n]) for n in ParsedEvent._fields)}
    data["__row"] = rownum[keep]
    return pd.DataFrame(data, index=rownum.index[keep])


def events_of(events: pd.DataFrame) -> list[ParsedEvent]:
    """A mapped frame as ParsedEvents (missing values as None, times as datetimes)."""
    columns = []
    for name in ParsedEvent._fields:
        col = events[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            arr = np.array(col.dt.to_pydatetime(), dtype=object)
        else:
            arr = col.to_numpy(dtype=object, copy=True)
        arr[pd.isna(col).to_numpy()] = None
        columns.append(arr.tolist())
    return list(map(ParsedEvent._make, zip(*columns, strict=True)))


def _rejects(chk: _Checks, ids: pd.Series, rownum: pd.Series) -> list[Reject]:
    id_list, rows = ids.tolist(), rownum.tolist()
    return [Reject(int(rows[pos]), id_list[pos] or None, reason)
            for pos, reason in sorted(chk.reasons.items())]


# ------------------------------------------------------------------ UCDP GED
def ucdp_frame(df: pd.DataFrame, h3_res: int, *, all_str: bool = False
               ) -> tuple[pd.DataFrame, list[Reject]]:
    cols = _Cols(df, all_str=all_str, declared=UCDP_COLUMNS)
    chk = _Checks(df.index)
    ext = cols.text("id")
    chk.fail(ext == "", "id: missing")
    lat, lon = _coords(cols, chk)
    tov = _ints(cols, "type_of_violence", chk, default=None)
    chk.fail(tov.isna() | ~tov.isin([1, 2, 3]),
             lambda m: "type_of_violence: must be 1, 2 or 3 (got " + tov[m].astype(str) + ")")
    start = _dates(cols, "date_start", chk, required=True)
    end = _dates(cols, "date_end", chk, required=False)
    chk.fail(end.notna() & start.notna() & (end < start), "date_end: before date_start")
    # A blank precision code is unknown (0, at the coarsest radius), never exact.
    where_prec = _ints(cols, "where_prec", chk, default=None)
    _in(where_prec, UCDP_RADIUS_M, chk, "where_prec", "1–7")
    date_prec = _ints(cols, "date_prec", chk, default=None)
    _in(date_prec, {1, 2, 3, 4, 5}, chk, "date_prec", "1–5")
    best = _ints(cols, "best", chk, default=0)
    low = _ints(cols, "low", chk, default=None)
    high = _ints(cols, "high", chk, default=None)
    civ = _ints(cols, "deaths_civilians", chk, default=0)
    n_sources = _ints(cols, "number_of_sources", chk, default=1, unknown=-1)
    clarity = _ints(cols, "event_clarity", chk, default=1, lo=None)

    side_a, side_b = cols.free_text("side_a"), cols.free_text("side_b")
    un = (_per_value(side_a, is_un_mission) | _per_value(side_b, is_un_mission)).astype(bool)
    # A blank type_of_violence is NA: the row is rejected above; NA must not reach numpy.
    tov = tov.fillna(0)
    one_sided = tov == 3
    kind = np.where((tov == 1).to_numpy(dtype=bool), "state-based", "non-state")
    category = np.select(
        [one_sided.fillna(False), un, (civ > 0).fillna(False)],
        [Category.killing.value, Category.attack_on_peacekeepers.value, Category.killing.value],
        Category.armed_group_presence.value)
    sub = np.select(
        [one_sided.fillna(False), un, (civ > 0).fillna(False)],
        ["one-sided violence against civilians", pd.Series(kind) + " armed conflict",
         "civilians killed in " + pd.Series(kind) + " armed conflict"],
        pd.Series(kind) + " armed clash")
    perps = [([a] if a else []) if t == 3 else [x for x in (a, b) if x]
             for a, b, t in zip(side_a.tolist(), side_b.tolist(), tov.fillna(0).tolist(), strict=True)]
    desc, dyad = cols.free_text("where_description"), cols.free_text("dyad_name")
    narrative = (desc + " — " + dyad).str.strip(" —")
    frame = {
        "external_id": ext, "occurred_start": start, "occurred_end": end,
        "time_precision": date_prec.fillna(UNKNOWN_PRECISION), "lon": lon, "lat": lat,
        "location_precision": where_prec.fillna(UNKNOWN_PRECISION),
        "precision_scheme": "ucdp",
        "location_radius_m": where_prec.map(UCDP_RADIUS_M).fillna(max(UCDP_RADIUS_M.values())),
        "h3_cell": _cells(lat, lon, chk.ok, h3_res),
        "place_name": _none_if_empty(cols.free_text("where_coordinates")),
        "admin1": _none_if_empty(cols.free_text("adm_1")), "admin2": _none_if_empty(cols.free_text("adm_2")),
        "category": pd.Series(category, index=df.index), "subcategory": pd.Series(sub, index=df.index),
        "perpetrators": pd.Series(perps, index=df.index, dtype=object),
        "perpetrator_type": _per_value(side_a, perpetrator_type_of),
        "fatalities_low": low, "fatalities_best": best, "fatalities_high": high,
        "injured": 0, "crsv_survivors": 0, "children_affected": 0, "displaced": 0,
        "narrative": _none_if_empty(narrative),
        "section": "open_source", "source_name": "UCDP GED",
        # UCDP is a curated academic dataset: usually reliable; clear events are probably true.
        "source_reliability": "B",
        "information_credibility": pd.Series(np.where(clarity == 1, 2, 3), index=df.index),
        "source_count": n_sources.clip(lower=1, upper=32767),
        "report_narrative": _none_if_empty(cols.free_text("source_article")),
        "report_cites": _per_value(cols.text("source_office"), cited_outlets),
    }
    check_stored_values(frame, chk)
    return _kept(frame, chk.ok, df["__row"]), _rejects(chk, ext, df["__row"])


# ------------------------------------------------------------------ ACLED
INTER_TYPES = {
    "1": PerpetratorType.state_force, "state forces": PerpetratorType.state_force,
    "2": PerpetratorType.non_state_armed_group, "rebel group": PerpetratorType.non_state_armed_group,
    "3": PerpetratorType.non_state_armed_group,
    "political militia": PerpetratorType.non_state_armed_group,
    "4": PerpetratorType.community_militia, "identity militia": PerpetratorType.community_militia,
    "8": PerpetratorType.state_force, "external/other forces": PerpetratorType.state_force,
    # rioters, protesters and civilians are not armed groups
    "5": PerpetratorType.unknown, "rioters": PerpetratorType.unknown,
    "6": PerpetratorType.unknown, "protesters": PerpetratorType.unknown,
    "7": PerpetratorType.unknown, "civilians": PerpetratorType.unknown,
}

ACLED_SUB = {
    "sexual violence": Category.sexual_violence,
    "abduction/forced disappearance": Category.abduction,
    "looting/property destruction": Category.looting_destruction,
    "arrests": Category.other,
    "non-violent transfer of territory": Category.armed_group_presence,
    "headquarters or base established": Category.armed_group_presence,
    "disrupted weapons use": Category.armed_group_presence,
    "change to group/activity": Category.armed_group_presence,
    "mob violence": Category.injury,
    "violent demonstration": Category.threat_intimidation,
}


def acled_frame(df: pd.DataFrame, h3_res: int, *, all_str: bool = False
                ) -> tuple[pd.DataFrame, list[Reject]]:
    cols = _Cols(df, all_str=all_str, declared=ACLED_COLUMNS)
    chk = _Checks(df.index)
    ext = cols.text("event_id_cnty")
    chk.fail(ext == "", "event_id_cnty: missing")
    lat, lon = _coords(cols, chk)
    start = _dates(cols, "event_date", chk, required=True)
    tp = _ints(cols, "time_precision", chk, default=None)
    _in(tp, ACLED_TIME_PREC, chk, "time_precision", "1–3")
    gp = _ints(cols, "geo_precision", chk, default=None)
    _in(gp, ACLED_RADIUS_M, chk, "geo_precision", "1–3")
    fat = _ints(cols, "fatalities", chk, default=0)

    etype = cols.text("event_type").str.lower()
    sub_raw = cols.text("sub_event_type")
    sub = sub_raw.str.lower()
    civilians = cols.text("civilian_targeting") != ""
    victim_names = cols.free_text("actor2") + " " + cols.free_text("assoc_actor_2")
    victims = _per_value(victim_names, is_un_mission).astype(bool)
    # UN agency staff and aid workers are humanitarians; peacekeepers only where a mission is named
    peacekeepers = _per_value(victim_names, is_peacekeeper).astype(bool)
    category = np.select(
        [victims, sub.isin(list(ACLED_SUB)),
         (etype == "violence against civilians") | civilians,
         etype.isin(["battles", "explosions/remote violence"]), etype == "riots"],
        [Category.attack_on_peacekeepers.value, sub.map(lambda s: ACLED_SUB.get(s, "other")),
         np.where(fat.fillna(0) > 0, Category.killing.value, Category.injury.value),
         Category.armed_group_presence.value, Category.injury.value],
        Category.other.value)
    actor1, assoc1 = cols.free_text("actor1"), cols.free_text("assoc_actor_1")
    inter1 = cols.text("inter1").str.lower()
    ptype = [INTER_TYPES.get(i) or perpetrator_type_of(a or None)
             for i, a in zip(inter1.tolist(), actor1.tolist(), strict=True)]
    scale = cols.text("source_scale")
    mixed = scale.str.contains("-", regex=False)
    source = cols.free_text("source")
    span = tp.map(ACLED_SPAN_DAYS)
    end = start + pd.to_timedelta(span.astype(float), unit="D")
    frame = {
        "external_id": ext, "occurred_start": start, "occurred_end": end,
        "time_precision": tp.map(ACLED_TIME_PREC).fillna(UNKNOWN_PRECISION), "lon": lon,
        "lat": lat, "location_precision": gp.fillna(UNKNOWN_PRECISION),
        "precision_scheme": "acled",
        "location_radius_m": gp.map(ACLED_RADIUS_M).fillna(max(ACLED_RADIUS_M.values())),
        "h3_cell": _cells(lat, lon, chk.ok, h3_res),
        "place_name": _none_if_empty(cols.free_text("location")),
        "admin1": _none_if_empty(cols.free_text("admin1")),
        "admin2": _none_if_empty(cols.free_text("admin2")),
        "category": pd.Series(category, index=df.index),
        "subcategory": pd.Series(np.where(
            victims, np.where(peacekeepers, "attack on peacekeepers", "attack on humanitarians"),
            _none_if_empty(sub_raw).to_numpy(dtype=object)), index=df.index, dtype=object),
        "perpetrators": pd.Series([[x for x in (a, b) if x]
                                   for a, b in zip(actor1.tolist(), assoc1.tolist(), strict=True)],
                                  index=df.index, dtype=object),
        "perpetrator_type": pd.Series(ptype, index=df.index, dtype=object),
        "fatalities_low": None, "fatalities_best": fat, "fatalities_high": None,
        "injured": 0, "crsv_survivors": (sub == "sexual violence").astype(int),
        "children_affected": 0, "displaced": 0, "narrative": _none_if_empty(cols.free_text("notes")),
        "section": "open_source", "source_name": _none_if_empty(source).fillna("ACLED"),
        # ACLED codes from media and local partners: fairly reliable; sources of more than one
        # scale (e.g. "National-Local") corroborate each other.
        "source_reliability": pd.Series(np.where(mixed, "B", "C"), index=df.index),
        "information_credibility": pd.Series(np.where(mixed, 2, 3), index=df.index),
        "source_count": _per_value(source, lambda s: max(1, sum(1 for p in s.split(";") if p.strip()))
                                   ).astype("int64"),
        "report_narrative": _none_if_empty(cols.free_text("notes")),
        "report_cites": _per_value(source, cited_outlets),
    }
    check_stored_values(frame, chk)
    return _kept(frame, chk.ok, df["__row"]), _rejects(chk, ext, df["__row"])


# ------------------------------------------------------------------ every source: storable values
COUNT_FIELDS = ("fatalities_low", "fatalities_best", "fatalities_high", "injured",
                "crsv_survivors", "children_affected", "displaced")
TEXT_FIELDS = ("external_id", "place_name", "admin1", "admin2", "subcategory", "narrative",
               "source_name", "report_narrative")
EXTERNAL_ID_MAX = 64  # incident.external_id is varchar(64)
CONTROL_PATTERN = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


def check_stored_values(frame: dict[str, Any], chk: _Checks) -> None:
    """Whatever the source, a row is rejected (with its reason) unless every value it would store
    is one the database and every later reader can hold: counts within COUNT_MAX (int4
    columns), the event within 1900 .. now + 1 day (its end at most a year after its start), no
    control characters in any text, source ids that fit their column."""
    for name in COUNT_FIELDS:
        v = frame[name]
        if isinstance(v, pd.Series):
            num = pd.to_numeric(v, errors="coerce")
            chk.fail(num.notna() & ((num > COUNT_MAX) | (num < 0)), _count_message(name, num))
    start, end = frame["occurred_start"], frame["occurred_end"]
    if isinstance(start, pd.Series):
        lo = pd.Timestamp(OBSERVED_MIN)
        hi = pd.Timestamp(observed_max())
        chk.fail(start.notna() & ((start < lo) | (start > hi)),
                 lambda m: "date: " + start[m].astype(str).str.slice(0, 10)
                 + " is outside 1900-01-01 .. tomorrow")
        if isinstance(end, pd.Series):
            chk.fail(end.notna() & start.notna() & (end > start + pd.Timedelta(days=366)),
                     "date_end: more than a year after the start")
    for name in TEXT_FIELDS:
        v = frame[name]
        if isinstance(v, pd.Series) and v.dtype == object:
            chk.fail(_has_control(v), name + ": contains a control character")
    ext = frame["external_id"]
    if isinstance(ext, pd.Series):
        too_long = pc.utf8_length(pa.array(ext, type=pa.string(), from_pandas=True))
        chk.fail(pc.fill_null(pc.greater(too_long, EXTERNAL_ID_MAX), False).to_numpy(
            zero_copy_only=False), "id: longer than " + str(EXTERNAL_ID_MAX) + " characters")
    perps = frame["perpetrators"]
    if isinstance(perps, pd.Series) and len(perps):
        names = perps.explode()
        bad = _has_control(names.where(names.notna(), None))
        if bad.any():
            chk.fail(pd.Series(bad, index=names.index).groupby(level=0).any()
                     .reindex(perps.index, fill_value=False).to_numpy(),
                     "perpetrators: a name contains a control character")


def _count_message(name: str, num: pd.Series) -> Callable[[pd.Series], pd.Series]:
    def message(m: pd.Series) -> pd.Series:
        return name + ": must be between 0 and " + str(COUNT_MAX) + " (got " + num[m].astype(str) + ")"
    return message


def _has_control(values: pd.Series) -> np.ndarray:
    """Which values hold a control character (Arrow's RE2, no per-value Python)."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    hit = pc.match_substring_regex(arr, CONTROL_PATTERN)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


FRAME_MAPPERS: dict[str, Callable[..., tuple[pd.DataFrame, list[Reject]]]] = {
    "ucdp": ucdp_frame, "acled": acled_frame}
FRAME_COLUMNS = {"ucdp": UCDP_COLUMNS, "acled": ACLED_COLUMNS}


def map_ucdp(df: pd.DataFrame, h3_res: int, *, all_str: bool = False
             ) -> tuple[list[ParsedEvent], list[Reject]]:
    events, rejects = ucdp_frame(df, h3_res, all_str=all_str)
    return events_of(events), rejects


def map_acled(df: pd.DataFrame, h3_res: int, *, all_str: bool = False
              ) -> tuple[list[ParsedEvent], list[Reject]]:
    events, rejects = acled_frame(df, h3_res, all_str=all_str)
    return events_of(events), rejects


class MappedChunk(NamedTuple):
    """One chunk of a file: its good rows as a frame (ParsedEvent's columns and "__row"), its
    rejects (malformed CSV rows included, in row order) and how many rows it covered."""

    events: pd.DataFrame
    rejects: list[Reject]
    rows: int


def iter_chunks(source: str, path: Path, h3_res: int, *, chunk_rows: int = 20_000
                ) -> Iterator[MappedChunk]:
    """Map a file chunk by chunk. RowError (at call time) if the file is unreadable.

    The file is read at once but mapped chunk by chunk, so a caller can store one chunk while
    the next is mapped."""
    mapper = FRAME_MAPPERS.get(source)
    if mapper is None:
        raise RowError(f"unknown source {source!r}; ucdp or acled")
    malformed: list[tuple[int, str | None, str]] = []
    from_csv = path.suffix.lower() not in (".geojson", ".json")
    try:
        if from_csv:
            df, malformed = export_readers.csv_frame(path, FRAME_COLUMNS[source])
        else:
            df = export_readers.geojson_frame(path)
    except export_readers.ExportError as exc:
        raise RowError(str(exc)) from None
    return _mapped_chunks(mapper, df, malformed, h3_res, from_csv, chunk_rows)


def _mapped_chunks(mapper: Any, df: pd.DataFrame, malformed: list[tuple[int, str | None, str]],
                   h3_res: int, all_str: bool, chunk_rows: int) -> Iterator[MappedChunk]:
    pending = sorted(Reject(r, i, reason) for r, i, reason in malformed)  # malformed rows, in order
    for lo in range(0, len(df), chunk_rows):
        chunk = df.iloc[lo:lo + chunk_rows]
        events, rejects = mapper(chunk, h3_res, all_str=all_str)
        last = int(chunk["__row"].iloc[-1])
        n_malformed = 0
        while pending and pending[0].row < last:
            rejects.append(pending.pop(0))
            n_malformed += 1
        yield MappedChunk(events, sorted(rejects), len(chunk) + n_malformed)
    if pending:
        yield MappedChunk(pd.DataFrame(columns=[*ParsedEvent._fields, "__row"]), pending,
                          len(pending))


def iter_source(source: str, path: Path, h3_res: int, *, chunk_rows: int = 20_000
                ) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    """Yield (row number, event or reject), in row order. RowError (at call time) if the file is
    unreadable."""
    chunks = iter_chunks(source, path, h3_res, chunk_rows=chunk_rows)

    def merged() -> Iterator[tuple[int, ParsedEvent | Reject]]:
        for chunk in chunks:
            rows = [int(r) for r in chunk.events["__row"].tolist()]
            items: list[tuple[int, ParsedEvent | Reject]] = [
                *zip(rows, events_of(chunk.events), strict=True),
                *((r.row, r) for r in chunk.rejects)]
            items.sort(key=lambda t: t[0])
            yield from items
    return merged()


def iter_ucdp(path: Path, h3_res: int) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    return iter_source("ucdp", path, h3_res)


def iter_acled(path: Path, h3_res: int) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    return iter_source("acled", path, h3_res)


def _one(mapper: Any, row: dict[str, Any], h3_res: int) -> ParsedEvent:
    df = pd.DataFrame.from_records([{**row, "__row": 1}])
    events, rejects = mapper(df, h3_res)
    if rejects:
        raise RowError(rejects[0].reason)
    return events[0]  # type: ignore[no-any-return]


def ucdp_event(props: dict[str, Any], lon: Any, lat: Any, h3_res: int) -> ParsedEvent:
    """Map one GED row (the same code path as whole files)."""
    return _one(map_ucdp, {**props, "longitude": lon, "latitude": lat}, h3_res)


def acled_event(row: dict[str, Any], h3_res: int) -> ParsedEvent:
    """Map one ACLED row (the same code path as whole files)."""
    return _one(map_acled, row, h3_res)
