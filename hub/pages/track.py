"""The newest telemetry track of a prototype, drawn in local metres (never lat/lon), with a
link to its session's page."""

from fastapi import Request
from markupsafe import Markup
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from hub.flows.live import local_origin
from hub.pages import charts
from sandbox.models import Prototype, TelemetrySession, Trial, Version
from telemetry.redact import redact_telemetry


def latest_track(request: Request, session: Session, prototype: Prototype) -> Markup:
    found = session.exec(
        select(TelemetrySession, Trial).join(Trial, col(Trial.id) == col(
            TelemetrySession.trial_id)).join(Version, col(Version.id) == col(Trial.version_id))
        .where(Version.prototype_id == prototype.id,
               col(TelemetrySession.pending_until).is_(None))  # an upload still moving in
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
    # an onboard log (DataFlash, ULog) is one vehicle's and has no frame headers
    by_vehicle = (positions.groupby("sysid") if "sysid" in positions
                  else [(row.sysid or 1, positions)])
    for sysid, own in by_vehicle:
        local = redact_telemetry({"GLOBAL_POSITION_INT": own}, origin=origin)
        table = local["GLOBAL_POSITION_INT"]
        vehicles[int(sysid)] = (table["east_m"].tolist(), table["north_m"].tolist())
    return charts.track(vehicles, name=f"session-{row.id}-track") + Markup(
        '<p><a class="session-link" href="/sessions/{0}">Telemetry session {0}: every series '
        'over time, the flight summary, segments to download</a></p>').format(row.id)
