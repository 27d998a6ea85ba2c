"""Who answers a warning, and by when.

`assign_owner` is the one place that decides the owner of a point. Until areas of responsibility
(sectors, field offices) are stored, the owner is the nearest base active today that can send
someone (patrols per day in some mode, or a quick reaction force); with AORs it becomes the field
office whose area holds the point, reached from its nearest base. Everything else (warnings from
every source, listings, metrics, impact) reads the owner the warning carries.

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
from app.services.planning.reach import MODES, haversine_km, mode_reach, travel_minutes
from app.settings import Settings


@dataclass(frozen=True)
class Owner:
    kind: str | None  # "base" until AORs exist; then "field_office" or "sector"
    id: uuid.UUID | None
    name: str | None
    mode: str | None  # the fastest mode that gets there
    distance_km: float | None
    travel_minutes: float | None
    beyond_reach: bool = False

    def columns(self) -> dict[str, Any]:
        return {
            "owner_kind": self.kind,
            "owner_id": self.id,
            "assigned_to": self.name,
            "owner_mode": self.mode,
            "owner_distance_km": round(self.distance_km, 2) if self.distance_km is not None else None,
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
    return Owner("base", base["id"], base["name"], mode, distance, minutes, beyond)


async def assign_owner(session: AsyncSession, settings: Settings, lon: float, lat: float, *,
                       on: date) -> Owner:
    """The unit that answers for a point on a date (see the module's docstring)."""
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
