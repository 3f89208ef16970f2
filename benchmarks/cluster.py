"""One hub replica against two: engagements and the engineers' feed under 20 soldiers, and
telemetry into an object store, each replica a real `soldierslab serve` process.

SOLDIERSLAB_DATABASE_URL=postgresql+psycopg://…/db python -m benchmarks.cluster
    [--seconds 10] [--soldiers 20] [--devices 4] [--batch 1000]

The database must be PostgreSQL and may be filled (the benchmark migrates it and adds its own
organisations, users, trials and telemetry sessions, under names of its own run). For one
replica, then two, fresh replicas share the database and a bucket on moto's S3 server (started
here on loopback); the load is spread evenly over them, as a load balancer would, and measured
after a second of warm-up:

- engagements: `--soldiers` soldiers, each its own unit and trial, POST one engagement at a time
  without pause; engagements recorded per second. Meanwhile a probe soldier of another company
  posts one engagement at a time to the first replica while that company's engineer listens on
  /ws/feed of the last one (so with two replicas every probe crosses the broker, PostgreSQL
  LISTEN/NOTIFY): feed latency is from the probe's POST to the engineer's notice, p50 and p99.
- telemetry: `--devices` devices stream `--batch`-message batches over /ws/telemetry, each
  waiting for its acknowledgement (stored in the bucket) before the next; messages per second.

The reference is one replica measured in the same run; the ratio says what the second buys.

What a second replica buys on 2 cores: little or nothing. The two replicas, PostgreSQL, the
S3 server and this load generator all share the same two cores, so the second replica adds no
CPU; it adds a process, a broker connection and cache misses. The ratio shows that the work
divides without conflict (nothing is serialised in a replica), not extra capacity. Each
replica is one Python process (one core at most for its request handling), so with cores to
spare, or replicas on their own machines, engagements and telemetry scale close to the number
of replicas until the shared parts saturate: for engagements the database's commits (every
write takes the audit chain's head row in turn, then the score aggregates of its condition),
for telemetry the object store's PUTs, and for the feed nothing before those (a few notices
a second per soldier; see docs/scaling.md).
"""

import argparse
import json
import math
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx  # the HTTP client the test extra declares
from sqlmodel import Session
from websockets.sync.client import connect

from benchmarks.decode import copter_frames
from hub.auth import issue_token
from hub.db import make_engine, upgrade
from hub.flows.ingest import new_token
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
from tests.conftest import SECRET
from tests.hub.served import HubProcess, hub_process
from tests.objectstore import CREDENTIALS, new_bucket, s3_server

AUDIT_KEY = "benchmark-cluster-audit-key-" + "k" * 16
WARM_UP_S = 1.0
ENGAGEMENT = [{"threat_kind": "shahed_136", "threat_cost_eur": 35000, "interceptors_used": 1,
               "outcome": "intercept", "time_to_intercept_s": 41.5}]


@dataclass
class World:
    soldiers: list[tuple[int, str]]  # (trial id, soldier's bearer token)
    probe: tuple[int, str]
    engineer: str  # the probe company's engineer, who listens on the feed
    devices: list[tuple[int, str]]  # (telemetry session id, device token)


class Builder:
    """Rows of one benchmark run, named so that runs on one database never collide."""

    def __init__(self, session: Session) -> None:
        self.session, self.tag = session, secrets.token_hex(4)

    def add(self, row):  # type: ignore[no-untyped-def]
        self.session.add(row)
        self.session.flush()
        return row

    def user(self, role: Role, org: Organisation, name: str) -> str:
        user = self.add(User(name=f"{name}-{self.tag}", role=role, organisation_id=org.id,
                             password_hash="benchmark users log in by token only"))
        return issue_token(user, secret=SECRET, ttl_s=3600)

    def trial(self, version: Version, unit: Organisation | None = None) -> Trial:
        return self.add(Trial(version_id=version.id, kind="simulator", simulator="bench",
                              scenario="shahed_raid", started_at=utcnow(),
                              unit_id=unit.id if unit else None))

    def company_version(self, name: str) -> tuple[Organisation, Version]:
        company = self.add(Organisation(name=f"{name}-{self.tag}", kind=OrgKind.company))
        prototype = self.add(Prototype(name=name, kind="interceptor_drone",
                                       organisation_id=company.id))
        return company, self.add(Version(prototype_id=prototype.id, version="1.0.0",
                                         unit_cost_cents=400_000))

    def soldier_trial(self, version: Version, name: str) -> tuple[int, str]:
        unit = self.add(Organisation(name=f"{name}-unit-{self.tag}", kind=OrgKind.unit))
        token = self.user(Role.soldier, unit, name)
        return self.trial(version, unit).id or 0, token

    def device(self, version: Version) -> tuple[int, str]:
        token, digest = new_token()
        row = self.add(TelemetrySession(trial_id=self.trial(version).id, source="device",
                                        token_hash=digest))
        return row.id or 0, token


def build_world(database: str, soldiers: int, devices: int) -> World:
    engine = make_engine(database)
    upgrade(engine)
    with Session(engine) as session:
        build = Builder(session)
        _, version = build.company_version("Hornet")
        probe_company, probe_version = build.company_version("Probe")
        world = World(
            soldiers=[build.soldier_trial(version, f"soldier{i}") for i in range(soldiers)],
            probe=build.soldier_trial(probe_version, "probe"),
            engineer=build.user(Role.engineer, probe_company, "engineer"),
            devices=[build.device(version) for _ in range(devices)])
        session.commit()
    engine.dispose()
    return world


@contextmanager
def replicas(database: str, count: int, **env: str) -> Iterator[list[HubProcess]]:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        yield [stack.enter_context(hub_process(database, Path(folder) / f"replica{i}",
                                               audit_key=AUDIT_KEY, **env))
               for i in range(count)]


def measure(workers: list[Callable[[threading.Event], None]], counts: list[int],
            seconds: float, measuring: threading.Event) -> float:
    """Run the workers; what `counts` gained per second between warm-up and the end."""
    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(stop,), daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    time.sleep(WARM_UP_S)
    before = sum(counts)
    measuring.set()
    time.sleep(seconds)
    gained = sum(counts) - before
    measuring.clear()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return gained / seconds


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def soldier(url: str, trial_id: int, token: str, counts: list[int], index: int
            ) -> Callable[[threading.Event], None]:
    def post(stop: threading.Event) -> None:
        with httpx.Client(base_url=url, headers=_bearer(token), timeout=60) as client:
            while not stop.is_set():
                answer = client.post(f"/api/v1/trials/{trial_id}/engagements", json=ENGAGEMENT)
                counts[index] += answer.status_code == 201
    return post


def probe(post_url: str, feed_url: str, world: World, latencies: list[float],
          measuring: threading.Event) -> Callable[[threading.Event], None]:
    trial_id, token = world.probe
    feed_path = f"/ws/feed?token={world.engineer}"

    def post_and_hear(stop: threading.Event) -> None:
        with httpx.Client(base_url=post_url, headers=_bearer(token), timeout=60) as client, \
                connect(feed_url.replace("http", "ws", 1) + feed_path) as feed:
            while not stop.is_set():
                sent = time.perf_counter()
                client.post(f"/api/v1/trials/{trial_id}/engagements", json=ENGAGEMENT)
                json.loads(feed.recv(timeout=10))
                if measuring.is_set():
                    latencies.append(time.perf_counter() - sent)
                time.sleep(0.02)  # a probe, not a load
    return post_and_hear


def device(url: str, session_id: int, token: str, payload: bytes, counts: list[int],
           index: int) -> Callable[[threading.Event], None]:
    path = f"/ws/telemetry/{session_id}?token={token}"

    def stream(stop: threading.Event) -> None:
        with connect(url.replace("http", "ws", 1) + path, max_size=None) as socket:
            number = 0
            while not stop.is_set():
                number += 1
                socket.send(number.to_bytes(8, "big") + payload)
                counts[index] += json.loads(socket.recv(timeout=120))["stored"]
    return stream


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan


@dataclass
class EngagementRun:
    per_s: float
    feed_p50_s: float
    feed_p99_s: float
    probes: int


def engagements(hubs: list[HubProcess], world: World, seconds: float) -> EngagementRun:
    urls = [hub.url for hub in hubs]
    counts = [0] * len(world.soldiers)
    latencies: list[float] = []
    measuring = threading.Event()
    workers = [soldier(urls[i % len(urls)], trial, token, counts, i)
               for i, (trial, token) in enumerate(world.soldiers)]
    workers.append(probe(urls[0], urls[-1], world, latencies, measuring))
    rate = measure(workers, counts, seconds, measuring)
    return EngagementRun(rate, percentile(latencies, 0.5), percentile(latencies, 0.99),
                         len(latencies))


def telemetry(hubs: list[HubProcess], world: World, seconds: float, batch: int) -> float:
    payload = b"".join(copter_frames(batch))
    counts = [0] * len(world.devices)
    workers = [device(hubs[i % len(hubs)].url, session_id, token, payload, counts, i)
               for i, (session_id, token) in enumerate(world.devices)]
    return measure(workers, counts, seconds, threading.Event())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--soldiers", type=int, default=20)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    database = os.environ.get("SOLDIERSLAB_DATABASE_URL", "")
    if not database.startswith("postgresql"):
        sys.exit("SOLDIERSLAB_DATABASE_URL must name a PostgreSQL database the benchmark may "
                 "fill: replicas share it, and their broker is its LISTEN/NOTIFY")
    print(f"{os.cpu_count()} cores; {args.soldiers} soldiers, {args.devices} devices of "
          f"{args.batch:,}-message batches, {args.seconds:.0f} s a run after "
          f"{WARM_UP_S:.0f} s of warm-up")
    runs, rates = {}, {}
    with s3_server(threaded=True) as endpoint:
        os.environ.update({**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint})  # for the replicas
        for count in (1, 2):
            world = build_world(database, args.soldiers, args.devices)
            with replicas(database, count, telemetry_url=new_bucket(endpoint)) as hubs:
                run = runs[count] = engagements(hubs, world, args.seconds)
                rates[count] = telemetry(hubs, world, args.seconds, args.batch)
            print(f"{count} replica(s): {run.per_s:,.0f} engagements/s; feed latency p50 "
                  f"{run.feed_p50_s * 1000:.0f} ms, p99 {run.feed_p99_s * 1000:.0f} ms "
                  f"({run.probes} probes); {rates[count]:,.0f} telemetry msg/s into S3 (moto)")
    print(f"ratio 2 replicas / 1: engagements {runs[2].per_s / runs[1].per_s:.2f}, feed p50 "
          f"{runs[2].feed_p50_s / runs[1].feed_p50_s:.2f}, p99 "
          f"{runs[2].feed_p99_s / runs[1].feed_p99_s:.2f}, telemetry "
          f"{rates[2] / rates[1]:.2f}")
    print("reproduce: SOLDIERSLAB_DATABASE_URL=… python -m benchmarks.cluster "
          + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
