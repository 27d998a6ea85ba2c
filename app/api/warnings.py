"""Warnings: GeoJSON list, Atom feed of CAP 1.2 alerts, lifecycle, webhook subscriptions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.api import http
from app.deps import (
    BBox,
    ScopeDep,
    SessionDep,
    SettingsDep,
    TimeWindow,
    body_scope,
    parse_instant,
    require,
)
from app.domain import Role
from app.errors import InvalidInput
from app.openapi import GeoJSONDoc
from app.repositories import warnings as repo
from app.schemas.alerts import (
    DeliveryList,
    FlashWarning,
    ScanResult,
    SubscriptionCreated,
    WarningCollection,
    WarningFeature,
    WarningStatusChange,
    WebhookCreate,
)
from app.schemas.loop import WarningRaised
from app.services.auth import Principal
from app.services.missions import clip, languages
from app.services.warnings import cap_feed, flash, webhooks
from app.services.warnings import lifecycle as svc

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings"])


def _inside(scope: Any, rows: list[dict[str, Any]], who: Principal) -> list[bool]:
    """Which warnings lie in the mission (or AOR) asked for, by a point of their area."""
    if not svc.clipped_by_area(scope, who):
        return [True] * len(rows)
    from shapely.geometry import shape

    points = []
    for w in rows:
        c = shape(w["geometry"]).representative_point() if w.get("geometry") else None
        points.append((c.x, c.y) if c is not None else (0.0, 0.0))
    mask = clip.points_inside(scope.area, [p[0] for p in points], [p[1] for p in points])
    return [bool(k) for k in mask]

READERS = (Role.admin, Role.analyst, Role.operations)
# Partners read sanitised warnings where the mission shares them (KINGA_PARTNER_WARNINGS_SHARED);
# integrations never read warnings.
LISTERS = (*READERS, Role.partner)


class AtomDoc(Response):
    media_type = cap_feed.ATOM_MEDIA

_STATUS = "(active|acknowledged|responded|closed|cancelled|expired)"
STATUS_PATTERN = f"^{_STATUS}(,{_STATUS})*$"


@router.get(
    "",
    summary="Warnings as a GeoJSON FeatureCollection (areas are polygons)",
    response_model=WarningCollection,
    response_class=GeoJSONDoc,
)
async def list_warnings(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bbox: BBox,
    window: TimeWindow,
    who: Annotated[Principal, Depends(require(*LISTERS))],
    scope: ScopeDep,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
    overdue: Annotated[bool | None, Query(description="true: the duty officer's queue (past the "
                                                      "acknowledgement or on-scene deadline)")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    svc.check_reader(who.role, settings)
    rows = await svc.listing(
        session,
        statuses=status.split(",") if status else None,
        bbox=bbox,
        start=window[0],
        end=window[1],
        limit=min(limit or settings.page_default, settings.page_max),
        now=datetime.now(UTC),
        overdue=overdue,
        who=who,
        mission=scope.code if scope.mission.stored else None,
    )
    feats = [svc.shown(w, who.role, settings)
             for w, keep in zip(rows, _inside(scope, rows, who), strict=True) if keep]
    return http.conditional_json(request, http.collection(feats, numberReturned=len(feats)),
                                 geojson=True)


@router.post(
    "",
    status_code=201,
    summary="Issue a flash warning (coordinates, a place or an area; CAP severity, urgency, "
    "certainty); answers its id, owner and deadlines",
    response_model=WarningRaised,
)
async def create_warning(
    body: FlashWarning,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    out = await flash.flash(session, settings, body, who, now=datetime.now(UTC))
    return http.json_response(out, status=201, headers={"Location": f"/api/v1/warnings/{out['id']}"})


@router.get(
    "/feed",
    summary="Atom feed of CAP 1.2 alerts (one per warning)",
    response_class=AtomDoc,
    responses={200: {"content": {cap_feed.ATOM_MEDIA: {"schema": {"type": "string"}}}}},
)
async def feed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*READERS))],
    scope: ScopeDep,
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
        who=who,
        mission=scope.code if scope.mission.stored else None,
    )
    m = scope.mission
    rows = [w for w, keep in zip(rows, _inside(scope, rows, who), strict=True) if keep]
    body = cap_feed.atom_feed(rows, self_url=str(request.url), sender=m.cap_sender, now=now,
                              prefix=m.cap_identifier_prefix,
                              language=languages.template_language(m.languages))
    return Response(body, media_type=cap_feed.ATOM_MEDIA)


@router.post("/scan", summary="Apply the hotspot rules (threat level, emerging pattern) now",
             response_model=ScanResult)
async def scan(
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin, Role.analyst))],
    scope: ScopeDep,
    as_of: Annotated[str | None, Query(description="threat layer as of this date; a past "
                                                   "date only shows what would be raised")] = None,
) -> Response:
    result = await svc.scan_hotspots(
        session,
        settings,
        now=datetime.now(UTC),
        as_of=parse_instant(as_of, "as_of", end_of_day=True),
        scope=scope,
    )
    return http.json_response(result)


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe a URL to warning events (every event, the escalations reaching a level, or "
    "an area of responsibility's warnings and the escalations sent to it); the signing secret "
    "is shown once",
    response_model=SubscriptionCreated,
)
async def subscribe(
    body: WebhookCreate,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
) -> Response:
    aor = None
    if body.aor is not None:
        aor = (await body_scope(session, settings, who, body.mission, body.aor)).aor
    elif body.mission is not None:
        raise InvalidInput.at("/body/aor", "a subscription is scoped to an area of responsibility: "
                                           "give aor with mission")
    return http.json_response(
        await webhooks.subscribe(session, settings, name=body.name, url=body.url, actor=who.actor,
                                 level=body.level, aor=aor),
        status=201,
    )


@router.get("/deliveries", summary="Webhook delivery log", response_model=DeliveryList)
async def deliveries(
    session: SessionDep,
    who: Annotated[Principal, Depends(require(Role.admin))],
    warning_id: uuid.UUID | None = None,
    alert_id: uuid.UUID | None = None,
    channel: Annotated[str | None, Query(pattern="^(webhook|community_ack)$")] = None,
) -> Response:
    items = await repo.deliveries(session, warning_id=warning_id, alert_id=alert_id, channel=channel)
    return http.json_response({"items": items})


@router.get("/{warning_id}", summary="One warning (GeoJSON Feature) with its responses",
            response_model=WarningFeature, response_class=GeoJSONDoc)
async def get_warning(
    warning_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*LISTERS))],
) -> Response:
    svc.check_reader(who.role, settings)
    w = await svc.read_one(session, warning_id, who)
    feat = svc.shown(w, who.role, settings)
    if who.role != Role.partner:
        feat["properties"]["responses"] = await repo.responses_for(session, warning_id)
    return http.response(feat)


@router.post("/{warning_id}/status", summary="Move a warning through its lifecycle (409 if illegal)",
             response_model=WarningFeature, response_class=GeoJSONDoc,
             responses={409: {"description": "This lifecycle step is not allowed from the "
                                             "warning's status"}})
async def change_status(
    warning_id: uuid.UUID,
    body: WarningStatusChange,
    session: SessionDep,
    who: Annotated[Principal, Depends(require(*READERS))],
) -> Response:
    out = await svc.transition(session, warning_id, body.status, who, body.comment, now=datetime.now(UTC),
                               outcome=body.outcome, outcome_note=body.outcome_note, reason=body.reason)
    return http.response(out)
