"""Shared request value types and checks: every value that crosses the edge is bounded here.

Validate at the edge, tolerate at the core: request models refuse what no column, no service
and no later reader could hold (control characters, dates outside any plausible observation,
integers wider than their column, non-finite numbers, GeoJSON that is not a valid area), so the
refusal is a 422 naming the value, never a 500 or a stored row that breaks a later read.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# Observed events (incidents, alerts, reports, responses) happened between these bounds: no
# record of violence against civilians predates 1900, and clocks differ by less than a day.
OBSERVED_MIN = datetime(1900, 1, 1, tzinfo=UTC)
OBSERVED_FUTURE_SLACK = timedelta(days=1)
# Calendar dates of plans and registries (a base's planned closure, an analysis date).
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2200, 12, 31)
INSTANT_MIN = datetime(1900, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
INT32_MAX = 2**31 - 1
INT16_MAX = 2**15 - 1
COUNT_MAX = 10_000_000  # people affected by one incident: far above any real event, fits int4
# A recency decay scale: a quarter of an hour at least (a subnormal scale such as 5e-324 made
# age / scale overflow double precision in SQL), ten years at most.
DECAY_SCALE_MIN_DAYS, DECAY_SCALE_MAX_DAYS = 0.01, 3650

# C0 controls except tab, newline and carriage return; DEL; C1 controls; UTF-16 surrogates
# (a lone one cannot be encoded for the database). NUL is the one PostgreSQL cannot store.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(value: str) -> str | None:
    """A description of the first forbidden character in `value`, or None."""
    m = _CONTROL.search(value)
    if m is None:
        return None
    return f"contains a control character (U+{ord(m.group()):04X}) at position {m.start()}"


def strip_control(value: str) -> str:
    """`value` without its control characters (for messages that quote stored text)."""
    return _CONTROL.sub("", value)


def check_text(value: str) -> str:
    problem = control_character(value)
    if problem:
        raise ValueError(problem)
    return value


def _walk_text(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk_text(k)
            _walk_text(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _walk_text(v)


def observed_max(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) + OBSERVED_FUTURE_SLACK


def check_observed(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone")
    if value < OBSERVED_MIN:
        raise ValueError(f"must not be before {OBSERVED_MIN.date().isoformat()}")
    if value > observed_max():
        raise ValueError("must not be more than one day in the future")
    return value


def check_date(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(f"must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}")
    return value


def check_instant(value: datetime) -> datetime:
    if not INSTANT_MIN <= value <= INSTANT_MAX:
        raise ValueError(f"must be between {INSTANT_MIN.date().isoformat()} and "
                         f"{INSTANT_MAX.date().isoformat()}")
    return value


ObservedAt = Annotated[AwareDatetime, AfterValidator(check_observed)]
"""When something was observed: 1900-01-01 up to one day after now, with a time zone."""
SaneDate = Annotated[date, AfterValidator(check_date)]
"""A calendar date between 1900-01-01 and 2200-12-31."""
SafeText = Annotated[str, AfterValidator(check_text)]
"""Text without NUL, control characters (tab, newline and return allowed) or lone surrogates."""
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields refused, and every string anywhere in the
    body (nested lists and objects included) free of control characters."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        _walk_text(value)
        return value


# --- GeoJSON areas ---------------------------------------------------------------------------

AREA_TYPES = ("Polygon", "MultiPolygon")
MAX_AREA_VERTICES = 100_000


def _position(p: Any, where: str) -> tuple[float, float]:
    if not isinstance(p, list | tuple) or len(p) not in (2, 3):
        raise ValueError(f"{where}: a position is [longitude, latitude]")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p):
        raise ValueError(f"{where}: coordinates must be numbers")
    lon, lat = float(p[0]), float(p[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"{where}: coordinates must be finite")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"{where}: longitude must be within -180..180 and latitude -90..90")
    return lon, lat


def check_area(area: Any) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon in WGS84 that is a valid area: closed rings of at least
    four positions, coordinates in range, no self-intersection. Returns it unchanged."""
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    if not isinstance(area, dict) or area.get("type") not in AREA_TYPES:
        raise ValueError("must be a GeoJSON Polygon or MultiPolygon")
    coords = area.get("coordinates")
    polygons = [coords] if area["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("coordinates: a list of linear rings is required")
    vertices = 0
    for i, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise ValueError(f"polygon {i}: needs at least an exterior ring")
        for j, ring in enumerate(rings):
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValueError(f"polygon {i} ring {j}: a ring needs at least 4 positions")
            pts = [_position(p, f"polygon {i} ring {j}") for p in ring]
            if pts[0] != pts[-1]:
                raise ValueError(f"polygon {i} ring {j}: a ring must be closed (first = last)")
            vertices += len(pts)
            if vertices > MAX_AREA_VERTICES:
                raise ValueError(f"more than {MAX_AREA_VERTICES} positions")
    extra = set(area) - {"type", "coordinates", "bbox"}
    if extra:
        raise ValueError(f"unexpected member(s): {', '.join(sorted(extra))}")
    geom = shape(area)
    if geom.is_empty or not geom.is_valid:
        raise ValueError(f"not a valid area: {explain_validity(geom)}")
    if geom.area <= 0:
        raise ValueError("the area is empty")
    return area


GeoJSONArea = Annotated[dict[str, Any], AfterValidator(check_area)]


def refuse_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    """A partial update may leave a field out, never set a required one to null."""
    nulled = [f for f in fields if f in model.model_fields_set and getattr(model, f) is None]
    if nulled:
        raise ValueError(f"{', '.join(nulled)} cannot be null (leave the field out to keep it)")


# --- documented answers (issue 11) -----------------------------------------------------------


class ResponseModel(BaseModel):
    """Base of the answers routes build themselves (plain dicts serialised with orjson): the
    model documents them in the OpenAPI document and names every field, so a field a route adds
    without documenting it fails tests/api/platform/test_response_shapes.py."""

    model_config = ConfigDict(extra="forbid")


class Geometry(ResponseModel):
    """A GeoJSON geometry (WGS84 longitude, latitude)."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon"]
    coordinates: list[Any] = Field(description="positions nested as the type requires")


class Area(ResponseModel):
    """A GeoJSON Polygon or MultiPolygon (WGS84)."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]
