"""The vectorised engine against the plain per-engagement loop of the same model.

python -m benchmarks.simulate [--scenario shahed_raid] [--engagements 100000]

Prints engagements per second for the engine as used (each distinct flight flown once and
shared by the runs that launched it then), for the engine flying every engagement's own
flights (vectorisation alone), and for the plain loop on a smaller count, with the ratios.
"""

import argparse
import resource
import time
from collections.abc import Callable

import pandas as pd

from simulators.engine import CHUNK_ENGAGEMENTS, simulate
from simulators.reference import simulate_reference
from simulators.scenario import list_scenarios, load_scenario
from simulators.threats import BASELINES


def timed(run: Callable[[], pd.DataFrame]) -> tuple[int, float]:
    started = time.perf_counter()
    frame = run()
    return len(frame), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="shahed_raid", choices=list_scenarios())
    parser.add_argument("--defender", default="interceptor_drone", choices=sorted(BASELINES))
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--reference-engagements", type=int, default=2_000)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    defender = BASELINES[args.defender]
    runs = max(1, args.engagements // scenario.raid_size)
    reference_runs = max(1, args.reference_engagements // scenario.raid_size)

    rates = {}
    for label, run in (
            ("engine", lambda: simulate(scenario, defender, runs=runs, seed=1)),
            ("engine, every flight flown", lambda: simulate(scenario, defender, runs=runs,
                                                            seed=1, share_flights=False)),
            ("plain loop", lambda: simulate_reference(scenario, defender, runs=reference_runs,
                                                      seed=1))):
        count, seconds = timed(run)
        rates[label] = count / seconds
        print(f"{label:27} {count:>9,} engagements in {seconds:6.2f} s = "
              f"{rates[label]:>11,.0f}/s")
    loop = rates.pop("plain loop")
    print(f"scenario {scenario.name}, defender {defender.name}, {scenario.time_step_s} s steps")
    for label, rate in rates.items():
        print(f"ratio, {label}: {rate / loop:.0f}x the plain loop")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak resident memory {peak_mib:,.0f} MiB (runs are simulated in chunks of "
          f"{CHUNK_ENGAGEMENTS:,} engagements)")


if __name__ == "__main__":
    main()
