"""Mission bases registry: /api/v1/bases (JSON or GeoJSON; ?as_of= sees that date's bases)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from app.api import http
from app.deps import BBox, ReadSessionDep, SessionDep, require
from app.domain import Role
from app.errors import InvalidInput
from app.models.bases import BASE_KINDS
from app.repositories.bases import SORT_KEYS
from app.schemas.bases import BaseCreate, BaseList, BasePublic, BaseUpdate
from app.services.auth import Principal
from app.services.bases import registry as svc

router = APIRouter(prefix="/api/v1/bases", tags=["bases"])

# Partners read a sanitised registry (where and since when, not capacities): Geo-PKO publishes
# the locations, but troop and patrol figures stay inside the mission.
READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
WRITERS = (Role.admin, Role.analyst)


def _kinds(value: str | None) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in BASE_KINDS]
    if bad:
        raise InvalidInput(f"unknown kind: {', '.join(bad)}", errors=[
            {"pointer": "/query/kind", "detail": f"one of {', '.join(BASE_KINDS)}"}])
    return items


def feature(b: dict[str, object]) -> dict[str, object]:
    props = {k: v for k, v in b.items() if k not in ("id", "latitude", "longitude")}
    return http.point_feature(str(b["id"]), b["longitude"], b["latitude"], props)  # type: ignore[arg-type]


@router.get("", summary="List bases (JSON or GeoJSON); as_of shows the bases active that day",
            responses={200: {"model": BaseList, "content": {"application/geo+json": {}}}})
async def list_bases(
    session: ReadSessionDep, bbox: BBox, who: Annotated[Principal, Depends(require(*READERS))],
    as_of: Annotated[date | None, Query(description="bases active on this date")] = None,
    kind: Annotated[str | None, Query(description="comma-separated kinds")] = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORT_KEYS) + ")$")] = "name",
    f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    items = await svc.listing(session, who, as_of=as_of, kinds=_kinds(kind), bbox=bbox, sort=sort)
    if http.wants_geojson(f, accept):
        feats = [feature(b) for b in items]
        return http.response(http.collection(
            feats, numberMatched=len(feats), numberReturned=len(feats),
            as_of=as_of.isoformat() if as_of else None))
    return http.json_response({"items": items, "numberReturned": len(items)})


@router.post("", status_code=201, response_model=BasePublic, summary="Register a base")
async def create_base(body: BaseCreate, session: SessionDep,
                      who: Annotated[Principal, Depends(require(*WRITERS))]) -> Response:
    row = await svc.create(session, body, who)
    return http.json_response(row, status=201,
                                 headers={"Location": f"/api/v1/bases/{row['id']}"})


@router.get("/{base_id}", response_model=BasePublic)
async def get_base(base_id: uuid.UUID, session: SessionDep,
                   who: Annotated[Principal, Depends(require(*READERS))],
                   f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
                   accept: Annotated[str | None, Header()] = None) -> Response:
    row = await svc.read(session, base_id, who)
    if http.wants_geojson(f, accept):
        return http.response(feature(row))
    return http.json_response(row)


@router.patch("/{base_id}", response_model=BasePublic, summary="Change a base (e.g. close it)")
async def patch_base(base_id: uuid.UUID, body: BaseUpdate, session: SessionDep,
                     who: Annotated[Principal, Depends(require(*WRITERS))]) -> Response:
    return http.json_response(await svc.update(session, base_id, body, who))


@router.delete("/{base_id}", status_code=204,
               summary="Delete a base entered in error (close a real one with PATCH closed_on)")
async def delete_base(base_id: uuid.UUID, session: SessionDep,
                      who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    await svc.remove(session, base_id, who)
    return Response(status_code=204)
