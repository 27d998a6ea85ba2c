"""Incidents for analysts as CSV or GeoPackage (one row per incident, every field analysts see)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain import WORKFLOW_STATUSES
from app.repositories import exports as repo
from app.repositories.incidents import IncidentFilter
from app.services.exports.files import (
    CSV_MEDIA,
    GPKG_MEDIA,
    Export,
    collect,
    csv_chunks,
    new_gpkg_path,
    write_gpkg,
)
from app.services.geo.h3cells import to_str
from app.settings import Settings

COLUMNS = (
    "id", "occurred_start", "occurred_end", "time_precision", "latitude", "longitude",
    "location_precision", "precision_scheme", "location_radius_m", "h3_cell", "place_name",
    "admin1", "admin2", "category", "subcategory", "perpetrators", "perpetrator_type",
    "fatalities_low", "fatalities_best", "fatalities_high", "injured", "crsv_survivors",
    "children_affected", "displaced", "narrative", "status", "quality_grade",
    "independent_sources", "external_source", "external_id", "created_by", "created_at",
    "updated_at",
)
INTEGERS = ("time_precision", "location_precision", "location_radius_m", "fatalities_low",
            "fatalities_best", "fatalities_high", "injured", "crsv_survivors",
            "children_affected", "displaced", "independent_sources")
DATETIMES = ("occurred_start", "occurred_end", "created_at", "updated_at")
FORMATS = ("csv", "gpkg")


def shape(row: dict[str, Any]) -> dict[str, Any]:
    out = {c: row.get(c) for c in COLUMNS}
    out["id"] = str(row["id"])
    out["h3_cell"] = to_str(row["h3_cell"])
    out["perpetrators"] = "; ".join(row.get("perpetrators") or [])
    return out


def frame(rows: list[dict[str, Any]]) -> Any:
    """A GeoDataFrame with fixed dtypes, so every batch appends to the same fields."""
    import geopandas as gpd
    import pandas as pd

    data: dict[str, Any] = {}
    for c in COLUMNS:
        values = [r[c] for r in rows]
        if c in INTEGERS:
            data[c] = pd.array(values, dtype="Int64")
        elif c in DATETIMES:
            data[c] = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        elif c in ("latitude", "longitude"):
            data[c] = pd.array(values, dtype="float64")
        else:
            data[c] = pd.Series(values, dtype=object)
    geometry = gpd.points_from_xy([r["longitude"] for r in rows], [r["latitude"] for r in rows])
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


async def _batches(sessionmaker: async_sessionmaker[AsyncSession], f: IncidentFilter,
                   batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    async with sessionmaker() as session:
        async for rows in repo.incident_batches(session, f, batch):
            yield [shape(r) for r in rows]


async def _rows(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[list[list[Any]]]:
    async for b in batches:
        yield [[r[c] for c in COLUMNS] for r in b]


async def export(sessionmaker: async_sessionmaker[AsyncSession], f: IncidentFilter, fmt: str,
                 settings: Settings) -> Export:
    """Built in memory up to `export_max_rows_in_memory` rows; above, streamed: CSV from a
    server-side cursor, GeoPackage through a temporary file written batch by batch."""
    if not f.statuses:  # merged accounts and held possible duplicates only when asked for
        f.statuses = [s.value for s in WORKFLOW_STATUSES]
    async with sessionmaker() as session:
        n = await repo.count_incidents(session, f)
    streamed = n > settings.export_max_rows_in_memory
    batch = settings.export_batch_rows
    if fmt == "csv":
        chunks = csv_chunks([COLUMNS], _rows(_batches(sessionmaker, f, batch)))
        if streamed:
            return Export("incidents.csv", CSV_MEDIA, n, True, chunks=chunks)
        return Export("incidents.csv", CSV_MEDIA, n, False, body=await collect(chunks))
    path = new_gpkg_path()
    try:
        await write_gpkg(path, "incidents", _batches(sessionmaker, f, batch), frame)
        if streamed:
            return Export("incidents.gpkg", GPKG_MEDIA, n, True, path=path)
        body = path.read_bytes()
    finally:
        if not streamed:
            path.unlink(missing_ok=True)
    return Export("incidents.gpkg", GPKG_MEDIA, n, False, body=body)
