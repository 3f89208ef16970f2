"""COURAGEOUS documents through the API: every location kind, the intercepting case (GCS
records, home location), a mobile system's own positions, and refusals that name the JSON
path. The documents are written here from the format's documentation."""

import copy
import math

import numpy as np
import pandas as pd
import pytest

from hub.flows.sensors import local_detections
from sandbox.detection import stored_layout
from sandbox.detection_shapes import gaps, shapes
from telemetry.geodesy import to_enu
from tests.conftest import auth
from tests.hub.sensor_trial import (
    M_PER_DEG_LAT,
    M_PER_DEG_LON,
    SITE,
    T0,
    document,
    record,
    seen,
    sensor_trial,
    target,
)


@pytest.fixture
def trial(client, make_user):
    return sensor_trial(client, make_user)


def _post(client, trial, body: dict):
    return client.post(f"/api/v1/trials/{trial['id']}/courageous", json=body,
                       headers=auth(trial["soldier"]))


def _score(client, trial) -> dict:
    return client.get(f"/api/v1/trials/{trial['id']}/detection",
                      headers=auth(trial["soldier"])).json()


def _seen_from(t: float, where: tuple[float, float, float]) -> dict[str, float]:
    """Bearing, elevation and straight-line distance of the target at `t` from `where`."""
    east, north, up = (float(v) for v in to_enu(*target(t), origin=where))
    return {"bearing": math.degrees(math.atan2(east, north)),
            "elevation": math.degrees(math.atan2(up, math.hypot(east, north))),
            "distance": math.sqrt(east**2 + north**2 + up**2)}


def _located(k: int) -> dict:
    """The target at k + 0.5 s, in the kind that the ten seconds of k use."""
    t = k + 0.5
    lat, lon, _ = target(t)
    look = _seen_from(t, SITE)
    kinds = [{"$type": "Position2d", "lat": lat, "lon": lon},
             {"$type": "BearingElevation", "bearing": look["bearing"],
              "elevation": look["elevation"]},
             {"$type": "Bearing", "bearing": look["bearing"]},
             {"$type": "Arc", "from": 80, "to": 100},
             {"$type": "Quad", "quad": "East"},
             {"$type": "BearingElevationDistance", **look}]
    return kinds[k // 10]


def test_every_location_kind_detects_and_only_points_give_position_errors(
        client, trial) -> None:
    # k = 0 … 59: ten seconds in each kind, all consistent with the target; 60 … 64 without
    # location; a quadrant the target is not in at 70.5 s
    records = [record(k, k + 0.5, location=_located(k)) for k in range(60)]
    blind = [{key: value for key, value in record(k, k + 0.5).items() if key != "location"}
             for k in range(60, 65)]
    wrong = record(70, 70.5, location={"$type": "Quad", "quad": "West"})
    response = _post(client, trial, document(detection=[{"records": records + blind + [wrong]}]))
    assert response.status_code == 201, response.text
    assert response.json()["detections"] == 66
    body = _score(client, trial)
    assert (body["epochs"], body["detected"], body["associated"]) == (101, 60, 60)
    assert (body["false_alarms"], body["unlocated"], body["ground_station"]) == (1, 5, 0)
    # position errors from the ten polar positions only, each on the target
    assert len(body["position_errors_m"]) == 10
    assert body["position_error_p90_m"] == pytest.approx(0.0, abs=0.05)
    assert body["first_detection_range_m"] == pytest.approx(math.hypot(2990, 100), abs=1.0)


def test_intercepting_system_logs_the_ground_station_and_home_location(client, trial) -> None:
    # as the format asks of systems that listen to the UAV's link: the UAV's positions and its
    # GCS's under one uas_id (in the UAV's track and in a detection set of its own), and the
    # UAV's home location on its track
    gcs = {"$type": "Position3d", "lat": SITE[0] + 200 / M_PER_DEG_LAT, "lon": SITE[1],
           "height_amsl": 101.5}
    home = {key: value for key, value in gcs.items() if key != "$type"}
    uav = [record(k, k + 0.5, identification="quadcopter, 2.4 GHz link") for k in range(20)]
    operator = [record(20 + k, k + 0.7, location=gcs, classification="GCS",
                       identification="ground station") for k in range(3)]
    body = document(tracks=[{"uas_id": 5, "name": "UAV-5", "uav_home_location": home,
                             "records": uav + operator}],
                    detection=[{"uas_id": 5, "records": [
                        record(30, 40.7, location=gcs, classification="GCS")]}])
    assert _post(client, trial, body).status_code == 201
    score = _score(client, trial)
    # the GCS records locate the operator, whom no telemetry follows: not false alarms
    assert (score["detected"], score["false_alarms"], score["ground_station"]) == (20, 0, 4)
    assert score["classification_accuracy"] == 1.0


def test_a_mobile_system_bears_from_where_it_stood(client, trial) -> None:
    # rays from 1 km north of the static location, each record saying so in cuas_location
    north = (SITE[0] + 1000 / M_PER_DEG_LAT, SITE[1], SITE[2])
    moved = {"lat": north[0], "lon": north[1], "height_amsl": north[2]}

    def ray(k: int) -> dict:
        look = _seen_from(k + 0.5, north)
        return {"$type": "BearingElevation", "bearing": look["bearing"],
                "elevation": look["elevation"]}

    rays = [record(k, k + 0.5, location=ray(k), cuas_location=moved) for k in range(10)]
    assert _post(client, trial, document(tracks=[{"uas_id": 1, "records": rays}])
                 ).status_code == 201
    score = _score(client, trial)
    # ranges from the system where it stood: sqrt((3,000 - 20 t)² + 1,000² + 100²) stays
    # within 5,000 m, so all 101 seconds are epochs; the first detection 1 km further off
    assert (score["epochs"], score["detected"], score["false_alarms"]) == (101, 10, 0)
    assert score["first_detection_range_m"] == pytest.approx(
        math.sqrt(2990**2 + 1000**2 + 100**2), abs=2.0)


def test_the_same_rays_from_the_static_location_miss(client, make_user) -> None:
    trial = sensor_trial(client, make_user)
    north = (SITE[0] + 1000 / M_PER_DEG_LAT, SITE[1], SITE[2])
    rays = [record(k, k + 0.5, location={"$type": "BearingElevation",
                                         **{key: value for key, value in _seen_from(
                                             k + 0.5, north).items() if key != "distance"}})
            for k in range(10)]
    _post(client, trial, document(tracks=[{"uas_id": 1, "records": rays}]))
    score = _score(client, trial)
    assert (score["detected"], score["false_alarms"]) == (0, 10)


def _refused(client, trial, body: dict) -> list:
    response = _post(client, trial, body)
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def test_errors_name_the_json_path_and_store_nothing(client, trial) -> None:
    good = document(tracks=[{"uas_id": 1, "records": [record(0, 1.5), record(1, 2.5)]}])
    cases = [
        (("tracks", 0, "records", 1, "location", "lat"), 91),
        (("tracks", 0, "records", 1, "location", "$type"), "Polar"),
        (("tracks", 0, "records", 1, "time"), "2026-01-01T00:00:02.500Z"),  # before 0.2.0
        (("tracks", 0, "records", 1, "record_number"), 0),  # used by the first record
        (("tracks", 0, "records", 1, "cuas_loaction"), {"lat": 1, "lon": 1, "height_amsl": 1}),
        (("tracks", 0, "records", 1, "alarm", "certainty"), 1.5),
        (("version",), "0.3.3"),
    ]
    for path, value in cases:
        body = _with(good, path, value)
        assert [d["loc"] for d in _refused(client, trial, body)] == [["body", *path]], path
    no_alarm = _with(good, ("tracks", 0, "records", 1), {
        key: value for key, value in record(1, 2.5).items() if key != "alarm"})
    assert _refused(client, trial, no_alarm)[0]["loc"] == ["body", "tracks", 0, "records", 1,
                                                         "alarm"]
    missing = {key: value for key, value in good.items() if key != "static_cuas_location"}
    assert _refused(client, trial, missing)[0]["loc"] == ["body", "static_cuas_location"]
    late = document(detection=[seen([1.5, 86_400.0])])
    assert _refused(client, trial, late)[0]["msg"].startswith("detection.0.records.1.time: ")
    assert client.get(f"/api/v1/trials/{trial['id']}/sensor-sessions",
                      headers=auth(trial["soldier"])).json() == []


def _with(body: dict, path: tuple, value: object) -> dict:
    """A deep copy of `body` with `value` at `path`."""
    changed = copy.deepcopy(body)
    *parents, last = path
    holder = changed
    for key in parents:
        holder = holder[key]
    holder[last] = value
    return changed


def test_a_document_without_records_is_a_sensor_that_saw_nothing(client, trial) -> None:
    response = _post(client, trial, document())
    assert response.json()["detections"] == 0
    body = _score(client, trial)
    assert (body["epochs"], body["detected"], body["pd"]) == (101, 0, 0.0)
    # Wilson's upper bound for 0 of 101: z² / (101 + z²)
    assert body["pd_high"] == pytest.approx(1.959964**2 / (101 + 1.959964**2), abs=1e-5)


def test_bearings_from_afar_are_turned_onto_the_sessions_axes() -> None:
    # a system 20 km east of the session's position, looking back at it: its north is 0.21°
    # off the session's (the meridians converge: 75 m across at 20 km) and its horizon tilted
    # by 20 km / 6,371 km (63 m): 97 m off unless turned
    far = (SITE[0], SITE[1] + 20_000 / M_PER_DEG_LON, SITE[2])
    east, north, up = (float(v) for v in to_enu(*SITE, origin=far))
    look = {"bearing_deg": math.degrees(math.atan2(east, north)),
            "elevation_deg": math.degrees(math.atan2(up, math.hypot(east, north)))}
    table = stored_layout(pd.DataFrame([{
        "time_us": int(T0 * 1e6), "lat_deg": np.nan, "lon_deg": np.nan, "height_m": np.nan,
        "datum": "msl", "object_id": "", "classification": "", "confidence": np.nan,
        "shape": "ray", **look, "sensor_lat_deg": far[0], "sensor_lon_deg": far[1],
        "sensor_height_m": far[2]}]))
    local = local_detections(table, SITE, None)
    assert gaps(np.zeros((1, 3)), shapes(local))[0] == pytest.approx(0.0, abs=0.05)
    unturned = local.assign(**look)
    assert gaps(np.zeros((1, 3)), shapes(unturned))[0] == pytest.approx(math.hypot(75, 63), abs=2)
