"""quarantine table; import runs end as finished or failed (issue 11, validation at the edge)

A row a worker cannot process is set aside in `quarantine` with its error, for admins, instead
of being retried in a loop. An import run records how it ended: `running` while it works,
then `finished` or `failed` with its error, never left half-finished. Runs that an earlier
version left without a finish time are marked failed.

Revision ID: 0011e
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011e"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    op.create_index("ix_quarantine_created", "quarantine", [sa.text("created_at DESC")])
    op.create_index("ix_quarantine_object", "quarantine", ["object_type", "object_id"])
    op.add_column("import_run", sa.Column("status", sa.String(length=16),
                                          server_default="running", nullable=False))
    op.add_column("import_run", sa.Column("error", sa.Text(), nullable=True))
    op.execute("UPDATE import_run SET status = CASE WHEN finished_at IS NULL THEN 'failed' "
               "ELSE 'finished' END")
    op.execute("UPDATE import_run SET error = 'interrupted before it finished' "
               "WHERE finished_at IS NULL")
    op.execute("ALTER TABLE import_run ADD CONSTRAINT ck_import_run_status "
               "CHECK (status IN ('running', 'finished', 'failed'))")


def downgrade() -> None:
    op.execute("ALTER TABLE import_run DROP CONSTRAINT ck_import_run_status")
    op.drop_column("import_run", "error")
    op.drop_column("import_run", "status")
    op.drop_index("ix_quarantine_object", table_name="quarantine")
    op.drop_index("ix_quarantine_created", table_name="quarantine")
    op.drop_table("quarantine")
