"""`soldierslab ingest`: a telemetry log file into a new telemetry session of a trial."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlmodel import Session

from hub.cli.common import app, console, engine_for, fail
from hub.flows.ingest import store_batch
from hub.settings import Settings
from sandbox import audit
from sandbox.audit import Actor
from sandbox.models import TelemetrySession, Trial
from telemetry.decode import DecodeStats, StreamDecoder

INGEST_CHUNK = 4 << 20


@app.command()
def ingest(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
           trial: Annotated[int, typer.Option(help="trial the telemetry belongs to")]) -> None:
    """Store a .tlog as a new telemetry session of a trial, with a progress bar."""
    settings = Settings()
    engine = engine_for(settings)
    with Session(engine) as session:
        audit.audit_writes(session, Actor(role="cli", request=f"ingest {file.name}"))
        if session.get(Trial, trial) is None:
            raise fail(ValueError(f"trial: no trial {trial}"))
        row = TelemetrySession(trial_id=trial, source="upload")
        session.add(row)
        session.commit()
        session_id = row.id or 0
    decoder = StreamDecoder(tlog=True)
    size = file.stat().st_size
    with Progress(console=console) as bar, file.open("rb") as handle:
        task = bar.add_task(f"ingesting {file.name}", total=size)
        for batch, chunk in enumerate(iter(lambda: handle.read(INGEST_CHUNK), b""), start=1):
            frames = decoder.feed(chunk, final=handle.tell() >= size)
            store_batch(engine=engine, data_dir=settings.data_dir, session_id=session_id,
                        frames=frames, batch=batch, stats=DecodeStats())
            bar.update(task, advance=len(chunk))
    with Session(engine) as session:
        stored = session.get(TelemetrySession, session_id)
        assert stored is not None
        if stored.messages == 0:
            console.print("[yellow]no MAVLink messages found in this file[/yellow]")
        console.print(f"telemetry session {session_id}: {stored.messages:,} messages "
                      f"({', '.join(f'{n} {k}' for k, n in stored.counts.items())}); "
                      f"{decoder.stats.crc_failures} bad frames skipped, "
                      f"{decoder.stats.sequence_gaps} lost on the link")
    engine.dispose()
