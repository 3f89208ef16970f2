"""Jammer trials through the API: activations, and the effect on the target's own telemetry."""

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version
from tests.hub.sensor_trial import M_PER_DEG_LAT, SITE, T0, iso
from tests.telemetry.flights import Flight


def away(t: float) -> tuple[float, float, float]:
    """Flies north from 500 m off the jammer at 10 m/s."""
    return SITE[0] + (500 + 10 * t) / M_PER_DEG_LAT, SITE[1], 150.0


def jammed(t: float) -> bool:
    return 103 <= t < 160


def radio_reports() -> list[tuple[float, mavlink.MAVLink_message]]:
    """RADIO_STATUS each second: 5 receive errors a second from 100 s to 159 s."""
    return [(float(t), mavlink.MAVLink_radio_status_message(
        180, 170, 100, 40, 40, int(5 * (np.clip(t, 100, 159) - 100)), 0)) for t in range(301)]


@pytest.fixture
def trial(client, make_user):
    """A 300 s flight: the link drops everything in [110, 120), GPS loses its 3-D fix (4
    satellites) over [103, 160); the jammer is on over [100, 160) and [200, 230)."""
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Shroud", kind="ew_system")
    version = new_version(client, engineer, prototype["id"], unit_cost_eur=250000)
    trial = new_trial(client, soldier, version["id"], lat=SITE[0], lon=SITE[1],
                      started_at=iso(0), ended_at=iso(400))
    flight = Flight(away, T0, sysid=7, gps_fix=lambda t: 1 if jammed(t) else 3,
                    satellites=lambda t: 4 if jammed(t) else 14,
                    link_up=lambda t: not 110 <= t < 120, extra=radio_reports())
    upload = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=flight.tlog(300),
                         headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert upload.status_code == 201, upload.text
    return {"id": trial["id"], "soldier": soldier, "engineer": engineer,
            "version_id": version["id"]}


def on(start: float, end: float) -> dict:
    return {"start": iso(start), "end": iso(end), "band": "GNSS L1", "power_w": 20}


def test_effect_on_a_telemetry_stream_with_known_on_off_behaviour(client, trial) -> None:
    path = f"/api/v1/trials/{trial['id']}"
    made = client.post(f"{path}/ew-activations", json=[on(100, 160), on(200, 230)],
                       headers=auth(trial["soldier"]))
    assert made.status_code == 201, made.text
    assert [row["band"] for row in made.json()] == ["GNSS L1", "GNSS L1"]
    effect = client.get(f"{path}/ew-effect", headers=auth(trial["soldier"])).json()
    # 5 frames a second from one sender (2 positions, GPS, SYSTEM_TIME, RADIO_STATUS): 90 s on,
    # of which the 50 frames of [110, 120) were lost
    assert (effect["on"]["frames_expected"], effect["on"]["frames_lost"]) == (450, 50)
    assert effect["on"]["link_loss_rate"] == pytest.approx(1 / 9)
    assert effect["off"]["frames_lost"] == 0
    assert effect["on"]["gps_degraded_share"] == pytest.approx(47 / 80)
    assert effect["off"]["gps_degraded_share"] == 0.0
    assert (effect["on"]["eph_median_m"], effect["off"]["satellites_mean"]) == (9.0, 14.0)
    assert effect["on"]["radio_rx_errors_per_min"] == pytest.approx(295 / 1.5)
    assert effect["times_to_effect_s"] == [pytest.approx(3.0), None]
    assert effect["median_time_to_effect_s"] == pytest.approx(3.0)
    assert effect["effect_range_m"] == pytest.approx(2090, abs=1)
    readiness = client.get(f"/api/v1/versions/{trial['version_id']}/readiness",
                           headers=auth(trial["engineer"])).json()
    ready = {c["name"]: c["actual"] for c in next(
        gate for gate in readiness["gates"] if gate["step"] == "ready")["criteria"]}
    assert (ready["min_field_ew_activations"], ready["min_field_effective_share"]) == (2, 0.5)
    assert ready["max_field_time_to_effect_s"] == pytest.approx(3.0)


def test_activations_are_checked_and_only_for_trial_writers(client, trial, make_user) -> None:
    path = f"/api/v1/trials/{trial['id']}/ew-activations"
    for bad in ([on(160, 100)], [on(0, 10), on(90_000, 90_100)], [],
                [{**on(0, 1), "power_w": -1}]):
        response = client.post(path, json=bad, headers=auth(trial["soldier"]))
        assert response.status_code == 422, bad
    assert client.get(path, headers=auth(trial["soldier"])).json() == []
    for user, code in ((make_user(Role.admin), 403), (trial["engineer"], 403),
                       (make_user(Role.soldier), 404), (make_user(Role.reviewer), 201)):
        assert client.post(path, json=[{**on(0, 5), "lat": SITE[0], "lon": SITE[1]}],
                           headers=auth(user)).status_code == code
    listed = client.get(path, headers=auth(trial["soldier"])).json()
    assert len(listed) == 1 and listed[0]["lat"] is None  # the jammer's place: reviewers only
    effect = client.get(f"/api/v1/trials/{trial['id']}/ew-effect",
                        headers=auth(make_user(Role.admin))).json()
    assert effect["activations"] == 1
    assert client.get(f"/api/v1/trials/{trial['id']}/ew-effect",
                      headers=auth(trial["engineer"])).status_code == 403
