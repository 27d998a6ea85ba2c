"""`kinga backtest`: rolling-origin backtest of every forecast method on the stored incidents."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

COLUMNS = (
    "pai_1pct",
    "pai_5pct",
    "harm_capture_1pct",
    "harm_capture_5pct",
    "brier",
    "pai_1pct_mean_over_origins",
)


def table(result: dict[str, Any]) -> str:
    """Fixed-width table: one row per method, models first, then baselines."""
    head = f"{'method':<12}" + "".join(
        f"{c:>28}" if c.startswith("pai_1pct_mean") else f"{c:>19}" for c in COLUMNS
    )
    lines = [head, "-" * len(head)]
    for name, m in result["methods"].items():
        cells = []
        for c in COLUMNS:
            width = 28 if c.startswith("pai_1pct_mean") else 19
            v = m.get(c)
            cells.append(f"{'-' if v is None else v:>{width}}")
        lines.append(f"{name:<12}" + "".join(cells))
    lines.append(
        f"origins {result['origins']}, incidents scored {result['incidents']}, "
        f"area {result['domain_cells']} cells ({result['area']}, res {result['res']}), "
        f"best baseline by PAI@1%: {result['best_baseline']}"
    )
    ceiling = result.get("ceiling")
    if ceiling:
        lines.append("ceiling (clairvoyant oracle, not a method): PAI@1% / PAI@5% / share in set")
        for name, c in ceiling.items():
            lines.append(
                f"  {name:<26}{c['pai_1pct']:>9}{c['pai_5pct']:>9}"
                f"{c['share_of_incidents_in_set']:>9}"
            )
    return "\n".join(lines)


async def _load(res: int, end: Any, mission: str | None) -> Any:
    from app.db import make_async_engine, make_sessionmaker
    from app.services import forecast as svc
    from app.services.missions import registry
    from app.settings import get_settings

    settings = get_settings()
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            scope = await registry.scope(session, settings, mission, pointer="/mission")
            ev, _ = await svc.load_backtest_events(session, res, end, settings,
                                                   clip_area=scope.area)
    finally:
        await engine.dispose()
    return ev, scope.mission


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @cli.command("backtest")
    def backtest(
        res: int = typer.Option(6, help="H3 resolution (4-7)"),
        horizon: str = typer.Option("quarter", help="quarter or 4weeks"),
        start: str = typer.Option(..., help="first origin on or after this date (YYYY-MM-DD)"),
        end: str = typer.Option(..., help="last origin on or before this date (YYYY-MM-DD)"),
        methods: str = typer.Option("", help="comma-separated models; baselines always run"),
        json_out: Path | None = typer.Option(None, "--json", help="also write the result here"),
        mission: str | None = typer.Option(None, "--mission",
                                           help="only this mission's area (and its incidents)"),
    ) -> None:
        """Rolling-origin backtest: every origin trains strictly on earlier incidents."""
        from tqdm import tqdm

        from app.errors import DomainError
        from app.services import forecast as svc
        from app.settings import get_settings

        settings = get_settings()
        try:
            s, e = date.fromisoformat(start), date.fromisoformat(end)
            chosen = [m.strip() for m in methods.split(",") if m.strip()] or None
            periods, names = svc.backtest_plan(
                res, horizon, s, e, chosen, settings, limit_origins=False
            )
        except (ValueError, DomainError) as exc:
            typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
            raise typer.Exit(code=2) from None
        try:
            ev, found = asyncio.run(_load(res, periods[-1][1], mission))
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=2) from None
        with tqdm(total=len(periods), desc="origins", unit="origin") as bar:
            result = svc.run_backtest(
                ev, res, horizon, periods, names, settings, progress=bar.update, mission=found
            )
        typer.echo(table(result))
        text = json.dumps(result, indent=2, default=str)
        if json_out is not None:
            json_out.write_text(text)
        typer.echo(text)
