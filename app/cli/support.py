"""What the CLI does, over one direct database connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from app.db import libpq_url
from app.domain import Role
from app.localdb import resolve_url
from app.repositories import tokens as token_repo
from app.services.auth import hash_token, new_token
from app.services.credentials import tokens as credentials
from app.services.incidents.import_pipeline import ImportSummary, import_file
from app.settings import Settings


@contextmanager
def connect(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq_url(resolve_url(settings))) as conn:
        yield conn


def create_token(settings: Settings, role: Role, name: str, *,
                 expires_days: int | None = None) -> str:
    """A new token (printed once by the CLI), expiring after `expires_days` (default
    KINGA_TOKEN_DEFAULT_DAYS); audited."""
    expires_at = credentials.expiry(settings, expires_days, datetime.now(UTC),
                                    pointer="--expires-days")
    token = new_token()
    with connect(settings) as conn:
        token_id = token_repo.insert(
            conn, name=name, role=role.value, expires_at=expires_at, created_by="cli",
            token_hash=hash_token(token, settings.token_pepper.get_secret_value()))
        token_repo.audit_sync(conn, actor="cli", action="create", object_id=token_id,
                              after={"name": name, "role": role.value,
                                     "expires_at": expires_at.isoformat()})
    return token


def list_tokens(settings: Settings) -> list[dict[str, Any]]:
    """Every token as listed by GET /api/v1/tokens: no secret, no hash."""
    with connect(settings) as conn:
        rows = token_repo.list_sync(conn)
    now = datetime.now(UTC)
    return [credentials.present(r, now) for r in rows]


def revoke_tokens(settings: Settings, name: str) -> int:
    """Revoke every active token with this name (and its integration); audited; every server
    process refuses them as soon as this commits."""
    with connect(settings) as conn:
        ids = token_repo.revoke_by_name(conn, name)
        for token_id in ids:
            token_repo.audit_sync(conn, actor="cli", action="revoke", object_id=token_id,
                                  after={"name": name})
    return len(ids)


def run_import(settings: Settings, source: str, path: Path, *, status: str = "validated",
               progress: bool = False, actor: str | None = None) -> ImportSummary:
    url = libpq_url(resolve_url(settings))
    with connect(settings) as conn:
        return import_file(conn, source, path, status=status, actor=actor or f"import:{source}",
                           h3_res=settings.h3_resolution, progress=progress,
                           connect=lambda: psycopg.connect(url))


def seed_bundled(settings: Settings) -> Iterator[str]:
    """The bundled real data: UCDP GED CAR events and the Geo-PKO MINUSCA bases (idempotent)."""
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    ged = settings.geodata_dir / "ucdp-ged-v23.1-caf.geojson"
    # The bundled demonstration data is approved, audited as one batch (app.services.incidents.
    # import_pipeline), so the demo and its scores are those of approved data.
    summary = run_import(settings, "ucdp", ged, status="approved", actor="seed")
    yield summary.render()
    rows = geopko_bases(settings.geodata_dir / "geopko-minusca-deployments.csv",
                        settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
    with connect(settings) as conn:
        inserted = import_rows(conn, rows, actor="seed")
    yield f"bases: {len(rows)} read, {inserted} inserted, {len(rows) - inserted} already present"
