"""COURAGEOUS documents: a C-UAS system's records of a trial, in the COURAGEOUS format (the EU
COURAGEOUS project's JSON format for counter-drone test records), versions 0.4.0 and 0.4.1.

What the format says, and what the hub takes from it:

- The document names its `version` (the schema version it follows: only 0.4.x, whose
  locations carry their kind in `$type`; older versions nest them under `t`/`c` and are
  refused), `vendor_name`, `system_name`, and `static_cuas_location`, where the system stood
  (required even for a mobile system, then its first position). It carries no SAPIENT node
  id: the document is its own sensor session, placed there.
- Records come in record sets: `detection` (sporadic detections, a set per potential target,
  `uas_id` omitted when not identified) and `tracks` (targets locked on, `uas_id` required; a
  target lost and found again gives several tracks with one `uas_id`). A set may carry its
  UAV's `uav_home_location` (validated, not used by the score).
- Each record has `time` (UTC, milliseconds since the Unix epoch), `record_number` (unique in
  the document), `classification` (Unknown, UAV, GCS or Other), optionally `identification`
  (free text), `alarm` {active, certainty 0-1; required on tracks}, `velocity` (east/north/up
  m/s), `cuas_location` (where the system stood at that instant, overriding the static one)
  and `location` (required on tracks), one of the kinds below.
- Positions are WGS84 latitude/longitude in degrees with `height_amsl` in metres above mean
  sea level (the EGM96 geoid), the datum of the targets' own telemetry.

How each location kind is scored (see `sandbox.detection_shapes`): Position3d is a point;
BearingElevationDistance (straight-line distance from the system) is turned into one;
Position2d is the vertical line through it; BearingElevation is a ray from the system;
Bearing, Arc (clockwise from `from` to `to`) and Quad (the 90° centred on its cardinal
direction: North is 315° to 45°) are sectors of bearings. Only points give position errors. A
record without location is counted, not scored, and so is a GCS record (it locates the
operator). Unknown classification is stored as none, the others in lower case.

Members the format does not define are refused rather than ignored: a misspelt optional
member (`cuas_loaction`) would otherwise silently change the score. Errors name the JSON path.
"""

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from sandbox.detection import DETECTION_GEOMETRY, DETECTION_RECORD, stored_layout

Version = Literal["0.4.0", "0.4.1"]
MAX_RECORDS = 100_000
MAX_SETS = 10_000
QUADRANT_START_DEG = {"North": 315.0, "East": 45.0, "South": 135.0, "West": 225.0}
CLASSIFICATION = {"Unknown": "", "UAV": "uav", "GCS": "gcs", "Other": "other"}


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # JSON true is not the number 1
        raise PydanticCustomError("float_type", "Input should be a number, not true or false")
    return value


Number = Annotated[float, BeforeValidator(_no_bool)]
Degrees = Annotated[Number, Field(ge=-360, le=360, description="degrees clockwise from true "
                                                                "north")]
Count = Annotated[int, Field(strict=True, ge=0, le=2**64 - 1)]
Text = Annotated[str, Field(max_length=200)]


class _Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Position3d(_Member):
    """A WGS84 position with its height above mean sea level (EGM96)."""

    lat: Number = Field(ge=-90, le=90, description="degrees, WGS84")
    lon: Number = Field(ge=-180, le=180, description="degrees, WGS84")
    height_amsl: Number = Field(ge=-500, le=20_000, description="metres above the EGM96 geoid")


# --- locations: one kind per `$type` -------------------------------------------------------

class Position3dLocation(Position3d):
    kind: Literal["Position3d"] = Field(alias="$type")

    def stored(self) -> dict[str, Any]:
        return {"shape": "point", "lat_deg": self.lat, "lon_deg": self.lon,
                "height_m": self.height_amsl}


class Position2dLocation(_Member):
    kind: Literal["Position2d"] = Field(alias="$type")
    lat: Number = Field(ge=-90, le=90, description="degrees, WGS84")
    lon: Number = Field(ge=-180, le=180, description="degrees, WGS84")

    def stored(self) -> dict[str, Any]:
        return {"shape": "vertical", "lat_deg": self.lat, "lon_deg": self.lon}


class BearingLocation(_Member):
    kind: Literal["Bearing"] = Field(alias="$type")
    bearing: Degrees

    def stored(self) -> dict[str, Any]:
        return {"shape": "sector", "bearing_deg": self.bearing, "sector_deg": 0.0}


class _Ray(_Member):
    bearing: Degrees
    elevation: Number = Field(ge=-90, le=90, description="degrees above the horizon")

    def stored(self) -> dict[str, Any]:
        return {"shape": "ray", "bearing_deg": self.bearing, "elevation_deg": self.elevation}


class BearingElevationLocation(_Ray):
    kind: Literal["BearingElevation"] = Field(alias="$type")


class BearingElevationDistanceLocation(_Ray):
    kind: Literal["BearingElevationDistance"] = Field(alias="$type")
    distance: Number = Field(ge=0, le=1_000_000,
                             description="straight-line metres from the C-UAS system")

    def stored(self) -> dict[str, Any]:
        return {**super().stored(), "shape": "polar", "distance_m": self.distance}


class ArcLocation(_Member):
    """The bearings clockwise from `from` to `to`."""

    kind: Literal["Arc"] = Field(alias="$type")
    start: Degrees = Field(alias="from")
    to: Degrees

    def stored(self) -> dict[str, Any]:
        turn = self.to - self.start
        width = 360.0 if turn and turn % 360 == 0 else turn % 360
        return {"shape": "sector", "bearing_deg": self.start, "sector_deg": width}


class QuadLocation(_Member):
    kind: Literal["Quad"] = Field(alias="$type")
    quad: Literal["North", "East", "South", "West"]

    def stored(self) -> dict[str, Any]:
        return {"shape": "sector", "bearing_deg": QUADRANT_START_DEG[self.quad],
                "sector_deg": 90.0}


_KINDS: dict[str, type[_Member]] = {
    "Position3d": Position3dLocation, "Position2d": Position2dLocation,
    "Bearing": BearingLocation, "BearingElevation": BearingElevationLocation,
    "BearingElevationDistance": BearingElevationDistanceLocation, "Arc": ArcLocation,
    "Quad": QuadLocation}


def _by_kind(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate against the kind `$type` names, so errors name the JSON path alone (a tagged
    union would put the kind's name into it)."""
    if not isinstance(value, dict):
        return handler(value)
    tag = value.get("$type")
    kind = _KINDS.get(tag) if isinstance(tag, str) else None
    if kind is None:
        raise _error(("$type",), "location_type", f"$type must be one of {', '.join(_KINDS)}",
                     tag)
    return kind.model_validate(value)


Location = Annotated[
    Position3dLocation | Position2dLocation | BearingLocation | BearingElevationLocation
    | BearingElevationDistanceLocation | ArcLocation | QuadLocation,
    Field(discriminator="kind"), WrapValidator(_by_kind)]


# --- records and record sets ---------------------------------------------------------------

class Alarm(_Member):
    active: StrictBool
    certainty: Number = Field(ge=0, le=1)


class Velocity(_Member):
    east: Number = Field(ge=-1000, le=1000, description="m/s")
    north: Number = Field(ge=-1000, le=1000, description="m/s")
    up: Number = Field(ge=-1000, le=1000, description="m/s")


class _Record(_Member):
    time: Count = Field(le=253_402_300_799_999, description="UTC, ms since the Unix epoch")
    record_number: Count
    classification: Literal["Unknown", "UAV", "GCS", "Other"]
    identification: Text | None = None
    velocity: Velocity | None = None
    cuas_location: Position3d | None = None


class DetectionRecord(_Record):
    alarm: Alarm | None = None
    location: Location | None = None


class TrackingRecord(_Record):
    alarm: Alarm
    location: Location


class DetectionSet(_Member):
    uas_id: Count | None = None
    name: Text | None = None
    uav_home_location: Position3d | None = None
    records: list[DetectionRecord] = Field(max_length=MAX_RECORDS)


class Track(_Member):
    uas_id: Count
    name: Text | None = None
    uav_home_location: Position3d | None = None
    records: list[TrackingRecord] = Field(max_length=MAX_RECORDS)


class CourageousDocument(_Member):
    version: Version
    vendor_name: str = Field(max_length=120)
    system_name: str = Field(max_length=120)
    static_cuas_location: Position3d
    detection: list[DetectionSet] = Field(max_length=MAX_SETS)
    tracks: list[Track] = Field(max_length=MAX_SETS)

    @model_validator(mode="after")
    def _records_counted_and_numbered_once(self) -> Self:
        first_seen: dict[int, str] = {}
        for count, (path, _, record) in enumerate(records(self), start=1):
            if count > MAX_RECORDS:
                raise _error(path, "too_many_records",
                             f"at most {MAX_RECORDS} records in one document", None)
            if record.record_number in first_seen:
                raise _error(path + ("record_number",), "record_number_repeated",
                             f"record_number {record.record_number} is already used at "
                             f"{first_seen[record.record_number]}", record.record_number)
            first_seen[record.record_number] = ".".join(map(str, path))
        return self


def _error(path: tuple[str | int, ...], kind: str, message: str, value: Any) -> ValidationError:
    return ValidationError.from_exception_data("CourageousDocument", [InitErrorDetails(
        type=PydanticCustomError(kind, message), loc=path, input=value)])


RecordSet = DetectionSet | Track


def records(document: CourageousDocument) -> Iterator[
        tuple[tuple[str | int, ...], RecordSet, DetectionRecord | TrackingRecord]]:
    """Every record with its JSON path and record set: detection sets first, then tracks."""
    sets: list[tuple[str, list[DetectionSet] | list[Track]]] = [
        ("detection", document.detection), ("tracks", document.tracks)]
    for member, record_sets in sets:
        for number, record_set in enumerate(record_sets):
            for index, record in enumerate(record_set.records):
                yield (member, number, "records", index), record_set, record


def _row(document: CourageousDocument, record_set: RecordSet,
         record: DetectionRecord | TrackingRecord) -> dict[str, Any]:
    sensor = record.cuas_location or document.static_cuas_location
    where = record.location.stored() if record.location is not None else {"shape": "none"}
    return {"time_us": record.time * 1000, "lat_deg": np.nan, "lon_deg": np.nan,
            "height_m": np.nan, "datum": "msl",
            "object_id": "" if record_set.uas_id is None else str(record_set.uas_id),
            "classification": CLASSIFICATION[record.classification],
            "confidence": np.nan if record.alarm is None else record.alarm.certainty,
            **{name: np.nan for name in DETECTION_GEOMETRY}, **where,
            "sensor_lat_deg": sensor.lat, "sensor_lon_deg": sensor.lon,
            "sensor_height_m": sensor.height_amsl}


def detection_table(document: CourageousDocument) -> pd.DataFrame:
    """The records in the hub's stored layout, in the order of `records`."""
    rows = [_row(document, record_set, record) for _, record_set, record in records(document)]
    if not rows:
        return stored_layout(pd.DataFrame(columns=list(DETECTION_RECORD)))
    return stored_layout(pd.DataFrame(rows))
