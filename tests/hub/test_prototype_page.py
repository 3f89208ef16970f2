"""The prototype page's trials: the newest first, bounded, each with its telemetry sessions."""

import re

from hub.pages import prototype as prototype_page
from sandbox.models import Role
from tests.conftest import PASSWORD, auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version
from tests.hub.test_telemetry import tlog


def test_trials_newest_first_bounded_with_their_sessions(client, make_user,
                                                          monkeypatch) -> None:
    engineer, soldier, reviewer = (make_user(Role.engineer), make_user(Role.soldier),
                                   make_user(Role.reviewer))
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trials = [new_trial(client, soldier, version["id"]) for _ in range(3)]
    add_engagements(client, soldier, trials[2]["id"], [engagement(), engagement()])
    uploaded = client.post(f"/api/v1/trials/{trials[2]['id']}/telemetry", content=tlog(5),
                           headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert uploaded.status_code == 201, uploaded.text
    monkeypatch.setattr(prototype_page, "TRIALS_SHOWN", 2)
    login = client.post("/login", data={"username": reviewer.name, "password": PASSWORD},
                        follow_redirects=False)
    assert login.status_code == 303
    html = client.get(f"/prototypes/{prototype['id']}").text
    table = html[html.index('id="trials"'):]
    rows = re.findall(r"<tr><td>(\d+)</td>", table)
    assert rows == [str(trials[2]["id"]), str(trials[1]["id"])]
    assert "The newest 2 of 3 trials." in html
    assert f'<a href="/sessions/{uploaded.json()["id"]}">' in table
    assert "2 intercept" in table
