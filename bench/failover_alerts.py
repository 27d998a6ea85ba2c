"""Failover fault test: lose the primary's host under alert load; nothing lost, nothing doubled.

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.failover_alerts \
        [--seconds 60] [--kill-at 20] [--clients 32] [--workers 2]

A throwaway pg_auto_failover cluster (monitor, primary, synchronous standby: bench/ha_common.py),
migrated; the API served by uvicorn with KINGA_DATABASE_URL = the two nodes, target_session_attrs=
read-write. 32 clients post signed alerts, each with its own Idempotency-Key (and a unique marker in
its text), for --seconds; a client retries the same alert with the same key on 503 or a connection
error (after 0.5 s) until it gets a 2xx. At --kill-at seconds the primary's whole pg_autoctl
process group (keeper, postmaster, backends) is SIGKILLed, as when its host dies: it is not
restarted. pg_auto_failover promotes the standby (failure-detection timeouts: app/ha_cluster.py,
docs/scale-out.md).

Checks (all must hold): every alert answered 2xx is stored exactly once on the new primary (by id
and by marker; 0 lost, 0 duplicated); 0 answers of 500; the longest stretch with no successful
write <= 30 s; the same uvicorn processes serve again after the failover (no restart).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

import httpx
import psycopg

from app import ha_cluster
from bench.bench_alerts import AlertMaker, create_integration, serve
from bench.common import write_result
from bench.ha_common import throwaway_ha


async def load(base: str, maker: AlertMaker, lay: ha_cluster.Layout, args: argparse.Namespace
               ) -> dict[str, Any]:
    t0 = time.monotonic()
    log: dict[str, Any] = {"codes": {}, "acked": {}, "ok_times": [], "five_hundreds": [],
                           "no_retry_after": 0, "killed_at": None, "promoted_at": None}
    stop_at = t0 + args.seconds
    counter = iter(range(10**9))

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            n = next(counter)
            key, body = maker.make(n)
            marker = uuid.uuid4().hex[:12]
            body = body.replace(b"Alert ", f"Alert #{marker}# ".encode(), 1)
            while True:
                try:
                    r = await http.post(f"{base}/api/v1/alerts", content=body,
                                        headers=maker.headers(key, body))
                    code: int | str = r.status_code
                except httpx.HTTPError as exc:
                    code, r = type(exc).__name__, None
                log["codes"][code] = log["codes"].get(code, 0) + 1
                now = time.monotonic() - t0
                if r is not None and r.status_code in (200, 201):
                    log["acked"][marker] = r.json()["id"]
                    log["ok_times"].append(now)
                    break
                if code == 500:
                    log["five_hundreds"].append(round(now, 2))
                if r is not None and r.status_code == 503 and not r.headers.get("retry-after"):
                    log["no_retry_after"] += 1
                if time.monotonic() >= stop_at + 60:  # give up on this one (reported as unacked)
                    return
                await asyncio.sleep(0.5)

    async def chaos() -> None:
        primary = await asyncio.to_thread(ha_cluster.primary, lay)  # asked before, killed on time
        await asyncio.sleep(max(0.0, args.kill_at - (time.monotonic() - t0)))
        log["killed_node"] = primary
        pid = await asyncio.to_thread(ha_cluster.kill_node, lay, primary)
        log["killed_at"] = time.monotonic() - t0
        print(f"{log['killed_at']:.1f} s: SIGKILL process group {pid} ({primary}, the primary)",
              file=sys.stderr)
        other = next(n for n in ha_cluster.NODES if n != primary)
        while time.monotonic() < stop_at + 60:
            if ha_cluster.roles(lay).get(other) in ("wait_primary", "primary"):
                log["promoted_at"] = time.monotonic() - t0
                print(f"{log['promoted_at']:.1f} s: {other} promoted", file=sys.stderr)
                return
            await asyncio.sleep(0.25)

    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(chaos(), *(client(http) for _ in range(args.clients)))
    log["elapsed_s"] = round(time.monotonic() - t0, 1)
    return log


def gaps(times: list[float], killed_at: float | None) -> tuple[float, float]:
    """Longest stretch with no successful write: in the whole run, and after the kill (requests
    already past the database when it died still answer for a moment: the write gap opens then)."""
    ts = sorted(times)
    longest, after_kill = 0.0, 0.0
    for a, b in zip(ts, ts[1:], strict=False):
        longest = max(longest, b - a)
        if killed_at is not None and b >= killed_at:
            after_kill = max(after_kill, b - a)
    return round(longest, 2), round(after_kill, 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--kill-at", type=float, default=20)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-gap", type=float, default=30)
    args = ap.parse_args()
    with throwaway_ha("kinga_failover") as lay:
        writer = ha_cluster.writer_url(lay)
        token, secret = asyncio.run(create_integration(writer, "failover"))
        maker = AlertMaker(token, secret, seed=20)
        pool = -(-args.clients // args.workers) + 4
        with serve(writer, workers=args.workers, pool_size=pool) as (base, proc):
            log = asyncio.run(load(base, maker, lay, args))
            after = httpx.get(f"{base}/api/v1/health", timeout=10)
            same_server = proc.poll() is None
        with psycopg.connect(writer) as conn:
            new_primary_port = conn.execute("SELECT inet_server_port()").fetchone()[0]
            rows = conn.execute("SELECT id::text, substring(text from '#([0-9a-f]+)#') FROM alert").fetchall()
            keys = conn.execute("SELECT count(*) FROM idempotency_key").fetchone()[0]
        by_marker: dict[str, list[str]] = {}
        for aid, marker in rows:
            by_marker.setdefault(marker, []).append(aid)
        acked = log["acked"]
        lost = [m for m, aid in acked.items() if aid not in by_marker.get(m, [])]
        duplicated = [m for m, ids in by_marker.items() if len(ids) > 1]
        longest, around_kill = gaps(log["ok_times"], log["killed_at"])
        after_kill = sum(1 for t in log["ok_times"] if log["killed_at"] and t > log["killed_at"])
        ok = (not lost and not duplicated and not log["five_hundreds"] and log["no_retry_after"] == 0
              and around_kill <= args.max_gap and longest <= args.max_gap and after_kill > 0
              and same_server and after.status_code == 200
              and new_primary_port == lay.port(next(n for n in ha_cluster.NODES if n != log["killed_node"])))
        print(f"\nalerts acknowledged (2xx) {len(acked)}; stored rows {len(rows)} (distinct markers "
              f"{len(by_marker)}, idempotency keys {keys}); lost {len(lost)}, duplicated {len(duplicated)}")
        print(f"primary killed at {log['killed_at']:.1f} s, standby promoted at "
              f"{log['promoted_at'] or float('nan'):.1f} s; write gap across the failover {around_kill} s "
              f"(longest in the run {longest} s; limit {args.max_gap} s)")
        print(f"answers: {log['codes']}; 500s {len(log['five_hundreds'])}; 503 without Retry-After "
              f"{log['no_retry_after']}; 2xx after the failover {after_kill}")
        print(f"same uvicorn processes throughout: {same_server}; health afterwards {after.status_code}, "
              f"writer now port {new_primary_port}")
        print("failover test:", "PASSED" if ok else "FAILED")
        write_result("failover_alerts", {
            "args": vars(args), "acked": len(acked), "stored": len(rows), "markers": len(by_marker),
            "idempotency_keys": keys, "lost": len(lost), "duplicated": len(duplicated),
            "codes": log["codes"], "five_hundreds": log["five_hundreds"],
            "no_retry_after": log["no_retry_after"], "killed_at": log["killed_at"],
            "promoted_at": log["promoted_at"], "gap_across_failover_s": around_kill,
            "longest_gap_s": longest, "ok_after_failover": after_kill, "same_server": same_server,
            "monitor_tuning": ha_cluster.MONITOR_TUNING, "keeper_tuning": ha_cluster.KEEPER_TUNING,
            "passed": ok})
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
