"""forecast model cards: which model serves an area's forecasts, why, and how it is calibrated

One card per (area, resolution, horizon), written by `kinga backtest`: the nested rolling-origin
selection's final choice, the backtest figures with the baselines beside them, the out-of-time
calibration maps the service applies, and the default forecast weight of plans.

Revision ID: 0019a
Revises: 0008
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0019a"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
CREATE TABLE forecast_model_card (
    area text NOT NULL,
    res smallint NOT NULL CHECK (res BETWEEN 4 AND 9),
    horizon text NOT NULL,
    horizon_days integer NOT NULL CHECK (horizon_days > 0),
    data_version bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    card jsonb NOT NULL,
    PRIMARY KEY (area, res, horizon)
)""")


def downgrade() -> None:
    op.execute("DROP TABLE forecast_model_card")
