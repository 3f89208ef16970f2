"""Every flight of a version at once: the telemetry sessions of its trials, read across
sessions from the object store by one Polars query (see telemetry.analytics)."""

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, select

from hub.flows.ingest import open_store
from sandbox.models import TelemetrySession, Trial, Version
from telemetry.analytics import session_flights
from telemetry.objects import Storage

POSITIONS = "GLOBAL_POSITION_INT"


@dataclass(frozen=True)
class SessionFlight:
    session_id: int
    trial_id: int
    messages: int
    positions: int
    duration_s: float | None
    max_altitude_m: float | None


@dataclass(frozen=True)
class VersionFlights:
    version_id: int
    sessions: int
    flights: int  # sessions with positions
    flight_hours: float
    messages: int
    max_altitude_m: float | None
    by_session: list[SessionFlight]


def version_flights(*, session: Session, storage: Storage, version: Version) -> VersionFlights:
    """Flight hours, messages and heights of every telemetry session of the version's trials."""
    rows = session.exec(select(TelemetrySession).join(Trial).where(
        Trial.version_id == version.id, col(TelemetrySession.pending_until).is_(None))
        .order_by(col(TelemetrySession.id))).all()
    parts = {row.id or 0: [storage.path_of(key)
                           for key in open_store(storage, row.id or 0).part_keys(POSITIONS)]
             for row in rows if POSITIONS in row.counts}
    flown = {int(flight["session_id"]): flight for flight in session_flights(
        parts, storage_options=storage.reader_options()).to_dict("records")}
    by_session = [SessionFlight(row.id or 0, row.trial_id, row.messages,
                                **_figures(flown.get(row.id or 0))) for row in rows]
    heights = [flight.max_altitude_m for flight in by_session if flight.max_altitude_m is not None]
    return VersionFlights(
        version_id=version.id or 0, sessions=len(rows), flights=len(flown),
        flight_hours=sum(flight.duration_s or 0.0 for flight in by_session) / 3600,
        messages=sum(row.messages for row in rows),
        max_altitude_m=max(heights, default=None), by_session=by_session)


def _figures(flight: dict[str, object] | None) -> dict[str, object]:
    if flight is None:
        return {"positions": 0, "duration_s": None, "max_altitude_m": None}
    return {"positions": int(flight["positions"]),  # type: ignore[call-overload]
            **{name: None if pd.isna(flight[name]) else float(flight[name])  # type: ignore[arg-type]
               for name in ("duration_s", "max_altitude_m")}}
