"""`kinga import bases FILE`: load Geo-PKO deployments as the bases registry (idempotent)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @import_cli.command("bases")
    def import_bases(file: Path) -> None:
        """Import Geo-PKO deployments (e.g. geodata/geopko-minusca-deployments.csv): one base per
        location and contiguous span of years. Re-running adds nothing."""
        from app.cli.support import connect
        from app.repositories.bases import import_rows
        from app.services.bases.registry import geopko_bases
        from app.settings import get_settings

        if not file.exists():
            typer.echo(f"error: no such file: {file}", err=True)
            raise typer.Exit(code=1)
        settings = get_settings()
        try:
            rows = geopko_bases(file, settings.troops_per_road_patrol,
                                settings.troops_per_foot_patrol)
        except (ValueError, KeyError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from None
        with connect(settings) as conn:
            inserted = import_rows(conn, rows, actor="import:geopko")
        typer.echo(f"bases: {len(rows)} read, {inserted} inserted, "
                   f"{len(rows) - inserted} already present")
