"""information requirements: the registry of IRs/CCIRs the gap report measures (issue 18)

Revision ID: 0018a
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0018a"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "information_requirement",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=8), server_default="ir", nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="2", nullable=False),
        sa.Column("area", Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry"), nullable=True),
        sa.Column("aor", sa.Text(), nullable=True),
        sa.Column("mission", sa.Text(), nullable=True),
        sa.Column("categories", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("perpetrators", postgresql.ARRAY(sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("crsv", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("frequency_days", sa.Integer(), nullable=False),
        sa.Column("owner_section", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("kind IN ('ccir', 'pir', 'ir')",
                           name=op.f("ck_information_requirement_kind")),
        sa.CheckConstraint("priority BETWEEN 1 AND 3",
                           name=op.f("ck_information_requirement_priority")),
        sa.CheckConstraint("frequency_days > 0",
                           name=op.f("ck_information_requirement_frequency")),
        sa.CheckConstraint("cardinality(categories) > 0",
                           name=op.f("ck_information_requirement_categories")),
        sa.CheckConstraint("area IS NOT NULL OR aor IS NOT NULL",
                           name=op.f("ck_information_requirement_area_or_aor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_information_requirement")),
        sa.UniqueConstraint("code", name=op.f("uq_information_requirement_code")),
    )
    op.create_index("ix_information_requirement_area", "information_requirement", ["area"],
                    postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_information_requirement_area", table_name="information_requirement")
    op.drop_table("information_requirement")
