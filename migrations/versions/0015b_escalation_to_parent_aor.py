"""overdue escalation to the owner's parent area of responsibility (issue 15).

- `warning.escalated_to_aor_id`, `escalated_to`, `escalated_to_kind`: where the last escalation of
  an AOR-owned warning went (level 1: the owner's parent sector, level 2: that sector's parent, or
  the mission's headquarters when the chain ends: kind `mission`, no AOR). A token of that AOR sees
  and acts on the warning. Warnings without an AOR owner keep only their escalation level.
- `webhook_subscription.aor_id`: a subscription scoped to an area of responsibility hears the
  events of the warnings that AOR owns or that were escalated to it.

Revision ID: 0015b
Revises: 0015a (after 0013a's AORs and 0013c's AOR owners)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015b"
down_revision: str | Sequence[str] | None = "0015a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0013a", "0013c")


def upgrade() -> None:
    op.execute("""
ALTER TABLE warning
    ADD COLUMN escalated_to_aor_id uuid
        CONSTRAINT fk_warning_escalated_to_aor_id_aor REFERENCES aor (id) ON DELETE SET NULL,
    ADD COLUMN escalated_to text,
    ADD COLUMN escalated_to_kind varchar(16),
    ADD CONSTRAINT ck_warning_escalated_to_kind
        CHECK (escalated_to_kind IS NULL OR escalated_to_kind IN ('sector', 'field_office', 'mission'))
""")
    op.execute("CREATE INDEX ix_warning_escalated_to_aor ON warning (escalated_to_aor_id) "
               "WHERE escalated_to_aor_id IS NOT NULL")
    op.execute("ALTER TABLE webhook_subscription "
               "ADD COLUMN aor_id uuid CONSTRAINT fk_webhook_subscription_aor_id_aor "
               "REFERENCES aor (id) ON DELETE CASCADE")
    op.execute("CREATE INDEX ix_webhook_subscription_aor ON webhook_subscription (aor_id) "
               "WHERE aor_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_webhook_subscription_aor")
    op.execute("ALTER TABLE webhook_subscription DROP COLUMN aor_id")
    op.execute("DROP INDEX IF EXISTS ix_warning_escalated_to_aor")
    op.execute("ALTER TABLE warning DROP CONSTRAINT ck_warning_escalated_to_kind, "
               "DROP COLUMN escalated_to_kind, DROP COLUMN escalated_to, "
               "DROP COLUMN escalated_to_aor_id")
