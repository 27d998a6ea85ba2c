"""Warnings: the rules that raise them, their lifecycle, and how they are published.

Rules (thresholds in settings, "# --- alerts, warnings, responses"):
- `sexual_violence`: any located sexual-violence alert (Severe / Immediate / Possible).
- `alert_cluster`: N alerts in one H3 cell (warning_area_res) within T hours.
- `threat_level`: a hotspot cell at high or critical (app.services.threat.layer.threat_layer).
- `emerging_pattern`: a hotspot cell whose emerging pattern is new or intensifying.
While a warning is open (active, acknowledged, responded) the same rule and cell do not raise
another; later alerts join it instead.

Every new warning, whatever its source (app/services/warnings/: these rules, `rule_scan` on the
scheduler, `flash` from a duty officer, `escalate` of one alert or incident), goes through
`raise_warning`: it is stored, given an owner and deadlines (`ownership`), audited and announced to
webhook subscribers in the caller's transaction. A warning ends `closed` with an outcome from the
fixed vocabulary or `cancelled` with a reason (an expired one is resolved the same way).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import Role
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.repositories import alerts as alert_repo
from app.repositories import audit
from app.repositories import warnings as repo
from app.services.auth import Principal
from app.services.geo.h3cells import cell_polygon, latlng_cell, to_str
from app.services.missions import places
from app.services.missions.languages import message
from app.services.warnings import need_to_know, ownership, webhooks
from app.services.warnings.feature import present, present_to_partner
from app.settings import Settings

# target status -> statuses it may come from
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "acknowledged": ("active",),
    "responded": ("acknowledged",),
    # Closing records what the response achieved (an outcome); an expired warning is resolved
    # too, so that every warning ends closed with an outcome or cancelled with a reason.
    "closed": ("acknowledged", "responded", "expired"),
    "cancelled": ("active", "acknowledged", "responded", "expired"),
    "expired": ("active", "acknowledged"),
}
# No more responses once a warning is in one of these.
TERMINAL = ("closed", "cancelled", "expired")
OPEN = ("active", "acknowledged", "responded")
SOURCE_OF_RULE = {"threat_level": "scan", "emerging_pattern": "scan", "flash": "flash",
                  "escalation": "escalation"}


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
    source: str | None = None,
    incident_ids: list[uuid.UUID] | None = None,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "source": source or SOURCE_OF_RULE.get(rule, "alert"),
        "incident_ids": list(incident_ids or []),
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


async def raise_warning(
    session: AsyncSession,
    settings: Settings,
    values: dict[str, Any],
    area: dict[str, Any],
    *,
    alert_id: uuid.UUID | None = None,
    incident_id: uuid.UUID | None = None,
    point: tuple[float, float] | None = None,
    actor: str = "kinga:rules",
    now: datetime,
    mission: str | None = None,
    owners: ownership.OwnerCache | None = None,
) -> uuid.UUID | None:
    """Store a new warning unless one with its dedupe key is open (the alert or incident then
    joins that one); a new one gets its owner and deadlines, an audit record and a webhook event.
    `point` (lon, lat) places the owner search; default: the centre of the warning's cell.
    `mission`: the mission it is raised in (its AORs own it); without one, the mission of the AOR
    that owns it, if any. Returns the new warning's id, or None when it joined an open one."""
    values = {**values, "created_by": actor}
    if mission is not None:
        values["mission_code"] = mission
    if point is None:
        lat, lon = h3.cell_to_latlng(to_str(values["h3_cell"]))
        point = (lon, lat)
    # Owner and deadlines go in with the row (one statement); a warning that joins an open one
    # keeps that one's.
    owner = await ownership.assign_owner(session, settings, *point, on=now.date(), mission=mission,
                                         cache=owners)
    due = ownership.deadlines(settings, values["urgency"], now, owner)
    extra = {"mission_code": owner.mission} if mission is None and owner.mission else {}
    values.update(owner.columns(), **extra, acknowledge_by=due.acknowledge_by,
                  on_scene_by=due.on_scene_by, created_at=now)
    warning_id, created = await repo.insert_or_join(session, values, area, alert_id, incident_id)
    if not created:
        return None
    await audit.record(
        session,
        actor=actor,
        action="raise",
        object_type="warning",
        object_id=str(warning_id),
        after={"rule": values["rule"], "source": values.get("source"),
               "dedupe_key": values["dedupe_key"], "assigned_to": owner.name,
               "owner_reason": owner.reason, "mission": mission or owner.mission,
               "acknowledge_by": due.acknowledge_by.isoformat() if due.acknowledge_by else None,
               "on_scene_by": due.on_scene_by.isoformat() if due.on_scene_by else None},
    )
    await webhooks.enqueue_for(session, warning_id, "warning.created",
                               subscriptions=owners.subscriptions if owners is not None else None)
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
        wid = await raise_warning(session, settings, w, _area(cell), alert_id=alert["id"],
                                  point=(lon, lat), now=now, mission=alert.get("mission_code"))
        if wid is not None:
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
        wid = await raise_warning(session, settings, w, _area(cell), alert_id=alert["id"],
                                  point=(lon, lat), now=now, mission=alert.get("mission_code"))
        if wid is not None:
            raised.append(wid)
    return raised


async def evaluate_incident(
    session: AsyncSession, settings: Settings, incident: dict[str, Any], *, now: datetime,
    mission: str | None = None, owners: ownership.OwnerCache | None = None,
) -> list[uuid.UUID]:
    """The sexual-violence rule on an incident recorded by staff (alerts have it at triage): a
    warning for its area, or the incident joins the one open there."""
    if incident.get("category") != "sexual_violence" or incident.get("longitude") is None:
        return []
    lon, lat = incident["longitude"], incident["latitude"]
    cell = latlng_cell(lat, lon, settings.warning_area_res)
    place = incident.get("place_name") or f"{lat:.3f}, {lon:.3f}"
    w = new_warning(
        rule="sexual_violence",
        dedupe_key=f"sexual_violence:{cell:x}",
        cell=cell,
        category="sexual_violence",
        severity="Severe",
        urgency="Immediate",
        certainty="Likely" if incident.get("status") == "approved" else "Possible",
        headline=f"Sexual violence incident near {place}",
        description="Mission staff recorded sexual violence. Dispatch trained, mixed-gender "
        "personnel.",
        alert_ids=[],
        incident_ids=[incident["id"]],
        now=now,
        ttl_hours=settings.warning_ttl_hours,
        source="incident",
    )
    wid = await raise_warning(session, settings, w, _area(cell), incident_id=incident["id"],
                              point=(lon, lat), now=now, mission=mission or incident.get("mission_code"),
                              owners=owners)
    return [wid] if wid is not None else []
async def _place_near(session: AsyncSession, settings: Settings, missions: list[Any],
                      lat: float, lon: float) -> str:
    """The nearest town of the mission's gazetteer (within 30 km), else the coordinates."""
    gaz = await places.gazetteer_for(session, settings, missions)
    found = gaz.nearest(lat, lon)
    return found.name if found is not None else f"{lat:.3f}, {lon:.3f}"


async def evaluate_threat_layer(
    session: AsyncSession, settings: Settings, cells: list[dict[str, Any]], *, now: datetime,
    mission: str | None = None, dry_run: bool = False, owners: ownership.OwnerCache | None = None,
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
            elif (wid := await raise_warning(session, settings, w, _area(cell), now=now,
                                             mission=mission, owners=owners)) is not None:
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
    raised = await evaluate_threat_layer(session, settings, cells, now=now, mission=code,
                                         owners=ownership.OwnerCache())
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
    outcome: str | None = None,
    outcome_note: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    w = await repo.get(session, warning_id, lock=True)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    await need_to_know.check(session, who, w)
    await move(session, w, target, who.actor, comment, now=now, outcome=outcome,
               outcome_note=outcome_note, reason=reason)
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
    outcome: str | None = None,
    outcome_note: str | None = None,
    reason: str | None = None,
) -> None:
    if w["status"] not in TRANSITIONS[target]:
        raise Conflict(
            f"a warning that is {w['status']} cannot become {target}; allowed from: "
            f"{', '.join(TRANSITIONS[target])}",
            errors=[{"pointer": "/body/status", "detail": f"not allowed from {w['status']}"}],
        )
    values: dict[str, Any] = {"status": target}
    if target == "closed":
        if outcome is None:
            raise InvalidInput.at("/body/outcome", "closing a warning records its outcome")
        values.update(outcome=outcome, outcome_note=outcome_note)
    if target == "cancelled":
        if not (reason or "").strip():
            raise InvalidInput.at("/body/reason", "cancelling a warning needs a reason")
        values["cancel_reason"] = reason
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
        after={"status": target, "comment": comment, "outcome": outcome, "reason": reason},
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
    overdue: bool | None = None,
    who: Principal | None = None,
    mission: str | None = None,
) -> list[dict[str, Any]]:
    """Read only: a warning past its expiry is listed as expired before `expire_due` records it,
    and one past a deadline is flagged overdue before the escalation job records it. `who`: an
    operations token limited to an AOR lists only that AOR's warnings (need_to_know); `mission`:
    leave out warnings raised in another mission."""
    owners = await need_to_know.owner_aors(session, who) if who is not None else None
    return await repo.listing(session, statuses=statuses, bbox=bbox, start=start, end=end,
                              limit=limit, overdue=overdue, owner_aors=owners, mission=mission)


def clipped_by_area(scope: Any, who: Principal) -> bool:
    """Whether a listing is clipped to the scope's area: not when the scope is the AOR of an
    operations token limited to it (ownership decides that list, edge cells included)."""
    if scope.area is None:
        return False
    return not (need_to_know.limited(who) and scope.aor is not None
                and scope.aor["id"] == who.aor_id)


async def read_one(session: AsyncSession, warning_id: uuid.UUID, who: Principal
                   ) -> dict[str, Any]:
    w = await repo.get(session, warning_id)
    if w is None:
        raise NotFound(f"no warning with id {warning_id}")
    await need_to_know.check(session, who, w)
    return w


def check_reader(role: Role, settings: Settings) -> None:
    """Staff read warnings; partners only where the mission shares them; integrations never."""
    if role == Role.partner and not settings.partner_warnings_shared:
        raise Forbidden("this mission does not share warnings with partners")
    if role not in (Role.admin, Role.analyst, Role.operations, Role.partner):
        raise Forbidden(f"the {role.value} role may not read warnings")


def shown(w: dict[str, Any], role: Role, settings: Settings) -> dict[str, Any]:
    """A warning as this role may see it (partners: sanitised, at the partner resolution)."""
    if role == Role.partner:
        return present_to_partner(w, settings.partner_max_res)
    return present(w)


async def expire_due(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Scheduler job: record the expiry of warnings past `expires_at` and tell subscribers."""
    expired = await repo.expire_due(session, now)
    for wid in expired:
        await webhooks.enqueue_for(session, wid, "warning.expired")
    return len(expired)
