"""Staff review of alerts: list, confirm (optionally locating it), merge into an incident, dismiss.
Every change is audited. Reporter contacts are never listed: analysts and admins see whether one
is held and read it through the audited reveal (app.services.reporters)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import COUNTED_STATUSES, Role
from app.errors import Conflict, InvalidInput, NotFound
from app.repositories import alerts as repo
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.repositories import integrations as integ_repo
from app.schemas.alerts import AlertLocate
from app.services.alerts import triage as intake
from app.services.auth import Principal
from app.services.geo.h3cells import latlng_cell, to_str
from app.services.missions import places
from app.services.warnings import lifecycle as warning_svc
from app.settings import Settings

HIDDEN = ("sender_key", "report_id", "reporter_contact", "h3_cell")


def present(row: dict[str, Any], role: Role) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in HIDDEN}
    out["triaged"] = row.get("triage") is not None
    out["h3_cell"] = to_str(row["h3_cell"]) if row.get("h3_cell") else None
    if role in (Role.admin, Role.analyst):
        # Never the contact itself: it is read through the audited reveal
        # (POST /api/v1/alerts/{id}/reporter-contact).
        out["has_reporter_contact"] = row.get("reporter_contact") is not None
    return out


def _cursor(row: dict[str, Any]) -> str:
    raw = orjson.dumps([row["received_at"].isoformat(), str(row["id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        ts, ident = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(ts), uuid.UUID(ident)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput(
            "cursor is not one this service issued",
            errors=[{"pointer": "/query/cursor", "detail": "invalid cursor"}],
        ) from None


async def list_page(
    session: AsyncSession,
    who: Principal,
    *,
    statuses: list[str] | None,
    needs_location: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    rows = await repo.page(
        session,
        statuses=statuses,
        needs_location=needs_location,
        limit=limit + 1,
        after=_decode(cursor) if cursor else None,
    )
    nxt = _cursor(rows[limit - 1]) if len(rows) > limit else None
    return [present(r, who.role) for r in rows[:limit]], nxt


async def _load(session: AsyncSession, alert_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.get(session, alert_id, lock=True)
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    if row["triage"] is None:
        raise Conflict("this alert is still being triaged; retry in a moment")
    return row


async def read(session: AsyncSession, alert_id: uuid.UUID, who: Principal) -> dict[str, Any]:
    row = await repo.get(session, alert_id)
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return present(row, who.role)


async def _retire_opened(session: AsyncSession, incident_id: uuid.UUID, actor: str, why: str) -> None:
    """An incident opened by this alert alone is rejected when the alert leaves it."""
    if await repo.report_count(session, incident_id) == 0:
        await incident_repo.update_incident(session, incident_id, {"status": "rejected", "updated_by": actor})
        await audit.record(
            session,
            actor=actor,
            action="rejected",
            object_type="incident",
            object_id=str(incident_id),
            after={"status": "rejected", "comment": why},
        )
    else:
        await intake.regrade(session, incident_id, actor)


async def confirm(
    session: AsyncSession,
    settings: Settings,
    alert_id: uuid.UUID,
    body: AlertLocate,
    who: Principal,
) -> dict[str, Any]:
    row = await _load(session, alert_id)
    if row["status"] != "new":
        raise Conflict(f"only new alerts can be confirmed; this one is {row['status']}")
    changes: dict[str, Any] = {"status": "linked"}
    if body.category is not None:
        changes["category"] = body.category.value
    if row["needs_location"]:
        lat, lon, place, radius = body.latitude, body.longitude, body.place, 0
        if lat is None and body.place:
            owner = await integ_repo.by_id(session, row["integration_id"]) or {}
            found = (await places.for_code(session, settings, owner.get("mission_code"))
                     ).resolve(body.place)
            if found is None:
                raise InvalidInput(
                    f"place {body.place!r} is not in the gazetteer; send coordinates",
                    errors=[{"pointer": "/body/place", "detail": "unknown place"}],
                )
            lat, lon, place, radius = found.latitude, found.longitude, found.name, found.radius_m
        if lat is None or lon is None:
            raise InvalidInput(
                "this alert has no location yet: send latitude/longitude or a place",
                errors=[{"pointer": "/body/latitude", "detail": "required"}],
            )
        integ = await integ_repo.by_id(session, row["integration_id"])
        values = {
            **row,
            **changes,
            "h3_cell": latlng_cell(lat, lon, settings.h3_resolution),
            "place_name": place,
            "location_radius_m": radius,
            "location_source": "manual",
            "needs_location": False,
        }
        await intake.triage_into_incident(session, settings, integ or {}, values, (lon, lat), who.actor)
        changes.update(
            {
                k: values[k]
                for k in (
                    "h3_cell",
                    "place_name",
                    "location_radius_m",
                    "location_source",
                    "needs_location",
                    "incident_id",
                    "report_id",
                    "opened_incident",
                    "triage",
                )
            }
        )
        await repo.update_alert(session, alert_id, changes, (lon, lat))
        await warning_svc.evaluate_alert(
            session, settings, {**values, "lonlat": (lon, lat)}, now=datetime.now(UTC)
        )
    else:
        await repo.update_alert(session, alert_id, changes)
    await audit.record(
        session,
        actor=who.actor,
        action="confirm",
        object_type="alert",
        object_id=str(alert_id),
        before={"status": row["status"]},
        after=orjson.loads(orjson.dumps(changes, default=str)) | {"comment": body.comment},
    )
    await session.commit()
    return await read(session, alert_id, who)


async def merge(
    session: AsyncSession,
    alert_id: uuid.UUID,
    incident_id: uuid.UUID,
    comment: str | None,
    who: Principal,
) -> dict[str, Any]:
    row = await _load(session, alert_id)
    if row["status"] == "dismissed" or row["collapsed_into"]:
        raise Conflict("dismissed alerts and collapsed repeats cannot be merged")
    if row["incident_id"] == incident_id:
        raise Conflict("the alert is already linked to that incident")
    target = await incident_repo.get(session, incident_id, lock=True)
    if target is None or target["status"] not in {s.value for s in COUNTED_STATUSES}:
        # rejected, merged into another or held as a possible duplicate: not an incident to join
        raise NotFound(f"no open incident with id {incident_id}")
    if row["report_id"] is not None:
        await repo.move_report(session, row["report_id"], incident_id)
        await intake.regrade(session, incident_id, who.actor)
        report_id = row["report_id"]
    else:
        integ = await integ_repo.by_id(session, row["integration_id"]) or {}
        report_id = await intake.link_to(session, incident_id, integ, row, who.actor)
    if row["incident_id"] is not None:
        await _retire_opened(session, row["incident_id"], who.actor, f"merged into {incident_id}")
    await repo.update_alert(
        session,
        alert_id,
        {
            "status": "linked",
            "incident_id": incident_id,
            "report_id": report_id,
            "opened_incident": False,
            "needs_location": False,
        },
    )
    await audit.record(
        session,
        actor=who.actor,
        action="merge",
        object_type="alert",
        object_id=str(alert_id),
        before={"status": row["status"], "incident_id": str(row["incident_id"])},
        after={"status": "linked", "incident_id": str(incident_id), "comment": comment},
    )
    await session.commit()
    return await read(session, alert_id, who)


async def dismiss(session: AsyncSession, alert_id: uuid.UUID, reason: str, who: Principal) -> dict[str, Any]:
    row = await _load(session, alert_id)
    if row["status"] != "new":
        raise Conflict(f"only new alerts can be dismissed; this one is {row['status']}")
    if (
        row["opened_incident"]
        and row["incident_id"] is not None
        and await repo.report_count(session, row["incident_id"]) == 1
    ):
        await incident_repo.update_incident(
            session, row["incident_id"], {"status": "rejected", "updated_by": who.actor}
        )
        await audit.record(
            session,
            actor=who.actor,
            action="rejected",
            object_type="incident",
            object_id=str(row["incident_id"]),
            after={"status": "rejected", "comment": f"alert dismissed: {reason}"},
        )
    await repo.update_alert(session, alert_id, {"status": "dismissed"})
    await audit.record(
        session,
        actor=who.actor,
        action="dismiss",
        object_type="alert",
        object_id=str(alert_id),
        before={"status": row["status"]},
        after={"status": "dismissed", "reason": reason},
    )
    await session.commit()
    return await read(session, alert_id, who)
