"""`kinga import bases`: the real Geo-PKO MINUSCA file, one base per location and year span,
kinds by the documented rule, idempotent."""

from __future__ import annotations

from typer.testing import CliRunner

from app.cli.main import cli
from app.settings import PROJECT_ROOT

GEOPKO = PROJECT_ROOT / "geodata" / "geopko-minusca-deployments.csv"


def run_import(settings, monkeypatch):
    monkeypatch.setenv("KINGA_DATABASE_URL", settings.database_url.get_secret_value())
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["import", "bases", str(GEOPKO)])
    finally:
        get_settings.cache_clear()


def test_import_real_minusca_deployments_is_idempotent(settings, conn, monkeypatch):
    first = run_import(settings, monkeypatch)
    assert first.exit_code == 0, first.output
    rows = conn.execute(
        "SELECT name, kind, opened_on::text, closed_on::text, external_id "
        "FROM mission_base ORDER BY name, opened_on"
    ).fetchall()
    assert len(rows) == 32 and "32 inserted" in first.output
    by = {(r[0], r[2]): r for r in rows}
    assert by[("Bangui", "2014-01-01")][1] == "mission_hq"
    assert {by[(n, "2014-01-01")][1] for n in ("Bouar", "Bria", "Kaga Bandoro")} == {"sector_hq"}
    assert by[("Bambari", "2014-01-01")][1] == "company_operating_base"
    assert by[("Paoua", "2016-01-01")][1] == "police_post"
    # Mbaiki: 2014, then again from 2023 -> two bases; the first closed at the end of 2014.
    assert by[("Mbaiki", "2014-01-01")][3] == "2014-12-31"
    assert by[("Mbaiki", "2023-01-01")][3] is None
    second = run_import(settings, monkeypatch)
    assert second.exit_code == 0 and "0 inserted" in second.output
    assert conn.execute("SELECT count(*) FROM mission_base").fetchone()[0] == 32


def test_import_refuses_a_file_that_is_not_geopko(settings, conn, monkeypatch, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    monkeypatch.setenv("KINGA_DATABASE_URL", settings.database_url.get_secret_value())
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(cli, ["import", "bases", str(bad)])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1
    assert conn.execute("SELECT count(*) FROM mission_base").fetchone()[0] == 0
