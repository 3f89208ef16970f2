"""HTTP API under /api/v1: one router module per resource."""

from fastapi import APIRouter

from hub.api import (
    audit,
    auth,
    feedback,
    flights,
    keys,
    listeners,
    organisations,
    prototypes,
    readiness,
    scores,
    sensor_scores,
    sensors,
    simulations,
    telemetry,
    trials,
    users,
    versions,
)

router = APIRouter(prefix="/api/v1")
for module in (auth, organisations, users, prototypes, versions, trials, scores, audit, keys,
               simulations, feedback, telemetry, readiness, listeners, sensors, flights,
               sensor_scores):
    router.include_router(module.router)
