"""Service configuration: one env prefix (KINGA_), secrets as SecretStr, no defaults in production."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEV_PEPPER = "kinga-development-pepper"


_CONFIG = SettingsConfigDict(env_prefix="KINGA_", env_file=".env", extra="ignore")


class PlatformSettings(BaseSettings):
    """Environment, database, server, request limits, token pepper, the storage H3 resolution."""

    model_config = _CONFIG

    environment: Literal["development", "test", "production"] = "development"
    # When unset, the project's own local PostGIS cluster under data_dir is used.
    database_url: SecretStr | None = None
    data_dir: Path = PROJECT_ROOT / ".data"
    geodata_dir: Path = PROJECT_ROOT / "geodata"
    db_port: int = 54329
    db_name: str = "kinga"
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 10

    # Mixed into token hashes; a stolen token table is useless without it.
    token_pepper: SecretStr = SecretStr(DEV_PEPPER)

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_import_bytes: int = Field(default=200_000_000, ge=1024)
    page_default: int = 100
    page_max: int = 1000

    # Every incident is indexed once, at this fine resolution; coarser cells derive from it.
    h3_resolution: int = Field(default=9, ge=4, le=12)


class ThreatSettings(BaseSettings):
    """The threat layer: scoring weights, emerging hot spots, partner policy, caches, event store."""

    model_config = _CONFIG

    # --- hotspots and threat scoring (issue 3) ---
    # Formula and reasons: docs/scoring.md. Recency: weight = exp(-age_days / scale).
    threat_decay_scale_days: float = Field(default=30.0, gt=0)
    # Score = 100 * (1 - exp(-harm / saturation)); CRSV saturates on its own, smaller scale.
    threat_saturation: float = Field(default=12.0, gt=0)
    threat_crsv_saturation: float = Field(default=2.0, gt=0)
    # Lower bounds of medium, high, critical (score 0-100).
    threat_level_thresholds: tuple[float, float, float] = (25.0, 50.0, 75.0)
    threat_status_weight: dict[str, float] = {"approved": 1.0, "validated": 0.8, "entered": 0.5}
    threat_grade_weight: dict[str, float] = {"a": 1.0, "b": 0.8, "c": 0.5}
    # An event counts at a resolution only if its location radius <= this many cell edge lengths.
    threat_precision_edges: float = Field(default=2.0, gt=0)
    # Emerging hot spots: Gi* neighbours = H3 ring k; FDR level for Gi* and Mann-Kendall.
    hotspot_ring_k: int = Field(default=1, ge=1, le=3)
    hotspot_alpha: float = Field(default=0.05, gt=0, lt=1)
    # Optional per-cell vulnerability multipliers (CSV cell,multiplier in geodata/); None = 1.0.
    vulnerability_layer: str | None = None
    # Partner policy (need to share): coarse cells, small counts suppressed, no perpetrators.
    partner_max_res: int = Field(default=6, ge=4, le=9)
    partner_min_count: int = Field(default=3, ge=1)
    partner_hide_perpetrators: bool = True
    partner_approved_only: bool = True
    # In-process caches of layers, cell details and tiles, keyed on the data version (0005), so a
    # write makes the next request recompute. Bounded by entries and by memory.
    hotspot_cache_entries: int = Field(default=256, ge=1)
    # One memory budget for every threat-layer cache of a process (KINGA_LAYER_CACHE_MB; the older
    # KINGA_HOTSPOT_CACHE_MB still works when the new name is not set).
    layer_cache_mb: int = Field(default=256, ge=1)
    hotspot_cache_mb: int | None = Field(default=None, ge=1)

    # --- threat layer speed (issue 16) ---
    # In-process event store (app/services/threat/event_store.py): the layer's columns of every
    # counted incident, ~47 bytes each, kept current from the change log. It is held on the
    # layer caches' one budget (layer_cache_mb; the caches get the rest) and may take at most
    # this share of it; beyond, the layer aggregates in SQL. Off: always SQL.
    threat_event_store: bool = True
    threat_event_store_share: float = Field(default=0.75, gt=0, lt=1)
    # The warm-up worker loads the store and computes these layers (analyst view, default
    # window) at start-up and after writes the change log cannot bridge (imports); it checks
    # every `threat_warm_poll_s` seconds.
    threat_warm_resolutions: tuple[int, ...] = (6,)
    threat_warm_poll_s: float = Field(default=5.0, gt=0)
    # Python's cyclic collector runs a young-generation pass every `gc_threshold` container
    # allocations (Python's default 700). An uncached layer allocates ~30,000, and a full pass
    # every ten young ones scanned the caches' objects: 50-90 ms stalls every other request.
    # The server raises it after start-up (reference counting still frees almost everything).
    gc_threshold: int = Field(default=50_000, ge=700)


class AlertSettings(BaseSettings):
    """Alerts, triage, warnings, webhooks and responses."""

    model_config = _CONFIG

    # --- alerts, warnings, responses (issue 4) ---
    # Integration tokens and their integration rows are cached this long per process while the
    # process listens for revocations (PostgreSQL LISTEN/NOTIFY: a revoke empties every
    # process's cache at once); while it cannot listen, nothing is cached.
    integration_auth_cache_s: float = Field(default=60, ge=0, le=600)
    # Triage runs off the request path: batch size, and how often a worker looks for alerts
    # stored by other processes (it is also woken by every intake in its own process).
    # A batch is one transaction: small, so the data-version lock every incident writer takes is
    # held briefly (triage processes do not wait on each other) and warnings show at once.
    alert_triage_batch: int = Field(default=10, ge=1, le=1000)
    alert_triage_poll_s: float = Field(default=1.0, gt=0)
    # While intake is busy a worker defers triage, but runs a batch at least this often.
    alert_triage_max_defer_s: float = Field(default=5.0, ge=0)
    # Triage in child processes of each server process (an interpreter and a core of their own,
    # restarted if they die), at this CPU niceness; false: a thread of the server process. One
    # triage process drains about 60 alerts/s on the 2-core bench machine (docs/alerts.md).
    alert_triage_process: bool = True
    alert_triage_processes: int = Field(default=1, ge=1, le=16)
    alert_triage_nice: int = Field(default=5, ge=0, le=19)
    # Signed alert posts: X-Kinga-Timestamp may differ from server time by at most this (replay).
    alert_signature_max_skew_s: int = Field(default=300, ge=1, le=3600)
    alert_max_body_bytes: int = Field(default=65_536, ge=1024)
    idempotency_ttl_hours: int = Field(default=48, ge=1)
    # Triage: an alert corroborates an incident within this distance and time and above the score.
    triage_radius_m: float = Field(default=5_000, gt=0)
    triage_window_hours: float = Field(default=72, gt=0)
    # On the triangulation pair score (app/services/triangulation/scoring.py; alert profile).
    triage_link_score: float = Field(default=0.75, ge=0, le=1)
    triage_text_threshold: float = Field(default=60, ge=0, le=100)
    sms_collapse_minutes: float = Field(default=10, gt=0)
    # Warning rules: N alerts in one H3 cell (at warning_area_res) within T hours.
    warning_burst_alerts: int = Field(default=3, ge=2)
    warning_burst_hours: float = Field(default=24, gt=0)
    warning_area_res: int = Field(default=7, ge=4, le=9)
    warning_ttl_hours: float = Field(default=72, gt=0)
    warning_threat_levels: tuple[str, ...] = ("high", "critical")
    # Outbound webhooks: private/loopback/link-local targets are refused unless allowed.
    webhook_allow_private_targets: bool = False
    webhook_retry_schedule_s: tuple[float, ...] = (0, 10, 60, 300, 1800)
    webhook_timeout_s: float = Field(default=5, gt=0)
    # The dispatcher is woken by every commit that queues a delivery; it also polls this often
    # for retries whose backoff has passed and deliveries queued by other processes.
    webhook_poll_s: float = Field(default=5, gt=0)
    # The scheduler records expired warnings this often (listings show them expired at once).
    warning_expiry_every_s: float = Field(default=60, gt=0)


class PlanningSettings(BaseSettings):
    """Bases, patrol plans and footprint reviews (and how plans weigh forecasts)."""

    model_config = _CONFIG

    # --- bases, patrol plans, footprint (issue 5) ---
    # Travel speeds (km/h) and the longest one-way trip a patrol makes, per mode; straight-line
    # distance is stretched by a detour factor (tracks are not straight). Reach = speed x hours /
    # detour, times the speed factor of the mission's seasons in force (its profile, issue 13).
    patrol_speed_kmh: dict[str, float] = {"road": 25.0, "foot": 4.0, "air": 180.0}
    patrol_max_travel_hours: dict[str, float] = {"road": 3.0, "foot": 2.0, "air": 1.5}
    patrol_detour_factor: dict[str, float] = {"road": 1.4, "foot": 1.2, "air": 1.0}
    # Default daily patrol capacity when a base gives none: one road patrol per this many troops.
    troops_per_road_patrol: int = Field(default=150, ge=1)
    troops_per_foot_patrol: int = Field(default=325, ge=1)
    patrol_res: int = Field(default=7, ge=4, le=9)
    footprint_res: int = Field(default=6, ge=4, le=9)
    patrol_window_days: int = Field(default=90, ge=7, le=3650)
    patrol_ongoing_days: int = Field(default=14, ge=1)  # incidents this recent = ongoing violence
    patrol_violation_days: int = Field(default=30, ge=1)  # violations this recent: investigate
    patrol_tie_tolerance: float = Field(default=0.05, ge=0, le=0.5)  # "near-equal" for seeded plans
    patrol_time_window_hours: int = Field(default=6, ge=2, le=24)
    solver_time_limit_s: float = Field(default=20.0, gt=0)
    footprint_candidates: int = Field(default=50, ge=1, le=500)
    footprint_window_days: int = Field(default=365, ge=7, le=3650)  # a review looks at a year
    # --- plans weigh forecasts (issue 19) ---
    # Plans and footprint reviews: weight of forecast expected harm against current threat
    # when no model card gives the area's backtested default (docs/forecast.md, "Plans").
    planning_forecast_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    # Forecast cells with no current threat enter a plan only if P(>=1) reaches this.
    planning_forecast_min_p: float = Field(default=0.1, ge=0.0, le=1.0)
    # Weights tried when backtesting the plan's coverage of the next period's incidents.
    planning_forecast_weights: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    # The plan horizon of that backtest (days), and the scarce capacity it is also run with
    # (road patrols per base over the whole horizon: about one a week) to show what the weight
    # changes when there are fewer patrols than places to go.
    planning_backtest_horizon_days: int = Field(default=28, ge=1, le=90)
    planning_backtest_scarce_patrols: int = Field(default=4, ge=1, le=90)


class ForecastSettings(BaseSettings):
    """Forecasts, their backtests, selection and calibration."""

    model_config = _CONFIG

    # --- forecasts (issue 6) ---
    # "auto": the model the area's stored backtest chose (model card, issue 19); or a method name.
    forecast_default_method: str = "auto"
    # P(>=1) of the count models, fitted out of time (docs/forecast.md "Calibration").
    forecast_count_calibration: Literal["negbin", "isotonic", "poisson"] = "negbin"
    # Scale (e-folding time) of the exponential-decay baseline, in days.
    forecast_decay_scale_days: float = Field(default=180.0, gt=0)
    forecast_horizon_days: dict[str, int] = {"4weeks": 28, "quarter": 91}
    # Events located more coarsely than this (UCDP where_prec >= 4: province, country) carry no
    # cell-level signal; they are left out of forecasting and backtests (docs/forecast.md).
    forecast_max_location_radius_m: int = Field(default=50_000, ge=0)
    forecast_partner_max_res: int = Field(default=6, ge=4, le=9)
    forecast_backtest_max_origins: int = Field(default=80, ge=1)
    forecast_layer_limit: int = Field(default=2000, ge=1)

    # --- forecast selection, calibration, intervals, plans and scenarios (issue 19) ---
    # What "auto" serves where no backtest (model card) is stored for the area and resolution.
    forecast_fallback_method: str = "count"
    # Origins forecast before a backtest's first scored origin, so that "auto" has earlier
    # origins to choose by and the calibrations earlier forecasts to fit on.
    forecast_selection_warmup: int = Field(default=8, ge=0, le=40)
    # "auto" chooses by backtest once this many earlier origins saw incidents; before, the default.
    forecast_selection_min_origins: int = Field(default=4, ge=1, le=40)
    forecast_selection_default: str = "decay"
    # Earlier origins each out-of-time calibration is fitted on.
    forecast_calibration_origins: int = Field(default=12, ge=2, le=40)
    # --- forecast calibration map (issue 19, calibration of the top bins) ---
    # P(>=1) map a rolling calibration serves: "isotonic" or "platt" (logistic on log expected
    # incidents); the backtest scores both (docs/forecast.md "Calibration").
    forecast_calibration_map: Literal["isotonic", "platt"] = "isotonic"


class AccessSettings(BaseSettings):
    """Access: approval, need to share, reporters, credentials, retention (docs/access.md)."""

    model_config = _CONFIG

    # --- access: approval, need to share, reporters, credentials, retention (issue 11) ---
    # Four-eyes: the creator of an incident may not approve it (an admin's approved import is its
    # own path, audited per batch).
    four_eyes_approval: bool = True
    # Tokens: lifetime of a new token unless one is given (days), and the longest allowed.
    token_default_days: int = Field(default=90, ge=1, le=3650)
    token_max_days: int = Field(default=730, ge=1, le=3650)
    # A token's last_used_at is written at most this often per token and server process.
    token_touch_every_s: float = Field(default=60, ge=1)
    # Reporter contacts (alert.reporter_contact, report.reporter_ref) are encrypted at rest with
    # these Fernet keys (comma-separated, newest first: the first encrypts, every one decrypts;
    # rotation in docs/reporters.md). Unset in development/test: derived from the token pepper.
    reporter_contact_keys: SecretStr | None = None
    # Key of the keyed hash of a reporter's number (SMS repeat collapse); default: from the pepper.
    reporter_hash_key: SecretStr | None = None
    # Reporter contacts older than this are blanked by the scheduler (KINGA_REPORTER_CONTACT_TTL_DAYS).
    reporter_contact_ttl_days: int = Field(default=90, ge=1, le=36_500)
    # Retention: idempotency records (idempotency_ttl_hours, above), quarantined rows and webhook
    # delivery logs are purged by the scheduler after these periods; the purges run this often.
    quarantine_retention_days: int = Field(default=90, ge=1, le=36_500)
    webhook_delivery_retention_days: int = Field(default=90, ge=1, le=36_500)
    retention_every_s: float = Field(default=3600, gt=0)


class ProductSettings(BaseSettings):
    """Products: exports, briefs, the CoT feed, information requirements, reporting effort."""

    model_config = _CONFIG

    # --- response loop: owners, deadlines, scans, acknowledgements, patrol records, impact (issue 15) ---
    # The scheduler applies the threat-level, emerging-pattern and staff sexual-violence rules to
    # what changed since its last run (the incident change log), this often; and to everything
    # every rule_full_scan_hours (emerging classes also move as weeks pass with no new incident).
    rule_scan_minutes: float = Field(default=1.0, gt=0)
    rule_full_scan_hours: float = Field(default=24.0, gt=0)
    # The threat layer the scans read (resolution and window of the hotspot rules).
    rule_scan_res: int = Field(default=6, ge=4, le=9)
    rule_scan_window_days: int = Field(default=90, ge=7, le=3650)
    # A staff-recorded sexual-violence incident raises a warning when it happened this recently.
    incident_warning_hours: float = Field(default=72, gt=0)
    # Deadlines per CAP urgency: minutes to acknowledge, and minutes of notice before a unit
    # leaves (the on-scene target is raised + notice + the travel time of the owner's fastest
    # mode); None = no on-scene target. Immediate: the quick reaction force's 15 minutes.
    response_deadlines: dict[str, dict[str, float | None]] = {
        "Immediate": {"acknowledge_minutes": 15, "notice_minutes": 15},
        "Expected": {"acknowledge_minutes": 60, "notice_minutes": 240},
        "Future": {"acknowledge_minutes": 1440, "notice_minutes": 2880},
        "Past": {"acknowledge_minutes": 1440, "notice_minutes": None},
        "Unknown": {"acknowledge_minutes": 60, "notice_minutes": None},
    }
    # The scheduler looks for missed deadlines this often; each missed deadline raises the
    # warning one escalation level (webhook subscriptions of that level hear of it).
    overdue_check_s: float = Field(default=30, gt=0)
    escalation_level_names: tuple[str, ...] = ("owner", "sector", "mission headquarters")
    # Community acknowledgements: language of the message when the alert names none.
    ack_default_language: str = "en"
    # Humanitarian partners read sanitised warnings only where the mission shares them.
    partner_warnings_shared: bool = False
    # Impact (difference in differences): windows before and after a response or patrol, the
    # resolution of target and comparison cells, comparison cells per target, and the fewest
    # target cells a reported figure may rest on (fewer: suppressed).
    impact_before_days: int = Field(default=28, ge=1, le=365)
    impact_after_days: int = Field(default=28, ge=1, le=365)
    impact_res: int = Field(default=7, ge=4, le=9)
    impact_matches: int = Field(default=3, ge=1, le=20)
    impact_min_cells: int = Field(default=5, ge=1)
    impact_match_radius_km: float = Field(default=250.0, gt=0)

    # --- products: exports, briefs, CoT feed, information requirements, reporting effort (issue 18)
    # Exports up to this many rows are built in memory (with a Content-Length); larger ones are
    # streamed from a server-side cursor (CSV) or a temporary file written in batches (GeoPackage).
    export_max_rows_in_memory: int = Field(default=50_000, ge=1)
    export_batch_rows: int = Field(default=5_000, ge=100, le=100_000)
    # Reporting effort (docs/scoring.md "Unwatched is not safe"): a cell's reports in the window
    # against its own history (the mean of this many earlier windows of the same length) and
    # against its ring-1 neighbours. Thin: fewer than `reporting_min_reports`, or below
    # `reporting_thin_ratio` of either expectation (when that expectation is itself not thin).
    reporting_history_windows: int = Field(default=4, ge=1, le=20)
    reporting_min_reports: int = Field(default=2, ge=1)
    reporting_thin_ratio: float = Field(default=0.5, gt=0, lt=1)
    # Cursor-on-Target feed: hotspot cells of these levels at this resolution, valid this long.
    cot_hotspot_levels: tuple[str, ...] = ("critical", "high")
    cot_hotspot_res: int = Field(default=6, ge=4, le=9)
    cot_hotspot_stale_hours: float = Field(default=24, gt=0)
    # Briefs: the threat layer they read (resolution, window), the forecast horizon, when a
    # warning without any response counts as overdue, and when scheduled briefs are generated
    # (mission time: daily at this hour for the previous day; weekly on Monday for Mon-Sun).
    brief_res: int = Field(default=6, ge=4, le=9)
    brief_threat_window_days: int = Field(default=90, ge=7, le=3650)
    brief_forecast_horizon_days: int = Field(default=28, ge=7, le=366)
    # The forecast method briefs quote. `decay` ranks cells within 2 % of the shipped `count`
    # model's PAI@1% in the backtest (60.08 vs 61.38, docs/forecast.md) at ~1/15 of its cost, so
    # a brief asked for on the spot is ready in seconds; None quotes the shipped model.
    brief_forecast_method: str | None = "decay"
    brief_response_deadline_minutes: int = Field(default=60, ge=1)
    brief_schedule_hour: int = Field(default=6, ge=0, le=23)
    brief_schedule: bool = True  # false: no scheduled briefs (briefs on request still work)
    brief_schedule_every_s: float = Field(default=300, gt=0)  # how often the scheduler looks


class MissionSettings(BaseSettings):
    """Missions as data: the default mission, seeding, profile caching, precision decay."""

    model_config = _CONFIG

    # --- missions (issue 13) ---
    # The mission whose profile (time zone, seasons, languages, CAP sender, map view, gazetteer)
    # applies when a request names none: a stored mission of this code, else the only stored
    # mission, else the bundled profile app/data/missions/<code>.json. Empty: the bundled
    # profile marked `"default": true` (the demonstration mission). "none": a generic profile.
    default_mission: str = ""
    # `kinga seed` (and so `make run`): "default" loads the default mission's bundled data,
    # "none" loads nothing (migrations only), or a bundled mission's code.
    seed: str = "default"
    # Mission profiles are cached per process this long (a change in another process shows then).
    mission_cache_s: float = Field(default=5, ge=0, le=300)
    # The threat layer's recency decay widens with an event's date precision: its scale is
    # max(scale, this share of the span the date covers), so yearly-precision data still scores.
    decay_precision_share: float = Field(default=1.0, ge=0, le=4)


class ReplicationSettings(BaseSettings):
    """Replication, read routing and the project's own HA cluster."""

    model_config = _CONFIG

    # --- replication, read routing, the project's own HA cluster (issue 20) ---
    # Reads that may come from a standby (layers, tiles, OGC, forecasts, listings) use this URL
    # when set (libpq multi-host, target_session_attrs=prefer-standby or any); writes and reads
    # of one's own write use KINGA_DATABASE_URL (multi-host, target_session_attrs=read-write).
    database_read_url: SecretStr | None = None
    # A standby whose replay is further behind than this is skipped: reads go to the writer.
    max_replica_lag_s: float = Field(default=5.0, ge=0)
    # How often each process measures the read server's lag (between checks the last is used).
    replica_lag_check_s: float = Field(default=1.0, ge=0)
    # synchronous_commit of API write transactions. Unset: remote_apply when a read URL is set
    # (a 2xx write is then already visible on the synchronous standby that serves reads), else on.
    write_synchronous_commit: Literal["on", "remote_apply", "remote_write", "local"] | None = None
    # `kinga db up --ha`: pg_auto_failover monitor and two nodes on this machine (development).
    ha_monitor_port: int = 54340
    ha_node_ports: tuple[int, int] = (54341, 54342)
    ha_db_name: str = "kinga"


class TriangulationSettings(BaseSettings):
    """Triangulation: one event, one incident (thresholds, the candidate gate)."""

    model_config = _CONFIG

    # --- triangulation (issue 14) ---
    # One event, one incident (docs/triangulation.md). Thresholds on the pair score in [0, 1],
    # chosen from the evaluation on the labelled CAR 2013-2015 set: at or above auto_link an
    # account becomes a report of the existing incident; from review up to it, it waits in the
    # possible-duplicates queue. A mission may set its own (PUT /api/v1/triangulation/thresholds).
    triangulation_auto_link: float = Field(default=0.85, ge=0, le=1)
    triangulation_review: float = Field(default=0.70, ge=0, le=1)
    # The candidate gate: distance beyond both location radii, days between the date ranges.
    triangulation_slack_km: float = Field(default=25.0, ge=0, le=500)
    triangulation_slack_days: float = Field(default=3.0, ge=0, le=60)
    # The mission code whose aliases and thresholds apply (until missions are records).
    triangulation_mission: str | None = None

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> TriangulationSettings:
        if self.triangulation_review > self.triangulation_auto_link:
            raise ValueError("KINGA_TRIANGULATION_REVIEW must not exceed KINGA_TRIANGULATION_AUTO_LINK")
        return self


class WorkbenchSettings(BaseSettings):
    """The operations workbench in the browser."""

    model_config = _CONFIG

    # --- operations workbench (issue 17) ---
    # How often the workbench's queues (alerts, warnings) ask for changes (ETag: a 304 if none).
    workbench_poll_s: int = Field(default=15, ge=2, le=3600)
    # The board's acknowledgement target for a warning that carries no deadline of its own.
    workbench_ack_minutes: int = Field(default=60, ge=1, le=10_080)


class Settings(PlatformSettings, ThreatSettings, AlertSettings, PlanningSettings, ForecastSettings,
               AccessSettings, ProductSettings, MissionSettings, ReplicationSettings,
               TriangulationSettings, WorkbenchSettings):
    """Every setting of the service, grouped by area in the classes above (docs/configuration.md).
    Each is one `KINGA_<NAME>` environment variable, as before the grouping; older names keep
    working (see `_older_names`)."""

    model_config = _CONFIG

    @model_validator(mode="after")
    def _older_names(self) -> Settings:
        if self.hotspot_cache_mb is not None and "layer_cache_mb" not in self.model_fields_set:
            self.layer_cache_mb = self.hotspot_cache_mb
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            if self.token_pepper.get_secret_value() == DEV_PEPPER:
                raise ValueError("KINGA_TOKEN_PEPPER must be set to a secret value in production")
            if self.database_url is None:
                raise ValueError("KINGA_DATABASE_URL must be set in production")
            if self.reporter_contact_keys is None:
                raise ValueError("KINGA_REPORTER_CONTACT_KEYS must be set in production "
                                 "(kinga reporters new-key)")
        return self


# The areas, in the order docs/configuration.md and `kinga settings` list them.
AREAS: dict[str, type[BaseSettings]] = {
    "platform": PlatformSettings, "threat": ThreatSettings, "alerts": AlertSettings,
    "planning": PlanningSettings, "forecast": ForecastSettings, "access": AccessSettings,
    "products": ProductSettings, "missions": MissionSettings, "replication": ReplicationSettings,
    "triangulation": TriangulationSettings,
    "workbench": WorkbenchSettings,
}


@lru_cache
def get_settings() -> Settings:
    return Settings()
