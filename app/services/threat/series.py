"""Time slider: the threat level of every cell at each step of a date range, as a delta stream.

Step k ends at `start + k * step_days` (up to `end`); its layer is the usual one for
`as_of` = that instant and the request's `window_days` (same filters, same role rules, no
emerging pattern). A step lists only the cells whose level changed since the previous step
(`level` null: the cell left the layer), so the workbench plays the whole range from one
response. Computed in one pass over the event store: every (step, event) pair in the step's
window is weighted with that step's decay and summed per (step, cell) by one bincount. Without a
store (not loaded yet, a log gap, a bbox too large for a cell list) each step's layer is computed
the usual way, which is exact and slower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import InvalidInput
from app.services.geo.h3cells import to_str
from app.services.threat import event_store
from app.services.threat import layer as layers
from app.services.threat import score as scoring
from app.settings import Settings

MAX_STEPS = 400
LEVEL_NAMES = scoring.LEVELS  # codes 0..3; -1 = not in the layer


@dataclass
class SeriesQuery:
    start: datetime
    end: datetime
    step_days: int = 7
    layer: layers.HotspotQuery | None = None  # res, window_days, filters and role of each step


def _bad(pointer: str, detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": f"/query/{pointer}", "detail": detail}])


def step_ends(q: SeriesQuery) -> list[datetime]:
    if q.end < q.start:
        raise _bad("end", "end is before start")
    if not 1 <= q.step_days <= 366:
        raise _bad("step_days", "step_days must be between 1 and 366")
    n = math.floor((q.end - q.start) / timedelta(days=q.step_days)) + 1
    if n > MAX_STEPS:
        raise _bad("step_days", f"at most {MAX_STEPS} steps: widen step_days or narrow the range")
    return [q.start + timedelta(days=q.step_days * k) for k in range(n)]


async def level_series_json(session: AsyncSession, q: SeriesQuery, settings: Settings, *,
                            gzip: bool = False) -> bytes:
    """The serialised delta stream, cached per data version like the layers (gzip-compressed
    when `gzip`)."""
    assert q.layer is not None
    lq = replace(q.layer, with_pattern=False, as_of=None, start=None, end=None,
                 min_level=None)
    ends = step_ends(q)
    layers.validate(lq, settings)
    key = await layers.cache_key(session, "series", lq, settings, q.start, q.end, q.step_days)
    body = layers._BYTES.get(key) if key is not None else None
    if body is None:
        levels, cells = await _levels(session, lq, ends, settings, key)
        body = orjson.dumps({
            "resolution": lq.res, "start": q.start.isoformat(), "end": q.end.isoformat(),
            "step_days": q.step_days, "window_days": lq.window_days,
            "steps": _deltas(levels, cells, ends)})
        if key is not None:
            layers._BYTES.put(key, body)
    return layers.gzipped(key, body) if gzip else body


def _deltas(levels: np.ndarray, cells: list[str], ends: list[datetime]) -> list[dict[str, Any]]:
    out = []
    before = np.full(levels.shape[1], -1, dtype=np.int8)
    for k, at in enumerate(ends):
        now = levels[k]
        changed = np.flatnonzero(now != before).tolist()
        out.append({"as_of": at.isoformat(),
                    "changes": [{"cell": cells[i],
                                 "level": LEVEL_NAMES[now[i]] if now[i] >= 0 else None}
                                for i in changed]})
        before = now
    return out


async def _levels(session: AsyncSession, lq: layers.HotspotQuery, ends: list[datetime],
                  settings: Settings, key: tuple[Any, ...] | None
                  ) -> tuple[np.ndarray, list[str]]:
    """Level code per (step, cell) and the cells' strings."""
    if key is not None:
        found = await event_store.view(session, key[1][1])
        if found is not None:
            done = _from_store(found, lq, ends, settings)
            if done is not None:
                return done
    return await _from_layers(session, lq, ends, settings)


async def _from_layers(session: AsyncSession, lq: layers.HotspotQuery, ends: list[datetime],
                       settings: Settings) -> tuple[np.ndarray, list[str]]:
    per_step = [{c["cell"]: c["threat_level"] for c in
                 await layers.threat_layer(session, replace(lq, as_of=at), settings)}
                for at in ends]
    cells = sorted({c for step in per_step for c in step})
    at = {c: i for i, c in enumerate(cells)}
    levels = np.full((len(ends), len(cells)), -1, dtype=np.int8)
    for k, step in enumerate(per_step):
        for c, lvl in step.items():
            levels[k, at[c]] = LEVEL_NAMES.index(lvl)
    return levels, cells


def _from_store(v: event_store.View, lq: layers.HotspotQuery, ends: list[datetime],
                settings: Settings) -> tuple[np.ndarray, list[str]] | None:
    window = timedelta(days=lq.window_days)
    w = layers.Window(ends[0] - window, ends[-1], 7, 1)
    f = layers.cell_filter(lq, w, settings)
    ev = event_store.select(v, f)
    if ev is None:
        return None
    ev.pop("_parents", None)
    order = np.argsort(ev["t_us"], kind="stable")
    ev = {k: a[order] for k, a in ev.items()}
    t = ev["t_us"]
    cells, inv = np.unique(event_store.parent_cells(ev["cell"], lq.res), return_inverse=True)
    m, steps = len(cells), len(ends)
    if m == 0:  # no event matches the filter: no cell at any step
        return np.full((steps, 0), -1, dtype=np.int8), []
    ends_us = np.array([event_store._us(e) for e in ends], dtype=np.int64)
    starts_us = np.array([event_store._us(e - window) for e in ends], dtype=np.int64)
    lo = np.searchsorted(t, starts_us, "left")
    hi = np.searchsorted(t, ends_us, "right")
    terms = scoring.threat_terms(settings)
    cred_table, crsv_floor = event_store._tables(terms)
    sign = ev["sign"].astype(np.float64)
    c = cred_table[ev["status"] + 1, ev["grade"] + 1] * sign
    harm = scoring.event_harm(ev["fatalities"], ev["injured"], ev["children"], ev["displaced"],
                              terms)
    crsv = np.maximum(ev["crsv"].astype(np.float64), crsv_floor[ev["category"] + 1])
    harm_sum, crsv_sum, count = (np.zeros((steps, m)) for _ in range(3))
    # Steps in chunks of ~2M (step, event) pairs: bounded scratch memory, few numpy calls.
    per_step = max(int((hi - lo).max(initial=1)), 1)
    chunk = max(1, 2_000_000 // per_step)
    for k0 in range(0, steps, chunk):
        ks = np.arange(k0, min(steps, k0 + chunk))
        sizes = hi[ks] - lo[ks]
        total = int(sizes.sum())
        local = np.repeat(np.arange(len(ks)), sizes)
        idx = (np.repeat(lo[ks] - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
               + np.arange(total))
        cd = c[idx] * scoring.decay((ends_us[ks][local] - t[idx]) / event_store.US_PER_DAY,
                                    terms)
        slot = local * m + inv[idx]
        size = len(ks) * m
        harm_sum[ks] = np.bincount(slot, weights=cd * harm[idx], minlength=size).reshape(-1, m)
        crsv_sum[ks] = np.bincount(slot, weights=cd * crsv[idx], minlength=size).reshape(-1, m)
        count[ks] = np.rint(np.bincount(slot, weights=sign[idx], minlength=size)).reshape(-1, m)
    cell_strings = [to_str(x) for x in cells.tolist()]
    vul = (np.array([layers.vulnerability(x, settings) for x in cells.tolist()])
           if settings.vulnerability_layer else np.ones(m))
    score = scoring.threat_score(harm_sum, crsv_sum, settings, vul[None, :])
    medium, high, critical = settings.threat_level_thresholds
    levels = np.select([score >= critical, score >= high, score >= medium], [3, 2, 1],
                       default=0).astype(np.int8)
    floor = settings.partner_min_count if lq.role == Role.partner else 1
    present = count >= floor
    if lq.bbox is not None:  # the layer drops cells beyond the bbox's edge
        present &= np.array([layers._in_bbox(c, lq.bbox, lq.res) for c in cell_strings])[None, :]
    return np.where(present, levels, -1).astype(np.int8), cell_strings
