"""Alembic environment: the URL comes from the service's settings (or -x url=...), never from alembic.ini."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from app.db import sync_url
from app.localdb import resolve_url
from app.models import Base
from app.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    return sync_url(explicit or resolve_url(get_settings()))


# Objects that migrations manage in raw SQL, not through the ORM models: PostGIS's own table,
# the data-version table bumped by triggers (0005), the incident change log its triggers fill
# (0007), the covering hotspot index with INCLUDE (0002).
SQL_MANAGED_TABLES = {"spatial_ref_sys", "data_version", "incident_change"}
SQL_MANAGED_INDEXES = {"ix_incident_hotspot"}


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and name in SQL_MANAGED_TABLES:
        return False
    if type_ == "index" and name in SQL_MANAGED_INDEXES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=_include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
