"""Kill the ingest process (SIGKILL) at random moments while a device streams; after each
restart the device resends what was not acknowledged. Every acknowledged message must be
stored exactly once."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hub.db import make_engine, upgrade
from hub.flows.ingest import new_token, session_prefix
from sandbox.models import Organisation, OrgKind, Prototype, TelemetrySession, Trial, Version
from telemetry.objects import DiskStorage
from telemetry.store import SessionStore
from tests.telemetry.streams import SPECS, frame

HEARTBEAT = next(s for s in SPECS.values() if s.name == "HEARTBEAT")
PER_BATCH = 200


def _world(database: str) -> tuple[int, str]:
    engine = make_engine(database)
    upgrade(engine)
    with Session(engine) as session:
        company = Organisation(name="Company", kind=OrgKind.company)
        session.add(company)
        session.flush()
        prototype = Prototype(name="Hornet", kind="interceptor_drone",
                              organisation_id=company.id)
        session.add(prototype)
        session.flush()
        version = Version(prototype_id=prototype.id, version="1.0.0", unit_cost_cents=1)
        session.add(version)
        session.flush()
        trial = Trial(version_id=version.id, kind="field", scenario="s",
                      started_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.add(trial)
        session.flush()
        token, digest = new_token()
        row = TelemetrySession(trial_id=trial.id, source="device", token_hash=digest)
        session.add(row)
        session.commit()
        session_id = row.id
    engine.dispose()
    return session_id, token


def _batch(number: int) -> bytes:
    # custom_mode carries (batch, index), so every stored message can be told apart
    frames = (frame(HEARTBEAT, (number * 1000 + i).to_bytes(4, "little") + bytes(5),
                    seq=i % 256) for i in range(PER_BATCH))
    return number.to_bytes(8, "big") + b"".join(frames)


class Hub:
    def __init__(self, tmp: Path, database: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = {**os.environ, "SOLDIERSLAB_DATABASE_URL": database,
                    "SOLDIERSLAB_DATA_DIR": str(tmp / "data"),
                    "SOLDIERSLAB_SECRET_KEY": "k" * 40}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the hub did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def _stream(hub: Hub, session_id: int, token: str, batches: int, kills: int,
            rng: random.Random) -> set[int]:
    acked: set[int] = set()
    kill_after = sorted(rng.sample(range(2, batches), kills))
    next_batch = 1
    while next_batch <= batches:
        hub.start()
        try:
            with connect(f"ws://127.0.0.1:{hub.port}/ws/telemetry/{session_id}?token={token}",
                         max_size=None) as device:
                while next_batch <= batches:
                    device.send(_batch(next_batch))
                    if kill_after and next_batch == kill_after[0]:
                        kill_after.pop(0)
                        time.sleep(rng.random() * 0.05)  # mid-write, or just after
                        hub.kill()
                    answer = device.recv(timeout=30)
                    acked.add(next_batch)
                    assert f'"batch":{next_batch}' in answer.replace(" ", "")
                    next_batch += 1
        except (ConnectionClosed, OSError, TimeoutError):
            pass  # the hub died: resend from the first unacknowledged batch
    hub.kill()
    return acked


def _check(tmp: Path, session_id: int, acked: set[int]) -> None:
    store = SessionStore(DiskStorage(tmp / "data" / "telemetry"), session_prefix(session_id))
    modes = store.read("HEARTBEAT")["custom_mode"].tolist()
    assert len(modes) == len(set(modes)), "a message was stored twice"
    expected = {b * 1000 + i for b in acked for i in range(PER_BATCH)}
    assert expected <= set(modes), "an acknowledged message was lost"


@pytest.mark.parametrize("seed", [1])
def test_sigkilled_ingest_loses_nothing_acknowledged(tmp_path, seed) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    session_id, token = _world(database)
    acked = _stream(Hub(tmp_path, database), session_id, token, batches=12, kills=2,
                    rng=random.Random(seed))
    assert acked == set(range(1, 13))
    _check(tmp_path, session_id, acked)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 7))
def test_sigkilled_ingest_soak(tmp_path, seed) -> None:
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    session_id, token = _world(database)
    acked = _stream(Hub(tmp_path, database), session_id, token, batches=40, kills=8,
                    rng=random.Random(seed))
    _check(tmp_path, session_id, acked)
