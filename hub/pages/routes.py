"""The server-rendered pages, one module each; `router` gathers them (the listeners' admin page
and the API docs are wired in hub.app)."""

from fastapi import APIRouter

from hub.pages import (
    charts,
    compare,
    coverage,
    dashboard,
    engineer,
    log,
    login,
    prototype,
    sensors,
    telemetry,
)

router = APIRouter(include_in_schema=False)
for module in (login, dashboard, prototype, log, engineer, compare, coverage, charts, telemetry,
               sensors):
    router.include_router(module.router)
