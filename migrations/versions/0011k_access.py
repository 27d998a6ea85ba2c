"""access (issue 11): token expiry and last use, integration rate limits and acknowledgement
endpoints, reporter contacts encrypted at rest

- api_token: expires_at (tokens that exist get 90 days from now: a grace period, not an outage),
  last_used_at, created_by.
- integration: rate_limit_per_minute / rate_limit_burst (NULL: no limit), rate_tat (the rate
  limiter's theoretical arrival time, GCRA), ack_url (where acknowledgements to reporters go).
- alert.reporter_contact and report.reporter_ref: every clear-text value is encrypted with the
  configured reporter contact key (app.services.reporters.crypto); partial indexes for the
  retention purge that blanks them.

Revision ID: 0011k
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011k"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def _encrypt_clear(table: str, column: str) -> None:
    from app.services.reporters.crypto import PREFIX, cipher
    from app.settings import get_settings

    box = cipher(get_settings())
    bind = op.get_bind()
    while True:
        rows = bind.execute(sa.text(
            f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608
            f"AND left({column}, {len(PREFIX)}) <> :prefix LIMIT {BATCH}"),
            {"prefix": PREFIX}).all()
        if not rows:
            return
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608
                     [{"id": r[0], "value": box.encrypt(r[1])} for r in rows])


def upgrade() -> None:
    op.execute("ALTER TABLE api_token ADD COLUMN expires_at timestamptz, "
               "ADD COLUMN last_used_at timestamptz, ADD COLUMN created_by text")
    op.execute("UPDATE api_token SET expires_at = now() + interval '90 days' "
               "WHERE revoked_at IS NULL")
    op.execute("""
ALTER TABLE integration
    ADD COLUMN rate_limit_per_minute integer,
    ADD COLUMN rate_limit_burst integer,
    ADD COLUMN rate_tat timestamptz,
    ADD COLUMN IF NOT EXISTS ack_url text,
    ADD CONSTRAINT ck_integration_rate_limit CHECK (rate_limit_per_minute IS NULL
        OR rate_limit_per_minute > 0),
    ADD CONSTRAINT ck_integration_rate_burst CHECK (rate_limit_burst IS NULL
        OR rate_limit_burst > 0)
""")
    _encrypt_clear("alert", "reporter_contact")
    _encrypt_clear("report", "reporter_ref")
    op.execute("CREATE INDEX ix_alert_reporter_retention ON alert (received_at) "
               "WHERE reporter_contact IS NOT NULL OR sender_key IS NOT NULL")
    op.execute("CREATE INDEX ix_report_reporter_retention ON report (created_at) "
               "WHERE reporter_ref IS NOT NULL")


def downgrade() -> None:
    # Contacts stay encrypted: decrypting them back into clear text is not a downgrade to offer.
    op.execute("DROP INDEX ix_report_reporter_retention")
    op.execute("DROP INDEX ix_alert_reporter_retention")
    op.execute("ALTER TABLE integration DROP COLUMN IF EXISTS ack_url, DROP COLUMN rate_tat, "
               "DROP COLUMN rate_limit_burst, DROP COLUMN rate_limit_per_minute")
    op.execute("ALTER TABLE api_token DROP COLUMN created_by, DROP COLUMN last_used_at, "
               "DROP COLUMN expires_at")
