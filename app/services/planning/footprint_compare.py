"""Footprint comparison (issue 13): two footprints side by side over one threat picture each.

`compare` takes scenario A (a date's bases and threat) and scenario B (another date's, or A's
bases with proposed closures and openings) and returns, per base and in total, the threat each
covers, and for every base that B closes the cells it alone covered in A that B leaves uncovered
(the question a mission's footprint exercise had to answer by hand). Pure: no SQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import h3
import numpy as np

from app.services.geo.h3cells import cell_polygon
from app.services.planning.footprint_review import GROUND, MODES, covered_counts
from app.services.planning.reach import coverage_sets


def _coverage(cells: list[dict[str, Any]], bases: list[dict[str, Any]], on: date,
              settings: Any, modes: tuple[str, ...], mission: Any
              ) -> tuple[list[dict[str, Any]], np.ndarray, list[np.ndarray], np.ndarray]:
    cells = sorted(cells, key=lambda c: c["cell"])
    centres = [h3.cell_to_latlng(c["cell"]) for c in cells]
    w = np.asarray([float(c.get("threat_score") or 0) for c in cells])
    sets = (coverage_sets(bases, centres, on, settings, modes, mission=mission) if cells
            else [np.zeros(0, int)] * len(bases))
    return cells, w, sets, covered_counts(len(cells), sets)


def _key(b: dict[str, Any]) -> str:
    """Bases are matched across dates by name (Geo-PKO keeps one row per period of a site)."""
    return str(b.get("name") or b["id"]).strip().lower()


def compare(a: dict[str, Any], b: dict[str, Any], settings: Any, *, include_air: bool = False,
            mission: Any = None) -> dict[str, Any]:
    """`a`, `b`: {"label", "as_of" (date), "cells" (threat layer), "bases"}."""
    modes = MODES if include_air else GROUND
    out: dict[str, Any] = {}
    cov: dict[str, Any] = {}
    for name, sc in (("a", a), ("b", b)):
        cells, w, sets, counts = _coverage(sc["cells"], sc["bases"], sc["as_of"], settings,
                                           modes, mission)
        total, covered = float(w.sum()), float(w[counts > 0].sum())
        cov[name] = (cells, w, sets, counts)
        out[name] = {
            "label": sc["label"], "as_of": sc["as_of"].isoformat(), "bases": len(sc["bases"]),
            "cells": len(cells), "threat_total": round(total, 3),
            "threat_covered": round(covered, 3),
            "threat_covered_share": round(covered / total, 4) if total > 0 else 0.0,
            "high_threat_cells_uncovered": int(sum(
                1 for i, c in enumerate(cells)
                if counts[i] == 0 and c.get("threat_level") in ("high", "critical"))),
        }
    rows: dict[str, dict[str, Any]] = {}
    for name, sc in (("a", a), ("b", b)):
        cells, w, sets, counts = cov[name]
        total = float(w.sum())
        for base, s in zip(sc["bases"], sets, strict=True):
            r = rows.setdefault(_key(base), {"name": base.get("name"), "a": None, "b": None})
            r[name] = {"id": str(base["id"]), "kind": base.get("kind"),
                       "latitude": base["latitude"], "longitude": base["longitude"],
                       "threat_in_reach": round(float(w[s].sum()), 3),
                       "share_of_mission_threat": round(float(w[s].sum()) / total, 4)
                       if total > 0 else 0.0,
                       "cells_in_reach": int(len(s))}
    # What each closure leaves uncovered: cells it alone covered in A that B covers with nothing.
    cells_a, w_a, sets_a, counts_a = cov["a"]
    cells_b, _, _, counts_b = cov["b"]
    covered_b = {c["cell"] for i, c in enumerate(cells_b) if counts_b[i] > 0}
    in_b = {_key(x) for x in b["bases"]}
    closures = []
    for base, s in zip(a["bases"], sets_a, strict=True):
        if _key(base) in in_b:
            continue
        alone = [int(i) for i in s if counts_a[i] == 1 and cells_a[i]["cell"] not in covered_b]
        closures.append({
            "base": base.get("name"), "id": str(base["id"]),
            "threat_left_uncovered": round(float(w_a[alone].sum()) if alone else 0.0, 3),
            "cells_left_uncovered": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": cells_a[i]["cell"],
                 "geometry": cell_polygon(cells_a[i]["cell"]),
                 "properties": {"threat_score": float(w_a[i]),
                                "threat_level": cells_a[i].get("threat_level")}}
                for i in sorted(alone, key=lambda i: -w_a[i])]},
        })
    in_a = {_key(x) for x in a["bases"]}
    openings = [{"base": x.get("name"), "id": str(x["id"])} for x in b["bases"]
                if _key(x) not in in_a]
    return {"a": out["a"], "b": out["b"],
            "change": {"threat_covered_share": round(out["b"]["threat_covered_share"]
                                                     - out["a"]["threat_covered_share"], 4)},
            "bases": sorted(rows.values(), key=lambda r: str(r["name"])),
            "closures": sorted(closures, key=lambda c: -c["threat_left_uncovered"]),
            "openings": openings}
