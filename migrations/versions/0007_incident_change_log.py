"""incident change log: exact incremental maintenance of the threat layer (issue 3)

The first hotspot request after a write used to recompute the whole window (0.7 s for 90 days,
4 s for 5 years on 1M incidents). With this log it applies only what changed since the cached
result: every INSERT, UPDATE or DELETE of `incident` appends the affected rows' hotspot-relevant
columns to `incident_change` with sign +1 (new image) or -1 (old image), stamped with the data
version (0005) of the writing statement. A cached per-cell sum at version V0 plus the signed
changes with V0 < version <= V equals the sum at V, exactly.

Ordering (why the stamps can be trusted):
- `next_data_version()` locks the version row FIRST and only then takes `nextval`, so versions are
  handed out in the order writers hold the lock, and the lock is held to commit: a snapshot that
  sees version V sees every change stamped <= V and none stamped above it. (0005 took `nextval`
  before the upsert's lock, so a slower writer could commit a smaller version after a larger one;
  harmless for cache keys, fatal for deltas.)
- `log_since` in `data_version` is the version from which the log is complete. A delta from V0 is
  allowed only when V0 >= log_since. It moves forward on TRUNCATE of either table, when the row
  itself was recreated (tests truncate everything), when the log is pruned, and when one statement
  changes more than LOG_LIMIT rows (an import batch: logging 20,000 rows would cost more than
  one full recomputation saves, so the caches recompute instead).
- UPDATEs that leave every logged column unchanged (narrative edits, grading bookkeeping without a
  grade change) are not logged.
- Rows older than one day are pruned (1 % of logging statements do it), moving `log_since` past
  them: a cache older than that recomputes in full.

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_LIMIT = 2000
# The columns the threat layer reads (repositories/hotspots.py); order matters for the INSERTs.
COLUMNS = ("id", "occurred_start", "location", "location_radius_m", "h3_cell", "category",
           "perpetrators", "fatalities_best", "injured", "crsv_survivors", "children_affected",
           "displaced", "status", "quality_grade")


def upgrade() -> None:
    op.execute("ALTER TABLE data_version ADD COLUMN log_since bigint NOT NULL DEFAULT 0")
    op.execute("UPDATE data_version SET log_since = version")
    op.execute("""
CREATE TABLE incident_change (
    version bigint NOT NULL,
    sign smallint NOT NULL CHECK (sign IN (-1, 1)),
    at timestamptz NOT NULL DEFAULT now(),
    id uuid NOT NULL,
    occurred_start timestamptz NOT NULL,
    location geometry(Point, 4326) NOT NULL,
    location_radius_m integer NOT NULL,
    h3_cell bigint NOT NULL,
    category varchar(32) NOT NULL,
    perpetrators text[] NOT NULL,
    fatalities_best integer NOT NULL,
    injured integer NOT NULL,
    crsv_survivors integer NOT NULL,
    children_affected integer NOT NULL,
    displaced integer NOT NULL,
    status varchar(16) NOT NULL,
    quality_grade varchar(1) NOT NULL
)""")
    op.execute("CREATE INDEX ix_incident_change_version ON incident_change (version)")
    op.execute("""
CREATE FUNCTION next_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    PERFORM 1 FROM data_version WHERE id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO data_version (id, version, log_since) VALUES (true, 0, 0)
        ON CONFLICT (id) DO NOTHING;
        PERFORM 1 FROM data_version WHERE id FOR UPDATE;
        v := nextval('data_version_seq');
        -- A recreated row: nothing before it is known to be logged.
        UPDATE data_version SET version = v, log_since = v WHERE id;
        RETURN v;
    END IF;
    v := nextval('data_version_seq');
    UPDATE data_version SET version = v WHERE id;
    RETURN v;
END
$$""")
    op.execute("""
CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM next_data_version();
    RETURN NULL;
END
$$""")
    op.execute("""
CREATE FUNCTION restart_incident_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    v := next_data_version();
    UPDATE data_version SET log_since = v WHERE id;
    RETURN NULL;
END
$$""")
    cols = ", ".join(COLUMNS)
    old_cols = ", ".join(f"o.{c}" for c in COLUMNS)
    new_cols = ", ".join(f"n.{c}" for c in COLUMNS)
    s_cols = ", ".join(f"s.{c}" for c in COLUMNS)
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in COLUMNS[1:])
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
    op.execute(f"""
CREATE FUNCTION log_incident_insert() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "new_rows"}
    INSERT INTO incident_change (version, sign, {cols}) SELECT v, 1, {cols} FROM new_rows;
    RETURN NULL;
END
$$""")
    op.execute(f"""
CREATE FUNCTION log_incident_delete() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "old_rows"}
    INSERT INTO incident_change (version, sign, {cols}) SELECT v, -1, {cols} FROM old_rows;
    RETURN NULL;
END
$$""")
    op.execute(f"""
CREATE FUNCTION log_incident_update() RETURNS trigger LANGUAGE plpgsql AS $$
{log_head % "new_rows"}
    INSERT INTO incident_change (version, sign, {cols})
    SELECT v, s.sign, {s_cols} FROM (
        SELECT -1 AS sign, {old_cols} FROM old_rows o JOIN new_rows n USING (id) WHERE {changed}
        UNION ALL
        SELECT 1, {new_cols} FROM old_rows o JOIN new_rows n USING (id) WHERE {changed}
    ) s(sign, {cols});
    RETURN NULL;
END
$$""")
    op.execute("CREATE TRIGGER incident_log_insert AFTER INSERT ON incident "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION log_incident_insert()")
    op.execute("CREATE TRIGGER incident_log_update AFTER UPDATE ON incident "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION log_incident_update()")
    op.execute("CREATE TRIGGER incident_log_delete AFTER DELETE ON incident "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION log_incident_delete()")
    for table in ("incident", "incident_change"):
        op.execute(f"CREATE TRIGGER {table}_log_restart AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION restart_incident_log()")


def downgrade() -> None:
    for table in ("incident", "incident_change"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_log_restart ON {table}")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS incident_log_{event} ON incident")
        op.execute(f"DROP FUNCTION IF EXISTS log_incident_{event}()")
    op.execute("DROP FUNCTION IF EXISTS restart_incident_log()")
    op.execute("""
CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_version (id, version) VALUES (true, nextval('data_version_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END
$$""")
    op.execute("DROP FUNCTION IF EXISTS next_data_version()")
    op.execute("DROP TABLE IF EXISTS incident_change")
    op.execute("ALTER TABLE data_version DROP COLUMN IF EXISTS log_since")
