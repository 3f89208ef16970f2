"""Administration: the schema, organisations, users and the audit log."""

from typing import Annotated

import typer

from hub.cli.common import app, cli_session, console, fail
from hub.db import make_engine, upgrade
from hub.settings import Settings
from sandbox import accounts, audit
from sandbox.checkpoints import public_key_hex
from sandbox.errors import DomainError
from sandbox.models import OrganisationCreate, OrgKind, Role, UserCreate

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The keyed, checkpointed audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


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
    with cli_session() as session:
        try:
            org = accounts.create_organisation(
                session=session,
                organisation_in=OrganisationCreate(name=name, kind=kind, region=region))
        except DomainError as error:
            raise fail(error) from error
        console.print(f"organisation {org.id}: {org.name} ({org.kind})")


@users_app.command("create")
def users_create(role: Annotated[Role, typer.Option()], name: Annotated[str, typer.Option()],
                 password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
                 org: Annotated[str | None, typer.Option(help="organisation name or id")] = None,
                 ) -> None:
    """Create a user account."""
    with cli_session() as session:
        try:
            org_id = (accounts.get_organisation(session=session, name_or_id=org).id
                      if org else None)
            user = accounts.create_user(session=session, user_in=UserCreate(
                name=name, role=role, organisation_id=org_id, password=password))
        except (DomainError, ValueError) as error:
            raise fail(error) from error
        console.print(f"user {user.id}: {user.name} ({user.role})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain against its key and signed checkpoints; exit 1 naming the first
    bad entry and what was done."""
    with cli_session() as session:
        check = audit.verify(session)
    if not check.ok:
        where = (f"broken at entry {check.first_bad_seq}" if check.first_bad_seq is not None
                 else "not verifiable")
        console.print(f"[red]audit chain {where}:[/red] {check.reason}")
        raise typer.Exit(code=1)
    console.print(f"audit chain intact: {check.entries} entries, {check.checkpoints} signed "
                  f"checkpoints (newest at entry {check.checkpointed_seq})")


@audit_app.command("public-key")
def audit_public_key() -> None:
    """The Ed25519 key that checks the checkpoints' signatures (hex), for outside verifiers."""
    console.print(public_key_hex(Settings().audit_secret()))
