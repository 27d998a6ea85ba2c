"""The scheduler's rule scan (job `warnings.rule_scan`, every KINGA_RULE_SCAN_MINUTES): the
threat-level and emerging-pattern rules on the threat layer as it is now, and the sexual-violence
rule on incidents recorded by staff, applied to what changed since the last run.

Incremental from the incident change log (migration 0007, docs/scoring.md): the job keeps the
data version it has evaluated up to (`rule_scan_state`). A run reads the cells whose incidents
changed after that version and evaluates the threat-level rule on those cells and the emerging-
pattern rule on them and their Gi* neighbours (ring k), from the threat layer, whose per-cell sums
are themselves maintained from the same log. It evaluates everything (a full scan) on its first
run, when the log no longer reaches back to its version (pruned, truncated, or an import statement
too large to log), and every KINGA_RULE_FULL_SCAN_HOURS (emerging classes also move as weeks pass).
Nothing changed: one small read, no write.

The scan runs **per mission**: each stored mission's cells (their centre in its area) are judged
on that mission's threat layer (its recency-decay scale and date-precision setting) and every
warning raised there carries the mission (`warning.mission_code`), so a mission-scoped listing
sees its own rule warnings, and its areas of responsibility own them. Cells in no mission's area
are judged on the server's layer and raise warnings without a mission. A staff sexual-violence
incident is raised in the mission whose area holds it (else the one it was recorded for).

It never runs for a past date (`as_of`): warnings are raised for now only; a historical scan
(POST /api/v1/warnings/scan?as_of=) shows what would have been raised and stores nothing.

A threat-level or emerging-pattern warning is raised for a cell at most once per warning lifetime
(twice KINGA_WARNING_TTL_HOURS): a cell that stays critical for weeks gives one warning, not one a
day. Everything a run does is in the scheduler's one transaction: a crash before it commits leaves
neither warnings nor a moved cursor, and the next run does it all again (exactly once).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import h3
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from app.repositories import rule_scan as repo
from app.services.geo.h3cells import to_int
from app.services.missions import clip, places
from app.services.warnings import lifecycle, ownership
from app.settings import Settings


def _scan_rules_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.warning_ttl_hours * 2)


def _neighbourhood(cells: set[int], k: int) -> set[int]:
    out = set(cells)
    for c in cells:
        out.update(to_int(n) for n in h3.grid_disk(h3.int_to_str(c), k))
    return out


async def scan_job(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Scheduler job: returns how many warnings it raised."""
    position = await repo.log_position(session)
    if position is None:  # no incident was ever written (or the version row was just recreated)
        return 0
    version, log_since = position
    st = await repo.state(session)
    full = (st is None or st["version"] < log_since
            or now - st["full_at"] >= timedelta(hours=settings.rule_full_scan_hours))
    if not full and st is not None and st["version"] >= version:
        return 0
    # The layers first: a transaction that has written may not read the layer's caches.
    groups = await _layers_by_mission(session, settings)
    since = now - timedelta(hours=settings.incident_warning_hours)
    if full:
        chosen = groups
        incidents = await repo.staff_sexual_violence(session, since=since)
    else:
        assert st is not None
        changed = await repo.changed_cells(session, after=st["version"], upto=version,
                                           res=settings.rule_scan_res)
        near = _neighbourhood(changed, settings.hotspot_ring_k)
        chosen = []
        for mission, cells in groups:
            picked = []
            for c in cells:
                cell = _as_int(c["cell"])
                if cell in changed:
                    picked.append(c)
                elif cell in near:  # a neighbour's emerging class may move; its level cannot
                    picked.append({**c, "threat_level": None})
            chosen.append((mission, picked))
        ids = await repo.logged_sexual_violence(session, after=st["version"], upto=version)
        incidents = await repo.staff_sexual_violence(session, since=since, ids=ids)
    raised: list[uuid.UUID] = []
    areas = [(m.code, m.area) for m, _ in groups if m is not None]
    owners = ownership.OwnerCache()  # AORs and bases read once for every warning of the run
    for incident in incidents:
        raised += await lifecycle.evaluate_incident(
            session, settings, incident, now=now, owners=owners,
            mission=_mission_at(areas, incident.get("longitude"), incident.get("latitude")))
    for mission, cells in chosen:
        raised += await _threat_rules(session, settings, cells, now,
                                      mission.code if mission is not None else None, owners)
    await repo.save_state(session, version=version, full_at=now if full or st is None else st["full_at"],
                          scanned_at=now)
    return len(raised)


async def _layers_by_mission(session: AsyncSession, settings: Settings
                             ) -> list[tuple[Any, list[dict[str, Any]]]]:
    """[(mission or None, its cells)]: each stored mission's cells on its own layer (the server's
    layer filtered to its area when the mission's decay settings are the server's), then the
    cells of the server's layer that lie in no mission's area."""
    from app.services.threat.layer import HotspotQuery, threat_layer

    def query(**over: Any) -> HotspotQuery:
        return HotspotQuery(res=settings.rule_scan_res, window_days=settings.rule_scan_window_days,
                            with_pattern=True, **over)

    plain = await threat_layer(session, query(), settings)
    missions = [m for m in await places.missions_for(session, settings, None)
                if m.stored and m.area is not None]
    if not missions:
        return [(None, plain)]
    lonlat = [h3.cell_to_latlng(h3.int_to_str(_as_int(c["cell"])))[::-1] for c in plain]
    lons, lats = [p[0] for p in lonlat], [p[1] for p in lonlat]
    claimed = np.zeros(len(plain), dtype=bool)
    groups: list[tuple[Any, list[dict[str, Any]]]] = []
    for m in sorted(missions, key=lambda m: m.code):
        inside = clip.points_inside(m.area, lons, lats) & ~claimed
        if (m.decay_scale_days in (None, settings.threat_decay_scale_days)) and not m.precision_decay:
            cells = [c for c, k in zip(plain, inside, strict=True) if k]
        else:
            own = await threat_layer(session, query(
                area=m.area, area_key=(m.code, m.version, None),
                decay_scale_days=m.decay_scale_days, precision_decay=m.precision_decay), settings)
            taken = {_as_int(c["cell"]) for c, k in zip(plain, claimed, strict=True) if k}
            cells = [c for c in own if _as_int(c["cell"]) not in taken]
        claimed |= clip.points_inside(m.area, lons, lats)
        groups.append((m, cells))
    groups.append((None, [c for c, k in zip(plain, claimed, strict=True) if not k]))
    return groups


def _mission_at(areas: list[tuple[str, Any]], lon: float | None, lat: float | None) -> str | None:
    if lon is None or lat is None:
        return None
    for code, area in areas:
        if bool(clip.points_inside(area, [lon], [lat])[0]):
            return code
    return None


def _as_int(cell: Any) -> int:
    s = str(cell)
    return int(s) if s.isdigit() else to_int(s)


async def _threat_rules(session: AsyncSession, settings: Settings, cells: list[dict[str, Any]],
                        now: datetime, mission: str | None = None,
                        owners: ownership.OwnerCache | None = None) -> list[uuid.UUID]:
    """The hotspot rules on these cells, less those that raised a warning within a lifetime."""
    hits = [c for c in cells
            if c.get("threat_level") in settings.warning_threat_levels
            or str(c.get("pattern") or "").removesuffix(" hot spot") in ("new", "intensifying")]
    if not hits:
        return []
    keys = [f"{rule}:{_as_int(c['cell']):x}" for c in hits for rule in ("threat_level", "emerging_pattern")]
    recent = await repo.recent_dedupe_keys(session, keys, now - _scan_rules_ttl(settings))
    due = []
    for c in hits:
        cell = _as_int(c["cell"])
        c = dict(c)
        if f"threat_level:{cell:x}" in recent:
            c["threat_level"] = None
        if f"emerging_pattern:{cell:x}" in recent:
            c["pattern"] = None
        due.append(c)
    got = await lifecycle.evaluate_threat_layer(session, settings, due, now=now, mission=mission,
                                                owners=owners)
    return [g for g in got if isinstance(g, uuid.UUID)]
