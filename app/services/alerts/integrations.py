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
from app.services import outbound
from app.services.auth import Revocations, TtlCache, hash_token, integration_principals, new_token
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
    rate_limit_per_minute: int | None = None,
    rate_limit_burst: int | None = None,
    ack_url: str | None = None,
    acknowledge_reporters: bool = True,
    allow_private_targets: bool = False,
    mission: str | None = None,
) -> NewIntegration:
    formats = check_formats(formats)
    if ack_url is not None:
        await check_ack_url(ack_url, allow_private_targets)
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
        ack_url=ack_url,
        acknowledge_reporters=acknowledge_reporters,
        mission=mission,
        extra={"rate_limit_per_minute": rate_limit_per_minute,
               "rate_limit_burst": rate_limit_burst},
    )
    await audit.record(
        session,
        actor=actor,
        action="create",
        object_type="integration",
        object_id=str(new_id),
        after={"name": name, "formats": formats, "require_signature": require_signature,
               "rate_limit_per_minute": rate_limit_per_minute,
               "rate_limit_burst": rate_limit_burst, "ack_url": ack_url,
               "acknowledge_reporters": acknowledge_reporters, "mission": mission},
    )
    await session.commit()
    return NewIntegration(new_id, name, token, derive_secret(pepper, salt), formats)


async def check_ack_url(url: str, allow_private: bool) -> None:
    """An acknowledgement URL must be one the outbound policy may call (422 otherwise)."""
    try:
        host, port = outbound.check_url(url)
        await outbound.resolve_checked(host, port, allow_private)
    except outbound.TargetRefused as exc:
        raise InvalidInput.at("/body/ack_url", str(exc)) from None


UPDATABLE = ("rate_limit_per_minute", "rate_limit_burst", "ack_url", "acknowledge_reporters")


async def update(session: AsyncSession, name: str, changes: dict[str, Any], *, actor: str,
                 allow_private_targets: bool = False) -> dict[str, Any]:
    """Change an integration's rate limit or acknowledgement URL (null removes) or opt its
    reporters out of acknowledgements; audited; every
    server process drops its cached copy when this commits."""
    found = await repo.by_name(session, name)
    if found is None or found["revoked_at"] is not None:
        raise NotFound(f"no active integration named {name!r}")
    changes = {k: v for k, v in changes.items() if k in UPDATABLE}
    if "acknowledge_reporters" in changes and changes["acknowledge_reporters"] is None:
        raise InvalidInput.at("/body/acknowledge_reporters", "true or false")
    if changes.get("ack_url") is not None:
        await check_ack_url(changes["ack_url"], allow_private_targets)
    if changes:
        if "rate_limit_per_minute" in changes:
            changes["rate_tat"] = None  # a new limit starts with a full burst
        await repo.update_settings(session, found["id"], changes)
        await audit.record(session, actor=actor, action="update", object_type="integration",
                           object_id=str(found["id"]),
                           before={k: found.get(k) for k in changes if k != "rate_tat"},
                           after={k: v for k, v in changes.items() if k != "rate_tat"})
    await session.commit()
    forget_cached()
    return (await listing_one(session, name)) or {}


async def listing_one(session: AsyncSession, name: str) -> dict[str, Any] | None:
    row = await repo.by_name(session, name)
    return None if row is None else _listed(row)


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
    """The active integration behind a token, cached for `ttl_s` seconds in this process while
    it hears revocations (app.services.auth.Revocations)."""
    found = _by_token.get(token_id, Revocations.cache_ttl(ttl_s))
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


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("secret_salt", "token_id", "area", "rate_tat")}


async def listing(session: AsyncSession) -> list[dict[str, Any]]:
    return [_listed(row) for row in await repo.all_rows(session)]
