"""A version's sensor and jammer figures by scenario: pooled by hand, and through the API."""

import math

import numpy as np
import pytest

from sandbox.detection import DetectionScore, RangeBin
from sandbox.ew_effect import EwEffect, Side
from sandbox.models import Role
from sandbox.scoring import wilson_interval
from sandbox.sensor_scores import TrialFigures, error_bins, sensor_scores
from tests.conftest import PASSWORD, auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub.sensor_trial import SITE, T0, document, iso, position, record, target
from tests.hub.test_jammers import away, jammed, on, radio_reports
from tests.telemetry.flights import Flight


def _score(epochs: int, detected: int, *, first_m: float | None, errors: list[float],
           false_alarms: int, seconds: int) -> DetectionScore:
    bins = [RangeBin(0.0, 500.0, epochs // 2, detected // 2, None, None, None),
            RangeBin(500.0, 1000.0, epochs - epochs // 2, detected - detected // 2, None, None,
                     None)]
    return DetectionScore(
        epochs=epochs, detected=detected, pd=None, pd_low=None, pd_high=None, detections=0,
        associated=len(errors), unlocated=0, ground_station=0, first_detection_range_m=first_m,
        time_to_first_detection_s=None if first_m is None else first_m / 100,
        position_error_p50_m=None, position_error_p90_m=None, false_alarms=false_alarms,
        false_alarms_per_hour=None, evaluated_s=seconds, classification_accuracy=None,
        pd_by_range=bins, position_errors_m=errors)


def _side(expected: int, lost: int, reports: int, degraded: float | None) -> Side:
    return Side(duration_s=60.0, frames_expected=expected, frames_lost=lost,
                link_loss_rate=None, radio_rx_errors_per_min=None, gps_reports=reports,
                gps_degraded_share=degraded, satellites_mean=None, eph_median_m=None)


def test_figures_pool_epochs_errors_and_activations_by_scenario_and_trial_kind() -> None:
    one = _score(100, 80, first_m=2000.0, errors=[1.0, 2.0, 3.0, 12.0], false_alarms=2,
                 seconds=1800)
    two = _score(60, 30, first_m=1000.0, errors=[4.0], false_alarms=1, seconds=1800)
    three = _score(10, 0, first_m=None, errors=[], false_alarms=0, seconds=10)
    effect = EwEffect(activations=2, effective_activations=1, median_time_to_effect_s=3.0,
                      effect_range_m=900.0, on=_side(90, 10, 40, 0.5), off=_side(200, 0, 100, 0.0),
                      times_to_effect_s=[3.0, None])
    other = EwEffect(activations=1, effective_activations=1, median_time_to_effect_s=7.0,
                     effect_range_m=1500.0, on=_side(10, 0, 10, 1.0), off=_side(0, 0, 0, None),
                     times_to_effect_s=[7.0])
    scores = sensor_scores(7, [
        TrialFigures("field", "shahed_raid", [one, three], effect),
        TrialFigures("field", "shahed_raid", [two], other, unscored_sensors=1),
        TrialFigures("simulation", "shahed_raid", [three]),
        TrialFigures("field", "quiet", [])])  # nothing to show: absent
    assert sorted(scores.by_scenario) == ["shahed_raid"]
    field = scores.by_scenario["shahed_raid"]["field"]
    assert (field.trials, field.unscored_sensor_sessions) == (2, 1)
    d = field.detection
    assert (d.sensor_sessions, d.epochs, d.detected) == (3, 170, 110)
    assert (d.pd_low, d.pd_high) == pytest.approx(wilson_interval(110, 170))
    assert [(b.epochs, b.detected) for b in d.pd_by_range] == [(85, 55), (85, 55)]
    assert d.pd_by_range[0].pd == pytest.approx(55 / 85)
    assert d.first_detection_range_m_median == 1500.0  # of 2,000 and 1,000; none ignored
    assert d.time_to_first_detection_s_median == 15.0
    assert d.position_error_p50_m == 3.0
    assert d.position_error_p90_m == pytest.approx(np.percentile([1, 2, 3, 4, 12], 90))
    assert [(b.error_m_from, b.error_m_to, b.detections) for b in d.position_error_bins] == [
        (0.0, 5.0, 4), (5.0, 10.0, 0), (10.0, 15.0, 1)]
    assert d.false_alarms == 3
    assert d.false_alarms_per_hour == pytest.approx(3 / (3610 / 3600))
    e = field.ew_effect
    assert (e.trials, e.activations, e.effective_activations) == (2, 3, 2)
    assert e.link_loss_rate_on == pytest.approx(10 / 100)
    assert e.link_loss_rate_off == 0.0
    assert e.gps_degraded_share_on == pytest.approx(30 / 50)
    assert e.gps_degraded_share_off == 0.0
    assert (e.median_time_to_effect_s, e.max_effect_range_m) == (5.0, 1500.0)
    simulated = scores.by_scenario["shahed_raid"]["simulation"]
    assert simulated.detection.pd == 0.0 and simulated.ew_effect is None
    assert simulated.detection.position_error_p50_m is None


def test_error_bins_start_at_zero_and_cover_the_largest_error() -> None:
    assert error_bins(np.array([])) == []
    assert [(b.error_m_to, b.detections) for b in error_bins(np.array([0.0, 5.0]))] == [
        (5.0, 1), (10.0, 1)]


def _upload(client, user, trial_id: int, tlog: bytes) -> None:
    response = client.post(f"/api/v1/trials/{trial_id}/telemetry", content=tlog,
                           headers={**auth(user), "content-type": "application/octet-stream"})
    assert response.status_code == 201, response.text


@pytest.fixture
def version(client, make_user):
    return sensor_version(client, make_user)


def sensor_version(client, make_user) -> dict:
    """A sensor seen 12 m off the target every second for 50 s in a soldier's field trial,
    the same sensor in a reviewer's field trial (no unit) on a scenario of no library, and a
    jammer in a soldier's field trial."""
    engineer, soldier, reviewer = (make_user(Role.engineer), make_user(Role.soldier),
                                   make_user(Role.reviewer))
    prototype = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    made = new_version(client, engineer, prototype["id"], unit_cost_eur=90000)
    seen = {"records": [record(k, k + 0.5, location=position(k + 0.5, north_m=12))
                        for k in range(50)]}
    clutter = {"records": [record(100, 30.2, location=position(30.2, north_m=400))]}
    trials = []
    for who, scenario in ((soldier, "shahed_raid"), (reviewer, "Bravo coy, bridge")):
        trial = new_trial(client, who, made["id"], lat=SITE[0], lon=SITE[1], started_at=iso(0),
                          ended_at=iso(200), scenario=scenario)
        _upload(client, who, trial["id"], Flight(target, T0, sysid=42).tlog(100))
        response = client.post(f"/api/v1/trials/{trial['id']}/courageous",
                               json=document(detection=[seen, clutter]), headers=auth(who))
        assert response.status_code == 201, response.text
        trials.append(trial)
    jammer = new_trial(client, soldier, made["id"], lat=SITE[0], lon=SITE[1], started_at=iso(0),
                       ended_at=iso(400))
    flight = Flight(away, T0, sysid=7, gps_fix=lambda t: 1 if jammed(t) else 3,
                    satellites=lambda t: 4 if jammed(t) else 14,
                    link_up=lambda t: not 110 <= t < 120, extra=radio_reports())
    _upload(client, soldier, jammer["id"], flight.tlog(300))
    response = client.post(f"/api/v1/trials/{jammer['id']}/ew-activations",
                           json=[on(100, 160), on(200, 230)], headers=auth(soldier))
    assert response.status_code == 201, response.text
    return {"id": made["id"], "engineer": engineer, "soldier": soldier, "reviewer": reviewer}


def _get(client, version, user):
    return client.get(f"/api/v1/versions/{version['id']}/sensor-score", headers=auth(user))


def test_version_sensor_score_by_scenario_and_trial_kind(client, version) -> None:
    response = _get(client, version, version["reviewer"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["by_scenario"]) == ["Bravo coy, bridge", "shahed_raid"]
    field = body["by_scenario"]["shahed_raid"]["field"]
    assert field["trials"] == 2
    d = field["detection"]
    # as the trial's own score: 101 epochs, 50 detected, the clutter at 30.2 s a false alarm
    assert (d["epochs"], d["detected"], d["false_alarms"]) == (101, 50, 1)
    assert (d["pd"], d["pd_low"], d["pd_high"]) == pytest.approx(
        (50 / 101, *wilson_interval(50, 101)))
    assert d["false_alarms_per_hour"] == pytest.approx(3600 / 101)
    assert d["position_error_p50_m"] == pytest.approx(12.0, abs=0.01)
    assert [(b["error_m_from"], b["detections"]) for b in d["position_error_bins"]] == [
        (0.0, 0), (5.0, 0), (10.0, 50)]
    assert d["first_detection_range_m_median"] == pytest.approx(math.hypot(2990, 100), abs=1)
    assert d["time_to_first_detection_s_median"] == pytest.approx(0.5, abs=0.01)
    # seen over t = 0 … 49: 3,001.7 m (t = 0), 2,500-3,000 m (t = 1 … 25), and of
    # 2,000-2,500 m (t = 26 … 50) all but t = 50
    assert [(b["epochs"], b["detected"]) for b in d["pd_by_range"][2:7]] == [
        (25, 0), (25, 0), (25, 24), (25, 25), (1, 1)]
    assert d["pd_by_range"][4]["pd_low"] == pytest.approx(wilson_interval(24, 25)[0])
    e = field["ew_effect"]  # as the jammer trial's own effect
    assert (e["trials"], e["activations"], e["effective_activations"]) == (1, 2, 1)
    assert e["link_loss_rate_on"] == pytest.approx(1 / 9)
    assert (e["link_loss_rate_off"], e["gps_degraded_share_off"]) == (0.0, 0.0)
    assert e["gps_degraded_share_on"] == pytest.approx(47 / 80)
    assert e["median_time_to_effect_s"] == pytest.approx(3.0)
    assert e["max_effect_range_m"] == pytest.approx(2090, abs=1)
    assert body["by_scenario"]["Bravo coy, bridge"]["field"]["ew_effect"] is None


def test_engineers_see_released_trials_only_under_library_names_and_coarsened(
        client, version, make_user, make_org) -> None:
    body = _get(client, version, version["engineer"]).json()
    # the soldiers' trials wait for a feedback batch; the reviewer's trial has no soldier
    assert list(body["by_scenario"]) == ["other"]
    d = body["by_scenario"]["other"]["field"]["detection"]
    assert d["detected"] == 50
    assert d["first_detection_range_m_median"] == 2990.0  # to 10 m
    assert d["position_error_p50_m"] == 12.0  # to the metre
    assert _get(client, version, make_user(Role.engineer, make_org())).status_code == 404
    assert _get(client, version, version["soldier"]).status_code == 200


def test_a_sensor_versions_score_carries_its_sensor_blocks(client, version, make_user) -> None:
    for user in (version["reviewer"], version["engineer"]):
        score = client.get(f"/api/v1/versions/{version['id']}/score", headers=auth(user))
        assert score.status_code == 200, score.text
        assert score.json()["sensors"] == _get(client, version, user).json()
    assert score.json()["sensors"]["by_scenario"]["other"]["field"]["detection"][
        "detected"] == 50  # the engineer's view: released trials, library names
    engineer = make_user(Role.engineer)  # an interceptor carries no sensor block
    interceptor = new_version(client, engineer, new_prototype(client, engineer)["id"])
    score = client.get(f"/api/v1/versions/{interceptor['id']}/score", headers=auth(engineer))
    assert score.status_code == 200 and score.json()["sensors"] is None


def test_the_prototype_page_links_each_versions_sensor_figures(client, version) -> None:
    reviewer = version["reviewer"]
    made = client.get(f"/api/v1/versions/{version['id']}", headers=auth(reviewer)).json()
    for user in (reviewer, version["engineer"]):
        response = client.post("/login", data={"username": user.name, "password": PASSWORD},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        html = client.get(f"/prototypes/{made['prototype_id']}").text
        assert f'href="/versions/{version["id"]}/sensors"' in html
        assert f'href="/versions/{version["id"]}/coverage"' in html
