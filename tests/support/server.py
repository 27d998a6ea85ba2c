"""The real service in a uvicorn subprocess on a free loopback port (browser tests, benches)."""

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

from app.settings import PROJECT_ROOT


class ServerDied(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_app(
    db_url: str,
    log_path: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    ready_within_s: float = 60.0,
    port: int | None = None,
    cwd: Path = PROJECT_ROOT,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`uvicorn --factory app.main:create_app` against `db_url`; yields (base URL, process) once
    /api/v1/health answers 200. Its output goes to `log_path` (never an unread pipe). `cwd` is the
    tree whose `app` package is served (a bench compares this checkout with an exported commit)."""
    port = port or free_port()  # a fixed port: the same origin again after a restart
    full_env = {**os.environ, "KINGA_DATABASE_URL": db_url, "KINGA_ENVIRONMENT": "test", **(env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    # Fixed argv, no shell; the settings come from this environment.
    proc = subprocess.Popen(argv, cwd=cwd, env=full_env,  # noqa: S603
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_within_s
    try:
        while True:  # readiness poll, not a timing assertion
            if proc.poll() is not None:
                raise ServerDied(f"the service exited with {proc.returncode}; see {log_path}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerDied(f"the service did not become ready; see {log_path}")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
