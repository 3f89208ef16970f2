"""Target flights as MAVLink, built with pymavlink: a vehicle whose boot clock and UNIX clock
differ, so tests can tell which clock a track was put on."""

from collections.abc import Callable
from dataclasses import dataclass, field

from pymavlink.dialects.v20 import ardupilotmega as mavlink

Position = Callable[[float], tuple[float, float, float]]  # t_s -> lat°, lon°, alt m MSL


@dataclass
class Flight:
    """A vehicle booted `boot_s` seconds before UNIX time `unix_start_s` (its t = 0)."""

    position: Position
    unix_start_s: float
    boot_s: float = 600.0
    sysid: int = 1
    rate_hz: float = 2.0
    system_time: bool = True
    gps_fix: Callable[[float], int] = lambda t: 3
    satellites: Callable[[float], int] = lambda t: 14
    link_up: Callable[[float], bool] = lambda t: True
    extra: list[tuple[float, mavlink.MAVLink_message]] = field(default_factory=list)

    def messages(self, duration_s: float) -> list[tuple[float, mavlink.MAVLink_message]]:
        mav = mavlink.MAVLink(None, srcSystem=self.sysid, srcComponent=1)
        out = []
        for step in range(int(duration_s * self.rate_hz) + 1):
            t = step / self.rate_hz
            boot_ms = int((self.boot_s + t) * 1000)
            lat, lon, alt = self.position(t)
            out.append((t, mav.global_position_int_encode(
                boot_ms, round(lat * 1e7), round(lon * 1e7), round(alt * 1000), 0, 0, 0, 0, 0)))
            if step % int(self.rate_hz) == 0:
                unix_us = int((self.unix_start_s + t) * 1e6)
                fix = self.gps_fix(t)
                out.append((t, mav.gps_raw_int_encode(
                    unix_us, fix, round(lat * 1e7), round(lon * 1e7), round(alt * 1000),
                    120 if fix >= 3 else 900, 150, 0, 0, self.satellites(t))))
                if self.system_time:
                    out.append((t, mav.system_time_encode(unix_us, boot_ms)))
        return sorted(out + self.extra, key=lambda item: item[0])

    def _packed(self, duration_s: float) -> list[tuple[float, bytes]]:
        mav = mavlink.MAVLink(None, srcSystem=self.sysid, srcComponent=1)
        out = []
        for t, message in self.messages(duration_s):
            frame = message.pack(mav)
            mav.seq = (mav.seq + 1) % 256  # a lost frame still used its sequence number
            if self.link_up(t):
                out.append((t, frame))
        return out

    def stream(self, duration_s: float) -> bytes:
        return b"".join(frame for _, frame in self._packed(duration_s))

    def tlog(self, duration_s: float, *, latency_s: float = 0.05) -> bytes:
        return b"".join(int((self.unix_start_s + t + latency_s) * 1e6).to_bytes(8, "big") + frame
                        for t, frame in self._packed(duration_s))
