"""Where things are: the fixed geometry of a scenario, shared by the engine, its reference
loop and the synthetic telemetry. Metres east and north of the defended point; seconds from
the raid's start. Pure."""

import math
from dataclasses import dataclass

from simulators.scenario import Scenario
from simulators.threats import Defender

NAVIGATION_CONSTANT = 3.0  # proportional navigation's N; 3-5 is the textbook range
NEVER = math.inf


@dataclass(frozen=True)
class Approach:
    """One threat's straight run at the defended point."""

    start_s: float
    x0: float
    y0: float
    vx: float
    vy: float
    arrive_s: float

    def at(self, t: float) -> tuple[float, float]:
        return self.x0 + self.vx * (t - self.start_s), self.y0 + self.vy * (t - self.start_s)


def approaches(scenario: Scenario) -> list[Approach]:
    """Threat i sets out at i x spacing on a bearing spread evenly over the raid's sector."""
    raid, speed = scenario.raid_size, scenario.threat.speed_mps
    out = []
    for i in range(raid):
        fraction = i / (raid - 1) if raid > 1 else 0.5
        bearing = math.radians(scenario.bearing_spread_deg * (fraction - 0.5))
        east, north = math.sin(bearing), math.cos(bearing)
        start = i * scenario.spacing_s
        out.append(Approach(start, scenario.start_range_m * east, scenario.start_range_m * north,
                            -speed * east, -speed * north,
                            start + scenario.start_range_m / speed))
    return out


def launcher(scenario: Scenario) -> tuple[float, float]:
    return scenario.launcher_offset_m, 0.0


def wind(scenario: Scenario) -> tuple[float, float]:
    """The wind blows from the north, down the threat axis: a headwind for interceptors."""
    return 0.0, -scenario.wind_mps


def time_within(approach: Approach, centre: tuple[float, float], radius: float) -> float:
    """The first moment from the threat's start that it is within `radius` of `centre`."""
    ax, ay = approach.x0 - centre[0], approach.y0 - centre[1]
    if ax * ax + ay * ay <= radius * radius:
        return approach.start_s
    # |a + v t|^2 = r^2: the smaller root, if the path reaches the circle at all
    a = approach.vx ** 2 + approach.vy ** 2
    b = 2 * (ax * approach.vx + ay * approach.vy)
    c = ax * ax + ay * ay - radius * radius
    disc = b * b - 4 * a * c
    if disc < 0:
        return NEVER
    t = (-b - math.sqrt(disc)) / (2 * a)
    return approach.start_s + t if t >= 0 else NEVER


def first_launch_s(defender: Defender, scenario: Scenario, approach: Approach) -> float:
    """When the threat comes within the interceptor's reach: endurance at the closing speed.
    Launching earlier would only spend interceptors that run dry before they arrive."""
    closing = max(defender.speed_mps - scenario.wind_mps, 1.0) + scenario.threat.speed_mps
    return time_within(approach, launcher(scenario), defender.endurance_s * closing)


def detection_entry_s(defender: Defender, scenario: Scenario, approach: Approach) -> float:
    """When the threat enters the launcher's sensor range."""
    return time_within(approach, launcher(scenario), defender.detection_range_m)


def lock_range_m(defender: Defender, scenario: Scenario) -> float:
    """Jamming shortens the seeker's lock range in proportion to its strength."""
    return defender.seeker_lock_range_m * (1.0 - scenario.jamming)


def max_steps(defender: Defender, scenario: Scenario) -> int:
    return math.ceil(defender.endurance_s / scenario.time_step_s)
