"""What a plan or a review maximises: each cell's weight in the objective — its current threat
alone, or a blend with the forecast's expected harm (`forecast_weight`, docs/patrols.md)."""

from __future__ import annotations

from typing import Any

import numpy as np


def blend(
    cells: list[dict[str, Any]],
    forecast: dict[str, dict[str, Any]] | None,
    weight: float,
    min_p: float,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The cells to consider (sorted by id) and each one's weight in the objective."""
    if forecast is None or weight <= 0:
        out = sorted(cells, key=lambda c: c["cell"])
        return out, np.asarray([float(c.get("threat_score") or 0) for c in out])
    known = {c["cell"] for c in cells}
    extra = [
        {"cell": cid, "threat_score": 0.0, "threat_level": "low", "forecast_only": True}
        for cid, f in forecast.items()
        if cid not in known and float(f.get("p_incident") or 0) >= min_p
    ]
    out = sorted([*cells, *extra], key=lambda c: c["cell"])
    threat = np.asarray([float(c.get("threat_score") or 0) for c in out])
    harm = np.asarray(
        [float((forecast.get(c["cell"]) or {}).get("expected_harm") or 0) for c in out]
    )
    t_sum, h_sum = float(threat.sum()), float(harm.sum())
    w = np.zeros(len(out))
    if t_sum > 0:
        w += (1.0 - weight) * threat / t_sum
    if h_sum > 0:
        w += weight * harm / h_sum
    for c in out:
        f = forecast.get(c["cell"])
        if f is not None:
            c["forecast"] = {
                "expected_harm": f.get("expected_harm"),
                "p_incident": f.get("p_incident"),
                "expected_incidents_high": f.get("expected_incidents_high"),
            }
    return out, w
