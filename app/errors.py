"""Domain errors: each carries its own HTTP status, a stable problem `kind` and a user-safe
detail (never internals). Framework-free: the routers' handlers (app/api/problems.py) turn them
into RFC 9457 problem+json."""

from __future__ import annotations

import math

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:kinga:problem:"


class DomainError(Exception):
    status = 400
    kind = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        status: int | None = None,
        kind: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind
        if title is not None:
            self.title = title
        self.headers: dict[str, str] = {}  # extra response headers (Retry-After, …)


class NotFound(DomainError):
    status, kind, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, kind, title = 409, "conflict", "Conflict"


class Unauthorized(DomainError):
    status, kind, title = 401, "unauthorized", "Authentication required"
    challenge = "Bearer"  # the WWW-Authenticate value sent with the 401


class Forbidden(DomainError):
    status, kind, title = 403, "forbidden", "Forbidden for this role"


class InvalidInput(DomainError):
    status, kind, title = 422, "validation", "Invalid input"

    @classmethod
    def at(cls, pointer: str, detail: str) -> InvalidInput:
        """The one way to refuse a value: its JSON pointer (`/body/field`, `/query/name`) and why."""
        return cls(detail, errors=[{"pointer": pointer, "detail": detail}])


class PayloadTooLarge(DomainError):
    status, kind, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(DomainError):
    status, kind, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: float) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))}


class ServiceUnavailable(DomainError):
    status, kind, title = 503, "unavailable", "Service temporarily unavailable"
