"""COURAGEOUS documents to the hub's stored detections: each location kind, the record
members the hub keeps, and the versions it reads."""

import math

import pytest
from pydantic import ValidationError

from sandbox.courageous import CourageousDocument, detection_table

STATIC = {"lat": 51.0, "lon": 3.0, "height_amsl": 12.5}
MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z in milliseconds


def _document(locations: list[dict | None], **members: object) -> dict:
    records = [{"time": MS + 250 * n, "record_number": n, "classification": "UAV",
                **({} if where is None else {"location": where})}
               for n, where in enumerate(locations)]
    return {"version": "0.4.1", "vendor_name": "V", "system_name": "S",
            "static_cuas_location": STATIC, "detection": [{"records": records}], "tracks": [],
            **members}


def _table(locations: list[dict | None]):
    return detection_table(CourageousDocument.model_validate(_document(locations)))


def test_each_location_kind_becomes_its_shape() -> None:
    table = _table([
        {"$type": "Position3d", "lat": 51.01, "lon": 3.02, "height_amsl": 80},
        {"$type": "Position2d", "lat": 51.01, "lon": 3.02},
        {"$type": "BearingElevationDistance", "bearing": 45, "elevation": 10, "distance": 900},
        {"$type": "BearingElevation", "bearing": 45, "elevation": 10},
        {"$type": "Bearing", "bearing": 45},
        {"$type": "Arc", "from": 350, "to": 10},
        {"$type": "Quad", "quad": "South"},
        None,
    ])
    assert table["shape"].tolist() == ["point", "vertical", "polar", "ray", "sector", "sector",
                                       "sector", "none"]
    assert table.loc[0, ["lat_deg", "lon_deg", "height_m"]].tolist() == [51.01, 3.02, 80.0]
    assert table["datum"].eq("msl").all()  # height_amsl is above the EGM96 geoid
    assert math.isnan(table.loc[1, "height_m"])
    assert table.loc[2, ["bearing_deg", "elevation_deg", "distance_m"]].tolist() == [45, 10, 900]
    # a bearing is a sector of no width; 350° → 10° clockwise is 20° wide; South: 135°-225°
    assert table.loc[4:6, ["bearing_deg", "sector_deg"]].values.tolist() == [
        [45, 0], [350, 20], [135, 90]]
    # times in microseconds; the system where the document put it
    assert table["time_us"].tolist()[:2] == [MS * 1000, (MS + 250) * 1000]
    assert table.loc[7, ["sensor_lat_deg", "sensor_lon_deg", "sensor_height_m"]].tolist() == [
        51.0, 3.0, 12.5]


@pytest.mark.parametrize(("start", "to", "width"), [(0, 90, 90), (10, 10, 0), (0, 360, 360),
                                                    (-45, 45, 90), (90, 0, 270)])
def test_an_arc_runs_clockwise_from_from_to_to(start: float, to: float, width: float) -> None:
    table = _table([{"$type": "Arc", "from": start, "to": to}])
    assert table.loc[0, ["bearing_deg", "sector_deg"]].tolist() == [start, width]


def test_record_members_the_hub_keeps() -> None:
    body = _document([])
    body["tracks"] = [{"uas_id": 12, "records": [
        {"time": MS, "record_number": 7, "classification": "Unknown",
         "alarm": {"active": False, "certainty": 0.25},
         "location": {"$type": "Bearing", "bearing": 10},
         "cuas_location": {"lat": 51.2, "lon": 3.1, "height_amsl": 40},
         "velocity": {"east": -2.1, "north": 1.7, "up": -0.9}, "identification": "DJI"},
        {"time": MS, "record_number": 8, "classification": "GCS",
         "alarm": {"active": True, "certainty": 1},
         "location": {"$type": "Position3d", "lat": 51.0, "lon": 3.0, "height_amsl": 9}}]}]
    table = detection_table(CourageousDocument.model_validate(body))
    assert table["object_id"].tolist() == ["12", "12"]
    assert table["classification"].tolist() == ["", "gcs"]  # Unknown is no classification
    assert table["confidence"].tolist() == [0.25, 1.0]
    assert table.loc[0, ["sensor_lat_deg", "sensor_height_m"]].tolist() == [51.2, 40.0]
    assert table.loc[1, ["sensor_lat_deg", "sensor_height_m"]].tolist() == [51.0, 12.5]


def test_versions_read_and_refused() -> None:
    assert CourageousDocument.model_validate(_document([], version="0.4.0")).version == "0.4.0"
    for version in ("0.3.3", "1.0", 0.4):
        with pytest.raises(ValidationError) as refused:
            CourageousDocument.model_validate(_document([], version=version))
        assert refused.value.errors()[0]["loc"] == ("version",)


def test_values_that_are_not_what_the_format_says_are_refused() -> None:
    wrong = [
        ({"$type": "Position3d", "lat": 51, "lon": 3, "height_amsl": True}, "height_amsl"),
        ({"$type": "BearingElevation", "bearing": 10, "elevation": 95}, "elevation"),
        ({"$type": "Quad", "quad": "NorthEast"}, "quad"),
        ({"$type": "Arc", "from": 0}, "to"),
        ({"$type": "Bearing", "bearing": 10, "elevation": 3}, "elevation"),  # not a member
    ]
    for location, member in wrong:
        with pytest.raises(ValidationError) as refused:
            CourageousDocument.model_validate(_document([location]))
        assert refused.value.errors()[0]["loc"] == ("detection", 0, "records", 0, "location",
                                                    member)


def test_a_track_needs_its_uas_id_and_a_detection_set_does_not() -> None:
    body = _document([None])
    body["tracks"] = [{"records": []}]
    with pytest.raises(ValidationError) as refused:
        CourageousDocument.model_validate(body)
    assert refused.value.errors()[0]["loc"] == ("tracks", 0, "uas_id")
