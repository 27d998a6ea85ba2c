"""Token lifecycle: create (shown once), list (never a secret or hash), revoke, and the per-request
admission check (expiry, last use)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.repositories import audit
from app.repositories import integrations as integ_repo
from app.repositories import tokens as repo
from app.services.auth import Principal, hash_token, new_token
from app.settings import Settings

# Integration tokens come with their integration (POST /api/v1/integrations: signing secret,
# formats, area), never alone.
ASSIGNABLE = (Role.admin, Role.analyst, Role.operations, Role.partner)


def expiry(settings: Settings, days: int | None, now: datetime, *,
           pointer: str = "/body/expires_days") -> datetime:
    """When a token made now expires: `days` (default KINGA_TOKEN_DEFAULT_DAYS), at most
    KINGA_TOKEN_MAX_DAYS."""
    d = settings.token_default_days if days is None else days
    if not 1 <= d <= settings.token_max_days:
        raise InvalidInput.at(pointer, f"from 1 to {settings.token_max_days} days")
    return now + timedelta(days=d)


def assignable_role(role: str, *, pointer: str = "/body/role") -> Role:
    if role == Role.integration.value:
        raise InvalidInput.at(pointer, "integration tokens are made with their integration "
                                       "(POST /api/v1/integrations)")
    if role not in {r.value for r in ASSIGNABLE}:
        raise InvalidInput.at(pointer, f"one of {', '.join(r.value for r in ASSIGNABLE)}")
    return Role(role)


def present(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A token as listed: who and what, when made, expiring, last used, revoked; no secret."""
    out = {k: row.get(k) for k in repo.LISTED}
    out["id"] = str(row["id"])
    expired = row.get("expires_at") is not None and row["expires_at"] <= now
    out["expired"] = expired
    out["active"] = row.get("revoked_at") is None and not expired
    return out


async def create(session: AsyncSession, settings: Settings, *, name: str, role: str,
                 expires_days: int | None, actor: str) -> tuple[dict[str, Any], str]:
    """A new token (returned once, with its listing row); audited."""
    now = datetime.now(UTC)
    r = assignable_role(role)
    expires_at = expiry(settings, expires_days, now)
    token = new_token()
    row = await repo.add(session, {
        "name": name, "role": r.value, "expires_at": expires_at, "created_by": actor,
        "token_hash": hash_token(token, settings.token_pepper.get_secret_value())})
    await audit.record(session, actor=actor, action="create", object_type="api_token",
                       object_id=str(row["id"]),
                       after={"name": name, "role": r.value, "expires_at": expires_at})
    await session.commit()
    return present(row, now), token


async def listing(session: AsyncSession) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [present(r, now) for r in await repo.all_tokens(session)]


async def revoke(session: AsyncSession, token_id: uuid.UUID, actor: str) -> dict[str, Any]:
    """Revoke a token (and the integration it belongs to, if any); audited; every server process
    refuses it as soon as this commits."""
    row = await repo.get(session, token_id, lock=True)
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    if row["revoked_at"] is not None:
        raise Conflict(f"token {token_id} was already revoked at {row['revoked_at'].isoformat()}")
    row["revoked_at"] = await repo.revoke(session, token_id)
    integration = await integ_repo.revoke_for_token(session, token_id)
    await audit.record(session, actor=actor, action="revoke", object_type="api_token",
                       object_id=str(token_id), before={"revoked_at": None},
                       after={"name": row["name"], "role": row["role"],
                              "integration": integration})
    await session.commit()
    return present(row, datetime.now(UTC))


# token id -> monotonic time its use was last written by this process
_touched: dict[str, float] = {}


def _touch_due(token_id: str, every_s: float) -> bool:
    now = time.monotonic()
    last = _touched.get(token_id)
    if last is not None and now - last < every_s:
        return False
    if len(_touched) > 100_000:
        _touched.clear()
    _touched[token_id] = now
    return True


async def admit(session: AsyncSession, principal: Principal, settings: Settings) -> None:
    """After the token was found: refuse an expired one; record its use (batched: at most once
    per `token_touch_every_s` per token and process, and once across processes)."""
    if principal.expires_at is not None and principal.expires_at <= datetime.now(UTC):
        raise Unauthorized(f"the token expired on {principal.expires_at.date().isoformat()}; "
                           "ask an admin for a new one", kind="token-expired")
    if _touch_due(principal.id, settings.token_touch_every_s):
        await repo.touch(session, uuid.UUID(principal.id), settings.token_touch_every_s)
        await session.commit()
