"""Alert intake: authenticate the integration's request, make retries safe, read the format,
locate the alert and store it durably, in one statement and one synchronous commit. Triage into
incidents and the warning rules run right after, off the request path (app.services.alerts.triage):
an accepted alert is in the database before the 201 leaves, and a client retrying with its
Idempotency-Key after any failure stores it exactly once."""

from __future__ import annotations

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
from app.schemas.alerts import AlertInput, AlertJson, SmsForm
from app.schemas.common import OBSERVED_MIN, control_character
from app.services.alerts import cap
from app.services.alerts import integrations as integ_svc
from app.services.auth import Principal
from app.services.credentials import rate_limit
from app.services.geo import gazetteer
from app.services.geo.h3cells import latlng_cell
from app.services.missions import languages, places
from app.services.missions.profile import Mission, fallback
from app.services.reporters import contacts as reporters
from app.settings import Settings


def _guess(text: str, missions: list[Mission]) -> str:
    """The category an uncategorised alert's words suggest, in the languages (and with the
    mission and armed-group names) of the missions it may come from."""
    def union(attr: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x for m in missions for x in getattr(m, attr)))
    return languages.guess_category(text, union("languages"), union("un_names"),
                                    union("armed_groups"))

MEDIA_FORMATS = {
    "application/json": "json",
    "application/cap+xml": "cap",
    "application/xml": "cap",
    "text/xml": "cap",
    "application/x-www-form-urlencoded": "sms",
}
# Every text an alert format can carry, with its longest accepted length (JSON and SMS bodies are
# bounded by their models too; CAP elements only here).
TEXT_FIELDS = {"text": 5000, "place": 500, "language": 35, "reporter_contact": 200,
               "sender": 64, "external_id": 200}
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")


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
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput.at("/body", "the form body is not UTF-8 (send form fields "
                                       "percent-encoded UTF-8)") from None
    try:
        form = parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=20,
            errors="strict",  # a percent-encoded byte that is not UTF-8 is refused, not replaced
        )
    except UnicodeDecodeError:
        raise InvalidInput.at("/body", "the form body is not UTF-8: a field is not "
                                       "percent-encoded UTF-8") from None
    except ValueError:
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
    """Check, read and durably store one alert (untriaged; see app.services.alerts.triage).
    One statement, committed on its own, stores the alert and its idempotency record."""
    pepper = settings.token_pepper.get_secret_value()
    integ = await integ_svc.for_principal(session, who.id, ttl_s=settings.integration_auth_cache_s)
    await rate_limit.take(session, integ)  # 429 when over its configured rate (none by default)
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
    fingerprint = integ_svc.request_fingerprint(content_type or "", body)
    try:
        alert = parse(fmt, body, settings)
        missions = await places.missions_for(session, settings, integ.get("mission_code"))
        gaz = None
        if alert.latitude is None or alert.longitude is None:
            gaz = await places.gazetteer_for(session, settings, missions)
        values, lonlat = prepare(settings, integ, alert, now=now, gaz=gaz, missions=missions)
    except DomainError:
        if key and (seen := await repo.get_key(session, integ["id"], key)) is not None:
            return _replay(seen, fingerprint)  # a used key answers 409 (or its replay) first
        raise
    result = _outcome(values)
    stored = await repo.store_accepted(
        session,
        values,
        lonlat,
        key=key,
        request_hash=fingerprint,
        status_code=result.status_code,
        response=result.body,
    )
    if not stored:  # the key was taken: replay its first answer, or refuse a different request
        seen = await repo.get_key(session, integ["id"], key or "")
        if seen is None:
            raise Conflict("a request with this Idempotency-Key was still in flight; retry")
        return _replay(seen, fingerprint)
    return result


def _replay(seen: dict[str, Any], fingerprint: str) -> Outcome:
    if seen["request_hash"] != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request")
    return Outcome(seen["status_code"], seen["response"], replayed=True)


def locate(alert: AlertInput, gaz: gazetteer.Gazetteer | None
           ) -> tuple[str | None, bool, dict[str, Any] | None]:
    """Fill coordinates from the place name (or one named in the text) when none were given.
    Returns (place, needs_location, the gazetteer's match with its score)."""
    if alert.latitude is not None and alert.longitude is not None:
        return alert.place, False, None
    if gaz is None:
        alert.location_source = "none"
        return alert.place, True, None
    for name in alert.extra.get("place_candidates") or ([alert.place] if alert.place else []):
        found = gaz.match(name)
        if found is not None:
            alert.latitude, alert.longitude = found.place.latitude, found.place.longitude
            alert.radius_m = max(alert.radius_m, found.place.radius_m)
            alert.location_source = "gazetteer"
            return found.place.name, False, found.as_dict()
    if not alert.place and (found := gaz.match_in_text(alert.text)) is not None:
        alert.latitude, alert.longitude = found.place.latitude, found.place.longitude
        alert.radius_m = max(alert.radius_m, found.place.radius_m)
        alert.location_source = "text"
        return found.place.name, False, found.as_dict()
    alert.location_source = "none"
    return alert.place, True, None


def prepare(
    settings: Settings, integ: dict[str, Any], alert: AlertInput, *, now: datetime,
    gaz: gazetteer.Gazetteer | None = None, missions: list[Mission] | None = None,
) -> tuple[dict[str, Any], tuple[float, float] | None]:
    """The alert's stored values (located, categorised, not yet triaged) and its lon/lat.
    `gaz`: the gazetteer of the integration's mission (of every mission without one);
    `missions`: whose languages and names categorise the text."""
    observed = alert.observed_at or now
    if observed.tzinfo is None:
        raise InvalidInput.at("/body/observed_at", "needs a time zone")
    if observed > now + timedelta(hours=1):
        raise InvalidInput(
            "observed_at is in the future",
            errors=[{"pointer": "/body/observed_at", "detail": "in the future"}],
        )
    if observed < OBSERVED_MIN:
        raise InvalidInput.at("/body/observed_at",
                              f"must not be before {OBSERVED_MIN.date().isoformat()}")
    for name, longest in TEXT_FIELDS.items():
        value = getattr(alert, name) or ""
        problem = control_character(value)
        if problem:
            raise InvalidInput.at(f"/body/{name}", problem)
        if len(value) > longest:
            raise InvalidInput.at(f"/body/{name}", f"at most {longest} characters")
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "integration_id": integ["id"],
        "format": alert.format,
        "text": alert.text,
        "language": alert.language,
        "observed_at": observed,
        "external_id": alert.external_id,
        "area": alert.area,
        "category": alert.category or _guess(alert.text, missions or [fallback(settings)]),
    }
    # Encrypted, with a keyed hash to recognise the reporter: the number is never stored clear.
    reporters.protect_alert(settings, values, alert.reporter_contact, sms_sender=alert.sender)
    place, needs_location, match = locate(alert, gaz)
    values.update(
        place_match=match,
        place_name=place,
        needs_location=needs_location,
        location_source=alert.location_source,
        location_radius_m=alert.radius_m,
    )
    if needs_location:
        return values, None
    assert alert.latitude is not None and alert.longitude is not None
    values["h3_cell"] = latlng_cell(alert.latitude, alert.longitude, settings.h3_resolution)
    return values, (alert.longitude, alert.latitude)


def _outcome(values: dict[str, Any]) -> Outcome:
    # Integrations see only that their alert was stored and whether it could be located; the
    # triage outcome (incident, warnings) is for staff (need to know) and comes a moment later.
    body = {
        "id": str(values["id"]),
        "status": "new",
        "triaged": False,
        "needs_location": values["needs_location"],
    }
    return Outcome(201, body)
