from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain import Category, PerpetratorType, Section, Status
from app.models.base import Base


def _in(col: str, values: Any) -> str:
    return f"{col} IN ({', '.join(repr(str(v)) for v in values)})"


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    occurred_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    occurred_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    time_precision: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    location_precision: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    precision_scheme: Mapped[str] = mapped_column(String(16), server_default="kinga")
    location_radius_m: Mapped[int] = mapped_column(Integer, server_default="0")
    h3_cell: Mapped[int] = mapped_column(BigInteger)
    place_name: Mapped[str | None] = mapped_column(Text)
    admin1: Mapped[str | None] = mapped_column(Text)
    admin2: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(Text)
    perpetrators: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    perpetrator_type: Mapped[str] = mapped_column(String(32), server_default="unknown")
    fatalities_low: Mapped[int | None] = mapped_column(Integer)
    fatalities_best: Mapped[int] = mapped_column(Integer, server_default="0")
    fatalities_high: Mapped[int | None] = mapped_column(Integer)
    injured: Mapped[int] = mapped_column(Integer, server_default="0")
    crsv_survivors: Mapped[int] = mapped_column(Integer, server_default="0")
    children_affected: Mapped[int] = mapped_column(Integer, server_default="0")
    displaced: Mapped[int] = mapped_column(Integer, server_default="0")
    narrative: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="entered")
    quality_grade: Mapped[str] = mapped_column(String(1), server_default="c")
    independent_sources: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    external_source: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    # Set exactly when status is `merged` (0014a): the incident this account is now a report of.
    merged_into: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"))
    # The mission an import assigned the incident to (issue 13); answers clip by area, not by it.
    mission_code: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    reports: Mapped[list[Report]] = relationship(
        back_populates="incident", order_by="Report.received_at", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("external_source", "external_id", name="uq_incident_external"),
        CheckConstraint(_in("category", Category), name="category"),
        CheckConstraint(_in("perpetrator_type", PerpetratorType), name="perpetrator_type"),
        CheckConstraint(_in("status", Status), name="status"),
        CheckConstraint("quality_grade IN ('a', 'b', 'c')", name="quality_grade"),
        CheckConstraint("occurred_end IS NULL OR occurred_end >= occurred_start", name="time_order"),
        CheckConstraint("(status = 'merged') = (merged_into IS NOT NULL)", name="merged"),
        CheckConstraint(
            "fatalities_best >= 0 AND injured >= 0 AND crsv_survivors >= 0 "
            "AND children_affected >= 0 AND displaced >= 0",
            name="victims_non_negative",
        ),
        Index("ix_incident_location", "location", postgresql_using="gist"),
        Index("ix_incident_h3_cell", "h3_cell"),
        Index("ix_incident_order", text("occurred_start DESC"), text("id DESC")),
    )


class Report(Base):
    __tablename__ = "report"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(32))
    source_name: Mapped[str | None] = mapped_column(Text)
    source_reliability: Mapped[str] = mapped_column(String(1))
    information_credibility: Mapped[int] = mapped_column(SmallInteger)
    # A report may summarise several sources (UCDP's number_of_sources, say).
    source_count: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    narrative: Mapped[str | None] = mapped_column(Text)
    # Encrypted (app.services.reporters.crypto); read only through the audited reveal.
    reporter_ref: Mapped[str | None] = mapped_column(Text)
    # Outlets the report draws on, normalised (0014a): reports citing one outlet are not
    # independent sources (grading.independent_sources).
    cites: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    incident: Mapped[Incident] = relationship(back_populates="reports", lazy="raise")

    __table_args__ = (
        CheckConstraint(_in("section", Section), name="section"),
        CheckConstraint("source_reliability IN ('A','B','C','D','E','F')", name="reliability"),
        CheckConstraint("information_credibility BETWEEN 1 AND 6", name="credibility"),
        CheckConstraint("source_count >= 1", name="source_count"),
        Index("ix_report_reporter_retention", "created_at",
              postgresql_where=text("reporter_ref IS NOT NULL")),
    )


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)


class ImportRun(Base):
    __tablename__ = "import_run"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    source: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(Integer, server_default="0")
    inserted: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    mission_code: Mapped[str | None] = mapped_column(Text)
    outside_area: Mapped[int] = mapped_column(Integer, server_default="0")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # running until it ends: finished (whatever was rejected row by row) or failed (with error)
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    error: Mapped[str | None] = mapped_column(Text)
