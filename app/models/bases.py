"""Mission bases (the deployment footprint). Each row is one base over one active period."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base as ModelBase

BASE_KINDS = (
    "mission_hq",
    "sector_hq",
    "company_operating_base",
    "temporary_operating_base",
    "field_office",
    "police_post",
)
PATROL_MODES = ("road", "foot", "air")


class MissionBase(ModelBase):
    __tablename__ = "mission_base"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    location: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)  # last day active; NULL = still open
    troops: Mapped[int] = mapped_column(Integer, server_default="0")
    road_patrols_per_day: Mapped[int] = mapped_column(Integer, server_default="0")
    foot_patrols_per_day: Mapped[int] = mapped_column(Integer, server_default="0")
    air_patrols_per_day: Mapped[int] = mapped_column(Integer, server_default="0")
    qrf_standby: Mapped[int] = mapped_column(Integer, server_default="0")
    # Per-base reach overrides in km (NULL: derived from the configured speeds and travel time).
    road_reach_km: Mapped[float | None] = mapped_column()
    foot_reach_km: Mapped[float | None] = mapped_column()
    air_reach_km: Mapped[float | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    external_source: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    mission_code: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("external_source", "external_id", name="uq_mission_base_external"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in BASE_KINDS) + ")", name="kind"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="period"),
        CheckConstraint(
            "troops >= 0 AND road_patrols_per_day >= 0 AND foot_patrols_per_day >= 0 "
            "AND air_patrols_per_day >= 0 AND qrf_standby >= 0",
            name="capacity_non_negative",
        ),
        CheckConstraint(
            "coalesce(road_reach_km, 0) >= 0 AND coalesce(foot_reach_km, 0) >= 0 "
            "AND coalesce(air_reach_km, 0) >= 0",
            name="reach_non_negative",
        ),
        Index("ix_mission_base_location", "location", postgresql_using="gist"),
        Index("ix_mission_base_period", "opened_on", "closed_on"),
    )
