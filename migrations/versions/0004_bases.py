"""bases: the mission's deployment footprint (issue 5)

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "mission_hq",
    "sector_hq",
    "company_operating_base",
    "temporary_operating_base",
    "field_office",
    "police_post",
)


def upgrade() -> None:
    op.create_geospatial_table(
        "mission_base",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("troops", sa.Integer(), server_default="0", nullable=False),
        sa.Column("road_patrols_per_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("foot_patrols_per_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("air_patrols_per_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("qrf_standby", sa.Integer(), server_default="0", nullable=False),
        sa.Column("road_reach_km", sa.Float(), nullable=True),
        sa.Column("foot_reach_km", sa.Float(), nullable=True),
        sa.Column("air_reach_km", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("external_source", sa.String(length=16), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name=op.f("ck_mission_base_kind"),
        ),
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= opened_on", name=op.f("ck_mission_base_period")
        ),
        sa.CheckConstraint(
            "troops >= 0 AND road_patrols_per_day >= 0 AND foot_patrols_per_day >= 0 "
            "AND air_patrols_per_day >= 0 AND qrf_standby >= 0",
            name=op.f("ck_mission_base_capacity_non_negative"),
        ),
        sa.CheckConstraint(
            "coalesce(road_reach_km, 0) >= 0 AND coalesce(foot_reach_km, 0) >= 0 "
            "AND coalesce(air_reach_km, 0) >= 0",
            name=op.f("ck_mission_base_reach_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_base")),
        sa.UniqueConstraint("external_source", "external_id", name="uq_mission_base_external"),
    )
    op.create_geospatial_index(
        "ix_mission_base_location",
        "mission_base",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_mission_base_period", "mission_base", ["opened_on", "closed_on"])


def downgrade() -> None:
    op.drop_index("ix_mission_base_period", table_name="mission_base")
    op.drop_geospatial_index(
        "ix_mission_base_location",
        table_name="mission_base",
        postgresql_using="gist",
        column_name="location",
    )
    op.drop_geospatial_table("mission_base")
