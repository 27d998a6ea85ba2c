"""OASIS CAP 1.2: reading alerts in (validated against the vendored schema) and writing warnings
out as CAP alerts inside an Atom feed. CAP writes points as "lat,lon"; GeoJSON as [lon, lat]."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree
from shapely.geometry import Point, Polygon

from app.domain import Category
from app.errors import InvalidInput
from app.schemas.alerts import AlertInput

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA = "application/cap+xml"
ATOM_MEDIA = "application/atom+xml"
NS = {"cap": CAP_NS}
CATEGORY_KEYS = ("kinga:category", "category")


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
                out.radius_m = int(float(radius) * 1000)
            except ValueError:
                raise _bad("CAP circle must be 'lat,lon radius_km'", "/body/info/area/circle") from None
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
        observed_at=datetime.fromisoformat(when) if when else None,
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


# --- writing -------------------------------------------------------------------------------


def cap_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _sub(parent: Any, tag: str, text: str | None = None, ns: str = CAP_NS) -> Any:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _rings(geom: dict[str, Any]) -> list[list[list[float]]]:
    if geom["type"] == "Polygon":
        return [geom["coordinates"][0]]
    if geom["type"] == "MultiPolygon":
        return [p[0] for p in geom["coordinates"]]
    return []


MSG_TYPE = {"cancelled": "Cancel", "active": "Alert"}


def warning_alert(w: dict[str, Any], sender: str, prefix: str = "kinga-warning-",
                  language: str = "en") -> Any:
    """One warning as a CAP 1.2 <alert> element (Restricted scope: mission-internal); sender,
    identifier prefix and language come from the mission's profile."""
    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(alert, "identifier", f"{prefix}{w['id']}")
    _sub(alert, "sender", sender)
    _sub(alert, "sent", cap_time(w["updated_at"]))
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", MSG_TYPE.get(w["status"], "Update"))
    _sub(alert, "scope", "Restricted")
    _sub(alert, "restriction", "UN mission protection-of-civilians staff")
    _sub(alert, "note", f"lifecycle status: {w['status']}")
    info = _sub(alert, "info")
    _sub(info, "language", language)
    _sub(info, "category", "Security")
    _sub(info, "event", f"Threat to civilians ({w['rule'].replace('_', ' ')})")
    _sub(info, "responseType", "Monitor")
    _sub(info, "urgency", w["urgency"])
    _sub(info, "severity", w["severity"])
    _sub(info, "certainty", w["certainty"])
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "kinga:rule")
    _sub(code, "value", w["rule"])
    _sub(info, "effective", cap_time(w["created_at"]))
    _sub(info, "expires", cap_time(w["expires_at"]))
    _sub(info, "senderName", "Kinga early warning")
    _sub(info, "headline", w["headline"][:160])
    _sub(info, "description", w["description"])
    if w.get("category"):
        param = _sub(info, "parameter")
        _sub(param, "valueName", "kinga:category")
        _sub(param, "value", w["category"])
    area = _sub(info, "area")
    _sub(area, "areaDesc", w.get("area_desc") or w["headline"][:100])
    for ring in _rings(w["geometry"]):
        _sub(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring))
    return alert


def atom_feed(warnings: list[dict[str, Any]], *, self_url: str, sender: str, now: datetime,
              prefix: str = "kinga-warning-", language: str = "en") -> bytes:
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _sub(feed, "id", "urn:kinga:warnings", ns=ATOM_NS)
    _sub(feed, "title", "Kinga early warnings (CAP 1.2)", ns=ATOM_NS)
    updated = max((w["updated_at"] for w in warnings), default=now)
    _sub(feed, "updated", updated.astimezone(UTC).isoformat(), ns=ATOM_NS)
    link = _sub(feed, "link", ns=ATOM_NS)
    link.set("rel", "self")
    link.set("href", self_url)
    author = _sub(feed, "author", ns=ATOM_NS)
    _sub(author, "name", "Kinga", ns=ATOM_NS)
    for w in warnings:
        entry = _sub(feed, "entry", ns=ATOM_NS)
        _sub(entry, "id", f"urn:uuid:{w['id']}", ns=ATOM_NS)
        _sub(entry, "title", w["headline"], ns=ATOM_NS)
        _sub(entry, "updated", w["updated_at"].astimezone(UTC).isoformat(), ns=ATOM_NS)
        _sub(
            entry,
            "summary",
            f"{w['severity']} / {w['urgency']} / {w['certainty']}: {w['status']}",
            ns=ATOM_NS,
        )
        content = _sub(entry, "content", ns=ATOM_NS)
        content.set("type", CAP_MEDIA)
        content.append(warning_alert(w, sender, prefix, language))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")
