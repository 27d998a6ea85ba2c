"""A throwaway replicated cluster for the HA benches (app.ha_cluster in a temporary folder, free
ports, migrated): never the shared server, never a developer's `kinga db up --ha` cluster."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config

from app import ha_cluster
from app.settings import PROJECT_ROOT, Settings


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@contextmanager
def throwaway_ha(db_name: str) -> Iterator[ha_cluster.Layout]:
    base = Path(tempfile.mkdtemp(prefix="kinga-ha-bench-", dir="/var/tmp"))  # noqa: S108
    if os.geteuid() == 0:
        shutil.chown(base, user=ha_cluster.PG_USER)
    m, n1, n2 = _free_ports(3)
    settings = Settings(ha_monitor_port=m, ha_node_ports=(n1, n2), ha_db_name=db_name)
    lay = ha_cluster.layout(settings, base)
    try:
        t = time.perf_counter()
        ha_cluster.up(settings, base)
        cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
        cfg.cmd_opts = type("Opts", (), {"x": [f"url={ha_cluster.writer_url(lay)}"]})()  # type: ignore[assignment]
        command.upgrade(cfg, "heads")
        print(f"replicated cluster (monitor {m}, nodes {n1}, {n2}) ready in "
              f"{time.perf_counter() - t:.0f} s: {ha_cluster.roles(lay)}", file=sys.stderr)
        yield lay
    finally:
        ha_cluster.destroy(lay)
