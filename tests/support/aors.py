"""A small mission with sectors, field offices and bases around Bambari, for the tests of
ownership by area of responsibility, need to know and patrol de-confliction."""

from __future__ import annotations

from typing import Any

from tests.support.loop import make_base


def box(x1: float, y1: float, x2: float, y2: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


MISSION = {"code": "unx", "name": "UN Example", "area": box(18, 3, 23, 8),
           "timezone": "Africa/Bangui", "languages": ["en"]}
AORS = [
    {"name": "Sector West", "kind": "sector", "area": box(18, 3, 20, 8)},
    {"name": "Sector East", "kind": "sector", "area": box(20, 3, 23, 8)},
    {"name": "FO One", "kind": "field_office", "parent": "Sector East", "area": box(20, 5, 21, 8)},
    {"name": "FO Two", "kind": "field_office", "parent": "Sector East", "area": box(21, 5, 23, 8)},
]
# (lat, lon): in FO Two but nearer Camp One (FO One's base) than Camp Two (FO Two's)
IN_FO_TWO = (6.0, 21.1)
IN_FO_ONE = (6.0, 20.5)
ONLY_SECTOR_EAST = (4.0, 21.0)
SECTOR_WEST = (5.0, 19.0)  # an AOR without a base of its own
OUTSIDE = (10.0, 25.0)  # in no AOR (outside the mission)
CAMP_ONE = (5.76, 20.67)
CAMP_TWO = (6.0, 22.5)


async def make_mission(client: Any, auth: Any, **over: Any) -> dict[str, str]:
    """The mission, its AORs and one base per field office; returns AOR ids by name."""
    r = await client.post("/api/v1/missions", json={**MISSION, **over}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/missions/unx/aors", json={"aors": AORS}, headers=auth("admin"))
    assert r.status_code == 201, r.text
    await make_base(client, auth, name="Camp One", latitude=CAMP_ONE[0], longitude=CAMP_ONE[1])
    await make_base(client, auth, name="Camp Two", latitude=CAMP_TWO[0], longitude=CAMP_TWO[1],
                    foot_patrols_per_day=0, qrf_standby=0)
    listed = (await client.get("/api/v1/missions/unx/aors", headers=auth("admin"))).json()["items"]
    return {a["name"]: a["id"] for a in listed}


def aor_token(settings: Any, name: str, aor_id: str, role: str = "operations") -> dict[str, str]:
    import uuid

    from app.cli.support import create_token
    from app.domain import Role

    token = create_token(settings, Role(role), name, mission="unx", aor_id=uuid.UUID(aor_id))
    return {"Authorization": f"Bearer {token}"}
