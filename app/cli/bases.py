"""`kinga import bases FILE [--mission CODE]`: load Geo-PKO deployments as the bases registry
(idempotent)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @import_cli.command("bases")
    def import_bases(file: Path, mission: str | None = typer.Option(
            None, "--mission", help="the mission (code) whose rows to load: matches the file's "
                                    "Mission column, case-insensitively")) -> None:
        """Import Geo-PKO deployments, v2.3 yearly or v1 monthly layout: one base per location
        and period of presence on the mission's maps. Re-running adds nothing."""
        from app.cli.support import import_bases as run
        from app.cli.support import stored_mission
        from app.errors import DomainError
        from app.settings import get_settings

        if not file.exists():
            typer.echo(f"error: no such file: {file}", err=True)
            raise typer.Exit(code=1)
        settings = get_settings()
        found = None
        if mission is not None:
            found = stored_mission(settings, mission)
            if found is None:  # the file's Mission column still filters; no gazetteer entries
                from app.services.missions.profile import GENERIC

                found = replace(GENERIC, code=mission.strip().lower(), stored=False)
                typer.echo(f"note: no stored mission {mission!r}: its bases are kept under "
                           f"'{found.code}'; `kinga mission create {found.code} …` to use them",
                           err=True)
        try:
            read, inserted, places = run(settings, file, mission=found, actor="import:geopko")
        except DomainError as exc:
            where = "; ".join(f"{e['pointer']}: {e['detail']}" for e in exc.errors)
            typer.echo(f"error: {exc.detail}" + (f" ({where})" if where else ""), err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"bases: {read} read, {inserted} inserted, {read - inserted} already present"
                   + (f", gazetteer places {places}" if found is not None else ""))
