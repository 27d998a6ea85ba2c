"""`kinga settings [--area A] [--markdown]`: every setting by area, as its KINGA_ environment
variable with its default and the value in effect (secrets masked). `--markdown` writes the
reference in docs/configuration.md (a test keeps that file equal to this output)."""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic import SecretStr

HEADER = """# Configuration

Every setting is one environment variable with the `KINGA_` prefix (or a line in `.env`). They
are grouped by area in `app/settings.py`, one class per area, where a comment above each gives
its reason. Older names keep working: `KINGA_HOTSPOT_CACHE_MB` is read when
`KINGA_LAYER_CACHE_MB` is not set. `kinga settings` prints the values in effect.

This file is written by `kinga settings --markdown > docs/configuration.md`.
"""


def _show(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "(secret)"
    if value is None:
        return "(unset)"
    try:
        return json.dumps(value, default=str)
    except TypeError:
        return str(value)


def markdown() -> str:
    from app.settings import AREAS, PROJECT_ROOT

    out = [HEADER]
    for name, cls in AREAS.items():
        out.append(f"## {name}\n\n{(cls.__doc__ or '').strip()}\n")
        out.append("| variable | default |\n|---|---|")
        for field, info in cls.model_fields.items():
            default = info.get_default(call_default_factory=True)
            if hasattr(default, "is_relative_to") and default.is_relative_to(PROJECT_ROOT):
                default = f"<project>/{default.relative_to(PROJECT_ROOT)}"
            out.append(f"| `KINGA_{field.upper()}` | `{_show(default)}` |")
        out.append("")
    return "\n".join(out)


def register(cli: typer.Typer, import_cli: typer.Typer) -> None:
    @cli.command("settings")
    def settings_cmd(
        area: str | None = typer.Option(None, help="only this area"),
        as_markdown: bool = typer.Option(False, "--markdown",
                                         help="the reference table of docs/configuration.md"),
    ) -> None:
        """Every setting by area, with the value in effect."""
        from app.settings import AREAS, get_settings

        if as_markdown:
            typer.echo(markdown(), nl=False)
            return
        if area is not None and area not in AREAS:
            typer.echo(f"error: unknown area {area!r} (one of {', '.join(AREAS)})", err=True)
            raise typer.Exit(code=2)
        current = get_settings()
        for name, cls in AREAS.items():
            if area is not None and name != area:
                continue
            typer.echo(f"[{name}]")
            for field in cls.model_fields:
                typer.echo(f"  KINGA_{field.upper()} = {_show(getattr(current, field))}")
