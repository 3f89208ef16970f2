"""DIS Entity State PDUs as telemetry: one session (source "dis") per entity of an exercise,
stored like MAVLink (GLOBAL_POSITION_INT and ATTITUDE in Parquet, through the ingest store),
so the track view, its redaction to the trial's local metres and the flight summary read a
simulator exercise as they read a field flight.

DIS gives geocentric (ECEF) positions, world-axis velocities and Euler angles from the world
axes; these become latitude/longitude (kept only where telemetry keeps them), north/east/down
velocities and roll/pitch/yaw from north. Times are the bridge's arrival times on UTC (`time_us`,
as a ground station stamps a tlog) and milliseconds since the entity was first seen
(`time_boot_ms`): a simulator's own DIS clock wraps every hour and is often not on UTC.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, select

from hub.flows.ingest import store_batch
from sandbox import audit
from sandbox.audit import Actor
from sandbox.errors import NotFound
from sandbox.models import DISEntity, TelemetrySession, Trial
from simulators.bridges.dis_listener import TrackPoint
from telemetry.decode import DecodeStats
from telemetry.geodesy import ned_axes, to_geodetic
from telemetry.objects import Storage

SOURCE = "dis"
SYSID, COMPID = 1, 1  # one vehicle per session; the dis_entity row names the entity
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INT16 = np.iinfo(np.int16).max


@dataclass(frozen=True)
class EntityTrack:
    """What one flush stored for one entity."""

    entity: tuple[int, int, int]
    entity_type: str
    session_id: int
    points: int
    new: bool


# --- pure: states to MAVLink-shaped rows ----------------------------------------------------

def _turn(angle: np.ndarray, axis: int) -> np.ndarray:
    """Per angle, the matrix taking vectors into axes turned by `angle` about `axis`."""
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros((len(angle), 3, 3))
    i, j = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so the y turn's sines fall right
    m[:, axis, axis] = 1
    m[:, i, i], m[:, j, j] = c, c
    m[:, i, j], m[:, j, i] = s, -s
    return m


def attitude(orientation: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Roll, pitch, yaw (rad, from north-east-down) of DIS Euler angles (psi, theta, phi:
    turns about the world z, then the new y, then the new x axis) at points with NED `axes`."""
    psi, theta, phi = orientation.T
    body_world = _turn(phi, 0) @ _turn(theta, 1) @ _turn(psi, 2)
    m = body_world @ np.transpose(axes, (0, 2, 1))  # body axes in north-east-down
    return (np.arctan2(m[:, 1, 2], m[:, 2, 2]), -np.arcsin(np.clip(m[:, 0, 2], -1, 1)),
            np.arctan2(m[:, 0, 1], m[:, 0, 0]))


def _cm_s(metres_s: np.ndarray) -> np.ndarray:
    # GLOBAL_POSITION_INT carries int16 cm/s: faster than 327 m/s (missiles) saturates.
    return np.clip(np.round(metres_s * 100), -INT16, INT16).astype(np.int16)


def track_frames(points: list[TrackPoint], *, home_alt_mm: int, first_seen_us: int,
                 sent: int = 0) -> dict[str, pd.DataFrame]:
    """One entity's states as GLOBAL_POSITION_INT and ATTITUDE rows, as the decoder makes them.

    `sent`: states stored before, so `packet_seq` runs on as a vehicle's frame counter would.
    """
    states = [p.state for p in points]
    received = np.array([p.received_us for p in points], np.int64)
    lat, lon, alt_m = to_geodetic(*np.array([s.location for s in states]).T)
    axes = ned_axes(lat, lon)
    ned = np.einsum("nij,nj->ni", axes, np.array([s.velocity for s in states]))
    roll, pitch, yaw = attitude(np.array([s.orientation for s in states]), axes)
    alt_mm = np.round(alt_m * 1000).astype(np.int64)
    common = {"time_us": received, "sysid": np.full(len(points), SYSID, np.uint8),
              "compid": np.full(len(points), COMPID, np.uint8),
              "packet_seq": ((sent + np.arange(len(points))) % 256).astype(np.uint8),
              "time_boot_ms": (np.maximum(received - first_seen_us, 0) // 1000).astype(np.uint32)}
    position = pd.DataFrame({
        **common, "lat": np.round(lat * 1e7).astype(np.int32),
        "lon": np.round(lon * 1e7).astype(np.int32), "alt": alt_mm.astype(np.int32),
        "relative_alt": (alt_mm - home_alt_mm).astype(np.int32),
        "vx": _cm_s(ned[:, 0]), "vy": _cm_s(ned[:, 1]), "vz": _cm_s(ned[:, 2]),
        "hdg": (np.round(np.degrees(yaw) * 100) % 36000).astype(np.uint16)})
    rates = np.array([s.dead_reckoning.angular_velocity for s in states], np.float32)
    frame = pd.DataFrame({**common, "roll": roll, "pitch": pitch, "yaw": yaw}).astype(
        {"roll": np.float32, "pitch": np.float32, "yaw": np.float32})
    # DIS angular velocity is about the body axes, as MAVLink's roll/pitch/yaw speeds are.
    for index, name in enumerate(("rollspeed", "pitchspeed", "yawspeed")):
        frame[name] = rates[:, index]
    return {"GLOBAL_POSITION_INT": position, "ATTITUDE": frame}


# --- storage ---------------------------------------------------------------------------------

def _micros(moment: datetime) -> int:
    return (moment.replace(tzinfo=moment.tzinfo or UTC) - EPOCH) // timedelta(microseconds=1)


def _entity(session: Session, *, trial_id: int, exercise_id: int,
            first: TrackPoint) -> tuple[DISEntity, bool]:
    """The entity's row, made with its telemetry session on first sight."""
    site, application, number = first.state.entity
    found = session.exec(select(DISEntity).where(
        DISEntity.trial_id == trial_id, DISEntity.exercise_id == exercise_id,
        DISEntity.site == site, DISEntity.application == application,
        DISEntity.number == number)).first()
    if found is not None:
        return found, False
    telemetry = TelemetrySession(trial_id=trial_id, source=SOURCE)
    session.add(telemetry)
    session.flush()
    _, _, height_m = to_geodetic(*np.array(first.state.location))
    row = DISEntity(telemetry_session_id=telemetry.id or 0, trial_id=trial_id,
                    exercise_id=exercise_id, site=site, application=application,
                    number=number, entity_type=str(first.state.entity_type),
                    force_id=first.state.force_id, home_alt_mm=int(round(float(height_m) * 1000)),
                    first_seen_at=EPOCH + timedelta(microseconds=first.received_us))
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, True


def store_entity_points(*, engine: Engine, storage: Storage, trial_id: int, exercise_id: int,
                        points: list[TrackPoint], actor: Actor) -> EntityTrack:
    """Append one entity's points to its session (made on first sight) as one durable batch."""
    with Session(engine) as session:
        audit.audit_writes(session, actor)
        entity, new = _entity(session, trial_id=trial_id, exercise_id=exercise_id,
                              first=points[0])
        telemetry = session.get(TelemetrySession, entity.telemetry_session_id)
        sent = telemetry.counts.get("GLOBAL_POSITION_INT", 0) if telemetry else 0
    frames = track_frames(points, home_alt_mm=entity.home_alt_mm, sent=sent,
                          first_seen_us=_micros(entity.first_seen_at))
    session_id = entity.telemetry_session_id
    store_batch(engine=engine, storage=storage, session_id=session_id, frames=frames,
                batch=None, stats=DecodeStats())
    return EntityTrack(points[0].state.entity, entity.entity_type, session_id, len(points), new)


def track_writer(engine: Engine, storage: Storage, trial_id: int, *, exercise_id: int,
                 source: str) -> Callable[[list[TrackPoint]], list[EntityTrack]]:
    """A callback for the DIS listener storing each entity's points of a batch; checks the
    trial exists now."""
    with Session(engine) as session:
        if session.get(Trial, trial_id) is None:
            raise NotFound(f"trial {trial_id} not found")
    actor = Actor(role="bridge", request=source)

    def write(points: list[TrackPoint]) -> list[EntityTrack]:
        by_entity: dict[tuple[int, int, int], list[TrackPoint]] = {}
        for point in points:
            by_entity.setdefault(point.state.entity, []).append(point)
        return [store_entity_points(engine=engine, storage=storage, trial_id=trial_id,
                                    exercise_id=exercise_id, points=own, actor=actor)
                for own in by_entity.values()]
    return write
