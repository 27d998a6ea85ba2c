"""Column-wise COPY payloads: a batch of mapped events becomes one CSV byte string for
`COPY … FROM STDIN (FORMAT csv)`, built by Arrow's C++ CSV writer with no per-row Python.

PostgreSQL's CSV COPY reads an unquoted empty field as NULL and a quoted one ("") as the empty
string; Arrow's writer quotes every string and leaves nulls unquoted and empty, which is exactly
that convention. Values that need a PostgreSQL text form are built vectorised: UUIDs as 32 hex
digits, points as hex EWKB (exact doubles, like the binary path), text[] as array literals.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")
# little-endian EWKB Point with the SRID flag: byte order, type | 0x20000000, SRID, x, y (21 bytes)
_EWKB = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
_WRITE = pacsv.WriteOptions(include_header=False, quoting_style="needed")

ARROW_TYPES = {"uuid": pa.string(), "text": pa.string(), "text[]": pa.string(),
               "bytea": pa.string(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
               "timestamptz": pa.timestamp("us", tz="UTC")}


def _hex(raw: np.ndarray) -> pa.Array:
    """Rows of bytes (n × w uint8) → n strings of 2w hex digits."""
    n, width = raw.shape
    digits = np.ascontiguousarray(_HEX[raw]).view(f"S{2 * width}").reshape(n)
    return pa.array(digits, type=pa.binary()).cast(pa.string())


def uuid7_hex(n: int) -> pa.Array:
    """n time-ordered UUIDs (RFC 9562 version 7) as 32 hex digits: 48 bits of Unix time in ms,
    a 30-bit counter from a random start (RFC 9562 §6.2, method 1) so a batch's ids increase,
    then 44 random bits from the OS's CSPRNG. Ordered keys append to the right edge of the
    primary-key and report indexes instead of touching random pages all over them."""
    if n >= 1 << 29:
        raise ValueError("at most 2**29 ids per call")
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, :6] = np.frombuffer((time.time_ns() // 1_000_000).to_bytes(6, "big"), dtype=np.uint8)
    start = int.from_bytes(os.urandom(4), "big") & ((1 << 29) - 1)
    ctr = np.arange(start, start + n, dtype=np.uint32)
    raw[:, 6] = 0x70 | ((ctr >> 26) & 0x0F)
    raw[:, 7] = (ctr >> 18) & 0xFF
    raw[:, 8] = 0x80 | ((ctr >> 12) & 0x3F)
    raw[:, 9] = (ctr >> 4) & 0xFF
    raw[:, 10] = ((ctr & 0x0F) << 4).astype(np.uint8) | (raw[:, 10] & 0x0F)
    return _hex(raw)


def ewkb_points_hex(lon: np.ndarray, lat: np.ndarray, srid: int = 4326) -> pa.Array:
    pts = np.empty(len(lon), dtype=_EWKB)
    pts["order"], pts["type"], pts["srid"] = 1, 0x20000001, srid
    pts["x"], pts["y"] = lon, lat
    return _hex(pts.view(np.uint8).reshape(len(lon), _EWKB.itemsize))


@lru_cache(maxsize=16384)
def _array_literal(items: tuple[str, ...]) -> str:
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def text_array_literals(values: Sequence[Any]) -> pa.Array:
    """Lists of strings → PostgreSQL array literals ({"a","b"}); names repeat, so memoised."""
    return pa.array([_array_literal(tuple(v)) for v in values], type=pa.string())


def column(values: Any, pg_type: str) -> pa.Array:
    """One column (pandas Series, numpy array, Arrow array or scalar) as an Arrow array."""
    typ = ARROW_TYPES[pg_type]
    if isinstance(values, pa.Array):
        return values if values.type == typ else values.cast(typ)
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        return pa.array(values.dt.as_unit("us"), type=typ)
    return pa.array(values, type=typ, from_pandas=True)


def csv_payload(columns: dict[str, pa.Array]) -> bytes:
    """The CSV body for COPY (no header), columns in the order given."""
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(columns), buf, _WRITE)
    return buf.getvalue()
