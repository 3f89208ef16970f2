"""`soldierslab scores`: the score aggregates."""

import typer

from hub.cli.common import app, cli_session, console
from sandbox import service

scores_app = typer.Typer(help="Score aggregates (kept as engagements arrive).",
                         no_args_is_help=True)
app.add_typer(scores_app, name="scores")


@scores_app.command("rebuild")
def rebuild() -> None:
    """Recompute every score aggregate from the engagements (writers wait meanwhile)."""
    with cli_session() as session:
        result = service.rebuild_scores(session=session)
    console.print(f"rebuilt {result.conditions} conditions from the engagements; "
                  f"{result.changed_rows} aggregate rows differed from the kept ones")
