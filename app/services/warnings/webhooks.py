"""Outbound webhooks: signed POSTs of warning events, retried with backoff, every attempt logged.

Deliveries are queued in the transaction that changes a warning (`enqueue_for`) and sent by the
dispatcher (app/workers/webhooks.py) after that transaction commits, and on its poll for retries.

A subscriber's URL must resolve only to public addresses (no loopback, private, link-local,
multicast or reserved ranges, nor IPv6 forms embedding them: 6to4, NAT64, Teredo) unless
`webhook_allow_private_targets` is set (app.services.outbound). The check runs when the
subscription is made, and every delivery connects through the pinned client, which resolves the
host once, checks every address and connects to a checked one (no rebinding window); redirects
are never followed. Each POST carries
`X-Kinga-Event`, `X-Kinga-Delivery`, `X-Kinga-Timestamp` and `X-Kinga-Signature` (hex
HMAC-SHA256 of `timestamp + "." + body` with the subscription's secret, shown once).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import InvalidInput
from app.repositories import audit
from app.repositories import warnings as repo
from app.services import outbound
from app.services.community import acknowledgements as community
from app.services.signing import derive_secret, sign
from app.services.warnings.feature import present  # the payload is the public warning feature
from app.settings import Settings


def _refused(detail: str) -> InvalidInput:
    return InvalidInput(f"webhook URL refused: {detail}",
                        errors=[{"pointer": "/body/url", "detail": detail}])


address_allowed = outbound.address_allowed


async def check_target(url: str, allow_private: bool) -> None:
    """Refuse (422, pointer /body/url) a URL that is not http(s), carries credentials, does not
    resolve, or resolves to any address the outbound policy refuses."""
    try:
        host, port = outbound.check_url(url)
        await outbound.resolve_checked(host, port, allow_private)
    except outbound.TargetRefused as exc:
        raise _refused(str(exc)) from None


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    """The delivery client: pinned addresses, no redirects (the policy is read per connection,
    so a changed setting applies at once)."""
    return outbound.pinned_client(allow_private=lambda: settings.webhook_allow_private_targets,
                                  timeout=settings.webhook_timeout_s)


async def subscribe(
    session: AsyncSession, settings: Settings, *, name: str, url: str, actor: str, level: int = 0,
    aor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`aor` (an AOR row): the subscription hears the events of the warnings that AOR owns or that
    were escalated to it, whatever their level; `level` is for unscoped subscriptions."""
    if aor is not None and level:
        raise InvalidInput.at("/body/level", "a subscription scoped to an AOR hears the escalations "
                                             "that reach that AOR: leave level out (0)")
    await check_target(url, settings.webhook_allow_private_targets)
    salt = secrets.token_bytes(16)
    aor_id = aor["id"] if aor is not None else None
    sub_id = await repo.add_subscription(
        session, {"name": name, "url": url, "secret_salt": salt, "created_by": actor, "level": level,
                  "aor_id": aor_id}
    )
    shown_aor = ({"id": str(aor_id), "name": aor["name"], "kind": aor["kind"],
                  "mission_code": aor["mission_code"]} if aor is not None else None)
    await audit.record(
        session,
        actor=actor,
        action="create",
        object_type="webhook",
        object_id=str(sub_id),
        after={"name": name, "url": url, "level": level, "aor_id": str(aor_id) if aor_id else None},
    )
    await session.commit()
    secret = derive_secret(settings.token_pepper.get_secret_value(), salt, "webhook")
    return {"id": str(sub_id), "name": name, "url": url, "level": level, "aor": shown_aor,
            "secret": secret}


async def enqueue_for(
    session: AsyncSession, warning_id: uuid.UUID, event: str, *, escalation_level: int | None = None,
    aors: list[uuid.UUID] | None = None, subscriptions: dict[str, Any] | None = None,
) -> int:
    """Queue a warning event for the unscoped subscribers of level 0 (every event) and, for an
    escalation, those of the level the warning has reached; and for the subscribers scoped to the
    AOR that owns the warning or that it was escalated to (and to `aors`). `subscriptions`: a
    caller's cache (one transaction) of the subscriptions read."""
    levels = (0,) if escalation_level is None else (0, escalation_level)
    cached = subscriptions.get(repr(levels)) if subscriptions is not None else None
    subs = cached if cached is not None else await repo.subscriptions(
        session, levels=levels, with_scoped=True)
    if subscriptions is not None:
        subscriptions[repr(levels)] = subs
    if not subs:  # the common case: one small read
        return 0
    warning = await repo.get(session, warning_id)
    held = {a for a in (*(aors or ()), *((warning or {}).get(k) for k in
                                         ("owner_aor_id", "escalated_to_aor_id"))) if a}
    subs = [s for s in subs if s["aor_id"] is None or s["aor_id"] in held]
    if not subs:
        return 0
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


# Errors no retry can cure: the delivery is failed at once (and logged).
FINAL_ERRORS = ("acknowledgements are off for this integration", "no reporter contact")


def next_attempt(schedule: tuple[float, ...], attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after `attempts_made` failures; None when the schedule is spent."""
    if attempts_made >= len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_made])


async def _post(
    client: httpx.AsyncClient, d: dict[str, Any], secret: str, timeout: float, body: bytes | None = None
) -> tuple[int | None, str | None]:
    body = body if body is not None else orjson.dumps(d["payload"])
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
        message = str(exc)
        return None, message if message.startswith("refused:") else type(exc).__name__
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
    contacts: dict[uuid.UUID, str | None] = {}
    async with maker() as session:
        claimed = await repo.claim_due(session, now, now + lease, limit=limit)
        for d in claimed:  # read only for sending, held in memory for the POST alone
            if d["channel"] == "community_ack" and d["sendable"]:
                contacts[d["id"]] = await community.reporter_contact(session, settings, d["alert_id"])
        await session.commit()
    if not claimed:
        return 0
    own = client is None
    client = client or delivery_client(settings)

    async def attempt(d: dict[str, Any]) -> tuple[int | None, str | None]:
        # No separate check here: the pinned client resolves, checks and connects in one step.
        try:
            if d["channel"] == "community_ack":
                if not d["sendable"] or not d["url"]:
                    return None, "acknowledgements are off for this integration"
                contact = contacts.get(d["id"])
                if not contact:
                    return None, "no reporter contact"
                return await _post(client, d, derive_secret(pepper, d["secret_salt"]),
                                   settings.webhook_timeout_s, community.body(d, contact))
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
            elif code is None and error in FINAL_ERRORS:  # retrying cannot help
                values.update(status="failed", next_attempt_at=None)
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
