"""Bulk import: COPY a batch into a temporary staging table, then one INSERT … SELECT that skips
events already stored (idempotent on external_source + external_id) and one that adds their reports.
Synchronous psycopg: COPY is the fastest path and imports run in a CLI or a worker thread."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg

from app.services.importers import ParsedEvent

STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    external_id text, occurred_start timestamptz, occurred_end timestamptz, time_precision smallint,
    lon double precision, lat double precision, location_precision smallint, precision_scheme text,
    location_radius_m integer, h3_cell bigint, place_name text, admin1 text, admin2 text,
    category text, subcategory text, perpetrators text[], perpetrator_type text,
    fatalities_low integer, fatalities_best integer, fatalities_high integer, injured integer,
    crsv_survivors integer, children_affected integer, displaced integer, narrative text,
    section text, source_name text, source_reliability text, information_credibility smallint,
    source_count smallint, report_narrative text, quality_grade text, independent_sources smallint
) ON COMMIT DELETE ROWS
"""

COLUMNS = (
    "external_id, occurred_start, occurred_end, time_precision, lon, lat, location_precision, "
    "precision_scheme, location_radius_m, h3_cell, place_name, admin1, admin2, category, "
    "subcategory, perpetrators, perpetrator_type, fatalities_low, fatalities_best, fatalities_high, "
    "injured, crsv_survivors, children_affected, displaced, narrative, section, source_name, "
    "source_reliability, information_credibility, source_count, report_narrative, quality_grade, "
    "independent_sources"
)

INSERT_INCIDENTS = """
WITH ins AS (
    INSERT INTO incident (
        external_source, external_id, occurred_start, occurred_end, time_precision, location,
        location_precision, precision_scheme, location_radius_m, h3_cell, place_name, admin1, admin2,
        category, subcategory, perpetrators, perpetrator_type, fatalities_low, fatalities_best,
        fatalities_high, injured, crsv_survivors, children_affected, displaced, narrative, status,
        quality_grade, independent_sources, created_by, updated_by)
    SELECT DISTINCT ON (external_id)
        %(source)s, external_id, occurred_start, occurred_end, time_precision,
        ST_SetSRID(ST_MakePoint(lon, lat), 4326), location_precision, precision_scheme,
        location_radius_m, h3_cell, place_name, admin1, admin2, category, subcategory, perpetrators,
        perpetrator_type, fatalities_low, fatalities_best, fatalities_high, injured, crsv_survivors,
        children_affected, displaced, narrative, %(status)s, quality_grade, independent_sources,
        %(actor)s, %(actor)s
    FROM import_staging
    ORDER BY external_id
    ON CONFLICT (external_source, external_id) DO NOTHING
    RETURNING id, external_id
)
INSERT INTO report (incident_id, section, source_name, source_reliability,
                    information_credibility, source_count, received_at, narrative, created_by)
SELECT DISTINCT ON (ins.id) ins.id, s.section, s.source_name, s.source_reliability,
       s.information_credibility, s.source_count, now(), s.report_narrative, %(actor)s
FROM ins JOIN import_staging s USING (external_id)
ORDER BY ins.id
"""


def prepare(conn: psycopg.Connection[Any]) -> None:
    conn.execute(STAGING_DDL)


def load_batch(
    conn: psycopg.Connection[Any],
    batch: Sequence[tuple[ParsedEvent, str, int]],
    *,
    source: str,
    status: str,
    actor: str,
) -> int:
    """Stage and insert one batch in the current transaction; returns how many were new."""
    with conn.cursor() as cur:
        with cur.copy(f"COPY import_staging ({COLUMNS}) FROM STDIN") as copy:
            for e, grade, n_sources in batch:
                copy.write_row((
                    e.external_id, e.occurred_start, e.occurred_end, e.time_precision, e.lon, e.lat,
                    e.location_precision, e.precision_scheme, e.location_radius_m, e.h3_cell,
                    e.place_name, e.admin1, e.admin2, e.category, e.subcategory, e.perpetrators,
                    e.perpetrator_type, e.fatalities_low, e.fatalities_best, e.fatalities_high,
                    e.injured, e.crsv_survivors, e.children_affected, e.displaced, e.narrative,
                    e.section, e.source_name, e.source_reliability, e.information_credibility,
                    e.source_count, e.report_narrative, grade, n_sources,
                ))
        cur.execute(INSERT_INCIDENTS, {"source": source, "status": status, "actor": actor})
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
