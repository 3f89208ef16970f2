"""Threats and defender baselines, with where each figure comes from.

Source figures are public reporting in US dollars; the library uses them as EUR equivalents
(cents), which is close enough for comparing orders of magnitude and is said wherever shown.
"""

import math
from dataclasses import dataclass
from typing import Any

GUIDANCE = ("proportional_navigation", "pure_pursuit")


class ScenarioError(ValueError):
    """A scenario, threat or defender parameter is unknown or impossible; names the field."""


@dataclass(frozen=True)
class Threat:
    kind: str
    speed_mps: float
    cost_cents: int


@dataclass(frozen=True)
class Defender:
    name: str
    speed_mps: float
    endurance_s: float
    lethal_radius_m: float
    p_kill: float  # kill probability once inside the lethal radius
    guidance: str = "proportional_navigation"
    salvo: int = 1
    magazine: int = 20
    unit_cost_cents: int = 0
    reusable: bool = False
    operating_cost_cents: int = 0  # per sortie (fuel, rounds, wear)
    detection_range_m: float = 10_000.0
    p_detect: float = 0.9  # per scan, once inside detection range
    scan_interval_s: float = 1.0
    track_latency_s: float = 2.0
    max_shots: int = 3  # shoot-look-shoot attempts per threat
    acceleration_mps2: float = 50.0  # to top speed, and the hardest it can turn
    seeker_lock_range_m: float = 1_000.0  # steers on the radar track until the seeker locks

    def __post_init__(self) -> None:
        _check(self)


def _check(defender: Defender) -> None:
    positive = ("speed_mps", "endurance_s", "lethal_radius_m", "detection_range_m",
                "scan_interval_s", "acceleration_mps2", "seeker_lock_range_m")
    for name in positive:
        if not 0 < getattr(defender, name) < math.inf:  # also refuses NaN and infinity
            raise ScenarioError(f"{name}: must be greater than 0")
    for name in ("p_kill", "p_detect"):
        if not 0 <= getattr(defender, name) <= 1:
            raise ScenarioError(f"{name}: a probability must lie between 0 and 1")
    for name in ("salvo", "magazine", "max_shots"):
        if getattr(defender, name) < 1:
            raise ScenarioError(f"{name}: must be at least 1")
    if not 0 <= defender.track_latency_s < math.inf or defender.operating_cost_cents < 0 \
            or defender.unit_cost_cents < 0:
        raise ScenarioError("track_latency_s and costs: must not be negative")
    if defender.guidance not in GUIDANCE:
        raise ScenarioError(f"guidance: one of {', '.join(GUIDANCE)}")


THREATS = {
    # Shahed-136 / Geran-2 one-way attack drone: about 185 km/h cruise, unit cost around $35k
    # (Ukrainian and Western public estimates; the source documents use $35k).
    "shahed_136": Threat("shahed_136", speed_mps=185 / 3.6, cost_cents=3_500_000),
    # FPV strike drone: hobby-derived quadcopter, ~$400-500, ~100-150 km/h dash.
    "fpv_strike": Threat("fpv_strike", speed_mps=33.0, cost_cents=50_000),
    # Recon quadcopter (Mavic class): ~$2k, ~50-70 km/h.
    "recon_quad": Threat("recon_quad", speed_mps=17.0, cost_cents=200_000),
    # Cruise-missile-class target (Kh-101 class): ~800 km/h, of the order of $1M or more.
    "cruise_missile": Threat("cruise_missile", speed_mps=220.0, cost_cents=100_000_000),
}

BASELINES = {
    # Patriot PAC-3 class: over $3M per interceptor (source documents); 85.7 to 1 vs $35k.
    "patriot_pac3": Defender("patriot_pac3", speed_mps=1_400.0, endurance_s=60.0,
                             lethal_radius_m=10.0, p_kill=0.9, magazine=16,
                             unit_cost_cents=300_000_000, detection_range_m=80_000.0,
                             p_detect=0.98, acceleration_mps2=300.0,
                             seeker_lock_range_m=15_000.0),
    # 35 mm gun system (Gepard class): reusable; cost is rounds per burst (~$5k-10k a burst).
    "gun_35mm": Defender("gun_35mm", speed_mps=1_100.0, endurance_s=4.0, lethal_radius_m=5.0,
                         p_kill=0.45, guidance="pure_pursuit", magazine=40, reusable=True,
                         unit_cost_cents=0, operating_cost_cents=700_000,
                         detection_range_m=6_000.0, acceleration_mps2=10_000.0,
                         # unguided rounds: "lock" is the fire-control radar's aim-off
                         seeker_lock_range_m=6_000.0),
    # Interceptor drone: $3k-5k each (source documents); such drones down over 70% of the
    # threats over Kyiv, which the p_kill below reproduces in the shahed_raid scenario.
    "interceptor_drone": Defender("interceptor_drone", speed_mps=80.0, endurance_s=300.0,
                                  lethal_radius_m=3.0, p_kill=0.75, magazine=12,
                                  unit_cost_cents=400_000, detection_range_m=15_000.0,
                                  acceleration_mps2=30.0, seeker_lock_range_m=500.0),
}


def threat(kind: str) -> Threat:
    try:
        return THREATS[kind]
    except KeyError:
        raise ScenarioError(f"threat: unknown kind {kind!r}; known: "
                            f"{', '.join(sorted(THREATS))}") from None


TUNABLE = ("speed_mps", "endurance_s", "lethal_radius_m", "p_kill", "guidance", "salvo",
           "magazine", "detection_range_m", "p_detect", "scan_interval_s", "track_latency_s",
           "max_shots", "operating_cost_cents", "acceleration_mps2", "seeker_lock_range_m")


def defender_from_parameters(parameters: dict[str, Any], *, name: str, unit_cost_cents: int,
                             reusable: bool, base: str = "interceptor_drone") -> Defender:
    """A registry version as a defender: its free parameters over a baseline's defaults."""
    if base not in BASELINES:
        raise ScenarioError(f"base: unknown baseline {base!r}")
    known = {key: parameters[key] for key in TUNABLE if key in parameters}
    for key, value in known.items():
        if key != "guidance" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ScenarioError(f"{key}: must be a number")
    defaults = BASELINES[base]
    values = {**{key: getattr(defaults, key) for key in TUNABLE}, **known}
    return Defender(name=name, unit_cost_cents=unit_cost_cents, reusable=reusable, **values)
