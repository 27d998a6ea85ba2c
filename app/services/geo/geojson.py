"""RFC 7946 output: built as plain dicts and serialised with orjson (no per-feature validation)."""

from __future__ import annotations

from typing import Any

GEOJSON = "application/geo+json"


def point_feature(fid: str, lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


def collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **members}
