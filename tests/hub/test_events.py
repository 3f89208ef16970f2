import pytest
from sqlmodel import select
from starlette.websockets import WebSocketDisconnect

from sandbox.models import AuditEntry, Engagement, Role
from simulators.bridges.client import EventClient
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version


@pytest.fixture
def trial_key(client, make_user):
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    version = new_version(client, engineer, new_prototype(client, engineer)["id"])
    trial = new_trial(client, soldier, version["id"], kind="simulator", simulator="DCS")
    key = client.post("/api/v1/api-keys", headers=auth(soldier), json={
        "name": "DCS plug-in", "scope": "trial", "scope_id": trial["id"],
        "access": "write"}).json()["key"]
    return trial, key


def test_simulator_events_become_engagements(client, trial_key, session) -> None:
    trial, key = trial_key
    with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key={key}") as bridge:
        bridge.send_json({"type": "engagement_started", "engagement": "e1",
                          "threat_kind": "shahed_136", "threat_cost_eur": 35000})
        assert bridge.receive_json() == {"type": "accepted"}
        bridge.send_json({"type": "interceptor_launched", "engagement": "e1", "count": 2})
        bridge.receive_json()
        bridge.send_json({"type": "outcome", "engagement": "e1", "outcome": "intercept",
                          "time_to_intercept_s": 41.5})
        recorded = bridge.receive_json()
        assert recorded["type"] == "recorded"
        for bad, says in ((["not", "an", "object"], "JSON object"),
                          ({"type": "outcome", "engagement": "e9", "outcome": "miss"},
                           "not started"),
                          ({"type": "engagement_started", "engagement": "e2",
                            "threat_kind": "Shahed!", "threat_cost_eur": 1}, "threat_kind"),
                          ({"type": "engagement_started", "engagement": "e3",
                            "threat_kind": "fpv", "threat_cost_eur": -4}, "threat_cost_eur")):
            bridge.send_json(bad)
            answer = bridge.receive_json()
            assert answer["type"] == "error" and says in answer["detail"]
        bridge.send_text("{not json")
        assert bridge.receive_json()["type"] == "error"
    [row] = session.exec(select(Engagement)).all()
    assert (row.id, row.interceptors_used, row.outcome, row.threat_cost_cents) == (
        recorded["id"], 2, "intercept", 3_500_000)


@pytest.mark.parametrize("access_level", ["read", "wrong"])
def test_events_need_a_write_key_for_the_trial(client, trial_key, make_user,
                                               access_level) -> None:
    trial, key = trial_key
    if access_level == "read":
        soldier = make_user(Role.soldier)
        other = new_trial(client, soldier, trial["version_id"])
        key = client.post("/api/v1/api-keys", headers=auth(soldier), json={
            "name": "k", "scope": "trial", "scope_id": other["id"],
            "access": "write"}).json()["key"]
    else:
        key = key[:-3] + "abc"
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key={key}") as bridge:
            bridge.receive_json()
    assert refused.value.code == 1008


def test_the_python_client_talks_to_a_live_hub(live_url, trial_key, session) -> None:
    trial, key = trial_key
    websocket_url = live_url.replace("http://", "ws://")
    with EventClient(websocket_url, trial_id=trial["id"], key=key) as hub:
        assert hub.started("a", threat_kind="fpv_strike", threat_cost_eur=500)["type"] == \
            "accepted"
        hub.launched("a")
        assert hub.outcome("a", "miss")["type"] == "recorded"
    assert [e.outcome for e in session.exec(select(Engagement)).all()] == ["miss"]


def test_dis_bridge_rows_are_recorded_into_the_trial(engine, trial_key, session) -> None:
    from hub.flows.engagements import recorder
    from simulators.bridges.dis import engagement_of, parse_pdu
    from tests.simulators.test_dis import DETONATION_HEX, FIRE_HEX

    trial, _key = trial_key
    fire, detonation = parse_pdu(bytes.fromhex(FIRE_HEX)), parse_pdu(bytes.fromhex(DETONATION_HEX))
    recorder(engine, trial["id"], source="dis test")(
        engagement_of(detonation, fire, threat_kind="shahed_136", threat_cost_cents=3_500_000))
    [row] = session.exec(select(Engagement)).all()
    assert (row.trial_id, row.outcome, row.interceptors_used) == (trial["id"], "intercept", 2)
    assert row.time_to_intercept_s > 0


def test_refused_websockets_are_audited(client, trial_key, session) -> None:
    trial, _key = trial_key
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"/ws/trials/{trial['id']}/events?key=slk_x_y") as bridge:
            bridge.receive_json()
    refused = [e for e in session.exec(select(AuditEntry)).all() if e.action == "refused"]
    assert [(e.outcome, e.request) for e in refused] == [
        ("1008", f"WEBSOCKET /ws/trials/{trial['id']}/events")]
