"""The real data sets that may not be bundled (ACLED): read from the shared data directory
(KINGA_SHARED_DATA, or ../shared/data beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT


def shared_file(name: str) -> Path:
    candidates = [Path(os.environ["KINGA_SHARED_DATA"])] if os.environ.get("KINGA_SHARED_DATA") else []
    candidates += [PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT.parent.parent / "shared" / "data"]
    for d in candidates:
        if (d / name).exists():
            return d / name
    pytest.skip(f"{name} is not in the shared data directory")
