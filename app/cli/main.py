"""`kinga` command line: local database, tokens, imports, bundled data, serving."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.settings import get_settings

cli = typer.Typer(help="Kinga: early warning for the protection of civilians.", no_args_is_help=True)
db_cli = typer.Typer(help="The database: local PostGIS cluster and migrations.", no_args_is_help=True)
token_cli = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
import_cli = typer.Typer(help="Import real event data.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(import_cli, name="import")


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=1)


@db_cli.command("up")
def db_up(ha: bool = typer.Option(False, "--ha", help="a pg_auto_failover monitor, primary and "
                                  "synchronous standby instead (docs/scale-out.md)")) -> None:
    """Create and start the local PostGIS cluster (no-op when KINGA_DATABASE_URL is set)."""
    from app import localdb

    settings = get_settings()
    if ha:
        from app.cli.ha import up

        up(settings)
        return
    if settings.database_url is not None:
        typer.echo("KINGA_DATABASE_URL is set: using that server.")
        return
    try:
        localdb.up(settings)
    except localdb.LocalDbError as exc:
        _fail(str(exc))
    typer.echo(f"PostGIS ready on 127.0.0.1:{settings.db_port}/{settings.db_name}")


@db_cli.command("down")
def db_down(ha: bool = typer.Option(False, "--ha", help="stop the replicated cluster")) -> None:
    """Stop the local cluster."""
    from app import localdb

    if ha:
        from app.cli.ha import down

        down(get_settings())
        return
    localdb.down(get_settings())


@db_cli.command("status")
def db_status() -> None:
    """Roles of the replicated cluster's nodes (as its monitor sees them) and what the service's
    URLs reach: the writer, the read server and its lag."""
    from app.cli.ha import status

    status(get_settings())


@db_cli.command("url")
def db_url(ha: bool = typer.Option(False, "--ha", help="the replicated cluster's writer URL"),
           read: bool = typer.Option(False, "--read", help="with --ha: the read URL")) -> None:
    """Print the database URL the service uses."""
    from app.localdb import resolve_url

    if ha:
        from app.cli.ha import url

        typer.echo(url(get_settings(), read=read))
        return
    typer.echo(resolve_url(get_settings()))


@db_cli.command("migrate")
def db_migrate(revision: str = "heads") -> None:
    """Apply Alembic migrations (all heads by default)."""
    from alembic import command
    from alembic.config import Config

    from app.settings import PROJECT_ROOT

    command.upgrade(Config(str(PROJECT_ROOT / "alembic.ini")), revision)


@token_cli.command("create")
def token_create(
    role: str = typer.Option(..., help="admin, analyst, operations, partner or integration"),
    name: str = typer.Option(..., help="Who or what holds the token"),
    expires_days: int | None = typer.Option(
        None, "--expires-days", help="Lifetime in days (default KINGA_TOKEN_DEFAULT_DAYS, 90)"),
    mission: str | None = typer.Option(None, help="limit the token to this mission (code)"),
    aor: str | None = typer.Option(None, help="… and to this area of responsibility in it (name): "
                                              "an operations token then sees and acts on its "
                                              "AOR's warnings only"),
) -> None:
    """Create a bearer token; it is printed once and stored only hashed."""
    from app.cli.support import create_token, find_aor, stored_mission
    from app.domain import Role
    from app.errors import DomainError

    if role not in {r.value for r in Role}:
        _fail(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}")
    settings = get_settings()
    if mission is not None and stored_mission(settings, mission) is None:
        _fail(f"no mission {mission!r}")
    aor_id = None
    if aor is not None:
        if mission is None:
            _fail("--aor needs --mission")
        else:
            aor_id = find_aor(settings, mission, aor)
            if aor_id is None:
                _fail(f"no area of responsibility {aor!r} in mission {mission!r}")
    try:
        typer.echo(create_token(settings, Role(role), name, expires_days=expires_days,
                                mission=mission.lower() if mission else None, aor_id=aor_id))
    except DomainError as exc:
        _fail(exc.errors[0]["pointer"] + ": " + exc.errors[0]["detail"] if exc.errors
              else exc.detail)


@token_cli.command("list")
def token_list() -> None:
    """List tokens: name, role, created, expires, last used, revoked (never a secret)."""
    from app.cli.support import list_tokens

    def when(value: object) -> str:
        return value.isoformat(timespec="minutes") if value is not None else "-"  # type: ignore[attr-defined]

    typer.echo("id\tname\trole\tcreated\texpires\tlast used\trevoked\tstate")
    for t in list_tokens(get_settings()):
        state = "active" if t["active"] else ("revoked" if t["revoked_at"] else "expired")
        typer.echo("\t".join([t["id"], t["name"], t["role"], when(t["created_at"]),
                              when(t["expires_at"]), when(t["last_used_at"]),
                              when(t["revoked_at"]), state]))


@token_cli.command("revoke")
def token_revoke(name: str) -> None:
    """Revoke every token with this name (refused by every server process at once)."""
    from app.cli.support import revoke_tokens

    typer.echo(f"revoked {revoke_tokens(get_settings(), name)} token(s)")


def _import(source: str, path: Path, status: str, approve: bool, mission: str | None,
            skip_outside: bool) -> None:
    from app.cli.support import run_import, stored_mission
    from app.domain import Role
    from app.errors import DomainError
    from app.services.incidents.import_pipeline import landing_status

    if not path.exists():
        _fail(f"no such file: {path}")
    if status not in ("entered", "validated", "approved"):
        _fail(f"unknown status {status!r}; entered, validated or approved (--approve)")
    # The command line is an administrator's tool (it holds the database's credentials).
    status = landing_status(Role.admin, status, approve)
    settings = get_settings()
    found = None
    if mission is not None:
        found = stored_mission(settings, mission)
        if found is None:
            _fail(f"no mission {mission!r} (kinga mission list; kinga mission create …)")
    elif skip_outside:
        _fail("--skip-outside needs --mission")
    try:
        summary = run_import(settings, source, path, status=status,
                             progress=sys.stderr.isatty(), actor="cli", mission=found,
                             skip_outside=skip_outside)
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(summary.render())
    if status == "approved":
        typer.echo(f"{summary.inserted} new incident(s) approved (audited as one batch)")


STATUS_OPT = typer.Option("validated", help="Workflow status of imported events: entered or "
                                            "validated (approved: use --approve)")
APPROVE_OPT = typer.Option(False, "--approve", help="Land the new events approved (audited as "
                                                    "one approval of the batch)")


MISSION_OPT = typer.Option(None, "--mission", help="assign to this mission (code); rows outside "
                                                   "its area are counted as outside_area")
SKIP_OPT = typer.Option(False, "--skip-outside", help="drop rows outside the mission's area")


@import_cli.command("ucdp")
def import_ucdp(
    file: Path,
    status: str = STATUS_OPT,
    approve: bool = APPROVE_OPT,
    mission: str | None = MISSION_OPT,
    skip_outside: bool = SKIP_OPT,
) -> None:
    """Import a UCDP GED export (GeoJSON or CSV, any country). Idempotent on the GED id."""
    _import("ucdp", file, status, approve, mission, skip_outside)


@import_cli.command("acled")
def import_acled(
    file: Path,
    status: str = STATUS_OPT,
    approve: bool = APPROVE_OPT,
    mission: str | None = MISSION_OPT,
    skip_outside: bool = SKIP_OPT,
) -> None:
    """Import an ACLED CSV export. Idempotent on event_id_cnty."""
    _import("acled", file, status, approve, mission, skip_outside)


@cli.command("seed")
def seed(mission: str | None = typer.Option(
        None, "--mission", help="a bundled mission (app/data/missions), or none; "
                                "default: KINGA_SEED, else the default mission")) -> None:
    """Load a bundled mission and its real data (events approved, audited as one batch per
    file; bases); re-running adds nothing. KINGA_SEED=none (or --mission none) loads nothing."""
    from app.cli.support import seed_bundled

    try:
        for line in seed_bundled(get_settings(), mission):
            typer.echo(line)
    except ValueError as exc:
        _fail(str(exc))


@cli.command("serve")
def serve(reload: bool = False,
          workers: int = typer.Option(1, min=1, help="uvicorn worker processes (one per core)"),
          ) -> None:
    """Serve the API under uvicorn on KINGA_HOST:KINGA_PORT.

    Several workers are safe: caches are per process and keyed on the data version, and the
    alert triage workers claim alerts with SKIP LOCKED (docs/alerts.md)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("app.main:app", host=settings.host, port=settings.port, reload=reload,
                workers=None if reload else workers)


def _register_extensions() -> None:
    import importlib
    import pkgutil

    from app import cli as cli_package

    for mod in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if mod.name in ("main", "support", "runner"):  # helpers, not command groups
            continue
        module = importlib.import_module(f"app.cli.{mod.name}")
        module.register(cli, import_cli)


_register_extensions()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
