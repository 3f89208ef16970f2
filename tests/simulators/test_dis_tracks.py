"""Entity State PDUs become telemetry sessions that the track view and flight summary read."""

import math

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from sqlmodel import Session, select

from hub.flows.dis import attitude, track_frames, track_writer
from sandbox.errors import NotFound
from sandbox.models import DISEntity, Role, TelemetrySession
from simulators.bridges.dis import (
    DeadReckoning,
    EntityStatePDU,
    EntityType,
    Header,
    build_pdu,
    parse_pdu,
)
from simulators.bridges.dis_listener import DISBridge, TrackPoint
from telemetry.decode import decode
from telemetry.geodesy import _ecef, ned_axes, to_geodetic
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version

SITE_LAT, SITE_LON = 49.99, 36.23
SHAHED = EntityType(1, 2, 102, 1, 3, 0, 0)
T0_US = 1_790_000_000_000_000


def entity_state(entity: tuple[int, int, int], lat: float, lon: float, height_m: float, *,
                 velocity_ned: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 orientation: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 yaw_rate: float = 0.0) -> EntityStatePDU:
    """An Entity State PDU as a simulator sends it: geocentric position and velocity."""
    x, y, z = (float(v) for v in _ecef(np.array(lat), np.array(lon), np.array(height_m)))
    velocity = ned_axes(np.array([lat]), np.array([lon]))[0].T @ np.array(velocity_ned)
    pdu = EntityStatePDU(
        Header(7, 1, 1, 1, 0, 0), entity, 2, SHAHED, EntityType(0, 0, 0, 0, 0, 0, 0),
        tuple(float(v) for v in velocity), (x, y, z), orientation, 0,  # type: ignore[arg-type]
        DeadReckoning(2, bytes(15), (0.0, 0.0, 0.0), (0.0, 0.0, yaw_rate)), 1,
        b"SHAHED".ljust(11, b"\0"), 0)
    again = parse_pdu(build_pdu(pdu))  # through the wire format: f32 velocities and angles
    assert isinstance(again, EntityStatePDU)
    return again


def test_geocentric_to_geodetic_round_trips_to_the_micrometre() -> None:
    rng = np.random.default_rng(5)
    lat = np.concatenate([[90.0, -90.0, 0.0], rng.uniform(-90, 90, 10_000)])
    lon = np.concatenate([[0.0, 0.0, 180.0], rng.uniform(-180, 180, 10_000)])
    height = np.concatenate([[0.0, 10.0, -50.0], rng.uniform(-500, 100_000, 10_000)])
    back_lat, back_lon, back_height = to_geodetic(*_ecef(lat, lon, height))
    assert np.abs(back_height - height).max() < 1e-6
    assert np.abs(back_lat - lat).max() * 111_320 < 1e-6
    away_from_poles = np.abs(lat) < 89.999
    wrapped = (back_lon - lon + 180) % 360 - 180
    assert np.abs(wrapped[away_from_poles]).max() * 111_320 < 1e-6


@pytest.mark.parametrize("euler, expected", [
    # At 0°N 0°E north is +z, east +y, down -x (ECEF). Level, nose north: the body turned
    # -90° about y. Level, nose east: +90° about z, then -90° about the new x.
    ((0.0, -math.pi / 2, 0.0), (0.0, 0.0, 0.0)),
    ((math.pi / 2, 0.0, -math.pi / 2), (0.0, 0.0, math.pi / 2)),
])
def test_dis_euler_angles_become_roll_pitch_yaw_from_north(euler, expected) -> None:
    axes = ned_axes(np.array([0.0]), np.array([0.0]))
    got = [float(a[0]) for a in attitude(np.array([euler]), axes)]
    assert np.allclose(got, expected, atol=1e-12)


def test_track_rows_are_shaped_as_the_decoder_shapes_mavlink() -> None:
    states = [entity_state((1, 2, 5), 0.0, 0.0, 100.0 + 10 * i, velocity_ned=(20.0, 10.0, -2.5),
                           orientation=(math.pi / 2, 0.0, -math.pi / 2), yaw_rate=0.25)
              for i in range(3)]
    frames = track_frames([TrackPoint(T0_US + i * 500_000, s) for i, s in enumerate(states)],
                          home_alt_mm=100_000, first_seen_us=T0_US, sent=255)
    position, frame = frames["GLOBAL_POSITION_INT"], frames["ATTITUDE"]
    assert position[["vx", "vy", "vz", "hdg"]].values.tolist() == [[2000, 1000, -250, 9000]] * 3
    assert position["relative_alt"].tolist() == [0, 10_000, 20_000]
    assert position["alt"].tolist() == [100_000, 110_000, 120_000]
    assert (position["lat"].abs().max(), position["lon"].abs().max()) == (0, 0)
    assert position["time_boot_ms"].tolist() == [0, 500, 1000]
    assert position["packet_seq"].tolist() == [255, 0, 1]
    assert np.allclose(frame[["roll", "pitch", "yaw"]].values, [[0, 0, math.pi / 2]] * 3,
                       atol=1e-6)
    assert frame["yawspeed"].tolist() == [0.25] * 3
    stamp = (T0_US).to_bytes(8, "big")
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    tlog = (stamp + mav.global_position_int_encode(0, 0, 0, 0, 0, 0, 0, 0, 0).pack(mav)
            + stamp + mav.attitude_encode(0, 0, 0, 0, 0, 0, 0).pack(mav))
    decoded = decode(tlog, tlog=True).frames
    for name, ours in frames.items():
        assert ours.dtypes.to_dict() == decoded[name].dtypes.to_dict()


@pytest.fixture
def trial(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    made = new_trial(client, soldier, version["id"], kind="simulator", simulator="VBS4",
                     lat=SITE_LAT, lon=SITE_LON)
    return engineer, soldier, made


def _flight(entity: tuple[int, int, int], steps: range) -> list[bytes]:
    """North at 100 m a second, climbing 10 m a second, from the site at 50 m."""
    return [build_pdu(entity_state(entity, SITE_LAT + 100 * i / 111_250, SITE_LON,
                                   50.0 + 10 * i, velocity_ned=(100.0, 0.0, -10.0)))
            for i in steps]


def _bridge(engine, settings, trial_id: int) -> DISBridge:
    writer = track_writer(engine, settings.storage(), trial_id, exercise_id=1,
                          source="dis test")
    return DISBridge(exercise_id=1, threat_kind="shahed_136", threat_cost_cents=1,
                     record=lambda row: None, tracks=writer)


def test_entity_states_become_one_telemetry_session_per_entity(engine, settings, trial,
                                                               session: Session) -> None:
    bridge = _bridge(engine, settings, trial[2]["id"])
    for i, data in enumerate(_flight((1, 2, 5), range(2)) + _flight((1, 2, 6), range(1))):
        bridge.datagram(data, received_us=T0_US + i * 1_000_000)
    first = bridge.tracks(bridge.take_tracks())  # type: ignore[misc]
    for data in _flight((1, 2, 5), range(2, 3)):
        bridge.datagram(data, received_us=T0_US + 2_000_000)
    [again] = bridge.tracks(bridge.take_tracks())  # type: ignore[misc]
    assert [(t.entity, t.points, t.new) for t in first] == [((1, 2, 5), 2, True),
                                                            ((1, 2, 6), 1, True)]
    assert (again.session_id, again.points, again.new) == (first[0].session_id, 1, False)
    rows = session.exec(select(DISEntity).order_by(DISEntity.number)).all()
    assert [(r.number, r.entity_type, r.force_id, r.home_alt_mm) for r in rows] == [
        (5, "1.2.102.1.3.0.0", 2, 50_000), (6, "1.2.102.1.3.0.0", 2, 50_000)]
    telemetry = session.get(TelemetrySession, again.session_id)
    assert telemetry is not None and telemetry.source == "dis" and telemetry.sysid is None
    assert (telemetry.counts, telemetry.batches) == (
        {"ATTITUDE": 3, "GLOBAL_POSITION_INT": 3}, 2)


def test_a_dis_track_reads_like_a_field_flight(client, engine, settings, trial,
                                               make_user) -> None:
    engineer, soldier, made = trial
    bridge = _bridge(engine, settings, made["id"])
    for i, data in enumerate(_flight((1, 2, 5), range(3))):
        bridge.datagram(data, received_us=T0_US + i * 1_000_000)
    [track] = bridge.tracks(bridge.take_tracks())  # type: ignore[misc]
    base = f"/api/v1/telemetry-sessions/{track.session_id}"
    summary = client.get(base, headers=auth(soldier)).json()["summary"]
    assert summary["max_altitude_m"] == 20.0 and summary["duration_s"] == 2.0
    assert summary["distance_flown_m"] == pytest.approx(2 * math.hypot(100, 10), abs=0.5)
    raw = client.get(f"{base}/messages/GLOBAL_POSITION_INT",
                     headers=auth(make_user(Role.reviewer))).json()
    assert [row["lat"] for row in raw] == [
        round((SITE_LAT + 100 * i / 111_250) * 1e7) for i in range(3)]
    assert [(row["vx"], row["vz"]) for row in raw] == [(10_000, -1000)] * 3
    local = client.get(f"{base}/messages/GLOBAL_POSITION_INT", headers=auth(engineer))
    rows = local.json()
    assert "lat" not in rows[0] and str(raw[0]["lat"]) not in local.text
    assert [round(r["north_m"] - rows[0]["north_m"]) for r in rows] == [0, 100, 200]
    # North of the site is not quite north of the secret origin kilometres away: < 0.5 m.
    assert all(abs(r["east_m"] - rows[0]["east_m"]) < 0.5 for r in rows)
    assert [r["up_m"] for r in rows] == [0.0, 10.0, 20.0]


def test_tracks_need_a_trial(engine, settings, session) -> None:
    with pytest.raises(NotFound, match="trial 999 not found"):
        track_writer(engine, settings.storage(), 999, exercise_id=1, source="dis test")
