"""Incident use cases: create, read, update, add a report, move through the workflow.
No SQL here (repositories) and no HTTP (routers); the session is passed in."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import GRADE_RANK, TRANSITIONS, WORKFLOW_STATUSES, Role, Status
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.repositories import audit, submissions
from app.repositories import incidents as repo
from app.schemas.incidents import IncidentCreate, IncidentUpdate, ReportCreate
from app.services.access import disclosure
from app.services.access.disclosure import PARTNER_HIDDEN, PartnerPolicy
from app.services.auth import Principal
from app.services.geo.h3cells import cell_radius_m, latlng_cell, to_str
from app.services.incidents.grading import ReportGrade, grade
from app.services.reporters import contacts as reporters
from app.services.triangulation import merging as triangulation
from app.services.triangulation.service import MatchConfig
from app.settings import Settings

__all__ = ["PARTNER_HIDDEN", "PartnerPolicy", "present"]
STAFF_FIELDS = ("created_by", "updated_by", "external_source", "external_id", "created_at",
                "updated_at")



def grades_at_least(min_grade: str) -> list[str]:
    return [g for g, r in GRADE_RANK.items() if r >= GRADE_RANK[min_grade]]


def _report_values(r: ReportCreate, actor: str, settings: Settings) -> dict[str, Any]:
    vals = r.model_dump(exclude_none=True)
    vals["section"] = r.section.value
    vals["created_by"] = actor
    if r.reporter_ref is not None:  # a reporter's identity: encrypted at rest
        vals["reporter_ref"] = reporters.protect(settings, r.reporter_ref)
    return vals


def _regrade(reports: list[dict[str, Any]]) -> tuple[str, int]:
    return grade(ReportGrade(r["section"], r.get("source_name"), r["source_reliability"],
                             r["information_credibility"], r.get("source_count") or 1,
                             key=str(r.get("id") or i), cites=tuple(r.get("cites") or ()))
                 for i, r in enumerate(reports))


async def create_once(session: AsyncSession, body: IncidentCreate, who: Principal, h3_res: int,
                      key: str | None, match: MatchConfig | None = None, *,
                      settings: Settings
                      ) -> tuple[uuid.UUID, dict[str, Any] | None, bool]:
    """`create`, made safe to repeat with an Idempotency-Key (the workbench's offline queue
    resends a form when the link returns): the same token, key and body give the first incident
    again (replayed = True, no triangulation outcome) and store nothing; the same key with
    another body is a conflict."""
    if key is None:
        new_id, placed = await create(session, body, who, h3_res, match, settings=settings)
        return new_id, placed, False
    if not (1 <= len(key) <= 200 and key.isascii() and key.isprintable()):
        raise InvalidInput("Idempotency-Key must be 1-200 printable ASCII characters",
                           errors=[{"pointer": "/header/idempotency-key", "detail": "invalid"}])
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    token = uuid.UUID(who.id)
    found = await submissions.claim(session, token, key, digest)
    if found is not None:
        await session.rollback()
        earlier_hash, earlier_id = found
        if earlier_hash != digest or earlier_id is None:
            raise Conflict("this Idempotency-Key was used for a different submission")
        return earlier_id, None, True
    new_id, placed = await create(session, body, who, h3_res, match, settings=settings,
                                  commit=False)
    await submissions.settle(session, token, key, new_id)
    await session.commit()
    return new_id, placed, False


async def create(session: AsyncSession, body: IncidentCreate, who: Principal, h3_res: int,
                 match: MatchConfig | None = None, *, settings: Settings,
                 commit: bool = True
                 ) -> tuple[uuid.UUID, dict[str, Any]]:
    """Record a staff entry, then triangulate it against every counted incident: it may become a
    report of an existing incident (its outcome says which) or wait as a possible duplicate."""
    report = _report_values(body.report, who.actor, settings)
    g, n = _regrade([report])
    values = body.model_dump(exclude={"report", "latitude", "longitude"})
    values.update(
        category=body.category.value, perpetrator_type=body.perpetrator_type.value,
        h3_cell=latlng_cell(body.latitude, body.longitude, h3_res), quality_grade=g,
        independent_sources=n, status=Status.entered.value, created_by=who.actor,
        updated_by=who.actor, mission_code=who.mission,  # a mission-scoped token's mission
    )
    new_id = await repo.insert_incident(session, values, body.longitude, body.latitude, report)
    await audit.record(session, actor=who.actor, action="create", object_type="incident",
                       object_id=str(new_id), after={**values, "latitude": body.latitude,
                                                               "longitude": body.longitude})
    placed = await triangulation.place_new_incident(session, new_id, match or MatchConfig(),
                                                    origin="entry", actor=who.actor)
    if commit:
        await session.commit()
    return new_id, placed


async def _load(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    row = await repo.get(session, incident_id, lock=lock)
    if row is None:
        raise NotFound(f"no incident with id {incident_id}")
    return row


def present(row: dict[str, Any], reports: list[dict[str, Any]] | None, role: Role,
            policy: PartnerPolicy | None = None) -> dict[str, Any]:
    """The incident as this role may see it (need to know): hidden fields are absent; partners
    get it at their resolution with small counts withheld (`disclosure.partner_incident`, with
    the safe defaults when no policy is given)."""
    out = {k: v for k, v in row.items() if k not in ("location", *STAFF_FIELDS)}
    out["h3_cell"] = to_str(row["h3_cell"])
    if role in (Role.admin, Role.analyst):
        out.update({k: row[k] for k in ("created_by", "updated_by", "external_source", "external_id")})
    if role not in (Role.admin, Role.analyst, Role.operations):
        for k in PARTNER_HIDDEN:
            out.pop(k, None)
        return disclosure.partner_incident(out, policy)
    shown = []
    for r in reports or []:
        item = {k: r[k] for k in ("id", "section", "source_reliability", "information_credibility",
                                  "source_count", "received_at", "narrative")}
        if role in (Role.admin, Role.analyst):
            item["source_name"] = r["source_name"]
            # held encrypted; read through the audited reveal (app.services.reporters)
            item["has_reporter_ref"] = r["reporter_ref"] is not None
        shown.append(item)
    out["reports"] = shown
    return out


def _visible(row: dict[str, Any], who: Principal) -> bool:
    return who.role != Role.partner or row["status"] == Status.approved


async def read(session: AsyncSession, incident_id: uuid.UUID, who: Principal,
               policy: PartnerPolicy | None = None) -> dict[str, Any]:
    row = await _load(session, incident_id)
    if not _visible(row, who):
        raise NotFound(f"no incident with id {incident_id}")
    reports = (await repo.reports_for(session, [incident_id]))[incident_id]
    return present(row, reports, who.role, policy)


def encode_cursor(row: dict[str, Any]) -> str:
    raw = orjson.dumps([row["occurred_start"].isoformat(), str(row["id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, ident = orjson.loads(raw)
        return datetime.fromisoformat(ts), uuid.UUID(ident)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("cursor is not one this service issued",
                           errors=[{"pointer": "/query/cursor", "detail": "invalid cursor"}]) from None


async def partner_filter(session: AsyncSession, f: repo.IncidentFilter, policy: PartnerPolicy
                         ) -> repo.IncidentFilter:
    """A partner's filter: approved incidents only, no filter on a hidden field, and a bbox that
    selects whole cells at the partner resolution (by centroid), never exact points."""
    disclosure.check_filters(Role.partner, {"perpetrator": f.perpetrator}, policy)
    f.statuses = [Status.approved.value]
    if f.bbox is not None:
        near = await repo.parent_cells(session, f, policy.res, margin_m=2 * cell_radius_m(policy.res))
        f.cells = (policy.res, disclosure.cells_with_centroid_in(near, f.bbox))
        f.bbox = None
    return f


async def list_page(session: AsyncSession, f: repo.IncidentFilter, who: Principal, *, limit: int,
                    cursor: str | None, with_count: bool, policy: PartnerPolicy | None = None
                    ) -> tuple[list[dict[str, Any]], str | None, int | None]:
    if who.role == Role.partner:
        policy = policy or PartnerPolicy()
        f = await partner_filter(session, f, policy)
    else:
        disclosure.check_filters(who.role, {"perpetrator": f.perpetrator})
        if not f.statuses:  # merged accounts and held possible duplicates only when asked for
            f.statuses = [s.value for s in WORKFLOW_STATUSES]
    after = decode_cursor(cursor) if cursor else None
    rows = await repo.page(session, f, limit=limit + 1, after=after)
    has_more = len(rows) > limit
    rows = rows[:limit]
    reports = (await repo.reports_for(session, [r["id"] for r in rows])
               if who.role != Role.partner else {})
    items = [present(r, reports.get(r["id"]), who.role, policy) for r in rows]
    nxt = encode_cursor(rows[-1]) if has_more and rows else None
    total = await repo.count(session, f) if with_count else None
    return items, nxt, total


async def update(session: AsyncSession, incident_id: uuid.UUID, body: IncidentUpdate,
                 who: Principal, h3_res: int) -> dict[str, Any]:
    before = await _load(session, incident_id, lock=True)
    changes = body.model_dump(exclude_unset=True)
    lonlat = None
    if "latitude" in changes:
        lat, lon = changes.pop("latitude"), changes.pop("longitude")
        if lat is None or lon is None:
            raise InvalidInput("latitude and longitude cannot be removed",
                               errors=[{"pointer": "/body/latitude", "detail": "must be a number"}])
        lonlat = (lon, lat)
        changes["h3_cell"] = latlng_cell(lat, lon, h3_res)
    for key in ("occurred_start", "category", "perpetrators", "fatalities_best", "injured",
                "crsv_survivors", "children_affected", "displaced", "time_precision",
                "location_precision", "location_radius_m", "perpetrator_type"):
        if key in changes and changes[key] is None:
            raise InvalidInput(f"{key} cannot be null",
                               errors=[{"pointer": f"/body/{key}", "detail": "must not be null"}])
    merged = {**before, **changes}
    if merged["occurred_end"] is not None and merged["occurred_end"] < merged["occurred_start"]:
        raise InvalidInput("occurred_end must not be before occurred_start",
                           errors=[{"pointer": "/body/occurred_end", "detail": "before occurred_start"}])
    lo, best, hi = merged["fatalities_low"], merged["fatalities_best"], merged["fatalities_high"]
    if (lo is not None and lo > best) or (hi is not None and hi < best):
        raise InvalidInput("fatalities must satisfy low ≤ best ≤ high",
                           errors=[{"pointer": "/body/fatalities_best", "detail": "out of order"}])
    for k in ("category", "perpetrator_type"):
        if k in changes:
            changes[k] = str(changes[k].value if hasattr(changes[k], "value") else changes[k])
    changes["updated_by"] = who.actor
    await repo.update_incident(session, incident_id, changes, lonlat)
    after_vals = {k: v for k, v in changes.items()}
    if lonlat:
        after_vals.update(longitude=lonlat[0], latitude=lonlat[1])
    await audit.record(session, actor=who.actor, action="update", object_type="incident",
                       object_id=str(incident_id),
                       before={k: before.get(k) for k in after_vals},
                       after=after_vals)
    await session.commit()
    return await read(session, incident_id, who)


async def add_report(session: AsyncSession, incident_id: uuid.UUID, body: ReportCreate,
                     who: Principal, *, settings: Settings) -> dict[str, Any]:
    before = await _load(session, incident_id, lock=True)
    if before["status"] == Status.merged:
        raise Conflict(f"incident {incident_id} is merged into {before['merged_into']}; "
                       "add the report there",
                       errors=[{"pointer": "/path/incident_id", "detail": "merged"}])
    values = _report_values(body, who.actor, settings)
    report_id = await repo.add_report(session, incident_id, values)
    reports = (await repo.reports_for(session, [incident_id]))[incident_id]
    g, n = _regrade(reports)
    await repo.update_incident(session, incident_id,
                               {"quality_grade": g, "independent_sources": n, "updated_by": who.actor})
    await audit.record(session, actor=who.actor, action="add_report", object_type="incident",
                       object_id=str(incident_id),
                       before={"quality_grade": before["quality_grade"],
                               "independent_sources": before["independent_sources"]},
                       after={"report_id": str(report_id), "section": values["section"],
                              "quality_grade": g, "independent_sources": n})
    await session.commit()
    return {"id": str(report_id), "incident_id": str(incident_id), "quality_grade": g,
            "independent_sources": n}


# Who may move an incident into each status.
TRANSITION_ROLES: dict[Status, tuple[Role, ...]] = {
    Status.validated: (Role.analyst, Role.admin),
    Status.approved: (Role.admin,),
    Status.rejected: (Role.analyst, Role.admin),
}


async def transition(session: AsyncSession, incident_id: uuid.UUID, target: Status, who: Principal,
                     comment: str | None, *, four_eyes: bool = True) -> dict[str, Any]:
    """Move an incident through the workflow. With `four_eyes` (KINGA_FOUR_EYES_APPROVAL, on by
    default) the approver is never the incident's creator: another person must look at it.
    (An admin's approved import is its own path, audited per batch: import_pipeline.)"""
    if who.role not in TRANSITION_ROLES[target]:
        raise Forbidden(f"the {who.role.value} role may not mark incidents {target.value}")
    row = await _load(session, incident_id, lock=True)
    if target is Status.approved and four_eyes and row["created_by"] == who.actor:
        raise Forbidden("four-eyes rule: the creator of an incident may not approve it; another "
                        "admin must", kind="four-eyes", title="Approval needs a second person")
    current = Status(row["status"])
    if current not in TRANSITIONS[target]:
        raise Conflict(f"an incident that is {current.value} cannot become {target.value}; allowed "
                       f"from: {', '.join(s.value for s in TRANSITIONS[target])}")
    await repo.update_incident(session, incident_id, {"status": target.value, "updated_by": who.actor})
    await audit.record(session, actor=who.actor, action=target.value, object_type="incident",
                       object_id=str(incident_id), before={"status": current.value},
                       after={"status": target.value, "comment": comment})
    await session.commit()
    return await read(session, incident_id, who)
