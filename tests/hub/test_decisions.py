import pytest

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import add_engagements, engagement, new_prototype, new_trial, new_version


@pytest.fixture
def proto(client, make_user):
    engineer = make_user(Role.engineer)
    prototype = new_prototype(client, engineer)
    version = new_version(client, engineer, prototype["id"], unit_cost_eur=3000)
    return engineer, prototype, version


def decide(client, user, prototype, to_status, **extra):
    return client.post(f"/api/v1/prototypes/{prototype['id']}/decisions", headers=auth(user),
                       json={"to_status": to_status,
                             "rationale": "evidence reviewed by the board", **extra})


def test_reviewer_walks_a_prototype_through_the_sandbox(client, proto, make_user) -> None:
    engineer, prototype, version = proto
    reviewer, soldier = make_user(Role.reviewer), make_user(Role.soldier)
    assert decide(client, reviewer, prototype, "admitted").status_code == 201
    trial = new_trial(client, reviewer, version["id"], kind="simulation")
    add_engagements(client, reviewer, trial["id"], [engagement()] * 230 + [engagement(
        outcome="miss")] * 20)
    response = decide(client, reviewer, prototype, "sim_trialled", conditions={
        "altitude_ceiling_m": 120, "radio_bands": ["2.4 GHz"],
        "geofence": [[50.0, 30.0], [50.1, 30.0], [50.1, 30.1]]},
        expires_at="2030-01-01T00:00:00Z")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["from_status"], body["to_status"]) == ("admitted", "sim_trialled")
    assert body["conditions"]["altitude_ceiling_m"] == 120
    assert client.get(f"/api/v1/prototypes/{prototype['id']}",
                      headers=auth(engineer)).json()["sandbox_status"] == "sim_trialled"
    readiness = client.get(f"/api/v1/versions/{version['id']}/readiness",
                           headers=auth(engineer)).json()
    assert (readiness["status"], readiness["trl"]) == ("sim_trialled", 4)
    field_gate = readiness["gates"][1]
    assert field_gate["step"] == "field_trial_authorised" and not field_gate["passed"]
    history = client.get(f"/api/v1/prototypes/{prototype['id']}/decisions",
                         headers=auth(engineer)).json()
    assert [d["to_status"] for d in history] == ["admitted", "sim_trialled"]
    assert soldier  # soldiers log, reviewers decide


def test_a_gated_step_without_evidence_is_refused_with_reasons(client, proto,
                                                                make_user) -> None:
    _, prototype, _ = proto
    reviewer = make_user(Role.reviewer)
    decide(client, reviewer, prototype, "admitted")
    refused = decide(client, reviewer, prototype, "sim_trialled")
    assert refused.status_code == 409
    assert "simulation engagements: 0 fails ≥ 200" in refused.json()["detail"]
    overridden = decide(client, reviewer, prototype, "sim_trialled", override_gate=True)
    assert overridden.status_code == 201 and overridden.json()["gate_overridden"] is True


def test_open_safety_finding_blocks_the_gate(client, proto, make_user) -> None:
    engineer, prototype, version = proto
    soldier = make_user(Role.soldier)
    raised = client.post("/api/v1/findings", headers=auth(soldier), json={
        "prototype_id": prototype["id"], "severity": "high", "title": "battery fire on landing"})
    assert raised.status_code == 201
    readiness = client.get(f"/api/v1/versions/{version['id']}/readiness",
                           headers=auth(engineer)).json()
    criteria = {c["name"]: c for c in readiness["gates"][1]["criteria"]}
    assert criteria["max_open_safety_findings"]["actual"] == 1
    assert not criteria["max_open_safety_findings"]["passed"]
    closed = client.patch(f"/api/v1/findings/{raised.json()['id']}",
                          headers=auth(make_user(Role.reviewer)),
                          json={"status": "closed", "resolution": "cell supplier changed"})
    assert closed.json()["closed_at"] is not None
    assert [f["title"] for f in client.get("/api/v1/findings", headers=auth(engineer)).json()
            ] == ["battery fire on landing"]


@pytest.mark.parametrize("body, status", [
    ({"to_status": "ready", "rationale": "straight to ready please"}, 409),
    ({"to_status": "admitted", "rationale": "short"}, 422),
    ({"to_status": "admitted", "rationale": "fine by the board", "expires_at":
      "2001-01-01T00:00:00Z"}, 422),
    ({"to_status": "admitted", "rationale": "fine by the board",
      "conditions": {"geofence": [[91, 0], [0, 0], [1, 1]]}}, 422),
    ({"to_status": "launched", "rationale": "fine by the board"}, 422)])
def test_bad_decisions_are_refused_and_change_nothing(client, proto, make_user, body,
                                                      status) -> None:
    engineer, prototype, _ = proto
    response = client.post(f"/api/v1/prototypes/{prototype['id']}/decisions",
                           headers=auth(make_user(Role.reviewer)), json=body)
    assert response.status_code == status
    assert client.get(f"/api/v1/prototypes/{prototype['id']}",
                      headers=auth(engineer)).json()["sandbox_status"] == "submitted"


@pytest.mark.parametrize("role, status", [(Role.engineer, 404), (Role.soldier, 403),
                                          (Role.admin, 403)])
def test_only_reviewers_decide(client, proto, make_user, role, status) -> None:
    owner, prototype, _ = proto
    assert decide(client, make_user(role), prototype, "admitted").status_code == status
    assert decide(client, owner, prototype, "admitted").status_code == 403


def test_loop_metrics_time_each_decision(client, proto, make_user) -> None:
    _, prototype, _ = proto
    reviewer = make_user(Role.reviewer)
    decide(client, reviewer, prototype, "admitted")
    metrics = client.get("/api/v1/loop-metrics", headers=auth(reviewer)).json()
    [entry] = metrics["prototypes"]
    assert entry["decisions"][0]["to_status"] == "admitted"
    assert 0 <= entry["decisions"][0]["seconds_since_submission"] < 60
    assert metrics["median_seconds_to_first_decision"] is not None
