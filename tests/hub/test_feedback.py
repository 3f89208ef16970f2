import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


@pytest.fixture
def fed(client, make_user, make_org):
    engineer = make_user(Role.engineer)
    unit = make_org(OrgKind.unit, name="Unit Kestrel Nine", region="Kharkiv")
    soldier = make_user(Role.soldier, unit, name="petrenko.ivan")
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"], lat=49.99, lon=36.23,
                      notes="petrenko.ivan at 49.99, 36.23")
    add_engagements(client, soldier, trial["id"],
                    [engagement(), engagement(outcome="miss")] * 5)
    client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
        "effectiveness": 4, "ease_of_use": 2, "reliability": 3,
        "text": "Unit Kestrel Nine lost it at 49.9912, 36.2301 — ask petrenko.ivan"})
    return engineer, prototype, soldier


def test_engineer_gets_anonymised_feedback_of_own_prototype(client, fed) -> None:
    engineer, prototype, _soldier = fed
    response = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                          headers=auth(engineer))
    assert response.status_code == 200
    body = response.json()
    assert len(body["engagements"]) == 10
    assert {row["outcome"] for row in body["engagements"]} == {"intercept", "miss"}
    assert body["engagements"][0]["unit"].startswith("unit-")
    assert body["suppression"]["engagements"]["k"] == 5
    text = response.text
    for secret in ("Kestrel", "petrenko", "49.99", "36.23"):
        assert secret not in text
    # region is a quasi-identifier: it may leave, but only shared by at least k rows
    regions = pd.Series([row["region"] for row in body["engagements"]]).value_counts()
    assert (regions >= 5).all()
    assert body["reports"] == [] or "[name]" in body["reports"][0]["text"]


def test_feedback_downloads_as_csv_and_parquet(client, fed) -> None:
    engineer, prototype, _ = fed
    csv = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback?format=csv",
                     headers=auth(engineer))
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(pd.read_csv(io.StringIO(csv.text))) == 10
    parquet = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback?format=parquet",
                         headers=auth(engineer))
    assert len(pd.read_parquet(io.BytesIO(parquet.content))) == 10


def test_other_companies_and_soldiers_get_no_feedback(client, fed, make_user) -> None:
    _, prototype, soldier = fed
    path = f"/api/v1/prototypes/{prototype['id']}/feedback"
    assert client.get(path, headers=auth(make_user(Role.engineer))).status_code == 404
    assert client.get(path, headers=auth(soldier)).status_code == 403


def test_cli_exports_the_same_feedback(fed, settings, monkeypatch, tmp_path) -> None:
    _, prototype, _ = fed
    monkeypatch.setenv("SOLDIERSLAB_DATABASE_URL", settings.database())
    monkeypatch.setenv("SOLDIERSLAB_SECRET_KEY", "x" * 40)
    out = tmp_path / "feedback.csv"
    result = CliRunner().invoke(cli, ["export", "feedback", "--prototype", str(prototype["id"]),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = pd.read_csv(out)
    assert len(exported) == 10 and "unit_name" not in exported.columns


def test_feedback_carries_telemetry_summaries_without_positions(client, fed) -> None:
    from tests.hub.test_telemetry import tlog

    engineer, prototype, soldier = fed
    trial_id = client.get("/api/v1/trials", headers=auth(soldier)).json()[0]["id"]
    uploaded = client.post(f"/api/v1/trials/{trial_id}/telemetry", content=tlog(20),
                           headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert uploaded.status_code == 201
    body = client.get(f"/api/v1/prototypes/{prototype['id']}/feedback",
                      headers=auth(engineer)).json()
    [summary] = body["telemetry"]
    assert summary["messages"] == 40 and summary["max_altitude_m"] == 50.0
    assert summary["trial"].startswith("trial-")
    assert "lat" not in str(summary) and "49.99" not in str(body["telemetry"])
