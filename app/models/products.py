"""Information requirements and generated briefs (issue 18)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

IR_KINDS = ("ccir", "pir", "ir")
BRIEF_PERIODS = ("day", "week")
BRIEF_EDITIONS = ("full", "partner")


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class InformationRequirement(Base):
    """A question the mission needs answered by reporting from an area, at a frequency."""

    __tablename__ = "information_requirement"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    code: Mapped[str | None] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(8), server_default="ir")
    question: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="2")
    area: Mapped[Any | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    aor: Mapped[str | None] = mapped_column(Text)
    mission: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text))
    perpetrators: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    crsv: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    frequency_days: Mapped[int] = mapped_column(Integer)
    owner_section: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("kind", IR_KINDS), name="kind"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
        CheckConstraint("frequency_days > 0", name="frequency"),
        CheckConstraint("cardinality(categories) > 0", name="categories"),
        CheckConstraint("area IS NOT NULL OR aor IS NOT NULL", name="area_or_aor"),
        Index("ix_information_requirement_area", "area", postgresql_using="gist"),
    )


class Brief(Base):
    """A generated situation brief kept as a dated record (scheduled or asked to be kept)."""

    __tablename__ = "brief"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    period: Mapped[str] = mapped_column(String(8))
    as_of: Mapped[date] = mapped_column(Date)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mission: Mapped[str | None] = mapped_column(Text)
    aor: Mapped[str | None] = mapped_column(Text)
    edition: Mapped[str] = mapped_column(String(8))
    scheduled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    generated_by: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint(_in("period", BRIEF_PERIODS), name="period"),
        CheckConstraint(_in("edition", BRIEF_EDITIONS), name="edition"),
        Index("ix_brief_as_of", "as_of", "period"),
        # One scheduled brief per period, day, scope and edition: a second run adds nothing.
        Index("uq_brief_scheduled", "period", "as_of", text("coalesce(mission, '')"),
              text("coalesce(aor, '')"), "edition", unique=True,
              postgresql_where=text("scheduled")),
    )
