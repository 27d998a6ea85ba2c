"""Retention (issue 11): scheduler jobs purge idempotency records after their TTL and finished
webhook delivery logs after their retention period; what is younger, or still pending, stays."""

from __future__ import annotations

from app.workers.scheduler import JOBS
from tests.support.alerts import alert_doc, make_integration, post_alert


def test_the_purges_are_scheduler_jobs():
    names = {j.name for j in JOBS}
    assert {"retention.idempotency_keys", "retention.webhook_deliveries",
            "retention.quarantine", "reporters.blank_expired_contacts"} <= names


async def test_idempotency_records_are_purged_after_their_ttl(app, client, auth, conn, settings):
    integ = await make_integration(client, auth)
    for key in ("old", "new"):
        assert (await post_alert(client, integ, alert_doc(text=key), key=key)).status_code == 201
    conn.execute("UPDATE idempotency_key SET created_at = now() - make_interval(hours => %s + 1) "
                 "WHERE key = 'old'", (settings.idempotency_ttl_hours,))
    conn.commit()
    assert await app.state.workers.scheduler.run_job("retention.idempotency_keys") == 1
    assert [k for (k,) in conn.execute("SELECT key FROM idempotency_key")] == ["new"]
    assert conn.execute("SELECT count(*) FROM alert").fetchone()[0] == 2  # alerts stay


async def test_finished_delivery_logs_are_purged_pending_ones_stay(app, client, auth, conn):
    sub = conn.execute("INSERT INTO webhook_subscription (name, url, secret_salt, created_by) "
                       "VALUES ('s', 'https://example.org/h', '\\x00', 't') RETURNING id").fetchone()[0]
    w = conn.execute("INSERT INTO warning (rule, dedupe_key, area, severity, urgency, certainty, "
                     "headline, description, expires_at) VALUES ('r', 'k', "
                     "ST_GeomFromText('POINT(18 4)', 4326), 'Severe', 'Immediate', 'Likely', 'h', "
                     "'d', now()) RETURNING id").fetchone()[0]
    for status, age in (("delivered", 100), ("failed", 100), ("pending", 100), ("delivered", 1)):
        conn.execute("INSERT INTO webhook_delivery (subscription_id, warning_id, event, payload, "
                     "status, next_attempt_at, created_at) VALUES (%s, %s, 'e', '{}', %s, "
                     "now() + interval '1 day', now() - make_interval(days => %s))",
                     (sub, w, status, age))
    conn.commit()
    assert await app.state.workers.scheduler.run_job("retention.webhook_deliveries") == 2
    left = sorted(conn.execute("SELECT status, created_at > now() - interval '2 days' "
                               "FROM webhook_delivery").fetchall())
    assert left == [("delivered", True), ("pending", False)]


async def test_quarantined_rows_are_kept_for_their_retention(app, conn, settings):
    for age in (settings.quarantine_retention_days + 1, 1):
        conn.execute("INSERT INTO quarantine (source, object_type, object_id, error, created_at) "
                     "VALUES ('alert_triage', 'alert', %s, 'DataError', now() - make_interval(days => %s))",
                     (f"a-{age}", age))
    conn.commit()
    assert await app.state.workers.scheduler.run_job("retention.quarantine") == 1
    assert [o for (o,) in conn.execute("SELECT object_id FROM quarantine")] == ["a-1"]
