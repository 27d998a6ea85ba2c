"""The shape docs/architecture.md promises: one lifespan owns background work; routers and
services start none of it. (The import layers themselves are checked by `lint-imports`.)"""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import PROJECT_ROOT

APP = PROJECT_ROOT / "app"


def _sources(*folders: str) -> list[Path]:
    return [p for f in folders for p in (APP / f).rglob("*.py")]


def test_only_the_app_factory_touches_the_lifespan():
    offenders = [p for p in APP.rglob("*.py")
                 if "lifespan_context" in p.read_text() and p != APP / "main.py"]
    assert offenders == []


def test_routers_and_services_start_no_background_work():
    pattern = re.compile(r"create_task\(|threading\.Thread\(|BackgroundTasks|add_task\(")
    offenders = [str(p.relative_to(APP)) for p in _sources("api", "services")
                 if pattern.search(p.read_text())]
    assert offenders == []


def test_every_scheduled_job_has_a_unique_name_and_a_positive_interval():
    from app.settings import Settings
    from app.workers.scheduler import JOBS

    names = [j.name for j in JOBS]
    assert len(names) == len(set(names)) and names
    assert all(j.every_s(Settings()) > 0 for j in JOBS)
