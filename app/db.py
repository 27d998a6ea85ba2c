"""Engines and sessions. Built in the app lifespan (never at import time); one session per request.

A URL may name several servers (libpq multi-host: `postgresql://u:p@h1:p1,h2:p2/db?
target_session_attrs=read-write`): every new connection goes to the one that accepts writes, so
after a failover the pool reconnects to the promoted standby by itself. The read engine (issue 20,
docs/scale-out.md) serves reads that may come from a standby; `ReadRoute` skips it while the
standby lags more than KINGA_MAX_REPLICA_LAG_S.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import psycopg
from psycopg.adapt import Buffer, Loader
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

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


_PREFIXES = ("postgresql+psycopg://", "postgresql+asyncpg://", "postgresql://", "postgres://")


def _parts(url: str) -> tuple[str, list[str], str, list[tuple[str, str]]]:
    """(userinfo, [host:port...], dbname, query) of a libpq or SQLAlchemy URL, either multi-host
    form (`h1:p1,h2:p2` in the authority, or SQLAlchemy's repeated `host=h:p` parameters)."""
    rest = url
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            rest = url[len(prefix):]
            break
    rest, _, query = rest.partition("?")
    authority, _, db = rest.partition("/")
    userinfo, _, hostlist = authority.rpartition("@")
    params = parse_qsl(query, keep_blank_values=True)
    hosts = [h for h in hostlist.split(",") if h]
    hosts += [v for k, v in params if k == "host"]
    return userinfo, hosts, db, [(k, v) for k, v in params if k != "host"]


def sync_url(url: str) -> str:
    """SQLAlchemy URL for psycopg 3 (used for both the sync and the async engine). Several hosts
    become SQLAlchemy's repeated `host=h:p` parameters, which its psycopg dialect hands to libpq."""
    if not url.startswith(_PREFIXES):
        return url
    userinfo, hosts, db, params = _parts(url)
    if len(hosts) <= 1:
        for prefix in _PREFIXES:
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
    query = urlencode([("host", h) for h in hosts] + params, safe=":/")
    return f"postgresql+psycopg://{userinfo}@/{db}?{query}"


def libpq_url(url: str) -> str:
    """Plain libpq URL for direct psycopg connections (COPY-based imports, CLI); several hosts
    stay in the authority (`h1:p1,h2:p2`), as libpq reads them."""
    if not url.startswith(_PREFIXES):
        return url
    userinfo, hosts, db, params = _parts(url)
    query = ("?" + urlencode(params, safe=":/")) if params else ""
    at = f"{userinfo}@" if userinfo else ""
    return f"postgresql://{at}{','.join(hosts)}/{db}{query}"


def hosts_of(url: str) -> list[str]:
    """The host:port list of a URL (for health reports: never the password)."""
    return _parts(url)[1]


def with_database(url: str, dbname: str) -> str:
    """The same server(s) and options, another database."""
    userinfo, hosts, _, params = _parts(url)
    query = ("?" + urlencode(params, safe=":/")) if params else ""
    at = f"{userinfo}@" if userinfo else ""
    return f"postgresql://{at}{','.join(hosts)}/{quote(dbname)}{query}"


def write_synchronous_commit(settings: Settings) -> str:
    """synchronous_commit of API writes. `on` waits until the synchronous standby (if any) has the
    commit on disk: a 2xx write survives the loss of the primary. With a read URL, remote_apply
    also waits until the standby has applied it, so a caller's next read there sees its write."""
    if settings.write_synchronous_commit is not None:
        return settings.write_synchronous_commit
    return "remote_apply" if settings.database_read_url is not None else "on"


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
        # after a database restart or a failover each process answers a few 503s, then reconnects
        # (to whichever host of a multi-host URL now accepts writes).
        pool_pre_ping=False,
        pool_timeout=10,
        # Every API transaction commits synchronously whatever the server's default: a 2xx (an
        # accepted alert above all) survives a crash, and with a synchronous standby, the loss of
        # the primary. Bulk imports relax it per transaction.
        connect_args={"connect_timeout": 5,
                      "options": f"-c synchronous_commit={write_synchronous_commit(settings)}"},
    )


def make_read_engine(settings: Settings) -> AsyncEngine | None:
    """The engine for reads that may come from a standby (KINGA_DATABASE_READ_URL), or None.
    Its transactions are read-only: a write sent there by mistake fails instead of landing on
    whichever server prefer-standby picked."""
    if settings.database_read_url is None:
        return None
    return create_async_engine(
        sync_url(settings.database_read_url.get_secret_value()),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=False,
        pool_timeout=10,
        connect_args={"connect_timeout": 5, "options": "-c default_transaction_read_only=on"},
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


log = logging.getLogger("kinga.db")


def make_read_route(settings: Settings) -> ReadRoute | None:
    """The lifespan's read route: None without KINGA_DATABASE_READ_URL."""
    engine = make_read_engine(settings)
    return ReadRoute(engine, settings) if engine is not None else None


class ReadRoute:
    """Where reads that may come from a standby go, per process: the read engine while its server
    is reachable and no further behind than KINGA_MAX_REPLICA_LAG_S, else the writer. The lag is
    measured at most every KINGA_REPLICA_LAG_CHECK_S (one small query), not per request."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.sessionmaker = make_sessionmaker(engine)
        self.max_lag_s = settings.max_replica_lag_s
        self.check_every_s = settings.replica_lag_check_s
        self.hosts = hosts_of(settings.database_read_url.get_secret_value()
                              if settings.database_read_url else "")
        self._checked = -float("inf")
        self._lock = asyncio.Lock()
        self.status: dict[str, Any] = {"usable": False, "reason": "not checked yet"}

    async def usable(self) -> bool:
        if time.monotonic() - self._checked >= self.check_every_s:
            async with self._lock:
                if time.monotonic() - self._checked >= self.check_every_s:
                    await self.check()
        return bool(self.status["usable"])

    async def check(self) -> dict[str, Any]:
        from sqlalchemy.exc import DBAPIError

        from app.repositories import health as health_repo

        try:
            async with self.engine.connect() as conn:
                info = await health_repo.replica_lag(conn)
        except (DBAPIError, OSError) as exc:
            self.status = {"usable": False, "hosts": self.hosts,
                           "reason": f"read server unreachable ({type(exc).__name__}); "
                                     "reads go to the writer"}
            log.warning("read server unreachable: %s", type(exc).__name__)
        else:
            lag = info["lag_s"]
            usable = lag is not None and lag <= self.max_lag_s
            self.status = {"usable": usable, "hosts": self.hosts, **info,
                           "max_lag_s": self.max_lag_s}
            if not usable:
                self.status["reason"] = (
                    f"standby {lag:.1f} s behind (limit {self.max_lag_s:g} s); reads go to the writer"
                    if lag is not None else "standby not replaying; reads go to the writer")
        self._checked = time.monotonic()
        return self.status
