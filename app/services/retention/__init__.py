"""Retention (issue 11): what the service keeps only for a while, purged by scheduler jobs
(app/workers/scheduler.py `JOBS`, every KINGA_RETENTION_EVERY_S):

- idempotency records: after KINGA_IDEMPOTENCY_TTL_HOURS (a retry after that is a new alert);
- webhook delivery logs (delivered or failed): after KINGA_WEBHOOK_DELIVERY_RETENTION_DAYS;
- quarantined rows: after KINGA_QUARANTINE_RETENTION_DAYS;
- reporter contacts: blanked after KINGA_REPORTER_CONTACT_TTL_DAYS (app.services.reporters).
"""
