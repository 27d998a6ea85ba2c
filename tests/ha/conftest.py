"""HA tests: a throwaway pg_auto_failover cluster (monitor, primary, synchronous standby) of their
own, on free ports, destroyed at the end. They run only in `make test-ha` (KINGA_HA_TESTS=1):
`make test` must not need the cluster, and these kill and restart servers."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config

from app import ha_cluster
from app.cli.support import create_token
from app.domain import Role
from app.main import create_app
from app.settings import PROJECT_ROOT, Settings


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool:
    return os.environ.get("KINGA_HA_TESTS") != "1"


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest.fixture(scope="session")
def cluster() -> Iterator[ha_cluster.Layout]:
    base = Path(tempfile.mkdtemp(prefix="kinga-ha-test-", dir="/var/tmp"))  # noqa: S108
    if os.geteuid() == 0:
        shutil.chown(base, user=ha_cluster.PG_USER)
    m, n1, n2 = _free_ports(3)
    settings = Settings(ha_monitor_port=m, ha_node_ports=(n1, n2), ha_db_name="kinga_ha_test")
    lay = ha_cluster.layout(settings, base)
    try:
        ha_cluster.up(settings, base)
        cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
        cfg.cmd_opts = type("Opts", (), {"x": [f"url={ha_cluster.writer_url(lay)}"]})()  # type: ignore[assignment]
        command.upgrade(cfg, "heads")
        yield lay
    finally:
        ha_cluster.destroy(lay)


@pytest.fixture(scope="session")
def ha_settings(cluster: ha_cluster.Layout) -> Settings:
    return Settings(database_url=ha_cluster.writer_url(cluster),
                    database_read_url=ha_cluster.read_url(cluster),
                    environment="test", replica_lag_check_s=0)


def roles(cluster: ha_cluster.Layout) -> tuple[str, str]:
    """(primary node, standby node) as the monitor sees them now."""
    r = ha_cluster.wait_for(cluster, timeout=180)
    return (next(n for n, s in r.items() if s == "primary"),
            next(n for n, s in r.items() if s == "secondary"))


def node_conn(cluster: ha_cluster.Layout, name: str, **kw: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(ha_cluster.node_url(cluster, name), autocommit=True, connect_timeout=3, **kw)


@pytest.fixture(scope="session")
def ha_tokens(ha_settings: Settings) -> dict[str, str]:
    return {r.value: create_token(ha_settings, r, f"ha-{r.value}") for r in Role}


@pytest.fixture(scope="session")
def ha_auth(ha_tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    return lambda role: {"Authorization": f"Bearer {ha_tokens[role]}"}


@pytest.fixture
async def ha_app(ha_settings: Settings) -> AsyncIterator[Any]:
    application = create_app(ha_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def ha_client(ha_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ha_app),
                                 base_url="http://kinga.test") as c:
        yield c
