"""Sensor trials: sensor sessions, their detections in Parquet (one store per session, the same
durable batch store as telemetry), COURAGEOUS imports, and the detection score against the
targets' telemetry.

Heights: truth (GLOBAL_POSITION_INT `alt`) is above mean sea level; a detection states its
datum, and ellipsoidal heights are brought to mean sea level with EGM96 before any distance is
taken. Positions then go to metres east/north/up of the sensor session's position, and
bearings reported from elsewhere (a COURAGEOUS record's own `cuas_location`) are turned into
those axes.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.flows.ingest import writer
from hub.flows.truth import trial_truth
from sandbox.courageous import CourageousDocument, detection_table, records
from sandbox.detection import DETECTION_RECORD, DetectionScore, score_detections, stored_layout
from sandbox.detection_shapes import direction
from sandbox.errors import Conflict, Invalid, NotFound
from sandbox.models import (
    DetectionSummary,
    EwEffectSummary,
    SensorSession,
    SensorSessionCreate,
    Trial,
)
from sandbox.timeutil import utcnow
from telemetry.geodesy import ned_axes, to_enu
from telemetry.geoid import GeoidUnavailable, load_geoid
from telemetry.objects import Storage
from telemetry.store import AppendResult

DETECTIONS = "DETECTION"  # the store's one message type
TIME_MARGIN = timedelta(hours=1)  # detections this far outside the trial are refused


def sensor_prefix(sensor_session_id: int) -> str:
    return f"sensors/session-{sensor_session_id:08d}/"


def open_sensor_session(*, session: Session, trial: Trial, body: SensorSessionCreate,
                        source: str = "sapient", name: str = "") -> SensorSession:
    """Open a sensor session: detections from its node are stored in `trial`."""
    row = SensorSession.model_validate(body, update={
        "trial_id": trial.id, "node_id": str(body.node_id), "source": source, "name": name})
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def node_session(engine: Engine, node_id: str) -> SensorSession | None:
    """The newest sensor session opened for a SAPIENT node."""
    with Session(engine) as session:
        return session.exec(select(SensorSession).where(SensorSession.node_id == node_id)
                            .order_by(col(SensorSession.id).desc())).first()


def store_detections(*, engine: Engine, storage: Storage, sensor_session_id: int,
                     table: pd.DataFrame) -> AppendResult:
    """Commit detections durably as the session's next batch, then refresh its index row."""
    lock, store = writer(storage, sensor_prefix(sensor_session_id))
    with lock:
        result = store.append_next({DETECTIONS: stored_layout(table)})
        totals = store.stats()
        with Session(engine) as session:
            row = session.get(SensorSession, sensor_session_id)
            assert row is not None
            row.detections, row.batches = totals.messages, totals.batches
            row.bytes_on_disk = totals.bytes_on_disk
            session.add(row)
            session.commit()
        return result


def read_detections(storage: Storage, sensor_session_id: int) -> pd.DataFrame:
    table = writer(storage, sensor_prefix(sensor_session_id))[1].refresh().read(DETECTIONS)
    return stored_layout(table if len(table) else pd.DataFrame(columns=list(DETECTION_RECORD)))


def count_rejected(engine: Engine, sensor_session_id: int, count: int = 1) -> None:
    with Session(engine) as session:
        row = session.get(SensorSession, sensor_session_id)
        if row is not None:
            row.rejected += count
            session.add(row)
            session.commit()


def trial_window(trial: Trial, now: datetime | None = None) -> tuple[datetime, datetime]:
    """When a detection may have happened: the trial, an hour either side."""
    return trial.started_at - TIME_MARGIN, (trial.ended_at or now or utcnow()) + TIME_MARGIN


def times_outside(trial: Trial, times_us: np.ndarray) -> str | None:
    """Why these detection times cannot belong to the trial, or None."""
    if not len(times_us):
        return None
    start, end = trial_window(trial)
    first, last = np.min(times_us) / 1e6, np.max(times_us) / 1e6
    if first < start.timestamp() or last > end.timestamp():
        return (f"detection times must fall within the trial ({start.isoformat()} to "
                f"{end.isoformat()}, an hour either side)")
    return None


def import_courageous(*, session: Session, engine: Engine, storage: Storage, trial: Trial,
                      document: CourageousDocument) -> tuple[SensorSession, int]:
    """A COURAGEOUS document as a new sensor session of the trial, all or nothing. The
    document is its own sensor, at its static C-UAS location: no SAPIENT node id, so no node
    can add to it."""
    table = detection_table(document)
    _check_times(trial, document, table)
    where = document.static_cuas_location
    name = document.system_name + (f" ({document.vendor_name})" if document.vendor_name else "")
    row = SensorSession(trial_id=trial.id or 0, source="courageous", name=name[:120],
                        lat=where.lat, lon=where.lon, alt_m=where.height_amsl)
    session.add(row)
    session.commit()
    session.refresh(row)
    try:
        store_detections(engine=engine, storage=storage, sensor_session_id=row.id or 0,
                         table=table)
    except Exception:
        session.delete(row)
        session.commit()
        raise
    return row, len(table)


def _check_times(trial: Trial, document: CourageousDocument, table: pd.DataFrame) -> None:
    """Refuse records outside the trial, naming the first such record's time (the table's rows
    follow the document's records)."""
    times_us = table["time_us"].to_numpy()
    problem = times_outside(trial, times_us)
    if problem:
        start, end = (moment.timestamp() * 1e6 for moment in trial_window(trial))
        first = int(np.flatnonzero((times_us < start) | (times_us > end))[0])
        path = next(islice(records(document), first, None))[0]
        raise Invalid(f"{'.'.join(map(str, path))}.time: {problem}")


def heights_msl(table: pd.DataFrame, geoid_grid: Path | None) -> np.ndarray:
    """Each row's height above mean sea level (EGM96), whatever datum it was given on."""
    height = table["height_m"].to_numpy(float).copy()
    ellipsoidal = (table["datum"] == "ellipsoid").to_numpy() & ~np.isnan(height)
    if ellipsoidal.any():
        try:
            geoid = load_geoid(geoid_grid)
        except GeoidUnavailable as error:
            raise Conflict(f"heights on different datums cannot be compared: {error}") \
                from error
        height[ellipsoidal] = geoid.to_msl(table["lat_deg"].to_numpy(float)[ellipsoidal],
                                           table["lon_deg"].to_numpy(float)[ellipsoidal],
                                           height[ellipsoidal])
    return height


# --- the detection score -------------------------------------------------------------------

def _origin(sensor: SensorSession, truth: pd.DataFrame) -> tuple[float, float, float]:
    if sensor.lat is None or sensor.lon is None:
        raise Conflict(f"sensor session {sensor.id} has no position: give lat/lon/alt_m when "
                       "opening it, or let the node report its location")
    if sensor.alt_m is not None:
        return sensor.lat, sensor.lon, sensor.alt_m
    # no height given: the ground the targets took off from, the lowest point they reported
    lowest = float(truth["alt_msl_m"].min()) if len(truth) else 0.0
    return sensor.lat, sensor.lon, lowest


def _local(lat: np.ndarray, lon: np.ndarray, height: np.ndarray,
           origin: tuple[float, float, float]) -> dict[str, np.ndarray]:
    east, north, up = to_enu(lat, lon, height, origin=origin)
    return {"east_m": np.asarray(east), "north_m": np.asarray(north), "up_m": np.asarray(up)}


def local_truth(truth: pd.DataFrame, origin: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame({"target": truth["target"].to_numpy(), "t_s": truth["t_s"].to_numpy(),
                         **_local(truth["lat_deg"].to_numpy(float),
                                  truth["lon_deg"].to_numpy(float),
                                  truth["alt_msl_m"].to_numpy(float), origin)})


def local_detections(table: pd.DataFrame, origin: tuple[float, float, float],
                     geoid_grid: Path | None) -> pd.DataFrame:
    """Stored detections as the scorer takes them: east/north/up of `origin`, and the shape of
    reports that are not points, seen from where their sensor stood."""
    height = heights_msl(table, geoid_grid)
    flat = np.isnan(height)  # no height reported: the vertical line through the position
    where = _local(table["lat_deg"].to_numpy(float), table["lon_deg"].to_numpy(float),
                   np.where(flat, origin[2], height), origin)
    where["up_m"] = np.where(flat, np.nan, where["up_m"])
    sensor = [table[name].fillna(value).to_numpy(float) for name, value in zip(
        ("sensor_lat_deg", "sensor_lon_deg", "sensor_height_m"), origin, strict=True)]
    stood = _local(*sensor, origin)
    bearing, elevation = _turned(table, sensor[0], sensor[1], origin)
    return pd.DataFrame({
        "t_s": table["time_us"].to_numpy(np.int64) / 1e6, **where,
        "classification": table["classification"].to_numpy(),
        "shape": table["shape"].to_numpy(), **{f"origin_{axis}": stood[axis] for axis in stood},
        "bearing_deg": bearing, "elevation_deg": elevation,
        "sector_deg": table["sector_deg"].to_numpy(float),
        "distance_m": table["distance_m"].to_numpy(float)})


def _turned(table: pd.DataFrame, lat_deg: np.ndarray, lon_deg: np.ndarray,
            origin: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Bearings and elevations taken on the horizon where each sensor stood, on the session's
    axes instead: they differ by the meridians' convergence (0.1° at 10 km east at 50° N, 9 m
    across at 5 km)."""
    elevation = table["elevation_deg"].to_numpy(float)
    seen = direction(table["bearing_deg"].to_numpy(float), np.nan_to_num(elevation))
    there = ned_axes(lat_deg, lon_deg)  # rows: north, east, down
    ecef = (seen[:, :1] * there[:, 1] + seen[:, 1:2] * there[:, 0] - seen[:, 2:] * there[:, 2])
    here = ned_axes(np.array([origin[0]]), np.array([origin[1]]))[0]
    east, north, up = ecef @ here[1], ecef @ here[0], -(ecef @ here[2])
    turned = np.degrees(np.arcsin(np.clip(up, -1.0, 1.0)))
    return np.degrees(np.arctan2(east, north)), np.where(np.isnan(elevation), np.nan, turned)


@dataclass(frozen=True)
class SensorScore:
    sensor_session_id: int
    score: DetectionScore


def detection_score(*, session: Session, storage: Storage, trial: Trial, sensor: SensorSession,
                    geoid_grid: Path | None = None) -> SensorScore:
    """Score one sensor session against the trial's telemetry; keep its counts for readiness."""
    truth = trial_truth(session=session, storage=storage, trial_id=trial.id or 0)
    origin = _origin(sensor, truth)
    score = score_detections(local_truth(truth, origin),
                             local_detections(read_detections(storage, sensor.id or 0),
                                              origin, geoid_grid),
                             evaluated_range_m=sensor.evaluated_range_m, gate_m=sensor.gate_m,
                             target_classes=sensor.target_classes)
    keep_summary(session, DetectionSummary, sensor.id or 0, {
        "sensor_session_id": sensor.id, "trial_id": trial.id, "epochs": score.epochs,
        "detected": score.detected, "false_alarms": score.false_alarms,
        "evaluated_s": float(score.evaluated_s), "computed_at": utcnow(),
        "bins": [[b.range_m_from, b.range_m_to, b.epochs, b.detected]
                 for b in score.pd_by_range]})
    return SensorScore(sensor.id or 0, score)


Summary = TypeVar("Summary", DetectionSummary, EwEffectSummary)


def keep_summary(session: Session, table: type[Summary], key: int,
                 values: dict[str, Any]) -> None:
    """Insert or update a kept summary; two scorers racing to insert it both end updated."""
    row = session.get(table, key)
    if row is None:
        session.add(table(**values))
        try:
            session.commit()
            return
        except IntegrityError:
            session.rollback()
            row = session.get(table, key)
            assert row is not None
    row.sqlmodel_update(values)
    session.add(row)
    session.commit()


def trial_sensors(*, session: Session, trial: Trial) -> list[SensorSession]:
    return list(session.exec(select(SensorSession).where(SensorSession.trial_id == trial.id)
                             .order_by(col(SensorSession.id))).all())


def trial_sensor(*, session: Session, trial: Trial,
                 sensor_session_id: int | None) -> SensorSession:
    """The named sensor session of the trial, or its only one."""
    rows = trial_sensors(session=session, trial=trial)
    if sensor_session_id is not None:
        rows = [row for row in rows if row.id == sensor_session_id]
    if not rows:
        raise NotFound(f"no sensor session {sensor_session_id or ''} in trial {trial.id}"
                       .replace("  ", " "))
    if len(rows) > 1:
        raise Invalid(f"sensor_session: trial {trial.id} has {len(rows)} sensor sessions "
                      f"({', '.join(str(row.id) for row in rows)}); name one")
    return rows[0]


def mark_registered(engine: Engine, sensor_session_id: int, *, name: str) -> None:
    """A SAPIENT node registered for this session (its name, if the session has none)."""
    with Session(engine) as session:
        row = session.get(SensorSession, sensor_session_id)
        if row is not None:
            row.registered_at, row.name = utcnow(), row.name or name[:120]
            session.add(row)
            session.commit()


def place_sensor(engine: Engine, sensor_session_id: int, *, lat: float, lon: float,
                 alt_msl_m: float | None) -> bool:
    """Take the node's own reported location, unless the session was given one."""
    with Session(engine) as session:
        row = session.get(SensorSession, sensor_session_id)
        if row is None or row.lat is not None:
            return False
        row.lat, row.lon, row.alt_m = lat, lon, alt_msl_m
        session.add(row)
        session.commit()
        return True


def detection_summary_line(*, session: Session, trial_id: int) -> str | None:
    """One line of a trial's kept detection counts, for the command line; None if none."""
    rows = session.exec(select(DetectionSummary).where(DetectionSummary.trial_id == trial_id)
                        .order_by(col(DetectionSummary.sensor_session_id))).all()
    if not rows:
        return None
    epochs, detected = sum(r.epochs for r in rows), sum(r.detected for r in rows)
    shown = f"{detected / epochs:.3f}" if epochs else "none"
    return (f"detection: Pd {shown} ({detected} of {epochs} target seconds within range), "
            f"{sum(r.false_alarms for r in rows)} false alarms; "
            f"GET /api/v1/trials/{trial_id}/detection for the whole score")


def refresh_summary(*, engine: Engine, storage: Storage, sensor_session_id: int,
                    geoid_grid: Path | None = None) -> bool:
    """Re-score a sensor session so readiness sees its detections; False when it cannot be
    scored yet (no position, or heights that cannot be compared)."""
    with Session(engine) as session:
        sensor = session.get(SensorSession, sensor_session_id)
        trial = session.get(Trial, sensor.trial_id) if sensor is not None else None
        if sensor is None or trial is None:
            return False
        try:
            detection_score(session=session, storage=storage, trial=trial, sensor=sensor,
                            geoid_grid=geoid_grid)
        except Conflict:
            return False
        return True
