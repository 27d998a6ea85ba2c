"""What the CLI does, over one direct database connection."""

from __future__ import annotations

import json
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
from app.services.missions.profile import Mission
from app.settings import Settings


@contextmanager
def connect(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq_url(resolve_url(settings))) as conn:
        yield conn


def create_token(settings: Settings, role: Role, name: str, *,
                 expires_days: int | None = None, mission: str | None = None,
                 aor_id: Any = None) -> str:
    """A new token (printed once by the CLI), expiring after `expires_days` (default
    KINGA_TOKEN_DEFAULT_DAYS), optionally limited to one mission (and AOR); audited."""
    expires_at = credentials.expiry(settings, expires_days, datetime.now(UTC),
                                    pointer="--expires-days")
    token = new_token()
    with connect(settings) as conn:
        token_id = token_repo.insert(
            conn, name=name, role=role.value, expires_at=expires_at, created_by="cli",
            token_hash=hash_token(token, settings.token_pepper.get_secret_value()),
            mission=mission, aor_id=aor_id)
        token_repo.audit_sync(conn, actor="cli", action="create", object_id=token_id,
                              after={"name": name, "role": role.value, "mission": mission,
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
               progress: bool = False, actor: str | None = None, mission: Mission | None = None,
               skip_outside: bool = False) -> ImportSummary:
    from app.services.triangulation.service import MatchConfig

    url = libpq_url(resolve_url(settings))
    with connect(settings) as conn:
        return import_file(conn, source, path, status=status, actor=actor or f"import:{source}",
                           h3_res=settings.h3_resolution, progress=progress,
                           connect=lambda: psycopg.connect(url), mission=mission,
                           skip_outside=skip_outside,
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


def stored_mission(settings: Settings, code: str) -> Mission | None:
    """A stored mission's profile (None if there is none)."""
    from app.repositories import missions as mission_repo
    from app.services.missions import registry

    with connect(settings) as conn:
        row = conn.execute(
            "SELECT code, name, timezone, countries, profile, ST_AsGeoJSON(area, 7) AS area, "
            "extract(epoch FROM updated_at)::text AS version FROM mission WHERE code = %s",
            (code.lower(),)).fetchone()
    if row is None:
        return None
    cols = ("code", "name", "timezone", "countries", "profile", "area", "version")
    return registry.from_row(mission_repo._mission(dict(zip(cols, row, strict=True))), settings)


def import_bases(settings: Settings, path: Path, *, mission: Mission | None, actor: str
                 ) -> tuple[int, int, int]:
    """Geo-PKO deployments as bases (app.services.bases.registry.import_geopko)."""
    from app.services.bases.registry import import_geopko

    with connect(settings) as conn:
        return import_geopko(conn, path, settings, mission=mission, actor=actor)


def seed_bundled(settings: Settings, mission_code: str | None = None) -> Iterator[str]:
    """A bundled mission's data (its profile file's `seed`: events and Geo-PKO bases), and its
    profile as a stored mission; idempotent. KINGA_SEED=none seeds nothing."""
    from app.services.missions import profile as mission_profile

    choice = (mission_code or settings.seed or "default").lower()
    if choice == "none":
        yield "seed: none (KINGA_SEED=none): the store stays empty"
        return
    code = mission_profile.default_code(settings) if choice == "default" else choice
    if code == "none":
        yield "seed: no default mission is bundled; nothing loaded"
        return
    mission = mission_profile.bundled(code, settings.geodata_dir)
    if mission is None:
        raise ValueError(f"no bundled mission {code!r}; bundled: "
                         f"{', '.join(mission_profile.bundled_codes())}")
    with connect(settings) as conn:
        created = conn.execute(
            "INSERT INTO mission (code, name, area, countries, timezone, profile, created_by) "
            "VALUES (%s, %s, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)), %s, %s, %s, "
            "'seed') ON CONFLICT (code) DO NOTHING",
            (mission.code, mission.name, json.dumps(mission.area), mission.countries,
             mission.timezone, psycopg.types.json.Jsonb(mission.profile_json()))).rowcount
        conn.commit()
    stored = stored_mission(settings, mission.code) or mission
    for file in mission.seed.get("actor_aliases", []):  # before the events: imports match with them
        # the mission's own: another mission's imports never read them
        inserted, read = load_aliases(settings, settings.geodata_dir / file, stored.code,
                                      actor="seed")
        yield f"actor aliases: {read} read, {inserted} inserted, {read - inserted} already present"
    for item in mission.seed.get("events", []):
        # The bundled demonstration data is approved, audited as one batch per file
        # (app.services.incidents.import_pipeline): the demo and its scores are those of
        # approved data.
        summary = run_import(settings, item["source"], settings.geodata_dir / item["file"],
                             status="approved", actor="seed", mission=stored)
        yield summary.render()
    for file in mission.seed.get("bases", []):
        read, inserted, _ = import_bases(settings, settings.geodata_dir / file, mission=stored,
                                         actor="seed")
        yield f"bases: {read} read, {inserted} inserted, {read - inserted} already present"
    yield f"mission {mission.code}: {'created' if created else 'already present'}"


def import_gazetteer(path: Path, mission: str | None) -> str:
    """GeoNames-format rows into the gazetteer (of one mission, or shared)."""
    from app.repositories.imports import insert_places
    from app.services.geo.gazetteer import geonames_rows
    from app.settings import get_settings

    settings = get_settings()
    if mission is not None and stored_mission(settings, mission) is None:
        raise SystemExit(f"error: no mission {mission!r}")
    rows, skipped = geonames_rows(path)
    with connect(settings) as conn:
        n = insert_places(conn, [{**r, "mission": mission.lower() if mission else None}
                                 for r in rows])
        conn.execute(
            "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
            "VALUES ('cli', 'import', 'gazetteer', %s, %s)",
            (mission or "*", psycopg.types.json.Jsonb({"file": path.name, "rows": len(rows)})))
        conn.commit()
    return f"gazetteer: {len(rows)} names read, {n} stored, {skipped} lines skipped"


def purge_source(settings: Settings, source: str, mission: str | None) -> str:
    from app.repositories.imports import purge

    with connect(settings) as conn:
        counts = purge(conn, source, mission.lower() if mission else None, actor="cli")
        conn.commit()
    what = ", ".join(f"{v} {k}" for k, v in counts.items())
    return f"purged {source}{f' of {mission}' if mission else ''}: {what}"
