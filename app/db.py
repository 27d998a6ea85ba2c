"""Engines and sessions. Built in the app lifespan (never at import time); one session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.localdb import resolve_url
from app.settings import Settings

# --- tolerant reads ----------------------------------------------------------------------------
# PostgreSQL stores dates and times Python cannot hold ('infinity', years before 1 or after
# 9999). psycopg refuses to load them (DataError), so one such row, however it got there, would
# make every list that reads it fail. Reads clamp them to Python's smallest or largest value
# instead: the row stays visible (and can be repaired) and the request answers. Writes are
# bounded at the edge (app.schemas.common), so only rows written around the API ever clamp.


def _clamped(inner: type[Loader], low: Any, high: Any) -> type[Loader]:
    class Tolerant(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._load = inner(oid, context).load

        def load(self, data: Buffer) -> Any:
            try:
                return self._load(data)
            except psycopg.DataError:
                raw = bytes(data)
                before = raw.startswith(b"-") or raw.rstrip().endswith(b"BC")
                return low if before else high

    Tolerant.__name__ = f"Tolerant{inner.__name__}"
    return Tolerant


def register_tolerant_loaders(adapters: Any = None) -> None:
    """Clamp out-of-range dates and timestamps on load (text format, the one SQLAlchemy and the
    import code use), for every connection made after this call. Idempotent."""
    from psycopg.postgres import types

    adapters = adapters or psycopg.adapters
    text = psycopg.pq.Format.TEXT
    bounds = {
        "timestamptz": (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)),
        "timestamp": (datetime.min, datetime.max),
        "date": (date.min, date.max),
    }
    for name, (low, high) in bounds.items():
        oid = types[name].oid
        current = adapters.get_loader(oid, text)
        if current is None or current.__name__.startswith("Tolerant"):
            continue
        adapters.register_loader(name, _clamped(current, low, high))


register_tolerant_loaders()


def sync_url(url: str) -> str:
    """SQLAlchemy URL for psycopg 3 (used for both the sync and the async engine)."""
    for prefix in ("postgresql+psycopg://", "postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(url: str) -> str:
    """Plain libpq URL for direct psycopg connections (COPY-based imports)."""
    return "postgresql://" + sync_url(url)[len("postgresql+psycopg://"):]


def make_async_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        sync_url(resolve_url(settings)),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        # No ping before every checkout (a round trip per request: ~20% of alert intake). A dead
        # connection fails its request with 503 (app.errors) and invalidates the whole pool, so
        # after a database restart each process answers a few 503s, then reconnects.
        pool_pre_ping=False,
        pool_timeout=10,
        # Every API transaction commits synchronously whatever the server's default: a 2xx (an
        # accepted alert above all) survives a crash. Bulk imports relax it per transaction.
        connect_args={"connect_timeout": 5, "options": "-c synchronous_commit=on"},
    )


def make_sync_engine(settings: Settings) -> Engine:
    return create_engine(sync_url(resolve_url(settings)), pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
