"""`kinga reporters new-key|reencrypt|purge`: reporter contact keys and retention
(docs/reporters.md)."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.runner import run_async as _run


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    reporters_cli = typer.Typer(help="Reporter contacts: encryption keys and retention.",
                                no_args_is_help=True)
    cli.add_typer(reporters_cli, name="reporters")

    @reporters_cli.command("new-key")
    def new_key() -> None:
        """Print a new key: put it FIRST in KINGA_REPORTER_CONTACT_KEYS, keep the old ones after
        it, restart, run `kinga reporters reencrypt`, then drop the old keys."""
        from app.services.reporters.crypto import new_key as make

        typer.echo(make())

    @reporters_cli.command("reencrypt")
    def reencrypt() -> None:
        """Re-encrypt every stored contact under the first key (the step of a key rotation)."""
        from app.services.reporters import contacts
        from app.services.reporters.crypto import UndecryptableContact

        async def work(maker: Any, settings: Any) -> dict[str, int]:
            async with maker() as session:
                return await contacts.reencrypt_all(session, settings)

        try:
            done = _run(work)
        except UndecryptableContact as exc:
            typer.echo(f"error: {exc}: keep the old key in KINGA_REPORTER_CONTACT_KEYS until "
                       "re-encryption has finished", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"re-encrypted {done['alert']} alert contact(s) and {done['report']} report "
                   "reference(s) under the first key")

    @reporters_cli.command("purge")
    def purge() -> None:
        """Blank contacts older than KINGA_REPORTER_CONTACT_TTL_DAYS now (the scheduler does this
        every KINGA_RETENTION_EVERY_S)."""
        from datetime import UTC, datetime

        from app.services.reporters import contacts

        async def work(maker: Any, settings: Any) -> int:
            async with maker() as session:
                n = await contacts.purge_expired(session, settings, datetime.now(UTC))
                await session.commit()
                return n

        typer.echo(f"blanked the contacts of {_run(work)} alert(s) and report(s)")
