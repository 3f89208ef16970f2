"""The `soldierslab` command."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from hub import demo as demo_data
from hub.app import create_app
from hub.db import make_engine, upgrade
from hub.settings import Settings
from sandbox import accounts, audit, service
from sandbox.audit import Actor
from sandbox.errors import DomainError
from sandbox.models import OrganisationCreate, OrgKind, Role, UserCreate

app = typer.Typer(help="Soldiers Lab hub: registry, telemetry and scoring.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")

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


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Migrate the database and serve the hub."""
    settings = Settings()
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
        accounts_made = demo_data.load(session=session)
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
    table = Table(title="Cost-per-intercept leaderboard (all trials; baselines' USD figures "
                        "taken as EUR equivalents)")
    for column in ("prototype", "version", "unit cost EUR", "engagements", "Pk [95% CI]",
                   "cost/intercept EUR", "cost-exchange"):
        table.add_column(column)
    for row in service.leaderboard(session=session, by=reviewer):
        s = row.score.overall
        table.add_row(
            row.prototype.name, row.version.version, f"{row.version.unit_cost_cents / 100:,.0f}",
            str(s.engagements), f"{s.pk:.2f} [{s.pk_low:.2f}–{s.pk_high:.2f}]" if s.pk is not None
            else "–", f"{s.cost_per_intercept_eur:,.0f}" if s.cost_per_intercept_eur else "–",
            f"{s.cost_exchange_ratio:.2f}" if s.cost_exchange_ratio is not None else "–")
    console.print(table)


def _print_accounts(made: list[tuple[str, str, str]]) -> None:
    table = Table(title="Demo accounts (log in at /docs → Authorize)")
    for column in ("user", "role", "password"):
        table.add_column(column)
    for row in made:
        table.add_row(*row)
    console.print(table)
