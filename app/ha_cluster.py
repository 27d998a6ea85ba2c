"""The project's own replicated cluster: a pg_auto_failover monitor, a primary and a synchronous
standby on this one machine (development, the HA tests, the failover bench).

Each of the three is its own data directory and port and its own `pg_autoctl run` service, run by
the `postgres` system user in a process group of its own (so a test can kill one node's keeper and
postmaster together, as when its host dies). Everything pg_autoctl keeps (configuration, state
files, pid files, the password file) lives under one base directory, not in the postgres user's
home, so several clusters can exist side by side and `down` leaves nothing behind.

Failure detection is tuned well below pg_auto_failover's defaults (which take 30-60 s to promote):
see `MONITOR_TUNING`, `KEEPER_TUNING` and docs/scale-out.md. The ordering that prevents split brain
is kept: a primary that loses both the monitor and its standby demotes itself after
`network_partition_timeout`, which is shorter than the monitor's `primary_demote_timeout`, the
time it waits before promoting the standby when the old primary cannot confirm its demotion.
A mission deploys the same three roles on three machines (docs/scale-out.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.localdb import DB_ROLE, PG_USER, LocalDbError, pg_bin
from app.settings import Settings

NODES = ("node1", "node2")

# Monitor (pgautofailover.* GUCs, milliseconds). Defaults: period 5000, timeout 5000, retries 2,
# retry delay 2000, unhealthy after 20000 without a keeper report, demote timeout 30000.
MONITOR_TUNING = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 4000,
    "pgautofailover.primary_demote_timeout": 12000,
}
# Keepers (pg_autoctl.cfg, seconds). network_partition_timeout (default 20) must stay below the
# monitor's primary_demote_timeout: an isolated primary fences itself before its standby is
# promoted.
KEEPER_TUNING = {
    "timeout.network_partition_timeout": 6,
    "timeout.prepare_promotion_catchup": 10,
    "timeout.prepare_promotion_walreceiver": 2,
}


class HaError(LocalDbError):
    pass


@dataclass(frozen=True)
class Layout:
    base: Path
    monitor_port: int
    node_ports: tuple[int, int]
    db_name: str

    def pgdata(self, name: str) -> Path:
        return self.base / name

    def port(self, name: str) -> int:
        return self.monitor_port if name == "monitor" else self.node_ports[NODES.index(name)]

    @property
    def monitor_uri(self) -> str:
        return f"postgresql://autoctl_node@127.0.0.1:{self.monitor_port}/pg_auto_failover?sslmode=disable"


def layout(settings: Settings, base: Path | None = None) -> Layout:
    if base is None:
        base = _base_dir(settings.data_dir)
    return Layout(base, settings.ha_monitor_port, settings.ha_node_ports, settings.ha_db_name)


def _base_dir(data_dir: Path) -> Path:
    """data_dir/ha, or (when the postgres user cannot reach data_dir) a folder under /var/tmp."""
    from app.localdb import _pg_can_write

    data_dir.mkdir(parents=True, exist_ok=True)
    pointer = data_dir / "ha-location"
    if pointer.exists():
        return Path(pointer.read_text().strip())
    if os.geteuid() == 0:
        shutil.chown(data_dir, user=PG_USER)
    if _pg_can_write(data_dir):
        target = data_dir / "ha"
    else:
        import hashlib

        key = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
        target = Path("/var/tmp") / f"kinga-ha-{key}"  # noqa: S108  (.data/ unreachable for postgres)
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(target, user=PG_USER)
    pointer.write_text(str(target))
    return target


# --- running things as the postgres user -------------------------------------------------------

def _env(lay: Layout) -> dict[str, str]:
    return {
        "PATH": f"{pg_bin()}:/usr/bin:/bin",
        "HOME": str(lay.base),
        "XDG_CONFIG_HOME": str(lay.base / "config"),
        "XDG_DATA_HOME": str(lay.base / "share"),
        "XDG_RUNTIME_DIR": str(lay.base / "run"),
        "PGPASSFILE": str(lay.base / "pgpass"),
        "PG_CONFIG": str(pg_bin() / "pg_config"),
        "LANG": "C.UTF-8",
    }


def _user_kw() -> dict[str, Any]:
    return {"user": PG_USER, "group": PG_USER} if os.geteuid() == 0 else {}


def _run(lay: Layout, args: list[str], *, check: bool = True, timeout: float = 300) -> str:
    # Arguments come from fixed binaries and project paths, never from user input.
    res = subprocess.run(  # noqa: S603
        args, env=_env(lay), text=True, capture_output=True, check=False, timeout=timeout,
        cwd=lay.base, **_user_kw(),
    )
    if check and res.returncode != 0:
        raise HaError(f"{' '.join(args[:3])} failed: {(res.stderr or res.stdout).strip()[-2000:]}")
    return res.stdout


def pg_autoctl() -> str:
    found = shutil.which("pg_autoctl") or shutil.which("pg_autoctl", path=str(pg_bin()))
    if found is None:
        raise HaError("pg_autoctl not found: run scripts/install-ha.sh (make run-ha does)")
    return found


def _autoctl(lay: Layout, *args: str, check: bool = True, timeout: float = 300) -> str:
    return _run(lay, [pg_autoctl(), *args], check=check, timeout=timeout)


def _psql(lay: Layout, name: str, *sql: str, db: str = "postgres") -> str:
    """SQL as the postgres superuser over the node's Unix socket; each statement on its own."""
    cmds = [a for s in sql for a in ("-c", s)]
    return _run(lay, [str(pg_bin() / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                      "-p", str(lay.port(name)), "-d", db, *cmds])


def _write_owned(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)
    if os.geteuid() == 0:
        shutil.chown(path, user=PG_USER, group=PG_USER)


# --- process control -------------------------------------------------------------------------

def _pidfile(lay: Layout, name: str) -> Path:
    return lay.base / f"{name}.service.pid"


def service_pid(lay: Layout, name: str) -> int | None:
    """The pid (= process group) of the node's `pg_autoctl run`, if it is alive."""
    try:
        pid = int(_pidfile(lay, name).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    try:  # a reused pid would not be pg_autoctl
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return pid if b"pg_autoctl" in cmd and str(lay.pgdata(name)).encode() in cmd else None


def start_service(lay: Layout, name: str) -> int:
    """`pg_autoctl run` for one node, detached, in a process group of its own."""
    pid = service_pid(lay, name)
    if pid is not None:
        return pid
    log = (lay.base / f"{name}.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603
        [pg_autoctl(), "run", "--pgdata", str(lay.pgdata(name))],
        env=_env(lay), cwd=lay.base, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True, **_user_kw(),
    )
    log.close()
    _pidfile(lay, name).write_text(str(proc.pid))
    return proc.pid


def kill_node(lay: Layout, name: str) -> int:
    """SIGKILL the node's whole process group (keeper, postmaster, backends): its host died."""
    pid = service_pid(lay, name)
    if pid is None:
        raise HaError(f"{name} is not running")
    os.killpg(pid, signal.SIGKILL)
    for _ in range(100):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        if service_pid(lay, name) is None:
            break
        time.sleep(0.05)
    # A killed postmaster leaves its pid file: pg_autoctl refuses to start Postgres until it is
    # checked, which it does itself; nothing else to clean here.
    return pid


def stop_service(lay: Layout, name: str, timeout: float = 60) -> None:
    pid = service_pid(lay, name)
    if pid is None:
        return
    _autoctl(lay, "stop", "--pgdata", str(lay.pgdata(name)), check=False, timeout=30)
    deadline = time.monotonic() + timeout
    while service_pid(lay, name) is not None and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    if service_pid(lay, name) is not None:
        os.killpg(pid, signal.SIGKILL)


def _wait_port(lay: Layout, name: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = subprocess.run(  # noqa: S603
            [str(pg_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(lay.port(name))],
            check=False)
        if res.returncode == 0:
            return
        time.sleep(0.3)
    raise HaError(f"{name} did not accept connections on port {lay.port(name)} within {timeout:.0f} s "
                  f"(log: {lay.base / (name + '.log')})")


# --- state -------------------------------------------------------------------------------------

def state(lay: Layout) -> list[dict[str, Any]]:
    """The monitor's view: one row per node (name, port, reported and assigned state, LSN...)."""
    out = _autoctl(lay, "show", "state", "--pgdata", str(lay.pgdata("monitor")), "--json", timeout=30)
    return [r for r in json.loads(out or "[]") if isinstance(r, dict)]


def roles(lay: Layout) -> dict[str, str]:
    """node name -> reported state (primary, secondary, wait_primary, catchingup, demoted...)."""
    try:
        return {r["nodename"]: r["current_group_state"] for r in state(lay)}
    except (HaError, ValueError, KeyError, subprocess.TimeoutExpired):
        return {}


def wait_for(lay: Layout, wanted: dict[str, str] | None = None, *, timeout: float = 180,
             settled: bool = True) -> dict[str, str]:
    """Wait until the nodes report `wanted` (default: one primary and one secondary), each
    reported state equal to its assigned state when `settled`."""
    deadline = time.monotonic() + timeout
    last: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            rows = state(lay)
        except (HaError, ValueError, subprocess.TimeoutExpired):
            rows = []
        last = {r["nodename"]: r["current_group_state"] for r in rows}
        ok_settled = not settled or all(r["current_group_state"] == r["assigned_group_state"] for r in rows)
        if wanted is not None:
            if ok_settled and all(last.get(k) == v for k, v in wanted.items()):
                return last
        elif ok_settled and sorted(last.values()) == ["primary", "secondary"]:
            return last
        time.sleep(0.5)
    raise HaError(f"cluster did not reach {wanted or 'primary + secondary'} in {timeout:.0f} s: {last}")


def primary(lay: Layout) -> str | None:
    for name, st in roles(lay).items():
        if st in ("primary", "wait_primary", "single"):
            return name
    return None


# --- URLs ------------------------------------------------------------------------------------

def password(lay: Layout) -> str:
    return (lay.base / "db-password").read_text().strip()


def writer_url(lay: Layout, db: str | None = None) -> str:
    hosts = ",".join(f"127.0.0.1:{p}" for p in lay.node_ports)
    return (f"postgresql://{DB_ROLE}:{password(lay)}@{hosts}/{db or lay.db_name}"
            "?target_session_attrs=read-write")


def read_url(lay: Layout, db: str | None = None) -> str:
    hosts = ",".join(f"127.0.0.1:{p}" for p in lay.node_ports)
    return (f"postgresql://{DB_ROLE}:{password(lay)}@{hosts}/{db or lay.db_name}"
            "?target_session_attrs=prefer-standby")


def node_url(lay: Layout, name: str, db: str | None = None) -> str:
    return f"postgresql://{DB_ROLE}:{password(lay)}@127.0.0.1:{lay.port(name)}/{db or lay.db_name}"


# --- up / down -------------------------------------------------------------------------------

def _created(lay: Layout, name: str) -> bool:
    return (lay.pgdata(name) / "PG_VERSION").exists() and (
        lay.base / "config" / "pg_autoctl" / str(lay.pgdata(name)).lstrip("/") / "pg_autoctl.cfg"
    ).exists()


def _secrets(lay: Layout) -> str:
    """The app role's password (db-password) and the internal roles' one, in a libpq password
    file that every pg_autoctl process (and the Postgres it runs: walreceiver) reads."""
    for d in ("config", "share", "run"):
        (lay.base / d).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(lay.base / d, user=PG_USER, group=PG_USER)
    app_pw = lay.base / "db-password"
    if not app_pw.exists():
        _write_owned(app_pw, secrets.token_urlsafe(24))
    internal = lay.base / "internal-password"
    if not internal.exists():
        _write_owned(internal, secrets.token_urlsafe(24))
    ipw = internal.read_text().strip()
    _write_owned(lay.base / "pgpass", "".join(
        f"*:*:*:{role}:{ipw}\n"
        for role in ("autoctl_node", "pgautofailover_replicator", "pgautofailover_monitor")))
    return ipw


def _create_monitor(lay: Layout, ipw: str) -> None:
    if not _created(lay, "monitor"):
        _autoctl(lay, "create", "monitor", "--pgdata", str(lay.pgdata("monitor")),
                 "--pgport", str(lay.monitor_port), "--hostname", "127.0.0.1",
                 "--auth", "scram-sha-256", "--no-ssl", "--pgctl", str(pg_bin() / "pg_ctl"))
        _harden_hba(lay, "monitor")
    start_service(lay, "monitor")
    _wait_port(lay, "monitor")
    _wait_sql(lay, "monitor", "pg_auto_failover")
    _psql(lay, "monitor", f"ALTER USER autoctl_node PASSWORD '{ipw}'")
    _psql(lay, "monitor", *(f"ALTER SYSTEM SET {k} = {v}" for k, v in MONITOR_TUNING.items()),
          "SELECT pg_reload_conf()")


def _wait_sql(lay: Layout, name: str, db: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _psql(lay, name, "SELECT 1", db=db)
            return
        except HaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _harden_hba(lay: Layout, name: str) -> None:
    """initdb (as pg_autoctl runs it) trusts every local TCP connection, replication included: on
    a shared machine any user could then stream the whole database. Passwords on TCP for all
    (the app role included, in any database: tests and benches create their own); on the socket,
    peer for the postgres user and passwords for the others (pg_autoctl's own roles).
    pg_autoctl's own rules (scram for its roles, the monitor's health-check role) stay."""
    hba = lay.pgdata(name) / "pg_hba.conf"
    lines = []
    for line in hba.read_text().splitlines():
        fields = line.split()
        if fields[:1] == ["local"] and fields[-1:] == ["trust"]:
            lines.append(f"local {fields[1]} {PG_USER} peer")
            line = f"local {fields[1]} all scram-sha-256"
        elif (fields[:1] == ["host"] and fields[-1:] == ["trust"]
              and "pgautofailover_monitor" not in line):
            line = line.replace("trust", "scram-sha-256")
        lines.append(line)
    hba.write_text("\n".join(lines) + "\n")


SERVER_SETTINGS = {
    # Enough for two uvicorn workers' pools, the triage workers and the benches' clients; a hot
    # standby needs at least its primary's value, and gets it with the base backup.
    "max_connections": "200",
    # pg_auto_failover sizes these for a dedicated host; the nodes here share the machine.
    "shared_buffers": "'256MB'",
    "effective_cache_size": "'1GB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'128MB'",
    "max_wal_size": "'2GB'",
    "wal_keep_size": "'1GB'",
}


def _create_node(lay: Layout, name: str) -> None:
    if not _created(lay, name):
        _autoctl(lay, "create", "postgres", "--pgdata", str(lay.pgdata(name)),
                 "--pgport", str(lay.port(name)), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
                 "--name", name, "--dbname", lay.db_name, "--monitor", lay.monitor_uri,
                 "--auth", "scram-sha-256", "--no-ssl", "--pgctl", str(pg_bin() / "pg_ctl"),
                 timeout=600)
        for key, value in KEEPER_TUNING.items():
            _autoctl(lay, "config", "set", "--pgdata", str(lay.pgdata(name)), key, str(value))
    start_service(lay, name)


def _prepare_primary(lay: Layout, name: str) -> None:
    """On the first primary only (the standby copies it all by base backup): the internal and app
    roles, the app database with PostGIS, the server settings, password rules."""
    ipw = (lay.base / "internal-password").read_text().strip()
    pw = password(lay)
    _wait_sql(lay, name, "postgres")
    _psql(lay, name,
          f"ALTER USER pgautofailover_replicator PASSWORD '{ipw}'",
          f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_ROLE}') THEN "
          f"CREATE ROLE {DB_ROLE} LOGIN SUPERUSER; END IF; END$$",
          f"ALTER ROLE {DB_ROLE} PASSWORD '{pw}'",
          f"ALTER DATABASE {lay.db_name} OWNER TO {DB_ROLE}",
          *(f"ALTER SYSTEM SET {k} = {v}" for k, v in SERVER_SETTINGS.items()))
    _psql(lay, name, "CREATE EXTENSION IF NOT EXISTS postgis", db=lay.db_name)
    _harden_hba(lay, name)
    stop_service(lay, name)  # max_connections and shared_buffers need a restart
    start_service(lay, name)
    wait_for(lay, {name: "single"}, timeout=120)
    _wait_sql(lay, name, lay.db_name)
    (lay.base / "prepared").write_text(name)


def up(settings: Settings, base: Path | None = None) -> Layout:
    """Create (once) and start the monitor, a primary and a synchronous standby; wait until the
    standby is streaming. Idempotent: a running cluster is left as it is."""
    lay = layout(settings, base)
    pg_autoctl()
    ipw = _secrets(lay)
    _create_monitor(lay, ipw)
    _create_node(lay, NODES[0])
    if not (lay.base / "prepared").exists():
        wait_for(lay, {NODES[0]: "single"}, timeout=180)
        _prepare_primary(lay, NODES[0])
    _create_node(lay, NODES[1])
    wait_for(lay, timeout=300)
    return lay


def down(settings: Settings, base: Path | None = None) -> None:
    """Stop every service of the cluster (standbys first, the monitor last)."""
    lay = layout(settings, base)
    order = sorted(NODES, key=lambda n: primary(lay) == n) if service_pid(lay, "monitor") else NODES
    for name in (*order, "monitor"):
        stop_service(lay, name)


def destroy(lay: Layout) -> None:
    """Stop everything and delete the cluster's files (throwaway clusters of benches and tests)."""
    for name in (*NODES, "monitor"):
        stop_service(lay, name, timeout=30)
    shutil.rmtree(lay.base, ignore_errors=True)
