"""`soldierslab dis-bridge`: refusals through typer's runner, a real run in its own process."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from hub.cli import app
from sandbox.models import Engagement, Role, TelemetrySession
from tests.factories import new_prototype, new_trial, new_version
from tests.simulators.test_dis import DETONATION_HEX, EXPLOSION_HEX, FIRE_HEX
from tests.simulators.test_dis_listener import TRANSMITTER, _exercise
from tests.simulators.test_dis_tracks import SITE_LAT, SITE_LON, _flight

runner = CliRunner()


@pytest.fixture
def trial_id(client, make_user) -> int:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    return new_trial(client, soldier, version["id"], kind="simulator", simulator="VBS4",
                     lat=SITE_LAT, lon=SITE_LON)["id"]


@pytest.mark.parametrize("options, code, message", [
    (["--threat-kind", "lancet_3"], 1, "--threat-kind lancet_3: not in the threat library"),
    (["--threat-kind", "Lancet 3", "--threat-cost", "35000"], 1,
     "--threat-kind: String should match pattern"),
    (["--threat-cost", "-5"], 1, "--threat-cost: Input should be greater than or equal to 0"),
    (["--threat-cost", "lots"], 2, "'lots' is not an amount in EUR"),
    (["--listen", "3000"], 1, "--listen: host:port"),
])
def test_dis_bridge_refuses_what_it_cannot_record(cli_env, trial_id, options, code,
                                                  message) -> None:
    result = runner.invoke(app, ["dis-bridge", "--trial", str(trial_id), *options])
    assert result.exit_code == code
    assert message in re.sub(r"[\s│]+", " ", result.output)  # unwrap rich's error panel
    assert cli_env.exec(select(TelemetrySession)).all() == []


def test_dis_bridge_refuses_a_missing_trial(cli_env) -> None:
    result = runner.invoke(app, ["dis-bridge", "--trial", "999"])
    assert (result.exit_code, "trial 999 not found" in result.output) == (1, True)


def _lines(process: subprocess.Popen) -> tuple["queue.Queue[str]", threading.Thread]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.put(line.rstrip("\n"))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return lines, reader


def _until(lines: "queue.Queue[str]", pattern: str, seen: list[str]) -> re.Match:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if found := re.search(pattern, seen[-1]):
            return found
    raise AssertionError(f"no line matching {pattern!r} in {seen}")


def test_dis_bridge_process_prints_each_pdu_used_and_a_summary_on_ctrl_c(
        settings, trial_id, session: Session) -> None:
    env = {**os.environ, "SOLDIERSLAB_DATABASE_URL": settings.database(),
           "SOLDIERSLAB_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from hub.cli import app; app()", "dis-bridge", "--trial",
               str(trial_id), "--listen", "127.0.0.1:0", "--threat-cost", "20000"]
    seen: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env) as process:
        lines, reader = _lines(process)
        try:
            port = int(_until(lines, r"on udp 127\.0\.0\.1:(\d+) into trial", seen)[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for datagram in [b"junk", TRANSMITTER, _exercise(DETONATION_HEX, 9),
                                 *_flight((1, 2, 5), range(3)), bytes.fromhex(FIRE_HEX),
                                 bytes.fromhex(DETONATION_HEX), bytes.fromhex(EXPLOSION_HEX)]:
                    sender.sendto(datagram, ("127.0.0.1", port))
            _until(lines, r"engagement \d+ recorded: intercept .*1 interceptor", seen)
            process.send_signal(signal.SIGINT)
            _until(lines, r"^stopped: ", seen)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(timeout=10)
    output = "\n".join(seen)
    assert re.search(r"engagement \d+ recorded: intercept \(entity impact\), 2 interceptor"
                     r"\(s\), 14\.1 s to intercept", output)
    assert "malformed datagram from 127.0.0.1:" in output
    assert re.search(r"track batch: 3 points of 1 entities stored; new entity 1:2:5 "
                     r"\(1\.2\.102\.1\.3\.0\.0\) → telemetry session \d+", output)
    assert seen[-1] == ("stopped: 2 engagements recorded (0 refused), 3 track points of 1 "
                        "entities stored (0 lost); ignored: Transmitter 1; malformed 1; "
                        "other exercises 1")
    engagements = session.exec(select(Engagement).order_by(Engagement.id)).all()
    assert [(e.interceptors_used, e.threat_cost_cents) for e in engagements] == [
        (2, 2_000_000), (1, 2_000_000)]
    [track] = session.exec(select(TelemetrySession)).all()
    assert (track.source, track.counts["GLOBAL_POSITION_INT"]) == ("dis", 3)
