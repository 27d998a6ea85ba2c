"""Helpers for the response-loop tests: bases, flash warnings, and a fake SMS gateway (and webhook
receiver) listening on loopback that records every signed POST it gets."""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


async def make_base(client: Any, auth: Any, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Bambari COB", "kind": "company_operating_base",
                            "latitude": 5.76, "longitude": 20.67, "opened_on": "2014-01-01",
                            "troops": 600, "road_patrols_per_day": 4, "foot_patrols_per_day": 2,
                            "qrf_standby": 1}
    body.update(over)
    r = await client.post("/api/v1/bases", json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


def flash_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"latitude": 5.80, "longitude": 20.70,
                            "headline": "Armed men gathering at the market",
                            "severity": "Severe", "urgency": "Immediate", "certainty": "Likely"}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return orjson.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class FakeGateway:
    """An HTTP server on 127.0.0.1 (a free port) that answers `status` to every POST and keeps
    what it got; `arrived` is set on each POST."""

    status: int = 200
    got: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.got.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(gateway.status)
                self.end_headers()
                gateway.arrived.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def of(self, event: str) -> list[Received]:
        return [g for g in self.got if g.headers.get("X-Kinga-Event") == event]


def signature_ok(secret: str, r: Received) -> bool:
    ts = r.headers["X-Kinga-Timestamp"]
    expected = hmac.new(secret.encode(), ts.encode() + b"." + r.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, r.headers["X-Kinga-Signature"])


def warning_count(conn: Any) -> int:
    return conn.execute("SELECT count(*) FROM warning").fetchone()[0]


def writes(conn: Any) -> dict[str, int]:
    """Row counts of everything a refused request must leave untouched."""
    tables = ("warning", "warning_response", "webhook_delivery", "audit_event", "patrol_plan",
              "patrol_report")
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
