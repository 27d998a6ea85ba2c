"""Fault test: stop PostgreSQL mid-load, restart it, and check that nothing is lost or doubled.

    .venv/bin/python -m bench.fault_alerts [--alerts 3000] [--clients 8] [--down 4]

Never touches the shared cluster: it initialises a throwaway PostgreSQL + PostGIS cluster of its
own (app.localdb with a temporary data_dir and a free port), migrates it, serves the API against
it with uvicorn, and runs clients that post signed alerts, each with its own Idempotency-Key,
retrying on 503 / connection errors until they get a 201. Meanwhile the cluster is stopped
(pg_ctl -m immediate: a crash) for --down seconds and started again.

Checks: while the database is down the API answers 503 (problem+json), never 500; after the
restart every alert is stored exactly once (alert rows = idempotency keys = alerts sent, and
every alert's unique marker appears once).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from alembic import command
from alembic.config import Config

from app import localdb
from app.db import libpq_url
from app.settings import PROJECT_ROOT, Settings
from bench.bench_alerts import AlertMaker, create_integration, free_port, serve, triage_backlog
from bench.common import write_result


def throwaway_cluster(tmp: Path) -> tuple[Settings, str]:
    settings = Settings(data_dir=tmp, db_port=free_port(), db_name="kinga_fault")
    url = localdb.up(settings)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.cmd_opts = type("Opts", (), {"x": [f"url={url}"]})()  # type: ignore[assignment]
    command.upgrade(cfg, "heads")
    return settings, url


async def run_clients(base: str, maker: AlertMaker, n_alerts: int, clients: int, log: dict[str, Any]) -> None:
    queue: asyncio.Queue[tuple[int, str, bytes]] = asyncio.Queue()
    for i in range(n_alerts):
        key, body = maker.make(i)
        queue.put_nowait((i, key, body.replace(b"Alert ", f"Alert #{i}# ".encode())))

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            i, key, body = queue.get_nowait()
            while True:
                t = time.perf_counter() - log["t0"]
                try:
                    r = await http.post(
                        f"{base}/api/v1/alerts", content=body, headers=maker.headers(key, body)
                    )
                    code: int | str = r.status_code
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                log["codes"][code] = log["codes"].get(code, 0) + 1
                if log["down"] and isinstance(code, int):
                    log["while_down"][code] = log["while_down"].get(code, 0) + 1
                if code == 500:
                    log["five_hundreds"].append(round(t, 2))
                if code == 201:
                    log["done"] += 1
                    break
                await asyncio.sleep(0.2)  # client backoff before retrying with the same key

    async with httpx.AsyncClient(timeout=15) as http:
        await asyncio.gather(*(worker(http) for _ in range(clients)))


def stop(settings: Settings, mode: str = "immediate") -> None:
    """Stop the throwaway cluster; `immediate` is a crash (no shutdown checkpoint), as when a
    database host dies, and recovery replays the WAL on restart."""
    pgdata = localdb.cluster_dir(settings)
    res = localdb._as_pg(
        [str(localdb.pg_bin() / "pg_ctl"), "-D", str(pgdata), "-m", mode, "-w", "-t", "60", "stop"]
    )
    if res.returncode != 0 and "not running" not in (res.stderr or ""):
        raise localdb.LocalDbError(f"pg_ctl stop failed: {res.stderr.strip()}")


async def chaos(settings: Settings, log: dict[str, Any], after: float, down_s: float) -> None:
    await asyncio.sleep(after)
    log["stopped_at_done"] = log["done"]
    print(f"stopping PostgreSQL after {log['done']} alerts", file=sys.stderr)
    await asyncio.to_thread(stop, settings)
    log["down"] = True
    t = time.perf_counter()
    await asyncio.sleep(down_s)
    log["down"] = False
    print("starting PostgreSQL again", file=sys.stderr)
    await asyncio.to_thread(localdb.up, settings)
    print(f"PostgreSQL back; {log['done']} alerts stored so far", file=sys.stderr)
    log["outage_s"] = round(time.perf_counter() - t, 2)


async def scenario(
    base: str, maker: AlertMaker, settings: Settings, args: argparse.Namespace
) -> dict[str, Any]:
    log: dict[str, Any] = {
        "codes": {},
        "while_down": {},
        "five_hundreds": [],
        "done": 0,
        "down": False,
        "t0": time.perf_counter(),
    }
    await asyncio.gather(
        run_clients(base, maker, args.alerts, args.clients, log), chaos(settings, log, args.after, args.down)
    )
    log["elapsed_s"] = round(time.perf_counter() - log.pop("t0"), 2)
    return log


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--after", type=float, default=2.0, help="seconds of load before the stop")
    ap.add_argument("--down", type=float, default=4.0, help="seconds the database stays down")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kinga-fault-"))
    settings = None
    try:
        t = time.perf_counter()
        settings, url = throwaway_cluster(tmp)
        print(
            f"throwaway cluster on port {settings.db_port} ready in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        token, secret = asyncio.run(create_integration(url, "fault"))
        print("integration created; starting uvicorn", file=sys.stderr)
        maker = AlertMaker(token, secret, seed=5)
        with serve(url, pool_size=10) as (base, _):
            log = asyncio.run(scenario(base, maker, settings, args))
            backlog = triage_backlog(libpq_url(url), limit_s=120)  # triage resumed after the outage
        with psycopg.connect(libpq_url(url)) as conn:
            alerts, keys, markers = conn.execute(
                "SELECT (SELECT count(*) FROM alert), (SELECT count(*) FROM idempotency_key), "
                "(SELECT count(DISTINCT substring(text from '#[0-9]+#')) FROM alert)"
            ).fetchone()
        ok = (
            alerts == keys == markers == args.alerts
            and not log["five_hundreds"]
            and log["while_down"].get(503, 0) > 0
            and backlog["still_untriaged"] == 0
        )
        print(
            f"\nalerts sent {args.alerts}, stored {alerts}, idempotency keys {keys}, "
            f"distinct markers {markers}"
        )
        print(
            f"outage {log.get('outage_s')} s after {log.get('stopped_at_done')} alerts; "
            f"answers while down: {log['while_down']}"
        )
        print(f"all answers: {log['codes']}; 500s: {len(log['five_hundreds'])}; total {log['elapsed_s']} s")
        print(
            f"triage: {backlog['untriaged_at_end']} queued at the end of the load, done "
            f"{backlog['drained_s']} s later; untriaged left {backlog['still_untriaged']}, "
            f"errors {backlog['triage_errors']}"
        )
        print("fault test:", "PASSED (503 while down, every alert exactly once)" if ok else "FAILED")
        write_result(
            "fault_alerts",
            {"args": vars(args), **log, "triage": backlog, "stored": alerts, "keys": keys, "markers": markers, "passed": ok},
        )
        if not ok:
            sys.exit(1)
    finally:
        if settings is not None:
            try:
                stop(settings)
            except localdb.LocalDbError as exc:
                print(f"could not stop the throwaway cluster: {exc}", file=sys.stderr)
            pgdata = localdb.cluster_dir(settings)
            if not pgdata.is_relative_to(tmp):  # localdb fell back to /var/tmp/kinga-<key>
                shutil.rmtree(pgdata.parent, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
