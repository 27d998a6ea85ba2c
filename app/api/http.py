"""HTTP response helpers shared by the routers: JSON and GeoJSON bodies serialised with orjson
(no per-feature validation), and content negotiation between the two."""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from app.services.geo.geojson import GEOJSON, collection, point_feature

__all__ = ["GEOJSON", "accepts_br", "accepts_gzip", "collection", "conditional", "conditional_json",
           "created", "etag_of", "gzip_once", "json_response", "not_modified", "point_feature", "response",
           "wants_geojson"]


def response(doc: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY),
                    status_code=status, media_type=GEOJSON, headers=headers)


def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY),
                    status_code=status, media_type="application/json", headers=headers)


def created(doc: dict[str, Any], collection: str) -> Response:
    """201 Created: the new resource's document, `Location` naming it under `collection`."""
    return json_response(doc, status=201, headers={"Location": f"/api/v1/{collection}/{doc['id']}"})


def wants_geojson(f: str | None, accept: str | None) -> bool:
    if f is not None:
        return f.lower() in ("geojson", "geo+json")
    return bool(accept and GEOJSON in accept)


# --- low bandwidth: ETag + 304 and gzip for lists and layers (issue 17) ---

GZIP_LEVEL = 6  # the ceiling: level 9 costs ~4x the time for a few % fewer bytes
GZIP_MIN_BYTES = 1024  # smaller bodies gain nothing worth the header and the CPU
_GZ_CACHE: dict[str, bytes] = {}  # ETag → compressed bytes: each body is compressed once
_GZ_CACHE_MAX = 256


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def accepts_br(request: Request) -> bool:
    """`br` among the client's Accept-Encoding tokens, not refused with q=0."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() == "br":
            q = params.strip().removeprefix("q=").strip()
            return not (q and q.replace("0", "").strip(".") == "")
    return False


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def not_modified(request: Request, etag: str) -> bool:
    """True when `If-None-Match` names `etag` (weak comparison, `*` matches anything)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def gzip_once(etag: str, body: bytes) -> bytes:
    """`body` gzip-compressed at GZIP_LEVEL, kept beside its ETag so a body (a layer at one data
    version, a built asset) is compressed once however often it is asked for."""
    found = _GZ_CACHE.get(etag)
    if found is None:
        found = gzip.compress(body, GZIP_LEVEL, mtime=0)
        if len(_GZ_CACHE) >= _GZ_CACHE_MAX:
            _GZ_CACHE.pop(next(iter(_GZ_CACHE)))
        _GZ_CACHE[etag] = found
    return found


def conditional(request: Request, body: bytes, media_type: str, *, status: int = 200,
                headers: dict[str, str] | None = None, cache_control: str = "private, no-cache",
                encoded: bool = False, brotli: bytes | None = None) -> Response:
    """The body with an ETag (a hash of its bytes), `304 Not Modified` when the client already
    has it, gzip-compressed (once) when the client accepts it. `encoded`: `body` is already
    gzip bytes (a cached layer); it is sent as is. `brotli`: the body precompressed with brotli
    (a built asset), sent instead when given (the caller checked that the client accepts br)."""
    etag = etag_of(body)
    out = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding, Authorization",
           **(headers or {})}
    if status == 200 and not_modified(request, etag):
        return Response(status_code=304, headers=out)
    if brotli is not None:
        body = brotli
        out["Content-Encoding"] = "br"
    elif encoded:
        out["Content-Encoding"] = "gzip"
    elif accepts_gzip(request) and len(body) >= GZIP_MIN_BYTES:
        body = gzip_once(etag, body)
        out["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=out)


def conditional_json(request: Request, doc: Any, *, geojson: bool = False) -> Response:
    body = orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY)
    return conditional(request, body, GEOJSON if geojson else "application/json")
