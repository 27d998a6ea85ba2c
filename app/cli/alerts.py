"""`kinga integration create|revoke|list` and `kinga webhooks deliver`, `kinga warnings scan`."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.runner import run_async as _run


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    integration_cli = typer.Typer(
        help="Alert integrations (CAN, partner systems, SMS gateways).", no_args_is_help=True
    )
    webhooks_cli = typer.Typer(help="Outbound warning webhooks.", no_args_is_help=True)
    warnings_cli = typer.Typer(help="Early warnings.", no_args_is_help=True)
    cli.add_typer(integration_cli, name="integration")
    cli.add_typer(webhooks_cli, name="webhooks")
    cli.add_typer(warnings_cli, name="warnings")

    @integration_cli.command("create")
    def create(
        name: str = typer.Option(..., help="Unique name of the integration"),
        formats: str = typer.Option("json,cap,sms", help="Allowed formats: json, cap, sms"),
        unsigned: bool = typer.Option(False, help="Accept requests without an HMAC signature"),
        section: str = typer.Option("civil_affairs", help="Report section its alerts count as"),
    ) -> None:
        """Register an integration. Prints its bearer token and then its signing secret, once."""
        from app.errors import DomainError
        from app.services.alerts import integrations

        async def work(maker: Any, settings: Any) -> Any:
            async with maker() as session:
                return await integrations.create(
                    session,
                    name=name,
                    formats=[f.strip() for f in formats.split(",") if f.strip()],
                    pepper=settings.token_pepper.get_secret_value(),
                    actor="cli",
                    require_signature=not unsigned,
                    section=section,
                )

        try:
            new = _run(work)
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"integration {new.name} ({', '.join(new.formats)}); token and signing secret:")
        typer.echo(f"{new.token} {new.signing_secret}")

    @integration_cli.command("revoke")
    def revoke(name: str) -> None:
        """Revoke an integration and its token."""
        from app.errors import DomainError
        from app.services.alerts import integrations

        async def work(maker: Any, settings: Any) -> None:
            async with maker() as session:
                await integrations.revoke(session, name, "cli")

        try:
            _run(work)
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"revoked integration {name}")

    @integration_cli.command("list")
    def listing() -> None:
        """List integrations (no secrets)."""
        from app.services.alerts import integrations

        async def work(maker: Any, settings: Any) -> Any:
            async with maker() as session:
                return await integrations.listing(session)

        for row in _run(work):
            state = "revoked" if row["revoked_at"] else "active"
            typer.echo(f"{row['name']}\t{','.join(row['formats'])}\t{state}")

    @webhooks_cli.command("deliver")
    def deliver() -> None:
        """Attempt every webhook delivery that is due now (the server's dispatcher also does)."""
        from app.services.warnings import webhooks

        typer.echo(f"attempted {_run(webhooks.deliver_all_due)} deliveries")

    @warnings_cli.command("scan")
    def scan() -> None:
        """Apply the hotspot warning rules (threat level, emerging pattern) now."""
        from datetime import UTC, datetime

        from app.services.warnings import lifecycle as warnings

        async def work(maker: Any, settings: Any) -> Any:
            async with maker() as session:
                return await warnings.scan_hotspots(session, settings, now=datetime.now(UTC))

        typer.echo(f"raised {len(_run(work)['raised'])} warnings")
