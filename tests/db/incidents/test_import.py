"""Importing real data: counts preserved, idempotent re-import, bad rows reported, good rows kept."""

import csv
import json
from pathlib import Path

import pytest

from app.errors import InvalidInput
from app.services.incidents.import_pipeline import import_file
from app.settings import PROJECT_ROOT

GED = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"


def snapshot(conn):
    return conn.execute(
        "SELECT count(*), md5(string_agg(external_id || category || h3_cell::text || quality_grade, ',' "
        "ORDER BY external_id)) FROM incident").fetchone()


def test_ucdp_import_keeps_every_event_and_reimport_changes_nothing(conn):
    n_features = len(json.loads(GED.read_text())["features"])
    first = import_file(conn, "ucdp", GED, actor="test", h3_res=9, batch_size=500)
    assert first.inserted == n_features and not first.rejects
    assert conn.execute("SELECT count(*) FROM report").fetchone()[0] == n_features
    before = snapshot(conn)
    again = import_file(conn, "ucdp", GED, actor="test", h3_res=9)
    assert again.inserted == 0 and again.duplicates == n_features
    assert snapshot(conn) == before
    # precision codes are kept as given, never upgraded
    precs = dict(conn.execute("SELECT location_precision, count(*) FROM incident GROUP BY 1").fetchall())
    src = {}
    for f in json.loads(GED.read_text())["features"]:
        src[f["properties"]["where_prec"]] = src.get(f["properties"]["where_prec"], 0) + 1
    assert precs == src


def test_h3_cell_matches_the_stored_point(conn):
    import h3
    import_file(conn, "ucdp", GED, actor="test", h3_res=9)
    rows = conn.execute("SELECT h3_cell, ST_Y(location), ST_X(location) FROM incident LIMIT 200").fetchall()
    for cell, lat, lng in rows:
        assert h3.int_to_str(cell) == h3.latlng_to_cell(lat, lng, 9)


def test_sql_parent_cell_equals_h3_parent(conn):
    import h3
    import_file(conn, "ucdp", GED, actor="test", h3_res=9)
    for res in (4, 6, 8):
        rows = conn.execute(
            "SELECT h3_cell, ((h3_cell & ~(15::bigint << 52)) | (%s::bigint << 52)) "
            "| ((1::bigint << (3 * (15 - %s))) - 1) FROM incident LIMIT 100", (res, res)).fetchall()
        for fine, parent in rows:
            assert h3.int_to_str(parent) == h3.cell_to_parent(h3.int_to_str(fine), res)


def _acled_rows():
    base = {"event_id_cnty": "", "event_date": "2024-03-02", "year": "2024", "time_precision": "1",
            "disorder_type": "Political violence", "event_type": "Violence against civilians",
            "sub_event_type": "Attack", "actor1": "Unidentified Armed Group (Central African Republic)",
            "inter1": "Rebel group", "actor2": "Civilians (Central African Republic)",
            "civilian_targeting": "Civilian targeting", "admin1": "Ouaka", "location": "Bambari",
            "latitude": "5.7639", "longitude": "20.6707", "geo_precision": "1", "source": "Corbeaunews",
            "source_scale": "National", "notes": "Two civilians killed.", "fatalities": "2"}
    return base


def test_acled_good_rows_commit_and_bad_rows_are_reported(conn, tmp_path: Path):
    base = _acled_rows()
    rows = [dict(base, event_id_cnty=f"CAF{i}") for i in range(5)]
    rows[1]["latitude"] = "123"          # out of range
    rows[2]["event_date"] = "yesterday"  # not a date
    rows[3]["fatalities"] = "-4"         # negative
    p = tmp_path / "acled.csv"
    with p.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(base))
        w.writeheader()
        w.writerows(rows)
    summary = import_file(conn, "acled", p, actor="test", h3_res=9)
    assert summary.inserted == 2 and len(summary.rejects) == 3
    assert {r.external_id for r in summary.rejects} == {"CAF1", "CAF2", "CAF3"}
    assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 2
    run = conn.execute("SELECT inserted, rejected FROM import_run").fetchone()
    assert run == (2, 3)
    assert conn.execute("SELECT count(*) FROM audit_event WHERE action='import'").fetchone()[0] == 1


def test_unreadable_file_is_refused_and_writes_nothing(conn, tmp_path: Path):
    p = tmp_path / "broken.geojson"
    p.write_text("{not json")
    with pytest.raises(InvalidInput):
        import_file(conn, "ucdp", p, actor="test", h3_res=9)
    assert conn.execute("SELECT count(*) FROM import_run").fetchone()[0] == 0


def test_a_concurrent_writer_falls_back_to_on_conflict(conn, monkeypatch):
    """If another writer stores some ids between the lookup and the COPY, the batch still lands
    once: the unique violation sends it through the staging table with ON CONFLICT DO NOTHING."""
    from app.repositories import imports as repo
    from app.services.incidents.import_mapping import iter_ucdp
    from app.services.incidents.import_pipeline import graded

    events = [graded(e) for _, e in iter_ucdp(GED, 9)][:50]
    assert repo.load_batch(conn, events[:20], source="ucdp", status="approved", actor="a") == 20
    conn.commit()
    monkeypatch.setattr(repo, "_already_stored", lambda cur, source, ids: set())
    assert repo.load_batch(conn, events, source="ucdp", status="approved", actor="b") == 30
    conn.commit()
    assert conn.execute("SELECT count(*), count(DISTINCT external_id) FROM incident").fetchone() == (50, 50)
    assert conn.execute("SELECT count(*) FROM report").fetchone()[0] == 50


def test_seeding_the_bundled_data_twice_adds_nothing(settings, conn):
    from app.cli.support import seed_bundled

    list(seed_bundled(settings))
    first = conn.execute("SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM mission_base)").fetchone()
    assert first[0] == len(json.loads(GED.read_text())["features"]) and first[1] > 0
    # the demo is approved data, its approval audited as one batch (issue 11)
    assert conn.execute("SELECT array_agg(DISTINCT status) FROM incident").fetchone()[0] == ["approved"]
    batches = conn.execute("SELECT actor, object_type FROM audit_event WHERE action = 'approved'").fetchall()
    assert batches == [("seed", "import_run")]
    lines = list(seed_bundled(settings))
    assert " 0 inserted" in lines[0] and "inserted 0" in lines[1] and " 0 inserted" in lines[2]
    assert conn.execute("SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM mission_base)").fetchone() == first
