"""Long-running commands: serve the hub, the demo, the DIS bridge."""

import asyncio
import math
import signal
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.app import create_app
from hub.cli.common import (
    app,
    console,
    engine_for,
    error_lines,
    fail,
    score_row,
    score_table,
)
from hub.flows import demo as demo_data
from hub.flows.dis import EntityTrack, track_writer
from hub.flows.engagements import recorder
from hub.flows.simulation import defender_for
from hub.listeners.mavlink import listening_lines
from hub.settings import Settings
from sandbox import audit, service
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import EngagementCreate, Prototype, Version
from sandbox.money import to_cents, to_eur
from sandbox.scoring import Condition
from simulators.bridges.dis_listener import DISBridge, TrackPoint
from simulators.bridges.dis_listener import serve as serve_dis
from simulators.threats import THREATS

GRACEFUL_SHUTDOWN_S = 3

JUNK_LINE_S = 5.0  # at most one line about malformed datagrams this often


class _BridgeLines:
    """What `dis-bridge` prints: a line per engagement and per track batch, malformed
    datagrams at most every JUNK_LINE_S (with how many went unshown), a summary at the end."""

    def __init__(self) -> None:
        self.recorded = self.refused = self.unshown = self.points = self.lost = 0
        self.entities: set[tuple[int, int, int]] = set()
        self.junk_at = -math.inf

    def engagement(self, record: Callable[[dict[str, Any]], int]) -> Callable[..., None]:
        def recorded(row: dict[str, Any]) -> None:
            try:
                engagement_id = record(row)
            except (DomainError, ValueError) as error:  # the registry refused the row
                self.refused += 1
                why = "; ".join(error_lines(error))
                console.print(f"[red]detonation not recorded:[/red] {escape(why)}",
                              soft_wrap=True)
                return
            self.recorded += 1
            flight = row["time_to_intercept_s"]
            console.print(f"engagement {engagement_id} recorded: {row['outcome']} "
                          f"({row['result_name']}), {row['interceptors_used']} interceptor(s)"
                          + (f", {flight:.1f} s to intercept" if flight is not None else ""),
                          soft_wrap=True)
        return recorded

    def tracks(self, write: Callable[[list[TrackPoint]], list[EntityTrack]]
               ) -> Callable[[list[TrackPoint]], None]:
        def stored(points: list[TrackPoint]) -> None:
            try:
                written = write(points)
            except (DomainError, OSError, SQLAlchemyError) as error:
                self.lost += len(points)
                console.print(f"[red]track batch not stored ({len(points)} points lost):[/red] "
                              f"{escape(str(error))}", soft_wrap=True)
                return
            self.points += len(points)
            self.entities.update(track.entity for track in written)
            new = "".join(f"; new entity {':'.join(map(str, t.entity))} ({t.entity_type}) "
                          f"→ telemetry session {t.session_id}" for t in written if t.new)
            console.print(f"track batch: {len(points)} points of {len(written)} entities "
                          f"stored{new}", soft_wrap=True, markup=False)
        return stored

    def malformed(self, sender: tuple[str, int] | None, error: Exception) -> None:
        now = time.monotonic()
        if now - self.junk_at < JUNK_LINE_S:
            self.unshown += 1
            return
        more = f" ({self.unshown} more since the last such line)" if self.unshown else ""
        source = f" from {sender[0]}:{sender[1]}" if sender else ""
        console.print(f"[yellow]malformed datagram{source}:[/yellow] {escape(str(error))}"
                      f"{more}", soft_wrap=True)
        self.junk_at, self.unshown = now, 0

    def summary(self, bridge: DISBridge) -> str:
        ignored = ", ".join(f"{name} {count}" for name, count in bridge.ignored.most_common())
        return (f"stopped: {self.recorded} engagements recorded ({self.refused} refused), "
                f"{self.points} track points of {len(self.entities)} entities stored "
                f"({self.lost} lost); "
                f"ignored: {ignored or 'none'}; malformed {bridge.malformed}; "
                f"other exercises {bridge.other_exercises}")


def _eur(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ValueError(f"{text!r} is not an amount in EUR, e.g. 35000 or 499.99") from None


def _threat_cost_cents(threat_kind: str, threat_cost: Decimal | None) -> int:
    """The cost of one threat: given, or the threat library's; refused if neither."""
    if threat_cost is None:
        if threat_kind not in THREATS:
            raise ValueError(f"--threat-kind {threat_kind}: not in the threat library "
                             f"({', '.join(sorted(THREATS))}); give its cost with --threat-cost")
        threat_cost = to_eur(THREATS[threat_kind].cost_cents)
    try:  # refuse now what the registry would refuse for every detonation
        EngagementCreate(threat_kind=threat_kind, threat_cost_eur=threat_cost,
                         interceptors_used=1, outcome="miss")
    except ValidationError as error:
        problem = error.errors()[0]
        option = {"threat_kind": "--threat-kind", "threat_cost_eur": "--threat-cost"}
        raise ValueError(f"{option[str(problem['loc'][0])]}: {problem['msg']}") from None
    return to_cents(threat_cost)


async def _bridge_until_stopped(bridge: DISBridge, host: str, port: int, trial: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)

    def ready(address: tuple[str, int]) -> None:
        console.print(f"listening for DIS exercise {bridge.exercise_id} on udp "
                      f"{address[0]}:{address[1]} into trial {trial}; Ctrl-C stops",
                      soft_wrap=True)
    await serve_dis(bridge, host, port, stop=stop, ready=ready)


@app.command("dis-bridge")
def dis_bridge(trial: Annotated[int, typer.Option(help="trial to record into")],
               listen: Annotated[str, typer.Option(help="host:port for DIS over UDP")]
               = "0.0.0.0:3000",
               exercise: Annotated[int, typer.Option(min=0, max=255)] = 1,
               threat_kind: Annotated[str, typer.Option()] = "shahed_136",
               threat_cost: Annotated[Decimal | None, typer.Option(
                   parser=_eur, metavar="EUR",
                   help="cost of one threat; default: the threat library's for --threat-kind")]
               = None) -> None:
    """Record a DIS simulator's (VBS-class) detonations as engagements of a trial, and its
    Entity State PDUs as telemetry tracks."""
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit():
        raise fail(ValueError("--listen: host:port, e.g. 0.0.0.0:3000"))
    try:
        cost_cents = _threat_cost_cents(threat_kind, threat_cost)
    except ValueError as error:
        raise fail(error) from error
    settings = Settings()
    engine = engine_for(settings)
    lines = _BridgeLines()
    try:
        bridge = _bridge(engine, settings, lines, trial=trial, exercise=exercise,
                         threat_kind=threat_kind, cost_cents=cost_cents, source=f"dis {listen}")
        asyncio.run(_bridge_until_stopped(bridge, host or "0.0.0.0", int(port), trial))
    except DomainError as error:
        raise fail(error) from error
    finally:
        engine.dispose()
    console.print(lines.summary(bridge), soft_wrap=True, markup=False)


def _bridge(engine: Engine, settings: Settings, lines: _BridgeLines, *, trial: int,
            exercise: int, threat_kind: str, cost_cents: int, source: str) -> DISBridge:
    """The listener's state, its callbacks storing into the trial (which must exist)."""
    record = recorder(engine, trial, source=source)
    write = track_writer(engine, settings.storage(), trial, exercise_id=exercise, source=source)
    return DISBridge(exercise_id=exercise, threat_kind=threat_kind, threat_cost_cents=cost_cents,
                     record=lines.engagement(record), tracks=lines.tracks(write),
                     on_malformed=lines.malformed)


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
    uvicorn.run(hub, host=host or settings.host, port=port or settings.port, log_level="info",
                **server_options(settings))


@app.command()
def demo(serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
         port: Annotated[int | None, typer.Option()] = None) -> None:
    """Load the demo data set, print the leaderboard and the log-ins, then serve."""
    settings = Settings()
    engine = engine_for(settings)
    with Session(engine) as session:
        audit.audit_writes(session, Actor(role="cli", request="demo"))
        accounts_made = demo_data.load(session=session, storage=settings.storage())
        _print_leaderboard(session)
    url = f"http://{settings.host}:{port or settings.port}"
    _print_accounts(accounts_made, url)
    if not serve_after:
        engine.dispose()
    else:
        console.print(f"serving on {url}; Ctrl-C stops")
        uvicorn.run(create_app(settings, engine=engine), host=settings.host,
                    port=port or settings.port, log_level="warning", **server_options(settings))


def server_options(settings: Settings) -> dict[str, Any]:
    """Forwarding headers believed only from the configured proxies (uvicorn's default trusts
    127.0.0.1, so anything on the host could forge a source address); a graceful shutdown that
    ends within seconds whatever clients do."""
    return {"proxy_headers": bool(settings.trusted_proxies),
            "forwarded_allow_ips": settings.trusted_proxies,
            "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S}


def _print_leaderboard(session: Session) -> None:
    """One table per condition: versions compare only on the same scenario, threat and kind
    of trial, with the baselines flown on that scenario."""
    tables: dict[Condition, Table] = {}
    for row in service.leaderboard(session=session, by=None):
        where = row.condition
        if where not in tables:
            tables[where] = score_table(f"{where.scenario} against {where.threat_kind}, "
                                        f"{where.trial_kind} trials (baselines' USD figures "
                                        "taken as EUR equivalents)")
        score_row(tables[where], defender_label(row.version, row.prototype), row.score)
    for table in tables.values():
        console.print(table)


def defender_label(version: Version, prototype: Prototype) -> str:
    """Name, the ids other commands ask for, and what one use costs: a reusable system pays
    per sortie (a gun's rounds), so its unit cost alone, often 0, would mislead."""
    try:
        sortie_cents = defender_for(version, prototype).operating_cost_cents
    except DomainError:  # parameters the simulator cannot fly: no sortie cost to show
        sortie_cents = 0
    costs = []
    if version.unit_cost_cents or not sortie_cents:
        costs.append(f"{_eur_text(version.unit_cost_cents)}"
                     + (", reusable" if version.reusable else " each"))
    if sortie_cents:
        costs.append(f"{_eur_text(sortie_cents)} a sortie")
    return (f"{prototype.name} {version.version}\n"
            f"prototype {prototype.id}, version {version.id}; {'; '.join(costs)}")


def _eur_text(cents: int) -> str:
    """Whole euros as such, anything else to the cent (a cost under 1 EUR is not 0)."""
    return f"{cents // 100:,} EUR" if cents % 100 == 0 else f"{to_eur(cents):,.2f} EUR"


def _print_accounts(made: list[tuple[str, str, str]], url: str) -> None:
    table = Table(title="Demo accounts")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for row in made:
        table.add_row(*row)
    console.print(table)
    console.print(f"log in at {url}/login (the pages) or at {url}/docs → Authorize (the API)",
                  soft_wrap=True)
