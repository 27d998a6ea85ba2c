"""Documented shapes of the OGC API - Features responses (built as plain dicts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class PropertySchema(BaseModel):
    """One property's JSON schema (a type and format; the geometry has its OGC role)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str | None = None
    format: str | None = Field(default=None, description="date, date-time, geometry-point…")
    title: str | None = None
    x_ogc_role: str | None = Field(default=None, alias="x-ogc-role",
                                   description="primary-geometry for the geometry")


class FeatureSchema(BaseModel):
    """JSON schema of a collection's features or of its queryables (OGC API - Features Part 5):
    the geometry with its declared type and role, then the properties."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["https://json-schema.org/draft/2020-12/schema"] = Field(alias="$schema")
    id_: str = Field(alias="$id", description="the collection's id (queryables: id/queryables)")
    title: str
    type: Literal["object"]
    properties: dict[str, PropertySchema]
