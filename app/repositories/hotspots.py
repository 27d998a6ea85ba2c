"""Per-cell aggregation of incidents for the threat layer: one indexed pass, GROUP BY the parent
cell computed by bit arithmetic on the stored res-9 index (no spatial join).

The SQL is built from fixed fragments only; every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Category, ThreatTerms
from app.models import Incident
from app.repositories import sql_fragments as sql
from app.repositories.incidents import INCIDENT_COLUMNS

PARENT = sql.h3_parent("i.h3_cell", ":res")
AGE_DAYS = sql.age_days(":end", "i.occurred_start")
CRED = sql.credibility("i")
DECAY = sql.decay(AGE_DAYS)
HARM = sql.event_harm("i")
CRSV = sql.event_crsv("i")
VALID_CELL = sql.valid_cell("i.h3_cell", ":res")


@dataclass
class CellFilter:
    res: int
    start: datetime
    end: datetime
    max_radius_m: float
    statuses: list[str]
    step_days: int = 7
    bbox: tuple[float, float, float, float] | None = None
    categories: list[str] | None = None
    perpetrator: str | None = None
    grades: list[str] | None = None
    cells: list[int] | None = None  # restrict to these parent cells (detail)


def _where(f: CellFilter, params: dict[str, Any]) -> str:
    conds = ["i.occurred_start >= :start", "i.occurred_start <= :end",
             "i.location_radius_m <= :max_radius", "i.status = ANY(:statuses)", VALID_CELL]
    params.update(start=f.start, end=f.end, max_radius=f.max_radius_m, statuses=f.statuses)
    if f.bbox is not None:
        conds.append("i.location && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(x1=f.bbox[0], y1=f.bbox[1], x2=f.bbox[2], y2=f.bbox[3])
    if f.categories:
        conds.append("i.category = ANY(:categories)")
        params["categories"] = f.categories
    if f.grades:
        conds.append("i.quality_grade = ANY(:grades)")
        params["grades"] = f.grades
    if f.perpetrator:
        escaped = f.perpetrator.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append("array_to_string(i.perpetrators, E'\\x1f') ILIKE :perp")
        params["perp"] = f"%{escaped}%"
    if f.cells:
        conds.append(f"({PARENT}) = ANY(:cells)")
        params["cells"] = f.cells
    return " AND ".join(conds)


def _params(f: CellFilter, terms: ThreatTerms) -> dict[str, Any]:
    return {"res": f.res, "step": f.step_days, **sql.term_params(terms)}


CATEGORY_COLUMNS = [c.value for c in Category]  # fixed vocabulary: safe as column names


def _rows(result: Any) -> list[dict[str, Any]]:
    """Plain dicts from a result: the keys once, then zip (RowMapping per row cost ~50 us)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


@dataclass
class Sums:
    """`cell_sums` result: one row per parent cell, and the data version of the snapshot it was
    read in (None when the version row is missing: then it must not be cached)."""

    rows: list[dict[str, Any]]
    version: int | None
    log_since: int | None
    dirty: bool = False  # read by a transaction that has written: its version names no state


async def cell_sums(session: AsyncSession, f: CellFilter, spec: ThreatTerms, *, steps: int,
                    with_series: bool, with_perpetrators: bool, since: int | None = None) -> Sums:
    """One row per parent cell: counts, credible decayed sums, the trend numerator, a count per
    category (`cat_<code>`), every perpetrator name with its count (two arrays, most frequent
    first), and (with_series) the per-step credible counts as two arrays (steps ago, weight).

    `since=None` sums the incidents in the window. `since=V0` sums the signed change log
    (migration 0007) between V0 and the current version instead: added to sums read at V0 it gives
    the sums now, exactly (every term is a plain sum). The data version is read in the same
    statement, hence the same snapshot, as the sums (None when the version row is missing).

    Plain columns and arrays, not JSON: decoding JSON per cell cost more than the aggregation.
    Without the series, one GROUP BY cell; with it, per (cell, step) first, then per cell."""
    params = _params(f, spec)
    params["steps"] = steps
    where = _where(f, params)
    decay = DECAY
    if spec.precision_share > 0:  # the log holds each image's date precision too (0015c)
        decay = sql.decay(AGE_DAYS, sql.precision_scale("i"))
    if since is None:
        source, n, sg = "incident i", "count(*)", ""
    else:
        source, n, sg = ("incident_change i", "sum(sg)", "sg * ")
        where += (" AND i.version > :since"
                  " AND i.version <= (SELECT version FROM data_version WHERE id)")
        params["since"] = since
    # Category -> small int once per row; integer FILTERs are ~5x cheaper than text compares.
    cat_key = ("CASE i.category " + " ".join(f"WHEN '{c}' THEN {k}" for k, c in
                                             enumerate(CATEGORY_COLUMNS, start=1)) + " END")
    cat_counts = "".join(f", coalesce({n} FILTER (WHERE k = {k}), 0)::int AS cat_{c}"
                         for k, c in enumerate(CATEGORY_COLUMNS, start=1))
    centre = "(CAST(:steps AS int) - 1) / 2.0::float8"
    sign = "i.sign" if since is not None else "1"
    ev = f"""SELECT {PARENT} AS cell, {cat_key} AS k, i.fatalities_best AS fat,
                 i.crsv_survivors AS crsv, {sign} AS sg,
                 {CRED} AS c, {decay} AS d,
                 {HARM} AS h, {CRSV} AS s,
                 least(floor({AGE_DAYS} / CAST(:step AS float8))::int,
                       CAST(:steps AS int) - 1) AS ago
          FROM {source} WHERE {where}"""
    if with_series:
        cat_cells = "".join(f", sum(s.cat_{c})::int AS cat_{c}" for c in CATEGORY_COLUMNS)
        cells = f"""st AS (
    SELECT cell, ago, {n} AS n, sum({sg}c) AS cw, sum({sg}c * d) AS lk, sum({sg}c * d * h) AS hm,
           sum({sg}c * d * s) AS cs, sum({sg}fat) AS fat, sum({sg}crsv) AS crsv{cat_counts}
    FROM ({ev}) ev GROUP BY cell, ago
), cells AS (
    SELECT s.cell, sum(s.n)::int AS incidents, sum(s.fat)::bigint AS fatalities,
           sum(s.crsv)::bigint AS crsv, sum(s.lk) AS likelihood, sum(s.hm) AS harm,
           sum(s.cs) AS crsv_harm,
           sum(s.cw * ((CAST(:steps AS int) - 1 - s.ago) - {centre})) AS trend_num
           {cat_cells}, array_agg(s.ago) AS series_ago, array_agg(s.cw) AS series_w
    FROM st s GROUP BY s.cell
)"""
    else:
        cells = f"""cells AS (
    SELECT cell, {n}::int AS incidents, sum({sg}fat)::bigint AS fatalities,
           sum({sg}crsv)::bigint AS crsv, sum({sg}c * d) AS likelihood, sum({sg}c * d * h) AS harm,
           sum({sg}c * d * s) AS crsv_harm,
           sum({sg}c * ((CAST(:steps AS int) - 1 - ago) - {centre})) AS trend_num{cat_counts}
    FROM ({ev}) ev GROUP BY cell
)"""
    perps = (f"""
, perp AS (
    SELECT cell, array_agg(name ORDER BY n DESC, name) AS perp_names,
           array_agg(n ORDER BY n DESC, name) AS perp_counts
    FROM (SELECT g.cell, p.name, sum(g.n)::int AS n
          FROM (SELECT {PARENT} AS cell, i.perpetrators, {n.replace("sg", sign)} AS n
                FROM {source} WHERE {where} GROUP BY 1, 2) g,
               unnest(g.perpetrators) AS p(name)
          GROUP BY 1, 2) x
    GROUP BY cell)""" if with_perpetrators else "")
    perp_join = "LEFT JOIN perp USING (cell)" if with_perpetrators else ""
    perp_col = ", perp.perp_names, perp.perp_counts" if with_perpetrators else ""
    # Each part reads the window straight from the covering index (no materialised CTE: copying
    # the window's rows once cost more than scanning the index twice). Perpetrators: group the
    # window by (cell, perpetrator list) first (few distinct lists), then unnest the groups.
    # The version row is LEFT JOINed so that an empty window still reports its version.
    query = (f"WITH {cells}{perps},\nv AS (SELECT version, log_since FROM data_version WHERE id "
           "UNION ALL SELECT NULL, NULL WHERE NOT EXISTS (SELECT FROM data_version WHERE id))\n"
           f"SELECT v.version AS _version, v.log_since AS _log_since, "
           f"txid_current_if_assigned() IS NOT NULL AS _dirty, cells.*{perp_col} "
           f"FROM v LEFT JOIN cells ON true {perp_join}")
    # Planning and JIT-compiling this query costs more than running it on a window's rows; the
    # per-cell hash aggregate must not spill to disk (default work_mem is 4 MB).
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    rows = _rows(await session.execute(text(query), params))
    version, log_since, dirty = rows[0]["_version"], rows[0]["_log_since"], rows[0]["_dirty"]
    for row in rows:
        del row["_version"], row["_log_since"], row["_dirty"]
    return Sums([r for r in rows if r["cell"] is not None], version, log_since, dirty)


async def contributing_incidents(session: AsyncSession, f: CellFilter, *, limit: int
                                 ) -> list[dict[str, Any]]:
    """The incidents behind the cells in f.cells, newest first, as incident rows."""
    params: dict[str, Any] = {"res": f.res}
    where = _where(f, params)
    params["limit"] = limit
    query = (f"SELECT i.id FROM incident i WHERE {where} "
           "ORDER BY i.occurred_start DESC, i.id DESC LIMIT :limit")
    ids = [r[0] for r in (await session.execute(text(query), params))]
    if not ids:
        return []
    stmt = (select(*INCIDENT_COLUMNS).where(Incident.id.in_(ids))
            .order_by(Incident.occurred_start.desc(), Incident.id.desc()))
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def breakdown(session: AsyncSession, f: CellFilter) -> dict[str, list[dict[str, Any]]]:
    """Every category and every perpetrator name in the cells of f.cells, with counts."""
    params: dict[str, Any] = {"res": f.res}
    where = _where(f, params)
    cats = await session.execute(text(
        f"SELECT i.category, count(*)::int AS incidents FROM incident i WHERE {where} "
        "GROUP BY 1 ORDER BY 2 DESC, 1"), params)
    perps = await session.execute(text(
        f"SELECT p.name, count(*)::int AS incidents FROM incident i, unnest(i.perpetrators) "
        f"AS p(name) WHERE {where} GROUP BY 1 ORDER BY 2 DESC, 1"), params)
    return {"categories": [dict(r) for r in cats.mappings()],
            "perpetrators": [dict(r) for r in perps.mappings()]}


async def weekly_series(session: AsyncSession, f: CellFilter) -> list[dict[str, Any]]:
    """Per week (date_trunc week) counts and harm for the cells in f.cells."""
    params: dict[str, Any] = {"res": f.res}
    where = _where(f, params)
    sql = f"""
SELECT date_trunc('week', i.occurred_start) AS week, count(*)::int AS incidents,
       sum(i.fatalities_best)::bigint AS fatalities, sum(i.crsv_survivors)::bigint AS crsv
FROM incident i WHERE {where} GROUP BY 1 ORDER BY 1"""
    return [dict(r) for r in (await session.execute(text(sql), params)).mappings()]


async def data_version(session: AsyncSession) -> tuple[int, int] | None:
    """(database oid, data version): moves on every write transaction to incident or report
    (migrations 0005, 0008). None (then callers must not cache) if the version row is missing or
    this transaction has written: until it commits, one version names several states."""
    row = (await session.execute(text(
        "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, "
        "version FROM data_version WHERE id AND txid_current_if_assigned() IS NULL"))).first()
    return None if row is None else (int(row[0]), int(row[1]))
