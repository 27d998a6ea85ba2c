"""warning ownership by area of responsibility (issues 13 and 15): why a warning has its owner
(`owner_reason`: `aor` when an area of responsibility holds it, `nearest_base` when none does and
the nearest active base with capacity answers), the AOR that owns it (`owner_aor_id`, what an
AOR-scoped operations token may see and act on), and the base whose reach sets its on-scene target
(`owner_base_id`, `owner_base`). Existing base-owned warnings become `nearest_base`.

Revision ID: 0013c
Revises: 0008 (after 0013a's AORs and 0015a's warning owners)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013c"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0013a", "0015a")


def upgrade() -> None:
    op.execute("""
ALTER TABLE warning
    ADD COLUMN owner_reason varchar(16),
    ADD COLUMN owner_aor_id uuid,
    ADD COLUMN owner_base_id uuid,
    ADD COLUMN owner_base text,
    ADD CONSTRAINT ck_warning_owner_reason
        CHECK (owner_reason IS NULL OR owner_reason IN ('aor', 'nearest_base')),
    ADD CONSTRAINT ck_warning_owner_aor CHECK ((owner_reason = 'aor') = (owner_aor_id IS NOT NULL))
""")
    op.execute("UPDATE warning SET owner_reason = 'nearest_base', owner_base_id = owner_id, "
               "owner_base = assigned_to WHERE owner_kind = 'base'")
    op.execute("CREATE INDEX ix_warning_owner_aor ON warning (owner_aor_id) "
               "WHERE owner_aor_id IS NOT NULL")
    op.execute("CREATE INDEX ix_warning_mission ON warning (mission_code) "
               "WHERE mission_code IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_warning_mission")
    op.execute("DROP INDEX IF EXISTS ix_warning_owner_aor")
    op.execute("ALTER TABLE warning DROP CONSTRAINT ck_warning_owner_aor, "
               "DROP CONSTRAINT ck_warning_owner_reason, DROP COLUMN owner_base, "
               "DROP COLUMN owner_base_id, DROP COLUMN owner_aor_id, DROP COLUMN owner_reason")
