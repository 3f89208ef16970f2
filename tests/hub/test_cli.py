from sqlmodel import Session, select
from typer.testing import CliRunner

from hub.cli import app
from sandbox.models import Organisation, Prototype, User, Version

runner = CliRunner()


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
    hornet = cli_env.exec(select(Version).join(Prototype).where(
        Prototype.name == "Hornet interceptor", Version.version == "1.1.0")).one()
    # ids for the other commands, a gun's cost per sortie (its unit cost is 0), where to log in
    assert f"prototype {hornet.prototype_id}, version {hornet.id}; 4,500 EUR each" in first.output
    assert "7,000 EUR a sortie" in first.output and "(0 EUR)" not in first.output
    assert "/login (the pages) or at http" in first.output
    users = len(cli_env.exec(select(User)).all())
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert second.exit_code == 0
    with Session(cli_env.get_bind()) as fresh:
        assert len(fresh.exec(select(User)).all()) == users
