"""Cluster-wide mutual exclusion with PostgreSQL advisory locks."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def try_transaction_lock(session: AsyncSession, name: str) -> bool:
    """Take the named lock for the rest of this transaction, or return False at once if another
    session holds it (a job already running in another server process)."""
    row = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": f"kinga:{name}"}
    )
    return bool(row.scalar_one())
