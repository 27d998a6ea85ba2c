"""The project's own PostgreSQL + PostGIS cluster under .data/ (used when KINGA_DATABASE_URL is unset).

The machines run as root and PostgreSQL refuses to, so the cluster belongs to the `postgres`
system user that the Debian package creates. If that user cannot reach .data/ (a clone inside a
private temporary folder, say), the cluster lives under /var/tmp instead, keyed by the project path.
"""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from app.settings import Settings

PG_USER = "postgres"
DB_ROLE = "kinga"


class LocalDbError(RuntimeError):
    pass


def pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise LocalDbError(
            "PostgreSQL binaries not found; run scripts/install-postgis.sh (make does) "
            "or set KINGA_DATABASE_URL"
        )
    return Path(candidates[0]).parent


def _as_pg(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        args = ["runuser", "-u", PG_USER, "--", *args]
    # Arguments are built here from fixed binaries and project paths, never from user input.
    return subprocess.run(args, check=False, text=True, capture_output=True, **kw)  # type: ignore[call-overload]  # noqa: S603


def _pg_can_write(path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    probe = path / ".probe"
    res = _as_pg(["sh", "-c", f"touch '{probe}' && rm -f '{probe}'"])
    return res.returncode == 0


def cluster_dir(settings: Settings) -> Path:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pointer = settings.data_dir / "cluster-location"
    if pointer.exists():
        return Path(pointer.read_text().strip())
    if os.geteuid() == 0:
        shutil.chown(settings.data_dir, user=PG_USER)
    if _pg_can_write(settings.data_dir):
        target = settings.data_dir / "pg"
    else:
        key = hashlib.sha256(str(settings.data_dir).encode()).hexdigest()[:12]
        base = Path("/var/tmp") / f"kinga-{key}"  # noqa: S108  (fallback when .data/ is unreachable)
        base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(base, user=PG_USER)
        target = base / "pg"
    pointer.write_text(str(target))
    return target


def password_file(settings: Settings) -> Path:
    # Beside the cluster (not always in .data/): a cluster kept under /var/tmp outlives a clone.
    return cluster_dir(settings).parent / "db-password"


def url(settings: Settings, dbname: str | None = None) -> str:
    pw = password_file(settings).read_text().strip() if password_file(settings).exists() else ""
    return f"postgresql://{DB_ROLE}:{pw}@127.0.0.1:{settings.db_port}/{dbname or settings.db_name}"


def _running(pgdata: Path) -> bool:
    return _as_pg([str(pg_bin() / "pg_ctl"), "-D", str(pgdata), "status"]).returncode == 0


def up(settings: Settings) -> str:
    """Create (once) and start the local cluster, the role, the database and PostGIS."""
    pgdata = cluster_dir(settings)
    pwfile = password_file(settings)
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(pgdata, user=PG_USER)
        if not pwfile.exists():
            pwfile.write_text(secrets.token_urlsafe(24))
            pwfile.chmod(0o600)
        tmp_pw = pgdata.parent / ".initpw"
        tmp_pw.write_text(pwfile.read_text())
        if os.geteuid() == 0:
            shutil.chown(tmp_pw, user=PG_USER)
        res = _as_pg([
            str(pg_bin() / "initdb"), "-D", str(pgdata), "-U", DB_ROLE, "--auth=scram-sha-256",
            f"--pwfile={tmp_pw}", "-E", "UTF8", "--locale=C.UTF-8",
        ])
        tmp_pw.unlink(missing_ok=True)
        if res.returncode != 0:
            raise LocalDbError(f"initdb failed: {res.stderr.strip()}")
        conf = pgdata / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(
                "\n# kinga local cluster\nlisten_addresses = '127.0.0.1'\n"
                f"port = {settings.db_port}\nunix_socket_directories = '{pgdata}'\n"
                "max_connections = 200\nshared_buffers = '512MB'\nwork_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "max_wal_size = '2GB'\n"
            )
    if not _running(pgdata):
        res = _as_pg([
            str(pg_bin() / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata.parent / "postgres.log"),
            "-w", "-t", "60", "start",
        ])
        if res.returncode != 0:
            raise LocalDbError(f"pg_ctl start failed: {res.stderr.strip() or res.stdout.strip()}")
    ensure_database(url(settings, "postgres"), settings.db_name)
    return url(settings)


def ensure_database(admin_url: str, dbname: str, *, fresh: bool = False) -> None:
    import psycopg
    from psycopg import sql

    for attempt in range(30):
        try:
            conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
            break
        except psycopg.OperationalError:
            if attempt == 29:
                raise
            time.sleep(0.5)
    with conn:
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    target = admin_url.rsplit("/", 1)[0] + "/" + dbname
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def down(settings: Settings) -> None:
    pgdata = cluster_dir(settings)
    if (pgdata / "PG_VERSION").exists() and _running(pgdata):
        res = _as_pg([str(pg_bin() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"])
        if res.returncode != 0:
            raise LocalDbError(f"pg_ctl stop failed: {res.stderr.strip()}")


def resolve_url(settings: Settings) -> str:
    """The database URL the service uses: KINGA_DATABASE_URL, else the local cluster's."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return url(settings)
