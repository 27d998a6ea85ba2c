"""Information requirements (IRs, PIRs, CCIRs) and their gap report:
/api/v1/information-requirements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api.http import created, json_response
from app.deps import SessionDep, SettingsDep, parse_instant, require
from app.domain import Role
from app.schemas.information_requirements import (
    GapReport,
    InformationRequirement,
    InformationRequirementCreate,
    InformationRequirementList,
)
from app.services.auth import Principal
from app.services.information_requirements import gaps, registry

router = APIRouter(prefix="/api/v1/information-requirements", tags=["information requirements"])

READERS = (Role.admin, Role.analyst, Role.operations)
WRITERS = (Role.admin, Role.analyst)


@router.get("", summary="The information requirements (CRSV ones first, then by priority)",
            response_model=InformationRequirementList)
async def list_requirements(
    session: SessionDep, who: Annotated[Principal, Depends(require(*READERS))],
    crsv: Annotated[bool | None, Query(description="CRSV requirements only (or none)")] = None,
    mission: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    items = await registry.listing(session, crsv=crsv, mission=mission)
    return json_response({"items": items, "numberReturned": len(items)})


@router.post("", status_code=201, summary="Register an information requirement",
             response_model=InformationRequirement)
async def create_requirement(
    body: InformationRequirementCreate, session: SessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*WRITERS))],
) -> Response:
    """An area (GeoJSON Polygon/MultiPolygon) or an AOR, at least one category, a required
    reporting frequency in days (at least 1) and an owner section are required. A requirement
    naming `sexual_violence` is a CRSV requirement."""
    row = await registry.create(session, settings, body, who)
    return created(row, "information-requirements")


@router.get("/gaps", summary="For each requirement: was the required reporting frequency met?",
            response_model=GapReport)
async def gap_report(
    session: SessionDep, who: Annotated[Principal, Depends(require(*READERS))],
    as_of: Annotated[str | None, Query(description="end of the assessed periods (ISO date or "
                                       "date-time; a date means its end); default now")] = None,
    periods: Annotated[int, Query(description="how many periods of each requirement's "
                                  "frequency to assess")] = 4,
    mission: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Per requirement: each of the last `periods` periods (of its own frequency) with its
    report count, `status` met / gap / no reporting, the last report and how long ago it was,
    and the sections that reported. Requirements in gap come first (CRSV first among them)."""
    now = datetime.now(UTC)
    until = parse_instant(as_of, "as_of", end_of_day=True) or now
    return json_response(await gaps.gap_report(session, until=until, periods=periods,
                                               mission=mission, now=now))
