from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from hub.db import make_engine, upgrade


def _differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)


def test_migrations_build_the_models_schema_from_an_empty_database(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert inspect(engine).get_table_names() == []
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"organisation", "user", "prototype", "version", "trial", "engagement",
            "report", "alembic_version"} <= tables
    assert _differences(engine) == []


def test_test_database_schema_matches_the_models(engine) -> None:
    # The suite's own database (SQLite or PostgreSQL) was built by the migrations alone.
    assert _differences(engine) == []


def test_upgrade_twice_is_harmless(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    upgrade(engine)
    assert _differences(engine) == []
