"""MAVLink 2 message signing: which signed frames to keep.

Unlike pymavlink 2.4.50, the signature is checked (in constant time) *before* a stream's
timestamp moves: a forged frame with a far-future timestamp must not lock out the genuine
sender whose link id it borrowed.
"""

import hashlib
import hmac
from dataclasses import dataclass, field

import numpy as np

TOO_OLD = 6_000_000  # a new stream may start at most 60 s (in 10 µs units) behind the newest


@dataclass
class SigningState:
    key: bytes
    newest: int = 0
    streams: dict[tuple[int, int, int], int] = field(default_factory=dict)
    unsigned: int = 0
    bad_signature: int = 0
    replayed: int = 0
    too_old: int = 0

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("signing_key: must be 32 bytes")

    def accept(self, frame: bytes, sysid: int, compid: int) -> bool:
        """Whether one signed frame (bytes from STX to its signature's end) is genuine and new."""
        link_id = frame[-13]
        timestamp = int.from_bytes(frame[-12:-6], "little")
        digest = hashlib.sha256(self.key + frame[:-6]).digest()[:6]
        if not hmac.compare_digest(digest, frame[-6:]):
            self.bad_signature += 1
            return False
        stream = (link_id, sysid, compid)
        last = self.streams.get(stream)
        if last is None and timestamp + TOO_OLD < self.newest:
            self.too_old += 1
            return False
        if last is not None and timestamp <= last:
            self.replayed += 1
            return False
        self.streams[stream] = timestamp
        self.newest = max(self.newest, timestamp)
        return True


def keep_signed(state: SigningState, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                signed: np.ndarray, sysid: np.ndarray, compid: np.ndarray) -> np.ndarray:
    """Mask of frames to keep under signing: unsigned ones are dropped and counted."""
    keep = np.zeros(starts.shape[0], dtype=bool)
    state.unsigned += int((~signed).sum())
    # A hash per signed frame: the loop runs over signed frames only, in stream order.
    for index in np.flatnonzero(signed):
        frame = buf[starts[index]:ends[index]].tobytes()
        keep[index] = state.accept(frame, int(sysid[index]), int(compid[index]))
    return keep
