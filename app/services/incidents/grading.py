"""Quality grade of an incident from its reports (Admiralty / NATO source grading).

Rule (documented in docs/grading.md):
- Independent sources: reports are grouped by (section, source name), and reports that cite a
  common outlet (`cites`: two imports of one wire story) join one group. A group counts as many
  sources as the largest `source_count` it holds (an aggregator like UCDP may cite several
  articles) plus the outlets the others cite that this one does not. Reports without a source
  name and without citations are each their own source.
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
    cites: tuple[str, ...] = ()  # normalised outlets the report draws on


def _strong(r: ReportGrade) -> bool:
    return r.source_reliability in ("A", "B") and r.information_credibility <= 2


def _fair(r: ReportGrade) -> bool:
    return r.source_reliability in ("A", "B", "C") and r.information_credibility <= 3


def independent_sources(reports: Iterable[ReportGrade]) -> int:
    rs = list(reports)
    parent = list(range(len(rs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}  # a group key or an outlet -> first report holding it
    for i, r in enumerate(rs):
        name = (r.source_name or "").strip().lower()
        keys = [(r.section, name) if name else (r.section, f"#{r.key or i}")]
        keys += [("", f"cite:{c}") for c in r.cites]
        for k in keys:
            j = first.setdefault(k, i)
            parent[find(i)] = find(j)
    groups: dict[int, list[ReportGrade]] = {}
    for i, r in enumerate(rs):
        groups.setdefault(find(i), []).append(r)
    total = 0
    for members in groups.values():
        base = max(members, key=lambda r: (max(r.source_count, 1), len(r.cites)))
        others = set().union(*(m.cites for m in members)) - set(base.cites)
        total += max(base.source_count, 1) + len(others)
    return total


def grade(reports: Iterable[ReportGrade]) -> tuple[str, int]:
    """Return (quality_grade, independent_sources)."""
    rs = list(reports)
    n = independent_sources(rs)
    if (n >= 2 and any(_strong(r) for r in rs)) or (n >= 3 and any(_fair(r) for r in rs)):
        return "a", n
    if n >= 2 or any(_strong(r) for r in rs):
        return "b", n
    return "c", n
