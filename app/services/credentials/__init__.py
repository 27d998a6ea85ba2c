"""API tokens as credentials (issue 11): expiry (per token, default 90 days), last use (recorded at
most once a minute per token and process, so alert intake stays fast), listing without secrets,
revocation heard by every server process at once (LISTEN/NOTIFY), and the per-integration rate
limit on alert intake. Hashing and the Principal are in app.services.auth."""
