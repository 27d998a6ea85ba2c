"""Run the `kinga` command in-process against the test database."""

from __future__ import annotations

from typer.testing import CliRunner


def run_cli(settings, monkeypatch, args: list[str]):
    from app.cli.main import cli
    from app.settings import get_settings

    monkeypatch.setenv("KINGA_DATABASE_URL", settings.database_url.get_secret_value())
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args)
    finally:
        get_settings.cache_clear()
