"""The `kinga` command: `main` builds the Typer app; every other module here (but `support`) adds
its sub-commands through `register(cli, import_cli)`."""

from app.cli.main import main

__all__ = ["main"]
