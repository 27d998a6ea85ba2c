"""`kinga triangulation …`: evaluate the matcher against the labelled set, load actor aliases,
draw a candidate sample for labelling."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from app.settings import Settings

LABELS = Path("triangulation") / "car-2013-2015-labels.csv"


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=1)


def _bundled_ged(settings: Settings) -> Path:
    """The UCDP file the default mission's profile seeds from (app/data/missions)."""
    from app.services.missions.profile import fallback

    for event_file in fallback(settings).seed.get("events", []):
        if event_file.get("source") == "ucdp":
            return Path(settings.geodata_dir) / event_file["file"]
    raise typer.BadParameter("the default mission bundles no UCDP file: give --ucdp")


def _bundled_aliases(settings: Settings) -> Path:
    """The actor alias list the default mission's profile seeds (app/data/missions)."""
    from app.services.missions.profile import fallback

    for file in fallback(settings).seed.get("actor_aliases", []):
        return Path(settings.geodata_dir) / file
    raise typer.BadParameter("the default mission bundles no actor aliases: give --aliases")


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    tri = typer.Typer(help="Triangulation: one event, one incident.", no_args_is_help=True)
    cli.add_typer(tri, name="triangulation")

    @tri.command("evaluate")
    def evaluate(
        acled: Path = typer.Option(..., help="ACLED CAR 2013-2015 export (not bundled)"),
        ucdp: Path | None = typer.Option(None, help="UCDP GED GeoJSON (default: the bundled one)"),
        labels: Path | None = typer.Option(None, help="labelled pairs (default: the bundled set)"),
        aliases: Path | None = typer.Option(None, help="actor aliases CSV (default: the default mission's)"),
        step: float = typer.Option(0.05, min=0.01, max=0.5, help="threshold step"),
    ) -> None:
        """Precision and recall at each threshold on the hand-labelled CAR 2013-2015 pairs: the
        matcher as an import of ACLED on top of UCDP would run it (docs/triangulation.md)."""
        from app.services.triangulation import evaluation as ev
        from app.services.triangulation.scoring import ScoreParams
        from app.settings import get_settings

        settings = get_settings()
        geo = settings.geodata_dir
        paths = {"acled": acled, "ucdp": ucdp or _bundled_ged(settings),
                 "labels": labels or geo / LABELS,
                 "aliases": aliases or _bundled_aliases(settings)}
        for name, p in paths.items():
            if not p.exists():
                _fail(f"no such file ({name}): {p}")
        lab = ev.read_labels(paths["labels"])
        typer.echo("labelled set: " + ", ".join(f"{k} {v}" for k, v in ev.label_summary(lab).items()))
        store = ev.load_frame("ucdp", paths["ucdp"])
        batch = ev.load_frame("acled", paths["acled"])
        run = ev.simulate(store, "ucdp", batch, "acled", ev.read_aliases(paths["aliases"]),
                          ScoreParams(slack_km=settings.triangulation_slack_km,
                                      slack_days=settings.triangulation_slack_days))
        steps = [round(0.3 + i * step, 4) for i in range(int(round((0.99 - 0.3) / step)) + 1)]
        rows = ev.evaluate(run, lab, steps)
        typer.echo(f"candidate pairs scored: {len(run.scores)}")
        typer.echo("threshold  precision (correct/predicted)  recall (same found/same)  "
                   "predicted outside the sample")
        for r in rows:
            mark = []
            if math.isclose(r["threshold"], settings.triangulation_auto_link):
                mark.append("auto-link")
            if math.isclose(r["threshold"], settings.triangulation_review):
                mark.append("review")
            prec = "  -  " if r["predicted_labelled"] == 0 else f"{r['precision']:.3f}"
            typer.echo(f"  {r['threshold']:.2f}     {prec} ({r['correct']}/"
                       f"{r['predicted_labelled']})              {r['recall']:.3f} "
                       f"({r['same_found']}/{r['same_total']})              "
                       f"{r['predicted_unlabelled']}" + (f"   <- {', '.join(mark)}" if mark else ""))
        typer.echo(f"thresholds in use: auto-link {settings.triangulation_auto_link:.2f}, "
                   f"review {settings.triangulation_review:.2f}")

    @tri.command("sample")
    def sample(
        acled: Path = typer.Option(..., help="ACLED export"),
        ucdp: Path | None = typer.Option(None, help="UCDP GED GeoJSON (default: the bundled one)"),
        start: str = "2013-01-01", end: str = "2016-01-01", events: int = 110, per_event: int = 6,
        seed: int = 14,
    ) -> None:
        """Print the candidate pairs the labelled set was drawn from (CSV), to label anew."""
        from app.services.triangulation import evaluation as ev
        from app.settings import get_settings

        store = ev.load_frame("ucdp", ucdp or _bundled_ged(get_settings()))
        batch = ev.load_frame("acled", acled)
        out = ev.sample_pairs(store, batch, start=start, end=end, events=events,
                              per_event=per_event, seed=seed)
        typer.echo(out.to_csv(index=False), nl=False)

    @tri.command("aliases")
    def load_aliases(
        file: Path,
        mission: str | None = typer.Option(None, help="mission code (default: every mission)"),
    ) -> None:
        """Load actor aliases (CSV: alias, canonical, valid_from, valid_to) into the editable
        alias table; rows already present are kept."""
        from app.cli.support import load_aliases as run

        if not file.exists():
            _fail(f"no such file: {file}")
        from app.settings import get_settings

        n, read = run(get_settings(), file, mission)
        typer.echo(f"aliases: {read} read, {n} inserted, {read - n} already present")
