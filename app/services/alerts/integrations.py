"""Integrations: registration, revocation, request signatures and idempotency fingerprints.

Secrets. The bearer token is an ordinary `api_token` row (role `integration`, peppered hash).
The signing secret is never stored: it is HMAC-SHA256(token pepper, "kinga-signing:" + salt)
with a random per-integration salt, recomputed on every request. The server can verify
signatures; a copy of the database without the pepper cannot forge them. Rotating the pepper
invalidates every token and signing secret alike.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Section
from app.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.repositories import audit
from app.repositories import integrations as repo
from app.services.auth import TtlCache, hash_token, integration_principals, new_token
from app.services.signing import derive_secret, sign

FORMATS = ("json", "cap", "sms")


@dataclass(frozen=True)
class NewIntegration:
    id: uuid.UUID
    name: str
    token: str
    signing_secret: str
    formats: list[str]


def parse_timestamp(value: str) -> datetime:
    """Unix seconds, or an ISO 8601 date-time with a zone."""
    value = value.strip()
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise Unauthorized("X-Kinga-Timestamp is not unix seconds or an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        raise Unauthorized("X-Kinga-Timestamp needs a time zone")
    return dt


def verify_signature(
    *,
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    required: bool,
    max_skew_s: int,
    now: datetime,
) -> None:
    if not signature and not timestamp:
        if required:
            raise Unauthorized(
                "this integration must sign requests: send X-Kinga-Timestamp and "
                "X-Kinga-Signature (hex HMAC-SHA256 of timestamp + '.' + body)"
            )
        return
    if not signature or not timestamp:
        raise Unauthorized("send both X-Kinga-Timestamp and X-Kinga-Signature")
    sent = parse_timestamp(timestamp)
    if abs((now - sent).total_seconds()) > max_skew_s:
        raise Unauthorized(
            f"X-Kinga-Timestamp is more than {max_skew_s} s from server time (stale or replayed request)"
        )
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise Unauthorized("X-Kinga-Signature does not match the body and timestamp")


def request_fingerprint(content_type: str, body: bytes) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    return hashlib.sha256(media.encode() + b"\n" + body).hexdigest()


def check_formats(formats: list[str]) -> list[str]:
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidInput(
            f"unknown format(s): {', '.join(bad) or 'none given'}",
            errors=[{"pointer": "/body/formats", "detail": f"any of {', '.join(FORMATS)}"}],
        )
    return sorted(set(formats))


async def create(
    session: AsyncSession,
    *,
    name: str,
    formats: list[str],
    pepper: str,
    actor: str,
    require_signature: bool = True,
    section: str = "civil_affairs",
    area_geojson: dict[str, Any] | None = None,
    mission: str | None = None,
) -> NewIntegration:
    formats = check_formats(formats)
    if section not in {s.value for s in Section}:
        raise InvalidInput(
            f"unknown section {section!r}",
            errors=[{"pointer": "/body/section", "detail": "a report section"}],
        )
    if await repo.by_name(session, name) is not None:
        raise Conflict(f"an integration named {name!r} already exists")
    token = new_token()
    salt = secrets.token_bytes(16)
    token_id = await repo.insert_token(
        session, name=f"integration:{name}", token_hash=hash_token(token, pepper)
    )
    new_id = await repo.insert_integration(
        session,
        name=name,
        token_id=token_id,
        salt=salt,
        formats=formats,
        require_signature=require_signature,
        section=section,
        area_geojson=area_geojson,
        actor=actor,
        mission=mission,
    )
    await audit.record(
        session,
        actor=actor,
        action="create",
        object_type="integration",
        object_id=str(new_id),
        after={"name": name, "formats": formats, "require_signature": require_signature,
               "mission": mission},
    )
    await session.commit()
    return NewIntegration(new_id, name, token, derive_secret(pepper, salt), formats)


async def revoke(session: AsyncSession, name: str, actor: str) -> None:
    found = await repo.by_name(session, name)
    if found is None or found["revoked_at"] is not None:
        raise NotFound(f"no active integration named {name!r}")
    await repo.revoke(session, found["id"], found["token_id"])
    await audit.record(
        session,
        actor=actor,
        action="revoke",
        object_type="integration",
        object_id=str(found["id"]),
        before={"revoked_at": None},
    )
    await session.commit()
    forget_cached()


_by_token = TtlCache()


async def for_principal(session: AsyncSession, token_id: str, *, ttl_s: float = 0) -> dict[str, Any]:
    """The active integration behind a token, cached for `ttl_s` seconds in this process."""
    found = _by_token.get(token_id, ttl_s)
    if found is None:
        found = await repo.by_token(session, uuid.UUID(token_id))
        if found is None or found["revoked_at"] is not None:
            raise Unauthorized("the token belongs to no active integration")
        _by_token.put(token_id, found)
    return found  # type: ignore[no-any-return]


def forget_cached() -> None:
    """Drop this process's cached integration tokens (after a revoke)."""
    _by_token.clear()
    integration_principals.clear()


async def listing(session: AsyncSession) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if k not in ("secret_salt", "token_id", "area")}
        for row in await repo.all_rows(session)
    ]
