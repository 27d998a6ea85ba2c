"""API tokens: lookup, creation, listing, revocation, last use. Async (SQLAlchemy) for the API and
sync (psycopg) for the CLI. Revocations notify every server process (LISTEN/NOTIFY channel
`AUTH_CHANNEL`), which then drop their cached integration tokens at once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import func, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import ApiToken

AUTH_CHANNEL = "kinga_auth"
# What a listing shows: never the hash.
LISTED = ("id", "name", "role", "created_at", "created_by", "expires_at", "last_used_at",
          "revoked_at")
_LISTED_COLUMNS = [getattr(ApiToken, c) for c in LISTED]


async def find_active(session: AsyncSession, token_hash: str) -> ApiToken | None:
    """The unrevoked token with this hash (expiry is the caller's check: it says why)."""
    stmt = select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def touch(session: AsyncSession, token_id: uuid.UUID, every_s: float) -> None:
    """Record a use, unless one was recorded less than `every_s` ago (by any process)."""
    await session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               (ApiToken.last_used_at.is_(None))
               | (ApiToken.last_used_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, every_s)))
        .values(last_used_at=func.now()))


async def add(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    row = (await session.execute(sa_insert(ApiToken).values(**values).returning(*_LISTED_COLUMNS))
           ).mappings().one()
    return dict(row)


async def all_tokens(session: AsyncSession) -> list[dict[str, Any]]:
    stmt = select(*_LISTED_COLUMNS).order_by(ApiToken.created_at, ApiToken.id)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def get(session: AsyncSession, token_id: uuid.UUID, *, lock: bool = False
              ) -> dict[str, Any] | None:
    stmt = select(*_LISTED_COLUMNS).where(ApiToken.id == token_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def revoke(session: AsyncSession, token_id: uuid.UUID) -> datetime:
    """Revoke in the caller's transaction; every process hears of it when it commits."""
    at = (await session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=func.now())
        .returning(ApiToken.revoked_at))).scalar_one()
    assert at is not None
    await notify_revoked(session, token_id)
    return at


async def notify_revoked(session: AsyncSession, token_id: uuid.UUID | str) -> None:
    await session.execute(text("SELECT pg_notify(:channel, :payload)"),
                          {"channel": AUTH_CHANNEL, "payload": str(token_id)})


async def revocations(conn: AsyncConnection, *, idle_s: float) -> AsyncIterator[str | None]:
    """LISTEN on `conn` (dedicated, autocommit) and yield each revoked token id as its
    transaction commits; None once listening starts, and after every `idle_s` without a
    notification once the connection was found alive (a dead connection raises instead: the
    caller then knows it is deaf)."""
    raw: Any = (await conn.get_raw_connection()).driver_connection
    await raw.execute(f"LISTEN {AUTH_CHANNEL}")
    yield None
    while True:
        got = False
        async for note in raw.notifies(timeout=idle_s):
            got = True
            yield note.payload
        if not got:
            await raw.execute("SELECT 1")
            yield None


# --- the CLI's synchronous connection ---

def insert(conn: psycopg.Connection[Any], *, name: str, role: str, token_hash: str,
           expires_at: datetime | None = None, created_by: str = "cli",
           mission: str | None = None, aor_id: Any = None) -> str:
    row = conn.execute(
        "INSERT INTO api_token (name, role, token_hash, expires_at, created_by, mission_code, "
        "aor_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (name, role, token_hash, expires_at, created_by, mission, aor_id),
    ).fetchone()
    assert row is not None
    return str(row[0])


def audit_sync(conn: psycopg.Connection[Any], *, actor: str, action: str, object_id: str,
               after: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO audit_event (actor, action, object_type, object_id, after) "
        "VALUES (%s, %s, 'api_token', %s, %s)", (actor, action, object_id, Jsonb(after)))


def list_sync(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(f"SELECT {', '.join(LISTED)} FROM api_token "  # noqa: S608
                       "ORDER BY created_at, id")
    return [dict(zip(LISTED, r, strict=True)) for r in cur.fetchall()]


def revoke_by_name(conn: psycopg.Connection[Any], name: str) -> list[str]:
    """Revoke every active token with this name (and the integration a token belongs to);
    returns their ids. Every process hears of it when the caller commits."""
    ids = [str(r[0]) for r in conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL "
        "RETURNING id", (name,)).fetchall()]
    for token_id in ids:
        conn.execute("UPDATE integration SET revoked_at = now() WHERE token_id = %s "
                     "AND revoked_at IS NULL", (token_id,))
        conn.execute("SELECT pg_notify(%s, %s)", (AUTH_CHANNEL, token_id))
    return ids
