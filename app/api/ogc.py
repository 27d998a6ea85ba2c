"""OGC API - Features (Part 1: core, GeoJSON, OpenAPI 3.0) under /ogc, for QGIS and GDAL."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from app.api import http
from app.deps import BBox, ReadSessionDep, SettingsDep, require
from app.domain import Role
from app.errors import InvalidInput, NotFound
from app.services.auth import Principal
from app.services.ogc import collections as svc

router = APIRouter(prefix="/ogc", tags=["ogc"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
Reader = Annotated[Principal, Depends(require(*READERS))]
JSON = "application/json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, mtype: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": mtype}
    if title:
        out["title"] = title
    return out


def _format(f: str | None, accept: str | None) -> None:
    """Only JSON encodings are offered; anything else asked for explicitly is refused."""
    if f is not None and f.lower() not in ("json", "geojson"):
        raise InvalidInput("f must be json or geojson",
                           errors=[{"pointer": "/query/f", "detail": "json or geojson"}])


def _collection_id(collection_id: str) -> str:
    if collection_id not in svc.COLLECTIONS:
        raise NotFound(f"no collection {collection_id!r}; see /ogc/collections")
    return collection_id


async def _collection(request: Request, cid: str, session: ReadSessionDep, settings: SettingsDep,
                      who: Principal) -> dict[str, Any]:
    title, description = svc.COLLECTIONS[cid]
    base = f"{_base(request)}/collections/{cid}"
    return {
        "id": cid, "title": title, "description": description, "itemType": "feature",
        "crs": [svc.CRS84], "storageCrs": svc.CRS84,
        "extent": await svc.extent(session, cid, who.role, settings),
        "links": [_link(base, "self", JSON),
                  _link(f"{base}/items", "items", http.GEOJSON, f"{title} (GeoJSON)")],
    }


@router.get("", summary="OGC API - Features landing page")
async def landing(request: Request, who: Reader) -> Response:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return http.json_response({
        "title": "Kinga threat picture",
        "description": "Incidents against civilians and H3 threat hotspots (OGC API - Features).",
        "links": [
            _link(base, "self", JSON, "this document"),
            _link(f"{root}/openapi.json", "service-desc",
                  "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            _link(f"{root}/docs", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections", "data", JSON, "the collections"),
        ],
    })


@router.get("/conformance", summary="Conformance classes")
async def conformance(who: Reader) -> Response:
    return http.json_response({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Feature collections")
async def collections(request: Request, session: ReadSessionDep, settings: SettingsDep,
                      who: Reader) -> Response:
    docs = [await _collection(request, cid, session, settings, who) for cid in svc.COLLECTIONS]
    return http.json_response({
        "links": [_link(f"{_base(request)}/collections", "self", JSON)], "collections": docs})


@router.get("/collections/{collection_id}", summary="One collection")
async def collection(collection_id: str, request: Request, session: ReadSessionDep,
                     settings: SettingsDep, who: Reader) -> Response:
    cid = _collection_id(collection_id)
    return http.json_response(await _collection(request, cid, session, settings, who))


@router.get("/collections/{collection_id}/items", summary="Features of a collection (paged)",
            responses={200: {"content": {http.GEOJSON: {}}}})
async def items(
    collection_id: str, request: Request, session: ReadSessionDep, settings: SettingsDep,
    who: Reader, bbox: BBox,
    datetime: Annotated[str | None, Query(description="instant or interval a/b, '..' open")] = None,
    limit: Annotated[int | None, Query(ge=1, description="page size; capped by the server")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    res: Annotated[int, Query(ge=4, le=9, description="hotspots only: H3 resolution")] = 6,
    f: Annotated[str | None, Query(description="json or geojson")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    cid = _collection_id(collection_id)
    _format(f, accept)
    start, end = svc.parse_datetime(datetime)
    lim = min(limit or settings.page_default, settings.page_max)
    feats, matched = await svc.items(session, cid, role=who.role, settings=settings, bbox=bbox,
                                     start=start, end=end, res=res, limit=lim, offset=offset)
    links = [_link(str(request.url), "self", http.GEOJSON)]
    if offset + len(feats) < matched:
        links.append(_link(str(request.url.include_query_params(offset=offset + lim, limit=lim)),
                           "next", http.GEOJSON, "next page"))
    if offset > 0:
        links.append(_link(str(request.url.include_query_params(offset=max(offset - lim, 0),
                                                                limit=lim)),
                           "prev", http.GEOJSON, "previous page"))
    links.append(_link(f"{_base(request)}/collections/{cid}", "collection", JSON))
    return http.response(http.collection(
        feats, numberMatched=matched, numberReturned=len(feats),
        timeStamp=_now(), links=links))


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature",
            responses={200: {"content": {http.GEOJSON: {}}}})
async def item(collection_id: str, feature_id: str, request: Request, session: ReadSessionDep,
               settings: SettingsDep, who: Reader,
               datetime: Annotated[str | None, Query(description="hotspots: the window")] = None,
               f: Annotated[str | None, Query(description="json or geojson")] = None) -> Response:
    cid = _collection_id(collection_id)
    _format(f, None)
    start, end = svc.parse_datetime(datetime)
    feat = await svc.item(session, cid, feature_id, who=who, settings=settings, start=start,
                          end=end)
    base = f"{_base(request)}/collections/{cid}"
    feat["links"] = [_link(str(request.url), "self", http.GEOJSON),
                     _link(base, "collection", JSON)]
    return http.response(feat)


def _now() -> str:
    from datetime import UTC
    from datetime import datetime as dt

    return dt.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
