"""Bulk import. Fast path: look up which of a batch's source ids are already stored, then binary
COPY the new ones straight into `incident` and `report`. If a concurrent writer stored one of
them in between (unique violation), the batch falls back to a staging table and
`INSERT … ON CONFLICT DO NOTHING`, so imports stay idempotent on (external_source, external_id).
Synchronous psycopg: COPY is the fastest path and imports run in a CLI or a worker thread."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors

from app.services.importers import ParsedEvent

Batch = Sequence[tuple[ParsedEvent, str, int]]

INCIDENT_FIELDS = [
    ("id", "uuid"), ("external_source", "text"), ("external_id", "text"),
    ("occurred_start", "timestamptz"), ("occurred_end", "timestamptz"),
    ("time_precision", "int2"), ("location", "bytea"), ("location_precision", "int2"),
    ("precision_scheme", "text"), ("location_radius_m", "int4"), ("h3_cell", "int8"),
    ("place_name", "text"), ("admin1", "text"), ("admin2", "text"), ("category", "text"),
    ("subcategory", "text"), ("perpetrators", "text[]"), ("perpetrator_type", "text"),
    ("fatalities_low", "int4"), ("fatalities_best", "int4"), ("fatalities_high", "int4"),
    ("injured", "int4"), ("crsv_survivors", "int4"), ("children_affected", "int4"),
    ("displaced", "int4"), ("narrative", "text"), ("status", "text"), ("quality_grade", "text"),
    ("independent_sources", "int2"), ("created_by", "text"), ("updated_by", "text"),
]
REPORT_FIELDS = [
    ("incident_id", "uuid"), ("section", "text"), ("source_name", "text"),
    ("source_reliability", "text"), ("information_credibility", "int2"), ("source_count", "int2"),
    ("narrative", "text"), ("created_by", "text"),
]
_EWKB_POINT = struct.Struct("<BIIdd")  # little-endian, Point with SRID flag, SRID, x, y


def _ewkb_point(lon: float, lat: float) -> bytes:
    return _EWKB_POINT.pack(1, 0x20000001, 4326, lon, lat)


def _cols(fields: list[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in fields)


STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    {", ".join(f"{n} {'geometry' if t == 'bytea' else t}" for n, t in INCIDENT_FIELDS)},
    section text, source_name text, source_reliability text, information_credibility int2,
    source_count int2, report_narrative text
) ON COMMIT DELETE ROWS
"""

INSERT_FROM_STAGING = f"""
WITH ins AS (
    INSERT INTO incident ({_cols(INCIDENT_FIELDS)})
    SELECT DISTINCT ON (external_id) {_cols(INCIDENT_FIELDS)} FROM import_staging
    ORDER BY external_id
    ON CONFLICT (external_source, external_id) DO NOTHING
    RETURNING id
)
INSERT INTO report ({_cols(REPORT_FIELDS)})
SELECT s.id, s.section, s.source_name, s.source_reliability, s.information_credibility,
       s.source_count, s.report_narrative, s.created_by
FROM ins JOIN import_staging s USING (id)
"""


def _rows(batch: Batch, *, source: str, status: str, actor: str) -> list[tuple[Any, ...]]:
    return [(
        uuid.uuid4(), source, e.external_id, e.occurred_start, e.occurred_end, e.time_precision,
        _ewkb_point(e.lon, e.lat), e.location_precision, e.precision_scheme, e.location_radius_m,
        e.h3_cell, e.place_name, e.admin1, e.admin2, e.category, e.subcategory, e.perpetrators,
        e.perpetrator_type, e.fatalities_low, e.fatalities_best, e.fatalities_high, e.injured,
        e.crsv_survivors, e.children_affected, e.displaced, e.narrative, status, grade, n_sources,
        actor, actor,
    ) for e, grade, n_sources in batch]


def _copy(cur: psycopg.Cursor[Any], table: str, fields: list[tuple[str, str]],
          rows: Sequence[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({_cols(fields)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([t for _, t in fields])
        for row in rows:
            copy.write_row(row)


def _already_stored(cur: psycopg.Cursor[Any], source: str, ids: list[str]) -> set[str]:
    cur.execute("SELECT external_id FROM incident WHERE external_source = %s "
                "AND external_id = ANY(%s)", (source, ids))
    return {r[0] for r in cur.fetchall()}


def load_batch(conn: psycopg.Connection[Any], batch: Batch, *, source: str, status: str,
               actor: str) -> int:
    """Store one batch in the current transaction; returns how many incidents were new."""
    with conn.cursor() as cur:
        # Imports are idempotent: a batch lost in a crash is restored by importing the file again,
        # so its commit need not wait for the WAL flush. Everything else commits synchronously.
        cur.execute("SET LOCAL synchronous_commit = off")
        known = _already_stored(cur, source, [e.external_id for e, _, _ in batch])
        fresh: dict[str, tuple[ParsedEvent, str, int]] = {}
        for item in batch:
            if item[0].external_id not in known:
                fresh.setdefault(item[0].external_id, item)
        if not fresh:
            return 0
        items = list(fresh.values())
        rows = _rows(items, source=source, status=status, actor=actor)
        reports = [(row[0], e.section, e.source_name, e.source_reliability,
                    e.information_credibility, e.source_count, e.report_narrative, actor)
                   for row, (e, _, _) in zip(rows, items, strict=True)]
        try:
            with conn.transaction():  # a savepoint: a race only undoes this attempt
                _copy(cur, "incident", INCIDENT_FIELDS, rows)
                _copy(cur, "report", REPORT_FIELDS, reports)
            return len(rows)
        except errors.UniqueViolation:
            return _load_via_staging(cur, rows, items)


def _load_via_staging(cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]],
                      items: list[tuple[ParsedEvent, str, int]]) -> int:
    cur.execute(STAGING_DDL)
    staged = [(*row, e.section, e.source_name, e.source_reliability, e.information_credibility,
               e.source_count, e.report_narrative) for row, (e, _, _) in zip(rows, items, strict=True)]
    fields = [*INCIDENT_FIELDS, ("section", "text"), ("source_name", "text"),
              ("source_reliability", "text"), ("information_credibility", "int2"),
              ("source_count", "int2"), ("report_narrative", "text")]
    _copy(cur, "import_staging", fields, staged)
    cur.execute(INSERT_FROM_STAGING)
    return cur.rowcount


def start_run(conn: psycopg.Connection[Any], *, source: str, filename: str, sha256: str,
              actor: str) -> str:
    row = conn.execute(
        "INSERT INTO import_run (source, filename, sha256, actor) VALUES (%s, %s, %s, %s) RETURNING id",
        (source, filename, sha256, actor),
    ).fetchone()
    assert row is not None
    return str(row[0])


def finish_run(conn: psycopg.Connection[Any], run_id: str, *, rows_read: int, inserted: int,
               duplicates: int, rejects: list[dict[str, Any]], actor: str) -> None:
    conn.execute(
        "UPDATE import_run SET rows_read=%s, inserted=%s, duplicates=%s, rejected=%s, rejects=%s, "
        "finished_at=now() WHERE id=%s",
        (rows_read, inserted, duplicates, len(rejects), json.dumps(rejects[:1000]), run_id),
    )
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, 'import', 'import_run', %s, %s)",
        (actor, run_id, json.dumps({"rows_read": rows_read, "inserted": inserted,
                                    "duplicates": duplicates, "rejected": len(rejects)})),
    )
