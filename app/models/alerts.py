"""Integrations, alerts, idempotency keys, warnings, responses and outbound webhooks (issue 4)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

ALERT_STATUSES = ("new", "linked", "dismissed")
ALERT_FORMATS = ("json", "cap", "sms")
WARNING_STATUSES = ("active", "acknowledged", "responded", "closed", "cancelled", "expired")
RESPONSE_TYPES = (
    "patrol",
    "quick_reaction_force",
    "civil_affairs_engagement",
    "referral_to_partner",
    "none",
)
DELAY_REASONS = (
    "no_air_asset",
    "road_or_access_denied",
    "awaiting_authorisation",
    "insufficient_troops",
    "weather_season",
    "other",
)
# What a response found or achieved (issue 15): the vocabulary of response and warning outcomes.
OUTCOMES = (
    "deterred",
    "civilians_protected",
    "incident_found_reported",
    "nothing_found",
    "access_denied",
    "arrived_after_attack",
    "referred_to_partner",
    "false_alarm",
    "other",
)
# Where a warning came from: the alert rules, the sexual-violence rule on a staff-recorded
# incident, the scheduled threat scans, a duty officer's flash warning, an escalated alert/incident.
WARNING_SOURCES = ("alert", "incident", "scan", "flash", "escalation")
PATROL_MODES = ("road", "foot", "air")
DELIVERY_CHANNELS = ("webhook", "community_ack")


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=sql_text("gen_random_uuid()"))


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class Integration(Base):
    """A partner system or alert network allowed to post alerts with its own bearer token.

    The signing secret is never stored: it is HMAC(token pepper, secret_salt), recomputed on
    each request, so a copy of this table alone cannot forge signatures."""

    __tablename__ = "integration"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text, unique=True)
    token_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_token.id"), unique=True)
    secret_salt: Mapped[bytes] = mapped_column(LargeBinary)
    formats: Mapped[list[str]] = mapped_column(ARRAY(Text))
    require_signature: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("true"))
    area: Mapped[Any | None] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    section: Mapped[str] = mapped_column(String(32), server_default="civil_affairs")
    # Community acknowledgements (issue 15): where the SMS gateway takes Kinga's signed replies to
    # reporters, and whether this integration wants them at all (it may opt out); the audited
    # one-off message of app.services.reporters.acknowledge goes there too.
    ack_url: Mapped[str | None] = mapped_column(Text)
    acknowledge_reporters: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("true"))
    mission_code: Mapped[str | None] = mapped_column(Text)  # whose gazetteer locates its alerts
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Alert intake rate limit (NULL: none), enforced across processes by GCRA on `rate_tat`.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    rate_limit_burst: Mapped[int | None] = mapped_column(Integer)
    rate_tat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0",
                        name="rate_limit"),
        CheckConstraint("rate_limit_burst IS NULL OR rate_limit_burst > 0", name="rate_burst"),
    )


class Alert(Base):
    __tablename__ = "alert"

    id: Mapped[uuid.UUID] = _uuid_pk()
    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integration.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), server_default="new")
    category: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # stored as received; never rendered as markup
    language: Mapped[str | None] = mapped_column(String(35))
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    location: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    location_radius_m: Mapped[int] = mapped_column(Integer, server_default="0")
    location_source: Mapped[str] = mapped_column(String(16))  # given, gazetteer, cap_area, none
    h3_cell: Mapped[int | None] = mapped_column(BigInteger)
    place_name: Mapped[str | None] = mapped_column(Text)
    # The gazetteer's match for a place name: name, mission, source, precision and score.
    place_match: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    needs_location: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    # Encrypted (app.services.reporters.crypto); read only through the audited reveal.
    reporter_contact: Mapped[str | None] = mapped_column(Text)
    sender_key: Mapped[str | None] = mapped_column(String(64))  # keyed hash of the contact
    external_id: Mapped[str | None] = mapped_column(Text)  # CAP identifier
    area: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # CAP area as GeoJSON
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incident.id"), index=True)
    report_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    opened_incident: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    collapsed_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("format", ALERT_FORMATS), name="format"),
        Index("ix_alert_location", "location", postgresql_using="gist"),
        Index("ix_alert_received", sql_text("received_at DESC"), sql_text("id DESC")),
        Index("ix_alert_sender_recent", "sender_key", "received_at"),
        Index("ix_alert_h3_cell", "h3_cell", "observed_at"),
        # The triage queue: alerts stored on intake, not yet triaged (see services/alert_triage).
        Index("ix_alert_untriaged", "received_at", "id", postgresql_where=sql_text("triage IS NULL")),
        Index("ix_alert_reporter_retention", "received_at",
              postgresql_where=sql_text("reporter_contact IS NOT NULL OR sender_key IS NOT NULL")),
    )


class IdempotencyKey(Base):
    """One row per (integration, Idempotency-Key): the request's hash and the first response."""

    __tablename__ = "idempotency_key"

    integration_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("integration.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EarlyWarning(Base):
    __tablename__ = "warning"

    id: Mapped[uuid.UUID] = _uuid_pk()
    rule: Mapped[str] = mapped_column(String(32))
    # While a warning is open, the same rule and place do not raise another (partial unique index).
    dedupe_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    area: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    h3_cell: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(16))
    headline: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    alert_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    mission_code: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # --- the response loop (issue 15) ---
    source: Mapped[str] = mapped_column(String(16), server_default="alert")
    incident_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    created_by: Mapped[str] = mapped_column(Text, server_default="kinga:rules")
    # Owner: the field office / AOR (or, until AORs exist, the nearest active base with capacity).
    owner_kind: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    assigned_to: Mapped[str | None] = mapped_column(Text)
    owner_mode: Mapped[str | None] = mapped_column(String(8))  # the fastest mode that reaches it
    owner_distance_km: Mapped[float | None] = mapped_column()
    # Why it has this owner (migration 0013c): "aor" (an area of responsibility holds it; the
    # owner is that field office or sector) or "nearest_base" (no AOR does); the owning AOR; the
    # base whose reach sets the on-scene target.
    owner_reason: Mapped[str | None] = mapped_column(String(16))
    owner_aor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_base_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_base: Mapped[str | None] = mapped_column(Text)
    acknowledge_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # First dispatch and arrival of any response (kept here for the overdue queue).
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Escalation: one level up per missed deadline, recorded by the scheduler's overdue job.
    escalation_level: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    acknowledge_overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the last escalation went (migration 0015b): the owner's parent AOR per level, or the
    # mission's headquarters (kind "mission", no AOR) once the chain ends; AOR-owned warnings only.
    escalated_to_aor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("aor.id", ondelete="SET NULL"))
    escalated_to: Mapped[str | None] = mapped_column(Text)
    escalated_to_kind: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("status", WARNING_STATUSES), name="status"),
        CheckConstraint(_in("source", WARNING_SOURCES), name="source"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name="closed_with_outcome"),
        CheckConstraint("status <> 'cancelled' OR cancel_reason IS NOT NULL",
                        name="cancelled_with_reason"),
        CheckConstraint("owner_reason IS NULL OR owner_reason IN ('aor', 'nearest_base')",
                        name="owner_reason"),
        CheckConstraint("(owner_reason = 'aor') = (owner_aor_id IS NOT NULL)", name="owner_aor"),
        CheckConstraint(
            _in("severity", ("Extreme", "Severe", "Moderate", "Minor", "Unknown")), name="severity"
        ),
        CheckConstraint(
            _in("urgency", ("Immediate", "Expected", "Future", "Past", "Unknown")), name="urgency"
        ),
        CheckConstraint(
            _in("certainty", ("Observed", "Likely", "Possible", "Unlikely", "Unknown")),
            name="certainty",
        ),
        Index("ix_warning_area", "area", postgresql_using="gist"),
        Index("ix_warning_created", "created_at"),
        Index("ix_warning_alert_ids", "alert_ids", postgresql_using="gin"),
        Index("ix_warning_incident_ids", "incident_ids", postgresql_using="gin"),
        Index("ix_warning_owner_aor", "owner_aor_id", postgresql_where=sql_text("owner_aor_id IS NOT NULL")),
        Index("ix_warning_mission", "mission_code", postgresql_where=sql_text("mission_code IS NOT NULL")),
        Index("ix_warning_escalated_to_aor", "escalated_to_aor_id",
              postgresql_where=sql_text("escalated_to_aor_id IS NOT NULL")),
        CheckConstraint("escalated_to_kind IS NULL OR escalated_to_kind IN "
                        "('sector', 'field_office', 'mission')", name="escalated_to_kind"),
        # The overdue queue: open warnings by deadline.
        Index("ix_warning_acknowledge_by", "acknowledge_by",
              postgresql_where=sql_text("status = 'active'")),
        Index("ix_warning_on_scene_by", "on_scene_by",
              postgresql_where=sql_text("status IN ('active', 'acknowledged', 'responded') "
                                        "AND on_scene_at IS NULL")),
        Index(
            "uq_warning_open_dedupe",
            "dedupe_key",
            unique=True,
            postgresql_where=sql_text("status IN ('active', 'acknowledged', 'responded')"),
        ),
    )


class WarningResponse(Base):
    __tablename__ = "warning_response"

    id: Mapped[uuid.UUID] = _uuid_pk()
    warning_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warning.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)
    delay_reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    delay_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # --- the response record (issue 15) ---
    mode: Mapped[str | None] = mapped_column(String(8))
    people: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    incident_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("type", RESPONSE_TYPES), name="type"),
        CheckConstraint("mode IS NULL OR " + _in("mode", PATROL_MODES), name="mode"),
        CheckConstraint("people IS NULL OR people >= 0", name="people"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(
            "delay_reasons <@ ARRAY[" + ", ".join(repr(r) for r in DELAY_REASONS) + "]::text[]",
            name="delay_reasons",
        ),
    )


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret_salt: Mapped[bytes] = mapped_column(LargeBinary)  # secret = HMAC(pepper, salt)
    active: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("true"))
    # 0: every warning event. N >= 1: only escalations that reach level N (the next level up:
    # sector, mission HQ…), issue 15.
    level: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # Scoped to an area of responsibility (migration 0015b): the events of the warnings it owns or
    # that were escalated to it (None: by `level` as above).
    aor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("aor.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(Base):
    """The outbox of signed outbound POSTs: one row per (subscription, event) for warning
    webhooks, and one per (alert, event) for community acknowledgements sent to the integration
    that posted the alert (issue 15); each attempt updates it and appends to `attempts`."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = _uuid_pk()
    channel: Mapped[str] = mapped_column(String(16), server_default="webhook")
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    warning_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warning.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integration.id", ondelete="CASCADE"))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempt_count: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("status", ("pending", "delivered", "failed")), name="status"),
        CheckConstraint(_in("channel", DELIVERY_CHANNELS), name="channel"),
        CheckConstraint(
            "(channel = 'webhook' AND subscription_id IS NOT NULL) OR "
            "(channel = 'community_ack' AND integration_id IS NOT NULL AND alert_id IS NOT NULL)",
            name="target",
        ),
        # One acknowledgement of each kind per alert, however often triage or a dispatch runs.
        Index("uq_webhook_delivery_ack", "alert_id", "event", unique=True,
              postgresql_where=sql_text("channel = 'community_ack'")),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=sql_text("status = 'pending'"),
        ),
    )


class RuleScanState(Base):
    """Where the scheduler's rule scan left off (issue 15): the data version (0005) up to which
    the incident change log (0007) has been evaluated, and when the last full scan ran."""

    __tablename__ = "rule_scan_state"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=sql_text("true"))
    version: Mapped[int] = mapped_column(BigInteger)
    full_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("id", name="single_row"),)
