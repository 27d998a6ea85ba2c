"""Import orchestration: parse → grade → batch → repository. Good rows commit batch by batch;
bad rows are reported with their reasons and never block the rest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from app.domain import Status
from app.errors import InvalidInput
from app.repositories import imports as repo
from app.services.grading import ReportGrade, grade
from app.services.importers import ParsedEvent, Reject, RowError, iter_source

SOURCES = ("ucdp", "acled")


@dataclass
class ImportSummary:
    run_id: str
    source: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.run_id, "source": self.source, "rows_read": self.rows_read,
            "inserted": self.inserted, "duplicates": self.duplicates, "rejected": len(self.rejects),
            "rejects": [{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                        for r in self.rejects[:1000]],
        }

    def render(self) -> str:
        lines = [f"{self.source}: read {self.rows_read} rows, inserted {self.inserted}, "
                 f"already present {self.duplicates}, rejected {len(self.rejects)}"]
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


def graded(e: ParsedEvent) -> tuple[ParsedEvent, str, int]:
    g, n = grade([ReportGrade(e.section, e.source_name, e.source_reliability,
                              e.information_credibility, e.source_count)])
    return e, g, n


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
) -> ImportSummary:
    if source not in SOURCES:
        raise InvalidInput(f"unknown source {source!r}", errors=[{"pointer": "/source",
                           "detail": "one of ucdp, acled"}])
    if status not in {s.value for s in Status}:
        raise InvalidInput(f"unknown status {status!r}", errors=[{"pointer": "/status",
                           "detail": "entered, validated, approved or rejected"}])
    try:
        rows = iter_source(source, path, h3_res)
        first = next(rows, None)
    except RowError as exc:
        raise InvalidInput(f"the file cannot be read as {source}: {exc}",
                           errors=[{"pointer": "/file", "detail": str(exc)}]) from None

    repo.prepare(conn)
    run_id = repo.start_run(conn, source=source, filename=filename or path.name,
                            sha256=file_sha256(path), actor=actor)
    conn.commit()
    summary = ImportSummary(run_id=run_id, source=source)
    batch: list[tuple[ParsedEvent, str, int]] = []
    bar = tqdm(desc=f"import {source}", unit=" rows", disable=not progress)

    def flush() -> None:
        if batch:
            new = repo.load_batch(conn, batch, source=source, status=status, actor=actor)
            conn.commit()
            summary.inserted += new
            summary.duplicates += len(batch) - new
            bar.update(len(batch))
            batch.clear()

    def consume(item: tuple[int, ParsedEvent | Reject]) -> None:
        summary.rows_read += 1
        _, ev = item
        if isinstance(ev, Reject):
            summary.rejects.append(ev)
        else:
            batch.append(graded(ev))
            if len(batch) >= batch_size:
                flush()

    try:
        if first is not None:
            consume(first)
            for item in rows:
                consume(item)
        flush()
    except RowError as exc:
        conn.rollback()
        raise InvalidInput(f"the file cannot be read as {source}: {exc}") from None
    finally:
        bar.close()
    repo.finish_run(conn, run_id, rows_read=summary.rows_read, inserted=summary.inserted,
                    duplicates=summary.duplicates,
                    rejects=[{"row": r.row, "external_id": r.external_id, "reason": r.reason}
                             for r in summary.rejects], actor=actor)
    conn.commit()
    return summary
