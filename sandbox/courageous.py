"""COURAGEOUS trial documents: one C-UAS sensor's detections during a test, as JSON.

The models follow the COURAGEOUS data format as its documentation describes it: the document
is the sensor's own (it carries no SAPIENT node id), the sensor stands at its
`static_cuas_location`, and each detection carries a UTC timestamp, a WGS84 position with the
reference of its altitude, and optionally a track id, a classification and a confidence.
Fields this hub does not use are ignored, so documents from newer revisions still load; the
fields it uses are validated strictly, and errors name their JSON path.
"""

from typing import Literal

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sandbox.detection import DETECTION_RECORD


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GeoPoint(_Part):
    latitude: float = Field(ge=-90, le=90, description="decimal degrees, WGS84")
    longitude: float = Field(ge=-180, le=180, description="decimal degrees, WGS84")
    altitude: float | None = Field(default=None, ge=-500, le=20_000, description="metres")
    altitude_reference: Literal["msl", "wgs84_ellipsoid"] = Field(
        default="msl", description="mean sea level (EGM96 geoid) or the WGS84 ellipsoid")


class CuasSystem(_Part):
    name: str = Field(default="", max_length=120)
    type: str = Field(default="", max_length=40, description="radar, rf, eo, ir, acoustic…")


class CourageousDetection(_Part):
    timestamp: AwareDatetime = Field(description="UTC, with its zone (…Z)")
    location: GeoPoint
    track_id: str = Field(default="", max_length=64)
    classification: str = Field(default="", max_length=64)
    confidence: float | None = Field(default=None, ge=0, le=1)


class CourageousDocument(_Part):
    version: str = Field(default="", max_length=20)
    cuas_system: CuasSystem = CuasSystem()
    static_cuas_location: GeoPoint
    detections: list[CourageousDetection] = Field(min_length=1, max_length=100_000)


def detection_table(document: CourageousDocument) -> pd.DataFrame:
    """The detections in the hub's stored layout."""
    rows = [(int(d.timestamp.timestamp() * 1e6), d.location.latitude, d.location.longitude,
             d.location.altitude, stored_datum(d.location), d.track_id, d.classification,
             d.confidence) for d in document.detections]
    return pd.DataFrame(rows, columns=list(DETECTION_RECORD)).astype(DETECTION_RECORD)


def stored_datum(point: GeoPoint) -> str:
    return "ellipsoid" if point.altitude_reference == "wgs84_ellipsoid" else "msl"

