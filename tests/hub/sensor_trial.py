"""A sensor trial for tests: a cuas_sensor version, a field trial at SITE, and the target's
telemetry (a .tlog with SYSTEM_TIME) uploaded, as a soldier of the unit would."""

import math
from datetime import UTC, datetime

from sandbox.models import Role
from tests.conftest import auth
from tests.factories import new_prototype, new_trial, new_version
from tests.telemetry.flights import Flight

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the trial's start and the target's t = 0
SITE = (50.0, 4.0, 100.0)  # the sensor: lat°, lon°, m above mean sea level
_E2, _SIN = 6.694379990141316e-3, math.sin(math.radians(SITE[0]))  # WGS84 at the site
M_PER_DEG_LAT = math.radians(6_378_137.0 * (1 - _E2) / (1 - _E2 * _SIN**2) ** 1.5)
M_PER_DEG_LON = math.radians(6_378_137.0 / math.sqrt(1 - _E2 * _SIN**2)) * math.cos(
    math.radians(SITE[0]))
NODE = "5e1a9d4c-3f0b-4c47-9a6e-0d7c1b2a3e4f"


def target(t: float) -> tuple[float, float, float]:
    """Flies west along the sensor's parallel from 3,000 m east to 1,000 m (t = 100), 200 m
    above mean sea level: 100 m above the sensor."""
    return SITE[0], SITE[1] + (3000 - 20 * t) / M_PER_DEG_LON, 200.0


def iso(t: float) -> str:
    return datetime.fromtimestamp(T0 + t, UTC).isoformat().replace("+00:00", "Z")


def position(t: float, *, north_m: float = 10.0) -> dict:
    """A COURAGEOUS Position3d location `north_m` north of the target at `t`."""
    lat, lon, alt = target(t)
    return {"$type": "Position3d", "lat": lat + north_m / M_PER_DEG_LAT, "lon": lon,
            "height_amsl": alt}


def record(number: int, t: float, *, location: dict | None = None, classification: str = "UAV",
           **members: object) -> dict:
    """A COURAGEOUS record at `t` (milliseconds since the epoch), by default 10 m north of the
    target, with an alarm so that it may stand in a track."""
    return {"time": round((T0 + t) * 1000), "record_number": number,
            "classification": classification, "alarm": {"active": True, "certainty": 0.9},
            "location": position(t) if location is None else location, **members}


def document(*, detection: list[dict] | None = None, tracks: list[dict] | None = None) -> dict:
    """A COURAGEOUS 0.4.1 document of the sensor at SITE: detection sets and tracks."""
    return {"version": "0.4.1", "vendor_name": "Argus Systems", "system_name": "Argus radar",
            "static_cuas_location": {"lat": SITE[0], "lon": SITE[1], "height_amsl": SITE[2]},
            "detection": detection or [], "tracks": tracks or []}


def seen(times: list[float], *, first_number: int = 0, **members: object) -> dict:
    """One detection set (no uas_id) of records at `times`."""
    return {"records": [record(first_number + i, t, **members) for i, t in enumerate(times)]}


def sensor_trial(client, make_user, **overrides) -> dict:
    engineer, soldier = make_user(Role.engineer), make_user(Role.soldier)
    prototype = new_prototype(client, engineer, name="Argus", kind="cuas_sensor")
    version = new_version(client, engineer, prototype["id"], unit_cost_eur=90000)
    trial = new_trial(client, soldier, version["id"], lat=SITE[0], lon=SITE[1],
                      started_at=iso(0), ended_at=iso(200), **overrides)
    tlog = Flight(target, T0, sysid=42).tlog(100)
    response = client.post(f"/api/v1/trials/{trial['id']}/telemetry", content=tlog,
                           headers={**auth(soldier), "content-type": "application/octet-stream"})
    assert response.status_code == 201, response.text
    return {"id": trial["id"], "soldier": soldier, "engineer": engineer,
            "version_id": version["id"]}
