"""missions as data (issue 13): mission profiles, areas of responsibility, the per-mission
gazetteer, and which mission an imported incident, a base or an integration belongs to

Revision ID: 0013a
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013a"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE mission (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_-]{1,31}$'),
    name text NOT NULL,
    area geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(area)),
    countries text[] NOT NULL DEFAULT '{}',
    timezone text NOT NULL,
    profile jsonb NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)""")
    op.execute("CREATE INDEX ix_mission_area ON mission USING gist (area)")
    op.execute("""
CREATE TABLE aor (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mission_code text NOT NULL REFERENCES mission (code) ON DELETE CASCADE ON UPDATE CASCADE,
    name text NOT NULL,
    kind varchar(16) NOT NULL CHECK (kind IN ('sector', 'field_office')),
    parent_id uuid REFERENCES aor (id) ON DELETE SET NULL,
    area geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(area)),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_aor_mission_name UNIQUE (mission_code, name)
)""")
    op.execute("CREATE INDEX ix_aor_area ON aor USING gist (area)")
    op.execute("""
CREATE TABLE place (
    id bigserial PRIMARY KEY,
    mission_code text REFERENCES mission (code) ON DELETE CASCADE ON UPDATE CASCADE,
    name text NOT NULL,
    key text NOT NULL,
    latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    precision smallint NOT NULL CHECK (precision BETWEEN 1 AND 6),
    source varchar(16) NOT NULL,
    events integer NOT NULL DEFAULT 1
)""")
    # NULL mission = a place every mission may use; one row per (mission, source, name, level).
    op.execute("CREATE UNIQUE INDEX uq_place ON place "
               "(coalesce(mission_code, ''), source, key, precision)")
    op.execute("CREATE INDEX ix_place_mission ON place (mission_code)")
    for table in ("incident", "mission_base", "integration", "api_token", "warning"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN mission_code text")
    op.execute("ALTER TABLE api_token ADD COLUMN aor_id uuid")
    op.execute("ALTER TABLE alert ADD COLUMN place_match jsonb")
    op.execute("CREATE INDEX ix_incident_mission ON incident (mission_code, external_source) "
               "WHERE mission_code IS NOT NULL")
    op.execute("CREATE INDEX ix_mission_base_mission ON mission_base (mission_code)")
    op.execute("ALTER TABLE import_run ADD COLUMN mission_code text, "
               "ADD COLUMN outside_area integer NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE import_run DROP COLUMN mission_code, DROP COLUMN outside_area")
    op.execute("ALTER TABLE api_token DROP COLUMN aor_id")
    op.execute("ALTER TABLE alert DROP COLUMN place_match")
    for table in ("incident", "mission_base", "integration", "api_token", "warning"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN mission_code")
    op.execute("DROP TABLE place")
    op.execute("DROP TABLE aor")
    op.execute("DROP TABLE mission")
