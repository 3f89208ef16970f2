import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from hub.cli import app
from sandbox.models import Organisation, User

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, settings, session):
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_DATA_DIR", str(settings.data_dir))
    return session


def test_orgs_and_users_are_created_from_the_command_line(cli_env) -> None:
    made = runner.invoke(app, ["orgs", "create", "--name", "Unit Delta", "--kind", "unit"])
    assert made.exit_code == 0, made.output
    user = runner.invoke(app, ["users", "create", "--org", "Unit Delta", "--role", "soldier",
                               "--name", "delta-1", "--password", "long enough secret"])
    assert user.exit_code == 0, user.output
    found = cli_env.exec(select(User).where(User.name == "delta-1")).one()
    org = cli_env.exec(select(Organisation).where(Organisation.name == "Unit Delta")).one()
    assert found.organisation_id == org.id


def test_cli_errors_are_clear_and_change_nothing(cli_env) -> None:
    result = runner.invoke(app, ["users", "create", "--org", "No Such Org", "--role", "soldier",
                                 "--name", "ghost", "--password", "long enough secret"])
    assert result.exit_code == 1
    assert "organisation No Such Org not found" in result.output
    assert cli_env.exec(select(User)).all() == []
    bad_kind = runner.invoke(app, ["orgs", "create", "--name", "X Corp", "--kind", "guild"])
    assert bad_kind.exit_code == 2


def test_demo_loads_once_and_prints_leaderboard_and_log_ins(cli_env) -> None:
    first = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Patriot-class SAM" in first.output
    assert "demo-reviewer-pass" in first.output
    users = len(cli_env.exec(select(User)).all())
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert second.exit_code == 0
    with Session(cli_env.get_bind()) as fresh:
        assert len(fresh.exec(select(User)).all()) == users
