"""Access hardening (issue 11), measured against the code before it in the same run:

    flock /tmp/kinga-bench.lock .venv/bin/python -m bench.bench_access [--seconds 8] [--rounds 2]
        [--baseline REF] [--trials 8]

1. Alert intake: 32 keep-alive clients posting signed alerts (bench_alerts' generator) to one
   uvicorn process of the baseline tree (`git archive REF`, default: the merge base with main)
   and of this tree, alternated for `--rounds` rounds on one database: accepted/s and p99, and
   their ratio. What changed on the request path: the token's expiry check, the batched
   last-use write (at most once a minute per token and process), the rate limiter's lookup
   (no database work without a configured limit), reporter-contact encryption (none in these
   alerts) and the revocation-aware integration cache.
2. Revocation across processes: two server processes A and B; an integration's token is cached in
   B (it has posted), then revoked through A; a client posting to B in a loop records the time
   from A's answer to B's first 401. Baseline: the same with the baseline tree (revoke through
   `POST /api/v1/integrations/{name}/revoke`; B learns it when its 5 s cache entry expires).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from app.cli.support import create_token
from app.domain import Role
from app.services.alerts.integrations import sign
from app.settings import PROJECT_ROOT, Settings
from bench.bench_alerts import AlertMaker, create_integration, load, seed
from bench.common import RESULTS, bench_database, write_result
from tests.support.server import free_port, served_app


def baseline_tree(ref: str, into: Path) -> Path:
    """The project at `ref`, extracted (no worktree, nothing changed in the repository)."""
    archive = into / "base.tar"
    subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", "-o", str(archive), ref],  # noqa: S607
                   check=True)
    root = into / "base"
    root.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return root


@contextmanager
def serve(root: Path, db_url: str, *, pool_size: int = 36, extra_env: dict[str, str] | None = None):
    """One uvicorn process of the tree at `root` (its `app` package comes first on sys.path)."""
    port = free_port()
    env = {"KINGA_POOL_SIZE": str(pool_size), **(extra_env or {})}
    with served_app(db_url, RESULTS / f"uvicorn-access-{port}.log", env=env, port=port,
                    cwd=root) as served:
        yield served


def intake(trees: dict[str, Path], db_url: str, maker: AlertMaker, *, rounds: int,
           seconds: float) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, root in trees.items():
            with serve(root, db_url) as (base, proc):
                asyncio.run(load(base, maker, clients=4, seconds=2))  # warm-up
                r = asyncio.run(load(base, maker, clients=32, seconds=seconds,
                                     server_pid=proc.pid))
                r.pop("ids")
                runs[name].append(r)
                print(f"  {name:9} {r['accepted_per_s']:>8}/s  p99 {r['p99_ms']:>6} ms  "
                      f"{r['codes']}", file=sys.stderr)
    return runs


async def _revocation_trial(a: str, b: str, admin: str, db_url: str, n: int, new_api: bool
                            ) -> float:
    token, secret = await create_integration(db_url, f"rev-{n}-{'new' if new_api else 'old'}")
    body = orjson.dumps({"text": "armed men near the market", "latitude": 4.39,
                         "longitude": 18.56})

    def headers() -> dict[str, str]:
        ts = str(int(time.time()))
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "X-Kinga-Timestamp": ts, "X-Kinga-Signature": sign(secret, ts, body)}

    async with httpx.AsyncClient(timeout=10) as c:
        for _ in range(3):  # B has looked the token up and cached it
            r = await c.post(f"{b}/api/v1/alerts", content=body, headers=headers())
            assert r.status_code == 201, r.text
        adm = {"Authorization": f"Bearer {admin}"}
        if new_api:
            listed = (await c.get(f"{a}/api/v1/tokens", headers=adm)).json()["items"]
            tid = next(t["id"] for t in listed if t["name"] == f"integration:rev-{n}-new")
            r = await c.delete(f"{a}/api/v1/tokens/{tid}", headers=adm)
        else:
            r = await c.post(f"{a}/api/v1/integrations/rev-{n}-old/revoke", headers=adm)
        assert r.status_code == 200, r.text
        revoked = time.perf_counter()
        while time.perf_counter() - revoked < 30:
            r = await c.post(f"{b}/api/v1/alerts", content=body, headers=headers())
            if r.status_code == 401:
                return time.perf_counter() - revoked
        raise RuntimeError("B never refused the revoked token")


def revocation(trees: dict[str, Path], db_url: str, admin: str, trials: int
               ) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, root in trees.items():
        out[name] = []
        with serve(root, db_url, pool_size=8) as (a, _), serve(root, db_url, pool_size=8) as (b, _):
            time.sleep(1.0)  # B's listener connects at start-up
            for n in range(trials):
                out[name].append(asyncio.run(_revocation_trial(
                    a, b, admin, db_url, n, new_api=name == "current")))
        print(f"  {name:9} revoked -> refused on the other process: "
              f"{', '.join(f'{x * 1000:.0f}' for x in out[name])} ms", file=sys.stderr)
    return out


def merge_base() -> str:
    return subprocess.run(["git", "-C", str(PROJECT_ROOT), "merge-base", "HEAD", "main"],  # noqa: S607
                          check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--baseline", default=None, help="git ref of the code before (default: the "
                                                      "merge base with main)")
    args = ap.parse_args()
    ref = args.baseline or merge_base()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"baseline": baseline_tree(ref, Path(tmp)), "current": PROJECT_ROOT}
        db_url = bench_database("kinga_bench_access")
        print(f"seeded {seed(db_url)} incidents; baseline {ref[:12]}", file=sys.stderr)
        token, secret = asyncio.run(create_integration(db_url, "bench"))
        maker = AlertMaker(token, secret)
        print("alert intake, 32 clients (alternating):", file=sys.stderr)
        runs = intake(trees, db_url, maker, rounds=args.rounds, seconds=args.seconds)
        admin = create_token(Settings(database_url=db_url, environment="test"), Role.admin,
                             "bench-admin")
        print("revocation across two processes:", file=sys.stderr)
        rev = revocation(trees, db_url, admin, args.trials)
    summary: dict[str, Any] = {"baseline_ref": ref, "args": vars(args), "cores": os.cpu_count()}
    for name, rs in runs.items():
        summary[name] = {"accepted_per_s": statistics.median(r["accepted_per_s"] for r in rs),
                         "p99_ms": statistics.median(r["p99_ms"] for r in rs), "runs": rs}
    ratio = summary["current"]["accepted_per_s"] / max(summary["baseline"]["accepted_per_s"], 0.1)
    p99_ratio = summary["current"]["p99_ms"] / max(summary["baseline"]["p99_ms"], 0.1)
    summary["throughput_ratio"], summary["p99_ratio"] = round(ratio, 3), round(p99_ratio, 3)
    summary["revocation_s"] = {name: {"median": round(statistics.median(v), 3),
                                      "max": round(max(v), 3), "all": [round(x, 3) for x in v]}
                               for name, v in rev.items()}
    print(f"\nintake (median of {args.rounds} rounds of {args.seconds:.0f} s, 32 clients, one "
          f"process): baseline {summary['baseline']['accepted_per_s']}/s p99 "
          f"{summary['baseline']['p99_ms']} ms; current {summary['current']['accepted_per_s']}/s "
          f"p99 {summary['current']['p99_ms']} ms; throughput ratio {ratio:.2f}, p99 ratio "
          f"{p99_ratio:.2f}")
    for name, v in summary["revocation_s"].items():
        print(f"revocation heard by the other process ({name}): median {v['median'] * 1000:.0f} ms,"
              f" max {v['max'] * 1000:.0f} ms over {len(v['all'])} trials")
    print(f"wrote {write_result('bench_access', summary)}", file=sys.stderr)


if __name__ == "__main__":
    main()
