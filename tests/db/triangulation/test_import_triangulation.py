"""Importing ACLED on top of the bundled UCDP events: rows become reports of existing incidents,
possible duplicates or new incidents, exactly as the evaluation's run of the same matcher says;
reports are never created or lost; re-importing adds nothing."""

from collections import Counter

import numpy as np
import pytest

from app.repositories.triangulation import add_aliases_sync
from app.services.incidents.import_pipeline import import_file
from app.services.triangulation import evaluation as ev
from app.services.triangulation.matcher import Thresholds, decide
from app.services.triangulation.service import MatchConfig
from app.settings import PROJECT_ROOT
from tests.support.shared_data import shared_file

GED = PROJECT_ROOT / "geodata" / "ucdp-ged-v23.1-caf.geojson"
ALIASES = PROJECT_ROOT / "geodata" / "triangulation" / "actor-aliases-car.csv"
CONFIG = MatchConfig()


def load_aliases(conn):
    rows = [{"m": None, "alias": a.alias, "canonical": a.canonical, "f": a.valid_from, "t": a.valid_to}
            for a in ev.read_aliases(ALIASES)]
    add_aliases_sync(conn, rows, "test")
    conn.commit()


def snapshot(conn):
    rows = conn.execute(
        "SELECT external_source, external_id, status, merged_into, quality_grade, independent_sources,"
        " location_radius_m, occurred_start, occurred_end FROM incident ORDER BY 1, 2").fetchall()
    reports = conn.execute("SELECT id, incident_id FROM report ORDER BY id").fetchall()
    return rows, reports


def test_acled_on_ucdp_split_matches_the_evaluation_and_keeps_every_report(conn):
    acled = shared_file("acled-car-2013-2015.csv")
    load_aliases(conn)
    u = import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG)
    assert (u.linked, u.queued, u.new) == (0, 0, u.inserted)  # one export never matches itself
    a = import_file(conn, "acled", acled, actor="test", h3_res=9, match=CONFIG)
    assert a.linked + a.queued + a.new == a.inserted == a.rows_read - len(a.rejects)
    assert a.linked > 100 and a.queued > 100 and a.new > 1000

    # the same matcher run in memory (the evaluation) decides the same split
    run = ev.simulate(ev.load_frame("ucdp", GED), "ucdp", ev.load_frame("acled", acled), "acled",
                      ev.read_aliases(ALIASES))
    expected = decide(run.left, run.right, run.scores, Thresholds(CONFIG.auto_link, CONFIG.review)).counts()
    assert (a.linked, a.queued, a.new) == (expected["linked"], expected["queued"], expected["new"])

    n_incidents, n_reports = conn.execute("SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM report)").fetchone()
    assert n_reports == n_incidents  # every imported row kept its one report
    merged_with_reports = conn.execute(
        "SELECT count(*) FROM incident i JOIN report r ON r.incident_id = i.id WHERE i.status = 'merged'").fetchone()[0]
    assert merged_with_reports == 0  # a linked row's report is on the incident it joined
    per_target = conn.execute("""
        SELECT t.id, count(r.id), array_agg(DISTINCT m.narrative) FROM incident t
        JOIN incident m ON m.merged_into = t.id JOIN report r ON r.incident_id = t.id
        GROUP BY t.id""").fetchall()
    assert sum(1 for _ in per_target) > 0 and all(n >= 2 for _, n, _ in per_target)
    # one-to-one: an incident holds one ACLED account, or several rows of one account
    accounts = conn.execute("""
        SELECT merged_into, count(*), count(DISTINCT narrative) FROM incident
        WHERE status = 'merged' GROUP BY 1""").fetchall()
    assert all(n == 1 or distinct == 1 for _, n, distinct in accounts)
    held = conn.execute("""
        SELECT count(*), count(*) FILTER (WHERE d.status = 'pending') FROM incident i
        JOIN duplicate_candidate d ON d.incident_id = i.id WHERE i.status = 'duplicate'""").fetchone()
    assert held == (a.queued, a.queued)
    # grades follow every report of a target (recomputed, independent sources counted once)
    targets = [t for t, _, _ in per_target]
    statuses = Counter(s for (s,) in conn.execute("SELECT status FROM incident").fetchall())
    assert statuses["merged"] == a.linked and statuses["duplicate"] == a.queued
    assert conn.execute("SELECT count(*) FROM incident_merge WHERE reason = 'auto'").fetchone()[0] == a.linked
    grades = dict(conn.execute("SELECT id, independent_sources FROM incident WHERE id = ANY(%s)",
                               (targets,)).fetchall())
    assert np.mean([g for g in grades.values()]) > 1.0

    before = snapshot(conn)
    again_u = import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG)
    again_a = import_file(conn, "acled", acled, actor="test", h3_res=9, match=CONFIG)
    assert again_u.inserted == again_a.inserted == 0
    assert snapshot(conn) == before


@pytest.mark.parametrize("batch_size", [250])
def test_small_batches_stay_one_to_one(conn, batch_size):
    acled = shared_file("acled-car-2013-2015.csv")
    load_aliases(conn)
    import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG)
    a = import_file(conn, "acled", acled, actor="test", h3_res=9, match=CONFIG, batch_size=batch_size)
    assert a.linked > 100
    accounts = conn.execute("""
        SELECT merged_into, count(*), count(DISTINCT narrative) FROM incident
        WHERE status = 'merged' GROUP BY 1""").fetchall()
    assert all(n == 1 or distinct == 1 for _, n, distinct in accounts)


def hold(db_url, sql):
    """Another session holding an advisory lock (until its transaction or session ends)."""
    import psycopg

    other = psycopg.connect(db_url)
    other.execute(sql)
    return other


def test_batches_that_can_link_nothing_share_the_batch_lock(conn, db_url):
    """A UCDP import onto a store with nothing of another source links nothing: its batches
    share the lock, so an import's parallel writers store them side by side (with the lock
    taken exclusively, this import would wait for the other holder and time out)."""
    other = hold(db_url, "BEGIN; SELECT pg_advisory_xact_lock_shared(hashtext('kinga.triangulation'))")
    try:
        conn.execute("SET lock_timeout = '2s'")
        s = import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG, batch_size=500)
        assert s.inserted > 1000 and s.linked == 0 and s.queued == 0
    finally:
        other.close()


def test_a_batch_that_may_link_waits_for_every_other_batch(conn, db_url):
    """ACLED onto UCDP: its batches may link, so each takes the batch lock exclusively and waits
    for batches still holding it (here a session that shares it), to see all they stored."""
    import psycopg

    import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG)
    stored = conn.execute("SELECT count(*) FROM incident").fetchone()[0]
    other = hold(db_url, "BEGIN; SELECT pg_advisory_xact_lock_shared(hashtext('kinga.triangulation'))")
    try:
        conn.execute("SET lock_timeout = '1s'")
        conn.commit()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            import_file(conn, "acled", shared_file("acled-car-2013-2015.csv"), actor="test",
                        h3_res=9, match=CONFIG)
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == stored
    finally:
        other.close()
    a = import_file(conn, "acled", shared_file("acled-car-2013-2015.csv"), actor="test",
                    h3_res=9, match=CONFIG)
    assert a.linked > 50  # once nothing else holds the lock (no aliases loaded here)


def test_matched_imports_run_one_at_a_time(conn, db_url):
    """While another matched import runs, an import waits for it (batches sharing the lock are
    then always of one import, one source)."""
    import psycopg

    other = hold(db_url, "SELECT pg_advisory_lock(hashtext('kinga.import'))")
    try:
        conn.execute("SET lock_timeout = '1s'")
        conn.commit()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG)
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 0
    finally:
        other.close()
    assert import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG).inserted > 1000


def test_parallel_writers_keep_links_one_to_one(conn, db_url):
    """Two writers, small batches: every merged group is one account, nothing is lost."""
    import psycopg

    load_aliases(conn)
    connect = lambda: psycopg.connect(db_url)  # noqa: E731
    import_file(conn, "ucdp", GED, actor="test", h3_res=9, match=CONFIG, connect=connect,
                writers=2, batch_size=300)
    acled = shared_file("acled-car-2013-2015.csv")
    a = import_file(conn, "acled", acled, actor="test", h3_res=9, match=CONFIG, connect=connect,
                    writers=2, batch_size=250)
    assert a.linked > 100 and a.inserted == a.rows_read - len(a.rejects) - a.duplicates
    accounts = conn.execute("""
        SELECT merged_into, count(*), count(DISTINCT narrative) FROM incident
        WHERE status = 'merged' GROUP BY 1""").fetchall()
    assert all(n == 1 or distinct == 1 for _, n, distinct in accounts)
