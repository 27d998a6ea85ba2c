"""Outbound webhooks: signed POSTs of warning events, retried with backoff, every attempt logged.

A subscriber's URL must resolve only to public addresses (no loopback, private, link-local,
multicast or reserved ranges) unless `webhook_allow_private_targets` is set; the check runs when
the subscription is made AND before every delivery (DNS can change). Each POST carries
`X-Kinga-Event`, `X-Kinga-Delivery`, `X-Kinga-Timestamp` and `X-Kinga-Signature` (hex
HMAC-SHA256 of `timestamp + "." + body` with the subscription's secret, shown once).
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import InvalidInput
from app.repositories import audit
from app.repositories import warnings as repo
from app.services.alerts.integrations import derive_secret, sign
from app.settings import Settings


def _refused(detail: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"pointer": "/body/url", "detail": detail}])


def address_allowed(ip: str, allow_private: bool) -> bool:
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if allow_private:
        return not (addr.is_multicast or addr.is_unspecified)
    return addr.is_global and not (addr.is_multicast or addr.is_reserved or addr.is_unspecified)


async def check_target(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused("webhook URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise _refused("webhook URL must not carry credentials")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except (socket.gaierror, UnicodeError):
        raise _refused(f"webhook host {parts.hostname!r} does not resolve") from None
    for info in infos:
        ip = str(info[4][0])
        if not address_allowed(ip, allow_private):
            raise _refused(
                f"webhook host {parts.hostname!r} resolves to {ip}, a loopback, "
                "private, link-local or reserved address"
            )


async def subscribe(
    session: AsyncSession, settings: Settings, *, name: str, url: str, actor: str
) -> dict[str, Any]:
    await check_target(url, settings.webhook_allow_private_targets)
    salt = secrets.token_bytes(16)
    sub_id = await repo.add_subscription(
        session, {"name": name, "url": url, "secret_salt": salt, "created_by": actor}
    )
    await audit.record(
        session,
        actor=actor,
        action="create",
        object_type="webhook",
        object_id=str(sub_id),
        after={"name": name, "url": url},
    )
    await session.commit()
    secret = derive_secret(settings.token_pepper.get_secret_value(), salt, "webhook")
    return {"id": str(sub_id), "name": name, "url": url, "secret": secret}


async def enqueue_for(session: AsyncSession, warning_id: uuid.UUID, event: str) -> int:
    subs = await repo.subscriptions(session)
    if not subs:
        return 0
    from app.services.warnings.lifecycle import present  # the payload is the public warning feature

    warning = await repo.get(session, warning_id)
    payload = orjson.loads(orjson.dumps({"event": event, "warning": present(warning or {})}, default=str))
    await repo.enqueue(
        session,
        [
            {
                "subscription_id": s["id"],
                "warning_id": warning_id,
                "event": event,
                "payload": payload,
            }
            for s in subs
        ],
    )
    return len(subs)


def next_attempt(schedule: tuple[float, ...], attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after `attempts_made` failures; None when the schedule is spent."""
    if attempts_made >= len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_made])


async def _post(
    client: httpx.AsyncClient, d: dict[str, Any], secret: str, timeout: float
) -> tuple[int | None, str | None]:
    body = orjson.dumps(d["payload"])
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "kinga-webhooks/1",
        "X-Kinga-Event": d["event"],
        "X-Kinga-Delivery": str(d["id"]),
        "X-Kinga-Timestamp": ts,
        "X-Kinga-Signature": sign(secret, ts, body),
    }
    try:
        resp = await client.post(d["url"], content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    return resp.status_code, None if resp.is_success else f"HTTP {resp.status_code}"


async def deliver_due(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Attempt every pending delivery that is due; returns how many were attempted."""
    pepper = settings.token_pepper.get_secret_value()
    own = client is None
    client = client or httpx.AsyncClient(follow_redirects=False)
    done = 0
    try:
        async with maker() as session:
            now = datetime.now(UTC)
            for d in await repo.claim_due(session, now):
                try:
                    await check_target(d["url"], settings.webhook_allow_private_targets)
                    code, error = await _post(
                        client,
                        d,
                        derive_secret(pepper, d["secret_salt"], "webhook"),
                        settings.webhook_timeout_s,
                    )
                except InvalidInput as exc:
                    code, error = None, exc.detail
                except Exception as exc:  # one bad stored delivery fails alone, never the loop
                    if isinstance(exc, OperationalError | InterfaceError):
                        raise
                    code, error = None, f"not deliverable: {type(exc).__name__}"
                made = d["attempt_count"] + 1
                earlier = d["attempts"] if isinstance(d["attempts"], list) else []
                log = [*earlier, {"at": now.isoformat(), "status_code": code, "error": error}]
                values: dict[str, Any] = {"attempt_count": made, "attempts": log}
                if error is None:
                    values.update(status="delivered", next_attempt_at=None)
                else:
                    nxt = next_attempt(settings.webhook_retry_schedule_s, made, now)
                    values.update(status="pending" if nxt else "failed", next_attempt_at=nxt)
                await repo.record_attempt(session, d["id"], values)
                done += 1
            await session.commit()
    finally:
        if own:
            await client.aclose()
    return done


async def deliver_in_background(
    maker: async_sessionmaker[AsyncSession], settings: Settings, *, max_wait_s: float = 600
) -> None:
    """After a request commits: deliver now, then wait out short backoffs within this process.
    Longer backoffs (and anything left after a restart) go out with `kinga webhooks deliver`."""
    waited = 0.0
    for delay in (0.0, *settings.webhook_retry_schedule_s[1:]):
        if waited + delay > max_wait_s:
            return
        await asyncio.sleep(delay)
        waited += delay
        async with maker() as session:
            if not await repo.has_pending(session):
                return
        await deliver_due(maker, settings)
