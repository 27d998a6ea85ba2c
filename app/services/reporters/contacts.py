"""Storing, revealing, re-encrypting and forgetting reporter contacts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
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


async def _revealed(session: AsyncSession, who: Principal, object_type: str, object_id: str,
                    reason: str) -> None:
    await audit.record(session, actor=who.actor, action="reveal_reporter", object_type=object_type,
                       object_id=object_id, after={"reason": reason})
    await session.commit()


async def reveal_alert_contact(session: AsyncSession, settings: Settings, alert_id: uuid.UUID,
                               who: Principal, reason: str) -> dict[str, Any]:
    """An alert's reporter contact in clear, for someone who must contact the reporter; the
    reading is audited (who, when, why)."""
    row = await repo.alert_contact(session, alert_id)
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    if row["reporter_contact"] is None:
        raise NotFound("this alert holds no reporter contact (none was given, or it was "
                       f"blanked after {settings.reporter_contact_ttl_days} days)")
    contact = crypto.cipher(settings).decrypt(row["reporter_contact"])
    await _revealed(session, who, "alert", str(alert_id), reason)
    return {"alert_id": str(alert_id), "reporter_contact": contact}


async def reveal_report_ref(session: AsyncSession, settings: Settings, incident_id: uuid.UUID,
                            report_id: uuid.UUID, who: Principal, reason: str) -> dict[str, Any]:
    row = await repo.report_ref(session, incident_id, report_id)
    if row is None:
        raise NotFound(f"no report {report_id} of incident {incident_id}")
    if row["reporter_ref"] is None:
        raise NotFound("this report holds no reporter reference (none was given, or it was "
                       f"blanked after {settings.reporter_contact_ttl_days} days)")
    ref = crypto.cipher(settings).decrypt(row["reporter_ref"])
    await _revealed(session, who, "report", str(report_id), reason)
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
