"""briefs: generated situation briefs kept as dated records (issue 18)

Revision ID: 0018b
Revises: 0018a
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018b"
down_revision: str | Sequence[str] | None = "0018a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brief",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mission", sa.Text(), nullable=True),
        sa.Column("aor", sa.Text(), nullable=True),
        sa.Column("edition", sa.String(length=8), nullable=False),
        sa.Column("scheduled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("generated_by", sa.Text(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint("period IN ('day', 'week')", name=op.f("ck_brief_period")),
        sa.CheckConstraint("edition IN ('full', 'partner')", name=op.f("ck_brief_edition")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brief")),
    )
    op.create_index("ix_brief_as_of", "brief", ["as_of", "period"])
    op.create_index("uq_brief_scheduled", "brief",
                    ["period", "as_of", sa.text("coalesce(mission, '')"),
                     sa.text("coalesce(aor, '')"), "edition"],
                    unique=True, postgresql_where=sa.text("scheduled"))


def downgrade() -> None:
    op.drop_index("uq_brief_scheduled", table_name="brief")
    op.drop_index("ix_brief_as_of", table_name="brief")
    op.drop_table("brief")
