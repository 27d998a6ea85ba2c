"""Documented shapes of the OGC API - Features responses (built as plain dicts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from app.schemas.incidents import Link


class Landing(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]  # noqa: N815 (OGC spelling)


class Extent(BaseModel):
    spatial: dict[str, Any]
    temporal: dict[str, Any]


class Collection(BaseModel):
    id: str
    title: str
    description: str
    itemType: str  # noqa: N815
    crs: list[str]
    storageCrs: str  # noqa: N815
    extent: Extent
    links: list[Link]


class Collections(BaseModel):
    links: list[Link]
    collections: list[Collection]


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    links: list[Link] | None = None


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    numberMatched: int  # noqa: N815
    numberReturned: int  # noqa: N815
    timeStamp: str  # noqa: N815
    links: list[Link]
