"""response loop (issue 15): warning owners and deadlines, escalation, outcomes, the response
record's steps, community acknowledgements in the delivery outbox, the rule-scan cursor, and
saved patrol plans with their tasks and reports.

- `warning`: where it came from (`source`), linked incidents, its owner (field office / AOR, or the
  nearest active base with capacity until AORs exist), acknowledgement and on-scene deadlines, the
  first dispatch and arrival, escalation level and when each deadline was found missed, and how it
  ended (`outcome` from a fixed vocabulary, or a cancel reason). Existing rule warnings get their
  source from their rule; a closed warning without an outcome gets `other` (nothing recorded it).
- `warning_response`: mode, people, completion, incidents found; `outcome` becomes the fixed
  vocabulary (earlier free text moves to `outcome_note`).
- `webhook_delivery` becomes the outbox of every signed outbound POST: channel `webhook` (as
  before) or `community_ack` (an acknowledgement to the reporter through the integration that
  posted the alert), at most one per (alert, event).
- `webhook_subscription.level`: 0 hears every event; N >= 1 hears escalations that reach level N.
- `integration.ack_url`, `acknowledge_reporters` (opt out).
- `rule_scan_state`: the data version up to which the change log has been scanned.
- `patrol_plan`, `patrol_task`, `patrol_report`.

Revision ID: 0015a
Revises: 0008
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0015a"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("deterred", "civilians_protected", "incident_found_reported", "nothing_found",
            "access_denied", "arrived_after_attack", "referred_to_partner", "false_alarm", "other")
SOURCES = ("alert", "incident", "scan", "flash", "escalation")


def _in(col: str, values: Sequence[str]) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.execute("""
ALTER TABLE warning
    ADD COLUMN source varchar(16) NOT NULL DEFAULT 'alert',
    ADD COLUMN incident_ids uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN created_by text NOT NULL DEFAULT 'kinga:rules',
    ADD COLUMN owner_kind varchar(16),
    ADD COLUMN owner_id uuid,
    ADD COLUMN assigned_to text,
    ADD COLUMN owner_mode varchar(8),
    ADD COLUMN owner_distance_km double precision,
    ADD COLUMN acknowledge_by timestamptz,
    ADD COLUMN on_scene_by timestamptz,
    ADD COLUMN dispatched_at timestamptz,
    ADD COLUMN on_scene_at timestamptz,
    ADD COLUMN escalation_level smallint NOT NULL DEFAULT 0,
    ADD COLUMN acknowledge_overdue_at timestamptz,
    ADD COLUMN on_scene_overdue_at timestamptz,
    ADD COLUMN outcome varchar(32),
    ADD COLUMN outcome_note text,
    ADD COLUMN cancel_reason text
""")
    op.execute("UPDATE warning SET source = 'scan' "
               "WHERE rule IN ('threat_level', 'emerging_pattern')")
    op.execute("UPDATE warning SET outcome = 'other' WHERE status = 'closed'")
    op.execute("UPDATE warning SET cancel_reason = 'not recorded' WHERE status = 'cancelled'")
    op.execute(f"ALTER TABLE warning ADD CONSTRAINT ck_warning_source CHECK ({_in('source', SOURCES)})")
    op.execute("ALTER TABLE warning ADD CONSTRAINT ck_warning_outcome "
               f"CHECK (outcome IS NULL OR {_in('outcome', OUTCOMES)})")
    op.execute("ALTER TABLE warning ADD CONSTRAINT ck_warning_closed_with_outcome "
               "CHECK (status <> 'closed' OR outcome IS NOT NULL)")
    op.execute("ALTER TABLE warning ADD CONSTRAINT ck_warning_cancelled_with_reason "
               "CHECK (status <> 'cancelled' OR cancel_reason IS NOT NULL)")
    op.execute("CREATE INDEX ix_warning_alert_ids ON warning USING gin (alert_ids)")
    op.execute("CREATE INDEX ix_warning_incident_ids ON warning USING gin (incident_ids)")
    op.execute("CREATE INDEX ix_warning_acknowledge_by ON warning (acknowledge_by) "
               "WHERE status = 'active'")
    op.execute("CREATE INDEX ix_warning_on_scene_by ON warning (on_scene_by) "
               "WHERE status IN ('active', 'acknowledged', 'responded') AND on_scene_at IS NULL")

    op.execute("""
ALTER TABLE warning_response
    ADD COLUMN mode varchar(8),
    ADD COLUMN people integer,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN outcome_note text,
    ADD COLUMN incident_ids uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()
""")
    op.execute(f"UPDATE warning_response SET outcome_note = outcome, outcome = NULL "
               f"WHERE outcome IS NOT NULL AND NOT ({_in('outcome', OUTCOMES)})")
    op.execute("ALTER TABLE warning_response ADD CONSTRAINT ck_warning_response_mode "
               "CHECK (mode IS NULL OR mode IN ('road', 'foot', 'air'))")
    op.execute("ALTER TABLE warning_response ADD CONSTRAINT ck_warning_response_people "
               "CHECK (people IS NULL OR people >= 0)")
    op.execute("ALTER TABLE warning_response ADD CONSTRAINT ck_warning_response_outcome "
               f"CHECK (outcome IS NULL OR {_in('outcome', OUTCOMES)})")

    op.execute("""
ALTER TABLE webhook_delivery
    ALTER COLUMN subscription_id DROP NOT NULL,
    ALTER COLUMN warning_id DROP NOT NULL,
    ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'webhook',
    ADD COLUMN integration_id uuid REFERENCES integration(id) ON DELETE CASCADE,
    ADD COLUMN alert_id uuid REFERENCES alert(id) ON DELETE CASCADE
""")
    op.execute("ALTER TABLE webhook_delivery ADD CONSTRAINT ck_webhook_delivery_channel "
               "CHECK (channel IN ('webhook', 'community_ack'))")
    op.execute("""ALTER TABLE webhook_delivery ADD CONSTRAINT ck_webhook_delivery_target CHECK (
        (channel = 'webhook' AND subscription_id IS NOT NULL) OR
        (channel = 'community_ack' AND integration_id IS NOT NULL AND alert_id IS NOT NULL))""")
    op.execute("CREATE UNIQUE INDEX uq_webhook_delivery_ack ON webhook_delivery (alert_id, event) "
               "WHERE channel = 'community_ack'")
    op.execute("ALTER TABLE webhook_subscription ADD COLUMN level smallint NOT NULL DEFAULT 0")

    op.execute("ALTER TABLE integration ADD COLUMN IF NOT EXISTS ack_url text, "
               "ADD COLUMN acknowledge_reporters boolean NOT NULL DEFAULT true")

    op.execute("""
CREATE TABLE rule_scan_state (
    id boolean PRIMARY KEY DEFAULT true CONSTRAINT ck_rule_scan_state_single_row CHECK (id),
    version bigint NOT NULL,
    full_at timestamptz NOT NULL,
    scanned_at timestamptz NOT NULL
)""")

    op.execute("""
CREATE TABLE patrol_plan (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    series_id uuid NOT NULL,
    version integer NOT NULL,
    superseded_by uuid REFERENCES patrol_plan(id),
    as_of date NOT NULL,
    horizon_days integer NOT NULL,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    parameters jsonb NOT NULL,
    layer_version bigint,
    summary jsonb NOT NULL,
    uncovered jsonb,
    approved_by text,
    approved_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_patrol_plan_version UNIQUE (series_id, version),
    CONSTRAINT ck_patrol_plan_period CHECK (ends_on >= starts_on)
)""")
    op.execute("CREATE INDEX ix_patrol_plan_period ON patrol_plan (starts_on, ends_on)")
    op.execute("""
CREATE TABLE patrol_task (
    plan_id uuid NOT NULL REFERENCES patrol_plan(id) ON DELETE CASCADE,
    task_id varchar(16) NOT NULL,
    base_id uuid,
    base_name text,
    mode varchar(8) NOT NULL,
    cells bigint[] NOT NULL,
    desired_effect varchar(32) NOT NULL,
    priority integer NOT NULL,
    threat_score double precision NOT NULL,
    visits integer NOT NULL,
    detail jsonb NOT NULL,
    PRIMARY KEY (plan_id, task_id)
)""")
    op.execute("CREATE INDEX ix_patrol_task_base ON patrol_task (base_id)")
    op.execute("""
CREATE TABLE patrol_report (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id uuid NOT NULL,
    task_id varchar(16) NOT NULL,
    status varchar(8) NOT NULL,
    started_at timestamptz,
    ended_at timestamptz,
    observations text,
    reason text,
    civilians_engaged integer,
    incident_ids uuid[] NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (plan_id, task_id) REFERENCES patrol_task (plan_id, task_id) ON DELETE CASCADE,
    CONSTRAINT uq_patrol_report_task UNIQUE (plan_id, task_id),
    CONSTRAINT ck_patrol_report_status CHECK (status IN ('done', 'partly', 'not_done')),
    CONSTRAINT ck_patrol_report_reason_unless_done CHECK (status = 'done' OR reason IS NOT NULL),
    CONSTRAINT ck_patrol_report_started_if_went CHECK (status = 'not_done' OR started_at IS NOT NULL),
    CONSTRAINT ck_patrol_report_period CHECK (ended_at IS NULL OR started_at IS NULL
                                              OR ended_at >= started_at),
    CONSTRAINT ck_patrol_report_civilians CHECK (civilians_engaged IS NULL OR civilians_engaged >= 0)
)""")
    op.execute("CREATE INDEX ix_patrol_report_started ON patrol_report (started_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS patrol_report")
    op.execute("DROP TABLE IF EXISTS patrol_task")
    op.execute("DROP TABLE IF EXISTS patrol_plan")
    op.execute("DROP TABLE IF EXISTS rule_scan_state")
    op.execute("ALTER TABLE integration DROP COLUMN IF EXISTS ack_url, DROP COLUMN acknowledge_reporters")
    op.execute("ALTER TABLE webhook_subscription DROP COLUMN level")
    op.execute("DELETE FROM webhook_delivery WHERE channel <> 'webhook'")
    op.execute("DROP INDEX IF EXISTS uq_webhook_delivery_ack")
    op.execute("ALTER TABLE webhook_delivery DROP CONSTRAINT ck_webhook_delivery_target, "
               "DROP CONSTRAINT ck_webhook_delivery_channel, DROP COLUMN channel, "
               "DROP COLUMN integration_id, DROP COLUMN alert_id, "
               "ALTER COLUMN subscription_id SET NOT NULL, ALTER COLUMN warning_id SET NOT NULL")
    op.execute("UPDATE warning_response SET outcome = coalesce(outcome_note, outcome)")
    op.execute("ALTER TABLE warning_response DROP CONSTRAINT ck_warning_response_mode, "
               "DROP CONSTRAINT ck_warning_response_people, "
               "DROP CONSTRAINT ck_warning_response_outcome, DROP COLUMN mode, "
               "DROP COLUMN people, DROP COLUMN completed_at, DROP COLUMN outcome_note, "
               "DROP COLUMN incident_ids, DROP COLUMN updated_at")
    for name in ("ix_warning_alert_ids", "ix_warning_incident_ids", "ix_warning_acknowledge_by",
                 "ix_warning_on_scene_by"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("ALTER TABLE warning DROP CONSTRAINT ck_warning_source, "
               "DROP CONSTRAINT ck_warning_outcome, DROP CONSTRAINT ck_warning_closed_with_outcome, "
               "DROP CONSTRAINT ck_warning_cancelled_with_reason")
    for col in ("source", "incident_ids", "created_by", "owner_kind", "owner_id", "assigned_to",
                "owner_mode", "owner_distance_km", "acknowledge_by", "on_scene_by",
                "dispatched_at", "on_scene_at", "escalation_level", "acknowledge_overdue_at",
                "on_scene_overdue_at", "outcome", "outcome_note", "cancel_reason"):
        op.execute(f"ALTER TABLE warning DROP COLUMN {col}")
