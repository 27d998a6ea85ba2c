"""One CoT document: an `<events>` root wrapping one CoT 2.0 `<event>` per open warning and per
critical/high hotspot cell (docs/cot.md).

- A warning is a hostile-ground atom (`a-h-G`) at the centre of its area, valid from when it was
  raised until it expires (`stale` = the warning's `expires_at`), `how="m-f"` (machine, fused
  from alerts and reports); `ce` is the radius of its area.
- A hotspot cell is a drawn shape (`u-d-f`) whose `<link point>`s are the hexagon's vertices, valid
  from now for `KINGA_COT_HOTSPOT_STALE_HOURS`.
`detail` carries TAK's `contact` (callsign), `remarks` and colours; nothing analyst-only (no
narrative, perpetrator, reporter or source) is ever written.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
from lxml import etree
from shapely.geometry import shape

from app.services.geo.h3cells import cell_radius_m

MEDIA_TYPE = "application/xml"
UNKNOWN = "9999999.0"  # CoT's value for an unknown height or error
LEVEL_COLOURS = {"critical": -65536, "high": -32768, "medium": -256, "low": -16711936}  # ARGB


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event(parent: etree._Element, *, uid: str, kind: str, now: datetime, start: datetime,
           stale: datetime, lat: float, lon: float, ce: float) -> etree._Element:
    ev = etree.SubElement(parent, "event", version="2.0", uid=uid, type=kind, how="m-f",
                          time=_iso(now), start=_iso(start), stale=_iso(stale))
    etree.SubElement(ev, "point", lat=f"{lat:.6f}", lon=f"{lon:.6f}", hae=UNKNOWN,
                     ce=f"{ce:.1f}", le=UNKNOWN)
    return ev


def _radius_m(geom: Any) -> float:
    c = geom.centroid
    coords = list(geom.exterior.coords) if geom.geom_type == "Polygon" else [
        p for part in getattr(geom, "geoms", []) for p in part.exterior.coords]
    best = 0.0
    for x, y in coords:
        dy = (y - c.y) * 110_540
        dx = (x - c.x) * 111_320 * math.cos(math.radians(c.y))
        best = max(best, math.hypot(dx, dy))
    return best


def document(warnings: list[dict[str, Any]], cells: list[dict[str, Any]], *, now: datetime,
             stale_hours: float) -> bytes:
    root = etree.Element("events")
    for w in warnings:
        geom = shape(w["geometry"])
        centre = geom.centroid
        ev = _event(root, uid=f"kinga-warning-{w['id']}", kind="a-h-G", now=now,
                    start=w["created_at"], stale=w["expires_at"], lat=centre.y, lon=centre.x,
                    ce=_radius_m(geom))
        detail = etree.SubElement(ev, "detail")
        etree.SubElement(detail, "contact", callsign=f"Warning: {w['headline']}"[:120])
        remarks = etree.SubElement(detail, "remarks")
        remarks.text = (f"{w['rule']} — {w['severity']}/{w['urgency']}/{w['certainty']}; "
                        f"status {w['status']}; expires {_iso(w['expires_at'])}")
        etree.SubElement(detail, "kinga", kind="warning", id=str(w["id"]), rule=w["rule"],
                         status=w["status"], severity=w["severity"])
    stale = now + timedelta(hours=stale_hours)
    for c in cells:
        lat, lon = h3.cell_to_latlng(c["cell"])
        ev = _event(root, uid=f"kinga-hotspot-{c['cell']}", kind="u-d-f", now=now, start=now,
                    stale=stale, lat=lat, lon=lon,
                    ce=cell_radius_m(h3.get_resolution(c["cell"])))
        detail = etree.SubElement(ev, "detail")
        for vlat, vlon in [*h3.cell_to_boundary(c["cell"]), h3.cell_to_boundary(c["cell"])[0]]:
            etree.SubElement(detail, "link", point=f"{vlat:.6f},{vlon:.6f}")
        colour = str(LEVEL_COLOURS.get(c["threat_level"], -1))
        etree.SubElement(detail, "strokeColor", value=colour)
        etree.SubElement(detail, "fillColor", value=colour)
        etree.SubElement(detail, "contact",
                         callsign=f"Threat {c['threat_level']} ({c['threat_score']:.0f})")
        remarks = etree.SubElement(detail, "remarks")
        remarks.text = (f"Threat score {c['threat_score']:.1f}, {c['threat_level']}, tier "
                        f"{c['protection_tier']}; {c['incidents']} incidents in the window")
        etree.SubElement(detail, "kinga", kind="hotspot", cell=c["cell"],
                         level=c["threat_level"], score=f"{c['threat_score']:.1f}")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
