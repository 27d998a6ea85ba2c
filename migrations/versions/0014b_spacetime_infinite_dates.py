"""triangulation: the space–time box of an incident whose dates are infinite (issue 14)

`incident_spacetime` subtracted the epoch from each date, which PostgreSQL refuses for
`infinity` / `-infinity` ("cannot subtract infinite timestamps"): a stored row with such a date
(written around the edge; issue 11's worst-rows law) made every write that touches the index
fail, and so did a point at an infinite latitude (cos(±inf) is out of range). An infinite date
now maps to ±10^12 days, far outside any real date, by immutable
expressions only (the function stays inlinable into the index and the probes).

Revision ID: 0014b
Revises: 0014a
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0014b"
down_revision: str | Sequence[str] | None = "0014a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = "status IN ('entered', 'validated', 'approved')"
EPOCH = "'1970-01-01 00:00:00+00'::timestamptz"


def _days(t: str) -> str:
    return (f"CASE WHEN isfinite({t}) THEN date_part('epoch', {t} - {EPOCH}) "
            f"* 1.1574074074074073e-05::float8 "
            f"WHEN {t} > {EPOCH} THEN 1e12::float8 ELSE -1e12::float8 END")


def _function(days0: str, days1: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION incident_spacetime(loc geometry, radius_m integer, t0 timestamptz,
                                              t1 timestamptz, src text)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ST_MakeLine(
    ST_MakePoint(ST_X(loc) - greatest(radius_m, 100)::float8 * 8.983111749910169e-06::float8
                             / greatest(cos(radians(least(greatest(ST_Y(loc), -90.0::float8), 90.0::float8))),
                                      0.01::float8),
                 ST_Y(loc) - greatest(radius_m, 100)::float8 * 9.046498100235209e-06::float8,
                 {days0},
                 coalesce((hashtext(src) & 1023)::float8, -1.0::float8)),
    ST_MakePoint(ST_X(loc) + greatest(radius_m, 100)::float8 * 8.983111749910169e-06::float8
                             / greatest(cos(radians(least(greatest(ST_Y(loc), -90.0::float8), 90.0::float8))),
                                      0.01::float8),
                 ST_Y(loc) + greatest(radius_m, 100)::float8 * 9.046498100235209e-06::float8,
                 {days1} + 1.0::float8,
                 coalesce((hashtext(src) & 1023)::float8, -1.0::float8) + 0.5::float8))
$$"""


def _reindex() -> None:
    op.execute("DROP INDEX IF EXISTS ix_incident_spacetime")
    op.execute(f"""
CREATE INDEX ix_incident_spacetime ON incident USING gist (
    incident_spacetime(location, location_radius_m, occurred_start, occurred_end, external_source)
    gist_geometry_ops_nd) WHERE {COUNTED}""")


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_incident_spacetime")
    op.execute(_function(_days("t0"), _days("coalesce(t1, t0)")))
    _reindex()


def downgrade() -> None:
    old = ("date_part('epoch', {t} - " + EPOCH + ") * 1.1574074074074073e-05::float8")
    op.execute("DROP INDEX IF EXISTS ix_incident_spacetime")
    op.execute(_function(old.format(t="t0"), old.format(t="coalesce(t1, t0)")))
    _reindex()
