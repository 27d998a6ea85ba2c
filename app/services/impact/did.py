"""Difference in differences over cells, and the choice of comparison cells (pure functions).

A treated cell's change (after minus before, per 30 days) minus the change in comparison cells
that had a similar prior rate and got no response or patrol. Figures resting on fewer than the
minimum number of target cells (or of comparison cells) are suppressed: `None` with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import h3

MEASURES = ("incidents", "harm")
NOTE = ("An association, not a proof of effect: target cells were chosen because threat was high "
        "there (regression to the mean), comparison cells are matched on prior incidents only, "
        "and incidents are recorded more where peacekeepers go. Figures on fewer cells than the "
        "minimum are suppressed.")


@dataclass(frozen=True)
class CellObs:
    """One cell around one treatment: counts before and after, and the days each window covers."""

    cell: int
    n_before: float
    n_after: float
    harm_before: float
    harm_after: float
    before_days: float
    after_days: float

    def rate(self, measure: str, when: str) -> float:
        value = getattr(self, f"{'n' if measure == 'incidents' else 'harm'}_{when}")
        days = self.before_days if when == "before" else self.after_days
        return float(value) * 30.0 / days


def match(targets: list[CellObs], candidates: list[CellObs], per_target: int) -> list[CellObs]:
    """For each target cell, the `per_target` candidates with the closest prior incident rate
    (ties: the nearer cell), each candidate used once."""
    used: set[int] = set()
    chosen: list[CellObs] = []
    for t in sorted(targets, key=lambda c: -c.rate("incidents", "before")):
        prior = t.rate("incidents", "before")
        ranked = sorted((c for c in candidates if c.cell not in used),
                        key=lambda c: (abs(c.rate("incidents", "before") - prior),
                                       h3.grid_distance(h3.int_to_str(c.cell), h3.int_to_str(t.cell))
                                       if h3.get_resolution(h3.int_to_str(c.cell))
                                       == h3.get_resolution(h3.int_to_str(t.cell)) else 0,
                                       c.cell))
        for c in ranked[:per_target]:
            used.add(c.cell)
            chosen.append(c)
    return chosen


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def summarise(targets: list[CellObs], comparison: list[CellObs], min_cells: int) -> dict[str, Any]:
    """Counts always; per-30-day rates and the difference in differences only on enough cells."""
    out: dict[str, Any] = {
        "n_target_cells": len(targets), "n_comparison_cells": len(comparison),
        "target_incidents": {"before": int(sum(c.n_before for c in targets)),
                             "after": int(sum(c.n_after for c in targets))},
        "comparison_incidents": {"before": int(sum(c.n_before for c in comparison)),
                                 "after": int(sum(c.n_after for c in comparison))},
    }
    if len(targets) < min_cells or len(comparison) < min_cells:
        out.update(suppressed=True, reason=f"fewer than {min_cells} target or comparison cells",
                   target=None, comparison=None, prior_gap_per_30d=None,
                   difference_in_differences=None)
        return out
    out["suppressed"] = False
    for name, cells in (("target", targets), ("comparison", comparison)):
        out[name] = {m: {"before_per_30d": round(_mean([c.rate(m, "before") for c in cells]), 4),
                         "after_per_30d": round(_mean([c.rate(m, "after") for c in cells]), 4)}
                     for m in MEASURES}
    # How alike the groups were before: a large gap means the comparison is weak (the targets
    # were busier, and busy cells calm down anyway).
    out["prior_gap_per_30d"] = round(out["target"]["incidents"]["before_per_30d"]
                                     - out["comparison"]["incidents"]["before_per_30d"], 4)
    out["difference_in_differences"] = {
        m: round(_mean([c.rate(m, "after") - c.rate(m, "before") for c in targets])
                 - _mean([c.rate(m, "after") - c.rate(m, "before") for c in comparison]), 4)
        for m in MEASURES}
    return out
