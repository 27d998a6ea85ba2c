"""Mission bases registry: /api/v1/bases (JSON or GeoJSON; ?as_of= sees that date's bases)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, File, Form, Header, Query, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.api import http
from app.db import libpq_url
from app.deps import BBox, ReadSessionDep, ScopeDep, SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.errors import InvalidInput
from app.localdb import resolve_url
from app.models.bases import BASE_KINDS
from app.openapi import alternatives
from app.repositories.bases import SORT_KEYS
from app.schemas.bases import (
    BaseCollection,
    BaseCreate,
    BaseFeature,
    BaseList,
    BasePublic,
    BasesImported,
    BaseUpdate,
)
from app.schemas.common import SaneDate
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
            response_model=BaseList, responses=alternatives(BaseList, BaseCollection))
async def list_bases(
    session: ReadSessionDep, bbox: BBox, who: Annotated[Principal, Depends(require(*READERS))],
    scope: ScopeDep,
    as_of: Annotated[SaneDate | None, Query(description="bases active on this date")] = None,
    kind: Annotated[str | None, Query(description="comma-separated kinds")] = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORT_KEYS) + ")$")] = "name",
    f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    items = await svc.listing(session, who, as_of=as_of, kinds=_kinds(kind), bbox=bbox, sort=sort,
                              scope=scope)
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
    return http.created(row, "bases")


@router.post("/imports", status_code=201, response_model=BasesImported,
             summary="Import a Geo-PKO deployments file (v2.3 yearly or v1 monthly layout)")
async def import_geopko(
    session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*WRITERS))],
    file: Annotated[UploadFile, File()],
    mission: Annotated[str | None, Form(max_length=32, description="mission code: only its rows "
                                        "(the file's Mission column, case-insensitively)")] = None,
) -> Response:
    """One base per site and period of presence on the mission's maps; idempotent. A mission
    the file does not contain is refused (422, pointer /mission) and nothing is written."""
    scope = await body_scope(session, settings, who, mission) if mission else None
    await session.commit()
    suffix = Path(file.filename or "upload.csv").suffix or ".csv"
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as tmp:
        shutil.copyfileobj(file.file, tmp)
        path = Path(tmp.name)
    url = libpq_url(resolve_url(settings))

    def run() -> tuple[int, int, int]:
        with psycopg.connect(url) as conn:
            return svc.import_geopko(conn, path, settings,
                                     mission=scope.mission if scope else None, actor=who.actor)

    try:
        read, inserted, places = await run_in_threadpool(run)
    finally:
        path.unlink(missing_ok=True)
    return http.json_response({"read": read, "inserted": inserted,
                               "already_present": read - inserted, "places": places,
                               "mission": scope.mission.code if scope else None}, status=201)


@router.get("/{base_id}", response_model=BasePublic, summary="One base (JSON or GeoJSON Feature)",
            responses=alternatives(BasePublic, BaseFeature))
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


@router.delete("/{base_id}", status_code=204, response_class=Response,
               summary="Delete a base entered in error (close a real one with PATCH closed_on)")
async def delete_base(base_id: uuid.UUID, session: SessionDep,
                      who: Annotated[Principal, Depends(require(Role.admin))]) -> Response:
    await svc.remove(session, base_id, who)
    return Response(status_code=204)
