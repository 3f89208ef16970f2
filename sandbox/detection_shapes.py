"""Where a report places its target, as a shape, and how far a truth position lies from it.

Not every sensor measures a point. A report is one of these shapes, in metres east/north/up
of the sensor session's position (the hub converts geodetic positions and turns bearings from
the reporting sensor's own horizon into that frame):

- `point`: a 3-D position; from bearing, elevation and straight-line distance too (`polar`,
  turned into a point here). A point without height is a `vertical`.
- `vertical`: a latitude and longitude without height: the vertical line through it.
- `ray`: a bearing (clockwise from true north) and an elevation above the horizon from the
  sensor: the half-line from the sensor.
- `sector`: the clockwise sector of bearings from `bearing_deg` over `sector_deg` (0 for a
  single bearing without elevation, 360 for the whole circle), at any range and any height.
- `none`: no location at all.

The gap from a truth position to a shape is the distance to its nearest point: for a point
exactly the distance of the association gate; for the others 0 wherever the truth is
consistent with the report, so a ray, a sector or a vertical line passes the gate when the
target lies within the gate of it. A report whose shape is not a point gives no position
error. The sensor stands at each report's origin (the session's position, 0/0/0, unless the
report says where the sensor was), moving linearly between reports.
"""

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

SHAPES = ("point", "polar", "vertical", "ray", "sector", "none")
ORIGIN_COLUMNS = ("origin_east_m", "origin_north_m", "origin_up_m")
# The optional columns of a detection frame, and their values when absent.
SHAPE_DEFAULTS: dict[str, object] = {
    "shape": "point", **dict.fromkeys(ORIGIN_COLUMNS, 0.0), "bearing_deg": np.nan,
    "elevation_deg": np.nan, "sector_deg": np.nan, "distance_m": np.nan}


@dataclass(frozen=True)
class Shapes:
    kind: np.ndarray  # "point", "vertical", "ray", "sector" or "none" per report
    point: np.ndarray  # (n, 3): points, and the foot of vertical lines
    origin: np.ndarray  # (n, 3): the sensor when it reported
    unit: np.ndarray  # (n, 3): the direction of rays
    start_deg: np.ndarray
    width_deg: np.ndarray

    def take(self, mask: np.ndarray) -> "Shapes":
        return Shapes(*(getattr(self, part.name)[mask] for part in fields(self)))


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name in table:
        return table[name].to_numpy(object if name == "shape" else float)
    return np.full(len(table), SHAPE_DEFAULTS[name], object if name == "shape" else float)


def direction(bearing_deg: np.ndarray, elevation_deg: np.ndarray) -> np.ndarray:
    """Unit vectors east/north/up of compass bearings and elevations above the horizon."""
    bearing, elevation = np.radians(bearing_deg), np.radians(elevation_deg)
    return np.column_stack([np.cos(elevation) * np.sin(bearing),
                            np.cos(elevation) * np.cos(bearing), np.sin(elevation)])


def shapes(table: pd.DataFrame) -> Shapes:
    """The shapes of a detection frame (east_m, north_m, up_m and the optional columns)."""
    kind = _column(table, "shape").astype(str)
    point = table[["east_m", "north_m", "up_m"]].to_numpy(float, copy=True)
    origin = np.nan_to_num(np.column_stack([_column(table, name) for name in ORIGIN_COLUMNS]))
    unit = direction(_column(table, "bearing_deg"), _column(table, "elevation_deg"))
    polar = kind == "polar"
    point[polar] = origin[polar] + _column(table, "distance_m")[polar, None] * unit[polar]
    kind = np.where(polar, "point", kind)
    kind = np.where((kind == "point") & np.isnan(point[:, 2]), "vertical", kind)
    return Shapes(kind, point, origin, unit, _column(table, "bearing_deg"),
                  _column(table, "sector_deg"))


def _ray_gap_2d(offset: np.ndarray, bearing_deg: np.ndarray) -> np.ndarray:
    unit = direction(bearing_deg, np.zeros_like(bearing_deg))[:, :2]
    along = np.clip(np.einsum("ij,ij->i", offset, unit), 0, None)
    return np.linalg.norm(offset - along[:, None] * unit, axis=1)


def _sector_gap(offset: np.ndarray, start_deg: np.ndarray, width_deg: np.ndarray) -> np.ndarray:
    bearing = np.degrees(np.arctan2(offset[:, 0], offset[:, 1]))
    inside = np.mod(bearing - start_deg, 360.0) <= width_deg
    edge = np.minimum(_ray_gap_2d(offset, start_deg), _ray_gap_2d(offset, start_deg + width_deg))
    return np.where(inside, 0.0, edge)


def gaps(truth: np.ndarray, reports: Shapes) -> np.ndarray:
    """Per report, the distance from the truth position (n, 3) to its shape; inf where
    either is unknown."""
    offset = truth - reports.point
    seen_from = truth - reports.origin
    along = np.clip(np.einsum("ij,ij->i", seen_from, reports.unit), 0, None)
    gap = np.select(
        [reports.kind == "point", reports.kind == "vertical", reports.kind == "ray",
         reports.kind == "sector"],
        [np.linalg.norm(offset, axis=1), np.hypot(offset[:, 0], offset[:, 1]),
         np.linalg.norm(seen_from - along[:, None] * reports.unit, axis=1),
         _sector_gap(seen_from[:, :2], reports.start_deg, reports.width_deg)], np.inf)
    return np.where(np.isnan(gap), np.inf, gap)


def sensor_at(t_s: np.ndarray, report_t_s: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Where the sensor stood at each time: its reported positions, linear between reports,
    held before the first and after the last; 0/0/0 without reports."""
    if not len(report_t_s):
        return np.zeros((len(t_s), 3))
    order = np.argsort(report_t_s, kind="stable")
    return np.column_stack([np.interp(t_s, report_t_s[order], origin[order, axis])
                            for axis in range(3)])
