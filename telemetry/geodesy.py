"""WGS84 geodetic to local east/north/up metres: exact (through ECEF), vectorised."""

import numpy as np

A = 6_378_137.0  # WGS84 semi-major axis, m
E2 = 6.694379990141316e-3  # first eccentricity squared


def _ecef(lat_deg: np.ndarray, lon_deg: np.ndarray,
          alt_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = A / np.sqrt(1 - E2 * np.sin(lat) ** 2)
    return ((n + alt_m) * np.cos(lat) * np.cos(lon), (n + alt_m) * np.cos(lat) * np.sin(lon),
            (n * (1 - E2) + alt_m) * np.sin(lat))


def to_enu(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray, *,
           origin: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metres east, north and up of `origin` (lat°, lon°, alt m)."""
    x, y, z = _ecef(np.asarray(lat_deg, float), np.asarray(lon_deg, float),
                    np.asarray(alt_m, float))
    ox, oy, oz = _ecef(np.array(origin[0]), np.array(origin[1]), np.array(origin[2]))
    dx, dy, dz = x - ox, y - oy, z - oz
    lat, lon = np.radians(origin[0]), np.radians(origin[1])
    east = -np.sin(lon) * dx + np.cos(lon) * dy
    north = -np.sin(lat) * np.cos(lon) * dx - np.sin(lat) * np.sin(lon) * dy + np.cos(lat) * dz
    up = np.cos(lat) * np.cos(lon) * dx + np.cos(lat) * np.sin(lon) * dy + np.sin(lat) * dz
    return east, north, up
