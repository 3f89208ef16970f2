from datetime import UTC, datetime

import pytest
from starlette.websockets import WebSocketDisconnect

from sandbox.models import Role
from sandbox.privacy import week_of
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


def _token(user) -> str:
    return auth(user)["Authorization"].removeprefix("Bearer ")


def test_engineer_hears_of_new_outcomes_for_own_prototype(client, make_user) -> None:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"])
    trial = new_trial(client, soldier, version["id"], notes="near the river crossing")
    with client.websocket_connect(f"/ws/feed?token={_token(engineer)}") as feed:
        add_engagements(client, soldier, trial["id"], [engagement(), engagement(outcome="miss")])
        notice = feed.receive_json()
        assert notice["event"] == "engagements"
        assert (notice["prototype_id"], notice["version_id"]) == (prototype["id"], version["id"])
        assert set(notice) == {"event", "prototype_id", "version_id", "trial_kind", "at"}
        assert notice["at"] == week_of(datetime.now(UTC))  # no clock time, no count
        client.post(f"/api/v1/trials/{trial['id']}/reports", headers=auth(soldier), json={
            "effectiveness": 4, "ease_of_use": 4, "reliability": 4, "text": "Sgt. Petrenko"})
        report = feed.receive_json()
        assert report["event"] == "report"
        assert "Petrenko" not in str(report)


def test_other_companies_hear_nothing(client, make_user) -> None:
    mine, theirs, soldier = (make_user(Role.engineer), make_user(Role.engineer),
                             make_user(Role.soldier))
    their_version = new_version(client, theirs, new_prototype(client, theirs)["id"])
    my_version = new_version(client, mine, new_prototype(client, mine, name="Mine")["id"])
    their_trial = new_trial(client, soldier, their_version["id"])
    my_trial = new_trial(client, soldier, my_version["id"])
    with client.websocket_connect(f"/ws/feed?token={_token(mine)}") as feed:
        add_engagements(client, soldier, their_trial["id"], [engagement()])
        add_engagements(client, soldier, my_trial["id"], [engagement(outcome="abort")])
        assert feed.receive_json()["version_id"] == my_version["id"]  # theirs never arrived


@pytest.mark.parametrize("role", [Role.soldier, Role.reviewer, Role.admin])
def test_only_engineers_open_a_feed(client, make_user, role) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/feed?token={_token(make_user(role))}") as feed:
            feed.receive_json()
    assert refused.value.code == 1008


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_feed_refuses_missing_or_forged_tokens(client, token) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/feed?token={token}") as feed:
            feed.receive_json()
    assert refused.value.code == 1008
