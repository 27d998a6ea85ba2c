"""Application factory and the ONE lifespan that owns the process's state.

The lifespan builds, in order: the threat-layer cache budget, the engine and session factory (its
commits wake the webhook dispatcher when they queued deliveries), the revocation listener
(LISTEN/NOTIFY: revoked tokens are refused by every process at once), the standby read route, the
webhook dispatcher, the alert triage worker (a child process by default, else a thread with its
own loop and engine: app/workers/triage.py), the scheduler of periodic jobs and the threat-layer
warm-up (the in-process event store, loaded in the background); it stops them in reverse order.
Nothing else starts background work or touches the lifespan. See docs/architecture.md.
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

import app.api as api_package  # `as`: a bare `import app.api` would rebind the name `app`
from app import openapi
from app.api.problems import install_error_handlers
from app.db import make_async_engine, make_read_route, make_sessionmaker
from app.middleware import BodyLimit, InputGuard
from app.services.threat import cache as layer_cache
from app.settings import Settings, get_settings
from app.workers.revocations import RevocationListener
from app.workers.scheduler import Scheduler
from app.workers.threat_warmup import ThreatWarmup
from app.workers.triage import TriageProcess, TriageWorker
from app.workers.webhooks import WebhookDispatcher

DESCRIPTION = """Kinga (Swahili: prevention, protection) stores graded, geolocated incidents
against civilians and turns them into threat layers, warnings and patrol plans for UN
peacekeeping missions. Authenticate with `Authorization: Bearer <token>`
(`kinga token create --role ROLE --name NAME`)."""


@dataclass
class Workers:
    triage: TriageProcess | TriageWorker
    webhooks: WebhookDispatcher
    scheduler: Scheduler
    revocations: RevocationListener
    threat_warmup: ThreatWarmup


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        layer_cache.configure(settings.layer_cache_mb << 20, settings.hotspot_cache_entries)
        dispatcher = WebhookDispatcher(None, settings)
        engine = make_async_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine, on_outbox=dispatcher.notify)
        revocations = RevocationListener(engine)
        revocations.start()
        read_route = app.state.read_route = make_read_route(settings)  # standby reads (scale-out)
        dispatcher.start(app.state.sessionmaker)
        triage: TriageProcess | TriageWorker
        if settings.alert_triage_process:
            triage = TriageProcess(settings, app.state.sessionmaker, on_outbox=dispatcher.notify)
        else:
            triage = TriageWorker(
                settings, make_async_engine(settings, pool_size=2), on_outbox=dispatcher.notify
            )
        triage.start()
        scheduler = Scheduler(settings)
        scheduler.start(app.state.sessionmaker)
        threat_warmup = ThreatWarmup(settings)  # loads the event store in the background
        threat_warmup.start(app.state.sessionmaker)
        app.state.workers = Workers(triage=triage, webhooks=dispatcher, scheduler=scheduler,
                                    revocations=revocations, threat_warmup=threat_warmup)
        app.state.alert_triage = triage
        app.state.threat_warmup = threat_warmup
        # Everything loaded at start-up (models, gazetteer, libraries) leaves the collector's
        # view: full collections then scan only request garbage, not a big heap (tail latency).
        gc.collect()
        gc.freeze()
        gc.set_threshold(settings.gc_threshold, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            await threat_warmup.stop()
            await scheduler.stop()
            await triage.stop()
            await dispatcher.stop()
            if read_route is not None:
                await read_route.engine.dispose()
            await revocations.stop()
            await engine.dispose()
            layer_cache.clear_all()

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
