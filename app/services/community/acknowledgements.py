"""Acknowledgements to reporters, through the integration that posted their alert.

When an alert has been triaged (received), and again when a response to a warning holding it is
dispatched, one acknowledgement is queued for its reporter: a row in the delivery outbox
(`webhook_delivery`, channel `community_ack`), in the same transaction as the change, at most one
per (alert, event) however often triage or a dispatch runs. The webhook dispatcher
(app/workers/webhooks.py) sends it after that transaction commits, signed with the integration's
own signing secret, retried on the webhook schedule, every attempt logged. Intake never waits for
it. Nothing is queued when the integration has no `ack_url`, opted out, or the alert carries no
contact.

The queued row holds the message, never the contact: the contact is read when the message is
sent, through `reporter_contact` (the one place that reads a reporter's contact for this purpose).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import community as repo
from app.services.community.messages import message
from app.services.reporters import contacts
from app.settings import Settings

RECEIVED, DISPATCHED = "alert.received", "alert.dispatched"


def wants(integ: dict[str, Any]) -> bool:
    return bool(integ.get("ack_url")) and bool(integ.get("acknowledge_reporters", True)) \
        and integ.get("revoked_at") is None


def _row(kind: str, alert: dict[str, Any], integration_id: uuid.UUID, settings: Settings
         ) -> dict[str, Any]:
    language, text = message(kind, alert.get("language"), settings.ack_default_language)
    return {
        "channel": "community_ack",
        "integration_id": integration_id,
        "alert_id": alert["id"],
        "event": kind,
        "payload": {"event": kind, "alert_id": str(alert["id"]),
                    "external_id": alert.get("external_id"), "language": language,
                    "message": text},
    }


async def on_received(session: AsyncSession, settings: Settings, integ: dict[str, Any],
                      alert: dict[str, Any]) -> int:
    """Queue "your alert was received" for a triaged alert (not for a collapsed repeat: its
    sender was answered the first time)."""
    if not wants(integ) or not alert.get("reporter_contact") or alert.get("collapsed_into"):
        return 0
    return await repo.enqueue(session, [_row(RECEIVED, alert, integ["id"], settings)])


async def on_dispatched(session: AsyncSession, settings: Settings, alert_ids: list[uuid.UUID]
                        ) -> int:
    """Queue "help has been sent" for every alert of a warning whose response was dispatched
    (dismissed alerts and collapsed repeats excluded; each reporter gets one, once)."""
    if not alert_ids:
        return 0
    rows = [_row(DISPATCHED, a, a["integration_id"], settings)
            for a in await repo.ack_targets(session, alert_ids) if wants(a["integration"])]
    return await repo.enqueue(session, rows)


async def reporter_contact(session: AsyncSession, settings: Settings, alert_id: uuid.UUID
                           ) -> str | None:
    """The reporter's contact, decrypted to send an acknowledgement (and for nothing else); None
    when it cannot be read (a retired key), so that delivery fails alone and is logged."""
    return contacts.read_or_none(settings, await repo.contact(session, alert_id))


def body(delivery: dict[str, Any], contact: str) -> bytes:
    """The POST body sent to the gateway: the queued message plus the contact and the delivery
    id (receivers deduplicate on it)."""
    return orjson.dumps({**delivery["payload"], "delivery_id": str(delivery["id"]), "to": contact})
