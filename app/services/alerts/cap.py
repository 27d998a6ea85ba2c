"""OASIS CAP 1.2 alerts in: parsed and validated against the vendored schema (warnings go out as
CAP in app/services/warnings/cap_feed.py). CAP writes points as "lat,lon"; GeoJSON as [lon, lat]."""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree
from shapely.geometry import Point, Polygon

from app.domain import Category
from app.errors import InvalidInput
from app.schemas.alerts import AlertInput
from app.schemas.cap import CAP_MEDIA, CAP_NS  # noqa: F401  (CAP_MEDIA: re-exported for intake)

NS = {"cap": CAP_NS}
CATEGORY_KEYS = ("kinga:category", "category")
# A CAP circle wider than this is no location (it would cover a whole region of a country).
MAX_CIRCLE_KM = 2000.0


@lru_cache(maxsize=2)
def schema(path: Path) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(path))


def schema_path(geodata_dir: Path) -> Path:
    return geodata_dir / "cap" / "CAP-v1.2.xsd"


def _bad(detail: str, pointer: str = "/body") -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": pointer, "detail": detail[:500]}])


def _parser() -> etree.XMLParser:
    # No DTDs, no entity expansion, no network: CAP needs none of them.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )


def _parse_root(body: bytes) -> Any:
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise _bad(f"malformed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise _bad("a DOCTYPE is not allowed in CAP alerts")
    return root


def validate(root: Any, xsd: Path) -> None:
    errors = list(schema(xsd).iter_errors(root))
    if errors:
        first = errors[0]
        path = (first.path or "").replace("{" + CAP_NS + "}", "")
        raise InvalidInput(
            f"not a valid OASIS CAP 1.2 alert: {first.reason or first.message}",
            errors=[
                {"pointer": "/body" + (path or ""), "detail": str(e.reason or e.message)[:300]}
                for e in errors[:5]
            ],
        )


def _text(el: Any, path: str) -> str | None:
    found = el.find(path, NS)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _pairs(el: Any, tag: str) -> list[tuple[str, str]]:
    return [
        (_text(p, "cap:valueName") or "", _text(p, "cap:value") or "") for p in el.findall(f"cap:{tag}", NS)
    ]


def _latlon(pair: str, pointer: str) -> tuple[float, float]:
    try:
        lat_s, lon_s = pair.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise _bad(f"CAP coordinates must be 'lat,lon', got {pair[:40]!r}", pointer) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _bad("CAP coordinates out of range (latitude -90..90, longitude -180..180)", pointer)
    return lat, lon


def _area(info: Any, out: AlertInput) -> None:
    """First usable area: circle (centre + radius), else polygon (centroid), else place names."""
    for area in info.findall("cap:area", NS):
        desc = _text(area, "cap:areaDesc")
        circle = _text(area, "cap:circle")
        polygon = _text(area, "cap:polygon")
        if circle:
            try:
                centre, radius = circle.split()
                radius_km = float(radius)
            except ValueError:
                raise _bad("CAP circle must be 'lat,lon radius_km'", "/body/info/area/circle") from None
            if not (math.isfinite(radius_km) and 0 < radius_km <= MAX_CIRCLE_KM):
                raise _bad(f"CAP circle radius must be a number of km above 0 and at most "
                           f"{MAX_CIRCLE_KM:g}", "/body/info/area/circle")
            out.radius_m = round(radius_km * 1000)
            out.latitude, out.longitude = _latlon(centre, "/body/info/area/circle")
            out.area = {"type": "Point", "coordinates": [out.longitude, out.latitude]}
            out.location_source = "cap_area"
        elif polygon:
            pts = [_latlon(p, "/body/info/area/polygon") for p in polygon.split()]
            if len(pts) < 4:
                raise _bad("CAP polygon needs at least 4 points", "/body/info/area/polygon")
            poly = Polygon([(lon, lat) for lat, lon in pts])
            if not poly.is_valid:
                raise _bad("CAP polygon is not a valid ring", "/body/info/area/polygon")
            c = poly.centroid
            out.latitude, out.longitude = c.y, c.x
            out.radius_m = int(max(c.distance(Point(pt)) for pt in poly.exterior.coords) * 111_000)
            out.area = {
                "type": "Polygon",
                "coordinates": [[[x, y] for x, y in poly.exterior.coords]],
            }
            out.location_source = "cap_area"
        if out.latitude is not None:
            out.place = desc
            return
        names = [v for _, v in _pairs(area, "geocode") if v] + ([desc] if desc else [])
        if names and out.place is None:
            out.place = names[0]
            out.extra["place_candidates"] = names


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(f"CAP time {value[:40]!r} is not a date-time", "/body/info/onset") from None
    if when.tzinfo is None:
        raise _bad("CAP times need a time zone", "/body/info/onset")
    return when


def parse(body: bytes, xsd: Path) -> AlertInput:
    root = _parse_root(body)
    validate(root, xsd)
    infos = root.findall("cap:info", NS)
    if not infos:
        raise _bad("the CAP alert has no info block: nothing to triage", "/body/info")
    info = infos[0]
    headline, description = _text(info, "cap:headline"), _text(info, "cap:description")
    event = _text(info, "cap:event") or ""
    text = " — ".join(t for t in (headline, description) if t) or event
    when = _text(info, "cap:onset") or _text(info, "cap:effective") or _text(root, "cap:sent")
    out = AlertInput(
        format="cap",
        text=text[:5000],
        language=_text(info, "cap:language"),
        external_id=_text(root, "cap:identifier"),
        observed_at=_when(when),
        reporter_contact=_text(info, "cap:contact"),
        location_source="none",
    )
    codes = dict(_pairs(info, "parameter") + _pairs(info, "eventCode"))
    for key in CATEGORY_KEYS:
        if codes.get(key) in {c.value for c in Category}:
            out.category = codes[key]
    out.extra["cap_event"] = event
    _area(info, out)
    return out
