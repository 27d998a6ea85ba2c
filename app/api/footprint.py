"""Base-footprint reviews: POST /api/v1/footprint-reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from app.api import http
from app.deps import SessionDep, SettingsDep, require
from app.domain import Role
from app.schemas.patrols import FootprintReviewRequest
from app.services.auth import Principal
from app.services.planning import service as planning

router = APIRouter(prefix="/api/v1/footprint-reviews", tags=["footprint"])

REVIEWERS = (Role.admin, Role.analyst, Role.operations)


@router.post("", summary="Review the base footprint as of a date")
async def create_review(body: FootprintReviewRequest, session: SessionDep, settings: SettingsDep,
                        who: Annotated[Principal, Depends(require(*REVIEWERS))],
                        f: Annotated[str | None, Query(pattern="^(json|geojson)$")] = None,
                        accept: Annotated[str | None, Header()] = None) -> Response:
    """Per base: threat in reach, trend, share of mission-wide threat and coverage lost if it
    closed; the high-threat cells beyond every base (`uncovered`, a FeatureCollection); and `p`
    candidate temporary bases that would cover the most threat not yet covered. Deterministic.
    `?f=geojson` returns bases, candidates and uncovered cells as one FeatureCollection."""
    result = await planning.review(session, body, settings, who.role)
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
