"""Scores at volume: the board, a version's score, the dashboard and the feedback export as the
registry grows, read by a hub running as its own process.

python -m benchmarks.scores [--sizes 10000,1000000,10000000] [--repeat 15]

SQLite in a temporary directory by default; PostgreSQL with SOLDIERSLAB_DATABASE_URL (an empty
database: the benchmark refuses one that holds engagements). 20 versions (the three reference
baselines among them), each with evidence on two scenarios under two trial kinds. The registry
grows to each size through the bulk write path; then a fresh hub (uvicorn) is started and
measured: median latency of each read, the hub's peak resident memory, and the p99 of /healthz
and of a soldier's single-engagement POST while three reviewers read the board without pause.
The reference is the first size: the ratio of each latency to it says whether reads stay flat.
Bulk writes are compared with the per-row ORM insert measured in the same run.
"""

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
import pandas as pd
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from hub.auth import issue_token
from hub.db import make_engine, upgrade
from hub.flows.simulation import baseline_versions
from hub.pages.session import COOKIE
from sandbox import service
from sandbox.models import (
    Engagement,
    Organisation,
    OrgKind,
    Prototype,
    PrototypeKind,
    Role,
    TrialCreate,
    TrialKind,
    User,
    Version,
)
from sandbox.timeutil import utcnow
from simulators.threats import THREATS

SECRET = "benchmark-secret-" + "x" * 40
VERSIONS = 20
CONDITIONS = [(kind, scenario, threat) for kind in (TrialKind.simulation, TrialKind.field)
              for scenario, threat in (("shahed_raid", "shahed_136"), ("fpv_swarm", "fpv_strike"))]
ROWS_PER_TRIAL = 50_000


@dataclass
class World:
    engine: Engine
    url: str
    data_dir: Path
    versions: list[int]
    reviewer_id: int
    soldier_id: int
    soldier_trial: int
    pk: dict[int, float] = field(default_factory=dict)


def _world(url: str, data_dir: Path) -> World:
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(Engagement)).one():
            sys.exit("the benchmark needs an empty database (it holds engagements)")
        company = Organisation(name="Bench Dynamics", kind=OrgKind.company)
        unit = Organisation(name="Bench Unit", kind=OrgKind.unit)
        session.add_all([company, unit])
        session.flush()
        versions = [version.id or 0 for version in baseline_versions(session=session).values()]
        for number in range(VERSIONS - len(versions)):
            prototype = Prototype(name=f"Interceptor {number}", organisation_id=company.id or 0,
                                  kind=PrototypeKind.interceptor_drone)
            session.add(prototype)
            session.flush()
            version = Version(prototype_id=prototype.id or 0, version="1.0.0",
                              unit_cost_cents=int(300_000 + 10_000 * number))
            session.add(version)
            session.flush()
            versions.append(version.id or 0)
        users = [User(name=f"bench-{role}", role=role, password_hash="x",
                      organisation_id=unit.id if role == Role.soldier else None)
                 for role in (Role.reviewer, Role.soldier)]
        session.add_all(users)
        session.commit()
        trial = service.create_trial(session=session, by=users[1], trial_in=TrialCreate(
            version_id=versions[-1], kind=TrialKind.field, scenario="shahed_raid",
            started_at=utcnow()))
        rng = np.random.default_rng(0)
        return World(engine, url, data_dir, versions, users[0].id or 0, users[1].id or 0,
                     trial.id or 0,
                     pk={v: float(rng.uniform(0.3, 0.9)) for v in versions})


def _engagements(rng: np.random.Generator, n: int, threat: str, pk: float) -> pd.DataFrame:
    hit = rng.random(n) < pk
    return pd.DataFrame({
        "threat_kind": threat, "threat_cost_cents": THREATS[threat].cost_cents,
        "interceptors_used": rng.integers(1, 3, n),
        "outcome": np.where(hit, "intercept", rng.choice(["miss", "abort"], n)),
        "time_to_intercept_s": np.where(hit, rng.exponential(60.0, n), np.nan),
        "operating_cost_cents": pd.array([None] * n, dtype="Int64")})


def grow(world: World, to_rows: int, rng: np.random.Generator) -> tuple[int, float]:
    """Add engagements through the bulk path until the registry holds `to_rows`."""
    with Session(world.engine) as session:
        have = session.exec(select(func.count()).select_from(Engagement)).one()
        cells = [(v, c) for v in world.versions for c in CONDITIONS]
        per_trial = max(1, min(ROWS_PER_TRIAL, (to_rows - have) // len(cells)))
        started, written, number = time.perf_counter(), 0, 0
        while have + written < to_rows:
            version, (kind, scenario, threat) = cells[number % len(cells)]
            n = min(per_trial, to_rows - have - written)
            service.record_trial_with_engagements(
                session=session, by=None, engagements=_engagements(rng, n, threat,
                                                                   world.pk[version]),
                trial_in=TrialCreate(version_id=version, kind=kind, scenario=scenario,
                                     started_at=utcnow()))
            written, number = written + n, number + 1
        return written, time.perf_counter() - started


def per_row_reference(world: World, n: int = 2_000) -> float:
    """Rows per second of the ORM, a row object and a flush each, as before bulk writes."""
    rng = np.random.default_rng(1)
    frame = _engagements(rng, n, "shahed_136", 0.5)
    with Session(world.engine) as session:
        started = time.perf_counter()
        for row in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
            session.add(Engagement(trial_id=world.soldier_trial, **row))
            session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()
    return n / elapsed


# --- the hub as its own process ------------------------------------------------------------

class Hub:
    def __init__(self, world: World) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "SOLDIERSLAB_DATABASE_URL": world.url,
               "SOLDIERSLAB_DATA_DIR": str(world.data_dir), "SOLDIERSLAB_SECRET_KEY": SECRET}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from hub.cli import app; app()", "serve", "--port",
             str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/healthz").status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the hub did not start")

    def peak_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024

    def cpu_s(self) -> float:
        """CPU seconds the hub has used: unlike wall time, unmoved by other loads here."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def token(user_id: int) -> str:
    return issue_token(User(id=user_id, name="bench", role=Role.soldier, password_hash=""),
                       secret=SECRET, ttl_s=3600)


def median_ms(call: Callable[[], httpx2.Response], repeat: int,
              hub: Hub) -> tuple[float, float]:
    """Median wall time of a request, and the hub's mean CPU time per request (ms)."""
    call()  # warm: connections, caches
    times = []
    cpu = hub.cpu_s()
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(times), (hub.cpu_s() - cpu) * 1000 / repeat


def p99_ms(call: Callable[[], httpx2.Response], n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call().raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 99))


@dataclass
class Figures:
    rows: int
    latency_ms: dict[str, tuple[float, float]]  # median wall, hub CPU per request
    reads_peak_mib: float  # after the board, version score and dashboard reads
    peak_mib: float  # after the feedback export too
    bulk_per_s: float
    alone_p99_ms: tuple[float, float]  # healthz, POST: no reader
    loaded_p99_ms: tuple[float, float]  # healthz, POST: three board readers


def measure(world: World, hub: Hub,
            repeat: int) -> tuple[dict[str, tuple[float, float]], float]:
    """Median latency and hub CPU of each read; the hub's peak memory before the export."""
    bearer = token(world.reviewer_id)
    reviewer = httpx2.Client(base_url=hub.url, headers={"Authorization": f"Bearer {bearer}"},
                             timeout=600)
    page = httpx2.Client(base_url=hub.url, cookies={COOKIE: bearer}, timeout=600)
    with Session(world.engine) as session:
        prototype = session.get(Version, world.versions[-1]).prototype_id  # type: ignore[union-attr]
    latency = {
        "/api/v1/scores": median_ms(lambda: reviewer.get("/api/v1/scores"), repeat, hub),
        "/versions/{id}/score": median_ms(
            lambda: reviewer.get(f"/api/v1/versions/{world.versions[-1]}/score"), repeat, hub),
        "/dashboard": median_ms(lambda: page.get("/dashboard"), repeat, hub),
    }
    reads_peak = hub.peak_mib()
    latency["feedback parquet"] = median_ms(lambda: reviewer.get(
        f"/api/v1/prototypes/{prototype}/feedback?format=parquet"), max(3, repeat // 5), hub)
    return latency, reads_peak


def under_load(world: World, hub: Hub, readers: int, n: int = 200) -> tuple[float, float]:
    """p99 of /healthz and of one soldier's single-engagement POST while `readers` reviewers
    read the board without pause."""
    stop = threading.Event()
    bearer = token(world.reviewer_id)

    def read_board() -> None:
        with httpx2.Client(base_url=hub.url, headers={"Authorization": f"Bearer {bearer}"},
                           timeout=600) as client:
            while not stop.is_set():
                client.get("/api/v1/scores")

    threads = [threading.Thread(target=read_board) for _ in range(readers)]
    for thread in threads:
        thread.start()
    soldier = token(world.soldier_id)
    row = [{"threat_kind": "shahed_136", "threat_cost_eur": 35000, "interceptors_used": 1,
            "outcome": "intercept", "time_to_intercept_s": 40.0}]
    try:
        with httpx2.Client(base_url=hub.url, timeout=600) as client:
            healthz = p99_ms(lambda: client.get("/healthz"), n)
            post = p99_ms(lambda: client.post(
                f"/api/v1/trials/{world.soldier_trial}/engagements", json=row,
                headers={"Authorization": f"Bearer {soldier}"}), n)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return healthz, post


def upload_rate(world: World, hub: Hub, n: int = 100_000) -> float:
    """Engagements per second through HTTP: one Parquet upload of `n` rows."""
    frame = _engagements(np.random.default_rng(2), n, "shahed_136", 0.5).rename(columns={
        "threat_cost_cents": "threat_cost_eur"}).drop(columns=["operating_cost_cents"])
    frame["threat_cost_eur"] = frame["threat_cost_eur"] / 100
    body = io.BytesIO()
    frame.to_parquet(body)
    soldier = token(world.soldier_id)
    started = time.perf_counter()
    response = httpx2.post(f"{hub.url}/api/v1/trials/{world.soldier_trial}/engagements/upload",
                          content=body.getvalue(), timeout=600, headers={
                              "Authorization": f"Bearer {soldier}",
                              "content-type": "application/vnd.apache.parquet"})
    response.raise_for_status()
    return n / (time.perf_counter() - started)


# --- report --------------------------------------------------------------------------------

def report(results: list[Figures], database: str, reference: float, upload: float) -> None:
    names = list(results[0].latency_ms)
    print(f"\n{database}: median latency (ms) with the hub's CPU per request (ms) in "
          "brackets; hub peak resident memory (MiB) after the reads and after the export too; "
          "bulk write rate (rows/s); p99 (ms) of /healthz and of a single-engagement POST "
          "alone → while three reviewers read the board")
    print(f"{'engagements':>12} " + " ".join(f"{n:>22}" for n in names)
          + f" {'peak reads':>10} {'+export':>8} {'bulk/s':>8} {'healthz p99':>17}"
          f" {'POST p99':>17}")
    for r in results:
        print(f"{r.rows:>12,} " + " ".join(
            f"{r.latency_ms[n][0]:>13.1f} [{r.latency_ms[n][1]:>6.1f}]" for n in names)
              + f" {r.reads_peak_mib:>10.0f} {r.peak_mib:>8.0f} {r.bulk_per_s:>8,.0f}"
              f" {r.alone_p99_ms[0]:>7.1f} → {r.loaded_p99_ms[0]:>7.1f}"
              f" {r.alone_p99_ms[1]:>7.1f} → {r.loaded_p99_ms[1]:>7.1f}")
    first = results[0]
    for r in results[1:]:
        ratios = ", ".join(f"{n} {r.latency_ms[n][0] / first.latency_ms[n][0]:.2f} "
                           f"[{r.latency_ms[n][1] / first.latency_ms[n][1]:.2f}]" for n in names)
        print(f"ratio {r.rows:,} / {first.rows:,} engagements, latency [CPU]: {ratios}; peak "
              f"memory after the reads {r.reads_peak_mib / first.reads_peak_mib:.2f}")
    best = max(r.bulk_per_s for r in results)
    print(f"bulk write {best:,.0f} rows/s (growing the registry, 50,000-row trials) = "
          f"{best / reference:.0f}x the per-row ORM insert ({reference:,.0f} rows/s); one "
          f"100,000-row Parquet upload through the hub {upload:,.0f} rows/s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    sizes = ",".join(str(r.rows) for r in results)
    print(f"reproduce: {'SOLDIERSLAB_DATABASE_URL=… ' if 'sqlite' not in database else ''}"
          f"python -m benchmarks.scores --sizes {sizes}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000,10000000",
                        help="registry sizes in engagements, ascending, comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="requests per median")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("SOLDIERSLAB_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        world = _world(url, Path(tmp))
        reference = per_row_reference(world)
        rng = np.random.default_rng(3)
        results = []
        for size in sizes:
            written, seconds = grow(world, size, rng)
            print(f"grew to {size:,} engagements: {written:,} in {seconds:.1f} s", flush=True)
            hub = Hub(world)
            try:
                latency, reads_peak = measure(world, hub, args.repeat)
                results.append(Figures(size, latency, reads_peak, hub.peak_mib(),
                                       written / max(seconds, 1e-9), under_load(world, hub, 0),
                                       under_load(world, hub, 3)))
                upload = upload_rate(world, hub) if size == sizes[-1] else 0.0
            finally:
                hub.stop()
            print(results[-1], flush=True)
        report(results, make_engine(url).dialect.name, reference, upload)


if __name__ == "__main__":
    main()
