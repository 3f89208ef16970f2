"""The `soldierslab` command."""

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from hub import demo as demo_data
from hub.api.feedback import render
from hub.app import create_app
from hub.bridges import recorder
from hub.db import make_engine, upgrade
from hub.ingest import store_batch
from hub.settings import Settings
from hub.simulation import MAX_RUNS, run_simulation, scenario_named
from hub.telemetry_feedback import telemetry_summaries
from sandbox import accounts, audit, service
from sandbox.audit import Actor
from sandbox.errors import DomainError, Invalid
from sandbox.feedback import feedback_export
from sandbox.models import (
    OrganisationCreate,
    OrgKind,
    Prototype,
    Role,
    TelemetrySession,
    Trial,
    UserCreate,
    Version,
)
from sandbox.scoring import Score, score
from simulators.bridges.dis_listener import DISBridge
from simulators.bridges.dis_listener import listen as listen_dis
from simulators.engine import simulate
from simulators.threats import BASELINES, THREATS
from telemetry.decode import DecodeStats, StreamDecoder

app = typer.Typer(help="Soldiers Lab hub: registry, telemetry and scoring.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
export_app = typer.Typer(help="Exports.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")

console = Console(width=140) if not Console().is_terminal else Console()


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database())
    upgrade(engine)
    return engine


@contextmanager
def _session() -> Iterator[Session]:
    """A session on a migrated database, its connections closed afterwards."""
    engine = _engine(Settings())
    try:
        with Session(engine) as session:
            audit.audit_writes(session, Actor(role="cli", request=" ".join(sys.argv[1:3])))
            yield session
    finally:
        engine.dispose()


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision."""
    engine = make_engine(Settings().database())
    upgrade(engine)
    engine.dispose()
    console.print("schema is up to date")


@orgs_app.command("create")
def orgs_create(name: Annotated[str, typer.Option()], kind: Annotated[OrgKind, typer.Option()],
                region: Annotated[str | None, typer.Option()] = None) -> None:
    """Register an organisation (company, unit or task force)."""
    with _session() as session:
        try:
            org = accounts.create_organisation(
                session=session,
                organisation_in=OrganisationCreate(name=name, kind=kind, region=region))
        except DomainError as error:
            raise _fail(error) from error
        console.print(f"organisation {org.id}: {org.name} ({org.kind})")


@users_app.command("create")
def users_create(role: Annotated[Role, typer.Option()], name: Annotated[str, typer.Option()],
                 password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                 org: Annotated[str | None, typer.Option(help="organisation name or id")] = None,
                 ) -> None:
    """Create a user account."""
    with _session() as session:
        try:
            org_id = (accounts.get_organisation(session=session, name_or_id=org).id
                      if org else None)
            user = accounts.create_user(session=session, user_in=UserCreate(
                name=name, role=role, organisation_id=org_id, password=password))
        except (DomainError, ValueError) as error:
            raise _fail(error) from error
        console.print(f"user {user.id}: {user.name} ({user.role})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain; exit 1 naming the first bad entry."""
    with _session() as session:
        check = audit.verify(session)
    if not check.ok:
        console.print(f"[red]audit chain broken at entry {check.first_bad_seq}:[/red] "
                      f"{check.reason}")
        raise typer.Exit(code=1)
    console.print(f"audit chain intact: {check.entries} entries")


@app.command("simulate")
def simulate_command(
        version: Annotated[int, typer.Option(help="registry version id")],
        scenario: Annotated[str, typer.Option(help="library scenario name or a .toml file")],
        runs: Annotated[int, typer.Option(min=1, max=MAX_RUNS)] = 1000,
        seed: Annotated[int, typer.Option(min=0)] = 1) -> None:
    """Trial a version in simulation: records a trial of kind simulation, prints its score
    beside the baselines flown through the same scenario."""
    with _session() as session:
        try:
            found = session.get(Version, version)
            if found is None:
                raise Invalid(f"version: no version {version}")
            chosen = scenario_named(scenario, allow_files=True)
            with Progress(console=console) as bar:
                task = bar.add_task(f"simulating {chosen.name}", total=runs)

                def progress(done: int, total: int) -> None:
                    # the last chunk is followed by the (longer, for big runs) database write
                    bar.update(task, completed=done, description=f"simulating {chosen.name}"
                               if done < total else f"recording {chosen.name} engagements")

                trial = run_simulation(session=session, version=found, scenario=chosen,
                                       runs=runs, seed=seed, by=None,
                                       data_dir=Settings().data_dir, progress=progress)
            own = service.version_score(session=session, version=found)
        except DomainError as error:
            raise _fail(error) from error
        console.print(f"recorded trial {trial.id} ({chosen.name}, {runs} runs, seed {seed})")
        table = _score_table(f"Scenario {chosen.name} (baselines' USD taken as EUR)")
        _score_row(table, f"version {found.version} (all its simulations)",
                   own.by_trial_kind["simulation"])
        for name, baseline in BASELINES.items():
            frame = simulate(chosen, baseline, runs=min(runs, 2000), seed=seed)
            _score_row(table, f"baseline {name}", score(frame.assign(
                trial_kind="simulation", unit_cost_cents=baseline.unit_cost_cents)))
        console.print(table)


def _score_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("defender", "engagements", "Pk [95% CI]", "cost/intercept EUR",
                   "cost-exchange"):
        table.add_column(column)
    return table


def _score_row(table: Table, label: str, result: Score) -> None:
    table.add_row(label, str(result.engagements),
                  f"{result.pk:.2f} [{result.pk_low:.2f}–{result.pk_high:.2f}]"
                  if result.pk is not None else "–",
                  f"{result.cost_per_intercept_eur:,.0f}"
                  if result.cost_per_intercept_eur is not None else "–",
                  f"{result.cost_exchange_ratio:.2f}"
                  if result.cost_exchange_ratio is not None else "–")


@export_app.command("feedback")
def export_feedback(
        prototype: Annotated[int, typer.Option(help="prototype id")],
        out: Annotated[Path, typer.Option(help="file to write")],
        fmt: Annotated[str, typer.Option("--format", help="json, csv or parquet")] = "csv",
        part: Annotated[str, typer.Option(help="engagements, reports or telemetry")]
        = "engagements",
) -> None:
    """Write a prototype's anonymised feedback, as engineers receive it."""
    if fmt not in ("json", "csv", "parquet") or part not in ("engagements", "reports",
                                                              "telemetry"):
        raise _fail(ValueError("--format: json, csv or parquet; "
                               "--part: engagements, reports or telemetry"))
    settings = Settings()
    with _session() as session:
        found = session.get(Prototype, prototype)
        if found is None:
            raise _fail(ValueError(f"prototype: no prototype {prototype}"))
        secret = settings.secret().encode()
        export = feedback_export(session=session, prototype=found, master_secret=secret,
                                 k=settings.k_anonymity, l=settings.l_diversity)
        telemetry = telemetry_summaries(session=session, prototype=found, master_secret=secret,
                                        data_dir=settings.data_dir)
    out.write_bytes(render(export, fmt, part, telemetry).body)
    console.print(f"wrote {out}: {len(export.engagements)} engagements, "
                  f"{len(export.reports)} reports "
                  f"({export.engagement_suppression.suppressed_rows} engagements suppressed)")


INGEST_CHUNK = 4 << 20


@app.command()
def ingest(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
           trial: Annotated[int, typer.Option(help="trial the telemetry belongs to")]) -> None:
    """Store a .tlog as a new telemetry session of a trial, with a progress bar."""
    settings = Settings()
    engine = _engine(settings)
    with Session(engine) as session:
        audit.audit_writes(session, Actor(role="cli", request=f"ingest {file.name}"))
        if session.get(Trial, trial) is None:
            raise _fail(ValueError(f"trial: no trial {trial}"))
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


@app.command("dis-bridge")
def dis_bridge(trial: Annotated[int, typer.Option(help="trial to record into")],
               listen: Annotated[str, typer.Option(help="host:port for DIS over UDP")]
               = "0.0.0.0:3000",
               exercise: Annotated[int, typer.Option(min=0, max=255)] = 1,
               threat_kind: Annotated[str, typer.Option()] = "shahed_136") -> None:
    """Record Detonation PDUs from a DIS simulator (VBS-class) as engagements of a trial."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise _fail(ValueError("--listen: host:port, e.g. 0.0.0.0:3000"))
    settings = Settings()
    engine = _engine(settings)
    try:
        record = recorder(engine, trial, source=f"dis {listen}")
        cost = THREATS[threat_kind].cost_cents if threat_kind in THREATS else 0
    except DomainError as error:
        raise _fail(error) from error
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
                   "repeat for more")] = None) -> None:
    """Migrate the database and serve the hub (and MAVLink listeners)."""
    settings = Settings()
    if mavlink:
        settings = settings.model_copy(update={"mavlink": mavlink})
    engine = _engine(settings)
    uvicorn.run(create_app(settings, engine=engine), host=host or settings.host,
                port=port or settings.port, log_level="info")


@app.command()
def demo(serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
         port: Annotated[int | None, typer.Option()] = None) -> None:
    """Load the demo data set, print the leaderboard and the log-ins, then serve."""
    settings = Settings()
    engine = _engine(settings)
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
    table = _score_table("Cost-per-intercept leaderboard (all trials; baselines' USD figures "
                         "taken as EUR equivalents)")
    for row in service.leaderboard(session=session, by=reviewer):
        _score_row(table, f"{row.prototype.name} {row.version.version} "
                          f"({row.version.unit_cost_cents // 100:,} EUR)", row.score.overall)
    console.print(table)


def _print_accounts(made: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo accounts (log in at /docs → Authorize)")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for row in made:
        table.add_row(*row)
    console.print(table)


if __name__ == "__main__":
    app()
