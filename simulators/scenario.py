"""Scenarios: small TOML files (raid, geometry, weather, jamming), loadable by name or path."""

import math
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from simulators.threats import ScenarioError, Threat, threat

LIBRARY = files("simulators") / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    threat: Threat
    raid_size: int
    spacing_s: float  # between arrivals at the start range
    start_range_m: float
    wind_mps: float = 0.0  # headwind for outbound interceptors
    jamming: float = 0.0  # probability an interceptor's link is lost; also dulls its seeker
    bearing_spread_deg: float = 0.0  # the raid's approach bearings, spread evenly over this
    launcher_offset_m: float = 0.0  # the launcher's distance east of the defended point
    time_step_s: float = 0.5
    description: str = ""


def list_scenarios() -> list[str]:
    return sorted(entry.name.removesuffix(".toml") for entry in LIBRARY.iterdir()
                  if entry.name.endswith(".toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A library scenario by name, or a user's own TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        text = path.read_text()
    elif str(name_or_path) in list_scenarios():
        text = (LIBRARY / f"{name_or_path}.toml").read_text()
    else:
        raise ScenarioError(f"scenario: no scenario {str(name_or_path)!r}; known: "
                            f"{', '.join(list_scenarios())}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"scenario: not valid TOML: {error}") from error
    return parse_scenario(data, default_name=path.stem)


# optional numeric fields and their defaults; the rest are required or text
DEFAULTS = {"wind_mps": 0.0, "jamming": 0.0, "bearing_spread_deg": 0.0,
            "launcher_offset_m": 0.0, "time_step_s": 0.5}
REQUIRED = ("spacing_s", "start_range_m")


def parse_scenario(data: dict[str, Any], *, default_name: str = "custom") -> Scenario:
    unknown = sorted(set(data) - {"name", "threat", "raid_size", "description", *REQUIRED,
                                  *DEFAULTS})
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown scenario field")
    try:
        numbers = {key: float(data[key]) for key in REQUIRED}
        numbers |= {key: float(data.get(key, default)) for key, default in DEFAULTS.items()}
        for key, value in numbers.items():
            if not math.isfinite(value):  # TOML allows nan and inf; no distance or time is
                raise ScenarioError(f"{key}: must be a finite number")
        scenario = Scenario(name=str(data.get("name", default_name)),
                            threat=threat(str(data["threat"])), raid_size=int(data["raid_size"]),
                            description=str(data.get("description", "")), **numbers)
    except KeyError as missing:
        raise ScenarioError(f"{missing.args[0]}: missing from the scenario") from None
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"scenario: {error}") from error
    if not 1 <= scenario.raid_size <= 10_000:
        raise ScenarioError("raid_size: between 1 and 10000")
    if scenario.spacing_s < 0 or scenario.start_range_m <= 0 or scenario.wind_mps < 0:
        raise ScenarioError("spacing_s, start_range_m, wind_mps: must not be negative")
    if not 0 <= scenario.jamming <= 1:
        raise ScenarioError("jamming: a probability must lie between 0 and 1")
    if not 0 <= scenario.bearing_spread_deg <= 360 or scenario.launcher_offset_m < 0:
        raise ScenarioError("bearing_spread_deg: 0 to 360; launcher_offset_m: not negative")
    if not 0.01 <= scenario.time_step_s <= 5:
        raise ScenarioError("time_step_s: between 0.01 and 5 seconds")
    return scenario
