"""Alert intake under load: 32 concurrent clients on loopback against a real uvicorn server.

    .venv/bin/python -m bench.bench_alerts [--seconds 20] [--clients 32] [--workers 1]

Own database (kinga_bench_alerts) seeded with the 1,848 real UCDP CAR events so triage has
incidents to match. Each client posts signed JSON alerts (unique Idempotency-Key, locations
resampled from the real events with ~5 km jitter) for a bounded time. Reported: accepted/s, p50,
p99; then every 2xx alert id is looked up in the database. Baselines measured in the same run:
(a) one sequential client posting the same alerts (no concurrency), (b) 32 clients on
GET /api/v1/health (the framework + one trivial query: the ceiling this server can reach),
(c) 32 clients on GET /api/v1/health/ping (one `SELECT 1` round trip, no token), measured just
before and just after the alert run; their mean is the ceiling the alert run is judged against.
Targets: issue 4 §6, >= 500 accepted/s with p99 <= 200 ms (absolute: the host's speed varies);
issue 11, as same-run ratios, alert throughput >= 90 % of the ping ceiling and alert p99 <=
1.2x the ping p99.

    .venv/bin/python -m bench.bench_alerts --rate 50 [--seconds 20] [--trigger-share 0.2]

Steady mode (issue 15): alerts posted at a fixed rate (not as fast as possible), a share of them
sexual-violence alerts, which the warning rules turn into a warning. Reported: for those alerts,
the time from the client sending the POST to the alert being on the duty queue (a committed
warning holding its id, seen by a poller every 0.1 s): p50/p95/max; in the same run, the full-
burst run above with its triage backlog and the time it took to clear.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import orjson
import psycopg

from app.services.alerts.integrations import sign
from app.settings import Settings
from bench.common import RESULTS, bench_database, real_events, write_result
from tests.support.server import free_port, served_app

CATEGORIES = [
    "threat_intimidation",
    "armed_group_presence",
    "killing",
    "looting_destruction",
    "displacement",
    "abduction",
    "injury",
]


async def create_integration(db_url: str, name: str) -> tuple[str, str]:
    from app.db import make_async_engine, make_sessionmaker
    from app.services.alerts import integrations

    settings = Settings(database_url=db_url, environment="test")
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            new = await integrations.create(
                session,
                name=name,
                formats=["json", "cap", "sms"],
                pepper=settings.token_pepper.get_secret_value(),
                actor="bench",
            )
    finally:
        await engine.dispose()
    return new.token, new.signing_secret


@contextmanager
def serve(db_url: str, *, workers: int = 1, pool_size: int = 20, triage_processes: int = 1):
    """uvicorn on a free loopback port against db_url; yields (base URL, process)."""
    port = free_port()
    with served_app(db_url, RESULTS / f"uvicorn-{port}.log", workers=workers, port=port,
                    env={"KINGA_POOL_SIZE": str(pool_size),
                         "KINGA_ALERT_TRIAGE_PROCESSES": str(triage_processes)}) as served:
        yield served


class AlertMaker:
    def __init__(self, token: str, secret: str, seed: int = 11) -> None:
        self.token, self.secret = token, secret
        self.rng = random.Random(seed)
        self.places = [(e["_lat"], e["_lon"]) for e in real_events()]
        self.base = datetime(2022, 6, 1, tzinfo=UTC)

    def make(self, n: int) -> tuple[str, bytes]:
        lat, lon = self.rng.choice(self.places)
        doc = {
            "latitude": round(lat + self.rng.gauss(0, 0.05), 5),
            "longitude": round(lon + self.rng.gauss(0, 0.05), 5),
            "text": f"Alert {n}: armed men reported near the village, people afraid",
            "category": self.rng.choice(CATEGORIES),
            "observed_at": (self.base + timedelta(hours=self.rng.uniform(0, 24 * 180))).isoformat(),
        }
        return str(uuid.uuid4()), orjson.dumps(doc)

    def headers(self, key: str, body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        return {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Kinga-Timestamp": ts,
            "X-Kinga-Signature": sign(self.secret, ts, body),
        }

    def raw_request(self, n: int, host: str) -> bytes:
        """One complete HTTP/1.1 request (signed, with its own key), built before timing starts."""
        key, body = self.make(n)
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers(key, body).items())
        return (
            f"POST /api/v1/alerts HTTP/1.1\r\nHost: {host}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants (uvicorn --workers N forks)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted, total, grew = {pid}, 0.0, True
    while grew:
        grew = False
        for p, (ppid, _) in stats.items():
            if ppid in wanted and p not in wanted:
                wanted.add(p)
                grew = True
    for p in wanted:
        total += stats.get(p, (0, 0.0))[1]
    return total


def client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes) -> tuple[int, bytes]:
    writer.write(req)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def load(
    base: str,
    maker: AlertMaker,
    *,
    clients: int,
    seconds: float,
    health: bool = False,
    get_path: str | None = None,
    server_pid: int | None = None,
    pool: int | None = None,
) -> dict[str, Any]:
    """`clients` keep-alive HTTP/1.1 connections on raw asyncio streams, each sending its next
    request as soon as the previous answer is read. Every request (body, key, signature) is
    built before the clock starts, so the generator spends its CPU on the socket only."""
    host, port = base.removeprefix("http://").split(":")
    pool = pool or max(2_000, int(seconds * 1_500))
    if health or get_path:
        health = True
        path = get_path or "/api/v1/health"
        reqs = [f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()] * pool
    else:
        reqs = [maker.raw_request(n, host) for n in range(pool)]
    lat: list[float] = []
    codes: dict[int, int] = {}
    bodies: list[bytes] = []
    nxt = iter(reqs)
    conns = [await asyncio.open_connection(host, int(port)) for _ in range(clients)]

    async def client_loop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clock = time.perf_counter
        for req in nxt:
            t0 = clock()
            if t0 >= deadline:
                break
            status, body = await _exchange(reader, writer, req)
            lat.append(clock() - t0)
            codes[status] = codes.get(status, 0) + 1
            if 200 <= status < 300 and not health:
                bodies.append(body)
        writer.close()

    cpu0, srv0 = client_cpu(), cpu_seconds(server_pid) if server_pid else 0.0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    await asyncio.gather(*(client_loop(r, w) for r, w in conns))
    elapsed = time.perf_counter() - t0
    cpu1, srv1 = client_cpu(), cpu_seconds(server_pid) if server_pid else 0.0
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    arr = np.asarray(lat) * 1000 if lat else np.zeros(1)
    n = max(len(lat), 1)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(lat),
        "accepted": ok,
        "accepted_per_s": round(ok / elapsed, 1),
        "codes": codes,
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "client_cpu_ms_per_req": round((cpu1 - cpu0) * 1000 / n, 3),
        "server_cpu_ms_per_req": round((srv1 - srv0) * 1000 / n, 3),
        "client_cpu_share": round((cpu1 - cpu0) / elapsed, 2),
        "server_cpu_share": round((srv1 - srv0) / elapsed, 2),
        "ids": [orjson.loads(b)["id"] for b in bodies],
    }


async def steady(base: str, maker: AlertMaker, db_url: str, *, rate: float, seconds: float,
                 trigger_share: float) -> dict[str, Any]:
    """Alerts at `rate` per second for `seconds`; for the rule-triggering ones, seconds from the
    POST leaving the client to a committed warning holding the alert (polled every 0.1 s)."""
    rng = random.Random(5)
    n_total = int(rate * seconds)
    plan = []
    for n in range(n_total):
        key, body = maker.make(n)
        trigger = rng.random() < trigger_share
        doc = orjson.loads(body)
        doc["observed_at"] = datetime.now(UTC).isoformat()
        if trigger:
            doc["category"] = "sexual_violence"
        elif doc["category"] == "sexual_violence":
            doc["category"] = "threat_intimidation"
        plan.append((key, orjson.dumps(doc), trigger))
    sent: dict[str, float] = {}
    codes: dict[int, int] = {}
    seen: dict[str, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as c:
            while True:
                rows = await (await c.execute("SELECT DISTINCT unnest(alert_ids)::text FROM warning")).fetchall()
                t = time.perf_counter()
                for (aid,) in rows:
                    seen.setdefault(aid, t)
                if done.is_set() and all(a in seen for a in sent):
                    return
                await asyncio.sleep(0.1)

    async with httpx.AsyncClient(base_url=base, timeout=30,
                                 limits=httpx.Limits(max_connections=16)) as client:
        async def post(key: str, body: bytes, trigger: bool) -> None:
            t = time.perf_counter()
            r = await client.post("/api/v1/alerts", content=body, headers=maker.headers(key, body))
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            if trigger and r.status_code in (200, 201, 202):
                sent[r.json()["id"]] = t

        watcher = asyncio.create_task(watch())
        t0 = time.perf_counter()
        tasks = []
        for i, (key, body, trigger) in enumerate(plan):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(key, body, trigger)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        done.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(watcher, timeout=120)
    lat = np.asarray([seen[a] - t for a, t in sent.items() if a in seen])
    return {"rate": rate, "seconds": round(elapsed, 1), "posted": n_total, "codes": codes,
            "achieved_per_s": round(n_total / elapsed, 1), "triggering": len(sent),
            "on_queue": int(sum(1 for a in sent if a in seen)),
            "p50_s": round(float(np.percentile(lat, 50)), 2) if len(lat) else None,
            "p95_s": round(float(np.percentile(lat, 95)), 2) if len(lat) else None,
            "max_s": round(float(lat.max()), 2) if len(lat) else None}


def seed(db_url: str) -> int:
    """The real CAR events as entered incidents (bench data only; the import pipeline is
    benchmarked elsewhere), each with one report, so triage has candidates to match."""
    from app.services.geo.h3cells import latlng_cell

    rows = []
    for e in real_events():
        when = datetime(2022, 6, 1, tzinfo=UTC) + timedelta(days=random.Random(e["id"]).uniform(0, 180))
        rows.append(
            (
                when,
                e["_lon"],
                e["_lat"],
                latlng_cell(e["_lat"], e["_lon"], 9),
                e.get("where_coordinates") or "",
                e.get("source_headline") or "",
            )
        )
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "WITH i AS (INSERT INTO incident (occurred_start, location, h3_cell, place_name, "
            "category, narrative, created_by, updated_by) VALUES (%s, ST_SetSRID(ST_MakePoint(%s, "
            "%s), 4326), %s, %s, 'killing', %s, 'bench', 'bench') RETURNING id) "
            "INSERT INTO report (incident_id, section, source_reliability, information_credibility, "
            "created_by) SELECT id, 'open_source', 'B', 2, 'bench' FROM i",
            rows,
        )
    return len(rows)


def triage_backlog(db_url: str, limit_s: float = 300) -> dict[str, Any]:
    """Alerts are triaged after the 201 (see docs/alerts.md): how many were still untriaged when
    the load stopped, and how long the server took to finish them."""
    t0 = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        left = first = conn.execute("SELECT count(*) FROM alert WHERE triage IS NULL").fetchone()[0]
        while left and time.perf_counter() - t0 < limit_s:
            time.sleep(0.2)
            left = conn.execute("SELECT count(*) FROM alert WHERE triage IS NULL").fetchone()[0]
        errors = conn.execute("SELECT count(*) FROM alert WHERE triage->>'action' = 'error'").fetchone()[0]
    return {"untriaged_at_end": first, "drained_s": round(time.perf_counter() - t0, 1),
            "still_untriaged": left, "triage_errors": errors}


def stored(db_url: str, ids: list[str]) -> int:
    with psycopg.connect(db_url) as conn:
        return int(
            conn.execute("SELECT count(*) FROM alert WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()[0]
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--pool", type=int, default=0, help="KINGA_POOL_SIZE per server process")
    ap.add_argument("--triage-processes", type=int, default=1,
                    help="KINGA_ALERT_TRIAGE_PROCESSES per server process")
    ap.add_argument("--rate", type=float, default=0,
                    help="steady mode: alerts per second (alert -> warning on the duty queue)")
    ap.add_argument("--trigger-share", type=float, default=0.2,
                    help="steady mode: share of alerts that trigger a warning rule")
    args = ap.parse_args()
    db_url = bench_database("kinga_bench_alerts")
    print(f"seeded {seed(db_url)} real incidents into kinga_bench_alerts", file=sys.stderr)
    token, secret = asyncio.run(create_integration(db_url, "bench"))
    maker = AlertMaker(token, secret)
    # Each server process gets a pool as large as its share of the clients (+4 for the health
    # check and slack): connections beyond the pool are opened and closed per request otherwise.
    pool = args.pool or -(-args.clients // args.workers) + 4
    print(f"server: {args.workers} worker(s), {args.triage_processes} triage process(es) each",
          file=sys.stderr)
    with serve(db_url, workers=args.workers, pool_size=pool,
               triage_processes=args.triage_processes) as (base, proc):
        pid = proc.pid
        asyncio.run(load(base, maker, clients=4, seconds=2))  # warm-up (pool, caches, gazetteer)
        triage_backlog(db_url)  # the warm-up's alerts triaged: no phase starts with its backlog
        steady_run = None
        if args.rate:
            steady_run = asyncio.run(steady(base, maker, db_url, rate=args.rate,
                                            seconds=args.seconds, trigger_share=args.trigger_share))
            triage_backlog(db_url)
        ping_s = min(args.seconds, 10)
        ping_before = asyncio.run(load(base, maker, clients=args.clients, seconds=ping_s,
                                       get_path="/api/v1/health/ping", server_pid=pid))
        main_run = asyncio.run(
            load(base, maker, clients=args.clients, seconds=args.seconds, server_pid=pid)
        )
        ping_after = asyncio.run(load(base, maker, clients=args.clients, seconds=ping_s,
                                      get_path="/api/v1/health/ping", server_pid=pid))
        backlog = triage_backlog(db_url)
        sequential = asyncio.run(
            load(base, maker, clients=1, seconds=min(args.seconds, 10), server_pid=pid)
        )
        health = asyncio.run(
            load(base, maker, clients=args.clients, seconds=min(args.seconds, 10), health=True,
                 server_pid=pid)
        )
    found = stored(db_url, main_run["ids"])
    rows = [
        ("32 clients, POST /alerts", main_run),
        ("baseline: 1 client, POST /alerts", sequential),
        ("ceiling: 32 clients, GET /health", health),
        ("ceiling: 32 clients, GET ping (before)", ping_before),
        ("ceiling: 32 clients, GET ping (after)", ping_after),
    ]
    print(f"\n{'run':36} {'ok/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
          f"{'cli cpu ms/req':>15} {'srv cpu ms/req':>15}  codes")
    for name, r in rows:
        print(
            f"{name:36} {r['accepted_per_s']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} "
            f"{r['requests']:>9} {r['client_cpu_ms_per_req']:>15} {r['server_cpu_ms_per_req']:>15}  "
            f"{r['codes']}"
        )
    print("CPU share of one core during the 32-client run: "
          f"client {main_run['client_cpu_share']}, server {main_run['server_cpu_share']}")
    print(f"\n2xx alerts found in the database: {found} / {len(main_run['ids'])}")
    print(
        f"triage after the 32-client run: {backlog['untriaged_at_end']} alerts still queued when the "
        f"load stopped, all triaged {backlog['drained_s']} s later "
        f"(left: {backlog['still_untriaged']}, errors: {backlog['triage_errors']})"
    )
    print(
        f"speed-up over one sequential client: "
        f"{main_run['accepted_per_s'] / max(sequential['accepted_per_s'], 0.1):.2f}x; "
        f"share of the /health ceiling: "
        f"{main_run['accepted_per_s'] / max(health['accepted_per_s'], 0.1):.0%}"
    )
    if steady_run is not None:
        print(f"\nsteady {steady_run['rate']}/s for {steady_run['seconds']} s "
              f"(achieved {steady_run['achieved_per_s']}/s, codes {steady_run['codes']}): "
              f"{steady_run['on_queue']}/{steady_run['triggering']} rule-triggering alerts on the "
              f"duty queue; POST -> warning p50 {steady_run['p50_s']} s, p95 {steady_run['p95_s']} s, "
              f"max {steady_run['max_s']} s (target p95 <= 5 s: "
              f"{'met' if (steady_run['p95_s'] or 99) <= 5 else 'NOT met'})")
    ping_tput = (ping_before["accepted_per_s"] + ping_after["accepted_per_s"]) / 2
    ping_p99 = (ping_before["p99_ms"] + ping_after["p99_ms"]) / 2
    tput_ratio = main_run["accepted_per_s"] / max(ping_tput, 0.1)
    p99_ratio = main_run["p99_ms"] / max(ping_p99, 0.1)
    ratio_target = tput_ratio >= 0.90 and p99_ratio <= 1.2
    print(f"against the SELECT 1 ceiling (mean of before/after: {ping_tput:.0f}/s, p99 "
          f"{ping_p99:.1f} ms): throughput {tput_ratio:.0%} (target >= 90 %), p99 "
          f"{p99_ratio:.2f}x (target <= 1.2x): {'met' if ratio_target else 'NOT met'}")
    target = main_run["accepted_per_s"] >= 500 and main_run["p99_ms"] <= 200
    print(
        f"target >= 500/s and p99 <= 200 ms: {'met' if target else 'NOT met'} "
        f"(workers={args.workers}, cores={os.cpu_count()})"
    )
    out = write_result(
        "bench_alerts",
        {
            "args": vars(args),
            "cores": os.cpu_count(),
            **{
                k: {kk: vv for kk, vv in r.items() if kk != "ids"}
                for k, r in (("concurrent", main_run), ("sequential", sequential), ("health", health),
                             ("ping_before", ping_before), ("ping_after", ping_after))
            },
            "ping_ratio": {"throughput": round(tput_ratio, 3), "p99": round(p99_ratio, 3),
                           "target_met": ratio_target},
            "stored": found,
            "steady": steady_run,
            "triage_backlog": backlog,
            "accepted": len(main_run["ids"]),
            "target_met": target,
        },
    )
    print(f"wrote {out}", file=sys.stderr)
    if found != len(main_run["ids"]):
        sys.exit("some accepted alerts are missing from the database")


if __name__ == "__main__":
    main()
