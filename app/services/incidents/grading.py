"""Quality grade of an incident from its reports (Admiralty / NATO source grading).

Rule (documented in docs/grading.md):
- Independent sources: reports are grouped by (section, source name); a group counts as
  many sources as the largest `source_count` it holds (an aggregator like UCDP may cite several
  articles). Reports without a source name are each their own source.
- A report is *strong* when its source is usually reliable or better (A, B) and the
  information is confirmed or probably true (1, 2); *fair* when the source is at most C and the
  information at most 3.
- Grade a: ≥ 2 independent sources with at least one strong report, or ≥ 3 with at least one fair.
- Grade b: ≥ 2 independent sources, or a single strong report.
- Grade c: everything else (one uncorroborated or weak source).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportGrade:
    section: str
    source_name: str | None
    source_reliability: str
    information_credibility: int
    source_count: int = 1
    key: str = ""  # a unique fallback key for reports with no source name


def _strong(r: ReportGrade) -> bool:
    return r.source_reliability in ("A", "B") and r.information_credibility <= 2


def _fair(r: ReportGrade) -> bool:
    return r.source_reliability in ("A", "B", "C") and r.information_credibility <= 3


def independent_sources(reports: Iterable[ReportGrade]) -> int:
    groups: dict[tuple[str, str], int] = {}
    for i, r in enumerate(reports):
        name = (r.source_name or "").strip().lower()
        key = (r.section, name) if name else (r.section, f"#{r.key or i}")
        groups[key] = max(groups.get(key, 0), max(r.source_count, 1))
    return sum(groups.values())


def grade(reports: Iterable[ReportGrade]) -> tuple[str, int]:
    """Return (quality_grade, independent_sources)."""
    rs = list(reports)
    n = independent_sources(rs)
    if (n >= 2 and any(_strong(r) for r in rs)) or (n >= 3 and any(_fair(r) for r in rs)):
        return "a", n
    if n >= 2 or any(_strong(r) for r in rs):
        return "b", n
    return "c", n
