"""Encoders shared by the exports: CSV chunks and GeoPackage layers written in batches."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

CSV_MEDIA = "text/csv; charset=utf-8"
GPKG_MEDIA = "application/geopackage+sqlite3"


@dataclass
class Export:
    """A finished export: `body` when it was built in memory, else `chunks` (CSV) or `path` (a
    temporary GeoPackage the caller deletes after sending) when it streams."""

    filename: str
    media_type: str
    rows: int
    streamed: bool
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None
    path: Path | None = None


def cell_text(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return "; ".join(str(x) for x in v)
    return v


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([cell_text(v) for v in row])
    return buf.getvalue().encode("utf-8")


async def csv_chunks(header: Sequence[Sequence[str]], batches: AsyncIterator[list[list[Any]]]
                     ) -> AsyncIterator[bytes]:
    """Header row(s), then one chunk per batch of rows."""
    yield csv_bytes(header)
    async for batch in batches:
        yield csv_bytes(batch)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def new_gpkg_path() -> Path:
    fd, name = tempfile.mkstemp(prefix="kinga-export-", suffix=".gpkg")
    os.close(fd)
    os.unlink(name)  # the GeoPackage driver creates the file itself
    return Path(name)


async def write_gpkg(path: Path, layer: str, batches: AsyncIterator[list[dict[str, Any]]],
                     frame: Callable[[list[dict[str, Any]]], Any]) -> int:
    """Append each batch (as the GeoDataFrame `frame` builds) to one layer; rows written."""
    import pyogrio

    def write(rows: list[dict[str, Any]], append: bool) -> None:
        pyogrio.write_dataframe(frame(rows), path, layer=layer, driver="GPKG", append=append)

    written = 0
    async for batch in batches:
        if not batch:
            continue
        await asyncio.to_thread(write, batch, written > 0)  # GDAL work off the event loop
        written += len(batch)
    if written == 0:  # an empty layer still has its fields
        await asyncio.to_thread(write, [], False)
    return written
