"""Alert triage queue: alerts are stored on intake and triaged by a background worker; the
untriaged ones (triage IS NULL) are found through this small partial index, oldest first.

Revision ID: 0007b
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007b"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_alert_untriaged",
        "alert",
        ["received_at", "id"],
        unique=False,
        postgresql_where=sa.text("triage IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_alert_untriaged", table_name="alert")
