"""OGC API - Features: the registry of feature collections.

Each collection is an object (`Collection`) that declares what map clients need before they read
a feature — title, geometry type, temporal and spatial extent, the window served when a client
asks for none, the roles that may read it, the JSON schema of its properties — and answers pages
and single items as the caller's role may see them. The router holds no per-collection branch: it
looks the collection up here. A new layer is one module in this package that subclasses
`Collection` and calls `register(...)` (every module of the package is imported by `catalogue()`).
Link building stays in the router (it is HTTP shaping).
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import WORKFLOW_STATUSES, Role, Status
from app.errors import Forbidden, InvalidInput, NotFound
from app.schemas.params import parse_instant
from app.services.auth import Principal
from app.settings import Settings

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
WORLD = (-180.0, -90.0, 180.0, 90.0)
READERS = (Role.admin, Role.analyst, Role.operations, Role.partner)
STAFF = (Role.admin, Role.analyst, Role.operations)
# JSON-schema types of feature properties
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
NUM: dict[str, Any] = {"type": "number"}


@dataclass(frozen=True)
class Context:
    """Who asks, under which settings, at what time."""

    who: Principal
    settings: Settings
    now: datetime

    @property
    def role(self) -> Role:
        return self.who.role

    @property
    def approved_only(self) -> bool:
        return self.role == Role.partner and self.settings.partner_approved_only

    def statuses(self) -> list[str] | None:
        # Merged accounts and held possible duplicates are not incidents of their own.
        return ([Status.approved.value] if self.approved_only
                else [s.value for s in WORKFLOW_STATUSES])


@dataclass
class ItemsQuery:
    """The items request: `start`/`end` are None when the client gave no `datetime` (then the
    collection's default window applies)."""

    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 100
    offset: int = 0
    res: int | None = None           # H3 resolution (cell collections)
    horizon_days: int | None = None  # forecast horizon

    @property
    def has_datetime(self) -> bool:
        return self.start is not None or self.end is not None


@dataclass
class Extent:
    bbox: tuple[float, float, float, float] | None
    start: datetime | None
    end: datetime | None  # None with start set: open-ended (still going on)

    def document(self) -> dict[str, Any]:
        t1 = self.start.isoformat() if self.start else None
        t2 = self.end.isoformat() if self.end else None
        return {"spatial": {"bbox": [list(self.bbox or WORLD)], "crs": CRS84},
                "temporal": {"interval": [[t1, t2]], "trs": TRS}}


@dataclass
class Page:
    features: list[dict[str, Any]]
    matched: int
    window: tuple[datetime | None, datetime | None] | None = None  # the window served
    meta: dict[str, Any] = field(default_factory=dict)


class Collection:
    """One OGC API - Features collection. Subclasses set the class attributes and implement
    `extent`, `items` and `item`; `default_window` says what `items` serves without `datetime`."""

    id: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    geometry_type: ClassVar[str]  # GeoJSON type of every feature's geometry
    readers: ClassVar[tuple[Role, ...]] = READERS
    # Query parameters beyond the core ones (bbox, datetime, limit, offset) this collection reads.
    parameters: ClassVar[tuple[str, ...]] = ()
    # JSON-schema `properties` of the features (the /schema and /queryables documents).
    properties: ClassVar[dict[str, dict[str, Any]]] = {}

    def check_role(self, role: Role) -> None:
        if role not in self.readers:
            raise Forbidden(f"the {role.value} role may not read the {self.id} collection")

    async def extent(self, session: AsyncSession, ctx: Context) -> Extent:
        raise NotImplementedError

    async def default_window(self, session: AsyncSession, ctx: Context
                             ) -> tuple[datetime | None, datetime | None]:
        """The window served when the client gives no `datetime` (None, None: everything)."""
        return None, None

    async def items(self, session: AsyncSession, ctx: Context, q: ItemsQuery) -> Page:
        raise NotImplementedError

    async def item(self, session: AsyncSession, ctx: Context, feature_id: str, q: ItemsQuery
                   ) -> dict[str, Any]:
        raise NotImplementedError

    async def window(self, session: AsyncSession, ctx: Context, q: ItemsQuery
                     ) -> tuple[datetime | None, datetime | None]:
        """The client's `datetime`, else the default window."""
        if q.has_datetime:
            return q.start, q.end
        return await self.default_window(session, ctx)

    def schema(self) -> dict[str, Any]:
        """JSON schema of a feature (OGC API - Features Part 5 style): the geometry with its
        declared type and role, then the properties."""
        geometry = {"x-ogc-role": "primary-geometry",
                    "format": "geometry-" + self.geometry_type.lower(),
                    "title": self.geometry_type}
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": self.id, "title": self.title, "type": "object",
                "properties": {"geometry": geometry, **self.properties}}


    def gml_schema(self) -> str:
        """The same declaration as a GML application schema (XML Schema): GDAL's OAPIF driver
        reads the layer's geometry type and field types from a `describedBy` link of type
        application/xml, so an empty collection still opens as Point or Polygon."""
        name = self.id.replace("-", "_")
        rows = [f'<xs:element name="geometry" type="gml:{GML_GEOMETRY[self.geometry_type]}" '
                'minOccurs="0"/>']
        for prop, spec in self.properties.items():
            rows.append(f'<xs:element name="{prop}" type="{_xsd_type(spec)}" minOccurs="0" '
                        'nillable="true"/>')
        body = "\n        ".join(rows)
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:gml="http://www.opengis.net/gml/3.2"
           xmlns:kinga="urn:kinga:ogc" targetNamespace="urn:kinga:ogc"
           elementFormDefault="qualified">
  <xs:element name="{name}" type="kinga:{name}Type" substitutionGroup="gml:AbstractFeature"/>
  <xs:complexType name="{name}Type">
    <xs:complexContent>
      <xs:extension base="gml:AbstractFeatureType">
        <xs:sequence>
        {body}
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
</xs:schema>
"""


GML_GEOMETRY = {"Point": "PointPropertyType", "Polygon": "PolygonPropertyType",
                "MultiPolygon": "MultiSurfacePropertyType", "LineString": "LineStringPropertyType"}


def _xsd_type(spec: dict[str, Any]) -> str:
    if spec.get("type") == "integer":
        return "xs:integer"
    if spec.get("type") == "number":
        return "xs:double"
    if spec.get("type") == "boolean":
        return "xs:boolean"
    return {"date-time": "xs:dateTime", "date": "xs:date"}.get(spec.get("format", ""), "xs:string")


_REGISTRY: dict[str, Collection] = {}
_LOADED = False


def register(collection: Collection) -> Collection:
    if collection.id in _REGISTRY:
        raise ValueError(f"collection {collection.id!r} is registered twice")
    _REGISTRY[collection.id] = collection
    return collection


def catalogue() -> dict[str, Collection]:
    """Every registered collection, in registration (module name) order."""
    global _LOADED
    if not _LOADED:
        from app.services import ogc as package

        for mod in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if mod.name != "collections":
                importlib.import_module(f"{package.__name__}.{mod.name}")
        _LOADED = True
    return _REGISTRY


def visible(role: Role) -> list[Collection]:
    return [c for c in catalogue().values() if role in c.readers]


def get(collection_id: str, role: Role) -> Collection:
    found = catalogue().get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}; see /ogc/collections")
    found.check_role(role)
    return found


def parse_datetime(value: str | None) -> tuple[datetime | None, datetime | None]:
    """OGC `datetime`: an instant, or an interval `a/b` with `..` or empty for an open end."""
    if not value:
        return None, None
    if "/" in value:
        a, _, b = value.partition("/")
        start, end = parse_instant(a, "datetime"), parse_instant(b, "datetime", end_of_day=True)
    else:
        start, end = parse_instant(value, "datetime"), parse_instant(value, "datetime",
                                                                      end_of_day=True)
    if start and end and end < start:
        raise InvalidInput("datetime interval ends before it starts",
                           errors=[{"pointer": "/query/datetime", "detail": "end before start"}])
    return start, end


def feature_uuid(feature_id: str, what: str) -> uuid.UUID:
    """A feature id that must be a UUID; anything else names no feature (404)."""
    try:
        return uuid.UUID(feature_id)
    except ValueError:
        raise NotFound(f"no {what} {feature_id}") from None


def bbox_of(e: dict[str, Any]) -> tuple[float, float, float, float] | None:
    if e.get("x1") is None:
        return None
    return (float(e["x1"]), float(e["y1"]), float(e["x2"]), float(e["y2"]))


def utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
