"""Triangulation on the write paths: import batches (sync, inside the batch's transaction), staff
entries and alerts (async). One matcher (matcher.py) behind all three; this module only fetches
candidates and applies the outcome.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import orjson
import pandas as pd
import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import triangulation as repo
from app.repositories.imports import Placement
from app.services.incidents.grading import ReportGrade, grade
from app.services.triangulation import accounts as acc
from app.services.triangulation.matcher import Decisions, Outcome, Thresholds, decide, paused_gc
from app.services.triangulation.matcher import candidate_pairs as gate_and_score
from app.services.triangulation.names import Alias, AliasTable, Mentions
from app.services.triangulation.scoring import ScoreParams, evidence

# Thresholds chosen from the evaluation on the CAR 2013–2015 labelled set (docs/triangulation.md):
# precision 1.00 on labelled pairs at 0.85, recall of same-event pairs 0.81 at 0.70.
DEFAULT_AUTO_LINK = 0.85
DEFAULT_REVIEW = 0.70
M_SPAN = 2048.0  # beyond any source code (0-1023; -1 for no source)
BOX_MARGIN = 1.02  # the query box is a little larger than the exact gate
PROBE_ORDER_DAYS = 8.0


@dataclass(frozen=True)
class MatchConfig:
    """What a write path matches with. `mission` keys the alias table and the per-mission
    thresholds: each write path sets it from its record (`for_mission`: the import's mission,
    the staff token's, the alert integration's); `KINGA_TRIANGULATION_MISSION` is the mission of
    records that name none. The settings give the default thresholds."""

    params: ScoreParams = field(default_factory=ScoreParams)
    auto_link: float = DEFAULT_AUTO_LINK
    review: float = DEFAULT_REVIEW
    mission: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> MatchConfig:
        return cls(params=ScoreParams(slack_km=settings.triangulation_slack_km,
                                      slack_days=settings.triangulation_slack_days),
                   auto_link=settings.triangulation_auto_link, review=settings.triangulation_review,
                   mission=settings.triangulation_mission)

    def for_mission(self, code: str | None) -> MatchConfig:
        """The same configuration for a record of mission `code` (None: keep the default)."""
        return self if not code or code == self.mission else replace(self, mission=code)

    def thresholds(self, row: dict[str, Any] | None) -> Thresholds:
        if row is not None:
            return Thresholds(float(row["auto_link"]), float(row["review"]))
        return Thresholds(self.auto_link, self.review)


def alias_table(rows: Sequence[dict[str, Any]]) -> AliasTable:
    return AliasTable.of(Alias(r["alias"], r["canonical"], r["valid_from"], r["valid_to"]) for r in rows)


def boxes(left: acc.Accounts, params: ScoreParams, *, source_code: float | None,
          source: str | None, exclude: list[uuid.UUID] | None = None) -> repo.Boxes:
    """One query box per account: its own radius plus the gate's slack, its date range plus the
    gate's days. The stored side brings its own radius and range (the indexed boxes)."""
    reach_m = (left.radius_m + params.slack_km * 1000.0) * BOX_MARGIN
    dlat = reach_m / 110_540.0
    dlon = reach_m / (111_320.0 * np.maximum(np.cos(np.radians(left.lat)), 0.01))
    ranges = source_ranges(source_code)
    ok = ~(np.isnan(left.lon) | np.isnan(left.lat) | np.isnan(left.start))
    k = np.flatnonzero(ok)
    # probed in time order (8-day steps), then west to east: consecutive probes walk the same
    # index pages (a fifth less server time on a 10,000-row batch); the result does not depend
    # on the order
    k = k[np.lexsort((left.lon[k], np.floor(left.start[k] / PROBE_ORDER_DAYS)))]
    return repo.Boxes(
        k=k.tolist(), x1=(left.lon - dlon)[k].tolist(), y1=(left.lat - dlat)[k].tolist(),
        t1=(left.start - params.slack_days)[k].tolist(), x2=(left.lon + dlon)[k].tolist(),
        y2=(left.lat + dlat)[k].tolist(), t2=(left.end + params.slack_days)[k].tolist(),
        ranges=ranges, source=source, exclude=exclude or [])


def source_ranges(source_code: float | None) -> list[tuple[float, float]]:
    if source_code is None:
        return [(-M_SPAN, M_SPAN)]
    # an account's own source sits at [h, h + 0.5] of the fourth coordinate: below and above it
    # (single-precision boxes are exact at these magnitudes)
    return [(-M_SPAN, source_code - 0.25), (source_code + 0.75, M_SPAN)]


def batch_extent(events: pd.DataFrame, params: ScoreParams) -> tuple[float, ...]:
    """One box around every query box of a batch (column-wise, before any account is built)."""
    lat = events["lat"].to_numpy(dtype="float64")
    lon = events["lon"].to_numpy(dtype="float64")
    reach_m = (float(np.nanmax(events["location_radius_m"].to_numpy(dtype="float64")))
               + params.slack_km * 1000.0) * BOX_MARGIN
    dlat = reach_m / 110_540.0
    dlon = reach_m / (111_320.0 * max(float(np.cos(np.radians(np.nanmax(np.abs(lat))))), 0.01))
    start = acc.days_since_epoch(events["occurred_start"])
    end = acc.days_since_epoch(events["occurred_end"])
    end = np.where(np.isnan(end), start, end) + 1.0
    return (float(np.nanmin(lon)) - dlon, float(np.nanmin(lat)) - dlat,
            float(np.nanmin(start)) - params.slack_days, float(np.nanmax(lon)) + dlon,
            float(np.nanmax(lat)) + dlat, float(np.nanmax(end)) + params.slack_days)


@dataclass
class Matched:
    left: acc.Accounts
    right: acc.Accounts
    decisions: Decisions
    candidates: int

    def evidence(self, i: int) -> dict[str, Any] | None:
        k = int(self.decisions.pair[i])
        return None if k < 0 else evidence(self.left, self.right, self.decisions.scores, k)

    def alternatives(self, i: int, limit: int = 5) -> list[dict[str, Any]]:
        s = self.decisions.scores
        ks = np.flatnonzero(s.left == i)
        ks = ks[np.argsort(-s.score[ks], kind="stable")][:limit]
        return [{"incident_id": str(self.right.key[s.right[k]]), **evidence(self.left, self.right, s, int(k))}
                for k in ks.tolist()]


def _match(left: acc.Accounts, found: repo.Candidates, aliases: list[dict[str, Any]],
           thresholds: Thresholds, params: ScoreParams) -> Matched:
    """Pairs of the candidate search (the left account, an incident) → decisions."""
    ks = found.columns["ks"]
    # pairs as integer arrays: each found incident's ordinal, once per new account that met it
    li = np.fromiter(itertools.chain.from_iterable(ks), dtype=np.int64, count=found.pairs)
    ri = np.repeat(np.arange(len(ks), dtype=np.int64), [len(k) for k in ks])
    right = acc.from_columns(found.columns)
    table = alias_table(aliases)
    if len(right):
        mentions = Mentions(table.keys() | left.all_name_keys() | right.all_name_keys())
        left.resolve(table, mentions)
        right.resolve(table, mentions)
    else:
        left.names = [frozenset()] * len(left)
        left.mentions = [frozenset()] * len(left)
    scores = gate_and_score(left, right, li, ri, params)
    return Matched(left, right, decide(left, right, scores, thresholds), len(right))


# ------------------------------------------------------------------ import batches (sync)
class Contended(Exception):
    """A batch that took the batch lock shared (nothing to link at first sight) found incidents
    to link once it held it, while other batches shared the lock too: its transaction is rolled
    back (nothing was written yet) and the batch placed again with the lock held exclusively."""


def place_batch(conn: psycopg.Connection[Any], events: pd.DataFrame, *, source: str,
                config: MatchConfig, exclusive: bool = False) -> Placement | None:
    """Where the rows of an import batch go: the candidate search (other sources only) and the
    matcher, in the batch's transaction, before anything of it is written.

    Batches that may link hold the batch lock exclusively until they commit, so each sees every
    incident and link committed before it (one-to-one across batches and parallel writers). A
    batch with no incident of another source in its extent can link nothing and only adds
    incidents: it shares the lock, so an import's writers store such batches side by side (an
    exclusive holder still waits for them, then sees their rows). Matched imports run one at a
    time (`imports_one_at_a_time`), so batches sharing the lock are of one source and cannot
    match each other. Raises Contended when such a batch finds something to link after all and
    cannot take the lock exclusively at once."""
    if events.empty:
        return None
    code = repo.source_code_sync(conn, source)
    extent, ranges = batch_extent(events, config.params), source_ranges(code)
    if exclusive or repo.any_candidate_sync(conn, extent, ranges):  # unlocked: a first look
        repo.lock_batches_sync(conn, shared=False)
    else:
        repo.lock_batches_sync(conn, shared=True)
        if repo.any_candidate_sync(conn, extent, ranges) and not \
                repo.try_exclusive_batches_sync(conn):
            raise Contended
    with paused_gc():
        return _place_batch(conn, events, source=source, config=config)


@contextmanager
def imports_one_at_a_time(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold the import lock on `conn` (its own transactions commit as they go) for the duration
    of a matched import; a second import waits for the first to finish."""
    repo.lock_imports_sync(conn)
    conn.commit()
    try:
        yield
    except BaseException:
        if not conn.closed:  # the caller rolls back anyway; the lock is the session's
            with suppress(psycopg.Error):  # a lost connection released it already
                conn.rollback()
                repo.unlock_imports_sync(conn)
                conn.commit()
        raise
    repo.unlock_imports_sync(conn)  # in the caller's open transaction: it commits that


def _place_batch(conn: psycopg.Connection[Any], events: pd.DataFrame, *, source: str,
                 config: MatchConfig) -> Placement | None:
    code = repo.source_code_sync(conn, source)
    if not repo.any_candidate_sync(conn, batch_extent(events, config.params),
                                   source_ranges(code)):
        return None
    left = acc.from_events(events, source)
    found = repo.candidates_sync(conn, boxes(left, config.params, source_code=code, source=source))
    if not len(found):
        return None
    thresholds = config.thresholds(repo.thresholds_sync(conn, config.mission))
    m = _match(left, found, repo.aliases_sync(conn, config.mission), thresholds, config.params)
    d = m.decisions
    if not (d.outcome != Outcome.new).any():
        return None
    ev: list[str | None] = [None] * len(left)
    for i in np.flatnonzero(d.outcome != Outcome.new).tolist():
        ev[i] = orjson.dumps(m.evidence(i)).decode()
    return Placement(outcome=d.outcome.astype(np.int8),
                     target=[t if isinstance(t, uuid.UUID) else None for t in d.target],
                     score=[None if math.isnan(x) else float(x) for x in d.score.tolist()],
                     evidence=ev)


def _grades(reports: list[dict[str, Any]]) -> dict[uuid.UUID, tuple[str, int]]:
    by: dict[uuid.UUID, list[ReportGrade]] = {}
    for r in reports:
        by.setdefault(r["incident_id"], []).append(ReportGrade(
            r["section"], r["source_name"], r["source_reliability"], r["information_credibility"],
            r["source_count"] or 1, key=str(r["id"]), cites=tuple(r["cites"] or ())))
    return {i: grade(rs) for i, rs in by.items()}


def after_links_sync(conn: psycopg.Connection[Any], targets: list[uuid.UUID]) -> None:
    """Incidents that received reports from a batch: most precise location and date range among
    their accounts, grade and independent sources from all their reports."""
    if targets:
        repo.consolidate_sync(conn, targets)
        repo.set_grades_sync(conn, _grades(repo.reports_sync(conn, targets)))


# ------------------------------------------------------------------ API paths (async)
async def regrade(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, int]]:
    grades = _grades(await repo.reports(session, ids))
    await repo.set_grades(session, grades)
    return grades


async def match_accounts(session: AsyncSession, left: acc.Accounts, config: MatchConfig, *,
                         source: str | None, exclude: list[uuid.UUID],
                         params: ScoreParams | None = None,
                         thresholds: Thresholds | None = None) -> Matched:
    p = params or config.params
    code = await repo.source_code(session, source) if source else None
    found = await repo.candidates(session, boxes(left, p, source_code=code, source=source,
                                                exclude=exclude))
    th = thresholds or config.thresholds(await repo.thresholds(session, config.mission))
    return _match(left, found, await repo.aliases(session, config.mission), th, p)
