"""The newest telemetry track of a prototype, drawn in local metres (never lat/lon)."""

from fastapi import Request
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from hub.flows.live import local_origin
from hub.pages import charts
from sandbox.models import Prototype, TelemetrySession, Trial, Version
from telemetry.redact import redact_telemetry


def latest_track(request: Request, session: Session, prototype: Prototype) -> str:
    found = session.exec(
        select(TelemetrySession, Trial).join(Trial, col(Trial.id) == col(
            TelemetrySession.trial_id)).join(Version, col(Version.id) == col(Trial.version_id))
        .where(Version.prototype_id == prototype.id)
        .order_by(col(TelemetrySession.id).desc())).first()
    if found is None or "GLOBAL_POSITION_INT" not in found[0].counts:
        return charts.track({})
    row, trial = found
    positions = open_store(request.app.state.settings.storage(), row.id or 0).read(
        "GLOBAL_POSITION_INT", every=max(1, row.counts["GLOBAL_POSITION_INT"] // 2000))
    origin = local_origin(session, request.app.state.secret, trial,
                          request.app.state.settings.storage())
    if origin is None:  # no site and no fix yet: nothing to draw without giving a place away
        return charts.track({})
    vehicles = {}
    for sysid, own in positions.groupby("sysid"):
        local = redact_telemetry({"GLOBAL_POSITION_INT": own}, origin=origin)
        table = local["GLOBAL_POSITION_INT"]
        vehicles[int(sysid)] = (table["east_m"].tolist(), table["north_m"].tolist())
    return charts.track(vehicles)
