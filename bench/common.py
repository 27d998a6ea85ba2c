"""Shared helpers for benchmarks: a dedicated, freshly migrated database and realistic synthetic events."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from app.db import libpq_url
from app.settings import PROJECT_ROOT
from tests.support.db import fresh_database

RESULTS = PROJECT_ROOT / "bench" / "results"
GED = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"


def bench_database(name: str) -> str:
    """Create (fresh) and migrate a database for one benchmark on the configured server."""
    return libpq_url(fresh_database(name))


def real_events() -> list[dict[str, Any]]:
    return [f["properties"] | {"_lon": f["geometry"]["coordinates"][0],
                               "_lat": f["geometry"]["coordinates"][1]}
            for f in json.loads(GED.read_text())["features"]]


def synthetic_ged_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n GED-shaped rows resampled from the real CAR events with ~5 km jitter and shifted dates."""
    rng = random.Random(seed)
    real = real_events()
    rows = []
    for i in range(n):
        src = rng.choice(real)
        year = rng.randint(2018, 2022)
        day = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append({**{k: v for k, v in src.items() if not k.startswith("_")},
                     "id": 10_000_000 + i, "date_start": day, "date_end": day,
                     "latitude": round(src["_lat"] + rng.gauss(0, 0.05), 5),
                     "longitude": round(src["_lon"] + rng.gauss(0, 0.05), 5)})
    return rows


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
