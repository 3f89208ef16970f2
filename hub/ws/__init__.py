"""Websocket endpoints, one module each; `router` gathers them."""

from fastapi import APIRouter

from hub.ws import events, feed, live, telemetry

router = APIRouter()
for module in (feed, telemetry, events, live):
    router.include_router(module.router)
