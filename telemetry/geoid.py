"""Heights above mean sea level (the EGM96 geoid) to and from heights above the WGS84
ellipsoid: h_ellipsoid = h_msl + N(lat, lon), N the geoid undulation.

The undulations come from a 30' EGM96 grid shipped with this package (public-domain NGA data,
see data/README.md), so a fresh machine needs nothing else: bilinear interpolation on it is
within about 0.15 m RMS of EGM96 (2.4 m at worst, in steep mountain geoid), far inside any
detection gate. A finer `.gtx` grid (PROJ's `egm96_15.gtx`) may be named instead. GTX layout:
a big-endian header (south-west corner lat/lon, spacing lat/lon in degrees, rows, columns),
then float32 rows south to north.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED = Path(__file__).with_name("data") / "egm96_30min.npz"
HEADER = np.dtype([("lat0", ">f8"), ("lon0", ">f8"), ("dlat", ">f8"), ("dlon", ">f8"),
                   ("rows", ">i4"), ("cols", ">i4")])


class GeoidUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Geoid:
    lat0: float
    lon0: float
    step_deg: float
    grid: np.ndarray  # rows south to north, columns west to east, metres

    def undulation_m(self, lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
        """N, metres of geoid above the ellipsoid, bilinear between the four grid nodes."""
        rows, cols = self.grid.shape
        y = np.clip((np.asarray(lat_deg, float) - self.lat0) / self.step_deg, 0, rows - 1)
        x = ((np.asarray(lon_deg, float) - self.lon0) / self.step_deg) % cols
        y0 = np.minimum(np.floor(y).astype(int), rows - 2)
        x0 = np.floor(x).astype(int) % cols
        x1 = (x0 + 1) % cols  # the grid wraps round the antimeridian
        fy, fx = y - y0, x - np.floor(x)
        south = self.grid[y0, x0] * (1 - fx) + self.grid[y0, x1] * fx
        north = self.grid[y0 + 1, x0] * (1 - fx) + self.grid[y0 + 1, x1] * fx
        return np.asarray(south * (1 - fy) + north * fy)

    def to_ellipsoid(self, lat_deg: np.ndarray, lon_deg: np.ndarray,
                     msl_m: np.ndarray) -> np.ndarray:
        return np.asarray(msl_m, float) + self.undulation_m(lat_deg, lon_deg)

    def to_msl(self, lat_deg: np.ndarray, lon_deg: np.ndarray,
               ellipsoid_m: np.ndarray) -> np.ndarray:
        return np.asarray(ellipsoid_m, float) - self.undulation_m(lat_deg, lon_deg)


def read_gtx(path: Path) -> Geoid:
    """Parse a GTX grid file (one regular lat/lon grid of float32 heights)."""
    data = path.read_bytes()
    head = np.frombuffer(data, HEADER, count=1)[0]
    rows, cols = int(head["rows"]), int(head["cols"])
    if head["dlat"] != head["dlon"] or len(data) != HEADER.itemsize + 4 * rows * cols:
        raise GeoidUnavailable(f"{path}: not a square-spaced GTX grid")
    grid = np.frombuffer(data, ">f4", offset=HEADER.itemsize).reshape(rows, cols)
    return Geoid(float(head["lat0"]), float(head["lon0"]), float(head["dlat"]),
                 grid.astype(np.float64))


def read_bundled(path: Path = BUNDLED) -> Geoid:
    """The shipped 30' grid (integer centimetres)."""
    with np.load(path) as data:
        return Geoid(float(data["lat0"]), float(data["lon0"]), float(data["step_deg"]),
                     data["undulation_cm"].astype(np.float64) / 100)


_loaded: dict[Path, Geoid] = {}


def load_geoid(explicit: Path | None = None) -> Geoid:
    """The geoid, read once per process: the grid named by the setting, else the shipped one."""
    path = explicit or BUNDLED
    if path not in _loaded:
        if not path.is_file():
            raise GeoidUnavailable(f"{path}: no such geoid grid")
        _loaded[path] = read_bundled(path) if path == BUNDLED else read_gtx(path)
    return _loaded[path]
