"""Live UDP ingest: many vehicles on loopback, through the hub's listener into Parquet.

python -m benchmarks.udp [--seconds 5] [--senders 4,16] [--rates 1000,4000,10000,20000]
                         [--ramp-to 160000]

Starts the hub in this process (SQLite and Parquet in a temporary directory, listening on a
free UDP port of loopback) with one telemetry session per sender's system id. A separate
process plays the vehicles: each sender has its own socket (its own address) and sends a
copter's telemetry one frame per datagram, paced evenly at its share of the total rate. After
each run the hub is given time to commit; then messages stored ÷ sent is printed, with the
kernel's drops on the socket and the lag from the end of sending until all but each sender's
last frame are committed (the hub keeps up while it stays near the 0.5 s flush interval; that
last frame waits until its sender has been silent 3 s, as nothing follows it to show it whole).
Then the rate is doubled from the highest given until messages are lost, to show where loss
begins on this machine.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.decode import copter_frames

if TYPE_CHECKING:  # the vehicles' process imports none of the hub
    import uvicorn

    from hub.listeners.mavlink import Router

MAX_SENDERS = 64
SETTLE_S = 5.0  # no new message stored for this long: the hub has committed all it will


@dataclass
class Run:
    senders: int
    rate: int
    sent: int
    send_s: float
    stored: int
    kernel_drops: int
    lag_s: float  # from the end of sending until all but each sender's last frame are stored


def send(port: int, senders: int, rate: float, seconds: float) -> None:
    """The vehicles (in their own process): print how many datagrams were sent, and in how
    long."""
    per_sender = int(rate * seconds) // senders
    frames = [copter_frames(per_sender, sysid=sysid) for sysid in range(1, senders + 1)]
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(senders)]
    address = ("127.0.0.1", port)
    total = per_sender * senders
    started = time.perf_counter()
    for index in range(total):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sockets[index % senders].sendto(frames[index % senders][index // senders], address)
    print(total, time.perf_counter() - started)


def _vehicles(port: int, senders: int, rate: int, seconds: float) -> tuple[int, float]:
    child = subprocess.run([sys.executable, "-m", "benchmarks.udp", "--send", str(port),
                            str(senders), str(rate), str(seconds)],
                           capture_output=True, text=True)
    if child.returncode:
        raise SystemExit(f"the vehicles' process failed:\n{child.stderr}")
    sent, elapsed = child.stdout.split()
    return int(sent), float(elapsed)


def _settled(router: Router, target: int, held: int) -> tuple[int, float]:
    """Wait until `target` messages are stored, or nothing new is stored for SETTLE_S;
    answers the count stored and how long after the call all but `held` of them were."""
    started = last_change = time.monotonic()
    last, caught_up = router.stored, None
    while router.stored < target and time.monotonic() - last_change < SETTLE_S:
        if caught_up is None and router.stored >= target - held:
            caught_up = time.monotonic()
        time.sleep(0.02)
        if router.stored != last:
            last, last_change = router.stored, time.monotonic()
    return router.stored, (caught_up or last_change) - started


def _run(router: Router, port: int, senders: int, rate: int, seconds: float) -> Run:
    stored_before = router.stored
    drops_before = router.listeners[0].counters.kernel_drops or 0
    sent, send_s = _vehicles(port, senders, rate, seconds)
    stored, lag_s = _settled(router, stored_before + sent, senders)
    router.listeners[0].refresh_kernel_drops()  # type: ignore[union-attr]
    drops = (router.listeners[0].counters.kernel_drops or 0) - drops_before
    return Run(senders, rate, sent, send_s, stored - stored_before, drops, lag_s)


def _print(run: Run) -> None:
    print(f"{run.senders:>7} {run.rate:>10,} {run.sent / run.send_s:>12,.0f} {run.sent:>10,} "
          f"{run.stored:>10,} {run.sent - run.stored:>8,} {run.kernel_drops:>8,} "
          f"{run.stored / run.sent:>11.4f} {run.lag_s:>6.1f}", flush=True)


def _hub(folder: Path, port: int) -> tuple[uvicorn.Server, Router]:
    import uvicorn
    from sqlmodel import Session

    from benchmarks.ingest import _session as bench_trial_session
    from hub.app import create_app
    from hub.db import make_engine
    from hub.settings import Settings
    from sandbox.models import TelemetrySession

    database = f"sqlite:///{folder / 'hub.db'}"
    bench_trial_session(database)  # migrates, and makes a trial
    engine = make_engine(database)
    with Session(engine) as session:
        trial_id = session.get(TelemetrySession, 1).trial_id  # type: ignore[union-attr]
        session.add_all([TelemetrySession(trial_id=trial_id, sysid=sysid, source="device")
                         for sysid in range(1, MAX_SENDERS + 1)])
        session.commit()
    settings = Settings(database_url=database, data_dir=folder / "data", secret_key="u" * 40,
                        mavlink=[f"udpin:127.0.0.1:{port}"])
    app = create_app(settings, engine=engine)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        http_port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port,
                                           log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, app.state.mavlink_router


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--senders", default="4,16")
    parser.add_argument("--rates", default="1000,4000,10000,20000")
    parser.add_argument("--ramp-to", type=int, default=160_000)
    parser.add_argument("--send", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        port, senders, rate, seconds = args.send
        send(int(port), int(senders), float(rate), float(seconds))
        return
    senders_list = [int(s) for s in args.senders.split(",")]
    rates = [int(r) for r in args.rates.split(",")]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        server, router = _hub(Path(folder), port)
        print(f"hub listening on udpin:127.0.0.1:{port}, receive buffer "
              f"{router.listeners[0].counters.receive_buffer_bytes:,} bytes granted; "
              f"{args.seconds:g} s per run, one frame per datagram")
        print("senders  rate msg/s  sent msg/s       sent     stored     lost  k.drops "
              "stored/sent  lag s")
        lossless = 0  # the highest rate without loss from the most senders
        for senders in senders_list:
            for rate in rates:
                run = _run(router, port, senders, rate, args.seconds)
                _print(run)
                if senders == max(senders_list) and run.stored == run.sent:
                    lossless = max(lossless, rate)
        _ramp(router, port, max(senders_list), lossless, args.ramp_to, args.seconds)
        server.should_exit = True


def _ramp(router: Router, port: int, senders: int, lossless: int, limit: int,
          seconds: float) -> None:
    """Double the rate until messages are lost (or the limit); say where loss begins."""
    rate = lossless * 2
    while lossless and rate <= limit:
        run = _run(router, port, senders, rate, seconds)
        _print(run)
        if run.stored < run.sent:
            print(f"loss begins between {lossless:,} and {rate:,} msg/s asked "
                  f"({run.sent / run.send_s:,.0f} msg/s sent) from {senders} senders")
            return
        lossless = rate
        rate *= 2
    if lossless:
        print(f"no loss up to {lossless:,} msg/s from {senders} senders (the ramp's limit)")


if __name__ == "__main__":
    main()
