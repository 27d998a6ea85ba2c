"""Import orchestration: parse → grade → batch → repository. Good rows commit batch by batch;
bad rows are reported with their reasons and never block the rest."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from tqdm import tqdm

from app.domain import COUNTED_STATUSES, WORKFLOW_STATUSES
from app.errors import InvalidInput
from app.repositories import imports as repo
from app.services.incidents.grading import ReportGrade, grade
from app.services.incidents.import_mapping import MappedChunk, ParsedEvent, Reject, RowError, iter_chunks
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
            "rejects": [{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                        for r in self.rejects[:1000]],
        }

    def render(self) -> str:
        lines = [f"{self.source}: read {self.rows_read} rows, inserted {self.inserted}, "
                 f"already present {self.duplicates}, rejected {len(self.rejects)}",
                 f"  triangulation: linked {self.linked} as reports of existing incidents, "
                 f"queued {self.queued} as possible duplicates, new {self.new}"]
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


def import_file(
    conn: psycopg.Connection[Any],
    source: str,
    path: Path,
    *,
    status: str = "approved",
    actor: str,
    h3_res: int,
    batch_size: int = 20_000,
    progress: bool = False,
    filename: str | None = None,
    connect: Callable[[], psycopg.Connection[Any]] | None = None,
    writers: int = 2,
    match: triangulation.MatchConfig | None = None,
    triangulate: bool = True,
) -> ImportSummary:
    """Import a file. With `connect`, `writers` extra connections store batches in parallel
    (the server then uses every core while this thread parses); without it, `conn` does.

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
        chunks = iter_chunks(source, path, h3_res, chunk_rows=batch_size)
        first = next(chunks, None)
    except RowError as exc:
        raise InvalidInput(f"the file cannot be read as {source}: {exc}",
                           errors=[{"pointer": "/file", "detail": str(exc)}]) from None

    run_id = repo.start_run(conn, source=source, filename=filename or path.name,
                            sha256=file_sha256(path), actor=actor)
    conn.commit()
    summary = ImportSummary(run_id=run_id, source=source)
    bar = tqdm(desc=f"import {source}", unit=" rows", disable=not progress)

    # Parsing is Python work; storing is the database server's. Writer threads take finished
    # batches while the next ones are parsed (psycopg releases the GIL while it waits), so parsing
    # and storing overlap. Each writer commits its own batches; a batch is all-or-nothing.
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

    config = match or triangulation.MatchConfig()
    matching = triangulate and status in {s.value for s in COUNTED_STATUSES}

    def write(events: pd.DataFrame) -> tuple[int, repo.Loaded]:
        c = writer_conn()
        try:
            place = ((lambda fresh: triangulation.place_batch(c, fresh, source=source, config=config))
                     if matching else None)
            loaded = repo.store_events(c, grade_events(events), source=source, status=status,
                                       actor=actor, place=place)
            triangulation.after_links_sync(c, loaded.targets)
            c.commit()
        except BaseException:
            c.rollback()
            raise
        with lock:
            bar.update(len(events))
        return len(events), loaded

    n_writers = max(1, writers) if connect is not None else 1
    pending: list[Future[tuple[int, repo.Loaded]]] = []

    def collect(done: Future[tuple[int, repo.Loaded]]) -> None:
        n, loaded = done.result()
        summary.inserted += loaded.inserted
        summary.duplicates += n - loaded.inserted
        summary.linked += loaded.linked
        summary.queued += loaded.queued

    try:
        with ThreadPoolExecutor(max_workers=n_writers, thread_name_prefix="import-writer") as pool:
            try:
                items: Iterable[MappedChunk] = chunks if first is None else chain([first], chunks)
                for chunk in items:
                    summary.rows_read += chunk.rows
                    summary.rejects.extend(chunk.rejects)
                    if chunk.events.empty:
                        continue
                    pending.append(pool.submit(write, chunk.events))
                    while len(pending) > n_writers:  # bounded queue: memory stays flat
                        collect(pending.pop(0))
                for fut in pending:
                    collect(fut)
            except RowError as exc:
                for fut in pending:
                    fut.exception()
                raise InvalidInput(f"the file cannot be read as {source}: {exc}") from None
    finally:
        bar.close()
        for c in opened:
            c.close()
    repo.finish_run(conn, run_id, rows_read=summary.rows_read, inserted=summary.inserted,
                    duplicates=summary.duplicates, linked=summary.linked, queued=summary.queued,
                    rejects=[{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                             for r in summary.rejects], actor=actor)
    conn.commit()
    return summary
