"""The threat layer as files: CSV and GeoPackage (as the caller's role sees it) and HXL — the
sanitised partner layer with a row of HXL hashtags under the column names, whoever asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role, Status
from app.repositories import exports as repo
from app.services.exports.files import (
    CSV_MEDIA,
    GPKG_MEDIA,
    Export,
    csv_bytes,
    new_gpkg_path,
    write_gpkg,
)
from app.services.threat.layer import HotspotQuery, threat_layer, window
from app.settings import Settings

FORMATS = ("csv", "gpkg", "hxl")
# (column name, HXL hashtag, key in the row). HXL: https://hxlstandard.org (core hashtags).
HXL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("H3 cell", "#loc+code+h3", "cell"),
    ("Admin 1", "#adm1+name", "admin1"),
    ("Latitude", "#geo+lat", "latitude"),
    ("Longitude", "#geo+lon", "longitude"),
    ("Window start", "#date+start", "start"),
    ("Window end", "#date+end", "end"),
    ("Main event type", "#event+type", "main_category"),
    ("Incidents", "#event+num", "incidents"),
    ("Killed", "#affected+killed", "fatalities"),
    ("CRSV survivors", "#affected+crsv", "crsv"),
    ("Threat level", "#severity", "threat_level"),
    ("Threat score", "#severity+num", "threat_score"),
    ("Protection tier", "#indicator+tier", "protection_tier"),
    ("Trend", "#indicator+trend", "trend"),
    ("Reporting", "#status+reporting", "reporting"),
)
CSV_COLUMNS = ("cell", "resolution", "admin1", "latitude", "longitude", "start", "end",
               "threat_score", "threat_level", "protection_tier", "likelihood", "impact",
               "crsv_impact", "vulnerability", "incidents", "fatalities", "crsv", "main_category",
               "trend", "pattern", "top_perpetrators", "reporting")


async def rows(session: AsyncSession, q: HotspotQuery, settings: Settings) -> list[dict[str, Any]]:
    """One flat row per cell of the layer q describes (q.role decides what is in it)."""
    q.with_reporting = True
    cells = await threat_layer(session, q, settings)
    w = window(q)
    statuses = ([Status.approved.value] if q.role == Role.partner and settings.partner_approved_only
                else [Status.entered.value, Status.validated.value, Status.approved.value])
    admin1 = await repo.cell_admin1(session, res=q.res, cells=[h3.str_to_int(c["cell"])
                                                                for c in cells],
                                    start=w.start, end=w.end, statuses=statuses)
    out = []
    for c in cells:
        lat, lon = h3.cell_to_latlng(c["cell"])
        cats = c.get("top_categories") or []
        perps = c.get("top_perpetrators") or []
        out.append({
            **{k: c.get(k) for k in ("cell", "resolution", "threat_score", "threat_level",
                                     "protection_tier", "likelihood", "impact", "crsv_impact",
                                     "vulnerability", "incidents", "fatalities", "crsv",
                                     "pattern")},
            "admin1": admin1.get(h3.str_to_int(c["cell"])),
            "latitude": round(lat, 6), "longitude": round(lon, 6),
            "start": w.start.date().isoformat(), "end": w.end.date().isoformat(),
            "main_category": cats[0]["category"] if cats else None,
            "trend": (c.get("trend") or {}).get("direction"),
            "top_perpetrators": "; ".join(p["name"] for p in perps) or None,
            "reporting": (c.get("reporting_effort") or {}).get("status"),
        })
    return out


async def _one(batch: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    yield batch


def frame(batch: list[dict[str, Any]]) -> Any:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import shape

    from app.services.geo.h3cells import cell_polygon

    data = {c: pd.Series([r[c] for r in batch], dtype=object) for c in CSV_COLUMNS}
    for c in ("threat_score", "likelihood", "impact", "crsv_impact", "vulnerability", "latitude",
              "longitude"):
        data[c] = pd.array([r[c] for r in batch], dtype="float64")
    for c in ("resolution", "incidents", "fatalities", "crsv"):
        data[c] = pd.array([r[c] for r in batch], dtype="Int64")
    geometry = [shape(cell_polygon(r["cell"])) for r in batch]
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


async def export(session: AsyncSession, q: HotspotQuery, fmt: str, settings: Settings) -> Export:
    """A threat layer is bounded by its cells (thousands, not millions): built in memory."""
    if fmt == "hxl":
        q.role = Role.partner  # the sanitised layer, whoever asks
        layer = await rows(session, q, settings)
        table = [[name for name, _, _ in HXL_COLUMNS], [tag for _, tag, _ in HXL_COLUMNS]]
        table += [[r[key] for _, _, key in HXL_COLUMNS] for r in layer]
        return Export("hotspots-hxl.csv", CSV_MEDIA, len(layer), False, body=csv_bytes(table))
    layer = await rows(session, q, settings)
    if q.role == Role.partner:
        for r in layer:
            r["top_perpetrators"] = None
    if fmt == "csv":
        body = csv_bytes([CSV_COLUMNS, *([r[c] for c in CSV_COLUMNS] for r in layer)])
        return Export("hotspots.csv", CSV_MEDIA, len(layer), False, body=body)
    path = new_gpkg_path()
    try:
        await write_gpkg(path, "hotspots", _one(layer), frame)
        body = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    return Export("hotspots.gpkg", GPKG_MEDIA, len(layer), False, body=body)
