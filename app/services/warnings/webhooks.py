"""Outbound webhooks: signed POSTs of warning events, retried with backoff, every attempt logged.

Deliveries are queued in the transaction that changes a warning (`enqueue_for`) and sent by the
dispatcher (app/workers/webhooks.py) after that transaction commits, and on its poll for retries.

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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import InvalidInput
from app.repositories import audit
from app.repositories import warnings as repo
from app.services.signing import derive_secret, sign
from app.services.warnings.feature import present  # the payload is the public warning feature
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
    *,
    limit: int = 50,
) -> int:
    """Attempt the pending deliveries that are due (at most `limit`); returns how many.

    Three short transactions, none open across the outbound POSTs: claim (a lease, committed),
    post concurrently, record every attempt. A process that dies between claim and record leaves
    its deliveries to be claimed again when the lease ends, so a delivery may arrive twice, never
    not at all; receivers deduplicate on `X-Kinga-Delivery`."""
    pepper = settings.token_pepper.get_secret_value()
    now = datetime.now(UTC)
    lease = timedelta(seconds=3 * settings.webhook_timeout_s + 30)
    async with maker() as session:
        claimed = await repo.claim_due(session, now, now + lease, limit=limit)
        await session.commit()
    if not claimed:
        return 0
    own = client is None
    client = client or httpx.AsyncClient(follow_redirects=False)

    async def attempt(d: dict[str, Any]) -> tuple[int | None, str | None]:
        try:
            await check_target(d["url"], settings.webhook_allow_private_targets)
            return await _post(
                client, d, derive_secret(pepper, d["secret_salt"], "webhook"), settings.webhook_timeout_s
            )
        except InvalidInput as exc:
            return None, exc.detail
        except Exception as exc:  # one bad stored delivery fails alone, never the batch
            return None, f"not deliverable: {type(exc).__name__}"

    try:
        results = await asyncio.gather(*(attempt(d) for d in claimed))
    finally:
        if own:
            await client.aclose()
    done_at = datetime.now(UTC)
    async with maker() as session:
        for d, (code, error) in zip(claimed, results, strict=True):
            made = d["attempt_count"] + 1
            earlier = d["attempts"] if isinstance(d["attempts"], list) else []
            log = [*earlier, {"at": done_at.isoformat(), "status_code": code, "error": error}]
            values: dict[str, Any] = {"attempt_count": made, "attempts": log}
            if error is None:
                values.update(status="delivered", next_attempt_at=None)
            else:
                nxt = next_attempt(settings.webhook_retry_schedule_s, made, done_at)
                values.update(status="pending" if nxt else "failed", next_attempt_at=nxt)
            await repo.record_attempt(session, d["id"], values)
        await session.commit()
    return len(claimed)


async def deliver_all_due(
    maker: async_sessionmaker[AsyncSession], settings: Settings, client: httpx.AsyncClient | None = None
) -> int:
    """Deliver batches until nothing is due now (retries later in the schedule stay pending)."""
    total = 0
    while n := await deliver_due(maker, settings, client):
        total += n
    return total


async def any_due(maker: async_sessionmaker[AsyncSession]) -> bool:
    async with maker() as session:
        return await repo.has_due(session, datetime.now(UTC))
