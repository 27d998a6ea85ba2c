"""Acknowledging a reporter through the integration their alert came from: the one place a
contact is decrypted without a person reading it. The integration's `ack_url` receives a signed
POST (same signature scheme as its own alert posts, with its signing secret):

    {"alert_id": ..., "to": <the reporter's contact>, "message": ..., "sent_at": ...}

through the pinned outbound client (public addresses only, no redirects), and the gateway
(an SMS gateway, the community alert network) delivers it. The attempt is audited without the
contact. The response loop calls `send_acknowledgement` when an alert is received or help is sent.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.repositories import audit
from app.repositories import integrations as integ_repo
from app.repositories import reporters as repo
from app.services import outbound
from app.services.reporters import contacts
from app.services.signing import derive_secret, sign
from app.settings import Settings


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: uuid.UUID
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


async def send_acknowledgement(session: AsyncSession, settings: Settings, alert_id: uuid.UUID,
                               message: str, *, actor: str,
                               client: httpx.AsyncClient | None = None) -> Acknowledgement:
    """Send `message` to the reporter of an alert through its integration; audited. Refused
    (409) when the alert has no contact (never given, or blanked) or its integration has no
    acknowledgement URL or was revoked. No transaction is open during the POST."""
    row = await repo.alert_contact(session, alert_id)
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    integ = await integ_repo.by_id(session, row["integration_id"])
    await session.commit()
    if row["reporter_contact"] is None:
        raise Conflict("this alert holds no reporter contact to acknowledge")
    if integ is None or integ["revoked_at"] is not None or not integ.get("ack_url"):
        raise Conflict("the alert's integration has no acknowledgement URL (ack_url)")
    body = orjson.dumps({
        "alert_id": str(alert_id),
        "to": contacts.read(settings, row["reporter_contact"]),
        "message": message,
        "sent_at": datetime.now(UTC).isoformat(),
    })
    secret = derive_secret(settings.token_pepper.get_secret_value(), integ["secret_salt"])
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "kinga-ack/1",
               "X-Kinga-Timestamp": ts, "X-Kinga-Signature": sign(secret, ts, body)}
    own = client is None
    client = client or outbound.pinned_client(
        allow_private=lambda: settings.webhook_allow_private_targets,
        timeout=settings.webhook_timeout_s)
    code: int | None = None
    error: str | None = None
    try:
        resp = await client.post(integ["ack_url"], content=body, headers=headers)
        code = resp.status_code
        error = None if resp.is_success else f"HTTP {resp.status_code}"
    except httpx.HTTPError as exc:  # the message, never the body: it holds the contact
        text = str(exc)
        error = text if text.startswith("refused:") else type(exc).__name__
    finally:
        if own:
            await client.aclose()
    await audit.record(session, actor=actor, action="acknowledge", object_type="alert",
                       object_id=str(alert_id),
                       after={"integration": integ["name"], "message": message,
                              "status_code": code, "error": error})
    await session.commit()
    return Acknowledgement(alert_id, code, error)
