"""Storing, revealing, re-encrypting and forgetting reporter contacts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.repositories import audit
from app.repositories import reporters as repo
from app.services.auth import Principal
from app.services.reporters import crypto
from app.settings import Settings


def protect(settings: Settings, contact: str | None) -> str | None:
    """What is stored for a contact: its ciphertext (None stays None)."""
    return None if contact is None else crypto.cipher(settings).encrypt(contact)


def protect_alert(settings: Settings, values: dict[str, Any], contact: str | None, *,
                  sms_sender: str | None) -> None:
    """Put an incoming alert's reporter contact into its stored values: encrypted, with the
    keyed hash that recognises the same reporter (SMS repeat collapse) without the number."""
    if not contact and not sms_sender:
        return
    values["reporter_contact"] = protect(settings, contact or sms_sender)
    values["sender_key"] = crypto.contact_key(settings, sms_sender or contact or "",
                                              sms=sms_sender is not None)


def read(settings: Settings, stored: str) -> str:
    """A stored contact in clear. A value no configured key opens (a key was dropped before the
    re-encryption finished) is a 409 naming the remedy, never a server error or garbled text."""
    try:
        return crypto.cipher(settings).decrypt(stored)
    except crypto.UndecryptableContact:
        raise Conflict("the stored reporter contact cannot be decrypted with the configured keys "
                       "(KINGA_REPORTER_CONTACT_KEYS): put the retired key back and run "
                       "`kinga reporters reencrypt`") from None


def read_or_none(settings: Settings, stored: str | None) -> str | None:
    """The same for a sender that must not stop on one unreadable row: None instead of a 409."""
    try:
        return None if stored is None else read(settings, stored)
    except Conflict:
        return None


async def _reveal(session: AsyncSession, settings: Settings, stored: str | None, who: Principal,
                  *, what: str, object_type: str, object_id: str, reason: str) -> str:
    """Decrypt one stored contact for a person who must reach the reporter; audited (who, when,
    why) only once it was read."""
    if stored is None:
        raise NotFound(f"this {object_type} holds no {what} (none was given, or it was "
                       f"blanked after {settings.reporter_contact_ttl_days} days)")
    clear = read(settings, stored)
    await audit.record(session, actor=who.actor, action="reveal_reporter", object_type=object_type,
                       object_id=object_id, after={"reason": reason})
    await session.commit()
    return clear


async def reveal_alert_contact(session: AsyncSession, settings: Settings, alert_id: uuid.UUID,
                               who: Principal, reason: str) -> dict[str, Any]:
    """An alert's reporter contact in clear, for someone who must contact the reporter."""
    row = await repo.alert_contact(session, alert_id)
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    contact = await _reveal(session, settings, row["reporter_contact"], who,
                            what="reporter contact", object_type="alert",
                            object_id=str(alert_id), reason=reason)
    return {"alert_id": str(alert_id), "reporter_contact": contact}


async def reveal_report_ref(session: AsyncSession, settings: Settings, incident_id: uuid.UUID,
                            report_id: uuid.UUID, who: Principal, reason: str) -> dict[str, Any]:
    """A report's reporter reference in clear, the same way."""
    row = await repo.report_ref(session, incident_id, report_id)
    if row is None:
        raise NotFound(f"no report {report_id} of incident {incident_id}")
    ref = await _reveal(session, settings, row["reporter_ref"], who, what="reporter reference",
                        object_type="report", object_id=str(report_id), reason=reason)
    return {"incident_id": str(incident_id), "report_id": str(report_id), "reporter_ref": ref}


async def purge_expired(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Scheduler job: blank reporter contacts older than KINGA_REPORTER_CONTACT_TTL_DAYS."""
    return await repo.blank_before(session, now - timedelta(days=settings.reporter_contact_ttl_days))


async def reencrypt_all(session: AsyncSession, settings: Settings, *, batch: int = 500
                        ) -> dict[str, int]:
    """Every stored contact under the newest key (and any clear text encrypted): the step of a
    key rotation between adding the new key in front and dropping the old one."""
    box = crypto.cipher(settings)
    done: dict[str, int] = {}
    for table in repo.TABLES:
        done[table] = 0
        after: uuid.UUID | None = None
        while page := await repo.contacts_page(session, table, after, batch):
            await repo.set_contacts(session, table, [(i, box.reencrypt(v)) for i, v in page])
            await session.commit()
            done[table] += len(page)
            after = page[-1][0]
    return done
