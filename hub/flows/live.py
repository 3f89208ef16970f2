"""The latest position and attitude of a trial's aircraft, for dashboards (≤ 10 Hz)."""

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session

from hub.flows.feed import Feed
from sandbox.anonymise import trial_origin
from sandbox.models import Trial
from telemetry.geodesy import to_enu

MIN_INTERVAL_S = 0.1


def origin_of(engine: Engine, secret: str, trial_id: int) -> tuple[float, float, float]:
    """The trial's secret local origin: live positions never carry lat/lon."""
    with Session(engine) as session:
        trial = session.get(Trial, trial_id)
        site = (trial.lat or 0.0, trial.lon or 0.0) if trial else (0.0, 0.0)
    return (*trial_origin(secret.encode(), trial_id, *site), 0.0)


def latest(frames: dict[str, pd.DataFrame], origin: tuple[float, float, float],
           session_id: int) -> dict[str, Any] | None:
    """The newest position and attitude in a batch, or None if it carries neither."""
    notice: dict[str, Any] = {"session_id": session_id}
    position = frames.get("GLOBAL_POSITION_INT")
    if position is not None and len(position):
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


def publish(live: Feed, trial_id: int, origin: tuple[float, float, float], session_id: int,
            frames: dict[str, pd.DataFrame]) -> None:
    notice = latest(frames, origin, session_id)
    if notice is not None:
        live.publish(trial_id, notice)
