"""Merge the feature branches (alerts, bases, data version) into one head; drop the plain
occurred_start index, which two other B-trees already lead with (ix_incident_order and the
covering ix_incident_hotspot): one index less to maintain on every insert.

Revision ID: 0006
Revises: 0003, 0004, 0005
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_incident_occurred_start", table_name="incident")


def downgrade() -> None:
    op.create_index("ix_incident_occurred_start", "incident", ["occurred_start"], unique=False)
