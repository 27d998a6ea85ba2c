"""Query values parsed into domain values (framework-free: routers, OGC and the CLI share them)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time

from app.errors import InvalidInput
from app.schemas.common import check_instant


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    parts = bbox.split(",")
    err = [{"pointer": "/query/bbox", "detail": "minLon,minLat,maxLon,maxLat in WGS84"}]
    if len(parts) != 4:
        raise InvalidInput("bbox needs four numbers: minLon,minLat,maxLon,maxLat", errors=err)
    try:
        x1, y1, x2, y2 = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput("bbox values must be numbers", errors=err) from None
    if any(math.isnan(v) or math.isinf(v) for v in (x1, y1, x2, y2)):
        raise InvalidInput("bbox values must be finite", errors=err)
    if not (-180 <= x1 <= 180 and -180 <= x2 <= 180 and -90 <= y1 <= 90 and -90 <= y2 <= 90):
        raise InvalidInput("bbox is outside WGS84 bounds", errors=err)
    if x1 > x2 or y1 > y2:
        raise InvalidInput("bbox is inverted: min must not exceed max", errors=err)
    return x1, y1, x2, y2


def parse_instant(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """ISO date or datetime; a bare date means its start (or end, for upper bounds), in UTC."""
    if value is None or value == "" or value == "..":
        return None
    err = [{"pointer": f"/query/{name}", "detail": "ISO 8601 date or date-time"}]
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            dt = datetime.combine(d, time.max if end_of_day else time.min, tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name} is not an ISO 8601 date or date-time", errors=err) from None
    try:  # a window, an origin or a filter between 1900 and 2200 (issue 11)
        return check_instant(dt)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput.at(f"/query/{name}", str(exc)) from None
