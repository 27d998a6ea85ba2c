"""The threat layer: per-H3-cell threat scores for a time window, with trend and emerging
hot-spot pattern, tailored to the caller's role. Every other feature (warnings, patrol planning,
the map) reads threats through `threat_layer`.

Cached, never stale: results are kept in bounded in-process LRU caches keyed on every query
parameter, the role, the settings and the database's data version (migration 0005), which every
write to `incident` or `report` moves. The version is read before the data, so a write is in the
next response; a repeated request costs one version read and a dictionary lookup.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import h3
import orjson
from isal import igzip
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import GRADE_RANK, Category, Role, Status
from app.errors import Forbidden, InvalidInput, NotFound
from app.repositories import hotspots as repo
from app.services.access import disclosure
from app.services.geo.geojson import collection
from app.services.geo.h3cells import cell_polygon, cell_radius_m
from app.services.missions import clip
from app.services.threat import cell_items as layer_items
from app.services.threat import event_store
from app.services.threat import score as scoring
from app.services.threat.cache import LRU, layer_cache, weigh_bytes, weigh_cells
from app.services.threat.cache import configure as configure_cache
from app.services.threat.cell_sums import LayerSums, layer_sums
from app.settings import Settings

MIN_RES, MAX_RES = 4, 9
LEVEL_RANK = {lvl: i for i, lvl in enumerate(scoring.LEVELS)}


@dataclass
class HotspotQuery:
    res: int = 6                       # 4..9
    as_of: datetime | None = None      # window end; None = now
    window_days: int = 90
    start: datetime | None = None      # if given with end, overrides as_of/window_days
    end: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    categories: list[str] | None = None
    perpetrator: str | None = None
    min_level: str | None = None       # low|medium|high|critical
    min_grade: str | None = None       # a|b|c
    role: Role = Role.analyst          # partner => sanitised per settings policy
    with_pattern: bool = True          # emerging hot-spot classes (costly); False for fast callers
    with_reporting: bool = False       # reporting effort and "low — thin reporting" (see below)
    # Clip hook (issue 13): only cells whose centre lies in this GeoJSON area (a mission's area
    # of operations or an area of responsibility); `area_key` names it in cache keys.
    area: dict[str, Any] | None = None
    area_key: tuple[Any, ...] = ()
    decay_scale_days: float | None = None  # recency decay; None = the settings' default
    precision_decay: bool = False  # widen each event's decay by its date precision


@dataclass
class Window:
    start: datetime
    end: datetime
    step_days: int
    steps: int
    meta: dict[str, Any] = field(default_factory=dict)


def _bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": f"/query/{pointer}", "detail": detail}])


def validate(q: HotspotQuery, settings: Settings) -> None:
    """Refuse what cannot be answered (422) or may not be seen by this role (403)."""
    if not MIN_RES <= q.res <= MAX_RES:
        raise _bad("res", f"res must be between {MIN_RES} and {MAX_RES}")
    if q.window_days < 1 or q.window_days > 36_600:
        raise _bad("window_days", "window_days must be between 1 and 36600")
    if (q.start is None) != (q.end is None):
        raise _bad("start" if q.start is None else "end", "give both start and end, or neither")
    if q.start and q.end and q.end < q.start:
        raise _bad("end", "end is before start")
    known = {c.value for c in Category}
    bad = [c for c in q.categories or [] if c not in known]
    if bad:
        raise _bad("category", f"unknown category: {', '.join(bad)}")
    if q.min_level is not None and q.min_level not in LEVEL_RANK:
        raise _bad("min_level", "min_level must be one of low, medium, high, critical")
    if q.min_grade is not None and q.min_grade not in GRADE_RANK:
        raise _bad("min_grade", "min_grade must be one of a, b, c")
    if q.role == Role.partner and q.res > settings.partner_max_res:
        raise Forbidden(f"partners may read resolutions up to {settings.partner_max_res}")
    # No inference through filters: a partner layer filtered by perpetrator would show where a
    # withheld perpetrator acted.
    disclosure.check_filters(q.role, {"perpetrator": q.perpetrator},
                             disclosure.PartnerPolicy.from_settings(settings))
    if q.role not in (Role.admin, Role.analyst, Role.operations, Role.partner):
        raise Forbidden(f"the {q.role.value} role may not read threat layers")
    if q.decay_scale_days is not None and not 0 < q.decay_scale_days <= 3650:
        raise _bad("decay_scale_days", "decay_scale_days must be more than 0 and at most 3650")


def _next_minute(t: datetime) -> datetime:
    floor = t.replace(second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(minutes=1)


def window(q: HotspotQuery) -> Window:
    if q.start is not None and q.end is not None:
        start, end = q.start, q.end
    else:
        # "Now" is rounded up to the next whole minute, so that a window ending now is the same
        # query (and cache entry) for a minute; events are rarely dated in the future, so the
        # rounding never drops one.
        end = q.as_of or _next_minute(datetime.now(UTC))
        start = end - timedelta(days=q.window_days)
    days = max((end - start).total_seconds() / 86400.0, 1e-9)
    # Weekly steps up to a year; coarser beyond so a cell's series stays ~60 steps at most.
    step = 7 if days <= 366 else max(30, math.ceil(days / 60))
    steps = max(1, math.ceil(days / step))
    return Window(start, end, step, steps)


def _edge_degrees(res: int, lat: float) -> tuple[float, float]:
    m = cell_radius_m(res)
    return m / (111_320 * max(math.cos(math.radians(lat)), 0.01)), m / 110_540


def _expanded(bbox: tuple[float, float, float, float], res: int, edges: float
              ) -> tuple[float, float, float, float]:
    dx, dy = _edge_degrees(res, max(abs(bbox[1]), abs(bbox[3])))
    return (max(bbox[0] - edges * dx, -180), max(bbox[1] - edges * dy, -90),
            min(bbox[2] + edges * dx, 180), min(bbox[3] + edges * dy, 90))


def cell_filter(q: HotspotQuery, w: Window, settings: Settings, cells: list[int] | None = None
                ) -> repo.CellFilter:
    partner_approved = q.role == Role.partner and settings.partner_approved_only
    statuses = ([Status.approved.value] if partner_approved else
                [Status.entered.value, Status.validated.value, Status.approved.value])
    grades = ([g for g, r in GRADE_RANK.items() if r >= GRADE_RANK[q.min_grade]]
              if q.min_grade else None)
    # Points in a cell that straddles the bbox edge lie within two edge lengths of the box.
    bbox = _expanded(q.bbox, q.res, 2.0) if q.bbox else None
    if bbox is not None and cells is None:
        cells = _bbox_cells(tuple(q.bbox), q.res)  # type: ignore[arg-type]
        bbox = None if cells is not None else bbox
    return repo.CellFilter(res=q.res, start=w.start, end=w.end,
                           max_radius_m=scoring.max_radius_m(q.res, settings), statuses=statuses,
                           step_days=w.step_days, bbox=bbox, categories=q.categories,
                           perpetrator=q.perpetrator, grades=grades, cells=cells)


MAX_BBOX_CELLS = 20_000


@lru_cache(maxsize=1024)
def _bbox_cells(bbox: tuple[float, float, float, float], res: int) -> list[int] | None:
    """The cells whose centre lies in the bbox widened by 1.5 edges (a superset of what
    `_in_bbox` keeps), so the query groups only those cells' incidents straight from the covering
    index (no heap visit for `location`). None (use the spatial filter) for very large boxes."""
    x1, y1, x2, y2 = _expanded(bbox, res, 1.5)
    if x2 - x1 > 90 or y2 - y1 > 60:
        return None
    shape = h3.LatLngPoly([(y1, x1), (y1, x2), (y2, x2), (y2, x1)])
    found = h3.h3shape_to_cells(shape, res)
    if not found or len(found) > MAX_BBOX_CELLS:
        return None
    return sorted(h3.str_to_int(c) for c in found)


@lru_cache(maxsize=4)
def _vulnerability_table(path: str) -> dict[int, float]:
    out: dict[int, float] = {}
    with Path(path).open(newline="") as fh:
        for row in csv.DictReader(fh):
            out[h3.str_to_int(row["cell"])] = float(row["multiplier"])
    return out


def vulnerability(cell: int, settings: Settings) -> float:
    """Hook: per-cell multiplier from a CSV (cell,multiplier) in geodata/; 1.0 without one.
    A multiplier given for a coarser cell applies to all its children."""
    if not settings.vulnerability_layer:
        return 1.0
    table = _vulnerability_table(str(settings.geodata_dir / settings.vulnerability_layer))
    res = h3.get_resolution(h3.int_to_str(cell))
    for r in range(res, -1, -1):
        found = table.get(h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), r)))
        if found is not None:
            return found
    return 1.0


def _in_bbox(cell: str, bbox: tuple[float, float, float, float], res: int) -> bool:
    lat, lng = h3.cell_to_latlng(cell)
    x1, y1, x2, y2 = _expanded(bbox, res, 1.0)
    return x1 <= lng <= x2 and y1 <= lat <= y2


def sanitise(cell: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    """Partner view: cells with fewer than the minimum count are dropped, small counts nulled,
    perpetrators removed (need to share, not need to know)."""
    floor = settings.partner_min_count
    if cell["incidents"] < floor:
        return None
    for key in ("fatalities", "crsv"):
        if 0 < (cell[key] or 0) < floor:
            cell[key] = None
    cell["top_categories"] = [c for c in cell["top_categories"] if c["incidents"] >= floor]
    if settings.partner_hide_perpetrators:
        cell["top_perpetrators"] = []
    return cell


# Scored cell lists (for other services) and serialised responses (layers, tiles, details).
_CELLS: LRU[list[dict[str, Any]]] = layer_cache(256, weigh_cells)
_BYTES: LRU[bytes] = layer_cache(256, weigh_bytes)
_GZIP: LRU[bytes] = layer_cache(256, weigh_bytes)  # gzip-compressed layers and series, by key
_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY


async def cache_key(session: AsyncSession, kind: str, q: HotspotQuery, settings: Settings,
                    *extra: Any) -> tuple[Any, ...] | None:
    """Everything a result depends on, with the data version read now (before the data).
    None (do not cache) if the database has no version row."""
    version = await repo.data_version(session)
    if version is None:
        return None
    configure_cache(settings.layer_cache_mb << 20, settings.hotspot_cache_entries)
    w = window(q)
    return (kind, version, settings.model_dump_json(), q.res, w.start, w.end, q.bbox,
            tuple(q.categories or ()), q.perpetrator, q.min_level, q.min_grade, q.role.value,
            q.with_pattern, q.area_key, q.decay_scale_days, q.precision_decay, *extra)


async def threat_layer(session: AsyncSession, q: HotspotQuery, settings: Settings
                       ) -> list[dict[str, Any]]:
    """Scored cells for the query, highest threat first (ties by cell). Cached per data version;
    each call returns fresh (shallow-copied) dicts, so callers may change them."""
    validate(q, settings)
    key = await cache_key(session, "cells", q, settings)
    cells = _CELLS.get(key) if key is not None else None
    if cells is None:
        cells = await _threat_layer(session, q, settings, key)
        if key is not None:
            _CELLS.put(key, cells)
    out = [dict(c) for c in cells]
    if q.with_reporting:
        await _annotate_reporting(session, out, q, settings)
    return out


async def _annotate_reporting(session: AsyncSession, cells: list[dict[str, Any]], q: HotspotQuery,
                              settings: Settings) -> None:
    """Hook: reporting effort per cell and the "low — thin reporting" label, added after scoring
    (app/services/threat/reporting_effort.py; the score itself is unchanged)."""
    from app.services.threat import reporting_effort

    w = window(q)
    await reporting_effort.annotate(session, cells, reporting_effort.Window(q.res, w.start, w.end),
                                    q.role, settings)


def gzipped(key: tuple[Any, ...] | None, body: bytes) -> bytes:
    """`body` gzip-compressed (ISA-L, level 1: ~3x faster than zlib's fastest level on a 4 MB
    layer, at a similar ratio), cached beside it."""
    found = _GZIP.get(key) if key is not None else None
    if found is None:
        found = igzip.compress(body, 1)
        if key is not None:
            _GZIP.put(key, found)
    return found


async def layer_geojson(session: AsyncSession, q: HotspotQuery, settings: Settings, *,
                        gzip: bool = False) -> bytes:
    """The layer as a serialised RFC 7946 FeatureCollection (the /api/v1/hotspots body);
    gzip-compressed when `gzip`."""
    validate(q, settings)
    if q.with_reporting:  # annotated cells are serialised here, not cached as bytes
        cells = await threat_layer(session, q, settings)
        features = [{"type": "Feature", "id": c["cell"], "geometry": cell_polygon(c["cell"]),
                     "properties": c} for c in cells]
        annotated = orjson.dumps(collection(features, numberReturned=len(features),
                                            **layer_meta(q)), default=str, option=_JSON_OPTS)
        return gzipped(None, annotated) if gzip else annotated
    key = await cache_key(session, "geojson", q, settings)
    body = _BYTES.get(key) if key is not None else None
    if body is None:
        scored = await _scored(session, q, settings, key)
        selected = _selected(scored, q, settings)
        head = orjson.dumps(collection([], numberReturned=len(selected), **layer_meta(q)),
                            default=str, option=_JSON_OPTS)
        if q.role == Role.partner:  # sanitised copies: serialised here, not kept per cell
            parts = layer_items.features_bytes([c for _, c in selected if c is not None])
        else:
            parts = scored.features_of([row for row, _ in selected])
        body = head.replace(b'"features":[]', b'"features":[' + b",".join(parts) + b"]", 1)
        if key is not None:
            _BYTES.put(key, body)
    return gzipped(key, body) if gzip else body


async def layer_tile(session: AsyncSession, q: HotspotQuery, z: int, x: int, y: int,
                     settings: Settings) -> bytes:
    """One Mapbox Vector Tile of the layer (q.bbox is the tile's bounds)."""
    from app.services.threat import tiles

    validate(q, settings)
    key = await cache_key(session, "tile", q, settings, z, x, y)
    body = _BYTES.get(key) if key is not None else None
    if body is None:
        body = await tiles.encode(session, await _threat_layer(session, q, settings, key),
                                  z, x, y)
        if key is not None:
            _BYTES.put(key, body)
    return body


def _sums_key(q: HotspotQuery, w: Window, result_key: tuple[Any, ...] | None
              ) -> tuple[Any, ...] | None:
    """What a layer's per-cell sums depend on, from a result's `cache_key` (same database and
    settings; not the version, nor min_level, which filters scored cells). None: not cacheable."""
    if result_key is None:
        return None
    (db, _), settings_json = result_key[1], result_key[2]
    return ("sums", db, settings_json, q.res, w.start, w.end, q.bbox, tuple(q.categories or ()),
            q.perpetrator, q.min_grade, q.role.value, q.with_pattern, q.decay_scale_days,
            q.precision_decay)


async def _scored(session: AsyncSession, q: HotspotQuery, settings: Settings,
                  result_key: tuple[Any, ...] | None) -> layer_items.Scored:
    w = window(q)
    hide_perps = q.role == Role.partner and settings.partner_hide_perpetrators
    key = _sums_key(q, w, result_key)
    f = cell_filter(q, w, settings)
    terms = scoring.threat_terms(settings, q.decay_scale_days, q.precision_decay)
    shape: dict[str, Any] = {"steps": w.steps, "with_series": q.with_pattern,
                             "with_perpetrators": not hide_perps}

    async def from_store() -> LayerSums | None:
        # The store holds no date precision: precision-widened layers are aggregated in SQL.
        if result_key is None or terms.precision_share:
            return None
        found = await event_store.view(session, result_key[1][1])
        return None if found is None else event_store.sums(found, f, terms, **shape)

    sums = await layer_sums(session, key, f, terms, from_store=from_store, **shape)
    return layer_items.score(key, sums, res=q.res, steps=w.steps, step_days=w.step_days,
                             with_pattern=q.with_pattern, settings=settings,
                             vulnerability=vulnerability)


def _selected(scored: layer_items.Scored, q: HotspotQuery, settings: Settings
              ) -> list[tuple[int, dict[str, Any] | None]]:
    """(row, item) of the cells this request shows, highest threat first: min_level, the bbox
    edge and, for partners, sanitised copies (the shared items are never modified). The item is
    None where the row's shared properties apply as they are (see `Scored.item`)."""
    floor_rank = LEVEL_RANK[q.min_level] if q.min_level else 0
    rows = scored.order().tolist()
    if q.area is not None and rows:
        inside = clip.inside(q.area, [scored.cell(r) for r in rows])
        rows = [r for r, keep in zip(rows, inside.tolist(), strict=True) if keep]
    if floor_rank:
        rows = [r for r in rows if LEVEL_RANK[scored.level(r)] >= floor_rank]
    if q.bbox is not None:
        rows = [r for r in rows if _in_bbox(scored.cell(r), q.bbox, q.res)]
    if q.role != Role.partner:
        return [(row, None) for row in rows]
    out: list[tuple[int, dict[str, Any] | None]] = []
    for row in rows:
        sanitised = sanitise(dict(scored.item(row)), settings)
        if sanitised is not None:
            out.append((row, sanitised))
    return out


async def _threat_layer(session: AsyncSession, q: HotspotQuery, settings: Settings,
                        result_key: tuple[Any, ...] | None) -> list[dict[str, Any]]:
    scored = await _scored(session, q, settings, result_key)
    return [scored.item(row) if item is None else item
            for row, item in _selected(scored, q, settings)]


def layer_meta(q: HotspotQuery) -> dict[str, Any]:
    w = window(q)
    return {"resolution": q.res, "start": w.start.isoformat(), "end": w.end.isoformat(),
            "step_days": w.step_days, "steps": w.steps}


def parse_cell(cell: str) -> tuple[int, int]:
    """An H3 cell string -> (integer index, resolution); 422 if it is not a valid cell."""
    try:
        valid = h3.is_valid_cell(cell)
    except (ValueError, TypeError, OverflowError):  # e.g. 30 digits: wider than 64 bits
        valid = False
    if not valid:
        raise InvalidInput("not a valid H3 cell index",
                           errors=[{"pointer": "/path/cell",
                                    "detail": "an H3 cell, e.g. 866a4a4a7ffffff"}])
    return h3.str_to_int(cell), h3.get_resolution(cell)


def _suppress(n: int | None, floor: int) -> int | None:
    return None if n is not None and 0 < n < floor else n


async def cell_detail(session: AsyncSession, cell: str, q: HotspotQuery, settings: Settings, *,
                      incident_limit: int = 100) -> dict[str, Any]:
    """One cell: its layer properties, weekly series, category/perpetrator breakdown and the
    contributing incidents, as the caller's role allows."""
    from app.repositories import incidents as incident_repo
    from app.services.incidents.records import present

    cell_int, res = parse_cell(cell)
    q.res = res
    if q.area is not None and not clip.inside(q.area, [cell])[0]:
        raise NotFound(f"cell {cell} lies outside the mission (or area of responsibility) asked for")
    layer = await threat_layer(session, q, settings)
    props = next((c for c in layer if c["cell"] == cell), None)
    f = cell_filter(q, window(q), settings, cells=[cell_int])
    weekly = await repo.weekly_series(session, f)
    parts = await repo.breakdown(session, f)
    detail: dict[str, Any] = {"cell": cell, "resolution": res, "geometry": cell_polygon(cell),
                              "properties": props, **layer_meta(q)}
    if q.role == Role.partner:
        floor = settings.partner_min_count
        total = sum(w["incidents"] for w in weekly)
        if total < floor:
            weekly, parts = [], {"categories": [], "perpetrators": []}
        detail["weekly"] = [{**w, **{k: _suppress(w[k], floor)
                                     for k in ("incidents", "fatalities", "crsv")}} for w in weekly]
        detail["categories"] = [c for c in parts["categories"] if c["incidents"] >= floor]
        detail["perpetrators"] = [] if settings.partner_hide_perpetrators else [
            p for p in parts["perpetrators"] if p["incidents"] >= floor]
        detail["incidents"] = None
        return detail
    rows = await repo.contributing_incidents(session, f, limit=incident_limit)
    reports = await incident_repo.reports_for(session, [r["id"] for r in rows])
    detail.update(weekly=weekly, **parts,
                  incidents=[present(r, reports.get(r["id"]), q.role) for r in rows])
    return detail


async def cell_detail_json(session: AsyncSession, cell: str, q: HotspotQuery, settings: Settings,
                           *, incident_limit: int = 100) -> bytes:
    """`cell_detail` serialised, cached per data version (reports are versioned too)."""
    _, q.res = parse_cell(cell)
    validate(q, settings)
    key = await cache_key(session, "detail", q, settings, cell, incident_limit)
    body = _BYTES.get(key) if key is not None else None
    if body is None:
        detail = await cell_detail(session, cell, q, settings, incident_limit=incident_limit)
        body = orjson.dumps(detail, default=str, option=_JSON_OPTS)
        if key is not None:
            _BYTES.put(key, body)
    return body
