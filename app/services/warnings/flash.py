"""Warnings raised by people, not rules: a duty officer's flash warning, and the escalation of a
single alert or incident that no rule picked up (one alert that is not sexual violence, fewer than
the cluster threshold…). Both go through `lifecycle.raise_warning`, so they get an owner,
deadlines, an audit record and webhook events like any other warning."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import alerts as alert_repo
from app.repositories import incidents as incident_repo
from app.repositories import warnings as repo
from app.schemas.alerts import Escalation, FlashWarning
from app.services.auth import Principal
from app.services.geo import gazetteer
from app.services.geo.h3cells import cell_polygon, latlng_cell, to_str
from app.services.warnings import lifecycle, need_to_know
from app.services.warnings.feature import present
from app.settings import Settings

GRAVE = ("killing", "abduction", "sexual_violence", "injury")


def _area_geometry(area: dict[str, Any]) -> tuple[dict[str, Any], tuple[float, float]]:
    """A valid (Multi)Polygon and a point inside it, or a 422 at /body/area."""
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    if area.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput.at("/body/area", "area must be a GeoJSON Polygon or MultiPolygon")
    try:
        geom = shape(area)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise InvalidInput.at("/body/area", "area is not a readable GeoJSON geometry") from None
    if geom.is_empty or not geom.is_valid:
        raise InvalidInput.at("/body/area", f"area is not a valid polygon ({explain_validity(geom)})")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput.at("/body/area", "area must lie within WGS84 longitude/latitude")
    p = geom.representative_point()
    return dict(mapping(geom)), (p.x, p.y)


async def _check_links(session: AsyncSession, alert_ids: list[uuid.UUID],
                       incident_ids: list[uuid.UUID]) -> None:
    for i, alert_id in enumerate(alert_ids):
        a = await alert_repo.get(session, alert_id)
        if a is None:
            raise InvalidInput.at(f"/body/alert_ids/{i}", f"no alert with id {alert_id}")
        if a["status"] == "dismissed":
            raise InvalidInput.at(f"/body/alert_ids/{i}", "this alert was dismissed")
    known = await incident_repo.existing_ids(session, incident_ids)
    for i, incident_id in enumerate(incident_ids):
        if incident_id not in known:
            raise InvalidInput.at(f"/body/incident_ids/{i}", f"no incident with id {incident_id}")


async def flash(session: AsyncSession, settings: Settings, body: FlashWarning, who: Principal, *,
                now: datetime) -> dict[str, Any]:
    """Issue a duty officer's warning at coordinates, a gazetteer place or an area."""
    place = body.place
    if body.area is not None:
        area, (lon, lat) = _area_geometry(body.area)
    elif body.latitude is not None and body.longitude is not None:
        lon, lat, area = body.longitude, body.latitude, None
    elif body.place is not None:
        found = gazetteer.load(settings.geodata_dir).resolve(body.place)
        if found is None:
            raise InvalidInput.at("/body/place", f"place {body.place!r} is not in the gazetteer; "
                                                 "send latitude and longitude or an area")
        lon, lat, area, place = found.longitude, found.latitude, None, found.name
    else:
        raise InvalidInput.at("/body/place", "a flash warning needs a place: latitude and longitude, "
                                             "a place name or an area")
    expires = body.expires_at or now + timedelta(hours=settings.warning_ttl_hours)
    if expires <= now:
        raise InvalidInput.at("/body/expires_at", "expires_at must be in the future")
    await _check_links(session, body.alert_ids, body.incident_ids)
    cell = latlng_cell(lat, lon, settings.warning_area_res)
    w = lifecycle.new_warning(
        rule="flash",
        dedupe_key=f"flash:{uuid.uuid4()}",
        cell=cell,
        category=body.category.value if body.category else None,
        severity=body.severity,
        urgency=body.urgency,
        certainty=body.certainty,
        headline=body.headline,
        description=body.description or (f"Flash warning near {place}." if place else body.headline),
        alert_ids=list(dict.fromkeys(body.alert_ids)),
        incident_ids=list(dict.fromkeys(body.incident_ids)),
        now=now,
        ttl_hours=settings.warning_ttl_hours,
    )
    w["expires_at"] = expires
    wid = await lifecycle.raise_warning(session, settings, w, area or cell_polygon(to_str(cell)),
                                        point=(lon, lat), actor=who.actor, now=now,
                                        mission=who.mission)
    assert wid is not None  # a flash warning's dedupe key is its own
    await _may_raise(session, who, wid, "/body")
    await session.commit()
    return await _created(session, wid)


async def _may_raise(session: AsyncSession, who: Principal, warning_id: uuid.UUID, pointer: str
                     ) -> None:
    """An operations token limited to an AOR raises warnings of its AOR only (need_to_know); the
    caller's transaction is rolled back when it may not."""
    if need_to_know.limited(who):
        w = await repo.get(session, warning_id)
        assert w is not None
        await need_to_know.check(session, who, w, pointer=pointer)


async def _created(session: AsyncSession, warning_id: uuid.UUID) -> dict[str, Any]:
    w = await repo.get(session, warning_id)
    assert w is not None
    feature = present(w)
    props = feature["properties"]
    return {"id": feature["id"], "assigned_to": props.get("assigned_to"),
            "acknowledge_by": props.get("acknowledge_by"), "on_scene_by": props.get("on_scene_by"),
            "warning": feature}


def _defaults(category: str, body: Escalation, verified: bool) -> tuple[str, str, str]:
    severity = body.severity or ("Severe" if category in GRAVE else "Moderate")
    urgency = body.urgency or "Immediate"
    certainty = body.certainty or ("Likely" if verified else "Possible")
    return severity, urgency, certainty


async def _already_open(session: AsyncSession, *, alert_id: uuid.UUID | None = None,
                        incident_id: uuid.UUID | None = None) -> None:
    open_ids = await repo.open_warnings_holding(session, alert_id=alert_id, incident_id=incident_id)
    if open_ids:
        what = "alert" if alert_id else "incident"
        raise Conflict(f"this {what} is already in open warning {open_ids[0]}",
                       errors=[{"pointer": f"/path/{what}_id", "detail": f"in warning {open_ids[0]}"}])


async def escalate_alert(session: AsyncSession, settings: Settings, alert_id: uuid.UUID,
                         body: Escalation, who: Principal, *, now: datetime) -> dict[str, Any]:
    """A warning from one alert. Refused (409) for a dismissed alert, a repeat collapsed into
    another, one still being triaged or not located yet, and one already in an open warning."""
    a = await alert_repo.get(session, alert_id, lock=True)
    if a is None:
        raise NotFound(f"no alert with id {alert_id}")

    def refuse(detail: str) -> Conflict:
        return Conflict(detail, errors=[{"pointer": "/path/alert_id", "detail": detail}])

    if a["status"] == "dismissed":
        raise refuse("a dismissed alert cannot be escalated")
    if a["triage"] is None:
        raise refuse("this alert is still being triaged; retry in a moment")
    if a["collapsed_into"] is not None:
        raise refuse(f"this alert repeats alert {a['collapsed_into']}; escalate that one")
    if a["longitude"] is None or a["needs_location"]:
        raise refuse("this alert has no location yet: confirm it with coordinates or a place first")
    await _already_open(session, alert_id=alert_id)
    severity, urgency, certainty = _defaults(a["category"], body, verified=False)
    place = a.get("place_name") or f"{a['latitude']:.3f}, {a['longitude']:.3f}"
    cell = latlng_cell(a["latitude"], a["longitude"], settings.warning_area_res)
    w = lifecycle.new_warning(
        rule="escalation",
        dedupe_key=f"escalation:alert:{alert_id}",
        cell=cell,
        category=a["category"],
        severity=severity,
        urgency=urgency,
        certainty=certainty,
        headline=body.headline or f"Escalated alert ({a['category'].replace('_', ' ')}) near {place}",
        description=body.comment or "A single community alert escalated by mission staff. Unverified.",
        alert_ids=[alert_id],
        incident_ids=[a["incident_id"]] if a.get("incident_id") else [],
        now=now,
        ttl_hours=settings.warning_ttl_hours,
    )
    wid = await lifecycle.raise_warning(session, settings, w, cell_polygon(to_str(cell)),
                                        alert_id=alert_id, point=(a["longitude"], a["latitude"]),
                                        actor=who.actor, now=now, mission=who.mission)
    if wid is None:
        raise refuse("this alert has already been escalated")
    await _may_raise(session, who, wid, "/path/alert_id")
    await session.commit()
    return await _created(session, wid)


async def escalate_incident(session: AsyncSession, settings: Settings, incident_id: uuid.UUID,
                            body: Escalation, who: Principal, *, now: datetime) -> dict[str, Any]:
    """A warning from one incident (not a rejected one, not one already in an open warning)."""
    i = await incident_repo.get(session, incident_id, lock=True)
    if i is None:
        raise NotFound(f"no incident with id {incident_id}")
    if i["status"] == "rejected":
        raise Conflict("a rejected incident cannot be escalated",
                       errors=[{"pointer": "/path/incident_id", "detail": "rejected"}])
    await _already_open(session, incident_id=incident_id)
    lon, lat = i["longitude"], i["latitude"]
    severity, urgency, certainty = _defaults(i["category"], body, verified=i["status"] == "approved")
    place = i.get("place_name") or f"{lat:.3f}, {lon:.3f}"
    cell = latlng_cell(lat, lon, settings.warning_area_res)
    w = lifecycle.new_warning(
        rule="escalation",
        dedupe_key=f"escalation:incident:{incident_id}",
        cell=cell,
        category=i["category"],
        severity=severity,
        urgency=urgency,
        certainty=certainty,
        headline=body.headline or f"Escalated incident ({i['category'].replace('_', ' ')}) near {place}",
        description=body.comment or f"Incident of {i['occurred_start'].date().isoformat()} "
                                    "escalated by mission staff.",
        alert_ids=[],
        incident_ids=[incident_id],
        now=now,
        ttl_hours=settings.warning_ttl_hours,
    )
    wid = await lifecycle.raise_warning(session, settings, w, cell_polygon(to_str(cell)),
                                        incident_id=incident_id, point=(lon, lat), actor=who.actor,
                                        now=now, mission=i.get("mission_code") or who.mission)
    if wid is None:
        raise Conflict("this incident has already been escalated",
                       errors=[{"pointer": "/path/incident_id", "detail": "escalated"}])
    await _may_raise(session, who, wid, "/path/incident_id")
    await session.commit()
    return await _created(session, wid)
