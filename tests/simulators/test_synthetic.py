import numpy as np

from simulators.engine import simulate
from simulators.scenario import load_scenario
from simulators.synthetic import INTERCEPTOR_SYSID, THREAT_SYSID, synthetic_tlog
from simulators.threats import BASELINES
from telemetry import decode


def test_synthetic_flights_meet_where_the_simulator_says() -> None:
    scenario, defender = load_scenario("shahed_raid"), BASELINES["interceptor_drone"]
    engagements = simulate(scenario, defender, runs=1, seed=4)
    data = synthetic_tlog(scenario, defender, engagements, sample=1, rate_hz=5)
    result = decode(data, tlog=True)
    assert result.stats.crc_failures == 0 and result.stats.sequence_gaps == 0
    positions = result.frames["GLOBAL_POSITION_INT"]
    threat = positions[positions["sysid"] == THREAT_SYSID]
    interceptor = positions[positions["sysid"] == INTERCEPTOR_SYSID]
    first = engagements[engagements["outcome"] == "intercept"].iloc[0]
    meet_ms = (first["detected_at_s"] + first["time_to_intercept_s"]) * 1000
    # at the last common sample the two are within one step of flight of each other
    last = interceptor["time_boot_ms"].iloc[-1]
    gap_m = abs(int(threat[threat["time_boot_ms"] == last]["lat"].iloc[0])
                - int(interceptor["lat"].iloc[-1])) / 1e7 * 111_320
    step_m = (scenario.threat.speed_mps + defender.speed_mps) / 5
    assert gap_m < step_m
    assert abs(last - meet_ms) <= 200
    assert np.all(np.diff(threat["lat"].to_numpy()) <= 0)  # inbound from the north
