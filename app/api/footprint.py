"""Base-footprint reviews: POST /api/v1/footprint-reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, body_scope, require
from app.domain import Role
from app.openapi import alternatives
from app.schemas.patrols import (
    FootprintCompareRequest,
    FootprintComparison,
    FootprintReview,
    FootprintReviewRequest,
    PlanningCollection,
)
from app.services.auth import Principal
from app.services.planning import service as planning

router = APIRouter(prefix="/api/v1/footprint-reviews", tags=["footprint"])

REVIEWERS = (Role.admin, Role.analyst, Role.operations)


@router.post("", summary="Review the base footprint as of a date", response_model=FootprintReview,
             responses=alternatives(FootprintReview, PlanningCollection))
async def create_review(body: FootprintReviewRequest, session: SessionDep, settings: SettingsDep,
                        who: Annotated[Principal, Depends(require(*REVIEWERS))],
                        f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
                        accept: Annotated[str | None, Header()] = None) -> Response:
    """Per base: threat in reach, trend, share of mission-wide threat and coverage lost if it
    closed; the high-threat cells beyond every base (`uncovered`, a FeatureCollection); and `p`
    candidate temporary bases that would cover the most threat not yet covered. Deterministic.
    `?f=geojson` returns bases, candidates and uncovered cells as one FeatureCollection."""
    scope = await body_scope(session, settings, who, body.mission, body.aor)
    result = await planning.review(session, body, settings, who.role, scope)
    if http.wants_geojson(f, accept):
        feats = [http.point_feature(b["id"], b["longitude"], b["latitude"],
                                       {**b, "feature": "base"}) for b in result["bases"]]
        feats += [http.point_feature(f"candidate-{c['rank']}", c["longitude"], c["latitude"],
                                        {**c, "feature": "candidate"})
                  for c in result["candidates"]]
        feats += [{**u, "properties": {**u["properties"], "feature": "uncovered"}}
                  for u in result["uncovered"]["features"]]
        return http.response(http.collection(feats, summary=result["summary"]))
    return http.json_response(result)


@router.post("/compare", summary="Two footprints side by side: dates, or proposed closures and "
                                 "openings", response_model=FootprintComparison)
async def compare_reviews(body: FootprintCompareRequest, session: SessionDep,
                          settings: SettingsDep,
                          who: Annotated[Principal, Depends(require(*REVIEWERS))]) -> Response:
    """Per base and in total, the threat covered in scenario A (`as_of`'s bases) and B
    (`compare_to`'s bases, or A with `closures` and `openings`), and for each base B closes the
    cells it alone covered that are left uncovered. `"mission"` clips both to that mission."""
    scope = await body_scope(session, settings, who, body.mission, body.aor)
    return http.json_response(await planning.compare(session, body, settings, who.role, scope))
