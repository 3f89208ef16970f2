"""The composition root: build the FastAPI app from one Settings object."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from hub import api, errors, ws
from hub.broker import broker_for
from hub.db import make_engine
from hub.flows import audit as audit_chain
from hub.flows.feed import Feed
from hub.flows.ingest import sweep as sweep_file_ingests
from hub.jobs.worker import WorkerThreads
from hub.limits import BodyLimit
from hub.listeners.mavlink import Router
from hub.listeners.sapient import start_sapient
from hub.logs import redact_server_logs
from hub.pages import admin as admin_pages
from hub.pages import api_docs
from hub.pages import routes as pages
from hub.settings import Settings
from hub.throttle import LoginThrottle
from hub.ws.registry import ReplicaSockets
from telemetry.receivers import Endpoint, parse_endpoint


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Wire routers and middleware; the schema must already be migrated."""
    endpoints = [parse_endpoint(spec) for spec in settings.mavlink]  # bad specs fail here
    redact_server_logs()
    app = FastAPI(title="Soldiers Lab hub", version="0.1.0", lifespan=_receivers(endpoints),
                  docs_url=None, redoc_url=None,  # served offline by hub.pages.api_docs
                  description="Sandbox registry, telemetry and cost-per-intercept scoring "
                              "for drone and counter-drone prototypes.")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database())
    app.state.secret = settings.secret()
    audit_chain.configure(app.state.engine, settings)
    app.state.login_throttle = LoginThrottle()
    # what other replicas must hear (feed, live positions, closed sockets) goes on the broker
    app.state.broker = broker_for(settings.broker, app.state.engine.url)
    app.state.feed = Feed(app.state.broker, "feed")
    app.state.live = Feed(app.state.broker, "live")  # the same, keyed by trial, not company
    app.state.simulation_workers = WorkerThreads(app.state.engine, settings)
    app.state.sockets = ReplicaSockets(app.state.broker)  # closed on logout and shutdown
    uploads = dict.fromkeys(("/telemetry", "/engagements", "/engagements/upload"),
                            settings.max_upload_bytes)  # engagement routes cap their own
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       route_limits={**uploads, "/courageous": settings.max_document_bytes})
    errors.install(app)
    app.include_router(api.router)
    app.include_router(ws.router)
    app.include_router(pages.router)
    app.include_router(admin_pages.router)
    api_docs.install(app)
    app.mount("/static", StaticFiles(directory=str(files("hub") / "pages" / "static")),
              name="static")

    @app.get("/healthz", tags=["health"], summary="Liveness (public: reveals nothing)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _receivers(endpoints: list[Endpoint]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the MAVLink listeners with the app, and flush what they hold when it stops."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # what file ingests killed with the previous process left: staging, pending rows
        sweep_file_ingests(engine=app.state.engine, data_dir=app.state.settings.data_dir,
                           storage=app.state.settings.storage())
        await app.state.broker.start()
        router = Router(engine=app.state.engine, storage=app.state.settings.storage())
        app.state.mavlink_router = router
        stop_sapient = await start_sapient(app.state.engine, specs=app.state.settings.sapient,
                                           storage=app.state.settings.storage(),
                                           geoid_grid=app.state.settings.geoid_grid)
        await router.start(endpoints)
        app.state.simulation_workers.start()
        checkpoints = asyncio.create_task(audit_chain.keep_checkpoints(
            app.state.engine, app.state.settings.audit_checkpoint_s))
        try:
            yield
        finally:
            await stop_sapient()
            await asyncio.to_thread(app.state.simulation_workers.stop)
            app.state.sockets.close_all("the hub is shutting down")
            checkpoints.cancel()
            await asyncio.gather(checkpoints, return_exceptions=True)
            await router.stop()
            await app.state.broker.stop()
    return lifespan
