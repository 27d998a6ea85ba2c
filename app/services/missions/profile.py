"""A mission profile: everything that differs between missions, as data.

Area of operations, IANA time zone, seasons (named month ranges with road/foot/air speed factors,
optionally for one region), languages, CAP sender and identifier prefix, map start view, the
default recency-decay scale, the names the mission and the armed groups go by, and bundled
gazetteer files. Profiles live in the `mission` table; the bundled demonstration mission's
profile is a data file (`app/data/missions/<code>.json`). Pure: no SQL, no HTTP.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from app.errors import InvalidInput

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
MISSIONS_DIR = DATA_DIR / "missions"
OUTLINES = "naturalearth-countries.geojson"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
MODES = ("road", "foot", "air")
GENERIC_LANGUAGES = ("en",)


def bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": pointer, "detail": detail}])


@dataclass(frozen=True)
class Season:
    name: str
    months: tuple[int, ...]
    speed_factor: dict[str, float]
    region: dict[str, Any] | None = None  # GeoJSON (Multi)Polygon; None = the whole mission

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "months": list(self.months),
                               "speed_factor": dict(self.speed_factor)}
        if self.region is not None:
            out["region"] = self.region
        return out


@dataclass
class Mission:
    code: str
    name: str
    timezone: str
    area: dict[str, Any] | None  # GeoJSON MultiPolygon; None only for the generic fallback
    countries: list[str] = field(default_factory=list)
    seasons: list[Season] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: list(GENERIC_LANGUAGES))
    cap_sender: str = "kinga@example.invalid"
    cap_identifier_prefix: str = "kinga-warning-"
    map_view: dict[str, Any] | None = None
    decay_scale_days: float | None = None
    precision_decay: bool = True  # widen the decay by each event's date precision
    un_names: list[str] = field(default_factory=list)
    armed_groups: list[str] = field(default_factory=list)
    gazetteer_files: list[str] = field(default_factory=list)
    aor_overlap: str = "forbid"  # forbid | allow (between AORs of one kind)
    seed: dict[str, Any] = field(default_factory=dict)
    stored: bool = False  # a row of the mission table (False: a bundled profile file)
    version: str = ""     # changes whenever the stored row changes (cache keys)

    # ---- geometry -----------------------------------------------------------------------
    @cached_property
    def geometry(self) -> BaseGeometry | None:
        if self.area is None:
            return None
        g = shape(self.area)
        shapely.prepare(g)
        return g

    def covers(self, lon: float, lat: float) -> bool:
        g = self.geometry
        return True if g is None else bool(shapely.intersects_xy(g, lon, lat))

    def covers_many(self, lons: Any, lats: Any) -> Any:
        """Vectorised: which (lon, lat) lie in the area (boundary included)."""
        import numpy as np

        g = self.geometry
        if g is None:
            return np.ones(len(lons), dtype=bool)
        return shapely.intersects_xy(g, np.asarray(lons, float), np.asarray(lats, float))

    # ---- time ---------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.zone)

    # ---- seasons ------------------------------------------------------------------------
    def seasons_on(self, on: date, lat: float | None = None, lon: float | None = None
                   ) -> list[Season]:
        out = []
        for s in self.seasons:
            if on.month not in s.months:
                continue
            if s.region is not None and lat is not None and lon is not None \
                    and not _region(json.dumps(s.region, sort_keys=True)).intersects(
                        shapely.Point(lon, lat)):
                continue
            out.append(s)
        return out

    def speed_factor(self, mode: str, on: date, lat: float | None = None,
                     lon: float | None = None) -> float:
        """The slowest factor of the seasons in force on `on` (at the point, for regional ones)."""
        factors = [s.speed_factor.get(mode, 1.0) for s in self.seasons_on(on, lat, lon)]
        return min(factors) if factors else 1.0

    # ---- presentation -------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.name, "timezone": self.timezone,
            "countries": list(self.countries), "area": self.area,
            "seasons": [s.as_dict() for s in self.seasons], "languages": list(self.languages),
            "cap_sender": self.cap_sender, "cap_identifier_prefix": self.cap_identifier_prefix,
            "map_view": self.map_view, "decay_scale_days": self.decay_scale_days,
            "precision_decay": self.precision_decay,
            "un_names": list(self.un_names), "armed_groups": list(self.armed_groups),
            "gazetteer_files": list(self.gazetteer_files), "aor_overlap": self.aor_overlap,
            "stored": self.stored,
        }

    def profile_json(self) -> dict[str, Any]:
        """What the `profile` column holds (everything but code, name, area, countries, tz)."""
        d = self.as_dict()
        for k in ("code", "name", "timezone", "countries", "area", "stored"):
            d.pop(k)
        d["seed"] = self.seed
        return d


@lru_cache(maxsize=64)
def _region(geojson: str) -> BaseGeometry:
    g = shape(json.loads(geojson))
    shapely.prepare(g)
    return g


# ---- validation ------------------------------------------------------------------------------

def check_code(code: Any, pointer: str = "/body/code") -> str:
    if not isinstance(code, str) or not CODE_PATTERN.match(code.lower()):
        raise bad(pointer, "a code of 2-32 letters, digits, '-' or '_', starting with a letter")
    return code.lower()


def check_timezone(tz: Any, pointer: str = "/body/timezone") -> str:
    if not isinstance(tz, str) or not tz or tz != tz.strip():
        raise bad(pointer, "an IANA time zone name, e.g. Region/City")
    if re.fullmatch(r"(UTC|GMT)?[+-]\d{1,2}(:?\d{2})?", tz, re.I):
        raise bad(pointer, "a fixed offset is not a time zone: give an IANA name "
                           "(offsets change, e.g. in 2021)")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(pointer, f"unknown time zone {tz!r}: give an IANA name, e.g. Region/City") \
            from None
    if tz not in available_timezones() and tz != "UTC":
        raise bad(pointer, f"unknown time zone {tz!r}: give an IANA name, e.g. Region/City")
    return tz


def _geometry_of(doc: Any, pointer: str) -> BaseGeometry:
    if not isinstance(doc, dict):
        raise bad(pointer, "a GeoJSON Polygon or MultiPolygon (or a Feature/FeatureCollection "
                           "of them)")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features")
        if not isinstance(feats, list) or not feats:
            raise bad(pointer, "an empty FeatureCollection has no area")
        parts = [_geometry_of((f or {}).get("geometry") if isinstance(f, dict) else None,
                              f"{pointer}/features/{i}/geometry") for i, f in enumerate(feats)]
        return shapely.union_all(parts)
    if kind == "Feature":
        return _geometry_of(doc.get("geometry"), f"{pointer}/geometry")
    if kind not in ("Polygon", "MultiPolygon"):
        raise bad(pointer, f"must be a Polygon or MultiPolygon, not {kind!r}")
    try:
        g = shape(doc)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError,
            shapely.errors.GEOSException):
        raise bad(pointer, "not a valid GeoJSON polygon (rings of [lon, lat] positions)") from None
    return g


def check_area(doc: Any, pointer: str = "/body/area") -> dict[str, Any]:
    """A valid, non-empty (Multi)Polygon in lon/lat as a GeoJSON MultiPolygon (RFC 7946 rings)."""
    g = _geometry_of(doc, pointer)
    if g.is_empty:
        raise bad(pointer, "the area is empty")
    if not g.is_valid:
        reason = shapely.is_valid_reason(g)
        raise bad(pointer, f"not a valid polygon ({reason})")
    minx, miny, maxx, maxy = g.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise bad(pointer, "coordinates are outside WGS84 longitude/latitude")
    return multipolygon(g)


def multipolygon(g: BaseGeometry) -> dict[str, Any]:
    if isinstance(g, Polygon):
        g = MultiPolygon([g])
    if not isinstance(g, MultiPolygon):
        polys = [p for p in getattr(g, "geoms", []) if isinstance(p, Polygon | MultiPolygon)]
        g = MultiPolygon([q for p in polys for q in (p.geoms if isinstance(p, MultiPolygon)
                                                     else [p])])
    g = shapely.orient_polygons(g) if hasattr(shapely, "orient_polygons") else \
        MultiPolygon([shapely.geometry.polygon.orient(p, 1.0) for p in g.geoms])
    return dict(mapping(g))


@lru_cache(maxsize=8)
def _outlines(path: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(Path(path).read_bytes())
    return {f["properties"]["iso_a3"]: f["geometry"] for f in doc["features"]}


def bundled_countries(geodata_dir: Path) -> list[str]:
    return sorted(_outlines(str(geodata_dir / OUTLINES)))


def area_from_countries(isos: list[str], geodata_dir: Path, pointer: str = "/body/countries"
                        ) -> dict[str, Any]:
    outlines = _outlines(str(geodata_dir / OUTLINES))
    if not isos:
        raise bad(pointer, "give at least one ISO 3166 alpha-3 code")
    parts = []
    for i, iso in enumerate(isos):
        code = str(iso).strip().upper()
        if code not in outlines:
            raise bad(f"{pointer}/{i}", f"no bundled outline for {code!r}; bundled: "
                                        f"{', '.join(sorted(outlines))} (or give an area)")
        parts.append(shape(outlines[code]))
    return multipolygon(shapely.union_all(parts) if len(parts) > 1 else parts[0])


def _season(d: Any, pointer: str) -> Season:
    if not isinstance(d, dict):
        raise bad(pointer, "a season is {name, months, speed_factor}")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad(f"{pointer}/name", "a season needs a name")
    months = d.get("months")
    if not isinstance(months, list) or not months or not all(
            isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months):
        raise bad(f"{pointer}/months", "months are numbers 1-12")
    factors = d.get("speed_factor", {})
    if not isinstance(factors, dict) or not all(
            k in MODES and isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1
            for k, v in factors.items()):
        raise bad(f"{pointer}/speed_factor", "factors per mode (road, foot, air), each 0-1")
    region = d.get("region")
    if region is not None:
        region = check_area(region, f"{pointer}/region")
    return Season(name.strip(), tuple(sorted(set(months))),
                  {k: float(v) for k, v in factors.items()}, region)


def _strings(v: Any, pointer: str, *, pattern: str | None = None) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise bad(pointer, "a list of non-empty strings")
    if pattern is not None:
        for i, x in enumerate(v):
            if not re.fullmatch(pattern, x):
                raise bad(f"{pointer}/{i}", f"{x!r} is not well formed")
    return [x.strip() for x in v]


def from_dict(d: dict[str, Any], geodata_dir: Path, *, prefix: str = "/body",
              stored: bool = False, version: str = "") -> Mission:
    """Check a whole profile and build the Mission (422 with a pointer on the first fault).
    The area is `area` (GeoJSON) or the union of the bundled outlines of `countries`."""
    code = check_code(d.get("code"), f"{prefix}/code")
    name = d.get("name") or code.upper()
    if not isinstance(name, str) or len(name) > 200:
        raise bad(f"{prefix}/name", "a name of at most 200 characters")
    tz = check_timezone(d.get("timezone"), f"{prefix}/timezone")
    countries = [c.upper() for c in _strings(d.get("countries") or [], f"{prefix}/countries",
                                             pattern=r"[A-Za-z]{3}")]
    if d.get("area") is not None:
        area = check_area(d["area"], f"{prefix}/area")
    elif countries:
        area = area_from_countries(countries, geodata_dir, f"{prefix}/countries")
    else:
        raise bad(f"{prefix}/area", "give the area of operations (GeoJSON) or countries")
    seasons_raw = d.get("seasons") or []
    if not isinstance(seasons_raw, list):
        raise bad(f"{prefix}/seasons", "a list of seasons")
    seasons = [_season(s, f"{prefix}/seasons/{i}") for i, s in enumerate(seasons_raw)]
    languages = _strings(d.get("languages") or list(GENERIC_LANGUAGES), f"{prefix}/languages",
                         pattern=r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
    from app.services.missions import languages as lang

    for i, code_ in enumerate(languages):
        if not lang.exists(code_):
            raise bad(f"{prefix}/languages/{i}",
                      f"no language file for {code_!r}; available: {', '.join(lang.available())}")
    view = d.get("map_view")
    if view is not None:
        ok = isinstance(view, dict) and isinstance(view.get("center"), list) \
            and len(view["center"]) == 2 \
            and all(isinstance(x, int | float) and not isinstance(x, bool) for x in view["center"]) \
            and -180 <= view["center"][0] <= 180 and -90 <= view["center"][1] <= 90 \
            and isinstance(view.get("zoom", 5), int | float) and 0 <= view.get("zoom", 5) <= 20
        if not ok:
            raise bad(f"{prefix}/map_view", "{center: [lon, lat], zoom: 0-20}")
    else:
        g = shape(area)
        c = g.envelope.centroid
        view = {"center": [round(c.x, 4), round(c.y, 4)], "zoom": 5}
    decay = d.get("decay_scale_days")
    if decay is not None and (not isinstance(decay, int | float) or isinstance(decay, bool)
                              or not 0 < decay <= 3650):
        raise bad(f"{prefix}/decay_scale_days", "days, more than 0 and at most 3650")
    # On unless a profile says otherwise: coarse dates must not vanish from a year's picture.
    precision_decay = d.get("precision_decay", True)
    if not isinstance(precision_decay, bool):
        raise bad(f"{prefix}/precision_decay", "true or false")
    overlap = d.get("aor_overlap", "forbid")
    if overlap not in ("forbid", "allow"):
        raise bad(f"{prefix}/aor_overlap", "forbid or allow")
    sender = d.get("cap_sender") or f"kinga@{code}.example.invalid"
    if not isinstance(sender, str) or len(sender) > 200 or not sender.strip():
        raise bad(f"{prefix}/cap_sender", "a sender address")
    ident = d.get("cap_identifier_prefix") or f"kinga-{code}-"
    if not isinstance(ident, str) or not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", ident):
        raise bad(f"{prefix}/cap_identifier_prefix", "letters, digits, '.', '_', ':' or '-'")
    return Mission(
        code=code, name=name, timezone=tz, area=area, countries=countries, seasons=seasons,
        languages=languages, cap_sender=sender, cap_identifier_prefix=ident,
        map_view={"center": [float(x) for x in view["center"]],
                  "zoom": float(view.get("zoom", 5))},
        decay_scale_days=float(decay) if decay is not None else None,
        precision_decay=precision_decay,
        un_names=_strings(d.get("un_names") or [], f"{prefix}/un_names"),
        armed_groups=_strings(d.get("armed_groups") or [], f"{prefix}/armed_groups"),
        gazetteer_files=_strings(d.get("gazetteer_files") or [], f"{prefix}/gazetteer_files"),
        aor_overlap=overlap, seed=dict(d.get("seed") or {}), stored=stored, version=version,
    )


def bundled_codes() -> list[str]:
    return sorted(p.stem for p in MISSIONS_DIR.glob("*.json"))


@lru_cache(maxsize=16)
def _bundled(code: str, geodata_dir: Path) -> Mission | None:
    path = MISSIONS_DIR / f"{code}.json"
    if not path.is_file():
        return None
    return from_dict(json.loads(path.read_bytes()), geodata_dir, prefix=f"/{path.name}",
                     version=f"file:{path.stat().st_mtime_ns}")


def bundled(code: str, geodata_dir: Path) -> Mission | None:
    """The profile shipped as a data file under app/data/missions (None if there is none)."""
    if not CODE_PATTERN.match(code or ""):
        return None
    return _bundled(code, geodata_dir)


GENERIC = Mission(code="none", name="No mission", timezone="UTC", area=None, precision_decay=False)


@lru_cache(maxsize=1)
def _marked_default() -> str:
    for path in sorted(MISSIONS_DIR.glob("*.json")):
        if json.loads(path.read_bytes()).get("default") is True:
            return path.stem
    return "none"


def default_code(settings: Any) -> str:
    """KINGA_DEFAULT_MISSION, else the bundled profile marked `"default": true`, else "none"."""
    return (getattr(settings, "default_mission", "") or _marked_default()).strip().lower()


def fallback(settings: Any) -> Mission:
    """The default mission's bundled profile without asking the database (pure callers that
    were given no mission): the demonstration mission's file, or the generic profile."""
    name = default_code(settings)
    return (bundled(name, settings.geodata_dir) if name != "none" else None) or GENERIC
