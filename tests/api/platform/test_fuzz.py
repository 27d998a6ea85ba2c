"""Bounded fuzzing of every operation (schemathesis), part of `make test`.

The app is served for real (uvicorn in a thread, over the test database) and schemathesis
generates requests from its own OpenAPI document: every operation, a fixed seed, a few examples
each, as admin and as analyst (alert intake as an integration). Any 5xx, or any response that
does not match the documented schema (status, problem+json or success body), fails the test.
The wider run (>= 30 examples per operation, both roles) is `bench/fuzz_api.py`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.main import create_app
from app.settings import Settings
from tests.conftest import incident_body

EXAMPLES = int(os.environ.get("KINGA_FUZZ_EXAMPLES", "4"))
ROLES = ("admin", "analyst")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fuzz_server(settings: Settings) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="fuzz-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the fuzz server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


# The operations, from the app's own document (no server needed to collect them).
DOC = create_app(Settings()).openapi()
SCHEMA = schemathesis.openapi.from_dict(DOC)
LABELS = [f"{method.upper()} {path}" for path, item in DOC["paths"].items() for method in item]


@pytest.fixture
def world(fuzz_server: str, tokens: dict[str, str]) -> dict[str, Any]:
    """Real objects for path parameters to find (every other example uses them), and an
    unsigned integration for alert intake. Once per operation: tables are emptied after each."""
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    with httpx.Client(base_url=fuzz_server, headers=admin, timeout=60) as c:
        incident = c.post("/api/v1/incidents", json=incident_body())
        base = c.post("/api/v1/bases", json={"name": "Fuzz base", "kind": "field_office",
                                             "latitude": 4.4, "longitude": 18.6,
                                             "opened_on": "2020-01-01", "troops": 200})
        integ = c.post("/api/v1/integrations", json={"name": "fuzz", "require_signature": False})
    assert incident.status_code == base.status_code == integ.status_code == 201
    return {"incident_id": incident.json()["id"], "base_id": base.json()["id"],
            "integration": integ.json()["token"], "calls": 0}


def _fuzz_operation(label: str, fuzz_server: str, tokens: dict[str, str],
                    world: dict[str, Any]) -> None:
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))
    roles = ("integration",) if label == "POST /api/v1/alerts" else ROLES

    @given(case=cases)
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    def fuzz(case: Any) -> None:
        world["calls"] += 1
        if world["calls"] % 2 == 0:  # every other example names real objects
            for name in ("incident_id", "base_id"):
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = world[name]
        for role in roles:
            token = world["integration"] if role == "integration" else tokens[role]
            response = case.call(base_url=fuzz_server, timeout=120,
                                 headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=[not_a_server_error,
                                                     response_schema_conformance])

    fuzz()


def test_no_server_error_and_documented_responses(fuzz_server: str, tokens: dict[str, str],
                                                   world: dict[str, Any]) -> None:
    """Every operation of the document, derandomized (a fixed seed per operation)."""
    failures = []
    for label in LABELS:
        try:
            _fuzz_operation(label, fuzz_server, tokens, world)
        except Exception as exc:  # collect every operation's first failure, then report all
            failures.append(f"{label}: {str(exc).strip()[:2000]}")
    assert len(LABELS) >= 50
    assert failures == [], "\n\n".join(failures)
