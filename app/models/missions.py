"""Missions as data (issue 13): a mission's profile and area, its areas of responsibility, and
its gazetteer of place names."""

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
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Mission(Base):
    __tablename__ = "mission"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    area: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    countries: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    timezone: Mapped[str] = mapped_column(Text)
    # seasons, languages, CAP sender, map view, decay scale, gazetteer files, AOR policy
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("code ~ '^[a-z][a-z0-9_-]{1,31}$'", name="code"),
        CheckConstraint("ST_IsValid(area)", name="area"),
    )


class Aor(Base):
    """An area of responsibility: a sector or a field office's area inside one mission."""

    __tablename__ = "aor"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    mission_code: Mapped[str] = mapped_column(
        ForeignKey("mission.code", ondelete="CASCADE", onupdate="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("aor.id", ondelete="SET NULL"))
    area: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("mission_code", "name", name="uq_aor_mission_name"),
        CheckConstraint("kind IN ('sector', 'field_office')", name="kind"),
        CheckConstraint("ST_IsValid(area)", name="area"),
    )


class Place(Base):
    """A gazetteer entry: a place name and where it is, from imported data or a GeoNames file."""

    __tablename__ = "place"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    mission_code: Mapped[str | None] = mapped_column(
        ForeignKey("mission.code", ondelete="CASCADE", onupdate="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    precision: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16))
    events: Mapped[int] = mapped_column(Integer, server_default="1")
