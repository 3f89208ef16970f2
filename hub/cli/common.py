"""What every command shares: the app, the console, a migrated database, errors, score tables."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from hub.db import make_engine, upgrade
from hub.flows import audit as audit_chain
from hub.settings import Settings
from sandbox import audit
from sandbox.audit import Actor
from sandbox.scoring import Score

app = typer.Typer(help="Soldiers Lab hub: registry, telemetry and scoring.", no_args_is_help=True)

console = Console(width=140) if not Console().is_terminal else Console()


def engine_for(settings: Settings) -> Engine:
    engine = make_engine(settings.database())
    upgrade(engine)
    audit_chain.configure(engine, settings)
    return engine


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session on a migrated database, its connections closed afterwards."""
    engine = engine_for(Settings())
    try:
        with Session(engine) as session:
            audit.audit_writes(session, Actor(role="cli", request=" ".join(sys.argv[1:3])))
            yield session
    finally:
        engine.dispose()


def fail(error: Exception) -> typer.Exit:
    for line in error_lines(error):
        console.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
    return typer.Exit(code=1)


def error_lines(error: Exception) -> list[str]:
    """What was wrong, a line per problem: a validation error as `field: message`, without
    pydantic's type names and links (a validator's own message as it wrote it)."""
    if not isinstance(error, ValidationError):
        return [str(error)]
    lines = []
    for problem in error.errors(include_url=False):
        raised = problem.get("ctx", {}).get("error")
        message = str(raised) if isinstance(raised, ValueError) else problem["msg"]
        field = ".".join(map(str, problem["loc"]))
        lines.append(f"{field}: {message}" if field else message)
    return lines


def score_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("defender", "engagements", "Pk [95% CI]", "cost/intercept EUR",
                   "cost-exchange"):
        table.add_column(column)
    return table


def score_row(table: Table, label: str, result: Score) -> None:
    table.add_row(label, str(result.engagements),
                  f"{result.pk:.2f} [{result.pk_low:.2f}–{result.pk_high:.2f}]"
                  if result.pk is not None else "–",
                  f"{result.cost_per_intercept_eur:,.0f}"
                  if result.cost_per_intercept_eur is not None else "–",
                  f"{result.cost_exchange_ratio:.2f}"
                  if result.cost_exchange_ratio is not None else "–")


