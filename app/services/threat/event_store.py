"""In-process event store: every counted incident's threat-relevant columns as numpy arrays, kept
current from the incident change log, so that a window nothing was computed for yet is summed
per cell in numpy instead of re-aggregated row by row in SQL.

Why not pre-aggregated rows in PostGIS: on the bench's 1M incidents (5 years, CAR), keys of
(res-6 cell, day, category, status, grade, precision) number 966,580: a rollup table would hold
97 % of the rows it summarises, so reading it costs what reading the incidents costs. The cost
of the uncached layer was per-row work in the executor (exp, ln, CASEs, FILTERs, the per-step
series, perpetrator unnesting) and per-row Python; numpy does the same sums over columns 50-100x
faster per row. The store holds ~47 bytes per incident (1M incidents: ~47 MB per process) and
is held on the threat layer's one memory budget (`KINGA_LAYER_CACHE_MB`): the caches shrink to the
rest; a base above `KINGA_THREAT_EVENT_STORE_SHARE` of the budget is refused (the SQL path).

Exact and never stale:
- the base is loaded in one REPEATABLE READ snapshot together with its data version V0;
- a request at version V (read before the data, as for every cache key) adds the change log's
  signed images stamped in (V0, V] (rows are plain sums, so base + signed changes = the data at
  V, as in cell_sums.py); the log is trusted only when it is complete from V0 (`log_since`);
- a transaction that has written, a version older than the base, a log gap (an import batch too
  large to log, a truncation, a pruned log) or a filter the store cannot evaluate (a spatial
  bbox too large to turn into cells) answer None: the caller aggregates in SQL, and a reload is
  scheduled in the background (`refresh`), so the next requests use the store again.
The per-event terms are score.py's own definitions evaluated over arrays; a PostGIS test checks
that layers from the store equal layers aggregated in SQL after random writes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.domain import ThreatTerms
from app.repositories import hotspots as hot_repo
from app.repositories import threat_events as repo
from app.services.threat import score as scoring
from app.services.threat.cache import LAYER_BUDGET
from app.services.threat.cell_sums import NUMERIC, LayerSums

log = logging.getLogger(__name__)

US_PER_DAY = 86_400 * 1_000_000
NCAT = len(repo.CATEGORIES)
STATUS_CODE = {s: k for k, s in enumerate(repo.STATUSES)}
GRADE_CODE = {g: k for k, g in enumerate(repo.GRADES)}
CATEGORY_CODE = {c: k for k, c in enumerate(repo.CATEGORIES)}
# Rebuild the base once the signed changes on top of it reach this share of it.
DELTA_SHARE = 0.05


@dataclass
class _Events:
    """Columns of events with a sign (+1 base rows, +-1 logged images) and a version stamp."""

    cols: dict[str, np.ndarray]
    # Per resolution: the sorted distinct parent cells and each row's index among them, so a
    # query groups by bincount instead of sorting its rows (computed on first use).
    parents: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cols["t_us"])

    def parent_codes(self, res: int) -> tuple[np.ndarray, np.ndarray]:
        found = self.parents.get(res)
        if found is None:
            uniq, codes = np.unique(parent_cells(self.cols["cell"], res), return_inverse=True)
            found = self.parents[res] = (uniq, codes.astype(np.int32))
        return found

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.cols.values())


def _empty_delta() -> dict[str, np.ndarray]:
    out = {name: np.zeros(0, dtype=dt) for name, dt in repo.NATIVE.items()}
    out["sign"] = np.zeros(0, dtype=np.int8)
    out["stamp"] = np.zeros(0, dtype=np.int64)
    return out


@dataclass
class EventStore:
    base: _Events | None = None
    version: int = 0                     # the base's data version
    perpetrators: list[tuple[str, ...]] = field(default_factory=list)
    perp_code: dict[tuple[str, ...], int] = field(default_factory=dict)
    delta: dict[str, np.ndarray] = field(default_factory=_empty_delta)
    delta_until: int = 0                 # the log has been read up to this version
    max_bytes: int = 256 << 20
    loads: int = 0
    refused_version: int | None = None   # a base over the budget was refused at this version
    enabled: bool = True                 # tests switch it off to compare with the SQL path
    loading: int = 0                     # loads in progress

    @property
    def nbytes(self) -> int:
        return (0 if self.base is None else self.base.nbytes) + sum(
            a.nbytes for a in self.delta.values())

    def install(self, loaded: repo.EventColumns) -> bool:
        """Adopt a freshly loaded base (unless it is older than the one held)."""
        if self.base is not None and loaded.version < self.version:
            return False
        events = _Events(loaded.columns)
        if events.nbytes > self.max_bytes:
            log.warning("threat event store: %d incidents (%d MB) exceed the budget; the layer "
                        "aggregates in SQL", len(events), events.nbytes >> 20)
            self.clear()
            self.refused_version = loaded.version
            return False
        self.base, self.version, self.refused_version = events, loaded.version, None
        LAYER_BUDGET.reserve(events.nbytes)
        self.perpetrators = list(loaded.perpetrators)
        self.perp_code = {p: k for k, p in enumerate(self.perpetrators)}
        self.delta, self.delta_until = _empty_delta(), loaded.version
        self.loads += 1
        return True

    def clear(self) -> None:
        LAYER_BUDGET.reserve(0)
        self.base, self.version, self.delta_until = None, 0, 0
        self.delta = _empty_delta()
        self.perpetrators, self.perp_code = [], {}

    def _code(self, names: list[str] | None) -> int:
        key = tuple(names or ())
        found = self.perp_code.get(key)
        if found is None:
            found = self.perp_code[key] = len(self.perpetrators)
            self.perpetrators.append(key)
        return found

    def _append(self, rows: list[dict[str, Any]]) -> None:
        rows = [r for r in rows if r["stamp"] > self.delta_until]
        if not rows:
            return
        new = {name: np.array([r[name] for r in rows], dtype=dt)
               for name, dt in repo.NATIVE.items() if name != "perps"}
        new["perps"] = np.array([self._code(r["perpetrators"]) for r in rows], dtype=np.int32)
        new["sign"] = np.array([r["sign"] for r in rows], dtype=np.int8)
        new["stamp"] = np.array([r["stamp"] for r in rows], dtype=np.int64)
        self.delta = {k: np.concatenate([self.delta[k], new[k]]) for k in self.delta}


STORE = EventStore()
_loader: Callable[[], Awaitable[repo.EventColumns | None]] | None = None
_on_stale: Callable[[], None] | None = None


def configure(loader: Callable[[], Awaitable[repo.EventColumns | None]] | None,
              max_bytes: int, on_stale: Callable[[], None] | None = None) -> None:
    """Called by the threat warm-up worker at start-up: how to load a base (on its own
    connection), the memory budget, and how to ask it for a rebuild. Without a loader the store
    stays empty (SQL path)."""
    global _loader, _on_stale
    _loader, _on_stale = loader, on_stale
    STORE.max_bytes = max_bytes
    if loader is None:
        STORE.clear()


async def reload() -> bool:
    """Load a new base now (in the caller's task). False when there is no loader or no data
    version."""
    if _loader is None:
        return False
    STORE.loading += 1
    try:
        loaded = await _loader()
    finally:
        STORE.loading -= 1
    return loaded is not None and STORE.install(loaded)


def status() -> str:
    """"off" (no loader: SQL only), "loading" (no base yet, or a rebuild running) or "ready"."""
    if _loader is None:
        return "off"
    return "ready" if STORE.base is not None and not STORE.loading else "loading"


def cells_at(res: int) -> np.ndarray:
    """The distinct cells at `res` of the loaded base's events (empty when nothing is loaded);
    indexes the base at that resolution, as a layer request would."""
    base = STORE.base
    return np.zeros(0, dtype=np.int64) if base is None else base.parent_codes(res)[0]


def refresh() -> None:
    """Ask for a rebuild (the warm-up worker does it in the background; requests never wait)."""
    if _on_stale is not None:
        _on_stale()


@dataclass
class View:
    """The store's events as of one data version: the base plus the logged images up to it."""

    base: _Events
    delta: dict[str, np.ndarray]
    perpetrators: list[tuple[str, ...]]
    version: int


async def view(session: Any, version: int) -> View | None:
    """The events at `version` (the version this request read before its data), or None when the
    store cannot answer exactly (the caller aggregates in SQL)."""
    store = STORE
    if not store.enabled:
        return None
    if store.base is None:
        if store.refused_version is None:
            refresh()
        return None
    if version < store.version:
        return None
    if version > store.delta_until:
        ch = await repo.changes(session, store.delta_until, version)
        if ch.rows is None or ch.dirty or ch.log_since is None or ch.log_since > store.version:
            refresh()  # the log cannot bridge the gap (e.g. an import batch): rebuild the base
            return None
        if store.base is None or store.version > version:
            return None  # replaced while we waited
        store._append(ch.rows)
        store.delta_until = max(store.delta_until, version)
        if len(store.delta["t_us"]) > DELTA_SHARE * max(len(store.base), 1000):
            refresh()
    delta = store.delta
    if len(delta["stamp"]) and delta["stamp"][-1] > version:
        keep = delta["stamp"] <= version
        delta = {k: v[keep] for k, v in delta.items()}
    return View(store.base, delta, store.perpetrators, version)


def _select(cols: dict[str, np.ndarray], f: hot_repo.CellFilter, rows: slice | np.ndarray,
            perp_match: np.ndarray | None, status_ok: np.ndarray, grade_ok: np.ndarray | None,
            cat_ok: np.ndarray | None) -> dict[str, np.ndarray]:
    """The filtered rows of one event set (columns restricted to `rows` first)."""
    c = {k: v[rows] for k, v in cols.items()}
    mask = (c["radius"] <= f.max_radius_m) & status_ok[c["status"] + 1]
    if grade_ok is not None:
        mask &= grade_ok[c["grade"] + 1]
    if cat_ok is not None:
        mask &= cat_ok[c["category"] + 1]
    if perp_match is not None:
        mask &= perp_match[c["perps"]]
    if f.cells is not None:
        mask &= np.isin(parent_cells(c["cell"], f.res), np.asarray(f.cells, dtype=np.int64))
    return {k: v[mask] for k, v in c.items()}


def parent_cells(cells: np.ndarray, res: int) -> np.ndarray:
    """The parent at `res` of res-9 (or finer) H3 indexes, by the bit operation of
    app.services.geo.h3cells.parent_int (and sql_fragments.h3_parent)."""
    unused = np.int64((1 << (3 * (15 - res))) - 1)
    return (cells & ~np.int64(0xF << 52)) | np.int64(res << 52) | unused


def _lookup(values: tuple[str, ...], allowed: list[str] | None) -> np.ndarray | None:
    """Boolean table indexed by code + 1 (code -1 = unknown value, never allowed)."""
    if allowed is None:
        return None
    return np.array([False] + [v in allowed for v in values])


def _perp_match(perpetrators: list[tuple[str, ...]], needle: str | None) -> np.ndarray | None:
    """Per perpetrator list: does the layer's ILIKE filter (a case-insensitive substring of the
    names joined by U+001F) match it."""
    if not needle:
        return None
    low = needle.lower()
    return np.array([low in "\x1f".join(p).lower() for p in perpetrators] or [False])


def select(v: View, f: hot_repo.CellFilter) -> dict[str, np.ndarray] | None:
    """The events the filter keeps (base rows in the window, then logged images), with their
    sign; None when the filter needs what the store does not hold (a spatial bbox)."""
    if f.bbox is not None:
        return None
    start_us, end_us = _us(f.start), _us(f.end)
    t = v.base.cols["t_us"]
    rows = slice(int(np.searchsorted(t, start_us, "left")),
                 int(np.searchsorted(t, end_us, "right")))
    status_ok = _lookup(repo.STATUSES, f.statuses)
    assert status_ok is not None
    grade_ok, cat_ok = _lookup(repo.GRADES, f.grades), _lookup(repo.CATEGORIES, f.categories)
    perp_match = _perp_match(v.perpetrators, f.perpetrator)
    uniq, codes = v.base.parent_codes(f.res)
    base = _select({**v.base.cols, "pcode": codes}, f, rows, perp_match, status_ok, grade_ok,
                   cat_ok)
    base["sign"] = np.ones(len(base["t_us"]), dtype=np.int8)
    base["_parents"] = uniq  # not a column: the cells `pcode` indexes
    if not len(v.delta["t_us"]):
        return base
    d = v.delta
    in_window = (d["t_us"] >= start_us) & (d["t_us"] <= end_us)
    extra = _select(d, f, np.flatnonzero(in_window), perp_match, status_ok, grade_ok, cat_ok)
    parents = parent_cells(extra["cell"], f.res)
    at = np.minimum(np.searchsorted(uniq, parents), max(len(uniq) - 1, 0))
    known = len(uniq) > 0 and bool((uniq[at] == parents).all()) if len(parents) else True
    extra["pcode"] = at.astype(np.int32) if known else np.full(len(parents), -1, np.int32)
    out = {k: np.concatenate([base[k], extra[k]]) for k in base if k != "_parents"}
    if known:
        out["_parents"] = uniq
    return out


def sums(v: View, f: hot_repo.CellFilter, terms: ThreatTerms, *, steps: int, with_series: bool,
         with_perpetrators: bool) -> LayerSums | None:
    """The per-cell sums `repositories.hotspots.cell_sums` computes, from the store's columns.
    None when the filter needs what the store does not hold (a spatial bbox)."""
    ev = select(v, f)
    if ev is None:
        return None
    return _cell_sums(ev, v, f, terms, steps=steps, with_series=with_series,
                      with_perpetrators=with_perpetrators, end_us=_us(f.end))


def _us(t: Any) -> int:
    """A timezone-aware datetime as integer microseconds since the epoch (exact)."""
    from datetime import UTC, datetime

    delta = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _tables(terms: ThreatTerms) -> tuple[np.ndarray, np.ndarray]:
    """score.py's credibility per (status code + 1, grade code + 1) and CRSV floor per category
    code + 1: the definitions evaluated once per code, then looked up per event."""
    cred = np.zeros((len(repo.STATUSES) + 1, len(repo.GRADES) + 1))
    for s, i in STATUS_CODE.items():
        for g, j in GRADE_CODE.items():
            cred[i + 1, j + 1] = scoring.credibility(s, g, terms)
    floor = np.array([0.0] + [scoring.event_crsv(c, 0, terms) for c in repo.CATEGORIES])
    return cred, floor


def _cell_sums(ev: dict[str, np.ndarray], v: View, f: hot_repo.CellFilter, terms: ThreatTerms, *,
               steps: int, with_series: bool, with_perpetrators: bool, end_us: int
               ) -> LayerSums:
    n = len(ev["t_us"])
    if "_parents" in ev:  # group by the precomputed parent index: no sort
        used = np.bincount(ev["pcode"], minlength=len(ev["_parents"])) > 0
        cells = ev["_parents"][used]
        inv = (np.cumsum(used) - 1)[ev["pcode"]]
    else:
        cells, inv = np.unique(parent_cells(ev["cell"], f.res), return_inverse=True)
    m = len(cells)
    sign = ev["sign"].astype(np.float64)
    age_us = end_us - ev["t_us"]
    age = age_us / US_PER_DAY
    ago = np.minimum(age_us // (f.step_days * US_PER_DAY), steps - 1)
    cred_table, crsv_floor = _tables(terms)
    c = cred_table[ev["status"] + 1, ev["grade"] + 1] * sign
    cd = c * scoring.decay(age, terms) if n else np.zeros(0)
    harm = scoring.event_harm(ev["fatalities"], ev["injured"], ev["children"], ev["displaced"],
                              terms) if n else np.zeros(0)
    crsv_term = np.maximum(ev["crsv"].astype(np.float64), crsv_floor[ev["category"] + 1])
    x = (steps - 1 - ago).astype(np.float64)
    centre = (steps - 1) / 2.0

    def per_cell(weights: np.ndarray) -> np.ndarray:
        return np.bincount(inv, weights=weights, minlength=m) if n else np.zeros(m)

    columns = {
        "incidents": per_cell(sign), "fatalities": per_cell(sign * ev["fatalities"]),
        "crsv": per_cell(sign * ev["crsv"]), "likelihood": per_cell(cd),
        "harm": per_cell(cd * harm), "crsv_harm": per_cell(cd * crsv_term),
        "trend_num": per_cell(c * (x - centre)),
    }
    values = np.column_stack([columns[k] for k in NUMERIC]) if m else np.zeros((0, len(NUMERIC)))
    cat_ok = ev["category"] >= 0
    cats = np.bincount(inv[cat_ok] * NCAT + ev["category"][cat_ok].astype(np.int64),
                       weights=sign[cat_ok], minlength=m * NCAT).reshape(m, NCAT)
    series = None
    if with_series:
        # float64 even when no event counts (bincount of nothing answers int64)
        series = np.bincount(inv * steps + (steps - 1 - ago), weights=c,
                             minlength=m * steps).astype(np.float64).reshape(m, steps)
    perps = top = None
    if with_perpetrators:
        perps, top = _perp_counts(inv, ev["perps"], sign, v.perpetrators, m)
    keep = np.rint(values[:, 0]) > 0  # cells whose incidents were all removed by the log
    if not keep.all():
        cells, values, cats = cells[keep], values[keep], cats[keep]
        series = None if series is None else series[keep]
        rows = np.flatnonzero(keep).tolist()
        perps = None if perps is None else [perps[i] for i in rows]
        top = None if top is None else [top[i] for i in rows]
    return LayerSums(cells, values, np.rint(cats).astype(np.int64), series, perps, v.version,
                     top_perps=top)


_NAME_INDEX: list[Any] = [None, -1, None]  # the list indexed, its length then, the index


def _name_index(perpetrators: list[tuple[str, ...]]
                ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The sorted distinct names of the store's perpetrator lists, and per list its length, its
    names' ids (flattened) and its offset there. Remembered for the last list indexed: the store
    only appends to it (a new length is a new index)."""
    if _NAME_INDEX[0] is perpetrators and _NAME_INDEX[1] == len(perpetrators):
        return _NAME_INDEX[2]  # type: ignore[no-any-return]
    names = sorted({n for p in perpetrators for n in p})
    name_id = {n: k for k, n in enumerate(names)}
    lengths = np.array([len(p) for p in perpetrators], dtype=np.int64)
    flat = np.array([name_id[n] for p in perpetrators for n in p], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    _NAME_INDEX[:] = [perpetrators, len(perpetrators), (names, lengths, flat, offsets)]
    return names, lengths, flat, offsets


def _perp_counts(inv: np.ndarray, codes: np.ndarray, sign: np.ndarray,
                 perpetrators: list[tuple[str, ...]], m: int
                 ) -> tuple[list[dict[str, int]], list[list[dict[str, Any]]]]:
    """Per cell: perpetrator name -> incidents (each name of an incident's list counted once per
    occurrence, as the SQL's unnest does), and the top three (most incidents, then name)."""
    out: list[dict[str, int]] = [{} for _ in range(m)]
    top: list[list[dict[str, Any]]] = [[] for _ in range(m)]
    if not len(inv):
        return out, top
    # Names of every distinct list as ids; (cell, list) pairs expanded to (cell, name) pairs.
    names, lengths, flat, offsets = _name_index(perpetrators)
    p = max(len(perpetrators), 1)
    flat_pairs = inv.astype(np.int64) * p + codes
    if m * p <= 20_000_000:  # a dense count per (cell, list): no sort
        dense = np.bincount(flat_pairs, weights=sign, minlength=m * p)
        occurs = np.bincount(flat_pairs, minlength=m * p) > 0
        pairs = np.flatnonzero(occurs)
        counts = dense[pairs]
    else:
        pairs, pos = np.unique(flat_pairs, return_inverse=True)
        counts = np.bincount(pos, weights=sign)
    cell_of, code_of = np.divmod(pairs, p)
    reps = lengths[code_of]
    pair_cell = np.repeat(cell_of, reps)
    pair_count = np.repeat(counts, reps)
    starts = np.repeat(offsets[code_of], reps)
    within = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    pair_name = flat[starts + within]
    k = max(len(names), 1)
    flat_keys = pair_cell * k + pair_name
    if m * k <= 20_000_000:  # a dense count per (cell, name): no sort
        dense = np.rint(np.bincount(flat_keys, weights=pair_count, minlength=m * k))
        keys = np.flatnonzero(dense > 0)
        total = dense[keys].astype(np.int64)
    else:
        keys, where = np.unique(flat_keys, return_inverse=True)
        total = np.rint(np.bincount(where, weights=pair_count)).astype(np.int64)
        keep = total > 0
        keys, total = keys[keep], total[keep]
    cell_ids, name_ids = np.divmod(keys, k)
    for c, nm, n in zip(cell_ids.tolist(), name_ids.tolist(), total.tolist(), strict=True):
        out[c][names[nm]] = n
    # Top three per cell: by cell, most incidents, then name (names are sorted, so their ids too).
    order = np.lexsort((name_ids, -total, cell_ids))
    c_sorted = cell_ids[order]
    rank = np.arange(len(order)) - np.searchsorted(c_sorted, c_sorted, "left")
    first = order[rank < 3]
    for c, nm, n in zip(cell_ids[first].tolist(), name_ids[first].tolist(),
                        total[first].tolist(), strict=True):
        top[c].append({"name": names[nm], "incidents": n})
    return out, top
