"""`soldierslab export`: anonymised feedback, as engineers receive it."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from hub.api.feedback import feedback_bytes
from hub.cli.common import app, cli_session, console, fail
from hub.flows.feedback import sensor_summaries, telemetry_summaries
from hub.settings import Settings
from sandbox.feedback import feedback_plan
from sandbox.models import Prototype

export_app = typer.Typer(help="Exports.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("feedback")
def export_feedback(
        prototype: Annotated[int, typer.Option(help="prototype id")],
        out: Annotated[Path, typer.Option(help="file to write")],
        fmt: Annotated[str, typer.Option("--format", help="json, csv or parquet")] = "csv",
        part: Annotated[str | None, typer.Option(
            help="engagements, reports, telemetry or sensors (default: every part in JSON, "
                 "engagements in CSV and Parquet)")] = None,
) -> None:
    """Write a prototype's anonymised feedback, as engineers receive it (streamed)."""
    chosen = part or "engagements"
    if fmt not in ("json", "csv", "parquet") or chosen not in ("engagements", "reports",
                                                                "telemetry", "sensors"):
        raise fail(ValueError("--format: json, csv or parquet; "
                               "--part: engagements, reports, telemetry or sensors"))
    settings = Settings()
    with cli_session() as session:
        found = session.get(Prototype, prototype)
        if found is None:
            raise fail(ValueError(f"prototype: no prototype {prototype}"))
        secret = settings.secret().encode()
        plan = feedback_plan(session=session, prototype=found, master_secret=secret,
                             k=settings.k_anonymity, l=settings.l_diversity)
        telemetry = telemetry_summaries(session=session, prototype=found, master_secret=secret,
                                        storage=settings.storage())
        sensors = sensor_summaries(session=session, plan=plan, storage=settings.storage(),
                                   geoid_grid=settings.geoid_grid) \
            if (fmt == "json" and part is None) or part == "sensors" \
            else None  # it scores each sensor trial
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        try:
            file = out.open("wb")
        except OSError as error:
            why = error.strerror if out.parent.is_dir() else f"there is no folder {out.parent}"
            raise fail(ValueError(f"--out {out}: {why}")) from error
        blocks = feedback_bytes(engine, plan, telemetry, fmt, chosen, sensors,
                                json_part_only=part is not None)
        with file, _progress() as progress:
            task = progress.add_task(f"writing {out.name}", total=None)
            for block in blocks:
                file.write(block)
                progress.advance(task, len(block))
    held = plan.held_back
    console.print(f"wrote {out} ({out.stat().st_size:,} bytes): {len(plan.batches)} released "
                  f"batches; held back until {held.needed_people} people have new feedback: "
                  f"{held.engagements} engagements, {held.reports} reports from {held.people}")


def _progress() -> Progress:
    """Bytes written so far and the time taken: a 400,000-row export takes a while, and the
    total is known only at the end (the rows are streamed)."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), DownloadColumn(),
                    TimeElapsedColumn(), console=console, transient=True)
