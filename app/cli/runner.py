"""Running the API's async services from a CLI command: one engine for the command's life."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """`work(sessionmaker, settings)` on a fresh async engine, disposed afterwards."""
    from app.db import make_async_engine, make_sessionmaker
    from app.settings import get_settings

    settings = get_settings()

    async def main() -> T:
        engine = make_async_engine(settings)
        try:
            return await work(make_sessionmaker(engine), settings)
        finally:
            await engine.dispose()

    return asyncio.run(main())
