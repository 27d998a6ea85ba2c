"""Register and list information requirements (audited)."""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Category
from app.errors import Conflict, InvalidInput
from app.repositories import audit
from app.repositories import information_requirements as repo
from app.schemas.information_requirements import InformationRequirementCreate
from app.services.auth import Principal
from app.services.information_requirements import scope
from app.settings import Settings


def _bad(field: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": f"/body/{field}", "detail": detail}])


def check_area(area: dict[str, Any]) -> None:
    """A valid GeoJSON Polygon or MultiPolygon in WGS84."""
    if area.get("type") not in ("Polygon", "MultiPolygon"):
        raise _bad("area", "area must be a GeoJSON Polygon or MultiPolygon")
    try:
        geom = shape(area)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise _bad("area", "area is not readable GeoJSON") from None
    if geom.is_empty or not geom.is_valid:
        raise _bad("area", "area is not a valid polygon (closed rings, no self-intersection)")
    x1, y1, x2, y2 = geom.bounds
    if not (-180 <= x1 <= x2 <= 180 and -90 <= y1 <= y2 <= 90):
        raise _bad("area", "area lies outside WGS84 longitude/latitude bounds")


def validate(body: InformationRequirementCreate) -> None:
    """What the request model cannot say alone: an area or an AOR, at least one category."""
    if body.area is None and body.aor is None:
        raise _bad("area", "give the area (GeoJSON) or the AOR the requirement covers")
    if not body.categories:
        raise _bad("categories", "name at least one category of interest")
    if body.area is not None:
        check_area(body.area)


async def create(session: AsyncSession, settings: Settings, body: InformationRequirementCreate,
                 who: Principal) -> dict[str, Any]:
    validate(body)
    area = body.area
    if body.aor is not None:
        area = await scope.aor_area(session, settings, body.mission, body.aor)
    if body.code is not None and await repo.code_exists(session, body.code):
        raise Conflict(f"an information requirement with code {body.code!r} exists",
                       errors=[{"pointer": "/body/code", "detail": "already used"}])
    categories = [c.value for c in body.categories]
    values = body.model_dump(exclude={"area", "categories"})
    values.update(categories=categories, created_by=who.actor,
                  crsv=body.crsv or Category.sexual_violence.value in categories,
                  perpetrators=[p.strip() for p in body.perpetrators if p.strip()],
                  owner_section=body.owner_section.value)
    new_id = await repo.insert_ir(session, values, area)
    await audit.record(session, actor=who.actor, action="create",
                       object_type="information_requirement", object_id=str(new_id),
                       after={**values, "area": area})
    await session.commit()
    found = await repo.get(session, new_id)
    assert found is not None
    return present(found)


def present(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "id": str(row["id"])}


async def listing(session: AsyncSession, *, crsv: bool | None = None,
                  mission: str | None = None) -> list[dict[str, Any]]:
    return [present(r) for r in await repo.listing(session, crsv=crsv, mission=mission)]
