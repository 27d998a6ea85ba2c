"""OGC API - Features (Part 1: core, GeoJSON, OpenAPI 3.0) under /ogc, for QGIS and GDAL."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import JSONResponse, Response

from app.api import http
from app.deps import BBox, ReadSessionDep, SettingsDep, require
from app.domain import Role
from app.errors import InvalidInput
from app.openapi import GeoJSONDoc
from app.schemas import ogc as schemas
from app.services.auth import Principal
from app.services.ogc import collections as svc
from app.settings import Settings

router = APIRouter(prefix="/ogc", tags=["ogc"])

READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
Reader = Annotated[Principal, Depends(require(*READERS))]
JSON = "application/json"
SCHEMA = "application/schema+json"
XML = "application/xml"
QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
MAX_OFFSET = 10_000_000  # far past any collection; keeps OFFSET within what SQL takes
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
]


class SchemaDoc(JSONResponse):
    """`response_class` of the JSON-schema routes: documents their model under
    application/schema+json (the routes return their Response themselves)."""

    media_type = SCHEMA


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


async def _collection(request: Request, c: svc.Collection, session: ReadSessionDep,
                      ctx: svc.Context) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{c.id}"
    return {
        "id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
        "crs": [svc.CRS84], "storageCrs": svc.CRS84,
        "extent": (await c.extent(session, ctx)).document(),
        "links": [_link(base, "self", JSON),
                  _link(f"{base}/items", "items", http.GEOJSON, f"{c.title} (GeoJSON)"),
                  _link(f"{base}/schema", "describedby", SCHEMA,
                        f"schema of a feature ({c.geometry_type} geometry)"),
                  # GDAL reads the geometry and field types from this one (rel spelt its way).
                  _link(f"{base}/schema.xsd", "describedBy", XML,
                        f"GML application schema ({c.geometry_type} geometry)"),
                  _link(f"{base}/queryables", QUERYABLES, SCHEMA, "queryable properties")],
    }


def _context(who: Principal, settings: Settings) -> svc.Context:
    return svc.Context(who=who, settings=settings, now=_utcnow())


@router.get("", summary="OGC API - Features landing page", response_model=schemas.Landing)
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


@router.get("/conformance", summary="Conformance classes", response_model=schemas.Conformance)
async def conformance(who: Reader) -> Response:
    return http.json_response({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Feature collections", response_model=schemas.Collections)
async def collections(request: Request, session: ReadSessionDep, settings: SettingsDep,
                      who: Reader) -> Response:
    ctx = _context(who, settings)
    docs = [await _collection(request, c, session, ctx) for c in svc.visible(who.role)]
    return http.json_response({
        "links": [_link(f"{_base(request)}/collections", "self", JSON)], "collections": docs})


@router.get("/collections/{collection_id}", summary="One collection",
            response_model=schemas.Collection)
async def collection(collection_id: str, request: Request, session: ReadSessionDep,
                     settings: SettingsDep, who: Reader) -> Response:
    c = svc.get(collection_id, who.role)
    return http.json_response(await _collection(request, c, session, _context(who, settings)))


@router.get("/collections/{collection_id}/schema", summary="JSON schema of a collection's features",
            response_model=schemas.FeatureSchema, response_class=SchemaDoc)
async def schema(collection_id: str, who: Reader) -> Response:
    c = svc.get(collection_id, who.role)
    return _schema_response(c.schema())


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties",
            response_model=schemas.FeatureSchema, response_class=SchemaDoc)
async def queryables(collection_id: str, who: Reader) -> Response:
    c = svc.get(collection_id, who.role)
    doc = c.schema()
    doc["$id"] = f"{c.id}/queryables"
    return _schema_response(doc)


@router.get("/collections/{collection_id}/schema.xsd",
            summary="GML application schema of a collection's features (for GDAL)",
            response_class=Response, responses={200: {"content": {XML: {}}}})
async def gml_schema(collection_id: str, who: Reader) -> Response:
    return Response(svc.get(collection_id, who.role).gml_schema(), media_type=XML)


def _schema_response(doc: dict[str, Any]) -> Response:
    return Response(orjson.dumps(doc), media_type=SCHEMA)


@router.get("/collections/{collection_id}/items", summary="Features of a collection (paged)",
            response_model=schemas.FeatureCollection, response_class=GeoJSONDoc)
async def items(
    collection_id: str, request: Request, session: ReadSessionDep, settings: SettingsDep,
    who: Reader, bbox: BBox,
    datetime: Annotated[str | None, Query(description="instant or interval a/b, '..' open")] = None,
    limit: Annotated[int | None, Query(ge=1, description="page size; capped by the server")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    res: Annotated[int | None, Query(ge=4, le=9, description="cell collections (hotspots, "
                                     "forecast): H3 resolution")] = None,
    horizon_days: Annotated[int | None, Query(ge=1, le=366, description="forecast: days "
                                              "ahead")] = None,
    f: Annotated[str | None, Query(description="json or geojson")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    c = svc.get(collection_id, who.role)
    _format(f, accept)
    start, end = svc.parse_datetime(datetime)
    lim = min(limit or settings.page_default, settings.page_max)
    q = svc.ItemsQuery(bbox=bbox, start=start, end=end, limit=lim, offset=offset, res=res,
                       horizon_days=horizon_days)
    page = await c.items(session, _context(who, settings), q)
    feats, matched, cid = page.features, page.matched, c.id
    links = [_link(str(request.url), "self", http.GEOJSON)]
    if offset + len(feats) < matched:
        links.append(_link(str(request.url.include_query_params(offset=offset + lim, limit=lim)),
                           "next", http.GEOJSON, "next page"))
    if offset > 0:
        links.append(_link(str(request.url.include_query_params(offset=max(offset - lim, 0),
                                                                limit=lim)),
                           "prev", http.GEOJSON, "previous page"))
    links.append(_link(f"{_base(request)}/collections/{cid}", "collection", JSON))
    extra: dict[str, Any] = {}
    if page.window is not None:  # the window served (the default one when none was asked)
        extra["window"] = {"start": page.window[0], "end": page.window[1]}
    return http.response(http.collection(
        feats, numberMatched=matched, numberReturned=len(feats),
        timeStamp=_now(), links=links, **extra))


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature",
            response_model=schemas.Feature, response_class=GeoJSONDoc)
async def item(collection_id: str, feature_id: str, request: Request, session: ReadSessionDep,
               settings: SettingsDep, who: Reader,
               datetime: Annotated[str | None, Query(description="the window (cell "
                                                     "collections) or date")] = None,
               res: Annotated[int | None, Query(ge=4, le=9)] = None,
               horizon_days: Annotated[int | None, Query(ge=1, le=366)] = None,
               f: Annotated[str | None, Query(description="json or geojson")] = None) -> Response:
    c = svc.get(collection_id, who.role)
    _format(f, None)
    start, end = svc.parse_datetime(datetime)
    q = svc.ItemsQuery(start=start, end=end, res=res, horizon_days=horizon_days)
    feat = await c.item(session, _context(who, settings), feature_id, q)
    base = f"{_base(request)}/collections/{c.id}"
    feat["links"] = [_link(str(request.url), "self", http.GEOJSON),
                     _link(base, "collection", JSON)]
    return http.response(feat)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _now() -> str:
    return _utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")
