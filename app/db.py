"""Engines and sessions. Built in the app lifespan (never at import time); one session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from app.localdb import resolve_url
from app.settings import Settings


def sync_url(url: str) -> str:
    """SQLAlchemy URL for psycopg 3 (used for both the sync and the async engine)."""
    for prefix in ("postgresql+psycopg://", "postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(url: str) -> str:
    """Plain libpq URL for direct psycopg connections (COPY-based imports)."""
    return "postgresql://" + sync_url(url)[len("postgresql+psycopg://"):]


# Set in `session.info` by a repository that queued outbound work (webhook deliveries) in the
# session's transaction; the sessionmaker's `after_commit` hook then wakes the dispatcher, so work
# is sent after every commit that queued some and never from inside a transaction.
OUTBOX = "kinga.outbox"


def mark_outbox(session: AsyncSession) -> None:
    session.info[OUTBOX] = True


def make_async_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    size = pool_size or settings.pool_size
    return create_async_engine(
        sync_url(resolve_url(settings)),
        pool_size=size,
        max_overflow=size,
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


def make_sessionmaker(
    engine: AsyncEngine, *, on_outbox: Callable[[], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for `engine`; `on_outbox` runs after each commit of a transaction that queued
    outbound work (`mark_outbox`), never after a rollback."""
    if on_outbox is None:
        return async_sessionmaker(engine, expire_on_commit=False)

    class OutboxSession(Session):
        pass

    def _after_commit(session: Session) -> None:
        if session.info.pop(OUTBOX, False):
            on_outbox()

    def _after_rollback(session: Session) -> None:
        session.info.pop(OUTBOX, None)

    event.listen(OutboxSession, "after_commit", _after_commit)
    event.listen(OutboxSession, "after_rollback", _after_rollback)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=OutboxSession)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
