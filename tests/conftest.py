"""Shared fixtures: one migrated database per run (SQLite, or PostgreSQL when
SOLDIERSLAB_DATABASE_URL says so), emptied after every test; an app wired to it."""

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from hub.app import create_app
from hub.auth import issue_token
from hub.db import make_engine, upgrade
from hub.settings import Settings
from sandbox.accounts import hash_password
from sandbox.models import Organisation, OrgKind, Role, User

pytest_plugins = ["tests.objectstore"]  # an S3 server (started once per run, if asked for)

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return (os.environ.get("SOLDIERSLAB_DATABASE_URL")
            or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    tables = [table.name for table in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in tables)
            # A connection left open by a test must fail the run, not hang it.
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
    _empty_all_tables(engine)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # one simulation worker inside each test app, on PostgreSQL as on SQLite
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET,
                    simulation_workers=1)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, session: Session) -> Session:
    """The command line (typer's runner) pointed at the test database and data folder."""
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))
    return session


@pytest.fixture
def app(settings: Settings, engine: Engine, session: Session) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    """The app served on a free local port, for real browsers and websocket clients."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


_PASSWORD_HASH = hash_password(PASSWORD)  # hashing is slow on purpose: do it once per run


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organisation]:
    count = iter(range(1, 10_000))

    def make(kind: OrgKind = OrgKind.company, **overrides: Any) -> Organisation:
        org = Organisation(name=overrides.pop("name", f"{kind}-{next(count)}"), kind=kind,
                           **overrides)
        session.add(org)
        session.commit()
        session.refresh(org)
        return org
    return make


ROLE_ORG = {Role.soldier: OrgKind.unit, Role.engineer: OrgKind.company,
            Role.reviewer: OrgKind.task_force}


@pytest.fixture
def make_user(session: Session, make_org: Callable[..., Organisation]) -> Callable[..., User]:
    count = iter(range(1, 10_000))

    def make(role: Role, org: Organisation | None = None, **overrides: Any) -> User:
        if org is None and role in ROLE_ORG:
            org = make_org(ROLE_ORG[role])
        user = User(name=overrides.pop("name", f"{role}-{next(count)}"), role=role,
                    organisation_id=org.id if org else None, password_hash=_PASSWORD_HASH,
                    **overrides)
        session.add(user)
        session.commit()
        session.refresh(user)
        return user
    return make


def auth(user: User, *, ttl_s: int = 600) -> dict[str, str]:
    """Authorization header for `user`, signed with the test secret."""
    return {"Authorization": f"Bearer {issue_token(user, secret=SECRET, ttl_s=ttl_s)}"}
