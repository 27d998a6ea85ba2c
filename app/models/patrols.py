"""Saved patrol plans, their tasks and the patrol reports against them (issue 15)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

REPORT_STATUSES = ("done", "partly", "not_done")


class PatrolPlan(Base):
    """One saved version of a plan: what was asked (parameters), on which threat picture (the data
    version of the layer it used) and what came out (summary, uncovered cells)."""

    __tablename__ = "patrol_plan"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                          server_default=sql_text("gen_random_uuid()"))
    series_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(Integer)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patrol_plan.id"))
    as_of: Mapped[date] = mapped_column(Date)
    horizon_days: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    layer_version: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    uncovered: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("series_id", "version", name="uq_patrol_plan_version"),
        CheckConstraint("ends_on >= starts_on", name="period"),
        Index("ix_patrol_plan_period", "starts_on", "ends_on"),
    )


class PatrolTask(Base):
    __tablename__ = "patrol_task"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrol_plan.id", ondelete="CASCADE"),
                                               primary_key=True)
    task_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    base_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    base_name: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(8))
    cells: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    desired_effect: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)
    threat_score: Mapped[float] = mapped_column()
    visits: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the task as planned (reason, window…)

    __table_args__ = (Index("ix_patrol_task_base", "base_id"),)


class PatrolReport(Base):
    """What a patrol did about its task: done, partly or not done (with the reason)."""

    __tablename__ = "patrol_report"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                          server_default=sql_text("gen_random_uuid()"))
    plan_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    task_id: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    observations: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    civilians_engaged: Mapped[int | None] = mapped_column(Integer)
    incident_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)),
                                                          server_default="{}")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        ForeignKeyConstraint(["plan_id", "task_id"], ["patrol_task.plan_id", "patrol_task.task_id"],
                             ondelete="CASCADE"),
        UniqueConstraint("plan_id", "task_id", name="uq_patrol_report_task"),
        CheckConstraint("status IN ('done', 'partly', 'not_done')", name="status"),
        CheckConstraint("status = 'done' OR reason IS NOT NULL", name="reason_unless_done"),
        CheckConstraint("status = 'not_done' OR started_at IS NOT NULL", name="started_if_went"),
        CheckConstraint("ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
                        name="period"),
        CheckConstraint("civilians_engaged IS NULL OR civilians_engaged >= 0", name="civilians"),
        Index("ix_patrol_report_started", "started_at"),
    )
