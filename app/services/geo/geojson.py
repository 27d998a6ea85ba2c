"""RFC 7946 output: built as plain dicts and serialised with orjson (no per-feature validation)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

GEOJSON = "application/geo+json"


def point_feature(fid: str, lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


def collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **members}


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
