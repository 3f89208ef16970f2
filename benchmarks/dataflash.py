"""The DataFlash reader against pymavlink's DFReader on the same synthetic ArduPilot log.

python -m benchmarks.dataflash [--seconds 3000]

The log is the test suite's circle flight (POS, ATT, IMU at 10 Hz, GPS at 5 Hz, BAT at 1 Hz,
every format character), `--seconds` long. Both read every message; the figure is messages per
second and the ratio, measured in the same run (numba's compilation is done before timing).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pymavlink.DFReader import DFReader_binary

from telemetry.dataflash import read_dataflash
from tests.telemetry.logs import circle_flight


def _ours(path: Path) -> tuple[int, float]:
    began = time.perf_counter()
    tables = read_dataflash(np.memmap(path, dtype=np.uint8, mode="r"))
    return sum(len(t) for t in tables.values()), time.perf_counter() - began


def _dfreader(path: Path) -> tuple[int, float]:
    began, count = time.perf_counter(), 0
    with DFReader_binary(str(path)) as reader:
        while reader.recv_msg() is not None:
            count += 1
    return count, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flight.bin"
        path.write_bytes(circle_flight(seconds=args.seconds))
        size_mb = path.stat().st_size / 1e6
        read_dataflash(circle_flight(seconds=2))  # compile the walk first
        ours, ours_s = _ours(path)
        theirs, theirs_s = _dfreader(path)
    assert ours == theirs, (ours, theirs)
    print(f"{ours:,} messages ({args.seconds} s of flight, {size_mb:.1f} MB)")
    print(f"read_dataflash: {ours / ours_s:,.0f} msg/s ({ours_s:.2f} s)")
    print(f"DFReader:       {theirs / theirs_s:,.0f} msg/s ({theirs_s:.2f} s)")
    print(f"ratio: {theirs_s / ours_s:.1f}x   (python -m benchmarks.dataflash "
          f"--seconds {args.seconds})")


if __name__ == "__main__":
    main()
