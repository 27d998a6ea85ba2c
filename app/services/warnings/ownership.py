"""Who answers a warning, and by when.

`assign_owner` is the one place that decides the owner of a point:

1. **by area of responsibility** (`owner_reason: "aor"`): the field office whose area holds the
   point (the smallest, if several do), else the sector; within the warning's mission when it has
   one, else any mission's. The on-scene target uses the reach of that AOR's nearest active base
   with capacity (its bases: located inside it, of its mission or of none); an AOR with no such
   base still owns the warning, and its target falls back to the nearest active base with
   capacity anywhere (`owner_base` names the base used).
2. **nearest base** (`owner_reason: "nearest_base"`): where no AOR holds the point, the nearest
   base active that day that can send someone (patrols per day in some mode, or a quick reaction
   force).

With neither, the warning is unassigned (and still has its acknowledgement deadline). Everything
else (warnings from every source, listings, need to know, metrics, impact) reads the owner the
warning carries.

Deadlines come from the warning's CAP urgency (`KINGA_RESPONSE_DEADLINES`): acknowledge within
`acknowledge_minutes` (Immediate: 15, the quick reaction force's notice); be on scene within
`notice_minutes` plus the travel time of the owner's fastest mode that reaches the place (road,
foot or air at the configured speeds and detours, slowed in the rainy season). A place beyond every
mode's reach gets the fastest mode's travel time anyway and is flagged `beyond_reach`: the target
stays honest about how long getting there takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import bases as base_repo
from app.repositories import missions as mission_repo
from app.services.planning.reach import MODES, haversine_km, mode_reach, travel_minutes
from app.settings import Settings


@dataclass(frozen=True)
class Owner:
    kind: str | None  # "field_office" or "sector" (an AOR), or "base" (the nearest base)
    id: uuid.UUID | None
    name: str | None
    mode: str | None  # the fastest mode that gets there
    distance_km: float | None
    travel_minutes: float | None
    beyond_reach: bool = False
    reason: str | None = None  # "aor" | "nearest_base" | None (nobody)
    aor_id: uuid.UUID | None = None
    base_id: uuid.UUID | None = None  # the base whose reach sets the on-scene target
    base_name: str | None = None
    mission: str | None = None  # the owning AOR's mission

    def columns(self) -> dict[str, Any]:
        return {
            "owner_kind": self.kind,
            "owner_id": self.id,
            "assigned_to": self.name,
            "owner_mode": self.mode,
            "owner_distance_km": round(self.distance_km, 2) if self.distance_km is not None else None,
            "owner_reason": self.reason,
            "owner_aor_id": self.aor_id,
            "owner_base_id": self.base_id,
            "owner_base": self.base_name,
        }


NOBODY = Owner(None, None, None, None, None, None)


def fastest_mode(base: dict[str, Any], distance_km: float, on: date, settings: Settings
                 ) -> tuple[str, float, bool]:
    """(mode, travel minutes, beyond reach) of the quickest way from this base to a place at
    this distance: among the modes it has capacity for (a base with only a quick reaction force
    goes by road), those whose reach covers the distance first."""
    modes = [m for m in MODES if int(base.get(f"{m}_patrols_per_day") or 0) > 0] or ["road"]
    options = []
    for m in modes:
        r = mode_reach(base, m, on, settings)
        options.append((distance_km > r.reach_km, travel_minutes(distance_km, r), m))
    beyond, minutes, mode = min(options)
    return mode, minutes, beyond


def nearest_owner(bases: list[dict[str, Any]], lon: float, lat: float, on: date,
                  settings: Settings) -> Owner:
    """The nearest of these bases by great-circle distance (ties: by id, so it is stable)."""
    if not bases:
        return NOBODY
    km = haversine_km(np.asarray([b["latitude"] for b in bases]),
                      np.asarray([b["longitude"] for b in bases]), np.asarray(lat), np.asarray(lon))
    i = min(range(len(bases)), key=lambda k: (float(km[k]), str(bases[k]["id"])))
    base, distance = bases[i], float(km[i])
    mode, minutes, beyond = fastest_mode(base, distance, on, settings)
    return Owner("base", base["id"], base["name"], mode, distance, minutes, beyond,
                 reason="nearest_base", base_id=base["id"], base_name=base["name"])


class OwnerCache:
    """The AORs, the active bases with capacity (and the webhook subscriptions), read once, for a
    caller that raises many warnings in one transaction (the rule scan): the same answers as the
    per-warning queries, without their round trips."""

    def __init__(self) -> None:
        self._aors: list[tuple[dict[str, Any], Any]] | None = None
        self._bases: dict[date, list[dict[str, Any]]] = {}
        # The webhook subscriptions, read once for the run by the first warning it raises
        # (webhooks.enqueue_for): one read, not one per warning.
        self.subscriptions: dict[str, Any] = {}

    async def aors_at(self, session: AsyncSession, mission: str | None, lon: float, lat: float
                      ) -> list[dict[str, Any]]:
        from shapely import prepare
        from shapely.geometry import Point, shape

        if self._aors is None:
            self._aors = []
            for a in await mission_repo.list_aors(session):
                g = shape(a["area"])
                prepare(g)
                self._aors.append((a, g))
        p = Point(lon, lat)
        hits = [(a, g) for a, g in self._aors
                if (mission is None or a["mission_code"] == mission) and g.intersects(p)]
        hits.sort(key=lambda ag: (ag[0]["kind"] == "sector", ag[1].area, ag[0]["name"]))
        return [a for a, _ in hits]

    async def bases(self, session: AsyncSession, on: date, aor: dict[str, Any] | None = None
                    ) -> list[dict[str, Any]]:
        from shapely.geometry import Point

        if on not in self._bases:
            self._bases[on] = await base_repo.active_with_capacity(session, on)
        found = self._bases[on]
        if aor is None:
            return found
        assert self._aors is not None
        g = next(g for a, g in self._aors if a["id"] == aor["id"])
        return [b for b in found
                if b.get("mission_code") in (None, aor["mission_code"])
                and g.intersects(Point(b["longitude"], b["latitude"]))]


async def assign_owner(session: AsyncSession, settings: Settings, lon: float, lat: float, *,
                       on: date, mission: str | None = None, cache: OwnerCache | None = None
                       ) -> Owner:
    """The unit that answers for a point on a date (see the module's docstring)."""
    if cache is not None:
        found = await cache.aors_at(session, mission, lon, lat)
    else:
        found = await mission_repo.aor_at(session, mission, lon, lat)
    if found:
        aor = found[0]
        if cache is not None:
            own = await cache.bases(session, on, aor)
            anywhere = await cache.bases(session, on) if not own else []
        else:
            own = await base_repo.nearest_with_capacity(session, lon, lat, on, aor_id=aor["id"])
            anywhere = await base_repo.nearest_with_capacity(session, lon, lat, on) if not own else []
        reach = nearest_owner(own or anywhere, lon, lat, on, settings)
        return Owner(aor["kind"], aor["id"], aor["name"], reach.mode, reach.distance_km,
                     reach.travel_minutes, reach.beyond_reach, reason="aor", aor_id=aor["id"],
                     base_id=reach.id, base_name=reach.name, mission=aor["mission_code"])
    if cache is not None:
        candidates = await cache.bases(session, on)
    else:
        candidates = await base_repo.nearest_with_capacity(session, lon, lat, on)
    return nearest_owner(candidates, lon, lat, on, settings)


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime | None
    on_scene_by: datetime | None


def deadlines(settings: Settings, urgency: str, raised_at: datetime, owner: Owner) -> Deadlines:
    policy = settings.response_deadlines.get(urgency) or settings.response_deadlines.get("Unknown", {})
    ack = policy.get("acknowledge_minutes")
    notice = policy.get("notice_minutes")
    ack_by = raised_at + timedelta(minutes=ack) if ack is not None else None
    scene_by = None
    if notice is not None and owner.travel_minutes is not None:
        scene_by = raised_at + timedelta(minutes=notice + owner.travel_minutes)
    return Deadlines(ack_by, scene_by)
