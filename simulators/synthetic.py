"""Synthetic MAVLink from simulated engagements: the threat on its approach and its
interceptor flying straight from the launcher to where the simulator says they met, as two
vehicles encoded by pymavlink as a .tlog. Pure: bytes out."""

import math

import pandas as pd
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from simulators.geometry import approaches, launcher
from simulators.scenario import Scenario
from simulators.threats import Defender

METRES_PER_DEG = 111_320.0
INTERCEPTOR_SYSID, THREAT_SYSID = 1, 101
EPOCH_US = 1_767_225_600_000_000  # 2026-01-01 UTC: synthetic flights start here


def _messages(mav: mavlink.MAVLink, t_s: float, east_m: float, north_m: float,
              heading_deg: float, site: tuple[float, float],
              battery_pct: int) -> list[mavlink.MAVLink_message]:
    lat = site[0] + north_m / METRES_PER_DEG
    lon = site[1] + east_m / (METRES_PER_DEG * math.cos(math.radians(site[0])))
    messages = [mav.global_position_int_encode(
        int(t_s * 1000), int(lat * 1e7), int(lon * 1e7), 100_000, 100_000, 0, 0, 0,
        int(heading_deg * 100) % 36000),
        mav.attitude_encode(int(t_s * 1000), 0.0, -0.1, math.radians(heading_deg), 0, 0, 0)]
    if abs(t_s - round(t_s)) < 1e-9:  # once a second
        messages += [mav.heartbeat_encode(2, 3, 81, 4, 3),
                     mav.battery_status_encode(0, 0, 0, 3000, [3900] * 10, 1000, -1, -1,
                                               battery_pct)]
    return messages


def _heading_deg(east: float, north: float) -> float:
    return math.degrees(math.atan2(east, north)) % 360


def synthetic_tlog(scenario: Scenario, defender: Defender, engagements: pd.DataFrame, *,
                   sample: int = 3, rate_hz: float = 5.0,
                   site: tuple[float, float] = (50.0, 30.0)) -> bytes:
    """A tlog of the first `sample` intercepted engagements of the first run; engagement i
    flies threat sysid 101 + i and interceptor sysid 1 + i."""
    hits = engagements[(engagements["run"] == engagements["run"].min())
                       & (engagements["outcome"] == "intercept")].head(sample)
    speed = max(defender.speed_mps - scenario.wind_mps, 1.0)
    paths, (lx, ly) = approaches(scenario), launcher(scenario)
    timed: list[tuple[float, mavlink.MAVLink, mavlink.MAVLink_message]] = []
    for number, row in enumerate(hits.itertuples()):
        threat = mavlink.MAVLink(None, srcSystem=THREAT_SYSID + number, srcComponent=1)
        interceptor = mavlink.MAVLink(None, srcSystem=INTERCEPTOR_SYSID + number,
                                      srcComponent=1)
        path = paths[row.threat_index]
        meet = row.detected_at_s + row.time_to_intercept_s
        kx, ky = path.at(meet)
        launch = max(path.start_s, meet - math.hypot(kx - lx, ky - ly) / speed)
        outbound = _heading_deg(kx - lx, ky - ly)
        steps = int((meet - path.start_s) * rate_hz) + 1
        for step in range(steps):
            t = path.start_s + step / rate_hz
            fuel = 100 - int(50 * step / steps)
            timed += [(t, threat, m) for m in _messages(
                threat, t, *path.at(t), _heading_deg(path.vx, path.vy), site, fuel)]
            if t >= launch:
                done = (t - launch) / (meet - launch) if meet > launch else 1.0
                timed += [(t, interceptor, m) for m in _messages(
                    interceptor, t, lx + (kx - lx) * done, ly + (ky - ly) * done, outbound,
                    site, fuel)]
    timed.sort(key=lambda item: item[0])
    out = []
    for t, mav, message in timed:  # packed in stream order, so each sender's seq runs on
        out.append((EPOCH_US + int(t * 1e6)).to_bytes(8, "big") + message.pack(mav))
        mav.seq = (mav.seq + 1) % 256
    return b"".join(out)
