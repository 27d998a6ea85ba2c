"""The map screen in French (Debian Chromium): layer labels, legends, notes, the time and filter
controls and the details panel come from the message files, and switch without a reload."""

from __future__ import annotations

import json
from typing import Any

from app.domain import Role
from app.settings import PROJECT_ROOT
from tests.browser.conftest import needs_chromium, sign_in, wait_layer

pytestmark = needs_chromium

MESSAGES = PROJECT_ROOT / "frontend" / "src" / "i18n"
LAYERS = ["forecast", "hotspots", "patrols", "saved-plans", "responses", "warnings", "bases", "incidents"]


def _labels(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#layer-list > li", "ls => ls.map(l => l.querySelector('label').textContent)"))


def test_layer_labels_and_map_controls_switch_to_french(
        live_server: str, page: Any, ucdp_events: int, role_token: Any) -> None:
    en = json.loads((MESSAGES / "en.json").read_text())
    fr = json.loads((MESSAGES / "fr.json").read_text())
    assert set(en) == set(fr)  # a language is a file with the same keys
    sign_in(page, live_server, role_token(Role.analyst))
    assert wait_layer(page, "hotspots") == "ok"
    order = page.eval_on_selector_all("#layer-list > li", "ls => ls.map(l => l.dataset.layer)")
    assert sorted(order) == sorted(LAYERS)
    assert _labels(page) == [en[f"layer.{k}"] for k in order]
    assert page.inner_text('[data-layer="hotspots"] .legend') .split("\n")[:2] == ["low", "medium"]

    page.select_option("#lang", "fr")
    assert _labels(page) == [fr[f"layer.{k}"] for k in order]
    assert "Points chauds par niveau de menace" in _labels(page)
    assert page.inner_text('[data-layer="hotspots"] .legend').split("\n")[:2] == ["faible", "moyen"]
    assert page.get_attribute('[data-layer="hotspots"] .legend', "aria-label") == \
        "Légende : Points chauds par niveau de menace"
    assert page.inner_text('[data-layer="hotspots"] .note').endswith("affichés")
    assert page.inner_text('#layers legend') == "Couches"
    assert page.inner_text('label[for="as-of"]') == "À la date du"
    assert page.inner_text("#play") == "Lecture ▶▶"
    assert page.get_attribute("#step-back", "aria-label") == fr["time.earlier_aria"]
    assert page.inner_text('#category option[value="killing"]') == "meurtre"
    # the details panel of the highest-threat cell
    page.click("#top-cells button")
    page.wait_for_selector("#panel:not([hidden]) [data-field='threat_score']")
    assert page.inner_text("#panel-title").startswith("Cellule ")
    assert "Score de menace" in page.inner_text("#panel-body")

    # and back, without a reload
    page.select_option("#lang", "en")
    assert _labels(page) == [en[f"layer.{k}"] for k in order]
    assert page.inner_text('[data-layer="hotspots"] .note').endswith("shown")
    assert page.log.errors == []
