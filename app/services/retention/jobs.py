"""The retention purges, as scheduler jobs `async (session, settings, now) -> rows purged`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import alerts as alert_repo
from app.repositories import quarantine as quarantine_repo
from app.repositories import warnings as warning_repo
from app.settings import Settings


async def purge_idempotency_keys(session: AsyncSession, settings: Settings, now: datetime) -> int:
    return await alert_repo.purge_keys(session, now - timedelta(hours=settings.idempotency_ttl_hours))


async def purge_webhook_deliveries(session: AsyncSession, settings: Settings, now: datetime) -> int:
    return await warning_repo.purge_deliveries(
        session, now - timedelta(days=settings.webhook_delivery_retention_days))


async def purge_quarantine(session: AsyncSession, settings: Settings, now: datetime) -> int:
    return await quarantine_repo.purge_before(
        session, now - timedelta(days=settings.quarantine_retention_days))
