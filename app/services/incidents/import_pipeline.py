"""Import orchestration: parse → grade → batch → repository. Good rows commit batch by batch;
bad rows are reported with their reasons and never block the rest; every run that starts ends
(finished or failed), never half-written.

Approval means approval: imported rows land as `validated` unless an admin imports them approved
(`kinga import … --approve`, `approve=true` on POST /api/v1/imports, and the bundled demo that
`kinga seed` loads); such a run is audited as one approval of the batch (`landing_status`)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from tqdm import tqdm

from app.domain import COUNTED_STATUSES, WORKFLOW_STATUSES, Role, Status
from app.errors import Forbidden, InvalidInput
from app.repositories import imports as repo
from app.schemas.common import strip_control
from app.services.incidents import import_readers as export_readers
from app.services.incidents.grading import ReportGrade, grade
from app.services.incidents.import_mapping import MappedChunk, ParsedEvent, Reject, RowError, iter_chunks
from app.services.missions.profile import Mission
from app.services.triangulation import service as triangulation

SOURCES = ("ucdp", "acled")


@dataclass
class ImportSummary:
    run_id: str
    source: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)
    mission: str | None = None
    outside_area: int = 0       # rows located outside the mission's area (kept unless skipped)
    skipped_outside: int = 0    # … of which dropped (--skip-outside)
    places: int = 0             # gazetteer entries the import gave
    # Triangulation of the inserted rows (docs/triangulation.md): reports of existing incidents,
    # held in the possible-duplicates queue, new incidents.
    linked: int = 0
    queued: int = 0

    @property
    def new(self) -> int:
        return self.inserted - self.linked - self.queued

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.run_id, "source": self.source, "rows_read": self.rows_read,
            "inserted": self.inserted, "duplicates": self.duplicates, "rejected": len(self.rejects),
            "linked": self.linked, "queued": self.queued, "new": self.new,
            "mission": self.mission, "outside_area": self.outside_area,
            "skipped_outside": self.skipped_outside, "places": self.places,
            "rejects": [{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                        for r in self.rejects[:1000]],
        }

    def render(self) -> str:
        lines = [f"{self.source}: read {self.rows_read} rows, inserted {self.inserted}, "
                 f"already present {self.duplicates}, rejected {len(self.rejects)}"]
        if self.mission is not None:
            kept = "skipped" if self.skipped_outside else "kept"
            lines[0] += (f", outside {self.mission}'s area {self.outside_area} ({kept}), "
                         f"gazetteer places {self.places}")
        lines.append(f"  triangulation: linked {self.linked} as reports of existing incidents, "
                     f"queued {self.queued} as possible duplicates, new {self.new}")
        for r in self.rejects[:20]:
            lines.append(f"  row {r.row} ({r.external_id or '?'}): {r.reason}")
        if len(self.rejects) > 20:
            lines.append(f"  … and {len(self.rejects) - 20} more")
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=1024)
def _single_report_grade(section: str, source_name: str | None, reliability: str,
                         credibility: int, source_count: int) -> tuple[str, int]:
    return grade([ReportGrade(section, source_name, reliability, credibility, source_count)])


def graded(e: ParsedEvent) -> tuple[ParsedEvent, str, int]:
    """An imported event has exactly one report; its grade follows the usual rule (memoised)."""
    g, n = _single_report_grade(e.section, e.source_name, e.source_reliability,
                                e.information_credibility, e.source_count)
    return e, g, n


GRADE_KEYS = ["section", "source_name", "source_reliability", "information_credibility",
              "source_count"]


def grade_events(events: pd.DataFrame) -> pd.DataFrame:
    """Add quality_grade and independent_sources to a mapped frame, column-wise: each distinct
    (section, source, reliability, credibility, count) is graded once."""
    out = events.copy()
    if out.empty:
        out["quality_grade"], out["independent_sources"] = [], []
        return out
    groups = out.groupby(GRADE_KEYS, dropna=False, sort=False)
    codes = groups.ngroup().to_numpy()
    firsts = groups.head(1)[GRADE_KEYS]
    firsts = firsts.astype(object).where(firsts.notna(), None)
    grades = [_single_report_grade(sec, name, rel, int(cred), int(cnt))
              for sec, name, rel, cred, cnt in firsts.itertuples(index=False)]
    out["quality_grade"] = pd.Series([g for g, _ in grades], dtype=object).to_numpy()[codes]
    out["independent_sources"] = pd.Series([n for _, n in grades], dtype="int64").to_numpy()[codes]
    return out


def landing_status(role: Role, status: str | None, approve: bool) -> str:
    """The workflow status an import's rows land in: `validated` unless asked otherwise; only an
    admin may land them `approved` (asking with `approve` or `status=approved`)."""
    if approve or status == Status.approved.value:
        if role is not Role.admin:
            pointer = "/body/approve" if approve else "/body/status"
            raise Forbidden(
                "only an admin may import rows as approved; leave it out and they land as "
                "validated, for an admin to approve",
                errors=[{"pointer": pointer, "detail": "admins only"}])
        return Status.approved.value
    return status or Status.validated.value


def import_file(
    conn: psycopg.Connection[Any],
    source: str,
    path: Path,
    *,
    status: str = Status.validated.value,
    actor: str,
    h3_res: int,
    batch_size: int = 20_000,
    progress: bool = False,
    filename: str | None = None,
    connect: Callable[[], psycopg.Connection[Any]] | None = None,
    writers: int = 2,
    match: triangulation.MatchConfig | None = None,
    triangulate: bool = True,
    mission: Mission | None = None,
    skip_outside: bool = False,
) -> ImportSummary:
    """Import a file. With `connect`, `writers` extra connections store batches in parallel
    (the server then uses every core while this thread parses); without it, `conn` does.

    With a `mission`, imported incidents are assigned to it, rows located outside its area are
    counted (`outside_area`) and kept, or dropped with `skip_outside`; an import never guesses a
    mission. The source's place names then feed that mission's gazetteer.

    A file that cannot be read at all is refused (InvalidInput) before anything is written. Once
    the run is recorded it always ends: `finished` (bad rows rejected one by one with their
    reasons, never the whole file) or, if storing itself failed, `failed` with the error.

    Each batch is triangulated against what is stored from other sources (`match`; defaults
    when None): rows become reports of existing incidents, possible duplicates or new incidents.
    `triangulate=False` stores every row as a new incident (benchmarks' baseline)."""
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source!r}", errors=[{"pointer": "/source",
                           "detail": "one of ucdp, acled"}])
    if status not in {s.value for s in WORKFLOW_STATUSES}:
        raise InvalidInput(f"unknown status {status!r}", errors=[{"pointer": "/status",
                           "detail": "entered, validated, approved or rejected"}])
    try:
        export_readers.ensure_utf8(path)
        chunks = iter_chunks(source, path, h3_res, chunk_rows=batch_size)
        first = next(chunks, None)
    except (RowError, export_readers.ExportError) as exc:
        raise InvalidInput(f"the file cannot be read as {source}: {exc}",
                           errors=[{"pointer": "/file", "detail": str(exc)}]) from None

    name = strip_control(filename or path.name)[:500] or "upload"
    run_id = repo.start_run(conn, source=source, filename=name, sha256=file_sha256(path),
                            actor=actor)
    conn.commit()
    mission_code = mission.code if mission is not None else None
    summary = ImportSummary(run_id=run_id, source=source, mission=mission_code)
    try:
        matched = triangulate and status in {s.value for s in COUNTED_STATUSES}
        with (triangulation.imports_one_at_a_time(conn) if matched else nullcontext()):
            _store(conn, source, status, actor, summary, first, chunks, progress=progress,
                   connect=connect, writers=writers, mission=mission, skip_outside=skip_outside,
                   match=match, triangulate=triangulate)
        if mission is not None:
            summary.places = repo.refresh_places(conn, source, mission_code)
    except BaseException as exc:
        conn.rollback()
        repo.fail_run(conn, run_id, rows_read=summary.rows_read, inserted=summary.inserted,
                      duplicates=summary.duplicates, rejects=_reject_dicts(summary),
                      error=_summary_of(exc), actor=actor)
        conn.commit()
        if isinstance(exc, RowError):
            raise InvalidInput(f"the file cannot be read as {source}: {exc}",
                               errors=[{"pointer": "/file", "detail": str(exc)}]) from None
        raise
    repo.finish_run(conn, run_id, rows_read=summary.rows_read, inserted=summary.inserted,
                    duplicates=summary.duplicates, rejects=_reject_dicts(summary), actor=actor,
                    linked=summary.linked, queued=summary.queued,
                    mission_code=mission_code, outside_area=summary.outside_area)
    if status == Status.approved.value:
        repo.record_approval(conn, run_id, actor=actor, source=source,
                             filename=filename or path.name, inserted=summary.inserted)
    conn.commit()
    return summary


def _reject_dicts(summary: ImportSummary) -> list[dict[str, Any]]:
    return [{"row": r.row, "external_id": r.external_id, "reason": r.reason}
            for r in summary.rejects]


def _summary_of(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return strip_control(f"{type(exc).__name__}: {lines[0][:300]}" if lines
                         else type(exc).__name__)


def _store(conn: psycopg.Connection[Any], source: str, status: str, actor: str,
           summary: ImportSummary, first: MappedChunk | None, chunks: Iterable[MappedChunk], *,
           progress: bool, connect: Callable[[], psycopg.Connection[Any]] | None,
           writers: int, mission: Mission | None, skip_outside: bool,
           match: triangulation.MatchConfig | None = None, triangulate: bool = True) -> None:
    mission_code = mission.code if mission is not None else None
    bar = tqdm(desc=f"import {source}", unit=" rows", disable=not progress)

    # Parsing is Python work; storing is the database server's. Writer threads take finished
    # batches while the next ones are parsed (psycopg releases the GIL while it waits), so parsing
    # and storing overlap. Each writer commits its own batches.
    local = threading.local()
    opened: list[psycopg.Connection[Any]] = []
    lock = threading.Lock()

    def writer_conn() -> psycopg.Connection[Any]:
        if connect is None:
            return conn
        if not hasattr(local, "conn"):
            local.conn = connect()
            with lock:
                opened.append(local.conn)
        return local.conn  # type: ignore[no-any-return]

    # the mission the rows are imported for: its actor aliases and thresholds
    config = (match or triangulation.MatchConfig()).for_mission(mission_code)
    matching = triangulate and status in {s.value for s in COUNTED_STATUSES}

    def write(events: pd.DataFrame) -> tuple[int, repo.Loaded, list[Reject]]:
        c = writer_conn()
        loaded, rejects = store_rows(c, grade_events(events), source=source, status=status,
                                     actor=actor, mission_code=mission_code,
                                     match=config if matching else None)
        with lock:
            bar.update(len(events))
        return len(events), loaded, rejects

    n_writers = max(1, writers) if connect is not None else 1
    pending: list[Future[tuple[int, repo.Loaded, list[Reject]]]] = []

    def collect(done: Future[tuple[int, repo.Loaded, list[Reject]]]) -> None:
        n, loaded, rejects = done.result()
        summary.inserted += loaded.inserted
        summary.duplicates += n - loaded.inserted - len(rejects)
        summary.linked += loaded.linked
        summary.queued += loaded.queued
        summary.rejects.extend(rejects)

    try:
        with ThreadPoolExecutor(max_workers=n_writers, thread_name_prefix="import-writer") as pool:
            try:
                items: Iterable[MappedChunk] = chunks if first is None else chain([first], chunks)
                for chunk in items:
                    summary.rows_read += chunk.rows
                    summary.rejects.extend(chunk.rejects)
                    if chunk.events.empty:
                        continue
                    events = chunk.events
                    if mission is not None:
                        inside = mission.covers_many(events["lon"].to_numpy(),
                                                     events["lat"].to_numpy())
                        summary.outside_area += int((~inside).sum())
                        if skip_outside and not inside.all():
                            summary.skipped_outside += int((~inside).sum())
                            bar.update(int((~inside).sum()))
                            events = events[inside]
                            if events.empty:
                                continue
                    pending.append(pool.submit(write, events))
                    while len(pending) > n_writers:  # bounded queue: memory stays flat
                        collect(pending.pop(0))
                for fut in pending:
                    collect(fut)
            except BaseException:
                for fut in pending:
                    fut.exception()
                raise
    finally:
        bar.close()
        for c in opened:
            c.close()
    summary.rejects.sort()


def store_rows(conn: psycopg.Connection[Any], events: pd.DataFrame, *, source: str,
               status: str, actor: str, mission_code: str | None = None,
               match: triangulation.MatchConfig | None = None, exclusive: bool = False
               ) -> tuple[repo.Loaded, list[Reject]]:
    """Store a graded batch, committed; returns (what was stored, rows rejected). With `match`
    the rows are triangulated first (reports of existing incidents, possible duplicates, new
    incidents) and the incidents that received reports are consolidated and regraded in the same
    transaction. A batch the database refuses is split in halves until the rows it refuses stand
    alone: each of those is rejected with the database's reason and every other row is stored.
    The mapping's checks should leave nothing to refuse; this keeps any value they miss a one-row
    reject rather than a failed import. A lost connection is not a bad row: it propagates."""
    try:
        place = ((lambda fresh: triangulation.place_batch(conn, fresh, source=source, config=match,
                                                          exclusive=exclusive))
                 if match is not None else None)
        loaded = repo.store_events(conn, events, source=source, status=status, actor=actor,
                                   place=place, mission_code=mission_code)
        triangulation.after_links_sync(conn, loaded.targets)
        conn.commit()
        return loaded, []
    except psycopg.OperationalError:
        conn.rollback()
        raise
    except triangulation.Contended:  # nothing written: place it again, holding the lock alone
        conn.rollback()
        return store_rows(conn, events, source=source, status=status, actor=actor,
                          mission_code=mission_code, match=match, exclusive=True)
    except Exception as exc:
        conn.rollback()
        if len(events) == 1:
            row = events.iloc[0]
            return repo.Loaded(), [Reject(int(row["__row"]), str(row["external_id"]) or None,
                                          "could not be stored: " + _summary_of(exc))]
    half = len(events) // 2
    parts = [store_rows(conn, part, source=source, status=status, actor=actor,
                        mission_code=mission_code, match=match)
             for part in (events.iloc[:half], events.iloc[half:])]
    return (repo.Loaded(inserted=sum(p.inserted for p, _ in parts),
                        linked=sum(p.linked for p, _ in parts),
                        queued=sum(p.queued for p, _ in parts)),
            [r for _, rs in parts for r in rs])
