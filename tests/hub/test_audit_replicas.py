"""Audit checkpoints with several replicas: each signs the chain's tip into the telemetry
bucket, one object per checkpoint, and any verifier (another replica, the CLI) reads them all."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.db import make_engine
from hub.flows import audit as audit_chain
from sandbox import audit
from telemetry.objects import storage_at
from tests.hub.test_audit import _chain, _truncate_newest
from tests.objectstore import new_bucket


@pytest.fixture
def shared(settings, s3_endpoint, session):
    """The settings every replica runs with: one database, one bucket, one audit key."""
    return settings.model_copy(update={"telemetry_url": new_bucket(s3_endpoint)})


@pytest.fixture
def replicas(shared, database_url) -> Iterator[list[Engine]]:
    """Three processes' worth of chains (each engine its own checkpoint state)."""
    engines = [make_engine(database_url) for _ in range(3)]
    for engine in engines:
        audit_chain.configure(engine, shared)
    yield engines
    for engine in engines:
        engine.dispose()


def _stored(shared) -> list[str]:
    return [entry.key for entry in storage_at(shared.telemetry_url).list("audit-checkpoints/")]


def test_checkpoints_of_two_replicas_land_in_one_bucket_and_verify_together(
        shared, replicas) -> None:
    a, b, verifier = replicas
    for engine, count in ((a, 3), (b, 4), (a, 2), (b, 1)):
        _chain(engine, count)  # each checkpoints its first commit and its tip
    with Session(a) as session:
        audit.checkpoint(session)  # the tip B signed already: stored once
    with Session(verifier) as session:
        check = audit.verify(session)
    assert (check.ok, check.entries, check.checkpoints, check.checkpointed_seq) == (
        True, 10, 6, 10), check
    assert _stored(shared) == [f"audit-checkpoints/{seq:012d}.json"
                               for seq in (1, 3, 4, 7, 9, 10)]
    assert not shared.audit_checkpoint_path().exists()  # nothing in a replica's own folder


def test_entries_deleted_after_another_replicas_checkpoint_are_named(
        shared, replicas, monkeypatch) -> None:
    a, b, verifier = replicas
    _chain(a, 4)
    _chain(b, 4)  # only B's checkpoint covers entries 5 to 8
    with a.begin() as connection:
        _truncate_newest(connection)
    with Session(verifier) as session:
        check = audit.verify(session)
    assert (check.ok, check.first_bad_seq) == (False, 6)
    assert "entries 6 to 8 were deleted" in check.reason
    for name, value in {"DATABASE_URL": shared.database(), "DATA_DIR": str(shared.data_dir),
                        "TELEMETRY_URL": shared.telemetry_url}.items():
        monkeypatch.setenv(f"SOLDIERSLAB_{name}", value)
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1 and "broken at entry 6" in result.output, result.output
