"""Jammer trials: when an EW system was on, and its effect on the targets' own telemetry."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlmodel import Session, col, select

from hub.flows.sensors import keep_summary, trial_window
from hub.flows.truth import trial_frames
from sandbox.errors import Invalid
from sandbox.ew_effect import EwEffect, ew_effect
from sandbox.models import EwActivation, EwActivationCreate, EwEffectSummary, Trial
from sandbox.timeutil import utcnow
from telemetry.clock import clock_offsets_ms, utc_positions, utc_seconds
from telemetry.geodesy import to_enu
from telemetry.objects import Storage

EPH_UNKNOWN = 65535


def add_activations(*, session: Session, trial: Trial,
                    activations_in: Sequence[EwActivationCreate]) -> list[EwActivation]:
    """Record when the jammer was on, all or nothing."""
    start, end = trial_window(trial)
    for number, item in enumerate(activations_in):
        if item.start < start or item.end > end:
            raise Invalid(f"{number}: start and end must fall within the trial "
                          f"({start.isoformat()} to {end.isoformat()}, an hour either side)")
    rows = [EwActivation.model_validate(item, update={"trial_id": trial.id})
            for item in activations_in]
    session.add_all(rows)
    session.commit()
    for row in rows:
        session.refresh(row)
    return rows


def list_activations(*, session: Session, trial: Trial) -> list[EwActivation]:
    return list(session.exec(select(EwActivation).where(EwActivation.trial_id == trial.id)
                             .order_by(col(EwActivation.start))).all())


def _measurements(frames: dict[str, pd.DataFrame], session_id: int) -> dict[str, pd.DataFrame]:
    """Every frame's sender and sequence number, RADIO_STATUS and GPS_RAW_INT, on UTC."""
    offsets = clock_offsets_ms(frames)
    timed = {name: (table, utc_seconds(table, offsets)) for name, table in frames.items()}
    sent = [pd.DataFrame({"t_s": t, "sender": session_id * 65536 + table["sysid"].astype(int)
                          * 256 + table["compid"].astype(int), "seq": table["packet_seq"]})
            for table, t in timed.values()]
    radio, radio_t = timed.get("RADIO_STATUS", (pd.DataFrame({"rxerrors": []}), []))
    gps, gps_t = timed.get("GPS_RAW_INT", (pd.DataFrame(
        {"fix_type": [], "satellites_visible": [], "eph": []}), []))
    eph = gps["eph"].to_numpy(float)
    return {"frames": pd.concat(sent or [pd.DataFrame(columns=["t_s", "sender", "seq"])]),
            "radio": pd.DataFrame({"t_s": radio_t, "rxerrors": radio["rxerrors"]}),
            "gps": pd.DataFrame({"t_s": gps_t, "fix_type": gps["fix_type"],
                                 "satellites": gps["satellites_visible"],
                                 "eph_m": np.where(eph == EPH_UNKNOWN, np.nan, eph / 100)}),
            "track": utc_positions(frames)}


def _ranges(track: pd.DataFrame, jammer: tuple[float, float] | None) -> pd.DataFrame:
    """Ground distance of the target from the jammer (whose height is not known)."""
    if jammer is None or not len(track):
        return pd.DataFrame({"t_s": [], "range_m": []})
    east, north, _ = to_enu(track["lat_deg"], track["lon_deg"], np.zeros(len(track)),
                            origin=(*jammer, 0.0))
    return pd.DataFrame({"t_s": track["t_s"], "range_m": np.hypot(east, north)})


def _jammer(trial: Trial, rows: list[EwActivation]) -> tuple[float, float] | None:
    placed = next(((row.lat, row.lon) for row in rows if row.lat is not None), None)
    if placed is not None:
        return placed  # type: ignore[return-value]
    return (trial.lat, trial.lon) if trial.lat is not None and trial.lon is not None else None


def trial_ew_effect(*, session: Session, storage: Storage, trial: Trial) -> EwEffect:
    """The jammer's effect in a trial; the figures are kept for readiness."""
    rows = list_activations(session=session, trial=trial)
    parts = [_measurements(frames, session_id) for session_id, frames in trial_frames(
        session=session, storage=storage, trial_id=trial.id or 0, names=None)]
    pooled = {key: pd.concat([part[key] for part in parts or [_measurements({}, 0)]],
                             ignore_index=True) for key in ("frames", "radio", "gps", "track")}
    for key in ("frames", "radio", "gps"):  # rows no clock puts on UTC cannot be compared
        pooled[key] = pooled[key][np.isfinite(pooled[key]["t_s"].to_numpy(float))]
    activations = pd.DataFrame({"start_s": [row.start.timestamp() for row in rows],
                                "end_s": [row.end.timestamp() for row in rows]})
    effect = ew_effect(activations, pooled["frames"], pooled["radio"], pooled["gps"],
                       _ranges(pooled["track"], _jammer(trial, rows)))
    keep_summary(session, EwEffectSummary, trial.id or 0, {
        "trial_id": trial.id, "activations": effect.activations,
        "effective": effect.effective_activations,
        "median_time_to_effect_s": effect.median_time_to_effect_s,
        "effect_range_m": effect.effect_range_m, "computed_at": utcnow()})
    return effect
