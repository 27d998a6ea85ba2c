"""Helpers for the workbench's browser tests: API calls beside the browser, sign-in, axe-core."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import sign_in

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"


def api(base: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{base}{path}", headers={"Authorization": f"Bearer {token}",
                                                          **kw.pop("headers", {})}, timeout=60, **kw)


def integration_token(base: str, admin_token: str) -> str:
    r = api(base, admin_token, "POST", "/api/v1/integrations",
            json={"name": f"can-{uuid.uuid4().hex[:8]}", "require_signature": False})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def open_screen(page: Any, base: str, token: str, screen: str) -> None:
    sign_in(page, base, token)
    page.click(f'[data-screen="{screen}"]')
    page.wait_for_selector(f"#screen-{screen}:not([hidden])")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (vendored from npm) on the visible screen: serious and critical violations."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("""async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
          .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    }""")
    return list(found)
