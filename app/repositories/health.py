from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def check(session: AsyncSession) -> dict[str, Any]:
    row = (await session.execute(text(
        "SELECT postgis_lib_version() AS postgis, (SELECT count(*) FROM incident) AS incidents"
    ))).mappings().one()
    return {"postgis": row["postgis"], "incidents": int(row["incidents"])}


async def ping(session: AsyncSession) -> None:
    """One `SELECT 1` round trip: in autocommit, so no BEGIN or ROLLBACK is sent around it."""
    conn = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    await conn.execute(text("SELECT 1"))
