"""Live ingest over one websocket into Parquet, with nothing lost.

python -m benchmarks.ingest [--messages 500000] [--batch 10000] [--telemetry-url s3://bucket/p]

Streams copter telemetry to a hub started in this process (SQLite, a temporary data
directory), waits for every acknowledgement, then counts what is stored. The reference is the
decoder alone on the same bytes: the ratio says what storing and acknowledging cost. With
`--telemetry-url`, the same stream also goes into that storage (an S3 bucket that exists, with
the AWS_* variables set), and the ratio to the local disk says what the object store costs.
For example, against moto's S3 server on loopback:

    python -m tests.s3server 9000 threaded &
    curl -X PUT http://127.0.0.1:9000/bench
    AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s \
        AWS_REGION=us-east-1 python -m benchmarks.ingest --telemetry-url s3://bench/telemetry
"""

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from sqlmodel import Session
from websockets.sync.client import connect

from benchmarks.decode import _one_second
from hub.app import create_app
from hub.db import make_engine, upgrade
from hub.flows.ingest import new_token, open_store
from hub.settings import Settings
from sandbox.models import Organisation, OrgKind, Prototype, TelemetrySession, Trial, Version
from sandbox.timeutil import utcnow
from telemetry import decode


def _frames(count: int) -> list[bytes]:
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    out: list[bytes] = []
    second = 0.0
    while len(out) < count:
        for message in _one_second(mav, second):
            out.append(message.pack(mav))
            mav.seq = (mav.seq + 1) % 256
        second += 1
    return out[:count]


def _session(database: str) -> tuple[int, str]:
    engine = make_engine(database)
    upgrade(engine)
    with Session(engine) as session:
        company = Organisation(name="Bench", kind=OrgKind.company)
        session.add(company)
        session.flush()
        prototype = Prototype(name="Bench", kind="interceptor_drone", organisation_id=company.id)
        session.add(prototype)
        session.flush()
        version = Version(prototype_id=prototype.id, version="1.0.0", unit_cost_cents=1)
        session.add(version)
        session.flush()
        trial = Trial(version_id=version.id, kind="field", scenario="bench", started_at=utcnow())
        session.add(trial)
        session.flush()
        token, digest = new_token()
        row = TelemetrySession(trial_id=trial.id, source="device", token_hash=digest)
        session.add(row)
        session.commit()
        return row.id or 0, token


def _ingest(telemetry_url: str, payload: bytes, batches: int) -> tuple[float, int]:
    """Seconds to stream every batch and have it acknowledged; messages stored."""
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'hub.db'}"
        settings = Settings(database_url=database, data_dir=Path(folder) / "data",
                            secret_key="b" * 40, telemetry_url=telemetry_url)
        session_id, token = _session(database)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1",
                                               port=port, log_level="error", ws_max_size=2**26))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        started = time.perf_counter()
        with connect(f"ws://127.0.0.1:{port}/ws/telemetry/{session_id}?token={token}",
                     max_size=None) as device:
            for number in range(1, batches + 1):
                device.send(number.to_bytes(8, "big") + payload)
                device.recv()
        seconds = time.perf_counter() - started
        server.should_exit = True
        return seconds, open_store(settings.storage(), session_id).stats().messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--telemetry-url", default="",
                        help="also ingest into this storage (s3://bucket/prefix)")
    args = parser.parse_args()
    template = _frames(args.batch)
    payload = b"".join(template)
    batches = -(-args.messages // args.batch)
    sent = batches * len(template)

    started = time.perf_counter()
    for _ in range(batches):
        decode(payload)
    decode_rate = sent / (time.perf_counter() - started)
    print(f"sending {sent:,} messages in {batches} batches of {len(template):,} over one "
          "websocket")
    rates = {}
    for target in ["", args.telemetry_url] if args.telemetry_url else [""]:
        seconds, stored = _ingest(target, payload, batches)
        rates[target] = sent / seconds
        print(f"into {target or 'the local disk'}: {rates[target]:,.0f} msg/s ({seconds:.2f} s),"
              f" stored and acknowledged {stored:,} ({sent - stored:,} lost)")
    print(f"decoder alone: {decode_rate:,.0f} msg/s; ratio local-disk ingest / decoder alone: "
          f"{rates[''] / decode_rate:.2f}; target 50,000 msg/s: "
          f"{'met' if rates[''] >= 50_000 else 'not met'}")
    if args.telemetry_url:
        print(f"ratio object store / local disk: {rates[args.telemetry_url] / rates['']:.2f}")


if __name__ == "__main__":
    main()
