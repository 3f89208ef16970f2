"""An S3 server on loopback for tests (moto's, as its own process: see tests/s3server.py) and
fresh buckets on it."""

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.hub.served import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret",
               "AWS_REGION": "us-east-1"}


@contextmanager
def s3_server(*, threaded: bool = False) -> Iterator[str]:
    """The server's endpoint URL while it runs."""
    port = free_port()
    command = [sys.executable, "-m", "tests.s3server", str(port)]
    process = subprocess.Popen(command + (["threaded"] if threaded else []),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, \
                    "the S3 server did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait()


def new_bucket(endpoint: str) -> str:
    """A fresh bucket: its s3:// URL (each test its own, so no state carries over)."""
    name = f"telemetry-{uuid.uuid4().hex[:12]}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{name}", method="PUT"))
    return f"s3://{name}/hub"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3 server for the whole run, with the AWS variables pointing at it."""
    with s3_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(name, value)
        yield endpoint

