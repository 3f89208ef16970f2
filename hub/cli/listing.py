"""`soldierslab list`: prototypes, versions, trials and telemetry sessions, with their ids."""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, SQLModel

from hub.cli.common import app, cli_session, console, fail
from hub.flows import listing
from hub.flows.listing import Listing, Within
from sandbox.models import MAX_ID, Prototype, PrototypeKind, Trial, TrialKind, Version
from sandbox.service import Page

list_app = typer.Typer(help="What the registry holds, with the ids other commands ask for.",
                       no_args_is_help=True)
app.add_typer(list_app, name="list")

MAX_LIMIT = 1000

Limit = Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="rows per page")]
Offset = Annotated[int, typer.Option(min=0, max=MAX_ID, help="rows to skip")]
AsJson = Annotated[bool, typer.Option("--json", help="a JSON array of the rows, for scripts")]
PrototypeOption = Annotated[int | None, typer.Option(
    "--prototype", min=1, max=MAX_ID, help="only this prototype's (id)")]
VersionOption = Annotated[int | None, typer.Option(
    "--version", min=1, max=MAX_ID, help="only this version's (id)")]
TrialKindOption = Annotated[TrialKind | None, typer.Option("--kind", help="kind of trial")]

Column = tuple[str, Callable[[Any], object]]


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _named(row_id: int, name: str) -> str:
    return f"{row_id} {name}"


PROTOTYPE_COLUMNS: Sequence[Column] = (
    ("id", lambda r: r.id), ("name", lambda r: r.name), ("kind", lambda r: r.kind),
    ("company", lambda r: r.company), ("sandbox status", lambda r: r.sandbox_status),
    ("versions", lambda r: r.versions), ("registered", lambda r: _when(r.created_at)))
VERSION_COLUMNS: Sequence[Column] = (
    ("id", lambda r: r.id), ("prototype", lambda r: _named(r.prototype_id, r.prototype)),
    ("version", lambda r: r.version), ("unit cost EUR", lambda r: f"{r.unit_cost_eur:,.2f}"),
    ("reusable", lambda r: "yes" if r.reusable else "no"), ("trials", lambda r: f"{r.trials:,}"),
    ("published", lambda r: _when(r.created_at)))
TRIAL_COLUMNS: Sequence[Column] = (
    ("id", lambda r: r.id), ("prototype", lambda r: _named(r.prototype_id, r.prototype)),
    ("version", lambda r: _named(r.version_id, r.version)), ("kind", lambda r: r.kind),
    ("scenario", lambda r: r.scenario), ("simulator", lambda r: r.simulator or "–"),
    ("unit", lambda r: r.unit or "–"), ("started", lambda r: _when(r.started_at)),
    ("engagements", lambda r: f"{r.engagements:,}"))
SESSION_COLUMNS: Sequence[Column] = (
    ("id", lambda r: r.id), ("trial", lambda r: r.trial_id), ("source", lambda r: r.source),
    ("sysid", lambda r: r.sysid if r.sysid is not None else "–"),
    ("file", lambda r: r.log_format or "–"), ("messages", lambda r: f"{r.messages:,}"),
    ("bytes", lambda r: f"{r.bytes_on_disk:,}"), ("opened", lambda r: _when(r.created_at)))


def _show(found: Listing[Any], what: str, offset: int, as_json: bool,
          columns: Sequence[Column]) -> None:
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in found.rows]))
        return
    if not found.rows:
        console.print(f"no {what}" + (f" past row {offset} (there are {found.total})"
                                       if found.total else ""))
        return
    table = Table(title=f"{what} {offset + 1}–{offset + len(found.rows)} of {found.total}")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in found.rows:
        table.add_row(*(str(cell(row)) for _, cell in columns))
    console.print(table)
    if offset + len(found.rows) < found.total:
        console.print(f"more: --offset {offset + len(found.rows)}")


def _check_exists(session: Session, table: type[SQLModel], row_id: int | None) -> None:
    """A filter naming nothing is a typo: say so rather than list nothing."""
    if row_id is not None and session.get(table, row_id) is None:
        name = table.__name__.lower()
        raise fail(ValueError(f"--{name} {row_id}: there is no {name} {row_id}"))


def _filtered(session: Session, where: Within) -> Within:
    for table, row_id in ((Prototype, where.prototype_id), (Version, where.version_id),
                          (Trial, where.trial_id)):
        _check_exists(session, table, row_id)
    return where


@list_app.command("prototypes")
def prototypes(kind: Annotated[PrototypeKind | None, typer.Option(help="kind of prototype")]
               = None, limit: Limit = 50, offset: Offset = 0, as_json: AsJson = False) -> None:
    """Prototypes, with their company, sandbox status and number of versions."""
    with cli_session() as session:
        found = listing.list_prototypes(session=session, page=Page(limit, offset), kind=kind)
    _show(found, "prototypes", offset, as_json, PROTOTYPE_COLUMNS)


@list_app.command("versions")
def versions(prototype: PrototypeOption = None, limit: Limit = 50, offset: Offset = 0,
             as_json: AsJson = False) -> None:
    """Versions, with their prototype, unit cost and number of trials."""
    with cli_session() as session:
        where = _filtered(session, Within(prototype_id=prototype))
        found = listing.list_versions(session=session, page=Page(limit, offset), where=where)
    _show(found, "versions", offset, as_json, VERSION_COLUMNS)


@list_app.command("trials")
def trials(prototype: PrototypeOption = None, version: VersionOption = None,
           kind: TrialKindOption = None, limit: Limit = 50, offset: Offset = 0,
           as_json: AsJson = False) -> None:
    """Trials, with the version trialled, scenario, unit and number of engagements."""
    with cli_session() as session:
        where = _filtered(session, Within(prototype_id=prototype, version_id=version,
                                          trial_kind=kind))
        found = listing.list_trials(session=session, page=Page(limit, offset), where=where)
    _show(found, "trials", offset, as_json, TRIAL_COLUMNS)


@list_app.command("sessions")
def sessions(trial: Annotated[int | None, typer.Option(
                 "--trial", min=1, max=MAX_ID, help="only this trial's (id)")] = None,
             prototype: PrototypeOption = None, version: VersionOption = None,
             kind: TrialKindOption = None, limit: Limit = 50, offset: Offset = 0,
             as_json: AsJson = False) -> None:
    """Telemetry sessions, with their trial, source and size."""
    with cli_session() as session:
        where = _filtered(session, Within(prototype_id=prototype, version_id=version,
                                          trial_id=trial, trial_kind=kind))
        found = listing.list_sessions(session=session, page=Page(limit, offset), where=where)
    _show(found, "telemetry sessions", offset, as_json, SESSION_COLUMNS)
