"""The vectorised engine against the plain per-engagement loop of the same model.

python -m benchmarks.simulate [--scenario shahed_raid] [--engagements 100000]
"""

import argparse
import time

from simulators.engine import simulate
from simulators.reference import simulate_reference
from simulators.scenario import load_scenario
from simulators.threats import BASELINES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="shahed_raid")
    parser.add_argument("--defender", default="interceptor_drone", choices=sorted(BASELINES))
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--reference-engagements", type=int, default=10_000)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    defender = BASELINES[args.defender]
    runs = max(1, args.engagements // scenario.raid_size)
    reference_runs = max(1, args.reference_engagements // scenario.raid_size)

    started = time.perf_counter()
    fast = simulate(scenario, defender, runs=runs, seed=1)
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    slow = simulate_reference(scenario, defender, runs=reference_runs, seed=1)
    slow_s = time.perf_counter() - started

    fast_rate, slow_rate = len(fast) / fast_s, len(slow) / slow_s
    print(f"scenario {scenario.name}, defender {defender.name}")
    print(f"vectorised: {len(fast):,} engagements in {fast_s:.2f} s = {fast_rate:,.0f}/s")
    print(f"plain loop: {len(slow):,} engagements in {slow_s:.2f} s = {slow_rate:,.0f}/s")
    print(f"ratio: {fast_rate / slow_rate:.0f}x the loop")


if __name__ == "__main__":
    main()
