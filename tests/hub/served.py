"""The hub behind a real server: uvicorn in a thread (in-process state visible), or the
`soldierslab serve` command as its own process (its memory and signals are its own)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx  # the HTTP client the test extra declares
import uvicorn
from fastapi import FastAPI

from hub.cli.serve import server_options
from hub.settings import Settings
from tests.conftest import SECRET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(app: FastAPI, settings: Settings) -> Iterator[tuple[str, uvicorn.Server]]:
    """The app behind uvicorn configured as `soldierslab serve` configures it, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           **server_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class HubProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def terminate_timed(self, timeout_s: float) -> float:
        """SIGTERM; the seconds until the process ended (killed after `timeout_s`)."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started


@contextmanager
def hub_process(database_url: str, data_dir: Path, **env: Any) -> Iterator[HubProcess]:
    """`python -m hub.cli serve` on a free port, on the test database; stopped afterwards."""
    port = free_port()
    variables = {**os.environ, "SOLDIERSLAB_DATABASE_URL": database_url,
                 "SOLDIERSLAB_DATA_DIR": str(data_dir), "SOLDIERSLAB_SECRET_KEY": SECRET,
                 **{f"SOLDIERSLAB_{name.upper()}": str(value) for name, value in env.items()}}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "hub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)], env=variables,
            stdout=output, stderr=subprocess.STDOUT)
    hub = HubProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(hub)
        yield hub
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_up(hub: HubProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.process.returncode}")
        try:
            if httpx.get(f"{hub.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the hub did not start within 30 s")
