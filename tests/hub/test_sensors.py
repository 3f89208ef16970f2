"""Sensor trials through the API: sessions, COURAGEOUS documents, the detection score."""

import math

import numpy as np
import pytest

from sandbox.models import Role
from sandbox.scoring import wilson_interval
from telemetry.geoid import load_geoid
from tests.conftest import auth
from tests.hub.sensor_trial import (
    NODE,
    SITE,
    document,
    position,
    record,
    seen,
    sensor_trial,
    target,
)


@pytest.fixture
def trial(client, make_user):
    return sensor_trial(client, make_user)


def _score(client, trial, user, **params):
    return client.get(f"/api/v1/trials/{trial['id']}/detection", params=params,
                      headers=auth(user))


def test_courageous_document_is_stored_and_scored_against_the_targets_telemetry(
        client, trial) -> None:
    # tracked every second for the first 50 s, 10 m north of the truth, lost at 25 s and
    # found again (two tracks of one uas_id); classified UAV at odd seconds, Other at even
    tracked = [record(k, k + 0.5, classification="UAV" if k % 2 else "Other")
               for k in range(50)]
    tracks = [{"uas_id": 3, "name": "T-108", "records": tracked[:25]},
              {"uas_id": 3, "name": "T-108", "records": tracked[25:]}]
    # clutter no target explains: at 30.2 s (an epoch second), at 120.5 s (after landing)
    clutter = {"records": [record(100, 120.5, location=position(120.5, north_m=0)),
                           record(101, 30.2, location=position(30.2, north_m=400))]}
    response = client.post(f"/api/v1/trials/{trial['id']}/courageous",
                           json=document(detection=[clutter], tracks=tracks),
                           headers=auth(trial["soldier"]))
    assert response.status_code == 201, response.text
    assert response.json()["detections"] == 52
    body = _score(client, trial, trial["soldier"]).json()
    # 101 truth epochs (t = 0 … 100), 50 detected; the clutter at 30.2 s falls in an epoch,
    # the one at 120.5 s after the target landed does not
    assert (body["epochs"], body["detected"], body["false_alarms"]) == (101, 50, 1)
    assert body["pd"] == pytest.approx(50 / 101)
    assert body["false_alarms_per_hour"] == pytest.approx(3600 / 101)
    # heights above mean sea level on both sides: only the 10 m north offset is left
    assert body["position_error_p50_m"] == pytest.approx(10.0, abs=0.01)
    assert body["position_error_p90_m"] == pytest.approx(10.0, abs=0.01)
    assert body["first_detection_range_m"] == pytest.approx(math.hypot(2990, 100), abs=1.0)
    assert body["time_to_first_detection_s"] == pytest.approx(0.5, abs=0.01)
    assert body["classification_accuracy"] == pytest.approx(0.5)
    assert (body["unlocated"], body["ground_station"]) == (0, 0)
    # 3-D ranges: the first epoch (3,000 m east, 100 m up) lies just past 3,000 m
    assert [b["epochs"] for b in body["pd_by_range"][2:7]] == [25, 25, 25, 25, 1]
    sensors = client.get(f"/api/v1/trials/{trial['id']}/sensor-sessions",
                         headers=auth(trial["soldier"])).json()
    assert [(s["source"], s["name"], s["node_id"]) for s in sensors] == [
        ("courageous", "Argus radar (Argus Systems)", None)]


def test_ellipsoidal_heights_given_as_height_amsl_show_as_the_geoid_gap(client, trial) -> None:
    # height_amsl is above the EGM96 geoid; a system that writes its GNSS (ellipsoidal)
    # height there is off by the geoid's undulation
    gap = float(load_geoid().undulation_m(np.array([SITE[0]]), np.array([SITE[1]]))[0])
    wrong = [record(k, k + 0.5, location={**position(k + 0.5),
                                          "height_amsl": target(k + 0.5)[2] + gap})
             for k in range(10)]
    client.post(f"/api/v1/trials/{trial['id']}/courageous",
                json=document(detection=[{"records": wrong}]), headers=auth(trial["soldier"]))
    body = _score(client, trial, trial["soldier"]).json()
    assert 40 < gap < 50  # tens of metres: most of the default 50 m gate
    assert body["detected"] == 10
    assert body["position_error_p50_m"] == pytest.approx(math.hypot(10, gap), abs=0.3)


def test_sensor_session_for_a_sapient_node(client, trial, make_user) -> None:
    reviewer = make_user(Role.reviewer)
    body = {"node_id": NODE, "lat": SITE[0], "lon": SITE[1], "alt_m": SITE[2],
            "evaluated_range_m": 3000, "gate_m": 40}
    response = client.post(f"/api/v1/trials/{trial['id']}/sensor-sessions", json=body,
                           headers=auth(trial["soldier"]))
    assert response.status_code == 201
    made = response.json()
    assert (made["node_id"], made["gate_m"], made["lat"]) == (NODE, 40, None)
    listed = client.get(f"/api/v1/trials/{trial['id']}/sensor-sessions",
                        headers=auth(reviewer)).json()
    assert (listed[0]["id"], listed[0]["lat"]) == (made["id"], SITE[0])
    for wrong in ({**body, "node_id": "not-a-uuid"}, {**body, "lon": None},
                  {**body, "gate_m": 0}):
        refused = client.post(f"/api/v1/trials/{trial['id']}/sensor-sessions", json=wrong,
                              headers=auth(trial["soldier"]))
        assert refused.status_code == 422
    # no detections yet: nothing detected; every epoch within 3,000 m counted, which leaves
    # out the first (3,000 m east and 100 m up: 3,001.7 m away)
    score = _score(client, trial, reviewer).json()
    assert (score["detections"], score["detected"], score["epochs"]) == (0, 0, 100)


def test_who_may_call_the_sensor_routes(client, trial, make_user, make_org) -> None:
    path = f"/api/v1/trials/{trial['id']}"
    client.post(f"{path}/courageous", json=document(detection=[seen([1.5])]),
                headers=auth(trial["soldier"]))
    other_unit = make_user(Role.soldier)
    admin, reviewer = make_user(Role.admin), make_user(Role.reviewer)
    assert _score(client, trial, admin).json()["detected"] == 1
    assert _score(client, trial, reviewer).status_code == 200
    assert _score(client, trial, trial["engineer"]).status_code == 403
    assert _score(client, trial, other_unit).status_code == 404
    body = {"node_id": NODE}
    assert client.post(f"{path}/sensor-sessions", json=body,
                       headers=auth(admin)).status_code == 403
    assert client.post(f"{path}/sensor-sessions", json=body,
                       headers=auth(trial["engineer"])).status_code == 403
    assert client.post(f"{path}/courageous", json=document(detection=[seen([1.5])]),
                       headers=auth(other_unit)).status_code == 404
    assert client.post(f"{path}/sensor-sessions", json=body,
                       headers=auth(reviewer)).status_code == 201
    # two sensors now: the score asks which
    assert _score(client, trial, reviewer).status_code == 422


def test_imported_detections_reach_the_readiness_gates_at_once(client, trial) -> None:
    every_second = seen([k + 0.5 for k in range(100)])
    client.post(f"/api/v1/trials/{trial['id']}/courageous",
                json=document(detection=[every_second]), headers=auth(trial["soldier"]))
    readiness = client.get(f"/api/v1/versions/{trial['version_id']}/readiness",
                           headers=auth(trial["engineer"])).json()
    ready = next(gate for gate in readiness["gates"] if gate["step"] == "ready")
    criteria = {c["name"]: c for c in ready["criteria"]}
    assert criteria["min_field_detection_epochs"]["actual"] == 101
    assert criteria["min_field_detection_epochs"]["reason"] == (
        "field detection epochs: 101 fails ≥ 1800")
    assert criteria["max_field_false_alarms_per_hour"]["actual"] == 0.0
    # within 2 km: the 50 epochs of t = 50 … 100, all seen but the last (the detection at
    # 100.5 s falls after the truth ends): Wilson's lower bound of 49 / 50
    assert criteria["min_field_pd_low_within_2000_m"]["actual"] == pytest.approx(
        wilson_interval(49, 50)[0])
    assert readiness["trl"] == 7
