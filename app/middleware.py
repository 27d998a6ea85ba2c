"""Pure ASGI middleware: refuse bodies over the configured limit before they are read whole, and
refuse control characters in paths and query strings before any route sees them."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.schemas.common import control_character


class BodyLimit:
    def __init__(self, app: ASGIApp, default_limit: int, large_paths: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.large_paths = large_paths

    def _limit(self, path: str) -> int:
        for prefix, limit in self.large_paths.items():
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_large = problem_response(
            413, "payload-too-large", "Request body too large",
            f"the body exceeds the limit of {limit} bytes", instance=scope.get("path"),
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


class InputGuard:
    """Refuse, before any route runs, a path or query string that no filter could mean: text
    that is not UTF-8 once percent-decoded, or that holds NUL or control characters (a NUL
    reaching PostgreSQL is a 500; other control characters are never part of a name or code).
    Answers 422 problem+json pointing at the parameter."""

    def __init__(self, app: ASGIApp, max_query_bytes: int = 8192) -> None:
        self.app = app
        self.max_query_bytes = max_query_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._check(scope)
            if refusal is not None:
                pointer, detail = refusal
                await problem_response(
                    422, "validation", "Invalid input", f"{pointer}: {detail}",
                    instance=scope.get("path"), errors=[{"pointer": pointer, "detail": detail}],
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> tuple[str, str] | None:
        raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
        path_problem = _text_problem(unquote_to_bytes(raw_path))
        if path_problem:
            return "/path", path_problem
        query: bytes = scope.get("query_string") or b""
        if len(query) > self.max_query_bytes:
            return "/query", f"the query string exceeds {self.max_query_bytes} bytes"
        for part in query.split(b"&"):
            if not part:
                continue
            name_raw, _, value_raw = part.partition(b"=")
            name = unquote_to_bytes(name_raw.replace(b"+", b" "))
            value = unquote_to_bytes(value_raw.replace(b"+", b" "))
            shown = name.decode("utf-8", "replace")[:50] or "?"
            for what in (name, value):
                problem = _text_problem(what)
                if problem:
                    return f"/query/{_escape(shown)}", problem
        return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _text_problem(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return control_character(text)
