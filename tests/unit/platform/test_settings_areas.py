"""Settings are grouped by area; the environment variables users set are the same as before."""

from __future__ import annotations

from collections import Counter

import pytest

from app.cli.configuration import markdown
from app.settings import AREAS, PROJECT_ROOT, Settings, ThreatSettings


def test_every_setting_belongs_to_exactly_one_area():
    counts = Counter(f for cls in AREAS.values() for f in cls.model_fields)
    assert [f for f, n in counts.items() if n > 1] == []
    assert set(counts) == set(Settings.model_fields)


def test_the_configuration_reference_lists_every_setting_as_generated():
    doc = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    assert doc == markdown(), "regenerate: kinga settings --markdown > docs/configuration.md"
    for field in Settings.model_fields:
        assert f"`KINGA_{field.upper()}`" in doc


def test_an_area_reads_the_same_variable_as_the_whole(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KINGA_THREAT_DECAY_SCALE_DAYS", "45")
    monkeypatch.setenv("KINGA_PATROL_RES", "8")
    assert ThreatSettings().threat_decay_scale_days == 45
    whole = Settings()
    assert whole.threat_decay_scale_days == 45 and whole.patrol_res == 8


def test_older_cache_name_still_works(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KINGA_LAYER_CACHE_MB", raising=False)
    monkeypatch.setenv("KINGA_HOTSPOT_CACHE_MB", "64")
    assert Settings().layer_cache_mb == 64
    monkeypatch.setenv("KINGA_LAYER_CACHE_MB", "32")
    assert Settings().layer_cache_mb == 32
