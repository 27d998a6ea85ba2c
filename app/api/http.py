"""HTTP response helpers shared by the routers: JSON and GeoJSON bodies serialised with orjson
(no per-feature validation), and content negotiation between the two."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from app.services.geo.geojson import GEOJSON, collection, point_feature

__all__ = ["GEOJSON", "collection", "json_response", "point_feature", "response", "wants_geojson"]


def response(doc: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY),
                    status_code=status, media_type=GEOJSON, headers=headers)


def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc, default=str, option=orjson.OPT_SERIALIZE_NUMPY),
                    status_code=status, media_type="application/json", headers=headers)


def wants_geojson(f: str | None, accept: str | None) -> bool:
    if f is not None:
        return f.lower() in ("geojson", "geo+json")
    return bool(accept and GEOJSON in accept)
