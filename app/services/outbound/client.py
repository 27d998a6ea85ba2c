"""An httpx client that resolves each host once, checks every address, and connects to a checked
address. The URL keeps its host name, so the Host header, TLS SNI and certificate verification
use the name while the TCP connection goes to the pinned IP: no second lookup for a DNS rebinding
to answer, and a connection kept alive in the pool was made to a checked address."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

import certifi
import httpcore
import httpx

from app.services.outbound.addresses import (
    Resolver,
    TargetRefused,
    resolve_checked,
    system_resolver,
)


class RefusedTarget(httpcore.ConnectError):
    """Raised at connect time; httpx reports it as httpx.ConnectError with this message."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private: Callable[[], bool], resolver: Resolver = system_resolver,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve_checked(host, port, self._allow_private(), self._resolver)
        except TargetRefused as exc:
            raise RefusedTarget(f"refused: {exc}") from None
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(ip, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("refused: unix sockets are not outbound targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_client(*, allow_private: Callable[[], bool], timeout: float = 5.0,
                  resolver: Resolver = system_resolver,
                  ssl_context: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """A client for user-given URLs: pinned addresses, no redirects, no proxies from the
    environment (a proxy would resolve the name itself)."""
    ctx = ssl_context or ssl.create_default_context(cafile=certifi.where())
    transport = httpx.AsyncHTTPTransport(verify=ctx, trust_env=False)
    # httpx builds its pool without a way to pass a network backend; the pool is replaced by one
    # that connects through PinnedBackend (tests/unit/platform/test_outbound.py holds it to this).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ctx, max_connections=50, max_keepalive_connections=10, keepalive_expiry=5.0,
        network_backend=PinnedBackend(allow_private, resolver))
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False,
                             timeout=timeout)
