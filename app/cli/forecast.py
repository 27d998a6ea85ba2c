"""`kinga backtest`: rolling-origin backtest of every forecast method and of `auto` (the nested
per-area selection), the planning coverage it implies, and the model card it stores."""

from __future__ import annotations

import asyncio
import json
import time
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
    """Fixed-width tables: methods (auto first, then models, then baselines), the ceiling, the
    reliability of auto's P(>=1) and the planning coverage."""
    head = f"{'method':<14}" + "".join(
        f"{c:>28}" if c.startswith("pai_1pct_mean") else f"{c:>19}" for c in COLUMNS
    )
    lines = [head, "-" * len(head)]
    for name, m in result["methods"].items():
        cells = []
        for c in COLUMNS:
            width = 28 if c.startswith("pai_1pct_mean") else 19
            v = m.get(c)
            cells.append(f"{'-' if v is None else v:>{width}}")
        lines.append(f"{name:<14}" + "".join(cells))
    clim = (result.get("climatology") or {}).get("brier")
    lines.append(
        f"origins {result['origins']} (+{result.get('warmup_origins', 0)} warm-up), incidents "
        f"scored {result['incidents']}, area {result['domain_cells']} cells ({result['area']}, "
        f"res {result['res']}); climatology Brier {clim}"
    )
    lines.append(
        f"shipped: {result.get('shipped')}; best baseline by PAI@1%: {result['best_baseline']}; "
        f"shipped / best baseline = {result.get('shipped_vs_best_baseline')}"
    )
    ceiling = result.get("ceiling")
    if ceiling:
        lines.append("ceiling (clairvoyant oracle, not a method): PAI@1% / PAI@5% / share in set"
                     " / gap closed by the shipped model")
        for name, c in ceiling.items():
            lines.append(
                f"  {name:<26}{c['pai_1pct']:>9}{c['pai_5pct']:>9}"
                f"{c['share_of_incidents_in_set']:>9}"
                f"{(result.get('gap_closed') or {}).get(name)!s:>9}"
            )
    sel = result.get("selection")
    if sel:
        lines.append(f"auto chose: {sel.get('counts')}; serves next: "
                     f"{(result.get('final') or {}).get('chosen')}")
    rel = result["methods"].get("auto", {}).get("reliability") or []
    if rel:
        lines.append("reliability of auto's P(>=1): bin / cells / mean p / observed / |diff| / "
                     "binomial s.e.")
        for r in rel:
            diff = abs((r["mean_p"] or 0) - (r["observed"] or 0))
            lines.append(f"  {r['p_low']:>5}-{r['p_high']:<6}{r['cells']:>9}{r['mean_p']:>9}"
                         f"{r['observed']:>9}{diff:>9.4f}{r.get('se')!s:>9}")
    iv = result["methods"].get("auto", {}).get("interval_80")
    if iv:
        lines.append(f"80% intervals held: cells {iv['cells']}, top-1% cells "
                     f"{iv['top_1pct_cells']}, area totals {iv['area_totals']} "
                     f"(mean width {iv['area_total_mean_width']})")
    plan = result.get("planning")
    if plan:
        lines.append(f"planning: share of the next {plan['horizon_days']} days' incidents in "
                     f"cells the plan patrols, by forecast_weight (0 = without forecast)")
        for scen in ("registry_capacity", "scarce_capacity"):
            row = plan.get(scen) or {}
            lines.append(f"  {scen:<18}" + "".join(
                f"  w={w['weight']}: {w['share']}" for w in row.get("by_weight", [])))
        lines.append(f"  default forecast_weight chosen: {plan.get('default')}")
    if "seconds" in result:
        lines.append(f"wall time {result['seconds']} s")
    return "\n".join(lines)


async def _load(res: int, end: Any, mission: str | None) -> Any:
    from app.db import make_async_engine, make_sessionmaker
    from app.services import forecast as svc
    from app.services.forecast.area import forecast_area
    from app.services.missions import registry
    from app.settings import get_settings

    settings = get_settings()
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            scope = await registry.scope(session, settings, mission, pointer="/mission")
            area = forecast_area(settings, scope.mission)
            ev, stamp = await svc.load_backtest_events(session, res, end, settings, area)
    finally:
        await engine.dispose()
    return ev, stamp, area


async def _plan_and_store(result: dict[str, Any], ev: Any, periods: list[Any], store: bool,
                          stamp: tuple[Any, ...]) -> dict[str, Any] | None:
    from app.db import make_async_engine, make_sessionmaker
    from app.services import forecast as svc
    from app.services.planning import forecast_weight
    from app.settings import get_settings

    settings = get_settings()
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            planning = await forecast_weight.coverage_backtest(
                session, settings, result, ev, periods
            )
            card = svc.build_card(result, planning)
            if store:
                version = int(stamp[2]) if stamp and stamp[0] == "version" else None
                await svc.store_card(session, card, version)
            return planning
    finally:
        await engine.dispose()


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @cli.command("backtest")
    def backtest(
        res: int = typer.Option(6, help="H3 resolution (4-7)"),
        horizon: str = typer.Option("quarter", help="quarter or 4weeks"),
        start: str = typer.Option(..., help="first origin on or after this date (YYYY-MM-DD)"),
        end: str = typer.Option(..., help="last origin on or before this date (YYYY-MM-DD)"),
        mission: str | None = typer.Option(
            None, "--mission", help="this stored mission's area and incidents (default: the "
            "default mission's area)"
        ),
        methods: str = typer.Option("", help="comma-separated models; baselines always run"),
        json_out: Path | None = typer.Option(None, "--json", help="also write the result here"),
        store: bool = typer.Option(
            True, help="store the model card (what `auto` serves) for this area"
        ),
        plans: bool = typer.Option(True, help="also backtest the plans' coverage"),
    ) -> None:
        """Rolling-origin backtest: every origin trains strictly on earlier incidents; `auto`
        chooses at each origin from earlier origins only; the final choice is stored as the
        area's model card."""
        from tqdm import tqdm

        from app.errors import DomainError
        from app.services import forecast as svc
        from app.settings import get_settings

        settings = get_settings()
        t0 = time.perf_counter()
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
            ev, stamp, area = asyncio.run(_load(res, periods[-1][1], mission))
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=2) from None
        steps = svc.backtest_steps(periods, settings)
        with tqdm(total=steps, desc="origins", unit="origin") as bar:
            result = svc.run_backtest(
                ev, res, horizon, periods, names, settings, progress=bar.update, area=area
            )
        planning = None
        if plans or store:
            planning = asyncio.run(_plan_and_store(result, ev, periods, store, stamp))
        result["planning"] = planning
        result["seconds"] = round(time.perf_counter() - t0, 1)
        out = svc.json_ready(result)
        typer.echo(table(out))
        text = json.dumps(out, indent=2, default=str)
        if json_out is not None:
            json_out.write_text(text)
            typer.echo(f"written to {json_out}")
        else:
            typer.echo(text)
