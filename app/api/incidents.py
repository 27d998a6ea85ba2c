"""Incidents and their reports: /api/v1/incidents."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from app.api import http
from app.deps import BBox, ReadSessionDep, ScopeDep, SessionDep, SettingsDep, TimeWindow, require
from app.domain import Category, Role, Status
from app.errors import InvalidInput
from app.openapi import alternatives
from app.repositories.incidents import IncidentFilter
from app.schemas.alerts import RevealRequest
from app.schemas.incident_audit import AuditTrail
from app.schemas.incidents import (
    IncidentCollection,
    IncidentCreate,
    IncidentCreated,
    IncidentPage,
    IncidentPublic,
    IncidentUpdate,
    ReportAdded,
    ReportCreate,
    StatusChange,
)
from app.schemas.reporters import ReporterRef
from app.services.auth import Principal
from app.services.incidents import audit_trail
from app.services.incidents import records as svc
from app.services.reporters import contacts as reporters
from app.services.triangulation.service import MatchConfig

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
WRITERS = (Role.admin, Role.analyst, Role.operations)
EDITORS = (Role.admin, Role.analyst)
WORKFLOW = (Role.admin, Role.analyst)
REVEALERS = (Role.admin, Role.analyst)  # who may read a reporter's identity (audited)
APPROVERS = (Role.admin,)  # what partners see is approved by an admin
WORKFLOW_CONFLICT: dict[int | str, Any] = {
    409: {"description": "The incident's status does not allow this step"}}


def _csv_enum(value: str | None, enum: type[StrEnum], name: str) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    allowed = {e.value for e in enum}
    bad = [v for v in items if v not in allowed]
    if bad:
        raise InvalidInput(f"unknown {name}: {', '.join(bad)}",
                           errors=[{"pointer": f"/query/{name}",
                                    "detail": f"one of {', '.join(sorted(allowed))}"}])
    return items


@router.post("", status_code=201, summary="Record an incident with its first report",
             response_model=IncidentCreated)
async def create_incident(
    body: IncidentCreate, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*WRITERS))],
    idempotency_key: Annotated[str | None, Header(
        description="safe retries: the same key and body record the incident once")] = None,
) -> Response:
    new_id, placed, replayed = await svc.create_once(session, body, who, settings.h3_resolution,
                                                     idempotency_key,
                                                     MatchConfig.from_settings(settings),
                                                     settings=settings)
    headers = {"Location": f"/api/v1/incidents/{new_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return http.json_response({"id": str(new_id), "triangulation": placed}, status=201,
                              headers=headers)


@router.get("", summary="List incidents (JSON page or GeoJSON FeatureCollection)",
            response_model=IncidentPage, responses=alternatives(IncidentPage, IncidentCollection))
async def list_incidents(
    request: Request, session: ReadSessionDep, settings: SettingsDep, bbox: BBox, window: TimeWindow,
    who: Annotated[Principal, Depends(require(*READERS))],
    scope: ScopeDep,
    category: Annotated[str | None, Query(description="comma-separated category codes")] = None,
    perpetrator: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(description="comma-separated statuses")] = None,
    min_grade: Annotated[str | None, Query(pattern="^[abc]$")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
    f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    lim = min(limit or settings.page_default, settings.page_max)
    filt = IncidentFilter(
        bbox=bbox, start=window[0], end=window[1],
        categories=_csv_enum(category, Category, "category"),
        perpetrator=perpetrator, statuses=_csv_enum(status, Status, "status"),
        grades=svc.grades_at_least(min_grade) if min_grade else None,
        area=scope.area,
    )
    as_geojson = http.wants_geojson(f, accept)
    items, nxt, total = await svc.list_page(session, filt, who, limit=lim, cursor=cursor,
                                            with_count=as_geojson,
                                            policy=svc.PartnerPolicy.from_settings(settings))
    next_url = str(request.url.include_query_params(cursor=nxt)) if nxt else None
    if as_geojson:
        feats = [http.point_feature(str(i["id"]), i["longitude"], i["latitude"],
                                       {k: v for k, v in i.items()
                                        if k not in ("longitude", "latitude", "id")})
                 for i in items]
        links = [{"rel": "self", "href": str(request.url), "type": http.GEOJSON}]
        if next_url:
            links.append({"rel": "next", "href": next_url, "type": http.GEOJSON})
        return http.conditional_json(request, http.collection(
            feats, numberMatched=total, numberReturned=len(feats), links=links, next=next_url),
            geojson=True)
    return http.conditional_json(request, {"items": items, "next": next_url,
                                           "numberReturned": len(items)})


@router.get("/{incident_id}", response_model=IncidentPublic, response_model_exclude_unset=True,
            summary="One incident")
async def get_incident(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                       who: Annotated[Principal, Depends(require(*READERS))]) -> Response:
    return http.json_response(await svc.read(session, incident_id, who,
                                             svc.PartnerPolicy.from_settings(settings)))


@router.get("/{incident_id}/audit", response_model=AuditTrail,
            summary="The incident's audit trail: every change, who made it and when (oldest first)")
async def incident_audit(
    request: Request, incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*WORKFLOW))],
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    lim = min(limit or settings.page_default, settings.page_max)
    body, nxt = await audit_trail.trail(session, incident_id, limit=lim, cursor=cursor)
    body["next"] = str(request.url.include_query_params(cursor=nxt)) if nxt else None
    return http.json_response(body)


@router.patch("/{incident_id}", response_model=IncidentPublic, summary="Change an incident")
async def patch_incident(incident_id: uuid.UUID, body: IncidentUpdate, session: SessionDep,
                         settings: SettingsDep,
                         who: Annotated[Principal, Depends(require(*EDITORS))]) -> Response:
    return http.json_response(await svc.update(session, incident_id, body, who,
                                                  settings.h3_resolution))


@router.post("/{incident_id}/reports", status_code=201, response_model=ReportAdded,
             summary="Add another source's report; the incident is re-graded")
async def add_report(incident_id: uuid.UUID, body: ReportCreate, session: SessionDep,
                     settings: SettingsDep,
                     who: Annotated[Principal, Depends(require(*WRITERS))]) -> Response:
    return http.json_response(await svc.add_report(session, incident_id, body, who,
                                                   settings=settings), status=201)


@router.post("/{incident_id}/reports/{report_id}/reporter",
             summary="Read a report's reporter reference (audited: who, when, why)",
             response_model=ReporterRef)
async def reveal_reporter(incident_id: uuid.UUID, report_id: uuid.UUID, body: RevealRequest,
                          session: SessionDep, settings: SettingsDep,
                          who: Annotated[Principal, Depends(require(*REVEALERS))]) -> Response:
    return http.json_response(await reporters.reveal_report_ref(
        session, settings, incident_id, report_id, who, body.reason))


async def _transition(incident_id: uuid.UUID, target: Status, session: SessionDep,
                      settings: SettingsDep, who: Principal, body: StatusChange | None) -> Response:
    return http.json_response(await svc.transition(session, incident_id, target, who,
                                                      body.comment if body else None,
                                                      four_eyes=settings.four_eyes_approval))


@router.post("/{incident_id}/validate", response_model=IncidentPublic, responses=WORKFLOW_CONFLICT,
             summary="Mark an entered incident validated")
async def validate(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                   who: Annotated[Principal, Depends(require(*WORKFLOW))],
                   body: StatusChange | None = None) -> Response:
    return await _transition(incident_id, Status.validated, session, settings, who, body)


@router.post("/{incident_id}/approve", response_model=IncidentPublic, responses=WORKFLOW_CONFLICT,
             summary="Approve a validated incident (partners see approved incidents; never its "
                     "creator: four-eyes)")
async def approve(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                  who: Annotated[Principal, Depends(require(*APPROVERS))],
                  body: StatusChange | None = None) -> Response:
    return await _transition(incident_id, Status.approved, session, settings, who, body)


@router.post("/{incident_id}/reject", response_model=IncidentPublic, responses=WORKFLOW_CONFLICT,
             summary="Reject an entered or validated incident")
async def reject(incident_id: uuid.UUID, session: SessionDep, settings: SettingsDep,
                 who: Annotated[Principal, Depends(require(*WORKFLOW))],
                 body: StatusChange | None = None) -> Response:
    return await _transition(incident_id, Status.rejected, session, settings, who, body)
