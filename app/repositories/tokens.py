from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken


async def find_active(session: AsyncSession, token_hash: str) -> ApiToken | None:
    stmt = select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


def insert(conn: psycopg.Connection[Any], *, name: str, role: str, token_hash: str,
           mission: str | None = None, aor_id: Any = None) -> str:
    row = conn.execute(
        "INSERT INTO api_token (name, role, token_hash, mission_code, aor_id) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (name, role, token_hash, mission, aor_id),
    ).fetchone()
    assert row is not None
    return str(row[0])


def revoke_by_name(conn: psycopg.Connection[Any], name: str) -> int:
    cur = conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL", (name,)
    )
    return cur.rowcount
