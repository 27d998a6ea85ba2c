"""Alert triage, off the request path.

Intake (app.services.alerts.intake) stores each accepted alert durably with `triage = NULL` and answers
at once. This module turns stored alerts into incidents and warnings: the same SMS resent within
minutes collapses into the first; a located alert is linked as a corroborating report of the best
matching incident or opens a new unverified one; then the warning rules run. The `TriageWorker`
(app/workers/triage.py) in each server process drains the queue (alerts with `triage IS NULL`,
oldest first, claimed with `FOR UPDATE SKIP LOCKED`, so several processes never triage one alert
twice). It is woken by each
intake, polls every `alert_triage_poll_s` for alerts stored by other processes, and starts by
draining whatever a previous run left (restart-safe: the queue is the table). Until its triage
commits an alert reads `status = new`, `triaged = false`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.repositories import alerts as repo
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.repositories import integrations as integ_repo
from app.repositories import quarantine as quarantine_repo
from app.schemas.common import OBSERVED_MIN, observed_max, strip_control
from app.services.community import acknowledgements as community
from app.services.incidents import matching as triage
from app.services.incidents.grading import ReportGrade, grade
from app.services.triangulation import merging
from app.services.triangulation.alerts import match_alert
from app.services.triangulation.matcher import Outcome
from app.services.triangulation.service import MatchConfig
from app.services.warnings import lifecycle as warning_svc
from app.settings import Settings

log = logging.getLogger("kinga.alerts.triage")

# Community alerts cannot be judged on arrival: source F, information 6 (see docs/grading.md).
ALERT_RELIABILITY, ALERT_CREDIBILITY = "F", 6
RESULT_COLUMNS = ("status", "incident_id", "report_id", "opened_incident", "collapsed_into", "triage")


def report_values(integ: dict[str, Any], values: dict[str, Any], actor: str) -> dict[str, Any]:
    # The keyed hash of the reporter's contact names the source (the same reporter is one source
    # when grading); an alert without a contact is its own source.
    tag = (values.get("sender_key") or "")[:12] or hashlib.sha256(str(values["id"]).encode()).hexdigest()[:12]
    return {
        "section": integ["section"],
        "source_name": f"{integ['name']}/{tag}",
        "source_reliability": ALERT_RELIABILITY,
        "information_credibility": ALERT_CREDIBILITY,
        "source_count": 1,
        "narrative": values["text"],
        "received_at": values["observed_at"],
        "reporter_ref": values.get("reporter_contact"),  # the ciphertext, copied as stored
        "created_by": actor,
    }


async def regrade(session: AsyncSession, incident_id: uuid.UUID, actor: str) -> tuple[str, int]:
    reports = (await incident_repo.reports_for(session, [incident_id]))[incident_id]
    g, n = grade(
        ReportGrade(
            r["section"],
            r.get("source_name"),
            r["source_reliability"],
            r["information_credibility"],
            r.get("source_count") or 1,
            key=str(r["id"]),
            cites=tuple(r.get("cites") or ()),
        )
        for r in reports
    )
    await incident_repo.update_incident(
        session, incident_id, {"quality_grade": g, "independent_sources": n, "updated_by": actor}
    )
    return g, n


async def link_to(
    session: AsyncSession,
    incident_id: uuid.UUID,
    integ: dict[str, Any],
    values: dict[str, Any],
    actor: str,
) -> uuid.UUID:
    report_id = await incident_repo.add_report(session, incident_id, report_values(integ, values, actor))
    g, n = await regrade(session, incident_id, actor)
    await audit.record(
        session,
        actor=actor,
        action="add_report",
        object_type="incident",
        object_id=str(incident_id),
        after={
            "report_id": str(report_id),
            "alert_id": str(values["id"]),
            "quality_grade": g,
            "independent_sources": n,
        },
    )
    return report_id


async def triage_into_incident(
    session: AsyncSession,
    settings: Settings,
    integ: dict[str, Any],
    values: dict[str, Any],
    lonlat: tuple[float, float],
    actor: str,
) -> None:
    """Link as a corroborating report of the best matching incident (the triangulation matcher,
    alert profile), or open a new one — held as a possible duplicate when the best candidate
    scores between the review threshold and the link score."""
    observed: datetime = values["observed_at"]
    matched = await match_alert(session, settings, values, lonlat, integ.get("mission_code"))
    outcome = Outcome(int(matched.decisions.outcome[0]))
    if outcome == Outcome.linked:
        target = matched.decisions.target[0]
        ev = matched.evidence(0) or {}
        values["report_id"] = await link_to(session, target, integ, values, actor)
        values.update(
            status="linked",
            incident_id=target,
            opened_incident=False,
            triage={
                "action": "linked",
                "score": ev.get("score"),
                "parts": ev.get("parts"),
                "candidates": matched.candidates,
            },
        )
        return
    incident = {
        "occurred_start": observed,
        "category": values["category"],
        "h3_cell": values["h3_cell"],
        "location_precision": 1 if values["location_source"] == "given" else 2,
        "location_radius_m": values.get("location_radius_m", 0),
        "place_name": values.get("place_name"),
        "narrative": values["text"],
        "status": "entered",
        "quality_grade": "c",
        "independent_sources": 1,
        "created_by": actor,
        "updated_by": actor,
        "mission_code": integ.get("mission_code"),  # the integration's mission, if it has one
    }
    report = {**report_values(integ, values, actor), "id": uuid.uuid4()}
    incident_id = await incident_repo.insert_incident(session, incident, *lonlat, report)
    values["report_id"] = report["id"]
    await audit.record(
        session,
        actor=actor,
        action="create",
        object_type="incident",
        object_id=str(incident_id),
        after={"from_alert": str(values["id"]), "category": values["category"]},
    )
    values.update(
        status="new",
        incident_id=incident_id,
        opened_incident=True,
        triage={"action": "opened", "candidates": matched.candidates},
    )
    if outcome == Outcome.queued:
        held = await merging.place_new_incident(session, incident_id, MatchConfig.from_settings(settings),
                                                origin="alert", actor=actor, matched=matched)
        values["triage"].update(held_as_duplicate=held.get("duplicate_id"), score=held.get("score"))


async def triage_one(
    session: AsyncSession, settings: Settings, integ: dict[str, Any], row: dict[str, Any], *, now: datetime
) -> list[uuid.UUID]:
    """Triage one stored alert (its row as read back) and record the outcome on it; returns the
    ids of warnings it raised."""
    values = dict(row)
    actor = f"integration:{integ.get('name', '?')}"
    observed = values.get("observed_at")
    if observed is None or not OBSERVED_MIN <= observed <= observed_max(now):
        # Intake refuses such dates; one stored some other way is set aside, not triaged.
        raise ValueError(f"observed_at {observed!s:.40} is outside 1900 .. now + 1 day")
    if values.get("sender_key") and values.get("format") == "sms":
        since = values["received_at"] - timedelta(minutes=settings.sms_collapse_minutes)
        before = (values["received_at"], values["id"])
        for prev in await repo.recent_from_sender(session, values["sender_key"], since, before=before):
            if triage.is_repeat(prev["text"], values["text"]):
                original = prev["collapsed_into"] or prev["id"]
                values.update(
                    status="linked",
                    collapsed_into=original,
                    incident_id=prev["incident_id"],
                    triage={"action": "collapsed", "into": str(original)},
                )
                await _record(session, values)
                return []
    # The reporter hears that the alert arrived (queued here, sent after this batch commits).
    await community.on_received(session, settings, integ, values)
    if values["needs_location"] or values.get("longitude") is None:
        values.update(status="new", triage={"action": "needs_location"})
        await _record(session, values)
        return []
    lonlat = (values["longitude"], values["latitude"])
    await triage_into_incident(session, settings, integ, values, lonlat, actor)
    if integ.get("has_area") and await integ_repo.outside_area(session, integ["id"], values["id"]):
        values["triage"]["outside_area"] = True  # kept and triaged as usual; flagged for review
    await _record(session, values)
    return await warning_svc.evaluate_alert(
        session, settings, {**values, "lonlat": lonlat, "mission_code": integ.get("mission_code")},
        now=now)


async def _record(session: AsyncSession, values: dict[str, Any]) -> None:
    await repo.update_alert(session, values["id"], {k: values.get(k) for k in RESULT_COLUMNS})


def _is_outage(exc: BaseException) -> bool:
    """The database is unreachable (the batch waits for the next try), as opposed to one row's
    bad data or a bug (that alert is quarantined and the queue moves on)."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _error_summary(exc: BaseException) -> str:
    # The kind and the first line of the message: no row values beyond what the error names.
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = strip_control(message[0][:300]) if message else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


async def quarantine(session: AsyncSession, alert_id: uuid.UUID, exc: BaseException) -> None:
    """Set one alert aside: its triage records the error (it leaves the queue and reads as
    triaged, action `error`), and the quarantine lists it for admins."""
    summary = _error_summary(exc)
    await repo.update_alert(session, alert_id, {"triage": {"action": "error",
                                                           "detail": type(exc).__name__}})
    await quarantine_repo.add(session, source="alert_triage", object_type="alert",
                              object_id=str(alert_id), error=summary)


async def _claim(session: AsyncSession, limit: int) -> list[dict[str, Any] | uuid.UUID]:
    """The batch's alerts: read whole at once (the fast path), or, when some row cannot be read,
    claimed by id and read one by one inside each alert's own error handling."""
    try:
        async with session.begin_nested():
            return list(await repo.claim_untriaged(session, limit))
    except Exception as exc:
        if _is_outage(exc):
            raise
        log.warning("triage: a queued alert cannot be read whole (%s); reading one by one",
                    type(exc).__name__)
        return list(await repo.claim_untriaged_ids(session, limit))


async def triage_batch(
    maker: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int
) -> tuple[int, list[uuid.UUID]]:
    """Claim up to `limit` untriaged alerts and triage them in one transaction (one savepoint
    each). Everything about one alert (reading it, its integration, matching, warnings) happens
    inside its savepoint: an alert that fails for any reason but an outage is quarantined with
    its error and never retried in a loop. Returns (alerts claimed, warnings raised). Database
    outages propagate."""
    warnings: list[uuid.UUID] = []
    async with maker() as session:
        claimed = await _claim(session, limit)
        integs: dict[uuid.UUID, dict[str, Any]] = {}
        now = datetime.now(UTC)
        for item in claimed:
            alert_id = item if isinstance(item, uuid.UUID) else item["id"]
            try:
                async with session.begin_nested():
                    row = item if isinstance(item, dict) else await repo.get(session, alert_id)
                    if row is None:
                        continue
                    iid = row["integration_id"]
                    if iid not in integs:
                        integs[iid] = await integ_repo.by_id(session, iid) or {}
                    warnings += await triage_one(session, settings, integs[iid], row, now=now)
            except Exception as exc:  # bad data or a bug in one alert must not block the queue
                if _is_outage(exc):
                    raise
                log.exception("triage failed for alert %s; quarantined", alert_id)
                async with session.begin_nested():
                    await quarantine(session, alert_id, exc)
        await session.commit()
    return len(claimed), warnings


async def drain(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    gate: Callable[[], AbstractAsyncContextManager[None]] = contextlib.nullcontext,  # type: ignore[assignment]
) -> int:
    """Triage batches until the queue is empty (each batch inside `gate`). Webhook deliveries for
    the warnings raised go out after each batch's commit (the sessionmaker's outbox hook)."""
    total = 0
    while True:
        async with gate():
            n, _raised = await triage_batch(maker, settings, limit=settings.alert_triage_batch)
        total += n
        if n < settings.alert_triage_batch:
            return total
        await asyncio.sleep(0)
