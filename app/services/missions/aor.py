"""Areas of responsibility: sectors and field offices as named polygons inside a mission.

They scope who answers: `aor_for_point(session, mission, lon, lat)` names the field office (else
the sector) whose area holds a point, for routing alerts and warnings and reporting responses
per office. An import is all or nothing: every area must be a valid (Multi)Polygon inside the
mission's area, a field office's parent sector must exist, and two areas of the same kind may not
overlap unless the mission's profile allows it (`aor_overlap`), so two offices never answer for
(or task troops into) the same cell.
"""

from __future__ import annotations

import uuid
from typing import Any

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.repositories import audit
from app.repositories import missions as repo
from app.services.missions import profile as P
from app.services.missions import registry
from app.settings import Settings

# Digitised boundaries and coarse outlines disagree by a few hundred metres: an AOR may stick out
# of its mission's area by this much (degrees, ~2 km) and two AORs may share this much area.
INSIDE_TOLERANCE_DEG = 0.02
OVERLAP_TOLERANCE = 0.001  # share of the smaller area


def _bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": pointer, "detail": detail}])


def from_geojson(doc: Any) -> list[dict[str, Any]]:
    """AOR items from a GeoJSON FeatureCollection: properties `name`, `kind` (sector or
    field_office; `type`/`level` accepted), `parent` (the sector's name)."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise _bad("/file", "a GeoJSON FeatureCollection of sector and field-office polygons")
    items = []
    for i, f in enumerate(doc["features"]):
        props = (f or {}).get("properties") or {} if isinstance(f, dict) else {}
        kind = str(props.get("kind") or props.get("type") or props.get("level")
                   or "field_office").strip().lower().replace(" ", "_").replace("-", "_")
        if kind in ("office", "fo"):
            kind = "field_office"
        items.append({"name": props.get("name"), "kind": kind, "parent": props.get("parent"),
                      "area": (f or {}).get("geometry") if isinstance(f, dict) else None,
                      "_pointer": f"/features/{i}"})
    return items


async def import_aors(session: AsyncSession, settings: Settings, code: str,
                      items: list[dict[str, Any]], actor: str, *, prefix: str = "/body/aors"
                      ) -> dict[str, Any]:
    mission = await registry.stored(session, settings, code.lower())
    if mission is None:
        raise NotFound(f"no mission {code!r}")
    assert mission.geometry is not None
    envelope = mission.geometry.buffer(INSIDE_TOLERANCE_DEG)
    checked: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, it in enumerate(items):
        ptr = it.get("_pointer") or f"{prefix}/{i}"
        name = it.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise _bad(f"{ptr}/name" if "_pointer" not in it else f"{ptr}/properties/name",
                       "every area needs a name")
        name = name.strip()
        if name.lower() in names:
            raise _bad(f"{ptr}/name", f"{name!r} appears twice")
        names.add(name.lower())
        kind = it.get("kind") or "field_office"
        if kind not in ("sector", "field_office"):
            raise _bad(f"{ptr}/kind", "sector or field_office")
        area = P.check_area(it.get("area"), f"{ptr}/area" if "_pointer" not in it
                            else f"{ptr}/geometry")
        g = shape(area)
        if not envelope.covers(g):
            raise _bad(f"{ptr}/area" if "_pointer" not in it else f"{ptr}/geometry",
                       f"{name!r} lies (partly) outside mission {mission.code}'s area")
        checked.append({"name": name, "kind": kind, "parent": it.get("parent"), "area": area,
                        "geometry": g, "pointer": ptr})
    existing = [a for a in await repo.list_aors(session, mission.code)
                if a["name"].lower() not in names]
    everyone = checked + [{**a, "geometry": shape(a["area"]), "pointer": None} for a in existing]
    sectors = {a["name"].lower() for a in everyone if a["kind"] == "sector"}
    for a in checked:
        if a["parent"] is not None and (a["kind"] != "field_office"
                                        or str(a["parent"]).lower() not in sectors):
            raise _bad(f"{a['pointer']}/parent",
                       f"no sector {a['parent']!r} in this import or mission {mission.code}")
    if mission.aor_overlap == "forbid":
        for i, a in enumerate(checked):
            for b in everyone:
                if b is a or b["kind"] != a["kind"] or (b in checked and checked.index(b) < i):
                    continue
                shared = a["geometry"].intersection(b["geometry"]).area
                smaller = min(a["geometry"].area, b["geometry"].area)
                if smaller > 0 and shared / smaller > OVERLAP_TOLERANCE:
                    raise _bad(f"{a['pointer']}/area",
                               f"{a['name']!r} overlaps {b['name']!r}: two {a['kind']}s may not "
                               "share ground in this mission (its profile's aor_overlap)")
    ids: dict[str, uuid.UUID] = {a["name"].lower(): a["id"] for a in existing}
    created = 0
    for a in sorted(checked, key=lambda a: a["kind"] != "sector"):
        parent = ids.get(str(a["parent"]).lower()) if a["parent"] else None
        aid, new = await repo.upsert_aor(session, mission.code, {
            "name": a["name"], "kind": a["kind"], "parent_id": parent, "area": a["area"]}, actor)
        ids[a["name"].lower()] = aid
        created += int(new)
    await audit.record(session, actor=actor, action="import", object_type="aor",
                       object_id=mission.code,
                       after={"names": [a["name"] for a in checked], "created": created})
    await session.commit()
    return {"mission": mission.code, "imported": len(checked), "created": created,
            "replaced": len(checked) - created}


async def listing(session: AsyncSession, code: str) -> list[dict[str, Any]]:
    rows = await repo.list_aors(session, code.lower())
    bases = await repo.aor_bases(session, [r["id"] for r in rows])
    by_id = {r["id"]: r["name"] for r in rows}
    return [{"id": str(r["id"]), "mission": r["mission_code"], "name": r["name"],
             "kind": r["kind"], "parent": by_id.get(r["parent_id"]) if r["parent_id"] else None,
             "area": r["area"],
             "bases": [{**b, "id": str(b["id"])} for b in bases.get(r["id"], [])]}
            for r in rows]


async def aor_for_point(session: AsyncSession, mission: str, lon: float, lat: float
                        ) -> dict[str, Any] | None:
    """The area of responsibility that answers for a point: the (smallest) field office whose
    area holds it, else the sector; None outside every AOR of the mission."""
    found = await repo.aor_at(session, mission.lower(), lon, lat)
    return found[0] if found else None
