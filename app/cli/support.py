"""What the CLI does, over one direct database connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from app.db import libpq_url
from app.domain import Role
from app.localdb import resolve_url
from app.repositories import tokens as token_repo
from app.services.auth import hash_token, new_token
from app.services.incidents.import_pipeline import ImportSummary, import_file
from app.settings import Settings


@contextmanager
def connect(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq_url(resolve_url(settings))) as conn:
        yield conn


def create_token(settings: Settings, role: Role, name: str) -> str:
    token = new_token()
    with connect(settings) as conn:
        token_repo.insert(conn, name=name, role=role.value,
                          token_hash=hash_token(token, settings.token_pepper.get_secret_value()))
        conn.execute(
            "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
            "VALUES ('cli', 'create', 'api_token', %s, %s)",
            (name, psycopg.types.json.Jsonb({"role": role.value})),
        )
    return token


def revoke_tokens(settings: Settings, name: str) -> int:
    with connect(settings) as conn:
        return token_repo.revoke_by_name(conn, name)


def run_import(settings: Settings, source: str, path: Path, *, status: str = "approved",
               progress: bool = False, actor: str | None = None) -> ImportSummary:
    from app.services.triangulation.service import MatchConfig

    url = libpq_url(resolve_url(settings))
    with connect(settings) as conn:
        return import_file(conn, source, path, status=status, actor=actor or f"import:{source}",
                           h3_res=settings.h3_resolution, progress=progress,
                           connect=lambda: psycopg.connect(url),
                           match=MatchConfig.from_settings(settings))


def load_aliases(settings: Settings, path: Path, mission: str | None,
                 actor: str = "cli") -> tuple[int, int]:
    """(inserted, read) actor aliases from a CSV (alias, canonical, valid_from, valid_to)."""
    from app.repositories.triangulation import add_aliases_sync
    from app.services.triangulation.evaluation import read_aliases

    rows = [{"m": mission, "alias": a.alias, "canonical": a.canonical, "f": a.valid_from,
             "t": a.valid_to} for a in read_aliases(path)]
    with connect(settings) as conn:
        return add_aliases_sync(conn, rows, actor), len(rows)


def seed_bundled(settings: Settings) -> Iterator[str]:
    """The bundled real data: UCDP GED CAR events and the Geo-PKO MINUSCA bases (idempotent)."""
    from app.repositories.bases import import_rows
    from app.services.bases.registry import geopko_bases

    aliases = settings.geodata_dir / "triangulation" / "actor-aliases-car.csv"
    inserted, read = load_aliases(settings, aliases, settings.triangulation_mission, actor="seed")
    yield f"actor aliases: {read} read, {inserted} inserted, {read - inserted} already present"
    ged = settings.geodata_dir / "ucdp-ged-v23.1-caf.geojson"
    summary = run_import(settings, "ucdp", ged, actor="seed")
    yield summary.render()
    rows = geopko_bases(settings.geodata_dir / "geopko-minusca-deployments.csv",
                        settings.troops_per_road_patrol, settings.troops_per_foot_patrol)
    with connect(settings) as conn:
        inserted = import_rows(conn, rows, actor="seed")
    yield f"bases: {len(rows)} read, {inserted} inserted, {len(rows) - inserted} already present"
