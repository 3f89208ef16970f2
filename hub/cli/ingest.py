"""`soldierslab ingest`: a telemetry log file into a new telemetry session of a trial."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlmodel import Session

from hub.cli.common import app, console, engine_for, fail
from hub.flows.ingest import Staging, commit_staged, stage_file, sweep
from hub.settings import Settings
from sandbox import audit
from sandbox.audit import Actor
from sandbox.errors import Invalid
from sandbox.models import TelemetrySession, Trial


@app.command()
def ingest(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
           trial: Annotated[int, typer.Option(help="trial the telemetry belongs to")]) -> None:
    """Store a log file (.tlog, DataFlash .bin or PX4 .ulg) as a new telemetry session of a
    trial; a file without telemetry, or a bad or truncated one, is refused and nothing kept."""
    settings = Settings()
    engine = engine_for(settings)
    try:
        with Session(engine) as session:
            audit.audit_writes(session, Actor(role="cli", request=f"ingest {file.name}"))
            if session.get(Trial, trial) is None:
                raise fail(ValueError(f"trial: no trial {trial}"))
            sweep(engine=engine, data_dir=settings.data_dir, storage=settings.storage())
            with Staging(settings.data_dir) as staging, Progress(console=console) as bar:
                task = bar.add_task(f"ingesting {file.name}", total=file.stat().st_size)
                staged = stage_file(staging=staging, path=file,
                                    progress=lambda done: bar.update(task, completed=done))
                row = commit_staged(session=session, storage=settings.storage(),
                                    staging=staging, staged=staged, trial_id=trial)
            _report(row)
    except Invalid as error:
        raise fail(error) from error
    finally:
        engine.dispose()


def _report(row: TelemetrySession) -> None:
    console.print(f"telemetry session {row.id} ({row.log_format}): {row.messages:,} messages "
                  f"({', '.join(f'{n} {k}' for k, n in row.counts.items())}); "
                  f"{row.crc_failures} bad frames skipped, {row.link_lost} lost on the link")
