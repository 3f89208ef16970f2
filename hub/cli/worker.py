"""`soldierslab worker`: run queued simulations, beside any number of hub replicas."""

import signal
from typing import Annotated

import typer

from hub.cli.common import app, console, engine_for
from hub.jobs.worker import Worker
from hub.settings import Settings


@app.command("worker")
def worker_command(name: Annotated[str, typer.Option(
        help="how this worker is named in the jobs it claims; empty: host:pid")] = "") -> None:
    """Run queued simulations one at a time until stopped. SIGTERM or Ctrl-C puts a running
    simulation back in the queue at its next chunk; after a SIGKILL another worker runs it
    again once its lease is out (SOLDIERSLAB_SIMULATION_LEASE_S)."""
    settings = Settings()
    engine = engine_for(settings)
    worker = Worker(engine, settings, name=name)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: worker.stop())
    console.print(f"worker {worker.name} runs queued simulations; Ctrl-C stops")
    try:
        worker.run()
    finally:
        engine.dispose()
