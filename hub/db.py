"""Database engine and schema migrations (Alembic)."""

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        in_memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               poolclass=StaticPool if in_memory else None)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # JIT compiling pays off on long analytic scans; the hub's statements are short, and on
    # large tables the planner's estimates made it spend ~80 ms compiling a 2 ms query.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("hub") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; a fresh database gets every table."""
    command.upgrade(alembic_config(engine), revision)
