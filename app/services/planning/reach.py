"""How far a base reaches, by mode: speeds, travel time, detours and the rainy season.

Pure functions over plain data. A base is a dict with at least `id`, `latitude`, `longitude`,
`<mode>_patrols_per_day` and optional `<mode>_reach_km` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from app.services.missions.profile import Mission, fallback
from app.settings import Settings

MODES = ("road", "foot", "air")
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class ModeReach:
    mode: str
    reach_km: float  # straight-line distance a patrol of this mode reaches
    speed_kmh: float  # effective speed (rainy season applied)
    detour: float  # path length / straight-line distance


def season_factor(base: dict[str, Any], mode: str, on: date, settings: Settings,
                  mission: Mission | None = None) -> float:
    """The speed factor of the mission's seasons in force on `on` at the base (1.0 if none)."""
    m = mission or fallback(settings)
    return m.speed_factor(mode, on, base.get("latitude"), base.get("longitude"))


def is_rainy(on: date, settings: Settings, mission: Mission | None = None) -> bool:
    """Whether a season that slows road travel is in force (anywhere in the mission)."""
    return (mission or fallback(settings)).speed_factor("road", on) < 1.0


def mode_reach(base: dict[str, Any], mode: str, on: date, settings: Settings,
               mission: Mission | None = None) -> ModeReach:
    """Reach of one base by one mode on a date: the base's override, or speed x hours / detour,
    slowed by the mission's seasons in force (the default mission's when none is given)."""
    factor = season_factor(base, mode, on, settings, mission)
    speed = settings.patrol_speed_kmh[mode] * factor
    detour = settings.patrol_detour_factor.get(mode, 1.0)
    override = base.get(f"{mode}_reach_km")
    if override is not None:
        # An explicit reach is a dry-season figure; the rainy season shrinks it the same way.
        reach = float(override) * factor
    else:
        reach = speed * settings.patrol_max_travel_hours[mode] / detour
    return ModeReach(mode, reach, speed, detour)


def travel_minutes(distance_km: float, r: ModeReach) -> float:
    return distance_km * r.detour / r.speed_kmh * 60.0 if r.speed_kmh > 0 else float("inf")


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km; broadcasts (bases as a column, cells as a row)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix(
    points_a: list[tuple[float, float]], points_b: list[tuple[float, float]]
) -> np.ndarray:
    """km between every (lat, lon) in a and every (lat, lon) in b: shape (len(a), len(b))."""
    if not points_a or not points_b:
        return np.zeros((len(points_a), len(points_b)))
    a = np.asarray(points_a, dtype=float)
    b = np.asarray(points_b, dtype=float)
    return haversine_km(a[:, :1], a[:, 1:2], b[None, :, 0], b[None, :, 1])


def base_reaches(
    base: dict[str, Any],
    on: date,
    settings: Settings,
    *,
    any_capacity: bool = False,
    modes: tuple[str, ...] = MODES,
    mission: Mission | None = None,
) -> list[ModeReach]:
    """The modes (of `modes`) a base can patrol by (capacity > 0); `any_capacity` keeps road
    reach for a base with none stated (a candidate site, or a post that deters by presence)."""
    out = [
        mode_reach(base, m, on, settings, mission)
        for m in modes
        if int(base.get(f"{m}_patrols_per_day") or 0) > 0
    ]
    if not out and any_capacity:
        out = [mode_reach(base, "road", on, settings, mission)]
    return out


def coverage_sets(
    bases: list[dict[str, Any]],
    cells: list[tuple[float, float]],
    on: date,
    settings: Settings,
    modes: tuple[str, ...] = MODES,
    mission: Mission | None = None,
) -> list[np.ndarray]:
    """For each base, the indices of the cells (lat, lon centres) within its longest reach."""
    dist = distance_matrix([(b["latitude"], b["longitude"]) for b in bases], cells)
    out = []
    for i, b in enumerate(bases):
        reaches = base_reaches(b, on, settings, any_capacity=True, modes=modes, mission=mission)
        radius = max(r.reach_km for r in reaches)
        out.append(np.flatnonzero(dist[i] <= radius))
    return out
