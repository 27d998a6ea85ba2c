"""HMAC signatures shared by inbound alerts (integrations sign their posts) and outbound webhooks
(Kinga signs its posts): per-purpose secrets derived from the pepper and a stored salt."""

from __future__ import annotations

import hashlib
import hmac


def derive_secret(pepper: str, salt: bytes, purpose: str = "signing") -> str:
    return hmac.new(pepper.encode(), f"kinga-{purpose}:".encode() + salt, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp + "." + body` (the X-Kinga-Signature header)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
