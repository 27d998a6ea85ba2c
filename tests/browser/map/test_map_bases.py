"""Bases with their reach rings, the reach endpoint behind them, and the patrol-plan layer."""

from __future__ import annotations

import math
from typing import Any

import httpx

from app.domain import Role
from tests.browser.conftest import needs_chromium, sign_in, wait_layer

AS_OF = "2022-12-30"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_reach_endpoint_follows_the_role_and_refuses_bad_dates(
        live_server: str, minusca_bases: int, role_token: Any) -> None:
    url = f"{live_server}/api/v1/map/reach"
    ops = httpx.get(url, params={"as_of": AS_OF}, headers=_bearer(role_token(Role.operations)))
    assert ops.status_code == 200
    reach = ops.json()["bases"]
    bases = httpx.get(f"{live_server}/api/v1/bases", params={"as_of": AS_OF},
                      headers=_bearer(role_token(Role.operations))).json()["items"]
    assert reach and set(reach) <= {b["id"] for b in bases}
    assert all(0 < km < 500 for modes in reach.values() for km in modes.values())
    assert all(set(modes) <= {"road", "foot"} for modes in reach.values())
    # the rainy season shrinks road reach (CAR: May-October)
    wet = httpx.get(url, params={"as_of": "2022-07-15"},
                    headers=_bearer(role_token(Role.operations))).json()["bases"]
    common = [k for k in reach if k in wet and "road" in reach[k] and "road" in wet[k]]
    assert common and all(wet[k]["road"] < reach[k]["road"] for k in common)
    partner = httpx.get(url, params={"as_of": AS_OF}, headers=_bearer(role_token(Role.partner)))
    assert partner.status_code == 200 and partner.json()["bases"] == {}
    bad = httpx.get(url, params={"as_of": "2022-13-45"},
                    headers=_bearer(role_token(Role.operations)))
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(url, headers=_bearer(role_token(Role.integration))).status_code == 403
    assert httpx.get(url).status_code == 401


@needs_chromium
def test_bases_draw_reach_rings_and_the_patrol_plan_layer_loads(
        live_server: str, page: Any, ucdp_events: int, minusca_bases: int,
        role_token: Any) -> None:
    token = role_token(Role.operations)
    sign_in(page, live_server, token)
    assert wait_layer(page, "bases") == "ok"
    reach = httpx.get(f"{live_server}/api/v1/map/reach", params={"as_of": AS_OF},
                      headers=_bearer(token)).json()["bases"]
    rings = page.evaluate("""kinga.state.data.bases.features
        .filter(f => f.geometry.type === 'Polygon')
        .map(f => [f.properties.ring_of, f.properties.reach_km, f.geometry.coordinates[0]])""")
    points = page.evaluate("""Object.fromEntries(kinga.state.data.bases.features
        .filter(f => f.geometry.type === 'Point').map(f => [f.id, f.geometry.coordinates]))""")
    assert len(rings) == len(reach)
    for base_id, km, ring in rings:
        assert km == max(reach[base_id].values())
        lon0, lat0 = points[base_id]
        assert ring[0] == ring[-1]
        for lon, lat in ring[:-1:8]:  # every vertex is `km` from the base (haversine)
            p1, p2 = math.radians(lat0), math.radians(lat)
            a = (math.sin((p2 - p1) / 2) ** 2
                 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon - lon0) / 2) ** 2)
            assert abs(2 * 6371.0088 * math.asin(math.sqrt(a)) - km) < 0.01 * km

    page.check("#layer-patrols")
    assert wait_layer(page, "patrols") == "ok", page.text_content("#note-patrols")
    effects = page.evaluate("kinga.state.data.patrols.features.map(f => f.properties.desired_effect)")
    assert effects and all(isinstance(e, str) for e in effects)
    assert page.log.errors == []
