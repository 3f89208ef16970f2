import io
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx  # the HTTP client the test extra declares
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pymavlink.dialects.v20 import ardupilotmega
from sqlmodel import Session, select
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from hub import cli
from hub.app import create_app
from hub.auth import issue_token
from hub.db import make_engine, upgrade
from hub.flows import ingest as ingest_flow
from sandbox.models import (
    Organisation,
    OrgKind,
    Prototype,
    Role,
    TelemetrySession,
    Trial,
    User,
    Version,
)
from sandbox.timeutil import utcnow
from telemetry.decode import decode
from telemetry.segment import M_PER_DEG_EAST, M_PER_DEG_NORTH
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub.test_durability import Hub
from tests.telemetry.logs import circle_flight
from tests.telemetry.streams import SPECS, frame

SPEC = {spec.name: spec for spec in SPECS.values()}
SITE_LAT, SITE_LON = 49.99, 36.23
DATA = Path(__file__).parent.parent / "data"


def position(i: int) -> bytes:
    spec = SPEC["GLOBAL_POSITION_INT"]
    lat, lon = int((SITE_LAT + i * 1e-4) * 1e7), int(SITE_LON * 1e7)
    payload = (int(i * 1000).to_bytes(4, "little") + lat.to_bytes(4, "little", signed=True)
               + lon.to_bytes(4, "little", signed=True) + (150_000).to_bytes(4, "little")
               + (50_000).to_bytes(4, "little") + bytes(8))
    return frame(spec, payload, seq=i % 256)


def heartbeat(i: int) -> bytes:
    return frame(SPEC["HEARTBEAT"], bytes([0, 0, 0, 0, 2, 3, 81, 4, 3]), seq=i % 256)


def tlog(count: int) -> bytes:
    return b"".join((1_700_000_000_000_000 + i * 100_000).to_bytes(8, "big") + position(i)
                    + (1_700_000_000_000_000 + i * 100_000 + 1).to_bytes(8, "big")
                    + heartbeat(i) for i in range(count))


@pytest.fixture
def setup(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"], lat=SITE_LAT, lon=SITE_LON)
    return engineer, soldier, trial


def _upload(client, user, trial, body: bytes):
    return client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=body,
                       headers={**auth(user), "content-type": "application/octet-stream"})


def test_uploaded_tlog_is_stored_indexed_and_summarised(client, setup) -> None:
    _engineer, soldier, trial = setup
    response = _upload(client, soldier, trial, tlog(30))
    assert response.status_code == 201
    body = response.json()
    assert body["counts"] == {"GLOBAL_POSITION_INT": 30, "HEARTBEAT": 30}
    assert (body["messages"], body["source"]) == (60, "upload")
    read = client.get(f"/api/v1/telemetry-sessions/{body['id']}", headers=auth(soldier)).json()
    assert read["summary"]["max_altitude_m"] == 50.0
    assert read["summary"]["distance_flown_m"] == pytest.approx(29 * 11.1, rel=0.01)


def test_raw_positions_only_for_reviewers(client, setup, make_user) -> None:
    engineer, soldier, trial = setup
    session_id = _upload(client, soldier, trial, tlog(10)).json()["id"]
    path = f"/api/v1/telemetry-sessions/{session_id}/messages/GLOBAL_POSITION_INT"
    raw = client.get(path, headers=auth(make_user(Role.reviewer))).json()
    assert raw[0]["lat"] == int(SITE_LAT * 1e7)
    for user in (soldier, engineer):
        local = client.get(path, headers=auth(user))
        assert local.status_code == 200
        rows = local.json()
        assert "lat" not in rows[0] and "east_m" in rows[0]
        assert str(int(SITE_LAT * 1e7)) not in local.text
        assert rows[0]["t_s"] == 0.0
    csv = client.get(path + "?format=csv&every=5", headers=auth(soldier))
    assert len(pd.read_csv(io.StringIO(csv.text))) == 2


def test_other_companies_and_units_cannot_read_telemetry(client, setup, make_user) -> None:
    _, soldier, trial = setup
    session_id = _upload(client, soldier, trial, tlog(3)).json()["id"]
    for stranger in (make_user(Role.engineer), make_user(Role.soldier)):
        assert client.get(f"/api/v1/telemetry-sessions/{session_id}",
                          headers=auth(stranger)).status_code == 404


def _nothing_stored(session, settings) -> None:
    assert session.exec(select(TelemetrySession)).all() == []
    telemetry = settings.data_dir / "telemetry"
    assert sorted(p.relative_to(telemetry) for p in telemetry.rglob("*")) in (
        [], [Path("staging")])


@pytest.mark.parametrize("body, message", [
    (b"", "empty"), (b"\x00" * 500, "no telemetry found"),
    (circle_flight(seconds=3)[:-5], "truncated"),
    ((DATA / "sample_log_small.ulg").read_bytes()[:20_000], "truncated"),
    (b"ULog\x01\x12\x35\x01", "not a readable ULog")])
def test_bad_uploads_are_refused_and_leave_nothing(client, setup, session, settings, body,
                                                   message) -> None:
    _, soldier, trial = setup
    response = _upload(client, soldier, trial, body)
    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]
    _nothing_stored(session, settings)


@pytest.mark.parametrize("content, message", [
    (b"field notes, not a log\n" * 100, "no telemetry found"),
    (circle_flight(seconds=3)[:-5], "truncated")])
def test_cli_refuses_a_file_without_telemetry_or_cut_short(setup, session, settings, cli_env,
                                                          tmp_path, content, message) -> None:
    _, _, trial = setup
    path = tmp_path / "flight.tlog"  # the name is no guide: the bytes say what the file is
    path.write_bytes(content)
    result = CliRunner().invoke(cli.app, ["ingest", str(path), "--trial", str(trial["id"])])
    assert result.exit_code == 1
    assert message in result.output
    _nothing_stored(session, settings)


def test_dataflash_upload_is_summarised_and_redacted_like_a_tlog(client, setup,
                                                                 make_user) -> None:
    engineer, soldier, trial = setup
    response = _upload(client, soldier, trial, circle_flight(seconds=30))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["log_format"] == "dataflash"
    assert body["counts"]["DF_POS"] == body["counts"]["GLOBAL_POSITION_INT"] == 300
    read = client.get(f"/api/v1/telemetry-sessions/{body['id']}", headers=auth(engineer))
    assert read.json()["summary"]["max_altitude_m"] == 50.0
    assert read.json()["summary"]["max_ground_speed_mps"] == 10.0
    base = f"/api/v1/telemetry-sessions/{body['id']}/messages"
    for native in ("DF_POS", "DF_GPS"):  # raw positions under the log's own names
        refused = client.get(f"{base}/{native}", headers=auth(engineer))
        assert refused.status_code == 403
        assert str(int(SITE_LAT * 1e4)) not in refused.text
    local = client.get(f"{base}/GLOBAL_POSITION_INT", headers=auth(engineer)).json()
    assert "lat" not in local[0] and local[0]["up_m"] == 50.0
    raw = client.get(f"{base}/DF_POS", headers=auth(make_user(Role.reviewer))).json()
    assert raw[0]["Lat"] == pytest.approx(SITE_LAT + 100 / 111_200, abs=1e-6)


def test_cli_ingests_a_px4_ulog(setup, session, cli_env) -> None:
    _, _, trial = setup
    path = DATA / "sample_px4_events.ulg"
    result = CliRunner().invoke(cli.app, ["ingest", str(path), "--trial", str(trial["id"])])
    assert result.exit_code == 0, result.output
    [row] = session.exec(select(TelemetrySession)).all()
    assert (row.log_format, row.counts["ULG_vehicle_attitude"]) == ("ulog", 622)
    assert row.counts["ATTITUDE"] == 622 and row.pending_until is None
    assert f"telemetry session {row.id} (ulog)" in result.output


def test_oversized_upload_is_refused_as_it_streams(settings, engine, session, make_user,
                                                  make_org) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 10_000})
    with TestClient(create_app(small, engine=engine)) as client:
        engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
        version = new_version(client, engineer, new_prototype(client, engineer)["id"])
        trial = new_trial(client, soldier, version["id"])
        response = client.post(f"/api/v1/trials/{trial['id']}/telemetry",
                               content=iter([tlog(300)]), headers=auth(soldier))
        assert response.status_code == 413


def test_device_streams_over_websocket_with_acks_and_no_duplicates(client, setup) -> None:
    _, soldier, trial = setup
    opened = client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                         headers=auth(soldier), json={"sysid": 1}).json()
    url = f"/ws/telemetry/{opened['id']}?token={opened['token']}"
    with client.websocket_connect(url) as device:
        for batch in (1, 2, 2, 3):  # batch 2 resent, as after a lost ack
            device.send_bytes(batch.to_bytes(8, "big")
                              + b"".join(heartbeat(i) for i in range(batch * 10)))
            ack = device.receive_json()
            assert ack["batch"] == batch
        assert ack == {"batch": 3, "stored": 30, "duplicate": False}
        device.send_bytes(b"\x00" * 4)
        assert "batch number" in device.receive_json()["error"]
        device.send_text("hello")  # a text frame is answered, and the stream goes on
        assert "binary messages" in device.receive_json()["error"]
        device.send_bytes((4).to_bytes(8, "big") + heartbeat(0))
        assert device.receive_json() == {"batch": 4, "stored": 1, "duplicate": False}
    read = client.get(f"/api/v1/telemetry-sessions/{opened['id']}", headers=auth(soldier))
    assert read.json()["counts"] == {"HEARTBEAT": 10 + 20 + 30 + 1}


def test_websocket_refuses_a_wrong_token(client, setup) -> None:
    _, soldier, trial = setup
    opened = client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                         headers=auth(soldier), json={}).json()
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/telemetry/{opened['id']}?token=guess") as device:
            device.receive_json()
    assert refused.value.code == 1008


@pytest.fixture
def cli_env(settings, monkeypatch) -> None:
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))


def test_cli_ingests_a_tlog_in_pieces(setup, session, cli_env, monkeypatch, tmp_path) -> None:
    _, _, trial = setup
    monkeypatch.setattr(ingest_flow, "TLOG_CHUNK", 1000)  # many pieces: frames split across them
    path = tmp_path / "flight.tlog"
    path.write_bytes(tlog(200))
    result = CliRunner().invoke(cli.app, ["ingest", str(path), "--trial", str(trial["id"])])
    assert result.exit_code == 0, result.output
    assert "400 messages" in result.output
    [row] = session.exec(select(TelemetrySession)).all()
    assert row.counts == {"GLOBAL_POSITION_INT": 200, "HEARTBEAT": 200}
    assert row.batches > 10


def test_dashboards_see_the_latest_position_live_in_local_metres(client, setup,
                                                                 make_user) -> None:
    engineer, soldier, trial = setup
    opened = client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                         headers=auth(soldier), json={}).json()
    token = auth(make_user(Role.reviewer))["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/ws/trials/{trial['id']}/live?token={token}") as dash, \
            client.websocket_connect(
                f"/ws/telemetry/{opened['id']}?token={opened['token']}") as device:
        device.send_bytes((1).to_bytes(8, "big") + b"".join(position(i) for i in range(5)))
        device.receive_json()
        notice = dash.receive_json()
    assert notice["session_id"] == opened["id"]
    assert set(notice["position"]) == {"east_m", "north_m", "up_m"}
    assert notice["position"]["up_m"] == 50.0
    assert str(SITE_LAT) not in str(notice)
    engineer_token = auth(engineer)["Authorization"].removeprefix("Bearer ")
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
                f"/ws/trials/{trial['id']}/live?token={engineer_token}") as refused:
            refused.receive_json()


def test_a_pending_row_is_hidden_then_swept_with_its_files(client, setup, session, settings,
                                                           engine, make_user) -> None:
    _, _, trial = setup
    row = TelemetrySession(trial_id=trial["id"], source="upload", log_format="tlog",
                           pending_until=utcnow() + timedelta(minutes=1))
    session.add(row)
    session.commit()
    row_id = row.id
    storage = settings.storage()
    part = f"{ingest_flow.session_prefix(row_id)}HEARTBEAT/part-1.parquet"
    storage.put(part, b"staged")
    reviewer = auth(make_user(Role.reviewer))
    assert client.get(f"/api/v1/telemetry-sessions/{row_id}", headers=reviewer).status_code == 404
    ingest_flow.sweep(engine=engine, data_dir=settings.data_dir,
                      storage=storage)  # its lease still runs
    assert storage.get(part) == b"staged"
    ingest_flow.sweep(engine=engine, data_dir=settings.data_dir, storage=storage,
                      now=utcnow() + timedelta(minutes=2))
    session.expire_all()
    assert session.get(TelemetrySession, row_id) is None
    assert storage.list(ingest_flow.session_prefix(row_id)) == []


def test_sweep_removes_the_staging_of_dead_ingests_only(settings, engine) -> None:
    root = settings.data_dir / "telemetry" / ingest_flow.STAGING
    with ingest_flow.Staging(settings.data_dir) as live:
        live.spool.write_bytes(b"arriving")
        (root / "dead").mkdir()  # its owner died: nobody holds its lock
        (root / "dead" / "upload").write_bytes(b"half a file")
        (root / "dead.lock").touch()
        ingest_flow.sweep(engine=engine, data_dir=settings.data_dir, storage=settings.storage())
        assert sorted(p.name for p in root.iterdir()) == sorted(
            [live.directory.name, f"{live.directory.name}.lock"])
        assert live.spool.read_bytes() == b"arriving"
    assert list(root.iterdir()) == []


# --- a real hub or CLI process killed (SIGKILL) in the middle of a file ingest --------------

def _kill_world(database: str) -> tuple[int, str]:
    """A trial of a unit and a bearer token of one of its soldiers, signed with Hub's key."""
    engine = make_engine(database)
    upgrade(engine)
    with Session(engine) as session:
        company = Organisation(name="Company", kind=OrgKind.company)
        unit = Organisation(name="Unit", kind=OrgKind.unit)
        session.add_all([company, unit])
        session.flush()
        prototype = Prototype(name="Hornet", kind="interceptor_drone",
                              organisation_id=company.id)
        session.add(prototype)
        session.flush()
        version = Version(prototype_id=prototype.id, version="1.0.0", unit_cost_cents=1)
        soldier = User(name="soldier", role=Role.soldier, organisation_id=unit.id,
                       password_hash="x")
        session.add_all([version, soldier])
        session.flush()
        trial = Trial(version_id=version.id, kind="field", scenario="s", unit_id=unit.id,
                      started_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.add(trial)
        session.commit()
        token = issue_token(soldier, secret="k" * 40, ttl_s=600)
        trial_id = trial.id
    engine.dispose()
    return trial_id, token


def _rows(database: str) -> list[TelemetrySession]:
    engine = make_engine(database)
    with Session(engine) as session:
        rows = session.exec(select(TelemetrySession)).all()
    engine.dispose()
    return rows


def _when_staging_has_written(data_dir: Path, what: str, deadline_s: float = 60) -> None:
    """Wait until an ingest has written `what` (a glob) under its staging directory."""
    deadline = time.monotonic() + deadline_s
    while not list((data_dir / "telemetry" / "staging").glob(what)):
        assert time.monotonic() < deadline, f"the ingest never wrote {what}"
        time.sleep(0.005)


BIG_TLOG = tlog(2000) * 200  # 30 MB: 8 batches of 4 MiB


@pytest.mark.parametrize("moment, written", [
    pytest.param("while the body arrives", "*/upload", marks=pytest.mark.slow),
    ("while it is decoded and stored", "*/store/batches/*.json")])
def test_an_upload_killed_midway_leaves_no_session(tmp_path, moment, written) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    trial_id, token = _kill_world(database)
    hub = Hub(tmp_path, database)
    hub.start()
    body = BIG_TLOG if "decoded" in moment else BIG_TLOG[:len(BIG_TLOG) // 2]
    try:
        with socket.create_connection(("127.0.0.1", hub.port)) as upload:
            upload.sendall(f"POST /api/v1/trials/{trial_id}/telemetry HTTP/1.1\r\n"
                           f"Host: hub\r\nAuthorization: Bearer {token}\r\n"
                           f"Content-Length: {len(BIG_TLOG)}\r\n\r\n".encode() + body)
            _when_staging_has_written(tmp_path / "data", written)
    finally:
        hub.kill()
    assert _rows(database) == []  # no session outlived the upload
    staging = tmp_path / "data" / "telemetry" / "staging"
    assert len(list(staging.glob("*.lock"))) == 1  # the dead upload's, its lock now free
    hub.start()  # a starting hub sweeps what the dead one left
    try:
        assert list(staging.iterdir()) == []
        answer = httpx.post(f"http://127.0.0.1:{hub.port}/api/v1/trials/{trial_id}/telemetry",
                            content=tlog(50), headers={"Authorization": f"Bearer {token}"},
                            timeout=120)
    finally:
        hub.kill()
    assert answer.status_code == 201, answer.text
    [row] = _rows(database)
    assert (row.id, row.messages, row.pending_until) == (answer.json()["id"], 100, None)
    assert list(staging.iterdir()) == []


def test_a_cli_ingest_killed_midway_leaves_no_session(tmp_path) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    trial_id, _ = _kill_world(database)
    env = Hub(tmp_path, database).env
    big, small = tmp_path / "big.tlog", tmp_path / "small.tlog"
    big.write_bytes(BIG_TLOG)
    small.write_bytes(tlog(50))
    command = [sys.executable, "-m", "hub.cli", "ingest", "--trial", str(trial_id)]
    process = subprocess.Popen([*command, str(big)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _when_staging_has_written(tmp_path / "data", "*/store/batches/*.json")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert _rows(database) == []
    done = subprocess.run([*command, str(small)], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = _rows(database)
    assert row.messages == 100 and row.log_format == "tlog"
    assert list((tmp_path / "data" / "telemetry" / "staging").iterdir()) == []


# --- trimming: a time range of a session, as messages or as a .tlog -------------------------

def _decoded_tlog(data: bytes) -> list:
    """(stamp µs, message) pairs as pymavlink reads a .tlog."""
    out, position = [], 0
    parser = ardupilotmega.MAVLink(None)
    while position < len(data):
        stamp = int.from_bytes(data[position:position + 8], "big")
        length = data[position + 9] + 12
        [message] = parser.parse_buffer(data[position + 8:position + 8 + length])
        out.append((stamp, message))
        position += 8 + length
    return out


@pytest.fixture
def flight(client, setup, monkeypatch):
    """A 3-second tlog (positions every 0.1 s, 11.1 m apart) uploaded by the unit's soldier,
    stored in many small batches (reads and segments cross them)."""
    engineer, soldier, trial = setup
    monkeypatch.setattr(ingest_flow, "TLOG_CHUNK", 300)
    stored = _upload(client, soldier, trial, tlog(30)).json()
    assert stored["batches"] >= 5
    return engineer, soldier, stored["id"]


def test_messages_of_a_time_range_for_each_role(client, flight, make_user) -> None:
    engineer, soldier, session_id = flight
    path = f"/api/v1/telemetry-sessions/{session_id}/messages/GLOBAL_POSITION_INT"
    for task_force in (make_user(Role.reviewer), make_user(Role.admin)):
        raw = client.get(path + "?since=1&until=2", headers=auth(task_force)).json()
        assert [row["time_boot_ms"] for row in raw] == [i * 1000 for i in range(10, 20)]
        assert raw[0]["lat"] == int((SITE_LAT + 10e-4) * 1e7)
    for user in (soldier, engineer):
        local = client.get(path + "?since=2.5", headers=auth(user)).json()
        assert [row["t_s"] for row in local] == pytest.approx([2.5, 2.6, 2.7, 2.8, 2.9])
        assert "lat" not in local[0]
    beats = client.get(path.replace("GLOBAL_POSITION_INT", "HEARTBEAT") + "?until=0.35",
                       headers=auth(engineer)).json()
    assert [row["t_s"] for row in beats] == pytest.approx([1e-6, 0.1 + 1e-6, 0.2 + 1e-6,
                                                            0.3 + 1e-6])


def test_a_time_range_of_a_session_as_a_tlog_for_reviewers(client, flight, make_user) -> None:
    _, _, session_id = flight
    reviewer = auth(make_user(Role.reviewer))
    admin = client.get(f"/api/v1/telemetry-sessions/{session_id}/tlog?since=1&until=1.5",
                       headers=auth(make_user(Role.admin)))
    answer = client.get(f"/api/v1/telemetry-sessions/{session_id}/tlog?since=1&until=1.5",
                        headers=reviewer)
    assert admin.content == answer.content
    assert answer.status_code == 200
    assert 'filename="session-' in answer.headers["content-disposition"]
    frames = _decoded_tlog(answer.content)
    assert [m.get_type() for _, m in frames] == ["GLOBAL_POSITION_INT", "HEARTBEAT"] * 5
    assert [stamp for stamp, _ in frames][:3] == [1_700_000_001_000_000, 1_700_000_001_000_001,
                                                  1_700_000_001_100_000]
    assert frames[0][1].lat == int((SITE_LAT + 10e-4) * 1e7)
    whole = client.get(f"/api/v1/telemetry-sessions/{session_id}/tlog", headers=reviewer)
    uploaded = decode(np.frombuffer(tlog(30), np.uint8), tlog=True).frames
    for name, table in decode(np.frombuffer(whole.content, np.uint8), tlog=True).frames.items():
        pd.testing.assert_frame_equal(table, uploaded[name])  # what was uploaded, field for field


def test_engineers_tlog_carries_local_metres_and_no_date(client, flight, make_user) -> None:
    engineer, soldier, session_id = flight
    for user in (engineer, soldier):
        answer = client.get(f"/api/v1/telemetry-sessions/{session_id}/tlog?since=1&until=2",
                            headers=auth(user))
        assert answer.status_code == 200
        frames = _decoded_tlog(answer.content)
        local = client.get(f"/api/v1/telemetry-sessions/{session_id}/messages/"
                           "GLOBAL_POSITION_INT?since=1&until=2", headers=auth(user)).json()
        positions = [m for _, m in frames if m.get_type() == "GLOBAL_POSITION_INT"]
        assert [p.lat / 1e7 * M_PER_DEG_NORTH for p in positions] == pytest.approx(
            [row["north_m"] for row in local], abs=0.02)
        assert [p.lon / 1e7 * M_PER_DEG_EAST for p in positions] == pytest.approx(
            [row["east_m"] for row in local], abs=0.02)
        assert {p.relative_alt for p in positions} == {p.alt for p in positions} == {50_000}
        assert [stamp for stamp, _ in frames][0] == 1_000_000  # seconds from the start
        assert str(int(SITE_LAT * 1e7)).encode()[:6] not in answer.content
        assert all(abs(p.lat) < 1e6 and abs(p.lon) < 1e6 for p in positions)


@pytest.mark.parametrize("query, message", [("since=2&until=1", "after since"),
                                            ("since=-1", "greater than or equal")])
def test_bad_time_ranges_are_refused(client, flight, query, message) -> None:
    _, soldier, session_id = flight
    for what in ("messages/HEARTBEAT", "tlog"):
        answer = client.get(f"/api/v1/telemetry-sessions/{session_id}/{what}?{query}",
                            headers=auth(soldier))
        assert answer.status_code == 422 and message in answer.text


def test_a_live_stream_cannot_be_trimmed(client, setup) -> None:
    _, soldier, trial = setup
    opened = client.post(f"/api/v1/trials/{trial['id']}/telemetry-sessions",
                         headers=auth(soldier), json={}).json()
    with client.websocket_connect(f"/ws/telemetry/{opened['id']}?token={opened['token']}") as ws:
        ws.send_bytes((1).to_bytes(8, "big") + heartbeat(0))
        ws.receive_json()
    base = f"/api/v1/telemetry-sessions/{opened['id']}"
    for what in ("/messages/HEARTBEAT?since=1", "/tlog"):
        answer = client.get(base + what, headers=auth(soldier))
        assert answer.status_code == 422 and "no log time" in answer.text


def test_timeless_onboard_messages_cannot_be_trimmed(client, setup, make_user) -> None:
    _, soldier, trial = setup
    session_id = _upload(client, soldier, trial, circle_flight(seconds=3)).json()["id"]
    answer = client.get(f"/api/v1/telemetry-sessions/{session_id}/messages/DF_FMT?since=1",
                        headers=auth(make_user(Role.reviewer)))
    assert answer.status_code == 422 and "carry no time_us" in answer.text
    segment = client.get(f"/api/v1/telemetry-sessions/{session_id}/tlog?since=1&until=2",
                         headers=auth(make_user(Role.reviewer)))
    types = {m.get_type() for _, m in _decoded_tlog(segment.content)}
    assert types == {"GLOBAL_POSITION_INT", "GPS_RAW_INT", "ATTITUDE", "VFR_HUD", "SYS_STATUS",
                     "BATTERY_STATUS"}  # derived from the log; its own tables are not MAVLink


def test_trimmed_reads_of_other_companies_and_units_are_not_found(client, flight,
                                                                  make_user) -> None:
    _, _, session_id = flight
    for stranger in (make_user(Role.engineer), make_user(Role.soldier)):
        for what in ("messages/GLOBAL_POSITION_INT?since=1&until=2", "tlog?since=1"):
            answer = client.get(f"/api/v1/telemetry-sessions/{session_id}/{what}",
                                headers=auth(stranger))
            assert answer.status_code == 404 and "not found" in answer.text


def test_no_log_clock_reaches_engineers_as_a_time(client, setup) -> None:
    """A PX4 log mixes a boot clock (the session's zero) with topics stamped in Unix time;
    seconds 'from the start' of the latter would be the flight's date and hour."""
    engineer, soldier, trial = setup
    uploaded = _upload(client, soldier, trial, (DATA / "sample_px4_events.ulg").read_bytes())
    assert uploaded.status_code == 201, uploaded.text
    base = f"/api/v1/telemetry-sessions/{uploaded.json()['id']}/messages"
    names = client.get(f"/api/v1/telemetry-sessions/{uploaded.json()['id']}",
                       headers=auth(engineer)).json()["counts"]
    latest = {}
    for name in names:
        response = client.get(f"{base}/{name}", headers=auth(engineer))
        if response.status_code == 200 and response.json():
            latest[name] = max(row["t_s"] for row in response.json())
    assert latest and "ATTITUDE" in latest
    assert max(latest.values()) < 86_400, {k: v for k, v in latest.items() if v >= 86_400}
    attitude = client.get(f"{base}/ATTITUDE", headers=auth(engineer)).json()
    assert max(row["time_boot_ms"] for row in attitude) == round(latest["ATTITUDE"] * 1000)
