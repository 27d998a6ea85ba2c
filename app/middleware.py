"""Pure ASGI middleware: refuse bodies over the configured limit before they are read whole."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response


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
