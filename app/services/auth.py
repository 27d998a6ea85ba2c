"""Opaque bearer tokens: random, shown once, stored as a peppered HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from app.domain import Role


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.name}"


def new_token() -> str:
    return "kinga_" + secrets.token_urlsafe(32)


def hash_token(token: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), token.encode(), hashlib.sha256).hexdigest()
