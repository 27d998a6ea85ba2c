"""Warnings out as OASIS CAP 1.2 alerts inside an Atom feed (Restricted scope: mission staff).
CAP writes points as "lat,lon"; GeoJSON as [lon, lat]."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lxml import etree

from app.schemas.cap import ATOM_MEDIA, ATOM_NS, CAP_MEDIA, CAP_NS
from app.schemas.common import strip_control

__all__ = ["ATOM_MEDIA", "atom_feed", "warning_alert"]


def cap_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _sub(parent: Any, tag: str, text: str | None = None, ns: str = CAP_NS) -> Any:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = strip_control(text)  # XML cannot carry them; a stored one must not break a feed
    return el


def _rings(geom: dict[str, Any] | None) -> list[list[list[float]]]:
    coords = (geom or {}).get("coordinates") or []
    if geom and geom.get("type") == "Polygon":
        return coords[:1]
    if geom and geom.get("type") == "MultiPolygon":
        return [p[0] for p in coords if p]
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
