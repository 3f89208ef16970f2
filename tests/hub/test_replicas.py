"""Two hub replicas on one database and one S3 server: a device streaming to replica A is cut
off (SIGKILL of A), reconnects to replica B and resends what A had not acknowledged. Every
acknowledged message is stored exactly once, and B serves what A stored."""

import json
import random
import signal
import time
from functools import partial

import httpx2 as httpx  # the HTTP client the test extra declares
import pytest
from websockets.sync.client import connect

from hub.auth import issue_token
from hub.flows.ingest import session_prefix
from sandbox.models import Role, TelemetrySession
from telemetry.objects import storage_at
from telemetry.store import SessionStore
from tests.conftest import SECRET
from tests.hub.served import hub_process
from tests.hub.test_durability import PER_BATCH, Hub, _batch, _stream, _world
from tests.objectstore import new_bucket

BATCHES = 12
KILLED_AFTER = 7  # A commits this batch, then dies before the device reads the answer
AUDIT_KEY = "replicas-share-one-audit-key-" + "k" * 16


def _send(hub_url: str, session_id: int, token: str, batches: range) -> list[dict]:
    ws_url = hub_url.replace("http", "ws", 1)
    with connect(f"{ws_url}/ws/telemetry/{session_id}?token={token}", max_size=None) as device:
        answers = []
        for number in batches:
            device.send(_batch(number))
            answers.append(json.loads(device.recv(timeout=30)))
        return answers


def _kill_once_committed(hub, storage, session_id: int, token: str, batch: int) -> None:
    """Send `batch` to the hub and SIGKILL it as soon as the batch's manifest exists."""
    manifests = f"{session_prefix(session_id)}batches/"
    ws_url = hub.url.replace("http", "ws", 1)
    with connect(f"{ws_url}/ws/telemetry/{session_id}?token={token}", max_size=None) as device:
        device.send(_batch(batch))
        deadline = time.monotonic() + 30
        while len(storage.list(manifests)) < batch:
            assert time.monotonic() < deadline, "replica A never committed the batch"
            time.sleep(0.005)
        hub.process.send_signal(signal.SIGKILL)
        hub.process.wait()


def test_a_device_moved_to_another_replica_stores_each_message_once(
        tmp_path, database_url, session, make_user, s3_endpoint) -> None:
    url = new_bucket(s3_endpoint)
    storage = storage_at(url)
    session_id, token = _world(database_url)
    replica = partial(hub_process, database_url, telemetry_url=url, audit_key=AUDIT_KEY)
    with replica(tmp_path / "a") as a, replica(tmp_path / "b") as b:
        first = _send(a.url, session_id, token, range(1, KILLED_AFTER))
        _kill_once_committed(a, storage, session_id, token, KILLED_AFTER)
        resent = _send(b.url, session_id, token, range(KILLED_AFTER, BATCHES + 1))
        reviewer = make_user(Role.reviewer)
        bearer = {"Authorization": f"Bearer {issue_token(reviewer, secret=SECRET, ttl_s=600)}"}
        stored = httpx.get(f"{b.url}/api/v1/telemetry-sessions/{session_id}/messages/HEARTBEAT",
                           headers=bearer, timeout=60).json()
    assert [answer["duplicate"] for answer in first + resent] == \
        [False] * (KILLED_AFTER - 1) + [True] + [False] * (BATCHES - KILLED_AFTER)
    assert resent[0]["stored"] == PER_BATCH  # A's commit of the batch, as B reports it
    modes = [row["custom_mode"] for row in stored]
    assert sorted(modes) == sorted(b * 1000 + i for b in range(1, BATCHES + 1)
                                   for i in range(PER_BATCH))
    session.expire_all()
    row = session.get(TelemetrySession, session_id)
    assert (row.messages, row.batches) == (BATCHES * PER_BATCH, BATCHES)
    parts = storage.list(f"{session_prefix(session_id)}HEARTBEAT/")
    assert len(parts) == BATCHES  # B's parts of the resent batch were deleted


class Alternating:
    """Two replicas behind one address: each start brings up the other one, as a load balancer
    sends a device elsewhere once its replica is gone."""

    def __init__(self, replicas: list[Hub]) -> None:
        self.replicas, self.turn = replicas, -1

    @property
    def port(self) -> int:
        return self.replicas[self.turn].port

    def start(self) -> None:
        self.turn = (self.turn + 1) % len(self.replicas)
        self.replicas[self.turn].start()

    def kill(self) -> None:
        self.replicas[self.turn].kill()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 4))
def test_replicas_killed_at_random_moments_soak(tmp_path, database_url, session, s3_endpoint,
                                                seed) -> None:
    url = new_bucket(s3_endpoint)
    session_id, token = _world(database_url)
    replicas = [Hub(tmp_path / name, database_url) for name in "ab"]
    for replica in replicas:
        replica.env.update({"SOLDIERSLAB_TELEMETRY_URL": url,
                            "SOLDIERSLAB_AUDIT_KEY": AUDIT_KEY})
    acked = _stream(Alternating(replicas), session_id, token, batches=30, kills=6,
                    rng=random.Random(seed))
    store = SessionStore(storage_at(url), session_prefix(session_id))
    modes = store.read("HEARTBEAT")["custom_mode"].tolist()
    assert len(modes) == len(set(modes)), "a message was stored twice"
    assert {b * 1000 + i for b in acked for i in range(PER_BATCH)} <= set(modes)
