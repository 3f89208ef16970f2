"""SAPIENT over a real TCP socket, with messages built from the standard's bindings."""

import asyncio
import math
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sapient_msg.bsi_flex_335_v2_0 import location_pb2 as loc
from sapient_msg.bsi_flex_335_v2_0.registration_pb2 import Registration
from sapient_msg.bsi_flex_335_v2_0.sapient_message_pb2 import SapientMessage
from sqlmodel import Session

from hub.app import create_app
from hub.listeners.sapient import SapientListener, parse_spec
from sandbox.models import DetectionSummary, SensorSession
from telemetry.geoid import load_geoid
from tests.conftest import auth
from tests.hub.sensor_trial import M_PER_DEG_LAT, NODE, SITE, T0, sensor_trial, target

DEG, RAD, UTM = (loc.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M,
                 loc.LOCATION_COORDINATE_SYSTEM_LAT_LNG_RAD_M,
                 loc.LOCATION_COORDINATE_SYSTEM_UTM_M)
ELLIPSOID, GEOID = loc.LOCATION_DATUM_WGS84_E, loc.LOCATION_DATUM_WGS84_G
OTHER_NODE = "0b7e2f7a-9c1d-4e8f-8a3b-5c6d7e8f9a0b"


def test_the_bindings_carry_the_standards_field_numbers() -> None:
    def fields(message) -> dict[str, int]:
        return {f.name: f.number for f in message.DESCRIPTOR.fields}
    top = fields(SapientMessage)
    assert {name: top[name] for name in ("timestamp", "node_id", "destination_id",
                                         "registration", "registration_ack", "status_report",
                                         "detection_report", "error")} == {
        "timestamp": 1, "node_id": 2, "destination_id": 3, "registration": 4,
        "registration_ack": 5, "status_report": 6, "detection_report": 7, "error": 12}
    assert {k: v for k, v in fields(loc.Location).items() if k in "x y z"} == {
        "x": 1, "y": 2, "z": 3}
    assert fields(loc.Location)["coordinate_system"] == 7 and fields(loc.Location)["datum"] == 8
    error = SapientMessage().error
    assert fields(error) == {"packet": 1, "error_message": 3}
    assert (loc.LOCATION_DATUM_WGS84_E, loc.LOCATION_DATUM_WGS84_G) == (1, 2)
    assert SapientMessage.DESCRIPTOR.file.package == "sapient_msg.bsi_flex_335_v2_0"


def stamped(node: str, t: float) -> SapientMessage:
    message = SapientMessage(node_id=node)
    message.timestamp.FromNanoseconds(int((T0 + t) * 1e9))
    return message


def registration(node: str, *pairs: tuple[int, int]) -> SapientMessage:
    message = stamped(node, 0)
    body = message.registration
    body.icd_version, body.name = "BSI Flex 335 v2.0", "Argus radar"
    body.node_definition.add(node_type=Registration.NODE_TYPE_RADAR)
    mode = body.mode_definition.add(mode_name="default",
                                    mode_type=Registration.MODE_TYPE_DEFAULT)
    for units, datum in pairs or ((DEG, ELLIPSOID),):
        definition = mode.detection_definition.add()
        definition.location_type.location_units = units
        definition.location_type.location_datum = datum
    return message


def detection(node: str, t: float, *, north_m: float = 10.0, units: int = DEG,
              datum: int = ELLIPSOID) -> SapientMessage:
    """The target seen `north_m` north of where it is, its height on the ellipsoid."""
    lat, lon, alt = target(t)
    lat += north_m / M_PER_DEG_LAT
    message = stamped(node, t)
    report = message.detection_report
    report.report_id, report.object_id = f"01JREPORT{int(t * 10):08d}", "01JOBJECT0000001"
    scale = 1.0 if units == DEG else math.pi / 180
    n = float(load_geoid().undulation_m(np.array([lat]), np.array([lon]))[0])
    report.location.x, report.location.y = lon * scale, lat * scale  # x longitude, y latitude
    report.location.z = alt + n if datum == ELLIPSOID else alt
    report.location.coordinate_system, report.location.datum = units, datum
    report.classification.add(type="UAV", confidence=0.9)
    return message


def status(node: str, lat: float, lon: float, alt_msl: float) -> SapientMessage:
    message = stamped(node, 1)
    report = message.status_report
    report.report_id, report.mode = "01JSTATUS0000000000000001", "default"
    where = report.node_location
    where.x, where.y, where.z = lon, lat, alt_msl
    where.coordinate_system, where.datum = DEG, GEOID
    return message


class Node:
    """A SAPIENT node's end of a TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def send(self, message: SapientMessage) -> None:
        self.raw(message.SerializeToString())

    def raw(self, data: bytes, *, size: int | None = None) -> None:
        self.writer.write(struct.pack("<I", len(data) if size is None else size) + data)

    async def recv(self) -> SapientMessage:
        await self.writer.drain()
        size = struct.unpack("<I", await asyncio.wait_for(self.reader.readexactly(4), 5))[0]
        return SapientMessage.FromString(await self.reader.readexactly(size))

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(), 5) == b""


@pytest.fixture
async def hub(engine, settings) -> AsyncIterator[tuple[SapientListener, int]]:
    listener = SapientListener(engine=engine, storage=settings.storage(), partial_timeout_s=0.3,
                               max_pending=200)
    server = await listener.serve("127.0.0.1", 0)
    yield listener, server.sockets[0].getsockname()[1]
    server.close()
    await listener.close_connections()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[[int], Awaitable[Node]]]:
    nodes: list[Node] = []

    async def open_node(port: int) -> Node:
        nodes.append(Node(*await asyncio.open_connection("127.0.0.1", port)))
        return nodes[-1]
    yield open_node
    for node in nodes:
        node.writer.close()
        await node.writer.wait_closed()


@pytest.fixture
def trial(client, make_user):
    return sensor_trial(client, make_user)


def open_sensor(client, trial, node: str = NODE, **position) -> int:
    response = client.post(f"/api/v1/trials/{trial['id']}/sensor-sessions",
                           json={"node_id": node, **position}, headers=auth(trial["soldier"]))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def until(check, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await asyncio.to_thread(check):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def sensor_row(engine, sensor_id: int) -> SensorSession:
    with Session(engine) as session:
        row = session.get(SensorSession, sensor_id)
        assert row is not None
        return row


def kept_detected(engine, sensor_id: int) -> int | None:
    with Session(engine) as session:
        kept = session.get(DetectionSummary, sensor_id)
        return None if kept is None else kept.detected


async def test_a_registered_node_is_scored_against_the_targets_telemetry(
        hub, connect, client, trial, engine) -> None:
    listener, port = hub
    sensor_id = open_sensor(client, trial)  # no position: the node reports its own
    node = await connect(port)
    node.send(registration(NODE))
    ack = await node.recv()
    assert ack.WhichOneof("content") == "registration_ack"
    assert (ack.registration_ack.acceptance, ack.destination_id) == (True, NODE)
    node.send(status(NODE, *SITE))
    for k in range(30):
        node.send(detection(NODE, k + 0.5))
    await node.writer.drain()
    node.writer.close()
    await until(lambda: sensor_row(engine, sensor_id).detections == 30)
    row = sensor_row(engine, sensor_id)
    assert (row.lat, row.lon, row.alt_m, row.name) == (SITE[0], SITE[1], SITE[2], "Argus radar")
    assert row.registered_at is not None and row.rejected == 0
    # the connection's end re-scores the session: readiness sees it without anyone asking
    await until(lambda: kept_detected(engine, sensor_id) == 30)
    score = client.get(f"/api/v1/trials/{trial['id']}/detection",
                       headers=auth(trial["soldier"])).json()
    assert (score["epochs"], score["detected"], score["false_alarms"]) == (101, 30, 0)
    assert score["position_error_p50_m"] == pytest.approx(10.0, abs=0.2)
    assert score["classification_accuracy"] == 1.0
    assert listener.counters.detections == 30


async def test_refusals_get_the_standards_error_and_the_connection_survives(
        hub, connect, client, trial, engine) -> None:
    listener, port = hub
    sensor_id = open_sensor(client, trial, lat=SITE[0], lon=SITE[1], alt_m=SITE[2])
    node = await connect(port)
    node.send(detection(NODE, 1.5))  # before registering
    refused = await node.recv()
    assert refused.WhichOneof("content") == "error"
    assert "has not registered" in refused.error.error_message[0]
    assert refused.error.packet == detection(NODE, 1.5).SerializeToString()
    node.raw(b"\xff\xfe garbage that is no protobuf")
    assert "not a SapientMessage" in (await node.recv()).error.error_message[0]
    node.send(registration(NODE, (DEG, ELLIPSOID)))
    assert (await node.recv()).registration_ack.acceptance
    wrong = [detection(NODE, 2.5, units=RAD), detection(NODE, 3.5, datum=GEOID),
             detection(NODE, 5 * 3600.0), stamped(NODE, 4.5)]
    wrong[3].task_ack.SetInParent()
    for message, why in zip(wrong, ("LAT_LNG_RAD_M on LOCATION_DATUM_WGS84_E was not",
                                    "LAT_LNG_DEG_M on LOCATION_DATUM_WGS84_G was not",
                                    "within the trial", "task_ack messages are not"),
                            strict=True):
        node.send(message)
        assert why in (await node.recv()).error.error_message[0]
    node.send(detection(NODE, 6.5))  # still connected, still accepted
    node.writer.close()
    await until(lambda: sensor_row(engine, sensor_id).detections == 1)
    assert sensor_row(engine, sensor_id).rejected == 4
    assert listener.counters.errors == 6


async def test_a_node_without_a_sensor_session_is_refused(
        hub, connect, client, trial) -> None:
    _listener, port = hub
    node = await connect(port)
    node.send(registration(OTHER_NODE))
    ack = (await node.recv()).registration_ack
    assert ack.acceptance is False
    assert "no sensor session is open" in ack.ack_response_reason[0]
    node.send(detection(OTHER_NODE, 1.5))
    assert "has not registered" in (await node.recv()).error.error_message[0]
    open_sensor(client, trial, node=OTHER_NODE)
    node.send(registration(OTHER_NODE, (UTM, ELLIPSOID)))
    ack = (await node.recv()).registration_ack
    assert not ack.acceptance and "latitude/longitude" in ack.ack_response_reason[0]


async def test_an_oversized_frame_or_a_lying_prefix_closes_only_that_connection(
        hub, connect, client, trial) -> None:
    _listener, port = hub
    open_sensor(client, trial)
    big, liar, good = await connect(port), await connect(port), await connect(port)
    big.raw(b"", size=(1 << 20) + 1)
    assert "exceeds" in (await big.recv()).error.error_message[0]
    assert await big.closed()
    liar.raw(b"\x0a\x02", size=400)  # announces 400 bytes, sends 2, then nothing
    assert "did not arrive" in (await liar.recv()).error.error_message[0]
    assert await liar.closed()
    good.send(registration(NODE))
    assert (await good.recv()).registration_ack.acceptance


async def test_a_flood_is_stored_whole_while_other_nodes_are_served(
        hub, connect, client, trial, engine) -> None:
    _listener, port = hub
    flood_id = open_sensor(client, trial)
    open_sensor(client, trial, node=OTHER_NODE)
    flooder, other = await connect(port), await connect(port)
    flooder.send(registration(NODE))
    assert (await flooder.recv()).registration_ack.acceptance
    burst = b"".join(struct.pack("<I", len(m)) + m for m in (
        detection(NODE, 0.5 + i * 0.05).SerializeToString() for i in range(1500)))
    flooder.writer.write(burst)
    other.send(registration(OTHER_NODE))
    assert (await other.recv()).registration_ack.acceptance
    await flooder.writer.drain()
    flooder.writer.close()
    await until(lambda: sensor_row(engine, flood_id).detections == 1500, timeout_s=30)
    assert sensor_row(engine, flood_id).batches >= 1500 // 200


def test_listener_specs() -> None:
    assert parse_spec("tcpin:0.0.0.0:5020") == ("0.0.0.0", 5020)
    assert parse_spec("tcpin:[::1]:5020") == ("::1", 5020)
    for bad in ("udpin:0.0.0.0:5020", "tcpin:host", "tcpin:h:70000"):
        with pytest.raises(ValueError, match="tcpin:HOST:PORT"):
            parse_spec(bad)


def test_the_hub_listens_where_its_settings_say(settings, engine, session) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings.model_copy(update={"sapient": [f"tcpin:127.0.0.1:{port}"]}),
                     engine=engine)
    with TestClient(app), socket.create_connection(("127.0.0.1", port), timeout=5) as node:
        data = registration(OTHER_NODE).SerializeToString()
        node.sendall(struct.pack("<I", len(data)) + data)
        size = struct.unpack("<I", node.recv(4, socket.MSG_WAITALL))[0]
        ack = SapientMessage.FromString(node.recv(size, socket.MSG_WAITALL))
    assert ack.WhichOneof("content") == "registration_ack"
    assert not ack.registration_ack.acceptance
