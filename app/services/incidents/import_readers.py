"""Reading UCDP and ACLED export files into frames of strings (no mapping, no SQL).

CSV: Arrow's C++ reader as the fast path; a file with malformed rows (a field count that differs
from the header) goes through the csv module instead, which can name those rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class ExportError(ValueError):
    """The file cannot be read at all (as opposed to one bad row)."""


def ensure_utf8(path: Path) -> None:
    """ExportError unless the whole file is UTF-8 (a byte-order mark is allowed): exports are
    read as UTF-8, and a file in another encoding would import as garbled text."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise ExportError(_not_utf8(head, offset + exc.start)) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ExportError(_not_utf8(head, offset)) from None


def _not_utf8(head: bytes, at: int) -> str:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "the file is not UTF-8 (it is UTF-16): save the export as UTF-8 and upload it again"
    return (f"the file is not UTF-8 (invalid byte at offset {at}): save the export as UTF-8 "
            "and upload it again")


def csv_frame(path: Path, columns: Collection[str] | None = None
              ) -> tuple[pd.DataFrame, list[tuple[int, str | None, str]]]:
    """Rows as strings. A row whose field count differs from the header is reported, not read.

    Fast path: Arrow's C++ reader (several times faster than the csv module here), converting
    only `columns` (when given; a 48-column export is mostly unused). It cannot give the row
    numbers of malformed rows, so a file that has any goes through the csv module."""
    fast = _csv_frame_arrow(path, columns)
    if fast is not None:
        return fast, []
    return _csv_frame_exact(path)


def _csv_frame_arrow(path: Path, columns: Collection[str] | None) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    malformed = False

    def on_invalid(row: Any) -> str:
        nonlocal malformed
        malformed = True
        return "skip"

    try:
        with path.open("rb") as fh:
            header = next(csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")), None)
        if not header:
            return None
        wanted = header if columns is None else [h for h in header if h.strip() in columns]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8"),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                include_columns=wanted),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if malformed:
        return None
    df = table.to_pandas()
    df.columns = [str(c).lstrip("\ufeff").strip() for c in df.columns]
    df["__row"] = np.arange(1, len(df) + 1)
    return df


def _csv_frame_exact(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str | None, str]]]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise ExportError("empty CSV file")
        good, rownums, malformed = [], [], []
        width = len(header)
        for i, row in enumerate(reader, start=1):
            if len(row) == width:
                good.append(row)
                rownums.append(i)
            elif row:
                malformed.append((i, row[0] if row else None,
                                  f"malformed CSV row: {len(row)} fields, header has {width}"))
    except csv.Error as exc:
        raise ExportError(f"not a readable CSV file: {exc}") from None
    df = pd.DataFrame(good, columns=[h.strip() for h in header], dtype=object)
    df["__row"] = rownums
    return df, malformed


def geojson_frame(path: Path) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"not valid JSON: {exc}") from None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise ExportError("not a GeoJSON FeatureCollection")
    records = []
    for i, f in enumerate(feats, start=1):
        f = f if isinstance(f, dict) else {}
        props = dict(f.get("properties") or {})
        geom = f.get("geometry") or {}
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) \
                and len(coords) >= 2:
            props["longitude"], props["latitude"] = coords[0], coords[1]
        props["__row"] = i
        records.append(props)
    return pd.DataFrame.from_records(records)
