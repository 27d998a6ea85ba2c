"""Map UCDP GED and ACLED rows onto Kinga incidents. Pure functions: no SQL, no I/O beyond reading.

The mapping tables are documented in docs/import-mapping.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.domain import Category, PerpetratorType
from app.services.hexgrid import latlng_cell

# UCDP where_prec: 1 exact, 2 within 25 km, 3 admin-2, 4 admin-1, 5 linear/large area, 6 country,
# 7 international waters/airspace. Radii are the typical uncertainty in metres.
UCDP_RADIUS_M = {1: 1_000, 2: 25_000, 3: 50_000, 4: 150_000, 5: 150_000, 6: 300_000, 7: 300_000}
# ACLED geo_precision: 1 the town itself, 2 near a town / part of a region, 3 a larger region.
ACLED_RADIUS_M = {1: 2_000, 2: 25_000, 3: 100_000}
# ACLED time_precision 1 day, 2 week, 3 month -> UCDP-style date_prec codes (1 day, 3 week, 4 month).
ACLED_TIME_PREC = {1: 1, 2: 3, 3: 4}

UN_PATTERN = re.compile(r"\b(MINUSCA|MONUSCO|UNMISS|MINUSMA|UNAMID|UNISFA|United Nations|UN )", re.I)
MILITIA_PATTERN = re.compile(r"anti-?balaka|militia|self-defen[cs]e|mai-?mai|communal", re.I)
CRIMINAL_PATTERN = re.compile(r"bandit|criminal|zaraguina|coupeurs? de route|poacher", re.I)
STATE_PATTERN = re.compile(r"^(government of|military forces of|police forces of)", re.I)


class RowError(ValueError):
    """A row that cannot be imported; the message is shown in the import summary."""


@dataclass
class ParsedEvent:
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
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reject:
    row: int
    external_id: str | None
    reason: str


def _s(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _int(v: Any, name: str, *, default: int | None = None, lo: int | None = 0) -> int | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise RowError(f"{name}: not a number ({str(v)[:30]!r})") from None
    if math.isnan(f) or f != int(f):
        raise RowError(f"{name}: not a whole number ({v!r})")
    n = int(f)
    if lo is not None and n < lo:
        if name == "number_of_sources" and n == -1:
            return default  # UCDP codes "unknown" as -1
        raise RowError(f"{name}: must be ≥ {lo} (got {n})")
    return n


def _coord(lat: Any, lon: Any) -> tuple[float, float]:
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        raise RowError("latitude/longitude: not numbers") from None
    if math.isnan(la) or math.isnan(lo) or not (-90 <= la <= 90) or not (-180 <= lo <= 180):
        raise RowError(f"latitude/longitude out of range ({lat}, {lon})")
    return la, lo


def _date(v: Any, name: str) -> datetime:
    s = _s(v)
    if s is None:
        raise RowError(f"{name}: missing")
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%m/%d/%Y"):
        try:
            d = datetime.strptime(s[:19] if "T" in s or ":" in s else s, fmt)
            return d.replace(tzinfo=UTC)
        except ValueError:
            continue
    raise RowError(f"{name}: not a date ({s[:30]!r})")


def perpetrator_type_of(name: str | None) -> str:
    if not name:
        return PerpetratorType.unknown
    if STATE_PATTERN.search(name):
        return PerpetratorType.state_force
    if MILITIA_PATTERN.search(name):
        return PerpetratorType.community_militia
    if CRIMINAL_PATTERN.search(name):
        return PerpetratorType.criminal
    if re.search(r"unknown|unidentified", name, re.I):
        return PerpetratorType.unknown
    return PerpetratorType.non_state_armed_group


# ---------------------------------------------------------------- UCDP GED
def ucdp_event(p: dict[str, Any], lon: Any, lat: Any, h3_res: int) -> ParsedEvent:
    ext = _s(p.get("id"))
    if ext is None:
        raise RowError("id: missing")
    la, lo = _coord(lat, lon)
    tov = _int(p.get("type_of_violence"), "type_of_violence")
    if tov not in (1, 2, 3):
        raise RowError(f"type_of_violence: must be 1, 2 or 3 (got {tov})")
    start = _date(p.get("date_start"), "date_start")
    end = _date(p.get("date_end"), "date_end") if _s(p.get("date_end")) else None
    if end is not None and end < start:
        raise RowError("date_end: before date_start")
    where_prec = _int(p.get("where_prec"), "where_prec", default=1) or 1
    if where_prec not in UCDP_RADIUS_M:
        raise RowError(f"where_prec: must be 1–7 (got {where_prec})")
    date_prec = _int(p.get("date_prec"), "date_prec", default=1) or 1
    if not 1 <= date_prec <= 5:
        raise RowError(f"date_prec: must be 1–5 (got {date_prec})")
    best = _int(p.get("best"), "best", default=0) or 0
    low = _int(p.get("low"), "low")
    high = _int(p.get("high"), "high")
    civ = _int(p.get("deaths_civilians"), "deaths_civilians", default=0) or 0
    side_a, side_b = _s(p.get("side_a")), _s(p.get("side_b"))

    if tov == 3:
        category, sub = Category.killing, "one-sided violence against civilians"
        perps = [side_a] if side_a else []
        ptype = perpetrator_type_of(side_a)
    else:
        perps = [s for s in (side_a, side_b) if s]
        ptype = perpetrator_type_of(side_a)
        kind = "state-based" if tov == 1 else "non-state"
        if side_b and UN_PATTERN.search(side_b) or side_a and UN_PATTERN.search(side_a):
            category, sub = Category.attack_on_peacekeepers, f"{kind} armed conflict"
        elif civ > 0:
            category, sub = Category.killing, f"civilians killed in {kind} armed conflict"
        else:
            category, sub = Category.armed_group_presence, f"{kind} armed clash"

    n_sources = _int(p.get("number_of_sources"), "number_of_sources", default=1) or 1
    clarity = _int(p.get("event_clarity"), "event_clarity", default=1)
    place = _s(p.get("where_coordinates"))
    narrative_parts = [_s(p.get("where_description")), _s(p.get("dyad_name"))]
    return ParsedEvent(
        external_id=ext,
        occurred_start=start,
        occurred_end=end,
        time_precision=date_prec,
        lon=lo,
        lat=la,
        location_precision=where_prec,
        precision_scheme="ucdp",
        location_radius_m=UCDP_RADIUS_M[where_prec],
        h3_cell=latlng_cell(la, lo, h3_res),
        place_name=place,
        admin1=_s(p.get("adm_1")),
        admin2=_s(p.get("adm_2")),
        category=category,
        subcategory=sub,
        perpetrators=perps,
        perpetrator_type=ptype,
        fatalities_low=low,
        fatalities_best=best,
        fatalities_high=high,
        injured=0,
        crsv_survivors=0,
        children_affected=0,
        displaced=0,
        narrative=" — ".join(x for x in narrative_parts if x) or None,
        section="open_source",
        source_name="UCDP GED",
        # UCDP is a curated academic dataset: usually reliable. Clear events are probably true.
        source_reliability="B",
        information_credibility=2 if clarity == 1 else 3,
        source_count=min(max(n_sources, 1), 32767),
        report_narrative=_s(p.get("source_article")),
    )


def iter_ucdp(path: Path, h3_res: int) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    """Yield (row number, event or reject) from a GED GeoJSON or CSV file."""
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            doc = json.loads(path.read_bytes())
        except json.JSONDecodeError as exc:
            raise RowError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise RowError("not a GeoJSON FeatureCollection")
        for i, f in enumerate(feats, start=1):
            props = (f or {}).get("properties") or {}
            try:
                geom = f.get("geometry") or {}
                if geom.get("type") == "Point":
                    lon, lat = geom["coordinates"][:2]
                else:
                    lon, lat = props.get("longitude"), props.get("latitude")
                yield i, ucdp_event(props, lon, lat, h3_res)
            except (RowError, KeyError, TypeError, AttributeError) as exc:
                yield i, Reject(i, _s(props.get("id")), str(exc))
    else:
        for i, row in _csv_rows(path):
            if "__malformed__" in row:
                yield i, Reject(i, _s(row.get("id")), f"malformed CSV row: {row['__malformed__']}")
                continue
            try:
                yield i, ucdp_event(row, row.get("longitude"), row.get("latitude"), h3_res)
            except RowError as exc:
                yield i, Reject(i, _s(row.get("id")), str(exc))


# ---------------------------------------------------------------- ACLED
INTER_TYPES = {
    "1": PerpetratorType.state_force, "state forces": PerpetratorType.state_force,
    "2": PerpetratorType.non_state_armed_group, "rebel group": PerpetratorType.non_state_armed_group,
    "3": PerpetratorType.non_state_armed_group,
    "political militia": PerpetratorType.non_state_armed_group,
    "4": PerpetratorType.community_militia, "identity militia": PerpetratorType.community_militia,
    "8": PerpetratorType.state_force, "external/other forces": PerpetratorType.state_force,
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


def acled_category(row: dict[str, Any], fatalities: int) -> str:
    etype = (_s(row.get("event_type")) or "").lower()
    sub = (_s(row.get("sub_event_type")) or "").lower()
    targets_civilians = bool(_s(row.get("civilian_targeting")))
    victims = " ".join(filter(None, (_s(row.get("actor2")), _s(row.get("assoc_actor_2")))))
    if victims and UN_PATTERN.search(victims):
        return Category.attack_on_peacekeepers
    if sub in ACLED_SUB:
        return ACLED_SUB[sub]
    if etype == "violence against civilians" or targets_civilians:
        return Category.killing if fatalities > 0 else Category.injury
    if etype in ("battles", "explosions/remote violence"):
        return Category.armed_group_presence
    if etype == "riots":
        return Category.injury
    return Category.other


def acled_event(row: dict[str, Any], h3_res: int) -> ParsedEvent:
    ext = _s(row.get("event_id_cnty"))
    if ext is None:
        raise RowError("event_id_cnty: missing")
    la, lo = _coord(row.get("latitude"), row.get("longitude"))
    start = _date(row.get("event_date"), "event_date")
    tp = _int(row.get("time_precision"), "time_precision", default=1) or 1
    if tp not in ACLED_TIME_PREC:
        raise RowError(f"time_precision: must be 1–3 (got {tp})")
    gp = _int(row.get("geo_precision"), "geo_precision", default=1) or 1
    if gp not in ACLED_RADIUS_M:
        raise RowError(f"geo_precision: must be 1–3 (got {gp})")
    fat = _int(row.get("fatalities"), "fatalities", default=0) or 0
    actor1 = _s(row.get("actor1"))
    inter1 = (_s(row.get("inter1")) or "").lower()
    ptype = INTER_TYPES.get(inter1) or perpetrator_type_of(actor1)
    scale = _s(row.get("source_scale")) or ""
    end = start + timedelta(days=6) if tp == 2 else start + timedelta(days=30) if tp == 3 else None
    return ParsedEvent(
        external_id=ext,
        occurred_start=start,
        occurred_end=end,
        time_precision=ACLED_TIME_PREC[tp],
        lon=lo,
        lat=la,
        location_precision=gp,
        precision_scheme="acled",
        location_radius_m=ACLED_RADIUS_M[gp],
        h3_cell=latlng_cell(la, lo, h3_res),
        place_name=_s(row.get("location")),
        admin1=_s(row.get("admin1")),
        admin2=_s(row.get("admin2")),
        category=acled_category(row, fat),
        subcategory=_s(row.get("sub_event_type")),
        perpetrators=[a for a in (actor1, _s(row.get("assoc_actor_1"))) if a],
        perpetrator_type=ptype,
        fatalities_low=None,
        fatalities_best=fat,
        fatalities_high=None,
        injured=0,
        crsv_survivors=1 if (_s(row.get("sub_event_type")) or "").lower() == "sexual violence" else 0,
        children_affected=0,
        displaced=0,
        narrative=_s(row.get("notes")),
        section="open_source",
        source_name=_s(row.get("source")) or "ACLED",
        # ACLED codes from media and local partners: fairly reliable; local/national sources
        # are treated as possibly true unless several scales corroborate.
        source_reliability="B" if "-" in scale else "C",
        information_credibility=2 if "-" in scale else 3,
        source_count=max(1, len([s for s in (_s(row.get("source")) or "").split(";") if s.strip()])),
        report_narrative=_s(row.get("notes")),
        extra={"acled_event_type": _s(row.get("event_type"))},
    )


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise RowError("empty CSV file")
    for i, row in enumerate(reader, start=1):
        if None in row:  # more fields than the header: a malformed row
            yield i, {"__malformed__": f"row has {len(reader.fieldnames) + len(row[None])} fields, "
                      f"header has {len(reader.fieldnames)}", **{k: v for k, v in row.items() if k}}
        else:
            yield i, row


def iter_acled(path: Path, h3_res: int) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    for i, row in _csv_rows(path):
        ext = _s(row.get("event_id_cnty"))
        if "__malformed__" in row:
            yield i, Reject(i, ext, f"malformed CSV row: {row['__malformed__']}")
            continue
        try:
            yield i, acled_event(row, h3_res)
        except RowError as exc:
            yield i, Reject(i, ext, str(exc))


def iter_source(source: str, path: Path, h3_res: int) -> Iterator[tuple[int, ParsedEvent | Reject]]:
    if source == "ucdp":
        return iter_ucdp(path, h3_res)
    if source == "acled":
        return iter_acled(path, h3_res)
    raise RowError(f"unknown source {source!r}; ucdp or acled")
