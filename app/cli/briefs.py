"""`kinga brief`: a situation brief for a day or a week, as JSON, HTML or PDF; `--due` runs the
scheduled generation once (what a scheduler or cron calls)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from app.errors import DomainError
from app.settings import get_settings


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @cli.command("brief")
    def brief(
        period: str = typer.Option("week", help="day or week"),
        as_of: str = typer.Option(None, "--as-of", help="last day covered, YYYY-MM-DD "
                                  "(mission time); default yesterday"),
        mission: str = typer.Option(None, help="mission code"),
        aor: str = typer.Option(None, help="area of responsibility (field office, sector)"),
        edition: str = typer.Option("full", help="full or partner"),
        fmt: str = typer.Option("pdf", "--format", help="json, html or pdf"),
        output: Path = typer.Option(None, "--output", "-o", help="file to write (default: "
                                    "the brief's own name in the current directory)"),
        keep: bool = typer.Option(False, help="also keep it as a dated record"),
        charts: bool = typer.Option(True, help="draw the charts and the map"),
        due: bool = typer.Option(False, help="generate the scheduled briefs that are due "
                                 "(daily and weekly, both editions) and exit"),
    ) -> None:
        """Generate a brief from the data alone."""
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            typer.echo(f"error: --as-of {as_of!r} is not a date (YYYY-MM-DD)", err=True)
            raise typer.Exit(code=2) from None
        try:
            out = asyncio.run(_run(period, day, mission, aor, edition, fmt, output, keep, charts,
                                   due))
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=2) from None
        typer.echo(out)


async def _run(period: str, as_of: date | None, mission: str | None, aor: str | None,
               edition: str, fmt: str, output: Path | None, keep_it: bool, charts: bool,
               due: bool) -> str:
    from app.db import make_async_engine, make_sessionmaker
    from app.services.briefs import service as svc
    from app.services.briefs.schedule import run_once

    settings = get_settings()
    engine = make_async_engine(settings)
    sessionmaker = make_sessionmaker(engine)
    try:
        if due:
            return f"{await run_once(sessionmaker, settings)} scheduled brief(s) kept"
        svc.check_format(fmt)
        ed = svc.edition_for(_staff(), edition)
        async with sessionmaker() as session:
            b: dict[str, Any] = await svc.generate(
                session, settings, period=period, as_of=as_of, mission=mission, aor=aor,
                edition=ed, now=datetime.now(UTC), charts=charts)
            if keep_it:
                await svc.keep(session, b, actor="cli", scheduled=False)
        base = f"http://{settings.host}:{settings.port}"
        rendered = await svc.as_format(b, fmt, base_url=base, settings=settings)
        path = output or Path(rendered.filename)
        path.write_bytes(rendered.body)
        kept = f" (kept as {b['id']})" if b.get("id") else ""
        print(b["content"]["title"], file=sys.stderr)
        return f"{path} ({len(rendered.body):,} bytes){kept}"
    finally:
        await engine.dispose()


def _staff() -> Any:
    from app.domain import Role

    return Role.analyst
