"""The threat-relevant columns of every counted incident, read column-wise for the in-process event
store (app/services/threat/event_store.py), and the signed change log (migration 0007) that keeps
it current.

The load is one binary COPY of fixed-width columns (codes instead of text), parsed by numpy with
no Python work per row; it runs in a REPEATABLE READ transaction so the rows, the perpetrator
dictionary and the data version are one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import COUNTED_STATUSES, Category, Status
from app.repositories.sql_fragments import valid_cell

# Codes: index in these tuples (fixed vocabularies; -1 for anything else).
STATUSES = (Status.entered.value, Status.validated.value, Status.approved.value,
            Status.rejected.value)
GRADES = ("a", "b", "c")
CATEGORIES = tuple(c.value for c in Category)

# Incidents the threat layer may count, as read from `incident` and from `incident_change`
# images alike: not rejected, not merged into another, not held as a possible duplicate (a merge
# is an update whose new image is not counted: the log signs the account out of its cell).
# A stored cell that is not a usable H3 index (written around the edge) is left out, as in the
# SQL aggregates (sql_fragments.valid_cell; issue 11).
COUNTED = ("i.status IN (" + ", ".join(f"'{s.value}'" for s in COUNTED_STATUSES) + ") AND "
           + valid_cell("i.h3_cell", "4"))


def _code(column: str, values: tuple[str, ...]) -> str:
    return ("(CASE " + column + " " + " ".join(f"WHEN '{v}' THEN {k}" for k, v in
                                               enumerate(values)) + " ELSE -1 END)::int2")


# (name, SQL expression over alias i, numpy big-endian dtype of the binary COPY field)
FIELDS: tuple[tuple[str, str, str], ...] = (
    # timestamptz travels as int8 microseconds since 2000-01-01 (binary COPY): exact, no work.
    ("t_us", "i.occurred_start", ">i8"),
    ("cell", "i.h3_cell", ">i8"),
    ("status", _code("i.status", STATUSES), ">i2"),
    ("grade", _code("i.quality_grade", GRADES), ">i2"),
    ("category", _code("i.category", CATEGORIES), ">i2"),
    ("radius", "i.location_radius_m", ">i4"),
    ("fatalities", "i.fatalities_best", ">i4"),
    ("injured", "i.injured", ">i4"),
    ("children", "i.children_affected", ">i4"),
    ("displaced", "i.displaced", ">i4"),
    ("crsv", "i.crsv_survivors", ">i4"),
    ("perps", "p.code", ">i4"),
)
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds
NATIVE = {"t_us": np.int64, "cell": np.int64, "status": np.int8, "grade": np.int8,
          "category": np.int8, "radius": np.int32, "fatalities": np.int32, "injured": np.int32,
          "children": np.int32, "displaced": np.int32, "crsv": np.int32, "perps": np.int32}

_DICTIONARY = "SELECT DISTINCT i.perpetrators FROM incident i WHERE " + COUNTED
_PERPS = f"SELECT perpetrators FROM ({_DICTIONARY}) d ORDER BY perpetrators"
_COPY = (f"COPY (WITH p AS (SELECT perpetrators, (row_number() OVER (ORDER BY perpetrators) - 1)"
         f"::int4 AS code FROM ({_DICTIONARY}) d) "
         f"SELECT {', '.join(expr for _, expr, _ in FIELDS)} "
         f"FROM incident i JOIN p ON p.perpetrators = i.perpetrators WHERE {COUNTED}"
         ") TO STDOUT (FORMAT binary)")
_VERSION = ("SELECT version, log_since FROM data_version WHERE id "
            "AND txid_current_if_assigned() IS NULL")


@dataclass
class EventColumns:
    """Column arrays (native byte order), rows ordered by occurred_start, and the snapshot's
    data version. `perps` codes index `perpetrators` (one tuple of names per distinct list)."""

    columns: dict[str, np.ndarray]
    perpetrators: list[tuple[str, ...]]
    version: int
    log_since: int


def _parse_copy(data: bytes) -> dict[str, np.ndarray]:
    """PostgreSQL binary COPY of fixed-width, non-null fields -> one array per field."""
    header = 19  # 11-byte signature, flags int32, extension length int32 (0)
    layout: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, _, field_type in FIELDS:
        layout += [(f"_len_{name}", ">i4"), (name, field_type)]
    row_type = np.dtype(layout)
    count = (len(data) - header - 2) // row_type.itemsize
    rows = np.frombuffer(data, dtype=row_type, count=count, offset=header)
    order = np.argsort(rows["t_us"], kind="stable")  # sorted here: cheaper than ORDER BY
    out = {name: rows[name][order].astype(NATIVE[name]) for name, _, _ in FIELDS}
    out["t_us"] += PG_EPOCH_US
    return out


def load(conn: psycopg.Connection[Any]) -> EventColumns | None:
    """Every counted incident's columns, read on a dedicated synchronous connection (meant for
    a worker thread: the async driver hands a binary COPY over one row per await, 2-3x slower).
    One REPEATABLE READ transaction: the version, the dictionary and the rows are one snapshot.
    None when the version row is missing (nothing can be kept current without it)."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        with conn.cursor() as cur:
            # The covering index (0002) holds every column read: an index-only scan, no heap.
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL jit = off")
            row = cur.execute(_VERSION).fetchone()
            if row is None:
                return None
            perps = [tuple(r[0]) for r in cur.execute(_PERPS).fetchall()]
            with cur.copy(_COPY) as copy:
                data = bytearray()
                for chunk in copy:
                    data += chunk
        return EventColumns(_parse_copy(bytes(data)), perps, int(row[0]), int(row[1]))
    finally:
        conn.rollback()


_LOG_EXPR = {"t_us": "(EXTRACT(EPOCH FROM i.occurred_start) * 1000000)::int8"}
_LOG_FIELDS = ", ".join(f"{_LOG_EXPR.get(name, expr)} AS {name}" for name, expr, _ in FIELDS
                        if name != "perps")
_CHANGES = text(f"""
SELECT v.version AS _version, v.log_since AS _log_since,
       txid_current_if_assigned() IS NOT NULL AS _dirty, c.*
FROM (SELECT version, log_since FROM data_version WHERE id) v
LEFT JOIN (SELECT i.version AS stamp, i.sign, i.perpetrators, {_LOG_FIELDS}
           FROM incident_change i
           WHERE i.version > :since AND i.version <= :until AND {COUNTED}) c ON true""")


@dataclass
class Changes:
    """Signed images logged in (since, until] (as of this statement's snapshot) and the version
    row as seen by it. `rows` is None when the version row is missing."""

    version: int | None
    log_since: int | None
    dirty: bool
    rows: list[dict[str, Any]] | None


async def changes(session: AsyncSession, since: int, until: int) -> Changes:
    result = await session.execute(_CHANGES, {"since": since, "until": until})
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result.all()]
    if not rows:
        return Changes(None, None, False, None)
    head = rows[0]
    return Changes(head["_version"], head["_log_since"], bool(head["_dirty"]),
                   [r for r in rows if r["stamp"] is not None])


async def version_row(session: AsyncSession) -> tuple[int, int] | None:
    """(version, log_since) of the data version row; None without one."""
    row = (await session.execute(text("SELECT version, log_since FROM data_version WHERE id"))
           ).first()
    return None if row is None else (int(row[0]), int(row[1]))
