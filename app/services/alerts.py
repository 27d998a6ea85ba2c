"""Alert intake: authenticate the integration's request, make retries safe, read the format,
locate the alert, triage it into an incident and evaluate warning rules, in ONE transaction
(an alert, its incident link, its warnings and its idempotency record commit together or not
at all, so a client retrying with its key after a failure stores the alert exactly once)."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
)
from app.repositories import alerts as repo
from app.repositories import audit
from app.repositories import incidents as incident_repo
from app.schemas.alerts import AlertInput, AlertJson, SmsForm
from app.services import cap, gazetteer, triage
from app.services import integrations as integ_svc
from app.services import warnings as warning_svc
from app.services.auth import Principal
from app.services.grading import ReportGrade, grade
from app.services.hexgrid import latlng_cell
from app.settings import Settings

MEDIA_FORMATS = {
    "application/json": "json",
    "application/cap+xml": "cap",
    "application/xml": "cap",
    "text/xml": "cap",
    "application/x-www-form-urlencoded": "sms",
}
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
# Community alerts cannot be judged on arrival: source F, information 6 (see docs/grading.md).
ALERT_RELIABILITY, ALERT_CREDIBILITY = "F", 6


class UnsupportedMedia(DomainError):
    status, kind, title = 415, "unsupported-media-type", "Unsupported media type"


@dataclass
class Outcome:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False
    warning_ids: list[uuid.UUID] = field(default_factory=list)


def media_format(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = MEDIA_FORMATS.get(media)
    if fmt is None:
        raise UnsupportedMedia(
            f"send application/json, application/cap+xml (or application/xml) "
            f"or application/x-www-form-urlencoded, not {media or 'nothing'!r}"
        )
    return fmt


def _validation_error(exc: ValidationError, prefix: str = "/body") -> InvalidInput:
    errors = [
        {"pointer": prefix + "".join(f"/{p}" for p in e["loc"]), "detail": e["msg"]} for e in exc.errors()
    ]
    return InvalidInput("; ".join(f"{e['pointer']}: {e['detail']}" for e in errors[:5]), errors=errors)


def _model(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from None


def parse(fmt: str, body: bytes, settings: Settings) -> AlertInput:
    if fmt == "json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(
                f"malformed JSON: {exc}", errors=[{"pointer": "/body", "detail": "not valid JSON"}]
            ) from None
        j: AlertJson = _model(AlertJson, data)
        return AlertInput(
            format="json",
            text=j.text,
            observed_at=j.observed_at,
            category=j.category.value if j.category else None,
            latitude=j.latitude,
            longitude=j.longitude,
            place=j.place,
            language=j.language,
            reporter_contact=j.reporter_contact,
            external_id=j.external_id,
        )
    if fmt == "cap":
        return cap.parse(body, cap.schema_path(settings.geodata_dir))
    try:
        form = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=20,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(
            "malformed form body", errors=[{"pointer": "/body", "detail": "not a URL-encoded form"}]
        ) from None
    sms: SmsForm = _model(SmsForm, {k: v[0] for k, v in form.items()})
    return AlertInput(
        format="sms",
        text=sms.text,
        observed_at=sms.received_at,
        sender=sms.sender,
        reporter_contact=sms.sender,
    )


def _check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise InvalidInput(
            "Idempotency-Key must be 1-200 printable ASCII characters",
            errors=[{"pointer": "/header/idempotency-key", "detail": "invalid"}],
        )
    return key


async def receive(
    session: AsyncSession,
    settings: Settings,
    who: Principal,
    *,
    content_type: str | None,
    body: bytes,
    idempotency_key: str | None,
    timestamp: str | None,
    signature: str | None,
) -> Outcome:
    pepper = settings.token_pepper.get_secret_value()
    integ = await integ_svc.for_principal(session, who.id)
    if len(body) > settings.alert_max_body_bytes:
        raise PayloadTooLarge(f"alert bodies are limited to {settings.alert_max_body_bytes} bytes")
    now = datetime.now(UTC)
    integ_svc.verify_signature(
        secret=integ_svc.derive_secret(pepper, integ["secret_salt"]),
        timestamp=timestamp,
        signature=signature,
        body=body,
        required=integ["require_signature"],
        max_skew_s=settings.alert_signature_max_skew_s,
        now=now,
    )
    fmt = media_format(content_type)
    if fmt not in integ["formats"]:
        raise Forbidden(f"integration {integ['name']!r} may post {', '.join(integ['formats'])}, not {fmt}")
    key = _check_key(idempotency_key)
    await repo.require_durable_commit(session)
    fingerprint = integ_svc.request_fingerprint(content_type or "", body)
    if key:
        await repo.lock_key(session, integ["id"], key)
        seen = await repo.get_key(session, integ["id"], key)
        if seen is not None:
            if seen["request_hash"] != fingerprint:
                raise Conflict("this Idempotency-Key was already used with a different request")
            await session.rollback()
            return Outcome(seen["status_code"], seen["response"], replayed=True)
    alert = parse(fmt, body, settings)
    result = await ingest(session, settings, integ, alert, now=now)
    if key:
        await repo.put_key(session, integ["id"], key, fingerprint, result.status_code, result.body)
    await session.commit()
    return result


def _sender_key(pepper: str, sender: str) -> str:
    digits = re.sub(r"[^\d+]", "", sender) or sender
    return hmac.new(pepper.encode(), b"sms-sender:" + digits.encode(), hashlib.sha256).hexdigest()


def locate(alert: AlertInput, settings: Settings) -> tuple[str | None, bool]:
    """Fill coordinates from the place name (or one named in the text) when none were given.
    Returns (place, needs_location)."""
    if alert.latitude is not None and alert.longitude is not None:
        return alert.place, False
    gaz = gazetteer.load(settings.geodata_dir)
    for name in alert.extra.get("place_candidates") or ([alert.place] if alert.place else []):
        found = gaz.resolve(name)
        if found is not None:
            alert.latitude, alert.longitude = found.latitude, found.longitude
            alert.radius_m = max(alert.radius_m, found.radius_m)
            alert.location_source = "gazetteer"
            return found.name, False
    if not alert.place and (found := gaz.find_in_text(alert.text)) is not None:
        alert.latitude, alert.longitude = found.latitude, found.longitude
        alert.radius_m = max(alert.radius_m, found.radius_m)
        alert.location_source = "text"
        return found.name, False
    alert.location_source = "none"
    return alert.place, True


async def ingest(
    session: AsyncSession,
    settings: Settings,
    integ: dict[str, Any],
    alert: AlertInput,
    *,
    now: datetime,
) -> Outcome:
    observed = alert.observed_at or now
    if observed > now + timedelta(hours=1):
        raise InvalidInput(
            "observed_at is in the future",
            errors=[{"pointer": "/body/observed_at", "detail": "in the future"}],
        )
    alert.observed_at = observed
    actor = f"integration:{integ['name']}"
    alert_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": alert_id,
        "integration_id": integ["id"],
        "format": alert.format,
        "text": alert.text,
        "language": alert.language,
        "observed_at": observed,
        "reporter_contact": alert.reporter_contact,
        "external_id": alert.external_id,
        "area": alert.area,
        "category": alert.category or triage.guess_category(alert.text),
    }
    if alert.sender:
        values["sender_key"] = _sender_key(settings.token_pepper.get_secret_value(), alert.sender)
        since = now - timedelta(minutes=settings.sms_collapse_minutes)
        for prev in await repo.recent_from_sender(session, values["sender_key"], since):
            if triage.is_repeat(prev["text"], alert.text):
                original = prev["collapsed_into"] or prev["id"]
                values.update(
                    status="linked",
                    collapsed_into=original,
                    location_source="none",
                    incident_id=prev["incident_id"],
                    triage={"action": "collapsed", "into": str(original)},
                )
                await repo.insert_alert(session, values, None)
                return _outcome(alert_id, "linked", values, [])
    place, needs_location = locate(alert, settings)
    values.update(
        place_name=place,
        needs_location=needs_location,
        location_source=alert.location_source,
        location_radius_m=alert.radius_m,
    )
    lonlat = None
    if not needs_location:
        assert alert.latitude is not None and alert.longitude is not None
        lonlat = (alert.longitude, alert.latitude)
        values["h3_cell"] = latlng_cell(alert.latitude, alert.longitude, settings.h3_resolution)
        await triage_into_incident(session, settings, integ, values, lonlat, actor)
    else:
        values.update(status="new", triage={"action": "needs_location"})
    await repo.insert_alert(session, values, lonlat)
    warning_ids = await warning_svc.evaluate_alert(session, settings, {**values, "lonlat": lonlat}, now=now)
    return _outcome(alert_id, values["status"], values, warning_ids)


def _outcome(
    alert_id: uuid.UUID, status: str, values: dict[str, Any], warning_ids: list[uuid.UUID]
) -> Outcome:
    # Integrations see only what they sent became: no incident details (need to know).
    body = {
        "id": str(alert_id),
        "status": status,
        "needs_location": values.get("needs_location", False),
        "collapsed": values.get("collapsed_into") is not None,
    }
    return Outcome(201, body, warning_ids=warning_ids)


def report_values(integ: dict[str, Any], values: dict[str, Any], actor: str) -> dict[str, Any]:
    tag = (values.get("sender_key") or "")[:12] or hashlib.sha256(
        (values.get("reporter_contact") or str(values["id"])).encode()
    ).hexdigest()[:12]
    return {
        "section": integ["section"],
        "source_name": f"{integ['name']}/{tag}",
        "source_reliability": ALERT_RELIABILITY,
        "information_credibility": ALERT_CREDIBILITY,
        "source_count": 1,
        "narrative": values["text"],
        "received_at": values["observed_at"],
        "reporter_ref": values.get("reporter_contact"),
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
    """Link as a corroborating report of the best matching incident, or open a new one."""
    observed: datetime = values["observed_at"]
    window = timedelta(hours=settings.triage_window_hours)
    radius = settings.triage_radius_m + values.get("location_radius_m", 0)
    candidates = await incident_repo.find_recent_near(
        session, *lonlat, radius, observed - window, observed + window
    )
    match = triage.best_match(
        candidates,
        category=values["category"],
        text=values["text"],
        observed_at=observed,
        radius_m=radius,
        window_hours=settings.triage_window_hours,
        link_score=settings.triage_link_score,
        text_threshold=settings.triage_text_threshold,
    )
    if match is not None:
        values["report_id"] = await link_to(session, match.incident_id, integ, values, actor)
        values.update(
            status="linked",
            incident_id=match.incident_id,
            opened_incident=False,
            triage={
                "action": "linked",
                "score": match.score,
                "parts": match.parts,
                "candidates": len(candidates),
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
        triage={"action": "opened", "candidates": len(candidates)},
    )
