"""`kinga mission create|list|show|update`, `kinga aor import FILE`, `kinga gazetteer import FILE`
and `kinga purge --source …`: missions as data (issue 13)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from app.cli.runner import run_async

T = TypeVar("T")


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=1)


def run_session(fn: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run `fn(session, settings)` on one async session (the API's services, from the CLI)."""
    from app.errors import DomainError

    async def work(maker: Any, settings: Any) -> T:
        async with maker() as session:
            return await fn(session, settings)

    try:
        return run_async(work)
    except DomainError as exc:
        where = "; ".join(f"{e['pointer']}: {e['detail']}" for e in exc.errors)
        _fail(exc.detail + (f" ({where})" if where else ""))
        raise  # unreachable


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _profile_options(name: str | None, countries: str | None, area: Path | None,
                     timezone: str | None, languages: str | None, seasons: Path | None,
                     cap_sender: str | None, decay_scale_days: float | None,
                     profile: Path | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if profile is not None:
        if not profile.is_file():
            _fail(f"no such file: {profile}")
        body.update(json.loads(profile.read_bytes()))
    if area is not None:
        if not area.is_file():
            _fail(f"no such file: {area}")
        body["area"] = json.loads(area.read_bytes())
    if seasons is not None:
        if not seasons.is_file():
            _fail(f"no such file: {seasons}")
        body["seasons"] = json.loads(seasons.read_bytes())
    for key, value in (("name", name), ("timezone", timezone), ("cap_sender", cap_sender),
                       ("decay_scale_days", decay_scale_days)):
        if value is not None:
            body[key] = value
    if countries is not None:
        body["countries"] = _csv(countries)
    if languages is not None:
        body["languages"] = _csv(languages)
    return body


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    mission_cli = typer.Typer(help="Missions: area, time zone, seasons, languages…",
                              no_args_is_help=True)
    aor_cli = typer.Typer(help="Areas of responsibility (sectors, field offices).",
                          no_args_is_help=True)
    gaz_cli = typer.Typer(help="The gazetteer: place names per mission.", no_args_is_help=True)
    cli.add_typer(mission_cli, name="mission")
    cli.add_typer(aor_cli, name="aor")
    cli.add_typer(gaz_cli, name="gazetteer")

    name_opt = typer.Option(None, help="Display name")
    countries_opt = typer.Option(None, help="ISO3 codes of bundled outlines, comma-separated")
    area_opt = typer.Option(None, help="GeoJSON file with the area of operations")
    tz_opt = typer.Option(None, "--timezone", help="IANA time zone, e.g. Region/City")
    lang_opt = typer.Option(None, help="language codes, comma-separated (app/data/languages)")
    seasons_opt = typer.Option(None, help="JSON file: [{name, months, speed_factor}]")
    sender_opt = typer.Option(None, help="CAP sender address")
    decay_opt = typer.Option(None, help="default recency-decay scale of threat layers (days)")
    profile_opt = typer.Option(None, help="JSON file with any profile fields")

    @mission_cli.command("create")
    def create(code: str, name: str | None = name_opt, countries: str | None = countries_opt,
               area: Path | None = area_opt, timezone: str | None = tz_opt,
               languages: str | None = lang_opt, seasons: Path | None = seasons_opt,
               cap_sender: str | None = sender_opt, decay_scale_days: float | None = decay_opt,
               profile: Path | None = profile_opt) -> None:
        """Create a mission: `kinga mission create CODE --name NAME --countries ISO3[,ISO3]
        --timezone Region/City` (an IANA zone)."""
        from app.services.missions import registry

        body = _profile_options(name, countries, area, timezone, languages, seasons, cap_sender,
                                decay_scale_days, profile)
        body["code"] = code
        out = run_session(lambda s, st: registry.create(s, st, body, "cli"))
        typer.echo(f"{out['code']}: {out['name']} ({out['timezone']}, "
                   f"{', '.join(out['countries']) or 'own area'})")

    @mission_cli.command("list")
    def list_() -> None:
        """One mission code per line, then its name and time zone."""
        from app.services.missions import registry

        for m in run_session(registry.listing):
            typer.echo(f"{m['code']}\t{m['name']}\t{m['timezone']}")

    @mission_cli.command("show")
    def show(code: str) -> None:
        """A mission's whole profile as JSON."""
        from app.services.missions import registry

        typer.echo(json.dumps(run_session(lambda s, st: registry.read(s, st, code)), indent=2,
                              default=str, ensure_ascii=False))

    @mission_cli.command("update")
    def update(code: str, name: str | None = name_opt, countries: str | None = countries_opt,
               area: Path | None = area_opt, timezone: str | None = tz_opt,
               languages: str | None = lang_opt, seasons: Path | None = seasons_opt,
               cap_sender: str | None = sender_opt, decay_scale_days: float | None = decay_opt,
               profile: Path | None = profile_opt) -> None:
        """Change some of a mission's profile (the code stays)."""
        from app.services.missions import registry

        body = _profile_options(name, countries, area, timezone, languages, seasons, cap_sender,
                                decay_scale_days, profile)
        if not body:
            _fail("nothing to change")
        out = run_session(lambda s, st: registry.update(s, st, code, body, "cli"))
        typer.echo(f"{out['code']}: updated ({', '.join(sorted(body))})")

    @aor_cli.command("import")
    def aor_import(file: Path, mission: str = typer.Option(..., help="mission code")) -> None:
        """Sectors and field offices from a GeoJSON FeatureCollection (properties name, kind =
        sector|field_office, parent = sector name). All or nothing; same name replaces."""
        from app.services.missions import aor

        if not file.is_file():
            _fail(f"no such file: {file}")
        try:
            doc = json.loads(file.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError):
            _fail(f"{file} is not JSON")
        out = run_session(lambda s, st: aor.import_aors(
            s, st, mission, aor.from_geojson(doc), "cli", prefix="/features"))
        typer.echo(f"aor: {out['imported']} areas for {out['mission']} "
                   f"({out['created']} new, {out['replaced']} replaced)")

    @gaz_cli.command("import")
    def gazetteer_import(file: Path,
                         mission: str | None = typer.Option(None, help="mission code (default: "
                                                            "shared by every mission)")) -> None:
        """Place names from a GeoNames-format file (tab-separated: id, name, asciiname,
        alternatenames, latitude, longitude, feature class, feature code, …)."""
        from app.cli.support import import_gazetteer

        if not file.is_file():
            _fail(f"no such file: {file}")
        typer.echo(import_gazetteer(file, mission))

    @cli.command("purge")
    def purge(source: str = typer.Option(..., help="ucdp, acled or geopko"),
              mission: str | None = typer.Option(None, help="only what was imported for it"),
              yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
        """Remove an import: every incident (with its reports) or Geo-PKO base from SOURCE,
        optionally only those imported for one mission. Audited."""
        from app.cli.support import purge_source

        if source not in ("ucdp", "acled", "geopko"):
            _fail("--source is ucdp, acled or geopko")
        if not yes and not typer.confirm(
                f"remove every {source} import{f' of mission {mission}' if mission else ''}?"):
            raise typer.Exit(code=1)
        from app.settings import get_settings

        typer.echo(purge_source(get_settings(), source, mission))
