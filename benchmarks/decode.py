"""The decoder against pymavlink on the same realistic copter telemetry.

python -m benchmarks.decode [--part tlog|pieces|both] [--messages 1000000] [--reference 100000]

tlog: decode_tlog on a whole file. pieces: a live stream cut into 64-byte pieces and 300-byte
datagrams, each appended to a StreamDecoder and taken every TAKE_BYTES (as the live receivers
do), against pymavlink's parse_buffer fed the same pieces.
"""

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from telemetry import StreamDecoder, decode, decode_tlog
from telemetry.decode import TAKE_BYTES

RATE_HZ = {"ATTITUDE": 50, "RAW_IMU": 50, "SERVO_OUTPUT_RAW": 25, "GLOBAL_POSITION_INT": 10,
           "VFR_HUD": 10, "GPS_RAW_INT": 5, "SYS_STATUS": 2, "BATTERY_STATUS": 2,
           "HEARTBEAT": 1}


def _one_second(mav: mavlink.MAVLink, t: float) -> list:
    """The messages of one second of a copter flight, interleaved by their rates."""
    ms = int(t * 1000)
    angle = t / 10
    make = {
        "ATTITUDE": lambda: mav.attitude_encode(ms, 0.05, -0.02, angle, 0.01, 0.0, 0.1),
        "RAW_IMU": lambda: mav.raw_imu_encode(ms * 1000, 3, -2, -1000, 1, 2, 3, 200, 10, -400),
        "SERVO_OUTPUT_RAW": lambda: mav.servo_output_raw_encode(ms * 1000, 0, *[1500] * 8),
        "GLOBAL_POSITION_INT": lambda: mav.global_position_int_encode(
            ms, 504500000 + int(1000 * math.cos(angle)), 305200000 + int(1000 * math.sin(angle)),
            150000, 50000, 120, -80, 0, int(angle * 5729) % 36000),
        "VFR_HUD": lambda: mav.vfr_hud_encode(12.0, 11.5, int(angle * 57) % 360, 55, 50.0, 0.1),
        "GPS_RAW_INT": lambda: mav.gps_raw_int_encode(ms * 1000, 3, 504500000, 305200000, 150000,
                                                      90, 120, 1150, 9000, 14),
        "SYS_STATUS": lambda: mav.sys_status_encode(0, 0, 0, 500, 15800, 1200, 80, 0, 0, 0, 0, 0,
                                                    0),
        "BATTERY_STATUS": lambda: mav.battery_status_encode(0, 0, 0, 3000, [3950] * 10, 1200,
                                                            int(t * 3), -1, 80),
        "HEARTBEAT": lambda: mav.heartbeat_encode(2, 3, 81, 4, 3),
    }
    out = []
    for step in range(50):
        for name, hz in RATE_HZ.items():
            if step % (50 // hz) == 0:
                out.append(make[name]())
    return out


def copter_frames(count: int, *, sysid: int = 1) -> list[bytes]:
    """`count` frames of a copter flight, their sequence numbers counting up."""
    mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
    frames: list[bytes] = []
    t = 0.0
    while len(frames) < count:
        for message in _one_second(mav, t):
            frames.append(message.pack(mav))
            mav.seq = (mav.seq + 1) % 256
        t += 1.0
    return frames[:count]


def copter_stream(messages: int) -> bytes:
    """A live stream of `messages` frames: a few minutes of flight, repeated."""
    template = copter_frames(20_000)
    template = template[: len(template) // 256 * 256]  # whole seq cycles join cleanly
    return b"".join((template * (messages // len(template) + 1))[:messages])


def make_tlog(path: Path, messages: int) -> int:
    """Write a tlog of `messages` messages; answers its size in bytes."""
    records = copter_frames(20_000)  # a template of a few minutes of flight, then tiled
    frames = records[: len(records) // 256 * 256]  # whole seq cycles, so tiles join cleanly
    lengths = np.array([len(f) + 8 for f in frames])
    template = np.frombuffer(b"".join(bytes(8) + f for f in frames), dtype=np.uint8)
    reps = -(-messages // len(frames))
    data = np.tile(template, reps)
    offsets = (np.concatenate(([0], np.cumsum(np.tile(lengths, reps))[:-1])))[:messages]
    data = data[: offsets[-1] + lengths[len(offsets) % len(frames) - 1]]
    stamps = (1_700_000_000_000_000 + np.arange(len(offsets)) * 2_500).astype(">u8")
    stamp_bytes = stamps.view(np.uint8).reshape(-1, 8)
    data[offsets[:, None] + np.arange(8)] = stamp_bytes
    data.tofile(path)
    return int(data.size)


def pieces_rate(pieces: list[bytes], take_bytes: int) -> tuple[int, float]:
    """Messages and seconds for StreamDecoder fed `pieces`, taken every `take_bytes`."""
    decoder = StreamDecoder()
    count = 0
    started = time.perf_counter()
    for piece in pieces:
        decoder.append(piece)
        if decoder.pending_bytes >= take_bytes:
            count += sum(len(table) for table in decoder.take().values())
    count += sum(len(table) for table in decoder.take(final=True).values())
    return count, time.perf_counter() - started


def pymavlink_pieces_rate(pieces: list[bytes]) -> tuple[int, float]:
    parser = mavlink.MAVLink(None)
    parser.robust_parsing = True
    count = 0
    started = time.perf_counter()
    for piece in pieces:
        count += len(parser.parse_buffer(piece) or [])
    return count, time.perf_counter() - started


def run_pieces(messages: int, reference: int) -> None:
    data = copter_stream(messages)
    StreamDecoder().feed(data[:65536])  # compile or load the cached machine code first
    print(f"stream: {messages:,} messages, {len(data) / 1e6:.1f} MB, no tlog stamps")
    for size in (64, 300):
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        ref_count, ref_s = pymavlink_pieces_rate(pieces[: reference * len(pieces) // messages])
        ref_rate = ref_count / ref_s
        print(f"{size}-byte pieces: pymavlink parse_buffer {ref_rate:,.0f} msg/s "
              f"({ref_count:,} messages)")
        for take_bytes in sorted({64 << 10, TAKE_BYTES}):
            count, seconds = pieces_rate(pieces, take_bytes)
            default = " (the receivers' TAKE_BYTES)" if take_bytes == TAKE_BYTES else ""
            print(f"  StreamDecoder append + take every {take_bytes >> 10:,} KiB{default}: "
                  f"{count / seconds:,.0f} msg/s ({count:,} messages), "
                  f"ratio {count / seconds / ref_rate:.1f}x pymavlink")


def pymavlink_rate(path: Path, limit: int) -> tuple[int, float]:
    connection = mavutil.mavlink_connection(str(path), robust_parsing=True)
    started = time.perf_counter()
    count = 0
    while count < limit and connection.recv_msg() is not None:
        count += 1
    return count, time.perf_counter() - started


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_child(path: Path) -> None:
    """Print the most resident memory decode_tlog adds above what the process held before."""
    decode(np.fromfile(path, dtype=np.uint8, count=65536), tlog=True)  # compile first
    before = _rss_bytes()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    frames = decode_tlog(path)
    done.set()
    sampler.join()
    peak = max(peak, _rss_bytes())
    del frames
    print(peak - before)


def run_tlog(messages: int, reference: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copter.tlog"
        size = make_tlog(path, messages)
        warm = time.perf_counter()
        decode(np.fromfile(path, dtype=np.uint8, count=65536), tlog=True)
        compile_s = time.perf_counter() - warm
        started = time.perf_counter()
        frames = decode_tlog(path)
        ours_s = time.perf_counter() - started
        decoded = sum(len(table) for table in frames.values())
        ref_count, ref_s = pymavlink_rate(path, reference)
        child = subprocess.run([sys.executable, "-m", "benchmarks.decode", "--peak-child",
                                str(path)], capture_output=True, text=True, check=True)
        peak = int(child.stdout.split()[-1])
    ours_rate, ref_rate = decoded / ours_s, ref_count / ref_s
    print(f"tlog: {decoded:,} messages, {size / 1e6:.1f} MB")
    print(f"decode_tlog: {ours_rate:,.0f} msg/s ({ours_s:.2f} s; first call incl. "
          f"compile/cache load {compile_s:.2f} s)")
    print(f"pymavlink:   {ref_rate:,.0f} msg/s ({ref_count:,} messages in {ref_s:.2f} s)")
    print(f"ratio: {ours_rate / ref_rate:.1f}x pymavlink")
    print(f"peak resident memory decode_tlog adds: {peak / 1e6:.0f} MB = "
          f"{peak / size:.2f}x the file")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("tlog", "pieces", "both"), default="both")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=100_000,
                        help="messages pymavlink reads (a prefix: it is slow)")
    parser.add_argument("--peak-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        _peak_child(args.peak_child)
        return
    if args.part in ("tlog", "both"):
        run_tlog(args.messages, args.reference)
    if args.part in ("pieces", "both"):
        run_pieces(args.messages, args.reference)


if __name__ == "__main__":
    main()
