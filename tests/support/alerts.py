"""Helpers shared by the alert and warning API tests: an integration and signed posts."""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.services.alerts.integrations import sign


async def make_integration(client: Any, auth: Any, name: str = "can-bambari", **over: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/integrations", json={"name": name, **over}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


def signed(
    integ: dict[str, Any],
    body: bytes,
    content_type: str = "application/json",
    key: str | None = None,
    ts: str | None = None,
) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    headers = {
        "Authorization": f"Bearer {integ['token']}",
        "Content-Type": content_type,
        "X-Kinga-Timestamp": ts,
        "X-Kinga-Signature": sign(integ["signing_secret"], ts, body),
    }
    if key:
        headers["Idempotency-Key"] = key
    return headers


async def post_alert(
    client: Any,
    integ: dict[str, Any],
    doc: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    key: str | None = None,
) -> Any:
    body = raw if raw is not None else orjson.dumps(doc)
    r = await client.post("/api/v1/alerts", content=body, headers=signed(integ, body, content_type, key))
    if r.is_success:
        await triage_now(client)
    return r


async def triage_now(client: Any) -> int:
    """Triage what intake stored (the app's own worker, under its lock: deterministic), then send
    the webhook deliveries that triage queued."""
    workers = client._transport.app.state.workers
    done = int(await workers.triage.drain())
    await workers.webhooks.drain()
    return done


def alert_doc(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "latitude": 4.39,
        "longitude": 18.56,
        "text": "Armed men threatened traders",
        "category": "threat_intimidation",
        "observed_at": "2024-03-02T21:00:00Z",
    }
    doc.update(over)
    return {k: v for k, v in doc.items() if v is not None}


def counts(conn: Any) -> dict[str, int]:
    tables = ("alert", "incident", "report", "idempotency_key", "warning", "audit_event")
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
