"""Import throughput, file to database: the COPY importer vs a row-by-row INSERT baseline, same run.

    .venv/bin/python -m bench.bench_import [--rows 200000] [--baseline-rows 20000]

Target (issue 2): ≥ 20,000 events/s and ≥ 10× the row-by-row insert.
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import psycopg

from app.services.incidents.import_mapping import ParsedEvent, iter_ucdp
from app.services.incidents.import_pipeline import graded, import_file
from bench.common import bench_database, synthetic_ged_rows, write_result

ROW_INCIDENT = """
INSERT INTO incident (external_source, external_id, occurred_start, occurred_end, time_precision,
    location, location_precision, precision_scheme, location_radius_m, h3_cell, place_name, admin1,
    admin2, category, subcategory, perpetrators, perpetrator_type, fatalities_low, fatalities_best,
    fatalities_high, injured, crsv_survivors, children_affected, displaced, narrative, status,
    quality_grade, independent_sources, created_by, updated_by)
VALUES ('ucdp', %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s, %s, %s, %s,
        %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, 0, %s, 'approved', %s, %s, 'bench', 'bench')
ON CONFLICT (external_source, external_id) DO NOTHING RETURNING id
"""
ROW_REPORT = """
INSERT INTO report (incident_id, section, source_name, source_reliability, information_credibility,
                    source_count, narrative, created_by)
VALUES (%s, %s, %s, %s, %s, %s, %s, 'bench')
"""


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def row_by_row(conn: psycopg.Connection, events: list[ParsedEvent]) -> None:
    """The naive way: one INSERT per incident and per report, in one transaction."""
    with conn.cursor() as cur:
        for e in events:
            e, grade, n = graded(e)
            cur.execute(ROW_INCIDENT, (
                e.external_id, e.occurred_start, e.occurred_end, e.time_precision, e.lon, e.lat,
                e.location_precision, e.precision_scheme, e.location_radius_m, e.h3_cell,
                e.place_name, e.admin1, e.admin2, e.category, e.subcategory, e.perpetrators,
                e.perpetrator_type, e.fatalities_low, e.fatalities_best, e.fatalities_high,
                e.narrative, grade, n))
            row = cur.fetchone()
            if row:
                cur.execute(ROW_REPORT, (row[0], e.section, e.source_name, e.source_reliability,
                                         e.information_credibility, e.source_count,
                                         e.report_narrative))
    conn.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    url = bench_database("kinga_bench_import")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ged.csv"
        write_csv(synthetic_ged_rows(args.rows), path)
        with psycopg.connect(url) as conn:
            t0 = time.perf_counter()
            s = import_file(conn, "ucdp", path, actor="bench", h3_res=9,
                            connect=lambda: psycopg.connect(url))
            t_import = time.perf_counter() - t0
            assert s.inserted == args.rows and not s.rejects, s.render()
            t0 = time.perf_counter()
            again = import_file(conn, "ucdp", path, actor="bench", h3_res=9,
                                connect=lambda: psycopg.connect(url))
            t_reimport = time.perf_counter() - t0
            assert again.inserted == 0

            # The baseline does the same job, file to database: read and map its own file of the
            # first N rows, then one INSERT per incident and per report.
            small = Path(tmp) / "ged-baseline.csv"
            write_csv(synthetic_ged_rows(args.rows)[: args.baseline_rows], small)
            conn.execute("TRUNCATE incident, report CASCADE")
            conn.commit()
            t0 = time.perf_counter()
            events = [ev for _, ev in iter_ucdp(small, 9)]
            row_by_row(conn, events)  # type: ignore[arg-type]
            t_naive = time.perf_counter() - t0

    rate = args.rows / t_import
    naive_rate = len(events) / t_naive
    result = {
        "rows": args.rows, "import_s": round(t_import, 2), "import_rows_per_s": round(rate),
        "reimport_s": round(t_reimport, 2), "reimport_inserted": again.inserted,
        "baseline_rows": len(events), "row_by_row_s": round(t_naive, 2),
        "row_by_row_rows_per_s": round(naive_rate), "speedup": round(rate / naive_rate, 1),
        "load_avg_1m_before": load_before, "load_avg_1m_after": os.getloadavg()[0],
    }
    print(f"{'method':<28}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    print(f"{'COPY importer':<28}{args.rows:>10}{t_import:>10.2f}{rate:>12.0f}")
    print(f"{'re-import (all duplicates)':<28}{args.rows:>10}{t_reimport:>10.2f}{args.rows / t_reimport:>12.0f}")
    print(f"{'row-by-row INSERT baseline':<28}{len(events):>10}{t_naive:>10.2f}{naive_rate:>12.0f}")
    print(f"speed-up: {rate / naive_rate:.1f}×   (target ≥ 20,000 rows/s and ≥ 10×)")
    print(f"load average (1 min, 2 cores shared): {load_before:.2f} before, "
          f"{result['load_avg_1m_after']:.2f} after")
    print("written", write_result("import", result))


if __name__ == "__main__":
    main()
