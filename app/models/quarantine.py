"""Quarantine: rows a worker or an import could not process, kept with their error for admins.

A bad row is set aside here (and marked on its own row where it has one, e.g. an alert's
`triage.action = error`) so the worker moves on: it never retries it in a loop, and no list
that reads it fails. Admins read the quarantine at GET /api/v1/quarantine (issue 11)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class QuarantinedRow(Base):
    __tablename__ = "quarantine"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=sql_text("gen_random_uuid()"))
    source: Mapped[str] = mapped_column(String(32))  # alert_triage, import, webhook, …
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)  # the error's kind and a short, safe message
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_quarantine_created", sql_text("created_at DESC")),
        Index("ix_quarantine_object", "object_type", "object_id"),
    )
