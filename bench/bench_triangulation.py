"""Triangulation: a 10,000-event import matched against a 100,000-incident store, against a naive
pairwise comparison of the same accounts, in the same run.

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.bench_triangulation [--store 100000] [--batch 10000]
        [--skip-naive] [--skip-import]

Target (issue 14): matching ≤ 30 s on this machine and ≥ 10× the naive pairwise comparison.

Store: GED-shaped events resampled from the real CAR events (~5 km jitter, 2018-2022), imported as
UCDP. Batch: ACLED-shaped rows, a third of them retellings of stored events (up to 3 km and a
day off, other fatality counts, actor names spelled the ACLED way), the rest new events drawn
the same way as the store.

Timed:
- MATCHED IMPORT: `import_file` of the batch with triangulation (the product path), and the same
  file imported without it into an identical store (the difference is what matching costs);
- MATCHING: `place_batch` alone on the same batch (indexed space-time search, scores, one-to-one
  assignment), in a transaction rolled back afterwards;
- NAIVE: every new event compared with every stored incident — the same gate and pair scores,
  the same assignment, but the candidates found by testing all 10,000 × 100,000 pairs (numpy,
  one new event at a time against the whole store) instead of the index.
Both give the same decisions (checked).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from app.services.incidents.import_pipeline import import_file
from app.services.triangulation import accounts as acc
from app.services.triangulation import service as tri
from app.services.triangulation.evaluation import load_frame
from app.services.triangulation.matcher import Thresholds, candidate_pairs, decide, paused_gc
from app.services.triangulation.names import AliasTable, Mentions
from app.services.triangulation.scoring import day_gap, haversine_km
from bench.common import bench_database, synthetic_ged_rows, write_result

ACLED_HEADER = ["event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type",
                "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "civilian_targeting",
                "admin1", "admin2", "location", "latitude", "longitude", "geo_precision", "source",
                "source_scale", "notes", "fatalities"]
ACLED_SPELLING = {"anti-Balaka": "Anti-Balaka", "FPRC": "FPRC: Popular Front for the Renaissance of Central Africa",
                  "UPC": "UPC: Union for Peace in the Central African Republic",
                  "Government of Central African Republic": "Military Forces of the Central African Republic (2014-2016)",
                  "LRA": "LRA: Lords Resistance Army"}


def write_csv(rows: list[dict[str, Any]], path: Path, header: list[str] | None = None) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header or list(rows[0]), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def acled_batch(store: list[dict[str, Any]], n: int, seed: int = 14) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    fresh = synthetic_ged_rows(n, seed=seed + 1)
    out = []
    for i in range(n):
        retell = i % 3 == 0
        src = rng.choice(store) if retell else fresh[i]
        day = date.fromisoformat(src["date_start"][:10]) + timedelta(days=rng.choice([0, 0, 1]) if retell else 0)
        actor = src.get("side_a") or "Unidentified Armed Group (Central African Republic)"
        out.append({
            "event_id_cnty": f"BEN{i}", "event_date": day.strftime("%d %B %Y"), "time_precision": "1",
            "event_type": "Violence against civilians" if src.get("type_of_violence") == 3 else "Battles",
            "sub_event_type": "Attack" if src.get("type_of_violence") == 3 else "Armed clash",
            "actor1": ACLED_SPELLING.get(actor, actor), "assoc_actor_1": "", "inter1": "2",
            "actor2": "Civilians (Central African Republic)", "assoc_actor_2": "",
            "civilian_targeting": "Civilian targeting" if src.get("type_of_violence") == 3 else "",
            "admin1": src.get("adm_1", ""), "admin2": src.get("adm_2", ""), "location": "",
            "latitude": round(float(src["latitude"]) + (rng.uniform(-0.02, 0.02) if retell else 0), 5),
            "longitude": round(float(src["longitude"]) + (rng.uniform(-0.02, 0.02) if retell else 0), 5),
            "geo_precision": "1", "source": rng.choice(["AFP", "Radio Ndeke Luka", "RFI; AFP"]),
            "source_scale": "National",
            "notes": f"Bench event {i}: armed men attacked a village; {rng.randint(0, 9)} reported dead.",
            "fatalities": max(0, int(src.get("best") or 0) + (rng.randint(-2, 2) if retell else 0)),
        })
    return out


def naive_candidates(left: acc.Accounts, right: acc.Accounts, slack_km: float, slack_days: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Every new event against every stored incident."""
    lis, ris = [], []
    for i in range(len(left)):
        d = haversine_km(left.lat[i], left.lon[i], right.lat, right.lon)
        r = (left.radius_m[i] + right.radius_m) / 1000.0
        g = day_gap(left.start[i], left.end[i], right.start, right.end)
        js = np.flatnonzero((d <= r + slack_km) & (g <= slack_days))
        lis.append(np.full(len(js), i))
        ris.append(js)
    return np.concatenate(lis), np.concatenate(ris)


STORED_SQL = (
    "SELECT id, external_source, ST_X(location) AS longitude, ST_Y(location) AS latitude,"
    " location_radius_m, occurred_start, occurred_end, category, perpetrators,"
    " fatalities_low, fatalities_best, fatalities_high, narrative,"
    " ARRAY(SELECT DISTINCT x FROM report r, unnest(r.cites) x WHERE r.incident_id = i.id) AS cites"
    " FROM incident i")


def naive(conn: psycopg.Connection[Any], events: Any, config: tri.MatchConfig,
          result: dict[str, Any]) -> set[tuple[int, str]]:
    """Every new event against every stored incident: the whole store read and built as
    accounts, every pair tested (numpy per new event), then the same names, scores and
    assignment as the product (and, like it, no cyclic garbage collection meanwhile)."""
    with paused_gc():
        t0 = time.perf_counter()
        stored = conn.execute(STORED_SQL)
        names = [d.name for d in stored.description or []]
        right = acc.from_rows([dict(zip(names, r, strict=True)) for r in stored.fetchall()])
        left = acc.from_events(events, "acled")
        li, ri = naive_candidates(left, right, config.params.slack_km, config.params.slack_days)
        result["naive_search_s"] = time.perf_counter() - t0
        aliases = tri.alias_table([])
        mentions = Mentions(AliasTable().keys() | left.all_name_keys() | right.all_name_keys())
        left.resolve(aliases, mentions)
        right.resolve(aliases, mentions)
        scores = candidate_pairs(left, right, li, ri, config.params)
        d = decide(left, right, scores, Thresholds(config.auto_link, config.review))
        result["naive_s"] = time.perf_counter() - t0
    result["pairs_compared_naive"] = len(left) * len(right)
    result["candidate_pairs"] = int(len(scores))
    return {(i, str(t)) for i, (o, t) in enumerate(zip(d.outcome, d.target, strict=True)) if o != 0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--skip-naive", action="store_true",
                    help="time the matching only (while developing; the target needs both sides)")
    ap.add_argument("--skip-import", action="store_true",
                    help="skip the matched and plain imports")
    args = ap.parse_args()
    load_before = os.getloadavg()
    url = bench_database("kinga_bench_triangulation")
    config = tri.MatchConfig()
    result: dict[str, Any] = {"store": args.store, "batch": args.batch, "load_before": load_before}
    with tempfile.TemporaryDirectory() as tmp:
        store_rows = synthetic_ged_rows(args.store)
        store_csv, batch_csv = Path(tmp) / "store.csv", Path(tmp) / "batch.csv"
        write_csv(store_rows, store_csv)
        write_csv(acled_batch(store_rows, args.batch), batch_csv, ACLED_HEADER)
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            import_file(conn, "ucdp", store_csv, actor="bench", h3_res=9, triangulate=False,
                        connect=lambda: psycopg.connect(url))
            result["store_import_s"] = time.perf_counter() - t0
            conn.execute("ANALYZE incident")
            conn.commit()

            # MATCHING alone: the batch's candidate search, scores and assignment, rolled back.
            events = load_frame("acled", batch_csv)
            t0 = time.perf_counter()
            placement = tri.place_batch(conn, events, source="acled", config=config)
            result["matching_s"] = time.perf_counter() - t0
            conn.rollback()
            assert placement is not None
            indexed = {(i, str(t)) for i, (o, t) in enumerate(zip(placement.outcome, placement.target, strict=True))
                       if o != 0}
            result["indexed_outcomes"] = {k: int((placement.outcome == v).sum())
                                          for k, v in (("new", 0), ("linked", 1), ("queued", 2))}

            # NAIVE: the same matcher on every pair.
            if not args.skip_naive:
                result["same_decisions"] = naive(conn, events, config, result) == indexed
                result["speedup_vs_naive"] = result["naive_s"] / result["matching_s"]

        # MATCHED IMPORT vs the same import without matching, into identical stores.
        for label, triangulate in (() if args.skip_import else
                                   (("import_without_matching_s", False), ("matched_import_s", True))):
            url2 = bench_database("kinga_bench_triangulation")
            with psycopg.connect(url2) as conn:
                import_file(conn, "ucdp", store_csv, actor="bench", h3_res=9, triangulate=False,
                            connect=lambda u=url2: psycopg.connect(u))
                conn.execute("ANALYZE incident")
                conn.commit()
                t0 = time.perf_counter()
                s = import_file(conn, "acled", batch_csv, actor="bench", h3_res=9, match=config,
                                triangulate=triangulate, connect=lambda u=url2: psycopg.connect(u))
                result[label] = time.perf_counter() - t0
                if triangulate:
                    result["import_split"] = {"linked": s.linked, "queued": s.queued, "new": s.new}
    result["load_after"] = os.getloadavg()
    for k, v in result.items():
        print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")
    print(f"written to {write_result('bench_triangulation', result)}")


if __name__ == "__main__":
    main()
