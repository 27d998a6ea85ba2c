"""Application factory. Settings, engine and pool live on app.state, built in the lifespan."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import app.api as api_package  # `as`: a bare `import app.api` would rebind the name `app`
from app import openapi
from app.db import make_async_engine, make_sessionmaker
from app.errors import install_error_handlers
from app.middleware import BodyLimit, InputGuard
from app.settings import Settings, get_settings

DESCRIPTION = """Kinga (Swahili: prevention, protection) stores graded, geolocated incidents
against civilians and turns them into threat layers, warnings and patrol plans for UN
peacekeeping missions. Authenticate with `Authorization: Bearer <token>`
(`kinga token create --role ROLE --name NAME`)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_async_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="Kinga", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodyLimit, default_limit=settings.max_body_bytes,
                       large_paths={"/api/v1/imports": settings.max_import_bytes})
    app.add_middleware(InputGuard)
    for module in api_modules():
        if hasattr(module, "router"):
            app.include_router(module.router)
        if hasattr(module, "install"):  # static files, extra middleware
            module.install(app)
    openapi.install(app)
    return app


def api_modules() -> list[object]:
    """Every router module under app/api, in name order (one module per resource)."""
    names = sorted(m.name for m in pkgutil.iter_modules(api_package.__path__))
    return [importlib.import_module(f"app.api.{n}") for n in names]


logging.basicConfig(level=logging.INFO)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` asks for this; building it lazily keeps imports side-effect free.
    if name == "app":
        return create_app()
    raise AttributeError(name)
