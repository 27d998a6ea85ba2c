"""The reporting-effort layer: /api/v1/reporting-effort (GeoJSON, staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.api import http
from app.api.hotspots import QueryDep
from app.deps import ReadSessionDep, SettingsDep, require
from app.domain import Role
from app.openapi import GeoJSONDoc
from app.schemas.hotspots import ReportingEffortCollection
from app.services.auth import Principal
from app.services.threat import reporting_layer as svc

router = APIRouter(prefix="/api/v1/reporting-effort", tags=["hotspots"])

STAFF = (Role.admin, Role.analyst, Role.operations)


@router.get("", summary="Reports per H3 cell against the cell's history and neighbours",
            response_model=ReportingEffortCollection, response_class=GeoJSONDoc)
async def reporting_effort(
    q: QueryDep, session: ReadSessionDep, settings: SettingsDep,
    who: Annotated[Principal, Depends(require(*STAFF))],
    res: Annotated[int, Query(ge=4, le=9, description="H3 resolution")] = 6,
    status: Annotated[str | None, Query(pattern="^(none|thin|adequate)(,(none|thin|adequate))*$",
                                        description="keep cells with these statuses")] = None,
) -> Response:
    """Every cell with a report in the window or in the windows before it (history), with
    `reports`, `sections`, `sources`, `history_mean`, `neighbour_mean` and `status` (none, thin,
    adequate). A cell that used to be reported on and is now silent shows as `none`: unwatched
    is not safe. Takes the threat layer's window parameters (`as_of`, `window_days`, `start`,
    `end`)."""
    q.res, q.role = res, who.role
    feats = await svc.layer(session, q, settings,
                            statuses=status.split(",") if status else None)
    return http.response(http.collection(feats, numberReturned=len(feats)))
