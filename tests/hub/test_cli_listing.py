"""`soldierslab list …` and the command line's error lines, read as an operator reads them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from hub.cli import app
from hub.cli.serve import defender_label
from sandbox.models import Prototype, PrototypeKind, Role, TelemetrySession, User, Version
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

runner = CliRunner()


@pytest.fixture
def registry(cli_env, client, make_user):
    """Two prototypes of one company, three versions, trials of two kinds, two sessions."""
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    hornet = new_prototype(client, engineer, name="Hornet")
    falcon = new_prototype(client, engineer, name="Falcon")
    versions = [new_version(client, engineer, hornet["id"], version="1.0.0"),
                new_version(client, engineer, hornet["id"], version="1.1.0", unit_cost_eur=4500),
                new_version(client, engineer, falcon["id"], version="2.0.0")]
    field = new_trial(client, soldier, versions[1]["id"])
    simulator = new_trial(client, soldier, versions[1]["id"], kind="simulator",
                          simulator="VBS4")
    other = new_trial(client, soldier, versions[2]["id"])
    add_engagements(client, soldier, field["id"], [engagement()] * 3)
    opened = client.post(f"/api/v1/trials/{field['id']}/telemetry-sessions", json={"sysid": 7},
                         headers=auth(soldier))
    assert opened.status_code == 201, opened.text
    cli_env.add(TelemetrySession(trial_id=other["id"], source="tlog",  # an ingest midway
                                 pending_until=datetime.now(UTC) + timedelta(minutes=5)))
    cli_env.commit()
    return {"hornet": hornet, "falcon": falcon, "versions": versions, "field": field,
            "simulator": simulator, "other": other, "session": opened.json(),
            "company": cli_env.get(User, engineer.id).organisation_id}


def listed(*args: str) -> list[dict]:
    result = runner.invoke(app, ["list", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_prototypes_are_listed_with_ids_company_and_version_counts(registry) -> None:
    rows = listed("prototypes")
    assert [(r["id"], r["name"], r["versions"], r["sandbox_status"]) for r in rows] == [
        (registry["hornet"]["id"], "Hornet", 2, "submitted"),
        (registry["falcon"]["id"], "Falcon", 1, "submitted")]
    assert listed("prototypes", "--kind", "baseline") == []
    table = runner.invoke(app, ["list", "prototypes"])
    assert table.exit_code == 0, table.output
    assert "prototypes 1–2 of 2" in table.output
    hornet_line = next(line for line in table.output.splitlines() if "Hornet" in line)
    assert hornet_line.split("│")[1].strip() == str(registry["hornet"]["id"])
    assert "interceptor_drone" in hornet_line and "more:" not in table.output


def test_versions_trials_and_sessions_follow_their_filters(registry) -> None:
    hornet, v = registry["hornet"], registry["versions"]
    versions = listed("versions", "--prototype", str(hornet["id"]))
    assert [(r["id"], r["version"], r["unit_cost_eur"], r["trials"]) for r in versions] == [
        (v[0]["id"], "1.0.0", 4000.0, 0), (v[1]["id"], "1.1.0", 4500.0, 2)]
    trials = listed("trials", "--version", str(v[1]["id"]))
    assert [(r["id"], r["kind"], r["engagements"], r["prototype"]) for r in trials] == [
        (registry["field"]["id"], "field", 3, "Hornet"),
        (registry["simulator"]["id"], "simulator", 0, "Hornet")]
    assert [r["id"] for r in listed("trials", "--prototype", str(hornet["id"]), "--kind",
                                    "simulator")] == [registry["simulator"]["id"]]
    sessions = listed("sessions")  # the pending ingest is not a session yet
    assert [(r["id"], r["trial_id"], r["sysid"], r["source"]) for r in sessions] == [
        (registry["session"]["id"], registry["field"]["id"], 7, "device")]
    assert listed("sessions", "--trial", str(registry["other"]["id"])) == []


def test_pages_are_walked_with_limit_and_offset(registry) -> None:
    trials = [registry[name]["id"] for name in ("field", "simulator", "other")]
    assert [r["id"] for r in listed("trials", "--limit", "2")] == trials[:2]
    assert [r["id"] for r in listed("trials", "--limit", "2", "--offset", "2")] == trials[2:]
    table = runner.invoke(app, ["list", "trials", "--limit", "2"])
    assert "trials 1–2 of 3" in table.output and "more: --offset 2" in table.output
    past = runner.invoke(app, ["list", "trials", "--offset", "5"])
    assert past.exit_code == 0 and "no trials past row 5 (there are 3)" in past.output


def test_a_filter_naming_nothing_is_an_error_not_an_empty_list(registry) -> None:
    missing = runner.invoke(app, ["list", "trials", "--version", "999999"])
    assert missing.exit_code == 1
    assert missing.output.strip() == "error: --version 999999: there is no version 999999"
    assert runner.invoke(app, ["list", "trials", "--limit", "0"]).exit_code == 2
    assert runner.invoke(app, ["list", "sessions", "--trial", "-1"]).exit_code == 2


def test_a_short_password_is_one_human_line(cli_env) -> None:
    result = runner.invoke(app, ["users", "create", "--role", "admin", "--name", "shorty",
                                 "--password", "short"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: password: String should have at least 10 characters"
    assert cli_env.exec(select(User)).all() == []


def test_export_to_a_missing_folder_names_the_folder(registry, tmp_path) -> None:
    out = tmp_path / "no-such-folder" / "feedback.csv"
    result = runner.invoke(app, ["export", "feedback", "--prototype",
                                 str(registry["hornet"]["id"]), "--out", str(out)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"there is no folder {out.parent}" in result.output
    assert "Traceback" not in result.output and not out.parent.exists()


def test_leaderboard_label_gives_ids_and_what_a_use_costs() -> None:
    prototype = Prototype(id=3, name="Gun", kind=PrototypeKind.baseline, organisation_id=1)
    gun = Version(id=9, prototype_id=3, version="1.0.0", unit_cost_cents=0, reusable=True,
                  parameters={"base": "gun_35mm"})
    assert defender_label(gun, prototype) == ("Gun 1.0.0\nprototype 3, version 9; "
                                              "7,000 EUR a sortie")
    cheap = Version(id=10, prototype_id=3, version="2.0.0", unit_cost_cents=40,
                    parameters={"base": "interceptor_drone"})
    assert defender_label(cheap, prototype).endswith("; 0.40 EUR each")
    free = Version(id=11, prototype_id=3, version="3.0.0", unit_cost_cents=0, parameters={})
    assert defender_label(free, prototype).endswith("version 11; 0 EUR each")
