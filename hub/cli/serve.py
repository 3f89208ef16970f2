"""Long-running commands: serve the hub, the demo, the DIS bridge."""

import asyncio
from typing import Annotated

import typer
import uvicorn
from rich.table import Table
from sqlmodel import Session

from hub.app import create_app
from hub.cli.common import app, console, engine_for, fail, score_row, score_table
from hub.flows import demo as demo_data
from hub.flows.engagements import recorder
from hub.listeners.mavlink import listening_lines
from hub.settings import Settings
from sandbox import audit, service
from sandbox.audit import Actor
from sandbox.errors import DomainError
from simulators.bridges.dis_listener import DISBridge
from simulators.bridges.dis_listener import listen as listen_dis
from simulators.threats import THREATS


@app.command("dis-bridge")
def dis_bridge(trial: Annotated[int, typer.Option(help="trial to record into")],
               listen: Annotated[str, typer.Option(help="host:port for DIS over UDP")]
               = "0.0.0.0:3000",
               exercise: Annotated[int, typer.Option(min=0, max=255)] = 1,
               threat_kind: Annotated[str, typer.Option()] = "shahed_136") -> None:
    """Record Detonation PDUs from a DIS simulator (VBS-class) as engagements of a trial."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise fail(ValueError("--listen: host:port, e.g. 0.0.0.0:3000"))
    settings = Settings()
    engine = engine_for(settings)
    try:
        record = recorder(engine, trial, source=f"dis {listen}")
        cost = THREATS[threat_kind].cost_cents if threat_kind in THREATS else 0
    except DomainError as error:
        raise fail(error) from error
    bridge = DISBridge(exercise_id=exercise, threat_kind=threat_kind, threat_cost_cents=cost,
                       record=record)

    async def run() -> None:
        await listen_dis(bridge, host or "0.0.0.0", int(port))
        console.print(f"listening for DIS exercise {exercise} on udp {listen}; Ctrl-C stops")
        while True:
            await asyncio.sleep(10)
            console.print(f"recorded {bridge.recorded}, malformed {bridge.malformed}, "
                          f"other exercises {bridge.ignored}")

    asyncio.run(run())


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None,
          mavlink: Annotated[list[str] | None, typer.Option(
              help="MAVLink listener, e.g. udpin:0.0.0.0:14550 or tcpin:0.0.0.0:5760; "
                   "repeat for more")] = None,
          sapient: Annotated[list[str] | None, typer.Option(
              help="SAPIENT (BSI Flex 335 v2.0) listener, e.g. tcpin:0.0.0.0:5020; repeat for "
                   "more")] = None) -> None:
    """Migrate the database and serve the hub (and MAVLink and SAPIENT listeners)."""
    settings = Settings()
    if mavlink:
        settings = settings.model_copy(update={"mavlink": mavlink})
    if sapient:
        settings = settings.model_copy(update={"sapient": sapient})
    engine = engine_for(settings)
    hub = create_app(settings, engine=engine)
    for line in listening_lines(settings.mavlink):
        console.print(line, soft_wrap=True)
    uvicorn.run(hub, host=host or settings.host, port=port or settings.port, log_level="info")


@app.command()
def demo(serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
         port: Annotated[int | None, typer.Option()] = None) -> None:
    """Load the demo data set, print the leaderboard and the log-ins, then serve."""
    settings = Settings()
    engine = engine_for(settings)
    with Session(engine) as session:
        audit.audit_writes(session, Actor(role="cli", request="demo"))
        accounts_made = demo_data.load(session=session, data_dir=settings.data_dir)
        _print_leaderboard(session)
    _print_accounts(accounts_made)
    if not serve_after:
        engine.dispose()
    else:
        url = f"http://{settings.host}:{port or settings.port}"
        console.print(f"serving on {url} (OpenAPI docs at {url}/docs); Ctrl-C stops")
        uvicorn.run(create_app(settings, engine=engine), host=settings.host,
                    port=port or settings.port, log_level="warning")


def _print_leaderboard(session: Session) -> None:
    reviewer = demo_data.reviewer(session)
    table = score_table("Cost-per-intercept leaderboard (all trials; baselines' USD figures "
                         "taken as EUR equivalents)")
    for row in service.leaderboard(session=session, by=reviewer):
        score_row(table, f"{row.prototype.name} {row.version.version} "
                          f"({row.version.unit_cost_cents // 100:,} EUR)", row.score.overall)
    console.print(table)


def _print_accounts(made: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo accounts (log in at /docs → Authorize)")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for row in made:
        table.add_row(*row)
    console.print(table)
