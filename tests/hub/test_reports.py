"""Soldiers' reports: every rating optional, the ratings the field asks for, and a trial
started in the future refused (API; the /log page is tested in tests/pages)."""

import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from sandbox.models import OrgKind, Role
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version


@pytest.fixture
def trial(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    return soldier, new_trial(client, soldier, version["id"])


def test_a_text_only_report_is_stored(client, make_user, trial) -> None:
    soldier, made = trial
    path = f"/api/v1/trials/{made['id']}/reports"
    response = client.post(path, headers=auth(soldier), json={"text": "jammed at 2 km"})
    assert response.status_code == 201, response.text
    listed = client.get(path, headers=auth(make_user(Role.reviewer))).json()
    assert [(r["text"], r["effectiveness"], r["wind_behaviour"]) for r in listed] == [
        ("jammed at 2 km", None, None)]


def test_the_ratings_the_field_asks_for_are_kept(client, trial) -> None:
    soldier, made = trial
    path = f"/api/v1/trials/{made['id']}/reports"
    given = {"ew_resistance": 2, "build_quality": 4, "wind_behaviour": 3,
             "ease_of_maintenance": 5}
    assert client.post(path, headers=auth(soldier), json=given).status_code == 201
    stored = client.get(path, headers=auth(soldier)).json()[0]
    assert {name: stored[name] for name in given} == given
    assert stored["effectiveness"] is None and stored["text"] == ""


@pytest.mark.parametrize("body, field", [({}, "text"), ({"text": "   "}, "text"),
                                         ({"build_quality": 6}, "build_quality"),
                                         ({"wind_behaviour": 0}, "wind_behaviour")])
def test_an_empty_or_out_of_range_report_is_refused(client, trial, body, field) -> None:
    soldier, made = trial
    path = f"/api/v1/trials/{made['id']}/reports"
    response = client.post(path, headers=auth(soldier), json=body)
    assert response.status_code == 422
    assert field in str(response.json()["detail"])
    assert client.get(path, headers=auth(soldier)).json() == []


def test_a_trial_started_in_the_future_is_refused_but_clock_skew_is_not(client, trial) -> None:
    soldier, made = trial
    body = {"version_id": made["version_id"], "kind": "field", "scenario": "s"}
    refused = client.post("/api/v1/trials", headers=auth(soldier),
                          json={**body, "started_at": "2099-01-01T00:00:00Z"})
    assert refused.status_code == 422
    assert "started_at: 2099-01-01 00:00 UTC is in the future" in str(refused.json()["detail"])
    ahead = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    accepted = client.post("/api/v1/trials", headers=auth(soldier),
                           json={**body, "started_at": ahead})
    assert accepted.status_code == 201, accepted.text


def test_the_export_leaves_a_blank_rating_blank(client, make_user, make_org) -> None:
    engineer = make_user(Role.engineer)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    unit = make_org(OrgKind.unit, region="Kharkiv")
    for number in range(5):  # five soldiers: the batch is released
        soldier = make_user(Role.soldier, unit)
        made = new_trial(client, soldier, version["id"])
        client.post(f"/api/v1/trials/{made['id']}/reports", headers=auth(soldier),
                    json={"text": f"report {number}", **({"ew_resistance": 2} if number else {})})
    path = f"/api/v1/prototypes/{version['prototype_id']}/feedback"
    as_json = client.get(path, headers=auth(engineer)).json()["reports"]
    assert sorted((r["text"], r["ew_resistance"], r["effectiveness"]) for r in as_json) == [
        ("report 0", None, None), *((f"report {n}", 2, None) for n in range(1, 5))]
    csv = client.get(path, headers=auth(engineer), params={"format": "csv", "part": "reports"})
    frame = pd.read_csv(io.StringIO(csv.text)).sort_values("text")
    assert frame["ew_resistance"].isna().tolist() == [True, False, False, False, False]
    parquet = client.get(path, headers=auth(engineer),
                         params={"format": "parquet", "part": "reports"})
    table = pd.read_parquet(io.BytesIO(parquet.content)).sort_values("text")
    assert table["ew_resistance"].tolist()[1:] == [2, 2, 2, 2]
    assert pd.isna(table["ew_resistance"].iloc[0]) and table["build_quality"].isna().all()
