"""Idempotency keys of staff form submissions (issue 17). The only place their SQL is built."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.submissions import SubmissionKey


async def claim(session: AsyncSession, token_id: uuid.UUID, key: str, request_hash: str
                ) -> tuple[str, uuid.UUID | None] | None:
    """Claims the key in this transaction; None if it was new. Otherwise (the other request's
    hash, its incident): a concurrent claim waits on the key's unique index until the first
    commits (or rolls back, and then this claim wins)."""
    won = (await session.execute(
        insert(SubmissionKey).values(token_id=token_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing().returning(SubmissionKey.key))).first()
    if won is not None:
        return None
    row = (await session.execute(
        select(SubmissionKey.request_hash, SubmissionKey.incident_id)
        .where(SubmissionKey.token_id == token_id, SubmissionKey.key == key))).one()
    return str(row[0]), row[1]


async def settle(session: AsyncSession, token_id: uuid.UUID, key: str, incident_id: uuid.UUID
                 ) -> None:
    await session.execute(update(SubmissionKey).where(
        SubmissionKey.token_id == token_id, SubmissionKey.key == key).values(incident_id=incident_id))
