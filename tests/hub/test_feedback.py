import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version

TEXT = "Unit Kestrel Nine lost it at 49.9912, 36.2301 — ask {name}, call 0470/123456"


def report(client, soldier, trial_id: int, text: str, rating: int = 4) -> None:
    response = client.post(f"/api/v1/trials/{trial_id}/reports", headers=auth(soldier), json={
        "effectiveness": rating, "ease_of_use": 2, "reliability": 3, "text": text})
    assert response.status_code == 201, response.text


def fly(client, soldier, version_id: int, *, started: str = "2026-11-02T08:00:00Z",
        text: str | None = None, region_note: str = "") -> int:
    trial = new_trial(client, soldier, version_id, lat=49.99, lon=36.23, started_at=started,
                      notes=f"{soldier.name} at 49.99, 36.23 {region_note}")
    add_engagements(client, soldier, trial["id"], [engagement(), engagement(outcome="miss")])
    if text is not None:
        report(client, soldier, trial["id"], text.format(name=soldier.name))
    return trial["id"]


@pytest.fixture
def company(client, make_user):
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    return engineer, prototype, version


@pytest.fixture
def squad(make_user, make_org):
    """Six soldiers of one unit in one region."""
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine", region="Kharkiv")
    return [make_user(Role.soldier, unit, name=f"petrenko.ivan{i}") for i in range(6)]


def get(client, engineer, prototype, **params) -> object:
    response = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                          headers=auth(engineer), params=params)
    assert response.status_code == 200, response.text
    return response


def test_feedback_waits_for_k_distinct_people_then_leaves_scrubbed(client, company,
                                                                    squad) -> None:
    engineer, prototype, version = company
    for soldier in squad[:4]:
        fly(client, soldier, version["id"], text=TEXT)
    body = get(client, engineer, prototype).json()
    assert body["engagements"] == [] and body["reports"] == []
    assert body["release"]["held_back"] == {"engagements": 8, "reports": 4, "people": 4,
                                            "needed_people": 5}
    fly(client, squad[4], version["id"], text=TEXT)
    response = get(client, engineer, prototype)
    body = response.json()
    assert len(body["engagements"]) == 10 and len(body["reports"]) == 5
    assert body["release"]["held_back"]["people"] == 0
    assert {row["release"] for row in body["engagements"] + body["reports"]} == {1}
    for secret in ("Kestrel", "petrenko", "49.99", "36.23", "0470", "2026-11-02", "08:00"):
        assert secret not in response.text
    assert {row["week"] for row in body["engagements"]} == {"2026-W45"}
    assert all(row["soldier"].startswith("soldier-") for row in body["reports"])


def test_five_reports_by_one_soldier_are_not_a_class_of_five(client, company, squad) -> None:
    engineer, prototype, version = company
    trial_id = fly(client, squad[0], version["id"])
    for _ in range(5):
        report(client, squad[0], trial_id, "fine")
    body = get(client, engineer, prototype).json()
    assert body["reports"] == [] and body["release"]["held_back"]["people"] == 1


def _download_everything(client, engineer, prototype) -> dict[str, pd.DataFrame]:
    parts = {}
    for part in ("engagements", "reports", "telemetry"):
        csv = get(client, engineer, prototype, format="csv", part=part).text
        parquet = get(client, engineer, prototype, format="parquet", part=part).content
        from_csv = pd.read_csv(io.StringIO(csv)) if csv.strip() else pd.DataFrame()
        from_parquet = pd.read_parquet(io.BytesIO(parquet))
        assert len(from_csv) == len(from_parquet)
        parts[part] = from_parquet
    as_json = get(client, engineer, prototype).json()
    for part in parts:
        assert len(as_json[part]) == len(parts[part])
    return parts


def test_every_part_joined_is_k_anonymous_in_people_and_l_diverse(client, company, squad,
                                                                   make_user, make_org) -> None:
    """The attack that found 7 of 7: join the parts on everything they share."""
    engineer, prototype, version = company
    for week, soldier in enumerate(squad):
        fly(client, soldier, version["id"], started=f"2026-11-{2 + 7 * (week % 2):02d}T08:00:00Z",
            text="worked")
    lone = make_user(Role.soldier, make_org(OrgKind.unit, name="Lone Wolves", region="Sumy"),
                     name="lone.wolf")
    fly(client, lone, version["id"], started="2026-10-05T08:00:00Z", text="worked")
    parts = _download_everything(client, engineer, prototype)
    reports, engagements = parts["reports"], parts["engagements"]
    assert "trial" not in reports.columns  # no key joins a report to a trial's engagements
    shared = sorted(set(reports.columns) & set(engagements.columns) - {"release"})
    assert {"unit", "unit_kind", "region", "week"} <= set(shared)
    joined = reports.merge(engagements, on=shared, suffixes=("", "_e"))
    classes = joined.groupby(["unit", "unit_kind", "region", "week", "version"])
    assert len(joined) and (classes["soldier"].nunique() >= 5).all()
    assert (classes["outcome"].nunique() >= 2).all()
    assert len(reports) == 7  # the lone soldier hides among the others: regions generalised
    assert set(engagements["region"]) | set(reports["region"]) == {"*"}


def test_one_new_report_is_never_isolated_by_comparing_exports(client, company, squad) -> None:
    engineer, prototype, version = company
    for soldier in squad[:5]:
        fly(client, soldier, version["id"], text="worked")
    before = get(client, engineer, prototype).json()
    trial_id = fly(client, squad[5], version["id"])
    report(client, squad[5], trial_id, "the new one")
    after = get(client, engineer, prototype).json()
    assert after["reports"] == before["reports"]
    assert after["engagements"] == before["engagements"]
    assert after["release"]["held_back"] == {"engagements": 2, "reports": 1, "people": 1,
                                             "needed_people": 5}


def test_rows_leave_in_a_keyed_order_not_in_arrival_order(client, company, squad) -> None:
    engineer, prototype, version = company
    for soldier in squad:
        fly(client, soldier, version["id"], text=f"report of {soldier.id}")
    texts = [row["text"] for row in get(client, engineer, prototype).json()["reports"]]
    assert sorted(texts) == sorted(f"report of {s.id}" for s in squad)
    assert texts != [f"report of {s.id}" for s in squad]


def test_other_companies_and_soldiers_get_no_feedback(client, company, squad,
                                                      make_user) -> None:
    _, prototype, _ = company
    path = f"/api/v1/prototypes/{prototype['id']}/feedback"
    assert client.get(path, headers=auth(make_user(Role.engineer))).status_code == 404
    assert client.get(path, headers=auth(squad[0])).status_code == 403


def test_cli_exports_the_same_feedback(client, company, squad, settings, monkeypatch,
                                       tmp_path) -> None:
    engineer, prototype, version = company
    for soldier in squad[:5]:
        fly(client, soldier, version["id"])
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_SECRET_KEY", settings.secret_key)
    out = tmp_path / "feedback.parquet"
    result = CliRunner().invoke(cli, ["export", "feedback", "--prototype", str(prototype["id"]),
                                      "--out", str(out), "--format", "parquet"])
    assert result.exit_code == 0, result.output
    exported = pd.read_parquet(out)
    served = pd.read_parquet(io.BytesIO(
        get(client, engineer, prototype, format="parquet").content))
    pd.testing.assert_frame_equal(exported, served)
    assert len(exported) == 10 and "unit_name" not in exported.columns


def test_cli_json_export_keeps_to_the_part_asked(client, company, squad, settings,
                                                 monkeypatch, tmp_path) -> None:
    engineer, prototype, version = company
    for soldier in squad[:5]:
        fly(client, soldier, version["id"])
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_SECRET_KEY", settings.secret_key)
    export = ["export", "feedback", "--prototype", str(prototype["id"]), "--format", "json"]
    every, part = tmp_path / "every.json", tmp_path / "engagements.json"
    assert CliRunner().invoke(cli, [*export, "--out", str(every)]).exit_code == 0
    result = CliRunner().invoke(cli, [*export, "--part", "engagements", "--out", str(part)])
    assert result.exit_code == 0, result.output
    whole, only = json.loads(every.read_text()), json.loads(part.read_text())
    assert {"engagements", "reports", "telemetry"} <= set(whole)
    assert set(only) == {"engagements", "release"}
    assert only["engagements"] == whole["engagements"] and len(only["engagements"]) == 10
    assert f"({part.stat().st_size:,} bytes)" in result.output


def test_simulations_concern_no_soldier_and_leave_at_once(client, company) -> None:
    from tests.hub.test_simulations import simulated_trial

    engineer, prototype, version = company
    simulated_trial(client, engineer, version, scenario="shahed_raid", runs=2)
    rows = get(client, engineer, prototype).json()["engagements"]
    assert rows and {row["unit"] for row in rows} == {"none"}
    assert {row["release"] for row in rows} == {None}


def test_feedback_carries_telemetry_summaries_without_positions(client, company,
                                                                squad) -> None:
    from tests.hub.test_telemetry import tlog

    engineer, prototype, version = company
    trial_id = fly(client, squad[0], version["id"])
    uploaded = client.post(f"/api/v1/trials/{trial_id}/telemetry", content=tlog(20),
                           headers={**auth(squad[0]),
                                    "content-type": "application/octet-stream"})
    assert uploaded.status_code == 201
    body = get(client, engineer, prototype).json()
    [summary] = body["telemetry"]
    assert summary["messages"] == 40 and summary["max_altitude_m"] == 50.0
    assert summary["trial"].startswith("trial-")
    assert "lat" not in str(summary) and "49.99" not in str(body["telemetry"])


def test_private_aggregates_are_charged_to_the_company_budget(client, company, squad,
                                                               make_user, session) -> None:
    from sandbox.models import PrivacyBudget

    engineer, prototype, version = company
    for soldier in squad:
        fly(client, soldier, version["id"], started=now_iso(), text="worked")
    path = f"/api/v1/prototypes/{prototype['id']}/private-aggregates"
    answer = client.get(path, headers=auth(engineer), params={"epsilon": 2.0, "periods": 2})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [cell["version"] for cell in body["cells"]] == ["1.0.0", "1.0.0"]
    assert body["budget"] == {"epsilon_total": 10.0, "epsilon_spent": 2.0,
                              "epsilon_left": 8.0, "queries": 1}
    for _ in range(4):
        assert client.get(path, headers=auth(engineer), params={"epsilon": 2.0}).status_code == 200
    refused = client.get(path, headers=auth(engineer), params={"epsilon": 0.5})
    assert refused.status_code == 403
    assert "privacy budget spent" in refused.json()["detail"]
    assert "0 of 10 left" in refused.json()["detail"]
    session.expire_all()
    stored = session.get(PrivacyBudget, engineer.organisation_id)
    assert (stored.epsilon_spent, stored.queries) == (10.0, 5)  # the refusal cost nothing
    budget = client.get("/api/v1/privacy-budget", headers=auth(engineer)).json()
    assert budget["epsilon_left"] == 0.0


def test_private_aggregates_are_for_the_owning_engineer_only(client, company, squad,
                                                             make_user) -> None:
    _, prototype, _ = company
    path = f"/api/v1/prototypes/{prototype['id']}/private-aggregates"
    assert client.get(path, headers=auth(make_user(Role.engineer))).status_code == 404
    for role in (Role.reviewer, Role.admin):
        assert client.get(path, headers=auth(make_user(role))).status_code == 403
    assert client.get(path, headers=auth(squad[0])).status_code == 403
    bad = client.get(path, headers=auth(company[0]), params={"epsilon": 50})
    assert bad.status_code == 422


def now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
