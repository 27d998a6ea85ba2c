"""The database part of /api/v1/health: the writer (reachable? synchronous standbys?) and the
read route (standby or writer, lag). When no server accepts writes, say why, host by host."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import health as repo

# libpq: `connection to server at "h", port 5432 failed: Connection refused` (one line per host)
_HOST_FAILURE = re.compile(r'server at "([^"]+)", port (\d+) failed: ([^\n]+)')


class ReadRouteLike(Protocol):
    status: dict[str, Any]

    async def usable(self) -> bool: ...


@dataclass
class DatabaseStatus:
    writer_ok: bool
    reason: str = ""
    body: dict[str, Any] = field(default_factory=dict)


def why_no_writer(exc: BaseException, hosts: list[str]) -> str:
    """A user-safe reason from a failed connection (libpq's per-host messages, no credentials)."""
    text = str(getattr(exc, "orig", None) or exc)
    found = {f"{h}:{p}": msg.strip().rstrip(".") for h, p, msg in _HOST_FAILURE.findall(text)}
    if not found:
        return (f"no database server accepting writes among {', '.join(hosts) or 'the configured'} "
                f"({type(getattr(exc, 'orig', None) or exc).__name__})")
    parts = [f"{hp}: {_plain(msg)}" for hp, msg in found.items()]
    return f"no database server accepting writes among {', '.join(hosts)} — " + "; ".join(parts)


def _plain(msg: str) -> str:
    if "read-only" in msg or "hot standby" in msg:
        return "read-only (a standby; waiting for a failover to promote it)"
    return msg[:160]


async def database_status(session: AsyncSession, read_route: ReadRouteLike | None,
                          writer_hosts: list[str]) -> DatabaseStatus:
    reads: dict[str, Any] = {"source": "writer"}
    if read_route is not None:
        usable = await read_route.usable()
        reads = {"source": "standby" if usable and read_route.status.get("role") == "standby"
                 else ("read server" if usable else "writer"), **read_route.status}
    try:
        info = await repo.check(session)
    except DBAPIError as exc:
        if not (exc.connection_invalidated or _is_connection_error(exc)):
            raise
        reason = why_no_writer(exc, writer_hosts)
        return DatabaseStatus(False, reason, {"database": "unavailable",
                                              "writer": {"hosts": writer_hosts, "reason": reason},
                                              "reads": reads})
    writer = info.pop("writer")
    return DatabaseStatus(True, "", {"database": "ok", **info,
                                     "writer": {"hosts": writer_hosts, **writer},
                                     "reads": reads})


def _is_connection_error(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


async def ping(session: AsyncSession) -> None:
    """The cheapest proof the writer answers: one round trip (GET /api/v1/health/ping)."""
    await repo.ping(session)
