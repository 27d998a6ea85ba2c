"""data version: a counter every write to incident or report moves (cache invalidation)

One row holding a bigint. Statement-level triggers on INSERT, UPDATE, DELETE and TRUNCATE of
`incident` and `report` (a report changes grades) set it to the next value of a sequence, so:

- the bump is transactional: readers see the new version exactly when they can see the new rows;
- a value is never reused (sequences do not roll back), so a version seen inside a transaction
  that later rolls back never names committed data;
- the trigger is an upsert, so a TRUNCATE of the table itself (tests truncate everything) is
  repaired by the next write.

In-process caches of the hotspot layer, cell details and tiles are keyed on it (issue 3).

Revision ID: 0005
Revises: 0002
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("incident", "report")


def upgrade() -> None:
    op.execute("CREATE SEQUENCE data_version_seq")
    op.execute(
        "CREATE TABLE data_version (id boolean PRIMARY KEY DEFAULT true CHECK (id), "
        "version bigint NOT NULL)"
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (true, nextval('data_version_seq'))")
    op.execute(
        """
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_version (id, version) VALUES (true, nextval('data_version_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END
$$"""
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_data_version()")
    op.execute("DROP TABLE IF EXISTS data_version")
    op.execute("DROP SEQUENCE IF EXISTS data_version_seq")
