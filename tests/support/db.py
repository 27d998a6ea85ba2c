"""A fresh, migrated database on the configured PostGIS server (the project's own cluster, or
KINGA_DATABASE_URL's): the test session's database and every benchmark's own."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app import localdb
from app.db import libpq_url
from app.settings import PROJECT_ROOT, Settings


def with_db(url: str, name: str) -> str:
    """The same server URL with another database name (query string kept)."""
    base, _, rest = url.rpartition("/")
    query = "?" + rest.split("?", 1)[1] if "?" in rest else ""
    return f"{base}/{name}{query}"


def fresh_database(name: str, settings: Settings | None = None) -> str:
    """Drop and recreate `name` (PostGIS enabled), apply every migration; returns its SQLAlchemy
    URL as configured (use `app.db.libpq_url` for psycopg)."""
    base_url = localdb.resolve_url(settings or Settings())
    localdb.ensure_database(libpq_url(with_db(base_url, "postgres")), name, fresh=True)
    url = with_db(base_url, name)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(cfg, "heads")
    return url
