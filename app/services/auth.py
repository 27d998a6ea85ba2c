"""Opaque bearer tokens: random, shown once, stored as a peppered HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain import Role


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: Role
    expires_at: datetime | None = None  # checked on every request, cached or not
    mission: str | None = None  # a token limited to one mission (issue 13)
    aor_id: Any = None          # … and to one area of responsibility in it

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.name}"


def new_token() -> str:
    return "kinga_" + secrets.token_urlsafe(32)


def hash_token(token: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()


class TtlCache:
    """A small per-process cache whose entries expire after `ttl_s` seconds (monotonic clock)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, ttl_s: float) -> Any | None:
        hit = self._data.get(key)
        if hit is None or time.monotonic() - hit[0] > ttl_s:
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._data.clear()


# Integration tokens only (they post alerts at high rates); staff tokens are looked up every time.
integration_principals = TtlCache()


class Revocations:
    """Whether this process hears revocations (app/workers/revocations.py keeps a LISTEN on the
    database). Only then may integration tokens be cached: a revoke anywhere empties the caches
    of every listening process when it commits. While not listening, nothing is cached."""

    listening: bool = False

    @classmethod
    def cache_ttl(cls, configured_s: float) -> float:
        return configured_s if cls.listening else 0.0
