"""Warnings: GeoJSON list, Atom feed of CAP 1.2 alerts, lifecycle, webhook subscriptions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api import http
from app.deps import BBox, SessionDep, SettingsDep, TimeWindow, parse_instant, require
from app.domain import Role
from app.errors import NotFound
from app.repositories import warnings as repo
from app.schemas.alerts import WarningStatusChange, WebhookCreate
from app.services.auth import Principal
from app.services.warnings import cap_feed, webhooks
from app.services.warnings import lifecycle as svc

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings"])

READERS = (Role.admin, Role.analyst, Role.operations)
_STATUS = "(active|acknowledged|responded|closed|cancelled|expired)"
STATUS_PATTERN = f"^{_STATUS}(,{_STATUS})*$"


@router.get(
    "",
    summary="Warnings as a GeoJSON FeatureCollection (areas are polygons)",
    responses={200: {"content": {"application/geo+json": {}}}},
)
async def list_warnings(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bbox: BBox,
    window: TimeWindow,
    who: Annotated[Principal, Depends(require(*READERS))],
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    rows = await svc.listing(
        session,
        statuses=status.split(",") if status else None,
        bbox=bbox,
        start=window[0],
        end=window[1],
        limit=min(limit or settings.page_default, settings.page_max),
        now=datetime.now(UTC),
    )
    feats = [svc.present(w) for w in rows]
    return http.conditional_json(request, http.collection(feats, numberReturned=len(feats)),
                                 geojson=True)


@router.get(
    "/feed",
    summary="Atom feed of CAP 1.2 alerts (one per warning)",
    responses={200: {"content": {cap_feed.ATOM_MEDIA: {}}}},
)
async def feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    now = datetime.now(UTC)
    rows = await svc.listing(
        session,
        statuses=status.split(",") if status else None,
        bbox=None,
        start=None,
        end=None,
        now=now,
        limit=min(limit or settings.page_default, settings.page_max),
    )
    body = cap_feed.atom_feed(rows, self_url=str(request.url), sender=settings.cap_sender, now=now)
    return Response(body, media_type=cap_feed.ATOM_MEDIA)


@router.post("/scan", summary="Apply the hotspot rules (threat level, emerging pattern) now")
async def scan(
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin, Role.analyst))],
    as_of: Annotated[str | None, Query(description="threat layer as of this date")] = None,
) -> Response:
    raised = await svc.scan_hotspots(
        session,
        settings,
        now=datetime.now(UTC),
        as_of=parse_instant(as_of, "as_of", end_of_day=True),
    )
    return http.json_response({"raised": [str(r) for r in raised]})


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe a URL to warning events; the signing secret is shown once",
)
async def subscribe(
    body: WebhookCreate,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
) -> Response:
    return http.json_response(
        await webhooks.subscribe(session, settings, name=body.name, url=body.url, actor=who.actor),
        status=201,
    )


@router.get("/deliveries", summary="Webhook delivery log")
async def deliveries(
    session: SessionDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
    warning_id: uuid.UUID | None = None,
) -> Response:
    return http.json_response({"items": await repo.deliveries(session, warning_id=warning_id)})


@router.get("/{warning_id}", summary="One warning (GeoJSON Feature) with its responses")
async def get_warning(
    warning_id: uuid.UUID,
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    w = await repo.get(session, warning_id)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    feat = svc.present(w)
    feat["properties"]["responses"] = await repo.responses_for(session, warning_id)
    return http.response(feat)


@router.post("/{warning_id}/status", summary="Move a warning through its lifecycle (409 if illegal)")
async def change_status(
    warning_id: uuid.UUID,
    body: WarningStatusChange,
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    out = await svc.transition(session, warning_id, body.status, who, body.comment, now=datetime.now(UTC))
    return http.response(out)
