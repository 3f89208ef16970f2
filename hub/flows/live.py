"""Local positions: the latest position and attitude of a trial's aircraft for dashboards
(≤ 10 Hz), and every other local-metre view, from the trial's secret origin.

A trial logged without a site takes its site from its telemetry's first good fix, kept
secret (trial_site); until there is one, positions are withheld. Drawing the origin around
(0°, 0°) would let anyone invert the metres back to the launch point.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.flows.feed import Feed
from hub.flows.ingest import open_store
from sandbox.anonymise import trial_origin
from sandbox.models import TelemetrySession, Trial, TrialSite
from telemetry.geodesy import to_enu
from telemetry.objects import Storage
from telemetry.redact import redact_telemetry

MIN_INTERVAL_S = 0.1
Origin = tuple[float, float, float]


def first_fix(frames: dict[str, pd.DataFrame]) -> tuple[float, float] | None:
    """The first GLOBAL_POSITION_INT with a position ((0, 0) is the autopilot's 'no fix')."""
    positions = frames.get("GLOBAL_POSITION_INT")
    if positions is None or positions.empty:
        return None
    fixed = positions[(positions["lat"] != 0) | (positions["lon"] != 0)]
    if fixed.empty:
        return None
    return float(fixed["lat"].iloc[0]) / 1e7, float(fixed["lon"].iloc[0]) / 1e7


def remember_site(session: Session, trial_id: int, site: tuple[float, float]) -> tuple[float,
                                                                                    float]:
    """Keep the first site found for the trial; a site found first elsewhere wins."""
    session.add(TrialSite(trial_id=trial_id, lat=site[0], lon=site[1]))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = session.get(TrialSite, trial_id)
        assert stored is not None
        return stored.lat, stored.lon
    return site


def known_site(session: Session, trial: Trial) -> tuple[float, float] | None:
    if trial.lat is not None and trial.lon is not None:
        return trial.lat, trial.lon
    stored = session.get(TrialSite, trial.id)
    return None if stored is None else (stored.lat, stored.lon)


def site_of(session: Session, trial: Trial, storage: Storage) -> tuple[float, float] | None:
    """The trial's site as logged, else its telemetry's first good fix, else None."""
    known = known_site(session, trial)
    if known is not None:
        return known
    for row in session.exec(select(TelemetrySession).where(
            TelemetrySession.trial_id == trial.id).order_by(col(TelemetrySession.id))).all():
        if "GLOBAL_POSITION_INT" in row.counts:
            found = first_fix({"GLOBAL_POSITION_INT": open_store(storage, row.id or 0).read(
                "GLOBAL_POSITION_INT")})
            if found is not None:
                return remember_site(session, trial.id or 0, found)
    return None


def origin_at(secret: str, trial_id: int, site: tuple[float, float] | None) -> Origin | None:
    return None if site is None else (*trial_origin(secret.encode(), trial_id, *site), 0.0)


def local_origin(session: Session, secret: str, trial: Trial, storage: Storage) -> Origin | None:
    """The trial's secret origin (5–15 km from its site), or None while it has no site."""
    return origin_at(secret, trial.id or 0, site_of(session, trial, storage))


def redacted_messages(session: Session, secret: str, storage: Storage, trial: Trial, name: str,
                      table: pd.DataFrame, *, start_us: int | None = None) -> pd.DataFrame | None:
    """Messages as people outside the task force see them; None for a message not released.
    Without an origin yet, local positions are withheld (heights above home stay). Times are
    seconds from `start_us` (the session's start), else from the table's first row."""
    origin = local_origin(session, secret, trial, storage)
    start = start_us if start_us is not None else (
        int(table["time_us"].min()) if "time_us" in table and len(table) else None)
    redacted = redact_telemetry({name: table}, origin=origin or (0.0, 0.0, 0.0), start_us=start)
    if name not in redacted:
        return None
    if origin is None:
        return redacted[name].drop(columns=["east_m", "north_m"], errors="ignore")
    return redacted[name]


@dataclass
class LiveOrigin:
    """A trial's origin for its live stream, found on the stream's first fix when the trial
    has no site yet (the database is asked once, then again only on a batch with a fix)."""

    engine: Engine
    secret: str
    trial_id: int
    origin: Origin | None = None
    asked: bool = False

    def resolve(self, frames: dict[str, pd.DataFrame]) -> Origin | None:
        fix = first_fix(frames) if self.origin is None else None
        if self.origin is None and (fix is not None or not self.asked):
            self.asked = True
            with Session(self.engine) as session:
                trial = session.get(Trial, self.trial_id)
                site = known_site(session, trial) if trial is not None else None
                if trial is not None and site is None and fix is not None:
                    site = remember_site(session, self.trial_id, fix)
                self.origin = origin_at(self.secret, self.trial_id, site)
        return self.origin


def origin_of(engine: Engine, secret: str, trial_id: int) -> LiveOrigin:
    """The trial's secret local origin, resolved lazily: live positions never carry lat/lon."""
    return LiveOrigin(engine=engine, secret=secret, trial_id=trial_id)


def latest(frames: dict[str, pd.DataFrame], origin: Origin | None,
           session_id: int) -> dict[str, Any] | None:
    """The newest position and attitude in a batch, or None if it carries neither."""
    notice: dict[str, Any] = {"session_id": session_id}
    position = frames.get("GLOBAL_POSITION_INT")
    if origin is not None and position is not None and len(position):
        last = position.iloc[-1]
        east, north, _ = to_enu(np.array([last["lat"] / 1e7]), np.array([last["lon"] / 1e7]),
                                np.zeros(1), origin=origin)
        notice["position"] = {"east_m": round(float(east[0]), 1),
                              "north_m": round(float(north[0]), 1),
                              "up_m": float(last["relative_alt"]) / 1e3}
    attitude = frames.get("ATTITUDE")
    if attitude is not None and len(attitude):
        last = attitude.iloc[-1]
        notice["attitude"] = {name: round(float(last[name]), 4)
                              for name in ("roll", "pitch", "yaw")}
    return notice if len(notice) > 1 else None


def publish(live: Feed, trial_id: int, origin: LiveOrigin, session_id: int,
            frames: dict[str, pd.DataFrame]) -> None:
    notice = latest(frames, origin.resolve(frames), session_id)
    if notice is not None:
        live.publish(trial_id, notice)
