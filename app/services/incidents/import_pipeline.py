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

from app.domain import Status
from app.errors import InvalidInput
from app.repositories import imports as repo
from app.services.incidents.grading import ReportGrade, grade
from app.services.incidents.import_mapping import MappedChunk, ParsedEvent, Reject, RowError, iter_chunks
from app.services.missions.profile import Mission

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.run_id, "source": self.source, "rows_read": self.rows_read,
            "inserted": self.inserted, "duplicates": self.duplicates, "rejected": len(self.rejects),
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
    mission: Mission | None = None,
    skip_outside: bool = False,
) -> ImportSummary:
    """Import a file. With `connect`, `writers` extra connections store batches in parallel
    (the server then uses every core while this thread parses); without it, `conn` does.

    With a `mission`, imported incidents are assigned to it, rows located outside its area are
    counted (`outside_area`) and kept, or dropped with `skip_outside`; an import never guesses a
    mission. The source's place names then feed that mission's gazetteer."""
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source!r}", errors=[{"pointer": "/source",
                           "detail": "one of ucdp, acled"}])
    if status not in {s.value for s in Status}:
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
    summary = ImportSummary(run_id=run_id, source=source,
                            mission=mission.code if mission is not None else None)
    mission_code = mission.code if mission is not None else None
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

    def write(events: pd.DataFrame) -> tuple[int, int]:
        c = writer_conn()
        try:
            new = repo.load_events(c, grade_events(events), source=source, status=status,
                                   actor=actor, mission_code=mission_code)
            c.commit()
        except BaseException:
            c.rollback()
            raise
        with lock:
            bar.update(len(events))
        return new, len(events) - new

    n_writers = max(1, writers) if connect is not None else 1
    pending: list[Future[tuple[int, int]]] = []

    def collect(done: Future[tuple[int, int]]) -> None:
        new, dup = done.result()
        summary.inserted += new
        summary.duplicates += dup

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
            except RowError as exc:
                for fut in pending:
                    fut.exception()
                raise InvalidInput(f"the file cannot be read as {source}: {exc}") from None
    finally:
        bar.close()
        for c in opened:
            c.close()
    if mission is not None:
        summary.places = repo.refresh_places(conn, source, mission_code)
    repo.finish_run(conn, run_id, rows_read=summary.rows_read, inserted=summary.inserted,
                    duplicates=summary.duplicates,
                    rejects=[{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                             for r in summary.rejects], actor=actor,
                    mission_code=mission_code, outside_area=summary.outside_area)
    conn.commit()
    return summary
