"""`soldierslab simulate`: a version trialled in simulation, beside the baselines."""

from typing import Annotated

import typer
from rich.progress import Progress

from hub.cli.common import app, cli_session, console, fail, score_row, score_table
from hub.flows.sensors import detection_summary_line
from hub.flows.simulation import MAX_RUNS, check_simulable, run_simulation, scenario_named
from hub.settings import Settings
from sandbox import service
from sandbox.errors import DomainError, Invalid
from sandbox.models import TrialKind, Version
from sandbox.service import BoardFilter


@app.command("simulate")
def simulate_command(
        version: Annotated[int, typer.Option(help="registry version id")],
        scenario: Annotated[str, typer.Option(help="library scenario name or a .toml file")],
        runs: Annotated[int, typer.Option(min=1, max=MAX_RUNS)] = 1000,
        seed: Annotated[int, typer.Option(min=0)] = 1) -> None:
    """Trial a version in simulation: records a trial of kind simulation, prints its score
    beside the baselines flown through the same scenario."""
    with cli_session() as session:
        try:
            found = session.get(Version, version)
            if found is None:
                raise Invalid(f"version: no version {version}")
            prototype = check_simulable(session, found)
            chosen = scenario_named(scenario, allow_files=True)
            with Progress(console=console) as bar:
                task = bar.add_task(f"simulating {chosen.name}", total=runs)

                def progress(done: int, total: int) -> None:
                    # the last chunk is followed by the (longer, for big runs) database write
                    bar.update(task, completed=done, description=f"simulating {chosen.name}"
                               if done < total else f"recording {chosen.name} engagements")

                trial = run_simulation(session=session, version=found, scenario=chosen,
                                       runs=runs, seed=seed, by=None,
                                       storage=Settings().storage(), progress=progress)
            board = service.leaderboard(session=session, by=None,
                                        where=BoardFilter(scenario=chosen.name,
                                                          trial_kind=TrialKind.simulation))
        except DomainError as error:
            raise fail(error) from error
        console.print(f"recorded trial {trial.id}: {prototype.name} {found.version} "
                      f"(version {found.id}) in scenario {chosen.name}, {runs} runs, "
                      f"seed {seed}")
        detection = detection_summary_line(session=session, trial_id=trial.id or 0)
        if detection is not None:  # a sensor is scored on its detections, not engagements
            console.print(detection)
            return
        for row in board:
            if row.version.id != found.id:
                continue
            table = score_table(f"{prototype.name} {found.version} in {chosen.name} against "
                                f"{row.condition.threat_kind}, all its simulations "
                                "(baselines' USD taken as EUR)")
            score_row(table, f"{prototype.name} {found.version}", row.score)
            for reference in row.references:
                score_row(table, f"baseline {reference.prototype.name}", reference.score)
            console.print(table)
