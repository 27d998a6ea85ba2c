"""Bulk import. Fast path: look up which of a batch's source ids are already stored, then COPY the
new ones straight into `incident` and `report` (client-generated UUIDs link them). The binary
COPY body is built column-wise with numpy and Arrow (app.repositories.copy_binary): no Python
work per row. If a concurrent writer stored one of them in between (unique violation), the batch
falls back to a staging table and `INSERT … ON CONFLICT DO NOTHING`, so imports stay idempotent
on (external_source, external_id). Synchronous psycopg: imports run in a CLI or a worker thread."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import errors

from app.repositories import copy_binary
from app.repositories import triangulation as tri_repo
from app.schemas.events import ParsedEvent

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
    ("merged_into", "uuid"),
    ("mission_code", "text"),
]
REPORT_FIELDS = [
    ("id", "uuid"), ("incident_id", "uuid"), ("section", "text"), ("source_name", "text"),
    ("source_reliability", "text"), ("information_credibility", "int2"), ("source_count", "int2"),
    ("narrative", "text"), ("created_by", "text"), ("cites", "text[]"),
]
# the staging table holds an incident and its report in one row
STAGED_REPORT_FIELDS = [("report_id", "uuid"), ("report_incident_id", "uuid"), ("section", "text"),
                        ("source_name", "text"), ("source_reliability", "text"),
                        ("information_credibility", "int2"), ("source_count", "int2"),
                        ("report_narrative", "text"), ("cites", "text[]")]
STAGING_FIELDS = [*INCIDENT_FIELDS, *STAGED_REPORT_FIELDS]


SAMPLE = 64  # ids looked up before a batch's full lookup
# uuid, geometry (EWKB) and text[] arrive already in PostgreSQL's binary send format
_ENCODING = {"uuid": "raw", "bytea": "raw", "text[]": "raw"}


def _cols(fields: list[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in fields)


STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    {", ".join(f"{n} {'geometry' if t == 'bytea' else t}" for n, t in STAGING_FIELDS)}
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
SELECT s.report_id, s.report_incident_id, s.section, s.source_name, s.source_reliability,
       s.information_credibility, s.source_count, s.report_narrative, s.created_by, s.cites
FROM ins JOIN import_staging s USING (id)
"""


@dataclass
class Placement:
    """Where each new row of a batch goes (triangulation's decision, aligned with the rows):
    outcome 0 a new incident, 1 a report of `target` (the row is stored as a `merged` account),
    2 held against `target` in the possible-duplicates queue (stored as `duplicate`)."""

    outcome: np.ndarray
    target: list[uuid.UUID | None]
    score: list[float | None]
    evidence: list[str | None]  # JSON

    def targets(self) -> list[uuid.UUID]:
        return sorted({t for o, t in zip(self.outcome.tolist(), self.target, strict=True)
                       if o == 1 and t is not None})


@dataclass
class Loaded:
    inserted: int = 0
    linked: int = 0
    queued: int = 0
    targets: list[uuid.UUID] = field(default_factory=list)


def _uuids(values: list[uuid.UUID | None]) -> pa.Array:
    return pa.array([None if v is None else v.bytes for v in values], type=pa.binary())


def _columns(events: pd.DataFrame, *, source: str, status: str, actor: str,
             placement: Placement | None = None, mission_code: str | None = None
             ) -> dict[str, pa.Array]:
    """Every column either COPY needs, as Arrow arrays, built column-wise."""
    n = len(events)

    def const(value: str | None) -> pa.Array:
        return pa.repeat(pa.scalar(value, pa.string()), n)

    ids = copy_binary.uuid7(n)
    cites = events["report_cites"].tolist() if "report_cites" in events else [()] * n
    out = {
        "id": ids, "incident_id": ids, "report_id": copy_binary.uuid7(n),
        "external_source": const(source),
        "mission_code": const(mission_code),
        "status": const(status), "created_by": const(actor), "updated_by": const(actor),
        "location": copy_binary.ewkb_points(events["lon"].to_numpy(dtype="float64"),
                                            events["lat"].to_numpy(dtype="float64")),
        "perpetrators": copy_binary.text_arrays(events["perpetrators"].tolist()),
        "cites": copy_binary.text_arrays(cites),
        "merged_into": pa.nulls(n, pa.binary()),
    }
    out["report_incident_id"] = ids
    if placement is not None and (placement.outcome != 0).any():
        linked = placement.outcome == 1
        held = placement.outcome == 2
        out["status"] = pa.array(np.where(linked, "merged", np.where(held, "duplicate", status)),
                                 type=pa.string())
        targets = [t if o == 1 else None
                   for o, t in zip(placement.outcome.tolist(), placement.target, strict=True)]
        out["merged_into"] = _uuids(targets)
        # a linked row's report is a report of the incident it joins
        out["report_incident_id"] = pc.if_else(pa.array(linked), out["merged_into"],
                                               ids.cast(pa.binary()))
    for name, pg_type in [*INCIDENT_FIELDS, *REPORT_FIELDS, *STAGED_REPORT_FIELDS]:
        if name not in out:
            out[name] = copy_binary.column(events[name], _ENCODING.get(pg_type, pg_type))
    return out


def _side_rows(columns: dict[str, pa.Array], placement: Placement, status: str
               ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    ids = [uuid.UUID(bytes=b) for b in columns["id"].to_pylist()]
    report_ids = [uuid.UUID(bytes=b) for b in columns["report_id"].to_pylist()]
    merges: dict[str, list[Any]] = {k: [] for k in ("incident_id", "into_id", "previous_status",
                                                     "report_id", "score", "evidence")}
    queue: dict[str, list[Any]] = {k: [] for k in ("incident_id", "candidate_id", "score",
                                                    "evidence", "held_status")}
    for i, o in enumerate(placement.outcome.tolist()):
        if o == 1:
            merges["incident_id"].append(ids[i])
            merges["into_id"].append(placement.target[i])
            merges["previous_status"].append(status)
            merges["report_id"].append(report_ids[i])
            merges["score"].append(placement.score[i])
            merges["evidence"].append(placement.evidence[i])
        elif o == 2:
            queue["incident_id"].append(ids[i])
            queue["candidate_id"].append(placement.target[i])
            queue["score"].append(placement.score[i])
            queue["evidence"].append(placement.evidence[i])
            queue["held_status"].append(status)
    return merges, queue


def _payload(columns: dict[str, pa.Array], fields: list[tuple[str, str]],
             rename: dict[str, str] | None = None) -> bytes:
    rename = rename or {}
    return copy_binary.payload([(columns[rename.get(name, name)], _ENCODING.get(pg_type, pg_type))
                                for name, pg_type in fields])


def _copy(cur: psycopg.Cursor[Any], table: str, fields: list[tuple[str, str]], body: bytes) -> None:
    with cur.copy(f"COPY {table} ({_cols(fields)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(body)


def _already_stored(cur: psycopg.Cursor[Any], source: str, ids: list[str]) -> set[str]:
    cur.execute("SELECT external_id FROM incident WHERE external_source = %s "
                "AND external_id = ANY(%s)", (source, ids))
    return {r[0] for r in cur.fetchall()}


def load_events(conn: psycopg.Connection[Any], events: pd.DataFrame, *, source: str,
                status: str, actor: str, mission_code: str | None = None) -> int:
    """Store one batch (a frame of mapped, graded events: ParsedEvent's columns plus
    quality_grade and independent_sources) in the current transaction; returns how many
    incidents were new."""
    return store_events(conn, events, source=source, status=status, actor=actor,
                        mission_code=mission_code).inserted


def store_events(conn: psycopg.Connection[Any], events: pd.DataFrame, *, source: str,
                 status: str, actor: str,
                 place: Callable[[pd.DataFrame], Placement | None] | None = None,
                 mission_code: str | None = None) -> Loaded:
    """`load_events`, with triangulation: `place` is called with the rows not stored yet (in this
    transaction, so its candidate search sees what is committed) and says which become reports of
    existing incidents or wait in the review queue. Their incidents are stored as `merged` or
    `duplicate` accounts (never counted), a linked row's report goes straight to the incident it
    joins, and the merge rows and queue entries are written; the caller consolidates and regrades
    the incidents that received reports (`Loaded.targets`)."""
    with conn.cursor() as cur:
        # Imports are idempotent: a batch lost in a crash is restored by importing the file again,
        # so its commit need not wait for the WAL flush. Everything else commits synchronously.
        cur.execute("SET LOCAL synchronous_commit = off")
        ids = events["external_id"]
        id_list = ids.tolist()
        # A sample first: a new file's batch costs one tiny query instead of probing every id
        # (a tenth of the server's work); a miss is still caught by the unique index below.
        known = _already_stored(cur, source, id_list[::max(1, len(id_list) // SAMPLE)])
        if known:
            known = _already_stored(cur, source, id_list)
        if known:  # Arrow's hash lookup: pandas' isin over a set is ~50× slower here
            stored = pc.is_in(pa.array(ids, type=pa.string()),
                              value_set=pa.array(list(known), type=pa.string()))
            fresh = events[~stored.to_numpy(zero_copy_only=False)]
        else:
            fresh = events
        if fresh["external_id"].duplicated().any():
            fresh = fresh.drop_duplicates("external_id", keep="first")
        if fresh.empty:
            return Loaded()
        fresh = fresh.reset_index(drop=True)
        placement = place(fresh) if place is not None else None
        columns = _columns(fresh, source=source, status=status, actor=actor, placement=placement,
                           mission_code=mission_code)
        targets = placement.targets() if placement is not None else []
        report_rename = {"narrative": "report_narrative", "incident_id": "report_incident_id",
                         "id": "report_id"}
        try:
            with conn.transaction():  # a savepoint: a race only undoes this attempt
                if targets:  # their own values, before this batch's reports reach them
                    tri_repo.ensure_basis_sync(conn, targets)
                _copy(cur, "incident", INCIDENT_FIELDS, _payload(columns, INCIDENT_FIELDS))
                _copy(cur, "report", REPORT_FIELDS, _payload(columns, REPORT_FIELDS, report_rename))
            inserted = len(fresh)
        except errors.UniqueViolation:
            if targets:
                tri_repo.ensure_basis_sync(conn, targets)
            cur.execute(STAGING_DDL)
            _copy(cur, "import_staging", STAGING_FIELDS, _payload(columns, STAGING_FIELDS))
            cur.execute(INSERT_FROM_STAGING)
            inserted = cur.rowcount
        if placement is None or not (placement.outcome != 0).any():
            return Loaded(inserted=inserted)
        merges, queue = _side_rows(columns, placement, status)
        tri_repo.record_batch_sync(conn, merges=merges, queue=queue, actor=actor)
        cur.execute("SELECT count(*) FILTER (WHERE status = 'merged'), "
                    "count(*) FILTER (WHERE status = 'duplicate'), "
                    "array_agg(DISTINCT merged_into) FILTER (WHERE merged_into IS NOT NULL) "
                    "FROM incident WHERE id = ANY(%s)",
                    (merges["incident_id"] + queue["incident_id"],))
        row = cur.fetchone()
        assert row is not None
        return Loaded(inserted=inserted, linked=int(row[0]), queued=int(row[1]),
                      targets=sorted(row[2] or []))


def load_batch(conn: psycopg.Connection[Any], batch: Batch, *, source: str, status: str,
               actor: str) -> int:
    """`load_events` for a list of (event, grade, independent sources)."""
    events = pd.DataFrame([e for e, _, _ in batch], columns=list(ParsedEvent._fields))
    events["quality_grade"] = [g for _, g, _ in batch]
    events["independent_sources"] = [n for _, _, n in batch]
    return load_events(conn, events, source=source, status=status, actor=actor)


def start_run(conn: psycopg.Connection[Any], *, source: str, filename: str, sha256: str,
              actor: str) -> str:
    row = conn.execute(
        "INSERT INTO import_run (source, filename, sha256, actor) VALUES (%s, %s, %s, %s) RETURNING id",
        (source, filename, sha256, actor),
    ).fetchone()
    assert row is not None
    return str(row[0])


def finish_run(conn: psycopg.Connection[Any], run_id: str, *, rows_read: int, inserted: int,
               duplicates: int, rejects: list[dict[str, Any]], actor: str, linked: int = 0,
               queued: int = 0, mission_code: str | None = None, outside_area: int = 0) -> None:
    conn.execute(
        "UPDATE import_run SET rows_read=%s, inserted=%s, duplicates=%s, rejected=%s, rejects=%s, "
        "mission_code=%s, outside_area=%s, finished_at=now(), status='finished' WHERE id=%s",
        (rows_read, inserted, duplicates, len(rejects), json.dumps(rejects[:1000]), mission_code,
         outside_area, run_id),
    )
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, 'import', 'import_run', %s, %s)",
        (actor, run_id, json.dumps({"rows_read": rows_read, "inserted": inserted,
                                    "duplicates": duplicates, "rejected": len(rejects),
                                    "linked": linked, "queued": queued,
                                    "new": inserted - linked - queued,
                                    "mission": mission_code, "outside_area": outside_area})),
    )


def record_approval(conn: psycopg.Connection[Any], run_id: str, *, actor: str, source: str,
                    filename: str, inserted: int) -> None:
    """The audit of an import that landed its rows approved: one event for the whole batch."""
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, 'approved', 'import_run', %s, %s)",
        (actor, run_id, json.dumps({"status": "approved", "source": source, "filename": filename,
                                    "incidents_approved": inserted})),
    )


def fail_run(conn: psycopg.Connection[Any], run_id: str, *, rows_read: int, inserted: int,
             duplicates: int, rejects: list[dict[str, Any]], error: str, actor: str) -> None:
    """End a run that could not complete: what was stored so far stays (imports are idempotent:
    importing the file again completes it), and the run says why it stopped."""
    conn.execute(
        "UPDATE import_run SET rows_read=%s, inserted=%s, duplicates=%s, rejected=%s, rejects=%s, "
        "finished_at=now(), status='failed', error=%s WHERE id=%s",
        (rows_read, inserted, duplicates, len(rejects), json.dumps(rejects[:1000]), error, run_id),
    )
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, 'import_failed', 'import_run', %s, %s)",
        (actor, run_id, json.dumps({"rows_read": rows_read, "inserted": inserted,
                                    "error": error})),
    )
# ---- the gazetteer from imported events (issue 13) ---------------------------------------------

# Named places of a source's incidents: the event's own place (ACLED location, UCDP
# where_coordinates, when located to within 25 km) at its precision, admin-2 (4) and admin-1 (5)
# units at the mean of their events. Re-running recomputes the same rows.
PLACES_SQL = """
INSERT INTO place (mission_code, name, key, latitude, longitude, precision, source, events)
SELECT CAST(%(mission)s AS text), min(name), lower(name), avg(lat), avg(lon), prec, %(source)s, count(*)
FROM (
    SELECT place_name AS name, ST_Y(location) AS lat, ST_X(location) AS lon,
           least(greatest(location_precision, 1), 3) AS prec
    FROM incident WHERE external_source = %(source)s
         AND mission_code IS NOT DISTINCT FROM %(mission)s
         AND place_name IS NOT NULL AND location_radius_m <= 25000
    UNION ALL
    SELECT trim(a), ST_Y(location), ST_X(location), 4 FROM incident,
           unnest(string_to_array(admin2, ',')) AS a
    WHERE external_source = %(source)s AND mission_code IS NOT DISTINCT FROM %(mission)s
          AND admin2 IS NOT NULL
    UNION ALL
    SELECT trim(a), ST_Y(location), ST_X(location), 5 FROM incident,
           unnest(string_to_array(admin1, ',')) AS a
    WHERE external_source = %(source)s AND mission_code IS NOT DISTINCT FROM %(mission)s
          AND admin1 IS NOT NULL
) x
WHERE name <> ''
GROUP BY lower(name), prec
ON CONFLICT ((coalesce(mission_code, '')), source, key, precision) DO UPDATE
SET name = EXCLUDED.name, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
    events = EXCLUDED.events
"""


def refresh_places(conn: psycopg.Connection[Any], source: str, mission_code: str | None) -> int:
    """Rebuild the gazetteer entries that a source's incidents (of one mission) give."""
    cur = conn.execute(PLACES_SQL, {"source": source, "mission": mission_code})
    return cur.rowcount


def insert_places(conn: psycopg.Connection[Any], rows: list[dict[str, Any]]) -> int:
    """Gazetteer entries from a file (GeoNames, Geo-PKO sites); the same name again updates."""
    n = 0
    with conn.cursor() as cur:
        for r in rows:
            cur.execute(
                "INSERT INTO place (mission_code, name, key, latitude, longitude, precision, "
                "source, events) VALUES (%(mission)s, %(name)s, lower(%(name)s), %(latitude)s, "
                "%(longitude)s, %(precision)s, %(source)s, 1) "
                "ON CONFLICT ((coalesce(mission_code, '')), source, key, precision) DO UPDATE "
                "SET latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude", r)
            n += cur.rowcount
    return n


def purge(conn: psycopg.Connection[Any], source: str, mission_code: str | None, actor: str
          ) -> dict[str, int]:
    """Delete a source's imported incidents (reports cascade) or bases, and the places they gave;
    audited with the counts."""
    params = {"source": source, "mission": mission_code}
    cond = "external_source = %(source)s" + (
        " AND mission_code = %(mission)s" if mission_code is not None else "")
    if source == "geopko":
        n = conn.execute(f"DELETE FROM mission_base WHERE {cond}", params).rowcount
        counts = {"bases": n}
    else:
        n = conn.execute(f"DELETE FROM incident WHERE {cond}", params).rowcount
        counts = {"incidents": n}
    place_cond = "source = %(source)s" + (
        " AND mission_code = %(mission)s" if mission_code is not None else "")
    counts["places"] = conn.execute(f"DELETE FROM place WHERE {place_cond}", params).rowcount
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, 'purge', 'import', %s, %s)",
        (actor, f"{source}:{mission_code or '*'}", json.dumps({**counts, "source": source,
                                                               "mission": mission_code})))
    return counts
