"""Where an uncached threat layer's time goes, stage by stage, in process (used by
bench_hotspots): the per-cell sums (SQL aggregation, or the event store), the Gi* neighbour
matrix, Gi*/FDR/Mann-Kendall, the scored property columns, the GeoJSON serialisation (column-wise,
in threat order) and gzip.
Wall-clock milliseconds (the SQL stage runs in the database server), median of `runs` windows
nothing was computed for."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from isal import igzip

from app.db import make_async_engine, make_sessionmaker
from app.repositories import hotspots as repo
from app.repositories import threat_events
from app.services.threat import cell_items, emerging, event_store
from app.services.threat import layer as layers
from app.services.threat import score as scoring
from app.services.threat.cell_sums import LayerSums
from app.settings import Settings


async def stage_profile(url: str, as_of: datetime, runs: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    engine = make_async_engine(settings)
    maker = make_sessionmaker(engine)
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        loaded = threat_events.load(conn)
    assert loaded is not None
    load_s = time.perf_counter() - t0
    event_store.STORE.max_bytes = 1 << 40
    event_store.STORE.install(loaded)
    out: dict[str, Any] = {}
    try:
        for label, days in (("90 days", 90), ("5 years", int(5 * 365.25))):
            out[label] = {}
            for path in ("sql", "store"):
                stages: dict[str, list[float]] = {}
                for i in range(runs):
                    q = layers.HotspotQuery(res=6, window_days=days,
                                            as_of=as_of - timedelta(minutes=100 + i))
                    for name, ms in (await _one(maker, q, settings, path, loaded.version)
                                     ).items():
                        stages.setdefault(name, []).append(ms)
                out[label][path] = {k: statistics.median(v) for k, v in stages.items()}
    finally:
        await engine.dispose()
        event_store.STORE.clear()
    out["store_load_in_process_s"] = {"load": load_s}
    return out


async def _one(maker: Any, q: layers.HotspotQuery, settings: Settings, path: str,
               version: int) -> dict[str, float]:
    w = layers.window(q)
    f, terms = layers.cell_filter(q, w, settings), scoring.threat_terms(settings)
    ms: dict[str, float] = {}

    def lap(name: str, t: float) -> float:
        now = time.perf_counter()
        ms[name] = (now - t) * 1000
        return now

    t = time.perf_counter()
    async with maker() as session:
        if path == "sql":
            got = await repo.cell_sums(session, f, terms, steps=w.steps, with_series=True,
                                       with_perpetrators=True)
            t = lap("aggregate", t)
            sums = LayerSums.from_rows(got.rows, w.steps, with_series=True,
                                       with_perpetrators=True, version=got.version)
            t = lap("rows", t)
        else:
            view = await event_store.view(session, version)
            assert view is not None
            found = event_store.sums(view, f, terms, steps=w.steps, with_series=True,
                                     with_perpetrators=True)
            assert found is not None
            sums = found
            t = lap("aggregate", t)
    cells = sums.cells.tolist()
    weights = emerging.neighbour_matrix(cells, settings.hotspot_ring_k)
    t = lap("neighbours", t)
    assert sums.series is not None
    patterns = emerging.emerging_patterns(cells, sums.series, k=settings.hotspot_ring_k,
                                          alpha=settings.hotspot_alpha, weights=weights)
    t = lap("gi_fdr_mk", t)
    columns, per = cell_items.build_columns(sums, np.arange(len(sums)), list(patterns),
                                            res=q.res, steps=w.steps, step_days=w.step_days,
                                            settings=settings, vulnerability=layers.vulnerability)
    t = lap("items", t)
    scored = cell_items.Scored(sums, list(patterns), columns, per, [None] * len(sums))
    body = b",".join(scored.features_of(scored.order().tolist()))
    t = lap("geojson", t)
    igzip.compress(body, 1)
    lap("gzip", t)
    ms["cells"] = float(len(sums))
    return ms
