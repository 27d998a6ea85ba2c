"""the incident change log keeps each image's date precision (issue 15: rule scans of missions with
precision-widened decay).

A mission whose threat layer widens each incident's recency decay by its date precision
(`precision_decay`, issue 13) could not be kept up to date from the change log (migration 0007),
which held no precision: every rule scan after a write recomputed that mission's layer in full.
The log now holds `time_precision` with every image (and a change of precision alone is logged),
so those sums too are the cached sums plus the logged delta, exactly. Rows logged before this
revision carry no real precision: `log_since` moves past them, so no delta ever reads them.

Revision ID: 0015c
Revises: 0015b
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015c"
down_revision: str | Sequence[str] | None = "0015b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_LIMIT = 2000
BEFORE = ("id", "occurred_start", "location", "location_radius_m", "h3_cell", "category",
          "perpetrators", "fatalities_best", "injured", "crsv_survivors", "children_affected",
          "displaced", "status", "quality_grade")


def _functions(columns: Sequence[str]) -> list[str]:
    """The three logging functions of 0007 over these columns."""
    cols = ", ".join(columns)
    old_cols = ", ".join(f"o.{c}" for c in columns)
    new_cols = ", ".join(f"n.{c}" for c in columns)
    s_cols = ", ".join(f"s.{c}" for c in columns)
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns[1:])
    log_head = f"""
DECLARE v bigint; n bigint; pruned bigint;
BEGIN
    v := next_data_version();
    IF random() < 0.01 THEN
        WITH gone AS (DELETE FROM incident_change WHERE at < now() - interval '1 day'
                      RETURNING version)
        SELECT max(version) INTO pruned FROM gone;
        IF pruned IS NOT NULL THEN
            UPDATE data_version SET log_since = greatest(log_since, pruned + 1) WHERE id;
        END IF;
    END IF;
    SELECT count(*) INTO n FROM %s;
    IF n > {LOG_LIMIT} THEN
        UPDATE data_version SET log_since = v WHERE id;
        RETURN NULL;
    END IF;
"""
    return [f"""
CREATE OR REPLACE FUNCTION log_incident_insert() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "new_rows"}
    INSERT INTO incident_change (version, sign, {cols}) SELECT v, 1, {cols} FROM new_rows;
    RETURN NULL;
END
$$""", f"""
CREATE OR REPLACE FUNCTION log_incident_delete() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "old_rows"}
    INSERT INTO incident_change (version, sign, {cols}) SELECT v, -1, {cols} FROM old_rows;
    RETURN NULL;
END
$$""", f"""
CREATE OR REPLACE FUNCTION log_incident_update() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "new_rows"}
    INSERT INTO incident_change (version, sign, {cols})
    SELECT v, s.sign, {s_cols} FROM (
        SELECT -1 AS sign, {old_cols} FROM old_rows o JOIN new_rows n USING (id) WHERE {changed}
        UNION ALL
        SELECT 1, {new_cols} FROM old_rows o JOIN new_rows n USING (id) WHERE {changed}
    ) s(sign, {cols});
    RETURN NULL;
END
$$"""]


def upgrade() -> None:
    op.execute("ALTER TABLE incident_change ADD COLUMN time_precision smallint NOT NULL DEFAULT 1")
    for fn in _functions((*BEFORE, "time_precision")):
        op.execute(fn)
    op.execute("UPDATE data_version SET log_since = version WHERE id")


def downgrade() -> None:
    for fn in _functions(BEFORE):
        op.execute(fn)
    op.execute("ALTER TABLE incident_change DROP COLUMN time_precision")
    op.execute("UPDATE data_version SET log_since = version WHERE id")
