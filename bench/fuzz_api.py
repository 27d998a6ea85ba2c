"""Schemathesis over every operation, outside CI: at least 30 examples per operation (examples,
coverage and fuzzing phases, fixed seed), as admin and as analyst, plus alert intake as an
integration, against the real service serving the bundled real data.

    .venv/bin/python -m bench.fuzz_api [--examples 30] [--seed 11]

Own database (kinga_bench_fuzz, or --database NAME): created afresh, migrated, then `kinga seed` (the 1,848 UCDP CAR events and the
Geo-PKO bases). Checks: no 5xx (not_a_server_error) and every response matches its documented
schema (response_schema_conformance). The CI-sized run of the same is tests/api/platform/
test_fuzz.py. Prints one row per run and writes bench/results/fuzz_api.json; exits non-zero on
any server error or schema violation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.support import create_token
from app.domain import Role
from app.settings import PROJECT_ROOT, Settings
from bench.common import RESULTS, bench_database, write_result
from tests.support.server import served_app

ALERT_INTAKE = "post_alert_api_v1_alerts_post"
BIN = Path(sys.executable).parent


async def unsigned_integration(db_url: str) -> str:
    from app.db import make_async_engine, make_sessionmaker
    from app.services.alerts import integrations

    settings = Settings(database_url=db_url, environment="test")
    engine = make_async_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            new = await integrations.create(
                session, name="fuzz", formats=["json", "cap", "sms"],
                pepper=settings.token_pepper.get_secret_value(), actor="bench",
                require_signature=False)
    finally:
        await engine.dispose()
    return new.token


def seed(db_url: str) -> None:
    env = {**os.environ, "KINGA_DATABASE_URL": db_url, "KINGA_ENVIRONMENT": "test"}
    subprocess.run([str(BIN / "kinga"), "seed"], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                   check=True, stdout=subprocess.DEVNULL)


def schemathesis(base: str, token: str, *, examples: int, seed_: int, only: str | None,
                 exclude: str | None, label: str) -> dict[str, Any]:
    report_dir = RESULTS / f"fuzz-{label}"
    argv = [str(BIN / "schemathesis"), "run", f"{base}/openapi.json", "--no-color",
            "-H", f"Authorization: Bearer {token}",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--phases", "examples,coverage,fuzzing", "-n", str(examples), "--seed", str(seed_),
            "--workers", "1", "--request-timeout", "120", "--no-shrink",
            "--report", "junit", "--report-dir", str(report_dir)]
    if only:
        argv += ["--include-operation-id", only]
    if exclude:
        argv += ["--exclude-operation-id", exclude]
    t0 = time.perf_counter()
    out = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True)  # noqa: S603
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    (RESULTS / f"fuzz-{label}.txt").write_text(text)

    def count(pattern: str) -> int:
        m = re.search(pattern, text)
        return int(m.group(1)) if m else 0

    return {
        "run": label, "operations": count(r"Tested: (\d+)"), "cases": count(r"(\d+) generated"),
        "server_errors": count(r"Server error: (\d+)"),
        "schema_violations": count(r"Response violates schema: (\d+)"),
        "other_failures": count(r"found (\d+) unique failures?") - count(r"Server error: (\d+)")
        - count(r"Response violates schema: (\d+)"),
        "errored": count(r"(\d+) errored"), "seconds": round(time.perf_counter() - t0, 1),
        "exit": out.returncode,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=30)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--database", default="kinga_bench_fuzz",
                    help="database to create afresh, migrate and seed (dropped if it exists)")
    args = ap.parse_args()
    db_url = bench_database(args.database)
    seed(db_url)
    settings = Settings(database_url=db_url, environment="test")
    tokens = {r: create_token(settings, r, f"fuzz-{r.value}") for r in (Role.admin, Role.analyst)}
    integration = asyncio.run(unsigned_integration(db_url))
    runs = []
    with served_app(db_url, RESULTS / "fuzz-uvicorn.log") as (base, _proc):
        for role, token in tokens.items():
            runs.append(schemathesis(base, token, examples=args.examples, seed_=args.seed,
                                     only=None, exclude=ALERT_INTAKE, label=role.value))
        runs.append(schemathesis(base, integration, examples=args.examples, seed_=args.seed,
                                 only=ALERT_INTAKE, exclude=None, label="integration"))
    print(f"\n{'run':12} {'operations':>10} {'cases':>7} {'5xx':>5} {'schema':>7} {'other':>6} "
          f"{'errored':>8} {'seconds':>8}")
    for r in runs:
        print(f"{r['run']:12} {r['operations']:>10} {r['cases']:>7} {r['server_errors']:>5} "
              f"{r['schema_violations']:>7} {r['other_failures']:>6} {r['errored']:>8} "
              f"{r['seconds']:>8}")
    out = write_result("fuzz_api", {"args": vars(args), "runs": runs})
    print(f"wrote {out}; full output in {RESULTS}/fuzz-<run>.txt", file=sys.stderr)
    if any(r["server_errors"] or r["schema_violations"] for r in runs):
        sys.exit("server errors or schema violations found")


if __name__ == "__main__":
    main()
