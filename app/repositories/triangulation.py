"""Triangulation SQL: the indexed space–time candidate search, merges and their reversal, the
possible-duplicates queue, actor aliases and thresholds.

Statements are written once with `:name` parameters. Imports run them on a psycopg connection
(sync, inside the batch's transaction); the API on an AsyncSession. Nothing is committed here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

COUNTED = "('entered', 'validated', 'approved')"
SPACETIME = ("incident_spacetime(c.location, c.location_radius_m, c.occurred_start, "
             "c.occurred_end, c.external_source)")
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def _pyformat(sql: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql)


def _sync(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(_pyformat(sql), params or {})  # type: ignore[arg-type]
        if cur.description is None:
            return []
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


async def _async(session: AsyncSession, sql: str, params: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    result = await session.execute(text(sql), params or {})
    if not result.returns_rows:  # type: ignore[attr-defined]
        return []
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


# ------------------------------------------------------------------ candidate search
@dataclass
class Boxes:
    """One query box per new account (degrees, days since the epoch), the source coordinate
    ranges to search (all sources, or all but the account's own), ids never to return."""

    k: list[int]
    x1: list[float]
    y1: list[float]
    t1: list[float]
    x2: list[float]
    y2: list[float]
    t2: list[float]
    ranges: list[tuple[float, float]]
    source: str | None
    exclude: list[uuid.UUID]


@dataclass
class Candidates:
    """What the search found, column-wise: one entry per found incident (ordered by id), each with
    the new accounts (`ks`, ascending) whose box met it. A busy place meets many new accounts:
    its row is read and sent once. Dates come as whole microseconds since the epoch (UTC),
    clamped to what Python's datetime holds (as reads clamp them); `end_us` is the end, or the
    start when there is none. `cites` may repeat an outlet (it is read as a set)."""

    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["id"])

    @property
    def pairs(self) -> int:
        return sum(len(ks) for ks in self.columns["ks"])


CANDIDATE_NAMES = ("ks", "id", "external_source", "longitude", "latitude", "location_radius_m",
                   "start_us", "end_us", "category", "perpetrators", "fatalities_low",
                   "fatalities_best", "fatalities_high", "narrative", "cites")


def _us(t: str) -> str:
    """Whole microseconds since the epoch, within Python's datetime range (reads clamp beyond)."""
    return (f"CAST(extract(epoch FROM greatest(least({t}, "
            "CAST('9999-12-31 23:59:59.999999+00' AS timestamptz)), "
            "CAST('0001-01-01 00:00:00+00' AS timestamptz))) * 1000000 AS bigint)")


def _candidates_sql(n_ranges: int) -> str:
    """The probes (one n-D GiST probe per box and source range), grouped by incident, and each
    found incident's columns in the same statement; `held` incidents (already holding an account
    of the searching source: an export's distinct ids are distinct events) are left out."""
    probes = "\n        UNION ALL\n".join(
        f"""        SELECT c.id, c.external_source FROM incident c
        WHERE {SPACETIME} &&& ST_MakeLine(ST_MakePoint(q.x1, q.y1, q.t1, CAST(:mlo{i} AS float8)),
                                          ST_MakePoint(q.x2, q.y2, q.t2, CAST(:mhi{i} AS float8)))
          AND c.status IN {COUNTED}""" for i in range(n_ranges))
    return f"""
WITH found AS (
    SELECT c.id, array_agg(q.k ORDER BY q.k) AS ks
    FROM unnest(CAST(CAST(:k AS text) AS int[]), CAST(CAST(:x1 AS text) AS float8[]),
                CAST(CAST(:y1 AS text) AS float8[]), CAST(CAST(:t1 AS text) AS float8[]),
                CAST(CAST(:x2 AS text) AS float8[]), CAST(CAST(:y2 AS text) AS float8[]),
                CAST(CAST(:t2 AS text) AS float8[])) AS q(k, x1, y1, t1, x2, y2, t2)
    CROSS JOIN LATERAL (
{probes}
    ) c
    WHERE c.id <> ALL(CAST(:exclude AS uuid[]))
      AND (CAST(:src AS text) IS NULL OR c.external_source IS DISTINCT FROM CAST(:src AS text))
    GROUP BY c.id
)
SELECT f.ks, c.id, c.external_source, ST_X(c.location) AS longitude, ST_Y(c.location) AS latitude,
       c.location_radius_m, {_us("c.occurred_start")} AS start_us,
       {_us("coalesce(c.occurred_end, c.occurred_start)")} AS end_us,
       c.category, c.perpetrators, c.fatalities_low, c.fatalities_best, c.fatalities_high,
       c.narrative,
       ARRAY(SELECT x FROM report r, unnest(r.cites) AS x WHERE r.incident_id = c.id) AS cites
FROM found f JOIN incident c ON c.id = f.id
WHERE CAST(:src AS text) IS NULL OR NOT EXISTS (
    SELECT 1 FROM incident m WHERE m.merged_into = c.id AND m.external_source = CAST(:src AS text))
ORDER BY c.id
"""


def _array_literal(values: Sequence[float]) -> str:
    """A number array as one text literal (exact: the shortest repr that reads back the same
    float), instead of a parameter dumped element by element."""
    return "{" + ",".join(map(repr, values)) + "}"


def _candidate_params(b: Boxes) -> dict[str, Any]:
    params: dict[str, Any] = {name: _array_literal(getattr(b, name))
                              for name in ("k", "x1", "y1", "t1", "x2", "y2", "t2")}
    params.update(src=b.source, exclude=b.exclude)
    for i, (lo, hi) in enumerate(b.ranges):
        params[f"mlo{i}"], params[f"mhi{i}"] = lo, hi
    return params


def _columns(rows: Sequence[Sequence[Any]]) -> Candidates:
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(CANDIDATE_NAMES)
    return Candidates({name: list(c) for name, c in zip(CANDIDATE_NAMES, cols, strict=True)})


def candidates_sync(conn: psycopg.Connection[Any], boxes: Boxes) -> Candidates:
    """Counted incidents whose space–time box meets each query box (one n-D GiST probe per box,
    per source range): never the account's own source, nor an incident already holding an
    account of that source. One statement; JIT compilation is off for it (compiling the probes
    costs more than it saves: a second on a 10,000-row batch)."""
    if not boxes.k:
        return _columns([])
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('jit') AS jit, set_config('jit', 'off', true)")
        row = cur.fetchone()
        cur.execute(_pyformat(_candidates_sql(len(boxes.ranges))),  # type: ignore[arg-type]
                    _candidate_params(boxes))
        rows = cur.fetchall()
        cur.execute("SELECT set_config('jit', %s, true)", (row[0] if row else "on",))
    return _columns(rows)


async def candidates(session: AsyncSession, boxes: Boxes) -> Candidates:
    if not boxes.k:
        return _columns([])
    result = await session.execute(text(_candidates_sql(len(boxes.ranges))),
                                   _candidate_params(boxes))
    return _columns([tuple(r) for r in result.all()])


def _any_sql(n_ranges: int) -> str:
    probes = " OR ".join(
        f"""EXISTS (SELECT 1 FROM incident c
        WHERE {SPACETIME} &&& ST_MakeLine(ST_MakePoint(:x1, :y1, :t1, CAST(:mlo{i} AS float8)),
                                          ST_MakePoint(:x2, :y2, :t2, CAST(:mhi{i} AS float8)))
          AND c.status IN {COUNTED})""" for i in range(n_ranges))
    return f"SELECT {probes} AS found"


def any_candidate_sync(conn: psycopg.Connection[Any], box: tuple[float, ...],
                       ranges: list[tuple[float, float]]) -> bool:
    """Whether any counted incident of the searched sources meets one box (a whole batch's
    extent): an import into a store holding only its own source skips the per-row search."""
    params: dict[str, Any] = dict(zip(("x1", "y1", "t1", "x2", "y2", "t2"), box, strict=True))
    for i, (lo, hi) in enumerate(ranges):
        params[f"mlo{i}"], params[f"mhi{i}"] = lo, hi
    return bool(_sync(conn, _any_sql(len(ranges)), params)[0]["found"])


# Import batches and triangulation (services/triangulation/service.place_batch): a batch that
# may link takes this lock exclusively, a batch that can link nothing shares it.
_BATCH_LOCK = "hashtext('kinga.triangulation')"


def lock_batches_sync(conn: psycopg.Connection[Any], *, shared: bool) -> None:
    """Wait for the batch lock (held to the end of the transaction)."""
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.execute(f"SELECT {fn}({_BATCH_LOCK})")


def lock_imports_sync(conn: psycopg.Connection[Any]) -> None:
    """Wait until no other matched import runs, and hold that until `unlock_imports_sync` (or
    the connection closes): imports of different sources then never store batches side by
    side, so a batch that shares the batch lock only ever shares it with its own import's."""
    conn.execute("SELECT pg_advisory_lock(hashtext('kinga.import'))")


def unlock_imports_sync(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_unlock(hashtext('kinga.import'))")


def try_exclusive_batches_sync(conn: psycopg.Connection[Any]) -> bool:
    """Take the batch lock exclusively if no other transaction holds it (this one may hold it
    shared); never waits."""
    row = conn.execute(f"SELECT pg_try_advisory_xact_lock({_BATCH_LOCK})").fetchone()
    return bool(row and row[0])


SOURCE_CODE = "SELECT (hashtext(CAST(:src AS text)) & 1023)::float8 AS h"  # as incident_spacetime


def source_code_sync(conn: psycopg.Connection[Any], source: str) -> float:
    return float(_sync(conn, SOURCE_CODE, {"src": source})[0]["h"])


async def source_code(session: AsyncSession, source: str) -> float:
    return float((await _async(session, SOURCE_CODE, {"src": source}))[0]["h"])


# ------------------------------------------------------------------ aliases and thresholds
ALIASES = """
SELECT id, mission_code, alias, canonical, valid_from, valid_to, created_by, created_at
FROM actor_alias
WHERE mission_code IS NULL OR mission_code = CAST(:mission AS text)
ORDER BY mission_code NULLS LAST, alias, valid_from NULLS FIRST
"""
THRESHOLDS = """
SELECT mission_code, auto_link, review, updated_by, updated_at FROM triangulation_threshold
WHERE mission_code IS NULL OR mission_code = CAST(:mission AS text)
ORDER BY mission_code NULLS LAST LIMIT 1
"""


def aliases_sync(conn: psycopg.Connection[Any], mission: str | None) -> list[dict[str, Any]]:
    return _sync(conn, ALIASES, {"mission": mission})


# A session reads a mission's aliases and thresholds once: triage matches every alert of a batch
# (one session) against them. The writers below forget what their session read.
_READ_ONCE = "kinga.triangulation.read_once"


async def _read_once(session: AsyncSession, key: tuple[str, str | None], sql: str,
                     params: dict[str, Any]) -> list[dict[str, Any]]:
    memo = session.info.setdefault(_READ_ONCE, {})
    if key not in memo:
        memo[key] = await _async(session, sql, params)
    return [dict(r) for r in memo[key]]


def _forget(session: AsyncSession) -> None:
    session.info.pop(_READ_ONCE, None)


async def aliases(session: AsyncSession, mission: str | None) -> list[dict[str, Any]]:
    return await _read_once(session, ("aliases", mission), ALIASES, {"mission": mission})


def thresholds_sync(conn: psycopg.Connection[Any], mission: str | None) -> dict[str, Any] | None:
    rows = _sync(conn, THRESHOLDS, {"mission": mission})
    return rows[0] if rows else None


async def thresholds(session: AsyncSession, mission: str | None) -> dict[str, Any] | None:
    rows = await _read_once(session, ("thresholds", mission), THRESHOLDS, {"mission": mission})
    return rows[0] if rows else None


async def set_thresholds(session: AsyncSession, mission: str | None, auto_link: float,
                         review: float, actor: str) -> None:
    _forget(session)
    await _async(session, """
DELETE FROM triangulation_threshold WHERE coalesce(mission_code, '') = coalesce(CAST(:m AS text), '')
""", {"m": mission})
    await _async(session, """
INSERT INTO triangulation_threshold (mission_code, auto_link, review, updated_by)
VALUES (CAST(:m AS text), :a, :r, :who)""", {"m": mission, "a": auto_link, "r": review, "who": actor})


async def add_alias(session: AsyncSession, *, mission: str | None, alias: str, canonical: str,
                    valid_from: date | None, valid_to: date | None, actor: str) -> dict[str, Any] | None:
    _forget(session)
    rows = await _async(session, """
INSERT INTO actor_alias (mission_code, alias, canonical, valid_from, valid_to, created_by)
VALUES (CAST(:m AS text), :alias, :canonical, CAST(:f AS date), CAST(:t AS date), :who)
ON CONFLICT DO NOTHING
RETURNING id, mission_code, alias, canonical, valid_from, valid_to, created_by, created_at
""", {"m": mission, "alias": alias, "canonical": canonical, "f": valid_from, "t": valid_to,
      "who": actor})
    return rows[0] if rows else None


def add_aliases_sync(conn: psycopg.Connection[Any], rows: Sequence[dict[str, Any]], actor: str) -> int:
    n = 0
    for r in rows:
        n += len(_sync(conn, """
INSERT INTO actor_alias (mission_code, alias, canonical, valid_from, valid_to, created_by)
VALUES (CAST(:m AS text), :alias, :canonical, CAST(:f AS date), CAST(:t AS date), :who)
ON CONFLICT DO NOTHING RETURNING id""", {**r, "who": actor}))
    return n


async def delete_alias(session: AsyncSession, alias_id: uuid.UUID) -> dict[str, Any] | None:
    _forget(session)
    rows = await _async(session, """
DELETE FROM actor_alias WHERE id = :id
RETURNING id, mission_code, alias, canonical, valid_from, valid_to""", {"id": alias_id})
    return rows[0] if rows else None


# ------------------------------------------------------------------ merge bookkeeping
BASIS_COLUMNS = ("location", "location_precision", "precision_scheme", "location_radius_m",
                 "h3_cell", "place_name", "admin1", "admin2", "occurred_start", "occurred_end",
                 "time_precision")
_BASIS = ", ".join(BASIS_COLUMNS)

ENSURE_BASIS = f"""
INSERT INTO incident_basis (incident_id, {_BASIS}, quality_grade, independent_sources, report_ids)
SELECT i.id, {", ".join("i." + c for c in BASIS_COLUMNS)}, i.quality_grade, i.independent_sources,
       ARRAY(SELECT r.id FROM report r WHERE r.incident_id = i.id ORDER BY r.id)
FROM incident i WHERE i.id = ANY(CAST(:ids AS uuid[]))
ON CONFLICT (incident_id) DO NOTHING
"""

# The most precise location (smallest radius) and date range (shortest) among an incident's own
# (basis) values and the accounts merged into it; its own wins ties.
CONSOLIDATE = f"""
WITH members AS (
    SELECT b.incident_id AS target, 0 AS rank, {", ".join("b." + c for c in BASIS_COLUMNS)}
    FROM incident_basis b WHERE b.incident_id = ANY(CAST(:ids AS uuid[]))
    UNION ALL
    SELECT m.merged_into, 1, {", ".join("m." + c for c in BASIS_COLUMNS)}
    FROM incident m WHERE m.merged_into = ANY(CAST(:ids AS uuid[])) AND m.status = 'merged'
), loc AS (
    SELECT DISTINCT ON (target) * FROM members
    ORDER BY target, location_radius_m, location_precision, rank
), tim AS (
    SELECT DISTINCT ON (target) target, occurred_start, occurred_end, time_precision FROM members
    ORDER BY target, coalesce(occurred_end, occurred_start) - occurred_start, time_precision, rank
)
UPDATE incident i
SET location = loc.location, location_precision = loc.location_precision,
    precision_scheme = loc.precision_scheme, location_radius_m = loc.location_radius_m,
    h3_cell = loc.h3_cell, place_name = loc.place_name, admin1 = loc.admin1, admin2 = loc.admin2,
    occurred_start = tim.occurred_start, occurred_end = tim.occurred_end,
    time_precision = tim.time_precision, updated_at = now()
FROM loc JOIN tim USING (target)
WHERE i.id = loc.target
  AND (i.location, i.location_radius_m, i.occurred_start, i.occurred_end, i.time_precision,
       i.location_precision, i.precision_scheme, i.h3_cell)
      IS DISTINCT FROM
      (loc.location, loc.location_radius_m, tim.occurred_start, tim.occurred_end,
       tim.time_precision, loc.location_precision, loc.precision_scheme, loc.h3_cell)
"""

# Last account unmerged: the incident is its own again, exactly as before its first merge (grade
# too, if it holds the same reports as then).
RESTORE_BASIS = f"""
WITH done AS (
    DELETE FROM incident_basis b
    WHERE b.incident_id = ANY(CAST(:ids AS uuid[]))
      AND NOT EXISTS (SELECT 1 FROM incident m WHERE m.merged_into = b.incident_id)
    RETURNING b.*
)
UPDATE incident i
SET {", ".join(f"{c} = done.{c}" for c in BASIS_COLUMNS)},
    quality_grade = CASE WHEN done.report_ids = ARRAY(SELECT r.id FROM report r
                                                     WHERE r.incident_id = i.id ORDER BY r.id)
                         THEN done.quality_grade ELSE i.quality_grade END,
    independent_sources = CASE WHEN done.report_ids = ARRAY(SELECT r.id FROM report r
                                                           WHERE r.incident_id = i.id ORDER BY r.id)
                               THEN done.independent_sources ELSE i.independent_sources END,
    updated_at = now()
FROM done WHERE i.id = done.incident_id
RETURNING i.id, done.report_ids = ARRAY(SELECT r.id FROM report r WHERE r.incident_id = i.id
                                        ORDER BY r.id) AS same_reports
"""

REPORTS = """
SELECT id, incident_id, section, source_name, source_reliability, information_credibility,
       source_count, cites
FROM report WHERE incident_id = ANY(CAST(:ids AS uuid[])) ORDER BY incident_id, id
"""

SET_GRADES = """
UPDATE incident i SET quality_grade = g.grade, independent_sources = g.n, updated_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:grades AS text[]), CAST(:ns AS int[])) AS g(id, grade, n)
WHERE i.id = g.id AND (i.quality_grade, i.independent_sources) IS DISTINCT FROM (g.grade, g.n)
"""


def ensure_basis_sync(conn: psycopg.Connection[Any], ids: list[uuid.UUID]) -> None:
    _sync(conn, ENSURE_BASIS, {"ids": ids})


def consolidate_sync(conn: psycopg.Connection[Any], ids: list[uuid.UUID]) -> None:
    _sync(conn, CONSOLIDATE, {"ids": ids})


def reports_sync(conn: psycopg.Connection[Any], ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return _sync(conn, REPORTS, {"ids": ids})


def set_grades_sync(conn: psycopg.Connection[Any], grades: dict[uuid.UUID, tuple[str, int]]) -> None:
    if grades:
        ids = list(grades)
        _sync(conn, SET_GRADES, {"ids": ids, "grades": [grades[i][0] for i in ids],
                                 "ns": [grades[i][1] for i in ids]})


async def ensure_basis(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    await _async(session, ENSURE_BASIS, {"ids": ids})


async def consolidate(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    await _async(session, CONSOLIDATE, {"ids": ids})


async def restore_basis(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Incidents left without merged accounts get their own values back; returns {id: whether
    they hold exactly the reports they held then (grade restored too)}."""
    return {r["id"]: bool(r["same_reports"]) for r in await _async(session, RESTORE_BASIS, {"ids": ids})}


async def reports(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return await _async(session, REPORTS, {"ids": ids})


async def set_grades(session: AsyncSession, grades: dict[uuid.UUID, tuple[str, int]]) -> None:
    if grades:
        ids = list(grades)
        await _async(session, SET_GRADES, {"ids": ids, "grades": [grades[i][0] for i in ids],
                                           "ns": [grades[i][1] for i in ids]})


async def lock_incidents(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Lock rows in id order (two merges never deadlock) and read what merging needs."""
    rows = await _async(session, """
SELECT id, status, merged_into, external_source FROM incident
WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE""", {"ids": ids})
    return {r["id"]: r for r in rows}


async def move_reports(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await _async(session, """
UPDATE report SET incident_id = :to WHERE incident_id = :src RETURNING id""",
                        {"to": to_id, "src": from_id})
    return sorted(r["id"] for r in rows)


async def return_reports(session: AsyncSession, report_ids: list[uuid.UUID], holder: uuid.UUID,
                         to_id: uuid.UUID) -> int:
    rows = await _async(session, """
UPDATE report SET incident_id = :to
WHERE id = ANY(CAST(:ids AS uuid[])) AND incident_id = :holder RETURNING id""",
                        {"to": to_id, "ids": report_ids, "holder": holder})
    return len(rows)


async def set_status(session: AsyncSession, incident_id: uuid.UUID, status: str,
                     merged_into: uuid.UUID | None, actor: str) -> None:
    await _async(session, """
UPDATE incident SET status = :status, merged_into = :into, updated_by = :who, updated_at = now()
WHERE id = :id""", {"status": status, "into": merged_into, "who": actor, "id": incident_id})


async def insert_merge(session: AsyncSession, *, incident_id: uuid.UUID, into_id: uuid.UUID,
                       previous_status: str, report_ids: list[uuid.UUID], reason: str,
                       score: float | None, evidence: dict[str, Any] | None, actor: str) -> uuid.UUID:
    rows = await _async(session, """
INSERT INTO incident_merge (incident_id, into_id, previous_status, report_ids, reason, score,
                            evidence, merged_by)
VALUES (:a, :b, :prev, CAST(:reports AS uuid[]), :reason, :score, CAST(:evidence AS jsonb), :who)
RETURNING id""", {"a": incident_id, "b": into_id, "prev": previous_status, "reports": report_ids,
                  "reason": reason, "score": score,
                  "evidence": None if evidence is None else json.dumps(evidence, default=str),
                  "who": actor})
    return rows[0]["id"]  # type: ignore[no-any-return]


async def active_merge(session: AsyncSession, incident_id: uuid.UUID) -> dict[str, Any] | None:
    rows = await _async(session, """
SELECT * FROM incident_merge WHERE incident_id = :id AND undone_at IS NULL""", {"id": incident_id})
    return rows[0] if rows else None


async def undo_merge(session: AsyncSession, merge_id: uuid.UUID, actor: str) -> None:
    await _async(session, """
UPDATE incident_merge SET undone_at = now(), undone_by = :who WHERE id = :id""",
                 {"id": merge_id, "who": actor})


async def merge_history(session: AsyncSession, incident_id: uuid.UUID) -> list[dict[str, Any]]:
    return await _async(session, """
SELECT id, incident_id, into_id, previous_status, reason, score, merged_by, merged_at, undone_by,
       undone_at, cardinality(report_ids) AS reports
FROM incident_merge WHERE incident_id = :id OR into_id = :id ORDER BY merged_at, id""",
                        {"id": incident_id})


async def report_holders(session: AsyncSession, report_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    rows = await _async(session, """
SELECT id, incident_id FROM report WHERE id = ANY(CAST(:ids AS uuid[]))""", {"ids": report_ids})
    return {r["id"]: r["incident_id"] for r in rows}


async def constituents(session: AsyncSession, incident_id: uuid.UUID) -> list[uuid.UUID]:
    """Accounts merged into this incident, directly or through a chain of merges."""
    rows = await _async(session, """
WITH RECURSIVE c(id, depth) AS (
    SELECT id, 1 FROM incident WHERE merged_into = :id
    UNION ALL
    SELECT i.id, c.depth + 1 FROM incident i JOIN c ON i.merged_into = c.id WHERE c.depth < 8
)
SELECT id FROM c""", {"id": incident_id})
    return [r["id"] for r in rows]


async def summaries(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """What the review queue shows of each incident next to the evidence."""
    return await _async(session, """
SELECT id, status, merged_into, external_source, external_id, occurred_start, occurred_end,
       ST_X(location) AS longitude, ST_Y(location) AS latitude, location_radius_m, place_name,
       admin1, admin2, category, perpetrators, fatalities_best, quality_grade,
       independent_sources, narrative
FROM incident WHERE id = ANY(CAST(:ids AS uuid[]))""", {"ids": ids})


# ------------------------------------------------------------------ the review queue
QUEUE_COLUMNS = """d.id, d.incident_id, d.candidate_id, d.score, d.evidence, d.origin, d.status,
       d.held_status, d.created_at, d.decided_by, d.decided_at, d.comment"""


async def queue_insert(session: AsyncSession, *, incident_id: uuid.UUID, candidate_id: uuid.UUID,
                       score: float, evidence: dict[str, Any], origin: str, held_status: str) -> uuid.UUID:
    rows = await _async(session, """
INSERT INTO duplicate_candidate (incident_id, candidate_id, score, evidence, origin, held_status)
VALUES (:a, :b, :score, CAST(:evidence AS jsonb), :origin, :held) RETURNING id""",
                        {"a": incident_id, "b": candidate_id, "score": score,
                         "evidence": json.dumps(evidence, default=str), "origin": origin,
                         "held": held_status})
    return rows[0]["id"]  # type: ignore[no-any-return]


async def queue_page(session: AsyncSession, *, status: str | None, limit: int,
                     after: tuple[datetime, uuid.UUID] | None) -> list[dict[str, Any]]:
    return await _async(session, f"""
SELECT {QUEUE_COLUMNS} FROM duplicate_candidate d
WHERE (CAST(:status AS text) IS NULL OR d.status = CAST(:status AS text))
  -- a pending entry whose account is no longer held (an alert review rejected the incident it
  -- opened) has nothing left to decide
  AND (d.status <> 'pending'
       OR EXISTS (SELECT 1 FROM incident i WHERE i.id = d.incident_id AND i.status = 'duplicate'))
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (d.created_at, d.id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY d.created_at DESC, d.id DESC LIMIT :limit""",
                        {"status": status, "limit": limit,
                         "after_at": after[0] if after else None, "after_id": after[1] if after else None})


async def queue_get(session: AsyncSession, entry_id: uuid.UUID, *, lock: bool = False
                    ) -> dict[str, Any] | None:
    rows = await _async(session, f"SELECT {QUEUE_COLUMNS} FROM duplicate_candidate d WHERE d.id = :id"
                        + (" FOR UPDATE" if lock else ""), {"id": entry_id})
    return rows[0] if rows else None


async def queue_for_incident(session: AsyncSession, incident_id: uuid.UUID) -> list[dict[str, Any]]:
    return await _async(session, f"""
SELECT {QUEUE_COLUMNS} FROM duplicate_candidate d
WHERE d.incident_id = :id OR d.candidate_id = :id ORDER BY d.created_at DESC, d.id DESC""",
                        {"id": incident_id})


async def queue_decide(session: AsyncSession, entry_id: uuid.UUID, status: str, actor: str,
                       comment: str | None) -> None:
    await _async(session, """
UPDATE duplicate_candidate SET status = :status, decided_by = :who, decided_at = now(),
       comment = :comment WHERE id = :id""",
                 {"status": status, "who": actor, "comment": comment, "id": entry_id})


# ------------------------------------------------------------------ import batches (sync)
def record_batch_sync(conn: psycopg.Connection[Any], *, merges: dict[str, list[Any]],
                      queue: dict[str, list[Any]], actor: str) -> None:
    """The merge rows of a batch's auto-links and its queue entries, for the incidents the batch
    really stored (a row lost to a concurrent import of the same file is skipped)."""
    if merges["incident_id"]:
        _sync(conn, """
INSERT INTO incident_merge (incident_id, into_id, previous_status, report_ids, reason, score,
                            evidence, merged_by)
SELECT u.a, u.b, u.prev, ARRAY[u.report], 'auto', u.score, CAST(u.evidence AS jsonb), :who
FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]), CAST(:prev AS text[]), CAST(:report AS uuid[]),
            CAST(:score AS float8[]), CAST(:evidence AS text[])) AS u(a, b, prev, report, score, evidence)
WHERE EXISTS (SELECT 1 FROM incident i WHERE i.id = u.a)""",
              {"a": merges["incident_id"], "b": merges["into_id"], "prev": merges["previous_status"],
               "report": merges["report_id"], "score": merges["score"],
               "evidence": merges["evidence"], "who": actor})
    if queue["incident_id"]:
        _sync(conn, """
INSERT INTO duplicate_candidate (incident_id, candidate_id, score, evidence, origin, held_status)
SELECT u.a, u.b, u.score, CAST(u.evidence AS jsonb), 'import', u.held
FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]), CAST(:score AS float8[]),
            CAST(:evidence AS text[]), CAST(:held AS text[])) AS u(a, b, score, evidence, held)
WHERE EXISTS (SELECT 1 FROM incident i WHERE i.id = u.a)""",
              {"a": queue["incident_id"], "b": queue["candidate_id"], "score": queue["score"],
               "evidence": queue["evidence"], "held": queue["held_status"]})
