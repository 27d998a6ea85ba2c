"""data version: one bump per writing transaction; merge the change-log and alert-queue heads

0007 bumped the version row on every statement that wrote incidents or reports. A transaction
that writes row by row (the naive import baseline, an alert triage batch) then updated the same
row tens of thousands of times; every update must walk the chain of row versions the transaction
itself left behind, so the cost grew with the square of the statements (the row-by-row baseline
fell from 927 to 254 rows/s). Now the first write of a transaction locks the row and takes the
next version; later statements of the same transaction reuse it (`xact` records which
transaction holds it). Versions still follow commit order (lock first, then nextval).

Caches stay exact because a transaction that has written never reads from or fills them (the
repository reports such a read as not cacheable): within it, one version names several states.

Revision ID: 0008
Revises: 0007, 0007b
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = ("0007", "0007b")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE data_version ADD COLUMN xact bigint")
    op.execute("""
CREATE OR REPLACE FUNCTION next_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    x bigint := txid_current();
BEGIN
    SELECT version INTO v FROM data_version WHERE id AND xact = x;
    IF FOUND THEN
        RETURN v;  -- this transaction already holds the row and its version
    END IF;
    PERFORM 1 FROM data_version WHERE id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO data_version (id, version, log_since) VALUES (true, 0, 0)
        ON CONFLICT (id) DO NOTHING;
        PERFORM 1 FROM data_version WHERE id FOR UPDATE;
        v := nextval('data_version_seq');
        -- A recreated row: nothing before it is known to be logged.
        UPDATE data_version SET version = v, log_since = v, xact = x WHERE id;
        RETURN v;
    END IF;
    v := nextval('data_version_seq');
    UPDATE data_version SET version = v, xact = x WHERE id;
    RETURN v;
END
$$""")


def downgrade() -> None:
    op.execute("""
CREATE OR REPLACE FUNCTION next_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    PERFORM 1 FROM data_version WHERE id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO data_version (id, version, log_since) VALUES (true, 0, 0)
        ON CONFLICT (id) DO NOTHING;
        PERFORM 1 FROM data_version WHERE id FOR UPDATE;
        v := nextval('data_version_seq');
        UPDATE data_version SET version = v, log_since = v WHERE id;
        RETURN v;
    END IF;
    v := nextval('data_version_seq');
    UPDATE data_version SET version = v WHERE id;
    RETURN v;
END
$$""")
    op.execute("ALTER TABLE data_version DROP COLUMN IF EXISTS xact")
