"""Warnings: the rules that raise them, their lifecycle, and how they are published.

Rules (thresholds in settings, "# --- alerts, warnings, responses"):
- `sexual_violence`: any located sexual-violence alert (Severe / Immediate / Possible).
- `alert_cluster`: N alerts in one H3 cell (warning_area_res) within T hours.
- `threat_level`: a hotspot cell at high or critical (app.services.threat.layer.threat_layer).
- `emerging_pattern`: a hotspot cell whose emerging pattern is new or intensifying.
While a warning is open (active, acknowledged, responded) the same rule and cell do not raise
another; later alerts join it instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.repositories import alerts as alert_repo
from app.repositories import audit
from app.repositories import warnings as repo
from app.services.auth import Principal
from app.services.geo.h3cells import cell_polygon, latlng_cell, to_str
from app.services.missions import places
from app.services.missions.languages import message
from app.services.warnings import webhooks
from app.services.warnings.feature import present
from app.settings import Settings

# target status -> statuses it may come from
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("active",),
    "responded": ("acknowledged",),
    "closed": ("responded",),
    "cancelled": ("active", "acknowledged", "responded"),
    "expired": ("active", "acknowledged"),
}
TERMINAL = ("closed", "cancelled", "expired")


def child_range(parent: int, parent_res: int, fine_res: int) -> tuple[int, int]:
    """Smallest and largest possible index of the parent's descendants at fine_res: every stored
    fine cell between them descends from the parent (an indexed range scan, no spatial join)."""
    res_mask = 0xF << 52
    base = (parent & ~res_mask) | (fine_res << 52)
    lo = hi = base
    for digit in range(parent_res + 1, fine_res + 1):
        shift = 3 * (15 - digit)
        lo &= ~(7 << shift)
        hi = (hi & ~(7 << shift)) | (6 << shift)
    return lo, hi


def _area(cell: int) -> dict[str, Any]:
    return cell_polygon(to_str(cell))


def new_warning(
    *,
    rule: str,
    dedupe_key: str,
    cell: int | None,
    category: str | None,
    severity: str,
    urgency: str,
    certainty: str,
    headline: str,
    description: str,
    alert_ids: list[uuid.UUID],
    now: datetime,
    ttl_hours: float,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "rule": rule,
        "dedupe_key": dedupe_key,
        "h3_cell": cell,
        "category": category,
        "severity": severity,
        "urgency": urgency,
        "certainty": certainty,
        "headline": headline,
        "description": description,
        "alert_ids": alert_ids,
        "expires_at": now + timedelta(hours=ttl_hours),
    }


async def _raise(
    session: AsyncSession, values: dict[str, Any], area: dict[str, Any], alert_id: uuid.UUID | None
) -> uuid.UUID | None:
    warning_id, created = await repo.insert_or_join(session, values, area, alert_id)
    if not created:
        return None
    await audit.record(
        session,
        actor="kinga:rules",
        action="raise",
        object_type="warning",
        object_id=str(warning_id),
        after={"rule": values["rule"], "dedupe_key": values["dedupe_key"]},
    )
    await webhooks.enqueue_for(session, warning_id, "warning.created")
    return warning_id


async def evaluate_alert(
    session: AsyncSession, settings: Settings, alert: dict[str, Any], *, now: datetime
) -> list[uuid.UUID]:
    """Rules an incoming alert can trip. Unlocated and collapsed alerts trip none."""
    if alert.get("lonlat") is None or alert.get("collapsed_into"):
        return []
    lon, lat = alert["lonlat"]
    res = settings.warning_area_res
    cell = latlng_cell(lat, lon, res)
    raised: list[uuid.UUID] = []
    since = alert["observed_at"] - timedelta(hours=settings.warning_burst_hours)
    ids = await alert_repo.cell_burst(session, child_range(cell, res, settings.h3_resolution), since)
    if alert["id"] not in ids:
        ids.append(alert["id"])
    burst = len(ids) >= settings.warning_burst_alerts
    if alert["category"] != "sexual_violence" and not burst:
        return raised
    missions = await places.missions_for(session, settings, alert.get("mission_code"))
    langs = missions[0].languages
    place = alert.get("place_name") or await _place_near(session, settings, missions, lat, lon)
    if alert["category"] == "sexual_violence":
        w = new_warning(
            rule="sexual_violence",
            dedupe_key=f"sexual_violence:{cell:x}",
            cell=cell,
            category="sexual_violence",
            severity="Severe",
            urgency="Immediate",
            certainty="Possible",
            headline=message("warning.sexual_violence.headline", langs, place=place),
            description=message("warning.sexual_violence.description", langs),
            alert_ids=[alert["id"]],
            now=now,
            ttl_hours=settings.warning_ttl_hours,
        )
        if (wid := await _raise(session, w, _area(cell), alert["id"])) is not None:
            raised.append(wid)
    if burst:
        w = new_warning(
            rule="alert_cluster",
            dedupe_key=f"alert_cluster:{cell:x}",
            cell=cell,
            category=alert["category"],
            severity="Severe"
            if alert["category"] in ("killing", "abduction", "sexual_violence")
            else "Moderate",
            urgency="Immediate",
            certainty="Likely",
            headline=message("warning.alert_cluster.headline", langs, count=len(ids),
                             hours=f"{settings.warning_burst_hours:g}", place=place),
            description=message("warning.alert_cluster.description", langs, count=len(ids),
                                cell=to_str(cell), hours=f"{settings.warning_burst_hours:g}"),
            alert_ids=ids,
            now=now,
            ttl_hours=settings.warning_ttl_hours,
        )
        if (wid := await _raise(session, w, _area(cell), alert["id"])) is not None:
            raised.append(wid)
    return raised


async def _place_near(session: AsyncSession, settings: Settings, missions: list[Any],
                      lat: float, lon: float) -> str:
    """The nearest town of the mission's gazetteer (within 30 km), else the coordinates."""
    gaz = await places.gazetteer_for(session, settings, missions)
    found = gaz.nearest(lat, lon)
    return found.name if found is not None else f"{lat:.3f}, {lon:.3f}"


async def evaluate_threat_layer(
    session: AsyncSession, settings: Settings, cells: list[dict[str, Any]], *, now: datetime,
    mission: str | None = None, dry_run: bool = False,
) -> list[uuid.UUID] | list[dict[str, Any]]:
    """Warnings from a hotspot threat layer: dicts with `cell`, `threat_level`, `pattern`.
    Headlines name the nearest place of the mission's gazetteer. `dry_run`: return the warnings
    the layer would raise, storing and announcing nothing (historical scans)."""
    raised: list[uuid.UUID] = []
    would: list[dict[str, Any]] = []
    missions = await places.missions_for(session, settings, mission)
    langs = missions[0].languages
    for c in cells:
        cell_str = str(c["cell"])
        cell = h3.str_to_int(cell_str) if not cell_str.isdigit() else int(cell_str)
        level, pattern = c.get("threat_level"), c.get("pattern")
        rules = []
        kind = str(pattern or "").removesuffix(" hot spot")
        emerging = kind in ("new", "intensifying") and str(pattern).endswith("hot spot")
        place = ""
        if level in settings.warning_threat_levels or emerging:
            lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
            place = await _place_near(session, settings, missions, lat, lon)
        if level in settings.warning_threat_levels:
            rules.append(
                (
                    "threat_level",
                    "Extreme" if level == "critical" else "Severe",
                    "Expected",
                    "Likely",
                    message("warning.threat_level.headline", langs, level=level, place=place,
                            cell=cell_str),
                )
            )
        if emerging:
            rules.append(
                (
                    "emerging_pattern",
                    "Severe" if kind == "new" else "Moderate",
                    "Future",
                    "Possible",
                    message("warning.emerging_pattern.headline", langs, pattern=pattern,
                            place=place, cell=cell_str),
                )
            )
        for rule, severity, urgency, certainty, headline in rules:
            w = new_warning(
                rule=rule,
                dedupe_key=f"{rule}:{cell:x}",
                cell=cell,
                category=None,
                severity=severity,
                urgency=urgency,
                certainty=certainty,
                headline=headline,
                description=f"{headline} (threat score {c.get('threat_score', 'n/a')}).",
                alert_ids=[],
                now=now,
                ttl_hours=settings.warning_ttl_hours * 2,
            )
            if dry_run:
                would.append({k: (str(v) if isinstance(v, uuid.UUID) else v)
                              for k, v in w.items() if k not in ("id", "alert_ids")}
                             | {"h3_cell": cell_str})
            elif (wid := await _raise(session, w, _area(cell), None)) is not None:
                raised.append(wid)
    return would if dry_run else raised


# A scan "as of" more than this before now is historical: it shows what the rules would have
# raised then and never raises a live warning or a webhook.
HISTORICAL_AFTER = timedelta(hours=24)


async def scan_hotspots(
    session: AsyncSession, settings: Settings, *, now: datetime, as_of: datetime | None = None,
    scope: Any = None,
) -> dict[str, Any]:
    """Apply the hotspot rules to the threat layer (issue 3) as of a date (default now), in the
    mission (and AOR) of `scope`. A past date is analysis, not an alarm: nothing is stored."""
    from app.services.threat.layer import HotspotQuery, threat_layer

    q = HotspotQuery(as_of=as_of)
    if scope is not None:
        q.area, q.area_key = scope.area, scope.key
        q.decay_scale_days = scope.mission.decay_scale_days
        q.precision_decay = scope.mission.precision_decay
    cells = await threat_layer(session, q, settings)
    code = scope.mission.code if scope is not None and scope.mission.stored else None
    if as_of is not None and as_of < now - HISTORICAL_AFTER:
        would = await evaluate_threat_layer(session, settings, cells, now=as_of, mission=code,
                                            dry_run=True)
        return {"raised": [], "historical": True, "as_of": as_of.isoformat(),
                "would_raise": would}
    raised = await evaluate_threat_layer(session, settings, cells, now=now, mission=code)
    if raised:
        await repo.set_mission(session, [r for r in raised if isinstance(r, uuid.UUID)], code)
    await session.commit()
    return {"raised": [str(r) for r in raised], "historical": False}


async def transition(
    session: AsyncSession,
    warning_id: uuid.UUID,
    target: str,
    who: Principal,
    comment: str | None,
    *,
    now: datetime,
) -> dict[str, Any]:
    w = await repo.get(session, warning_id, lock=True)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    await move(session, w, target, who.actor, comment, now=now)
    await session.commit()
    return present(await repo.get(session, warning_id) or w)


async def move(
    session: AsyncSession,
    w: dict[str, Any],
    target: str,
    actor: str,
    comment: str | None,
    *,
    now: datetime,
) -> None:
    if w["status"] not in TRANSITIONS[target]:
        raise Conflict(
            f"a warning that is {w['status']} cannot become {target}; allowed from: "
            f"{', '.join(TRANSITIONS[target])}"
        )
    values: dict[str, Any] = {"status": target}
    if target == "acknowledged":
        values["acknowledged_at"] = now
    if target in TERMINAL:
        values["closed_at"] = now
    await repo.set_status(session, w["id"], values)
    await audit.record(
        session,
        actor=actor,
        action=target,
        object_type="warning",
        object_id=str(w["id"]),
        before={"status": w["status"]},
        after={"status": target, "comment": comment},
    )
    await webhooks.enqueue_for(session, w["id"], f"warning.{target}")
    w["status"] = target




async def listing(
    session: AsyncSession,
    *,
    statuses: list[str] | None,
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Read only: a warning past its expiry is listed as expired before `expire_due` records it."""
    return await repo.listing(session, statuses=statuses, bbox=bbox, start=start, end=end, limit=limit)


async def expire_due(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Scheduler job: record the expiry of warnings past `expires_at` and tell subscribers."""
    expired = await repo.expire_due(session, now)
    for wid in expired:
        await webhooks.enqueue_for(session, wid, "warning.expired")
    return len(expired)
