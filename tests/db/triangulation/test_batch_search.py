"""The indexed candidate search of an import batch (one n-D GiST probe per account and source
range) finds every pair a brute-force comparison of the batch with the whole store lets through
the exact gate, and never an incident of the batch's own source.

Random stores: GED-shaped events resampled from the bundled CAR events (their location and date
precisions included: some are province centroids or month-long ranges), earlier rows of the
batch's own source, and a batch a third of which retells stored events."""

import numpy as np
import pytest

from app.repositories import triangulation as repo
from app.services.incidents.import_pipeline import import_file
from app.services.triangulation import accounts as acc
from app.services.triangulation import service as tri
from app.services.triangulation.evaluation import load_frame
from app.services.triangulation.scoring import gate
from bench.bench_triangulation import ACLED_HEADER, acled_batch, write_csv
from bench.common import synthetic_ged_rows

CONFIG = tri.MatchConfig()


def _store(conn, tmp_path, seed):
    ged = synthetic_ged_rows(600, seed=seed)
    for r in ged:  # a denser store: two years instead of five
        r["date_start"] = r["date_start"].replace("2018", "2020").replace("2022", "2021").replace("2019", "2021")
        r["date_end"] = r["date_end"].replace("2018", "2020").replace("2022", "2021").replace("2019", "2021")
    write_csv(ged, tmp_path / "store.csv")
    import_file(conn, "ucdp", tmp_path / "store.csv", actor="test", h3_res=9, triangulate=False)
    earlier = acled_batch(ged, 150, seed=seed + 100)
    for r in earlier:
        r["event_id_cnty"] = "OLD" + r["event_id_cnty"]
    write_csv(earlier, tmp_path / "earlier.csv", ACLED_HEADER)
    import_file(conn, "acled", tmp_path / "earlier.csv", actor="test", h3_res=9, triangulate=False)
    conn.commit()
    write_csv(acled_batch(ged, 300, seed=seed), tmp_path / "batch.csv", ACLED_HEADER)
    return load_frame("acled", tmp_path / "batch.csv")


def _all_incidents(conn):
    cur = conn.execute(
        "SELECT id, external_source, ST_X(location) AS longitude, ST_Y(location) AS latitude,"
        " location_radius_m, occurred_start, occurred_end, category, perpetrators, fatalities_low,"
        " fatalities_best, fatalities_high, narrative FROM incident WHERE status <> 'merged'")
    names = [d.name for d in cur.description]
    return acc.from_rows([dict(zip(names, r, strict=True)) for r in cur.fetchall()])


@pytest.mark.parametrize("seed", [3, 14, 27])
def test_batch_search_finds_every_gated_pair_and_never_its_own_source(conn, tmp_path, seed):
    events = _store(conn, tmp_path, seed)
    code = repo.source_code_sync(conn, "acled")
    left = acc.from_events(events, "acled")
    boxes = tri.boxes(left, CONFIG.params, source_code=code, source="acled")

    probed = repo.candidates_sync(conn, boxes)
    cols = probed.columns
    pairs = {(k, i) for i, ks in zip(cols["id"], cols["ks"], strict=True) for k in ks}
    assert len(pairs) == probed.pairs > 50  # the law is not vacuous
    assert cols["id"] == sorted(cols["id"])  # ordered by id: an ordinal is a rank
    assert all(s != "acled" for s in cols["external_source"])  # never its own source

    # brute force: every pair of the batch and the store that passes the exact gate was found
    right = _all_incidents(conn)
    li, ri = np.meshgrid(np.arange(len(left)), np.arange(len(right)), indexing="ij")
    li, ri = li.ravel(), ri.ravel()
    other = np.array([s != "acled" for s in right.source])[ri]
    ok = gate(left, right, li, ri, CONFIG.params) & other
    gated = {(int(i), right.key[j]) for i, j in zip(li[ok], ri[ok], strict=True)}
    assert gated <= pairs

    # the found incidents, built column-wise, are the accounts built from their rows
    found = acc.from_columns(cols)
    at = {k: j for j, k in enumerate(right.key)}
    rows = np.array([at[i] for i in cols["id"]])
    for name in ("lon", "lat", "radius_m", "start", "end", "fatalities", "fat_low", "fat_high"):
        assert np.array_equal(getattr(found, name), getattr(right, name)[rows], equal_nan=True), name
    for name in ("key", "source", "category"):
        assert getattr(found, name).tolist() == getattr(right, name)[rows].tolist(), name
    for name in ("perpetrators", "narrative", "days", "text"):
        assert getattr(found, name) == [getattr(right, name)[j] for j in rows], name
