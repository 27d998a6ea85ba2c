"""The real service in a uvicorn subprocess on a free loopback port, against the test database
(for clients that must talk HTTP over a socket: GDAL, QGIS, browsers)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT, Settings

STARTUP_DEADLINE_S = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings, log_path: Path) -> Iterator[str]:
    """Yields the base URL once /api/v1/health answers; stops the server afterwards."""
    assert settings.database_url is not None
    port = free_port()
    env = {**os.environ, "KINGA_DATABASE_URL": settings.database_url.get_secret_value(),
           "KINGA_ENVIRONMENT": "test"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=log,  # noqa: S603
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        try:
            while True:  # readiness poll, not a timing assertion
                if proc.poll() is not None:
                    raise RuntimeError(f"the service exited with {proc.returncode}; see {log_path}")
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the service did not become ready")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
