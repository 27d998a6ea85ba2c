"""triangulation: one event, one incident (issue 14)

- `incident.status` gains two values that are never counted downstream: `merged` (the account is
  now a report of the incident in `merged_into`) and `duplicate` (held in the possible-duplicates
  queue until an analyst decides). Everything that counts incidents counts the workflow statuses
  entered / validated / approved only; the change log (0007) already carries `status`, so a merge
  or a hold moves the cached per-cell sums exactly like any other status change.
- `report.cites`: the outlets a report draws on (normalised), so that two imports of one wire
  story are not counted as independent sources.
- `incident_spacetime(...)`: each incident's space–time uncertainty as a 4-D box (lon ± radius,
  lat ± radius, days since the epoch over its date range, and its import source as a fourth
  coordinate), indexed with PostGIS's n-D GiST. A candidate search is one `&&&` probe per new
  account; the source coordinate lets an import skip the rows of its own source inside the index.
  Only counted incidents are indexed (partial index).
- `incident_merge` (who merged what, which reports moved, reversible), `incident_basis` (a merge
  target's own location, dates and grade before its first merge, restored by the last unmerge),
  `duplicate_candidate` (the review queue and its decisions), `actor_alias` (analyst-editable
  alias table, keyed by a nullable mission code until missions are records) and
  `triangulation_threshold` (per-mission thresholds; the settings give the default).

Revision ID: 0014a
Revises: 0008
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0014a"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("entered", "validated", "approved", "rejected", "merged", "duplicate")
OLD_STATUSES = ("entered", "validated", "approved", "rejected")
COUNTED = "status IN ('entered', 'validated', 'approved')"


def _status_check(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute("ALTER TABLE incident DROP CONSTRAINT ck_incident_status")
    op.execute(f"ALTER TABLE incident ADD CONSTRAINT ck_incident_status CHECK ({_status_check(STATUSES)})")
    op.execute("ALTER TABLE incident ADD COLUMN merged_into uuid "
               "REFERENCES incident (id) ON DELETE SET NULL")
    op.execute("ALTER TABLE incident ADD CONSTRAINT ck_incident_merged "
               "CHECK ((status = 'merged') = (merged_into IS NOT NULL))")
    op.execute("CREATE INDEX ix_incident_merged_into ON incident (merged_into) "
               "WHERE merged_into IS NOT NULL")
    op.execute("ALTER TABLE report ADD COLUMN cites text[] NOT NULL DEFAULT '{}'")

    # Degrees per metre on the sphere (1/111320 per metre of longitude at the equator, 1/110540
    # of latitude); a radius below 100 m still gets a box with volume (the n-D GiST penalty is a
    # volume). Dates: days since 1970 (UTC), the end day inclusive (+1). The source coordinate is
    # a 10-bit hash of the source (-1: staff entries and alerts), with a 0.5 extent: small, because
    # the index stores single-precision floats (a full int4 hash would blur sources together; two
    # sources sharing a code are only not kept apart by the index, the query still excludes the
    # own source exactly). Only immutable functions
    # in the body, so PostgreSQL inlines it: evaluated through the SQL-function executor it cost
    # ~70 us per row written.
    op.execute("""
CREATE FUNCTION incident_spacetime(loc geometry, radius_m integer, t0 timestamptz,
                                   t1 timestamptz, src text)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ST_MakeLine(
    ST_MakePoint(ST_X(loc) - greatest(radius_m, 100)::float8 * 8.983111749910169e-06::float8
                             / greatest(cos(radians(ST_Y(loc))), 0.01::float8),
                 ST_Y(loc) - greatest(radius_m, 100)::float8 * 9.046498100235209e-06::float8,
                 date_part('epoch', t0 - '1970-01-01 00:00:00+00'::timestamptz)
                     * 1.1574074074074073e-05::float8,
                 coalesce((hashtext(src) & 1023)::float8, -1.0::float8)),
    ST_MakePoint(ST_X(loc) + greatest(radius_m, 100)::float8 * 8.983111749910169e-06::float8
                             / greatest(cos(radians(ST_Y(loc))), 0.01::float8),
                 ST_Y(loc) + greatest(radius_m, 100)::float8 * 9.046498100235209e-06::float8,
                 date_part('epoch', coalesce(t1, t0) - '1970-01-01 00:00:00+00'::timestamptz)
                     * 1.1574074074074073e-05::float8 + 1.0::float8,
                 coalesce((hashtext(src) & 1023)::float8, -1.0::float8) + 0.5::float8))
$$""")
    op.execute(f"""
CREATE INDEX ix_incident_spacetime ON incident USING gist (
    incident_spacetime(location, location_radius_m, occurred_start, occurred_end, external_source)
    gist_geometry_ops_nd) WHERE {COUNTED}""")

    op.execute("""
CREATE TABLE incident_merge (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    incident_id uuid NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
    into_id uuid NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
    previous_status varchar(16) NOT NULL,
    report_ids uuid[] NOT NULL,
    reason varchar(16) NOT NULL CHECK (reason IN ('auto', 'confirmed', 'manual')),
    score double precision,
    evidence jsonb,
    merged_by text NOT NULL,
    merged_at timestamptz NOT NULL DEFAULT now(),
    undone_by text,
    undone_at timestamptz
)""")
    op.execute("CREATE UNIQUE INDEX uq_incident_merge_active ON incident_merge (incident_id) "
               "WHERE undone_at IS NULL")
    op.execute("CREATE INDEX ix_incident_merge_into ON incident_merge (into_id) "
               "WHERE undone_at IS NULL")
    op.execute("""
CREATE TABLE incident_basis (
    incident_id uuid PRIMARY KEY REFERENCES incident (id) ON DELETE CASCADE,
    location geometry(Point, 4326) NOT NULL,
    location_precision smallint NOT NULL,
    precision_scheme varchar(16) NOT NULL,
    location_radius_m integer NOT NULL,
    h3_cell bigint NOT NULL,
    place_name text,
    admin1 text,
    admin2 text,
    occurred_start timestamptz NOT NULL,
    occurred_end timestamptz,
    time_precision smallint NOT NULL,
    quality_grade varchar(1) NOT NULL,
    independent_sources smallint NOT NULL,
    report_ids uuid[] NOT NULL
)""")
    op.execute("""
CREATE TABLE duplicate_candidate (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    incident_id uuid NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
    candidate_id uuid NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
    score double precision NOT NULL,
    evidence jsonb NOT NULL,
    origin varchar(16) NOT NULL CHECK (origin IN ('import', 'entry', 'alert')),
    held_status varchar(16) NOT NULL CHECK (held_status IN ('entered', 'validated', 'approved')),
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'rejected')),
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_by text,
    decided_at timestamptz,
    comment text,
    CHECK (incident_id <> candidate_id)
)""")
    op.execute("CREATE UNIQUE INDEX uq_duplicate_candidate_pending ON duplicate_candidate "
               "(incident_id) WHERE status = 'pending'")
    op.execute("CREATE INDEX ix_duplicate_candidate_queue ON duplicate_candidate "
               "(status, created_at DESC, id DESC)")
    op.execute("CREATE INDEX ix_duplicate_candidate_candidate ON duplicate_candidate (candidate_id)")
    op.execute("""
CREATE TABLE actor_alias (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mission_code text,
    alias text NOT NULL CHECK (length(alias) > 0),
    canonical text NOT NULL CHECK (length(canonical) > 0),
    valid_from date,
    valid_to date,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
)""")
    op.execute("CREATE UNIQUE INDEX uq_actor_alias ON actor_alias "
               "(coalesce(mission_code, ''), alias, coalesce(valid_from, '-infinity'::date))")
    op.execute("""
CREATE TABLE triangulation_threshold (
    mission_code text,
    auto_link double precision NOT NULL CHECK (auto_link BETWEEN 0 AND 1),
    review double precision NOT NULL CHECK (review BETWEEN 0 AND 1),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (review <= auto_link)
)""")
    op.execute("CREATE UNIQUE INDEX uq_triangulation_threshold ON triangulation_threshold "
               "(coalesce(mission_code, ''))")


def downgrade() -> None:
    for table in ("triangulation_threshold", "actor_alias", "duplicate_candidate",
                  "incident_basis", "incident_merge"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP INDEX IF EXISTS ix_incident_spacetime")
    op.execute("DROP FUNCTION IF EXISTS incident_spacetime(geometry, integer, timestamptz, "
               "timestamptz, text)")
    op.execute("ALTER TABLE report DROP COLUMN IF EXISTS cites")
    op.execute("UPDATE incident SET status = 'entered' WHERE status = 'duplicate'")
    op.execute("UPDATE incident SET status = 'rejected' WHERE status = 'merged'")
    op.execute("ALTER TABLE incident DROP CONSTRAINT IF EXISTS ck_incident_merged")
    op.execute("ALTER TABLE incident DROP COLUMN IF EXISTS merged_into")
    op.execute("ALTER TABLE incident DROP CONSTRAINT ck_incident_status")
    op.execute(f"ALTER TABLE incident ADD CONSTRAINT ck_incident_status "
               f"CHECK ({_status_check(OLD_STATUSES)})")
