"""The shared real data sets (../shared/data beside the checkout; KINGA_SHARED_DATA overrides).
Tests that read them skip when the folder is absent (a clone without the shared data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.settings import PROJECT_ROOT


def shared_data() -> Path:
    for candidate in (os.environ.get("KINGA_SHARED_DATA"), PROJECT_ROOT.parent / "shared" / "data",
                      PROJECT_ROOT.parent.parent / "shared" / "data", "/work/shared/data"):
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    pytest.skip("the shared data folder (../shared/data) is not available")


def shared_file(name: str) -> Path:
    path = shared_data() / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared data folder")
    return path
