"""hotspots: covering index for the threat-layer aggregation

The threat layer reads, for a time window, only these columns of each incident; with them in an
index on occurred_start the aggregation is an index-only range scan (no heap visits once the
visibility map is set by (auto)vacuum), which is what keeps res-6 layers fast at 1M incidents.

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_incident_hotspot ON incident (occurred_start) INCLUDE "
        "(h3_cell, status, quality_grade, category, location_radius_m, fatalities_best, injured, "
        "crsv_survivors, children_affected, displaced, perpetrators)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_incident_hotspot")
