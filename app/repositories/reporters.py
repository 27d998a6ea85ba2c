"""Reporter contacts at rest: `alert.reporter_contact` and `report.reporter_ref` (encrypted by
app.services.reporters), and the keyed hash `alert.sender_key`. Reads of a single contact are for
the audited reveal and acknowledgements only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report
from app.models.alerts import Alert

# name -> (table, its id column, its contact column)
TABLES: dict[str, tuple[Any, Any, Any]] = {
    "alert": (Alert, Alert.id, Alert.reporter_contact),
    "report": (Report, Report.id, Report.reporter_ref),
}


async def alert_contact(session: AsyncSession, alert_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await session.execute(
        select(Alert.id, Alert.integration_id, Alert.reporter_contact)
        .where(Alert.id == alert_id))).mappings().first()
    return dict(row) if row else None


async def report_ref(session: AsyncSession, incident_id: uuid.UUID, report_id: uuid.UUID
                     ) -> dict[str, Any] | None:
    row = (await session.execute(
        select(Report.id, Report.incident_id, Report.reporter_ref)
        .where(Report.id == report_id, Report.incident_id == incident_id))).mappings().first()
    return dict(row) if row else None


async def blank_before(session: AsyncSession, cutoff: datetime) -> int:
    """Blank the contacts (and keyed hashes) of alerts received and reports stored before
    `cutoff`; how many rows changed."""
    alerts = await session.execute(
        update(Alert)
        .where(Alert.received_at < cutoff,
               or_(Alert.reporter_contact.is_not(None), Alert.sender_key.is_not(None)))
        .values(reporter_contact=None, sender_key=None))
    # An UPDATE of `report` fires its data-version trigger, which takes the lock every incident
    # writer waits for until this transaction ends, even when it changes nothing: only when a
    # report is due.
    stale = Report.created_at < cutoff, Report.reporter_ref.is_not(None)
    if (await session.execute(select(Report.id).where(*stale).limit(1))).first() is None:
        return int(alerts.rowcount or 0)  # type: ignore[attr-defined]
    reports = await session.execute(update(Report).where(*stale).values(reporter_ref=None))
    return int(alerts.rowcount or 0) + int(reports.rowcount or 0)  # type: ignore[attr-defined]


async def contacts_page(session: AsyncSession, table: str, after: uuid.UUID | None, limit: int
                        ) -> list[tuple[uuid.UUID, str]]:
    """Stored contacts of one table in id order (re-encryption walks them in pages)."""
    _, ident, column = TABLES[table]
    conds = [column.is_not(None)]
    if after is not None:
        conds.append(ident > after)
    stmt = select(ident, column).where(and_(*conds)).order_by(ident).limit(limit)
    return [(r[0], r[1]) for r in (await session.execute(stmt)).all()]


async def set_contacts(session: AsyncSession, table: str, values: list[tuple[uuid.UUID, str]]
                       ) -> None:
    model, _, column = TABLES[table]
    if not values:
        return
    core: Table = model.__table__
    stmt = (core.update().where(core.c.id == bindparam("row_id"))
            .values({column.key: bindparam("contact")}))
    await session.execute(stmt, [{"row_id": i, "contact": v} for i, v in values])
