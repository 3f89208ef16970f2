"""GET /versions/{id}/flight-summary: every flight of a version from one query over the Parquet
parts of all its sessions, with the telemetry on the local disk or on an S3 server."""

import pytest

from hub.settings import Settings
from sandbox.models import Role
from tests.conftest import SECRET, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub.test_telemetry import _upload, tlog
from tests.objectstore import new_bucket
from tests.telemetry.logs import circle_flight


@pytest.fixture(params=["disk", "s3"])
def settings(request, tmp_path, database_url) -> Settings:
    url = new_bucket(request.getfixturevalue("s3_endpoint")) if request.param == "s3" else ""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET,
                    telemetry_url=url)


@pytest.fixture
def flown(client, make_user) -> dict:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version, other = (new_version(client, engineer, prototype["id"], version=name)["id"]
                      for name in ("1.0.0", "2.0.0"))
    first, second = (new_trial(client, soldier, version)["id"] for _ in range(2))
    sessions = [_upload(client, soldier, {"id": first}, tlog(30)).json(),  # 2.9 s at 50 m
                _upload(client, soldier, {"id": second}, circle_flight(seconds=3)).json()]
    _upload(client, soldier, {"id": new_trial(client, soldier, other)["id"]}, tlog(11))
    idle = client.post(f"/api/v1/trials/{first}/telemetry-sessions", headers=auth(soldier),
                       json={"sysid": 1}).json()  # opened, never streamed
    return {"version": version, "engineer": engineer, "soldier": soldier,
            "sessions": sessions, "idle": idle["id"]}


def test_flight_summary_adds_up_every_session_of_the_version(client, make_user, flown) -> None:
    reviewer = auth(make_user(Role.reviewer))
    summary = client.get(f"/api/v1/versions/{flown['version']}/flight-summary",
                         headers=reviewer).json()
    uploaded = flown["sessions"]
    each = [client.get(f"/api/v1/telemetry-sessions/{s['id']}", headers=reviewer).json()
            for s in uploaded]
    durations = [one["summary"]["duration_s"] for one in each]
    assert durations == [pytest.approx(2.9, abs=1e-3)] * 2
    assert (summary["sessions"], summary["flights"]) == (3, 2)
    assert summary["messages"] == sum(s["messages"] for s in uploaded)
    assert summary["flight_hours"] == pytest.approx(sum(durations) / 3600, abs=1e-6)
    assert summary["max_altitude_m"] == 50.0
    rows = {row["session_id"]: row for row in summary["by_session"]}
    assert sorted(rows) == sorted([s["id"] for s in uploaded] + [flown["idle"]])
    assert rows[uploaded[0]["id"]]["positions"] == 30
    assert rows[uploaded[0]["id"]]["duration_s"] == pytest.approx(durations[0], abs=1e-3)
    assert rows[flown["idle"]] | {"session_id": 0, "trial_id": 0} == {
        "session_id": 0, "trial_id": 0, "messages": 0, "positions": 0, "duration_s": None,
        "max_altitude_m": None}


def test_flight_summary_is_for_reviewers_and_admins_only(client, make_user, flown) -> None:
    path = f"/api/v1/versions/{flown['version']}/flight-summary"
    for user in (flown["engineer"], flown["soldier"]):
        assert client.get(path, headers=auth(user)).status_code == 403
    answer = client.get(path, headers=auth(make_user(Role.admin))).json()
    assert (answer["version_id"], answer["flights"]) == (flown["version"], 2)
