"""Vectorised MAVLink decoding: bytes (or a .tlog) in, one DataFrame per message type out.

`decode_stream(data)` and `decode_tlog(path)` answer `{message name: DataFrame}`, one row per
valid frame in stream order. Columns: `time_us` (tlog only: the 8-byte big-endian stamp before
each frame), `sysid`, `compid`, `packet_seq` (the frame's sequence number), then every field by
name with the numpy type of its MAVLink type; `char[N]` fields as `str` (cut at the first NUL,
ASCII, as pymavlink does); numeric arrays as `name_0 … name_{N-1}`.
`decode()` also answers what was dropped and why (`DecodeStats`); `StreamDecoder` decodes a
live byte stream in pieces: `append` small pieces as they arrive (cheap), `take` the frames of
everything appended so far in one vectorised pass (building DataFrames costs the same for ten
frames as for ten thousand, so take seldom: on a timer or once `pending_bytes` is large).
"""

from dataclasses import dataclass, field
from os import PathLike

import numpy as np
import pandas as pd

from telemetry.dialect import Dialect, MessageSpec, load_dialect
from telemetry.framing import SIGNATURE_LEN, gather, header_fields, walk
from telemetry.signing import SigningState, keep_signed

TLOG_STAMP = 8
TAKE_BYTES = 1 << 20  # a live receiver takes at this size (or on its timer), whichever first


@dataclass
class DecodeStats:
    frames: int = 0
    crc_failures: int = 0
    unknown_ids: int = 0
    incompatible_flags: int = 0  # MAVLink 2 frames with an incompat flag other than SIGNED
    unsigned: int = 0
    bad_signature: int = 0
    replayed: int = 0
    too_old: int = 0
    sequence_gaps: int = 0  # frames the link lost, from the packet_seq of senders that use it

    def since(self, before: "DecodeStats") -> "DecodeStats":
        """What was counted after `before` (a copy taken earlier)."""
        return DecodeStats(**{name: value - getattr(before, name)
                              for name, value in vars(self).items()})

    def add(self, other: "DecodeStats") -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class Decoded:
    frames: dict[str, pd.DataFrame]
    stats: DecodeStats = field(default_factory=DecodeStats)


def decode(data: bytes | np.ndarray, *, tlog: bool = False, dialect: str = "ardupilotmega",
           signing_key: bytes | None = None) -> Decoded:
    """Decode a whole buffer; with `signing_key`, keep only genuine, fresh signed frames."""
    decoder = StreamDecoder(dialect=dialect, signing_key=signing_key, tlog=tlog)
    frames = decoder.feed(data, final=True)
    return Decoded(frames=frames, stats=decoder.stats)


def decode_stream(data: bytes, *, dialect: str = "ardupilotmega",
                  signing_key: bytes | None = None) -> dict[str, pd.DataFrame]:
    return decode(data, dialect=dialect, signing_key=signing_key).frames


def decode_tlog(path: str | PathLike[str], *, dialect: str = "ardupilotmega",
                signing_key: bytes | None = None) -> dict[str, pd.DataFrame]:
    data = np.fromfile(path, dtype=np.uint8)
    return decode(data, tlog=True, dialect=dialect, signing_key=signing_key).frames


class StreamDecoder:
    """Decode a byte stream piece by piece; a frame split across pieces is never lost.

    A frame comes out once the bytes after it have arrived (they may show that it was cut
    short and hides the next frame) or the stream has ended (`final`).
    """

    def __init__(self, *, dialect: str = "ardupilotmega", signing_key: bytes | None = None,
                 tlog: bool = False) -> None:
        self.dialect: Dialect = load_dialect(dialect)
        self.signing = SigningState(signing_key) if signing_key is not None else None
        self.gap = TLOG_STAMP if tlog else 0
        self.stats = DecodeStats()
        self._tail = b""
        self._pieces: list[bytes | np.ndarray] = []
        self.pending_bytes = 0
        self._last_seq: dict[int, int] = {}
        self._sequenced: set[int] = set()

    def append(self, data: bytes | np.ndarray) -> None:
        """Keep a piece for the next `take` (no decoding: a list append)."""
        self._pieces.append(data)
        self.pending_bytes += len(data)

    def take(self, *, final: bool = False) -> dict[str, pd.DataFrame]:
        """The frames of everything appended so far; `final`: the stream has ended."""
        buf = self._joined()
        # a frame takes at least 8 bytes; int32 offsets halve this index below 2 GiB
        index_type = np.int32 if buf.shape[0] < 2**31 else np.int64
        starts = np.empty(buf.shape[0] // 8 + 1, dtype=index_type)
        count, resume, crc_failures, unknown, incompatible = walk(
            buf, 0, self.gap, self.dialect.crc_extra, final, starts)
        self.stats.crc_failures += crc_failures
        self.stats.unknown_ids += unknown
        self.stats.incompatible_flags += incompatible
        # Keep what could still start a frame: the walk stopped at the first incomplete one.
        self._tail = b"" if final else buf[max(resume - self.gap, 0):].tobytes()
        return self._frames(buf, starts[:count])

    def feed(self, data: bytes | np.ndarray, *, final: bool = False) -> dict[str, pd.DataFrame]:
        """`append` then `take`: for large pieces (a file read, a websocket batch)."""
        self.append(data)
        return self.take(final=final)

    def _joined(self) -> np.ndarray:
        pieces, self._pieces, self.pending_bytes = self._pieces, [], 0
        if not self._tail and len(pieces) == 1:
            only = pieces[0]  # a whole file: no copy
            return only if isinstance(only, np.ndarray) else np.frombuffer(only, np.uint8)
        return np.frombuffer(b"".join([self._tail, *pieces]), dtype=np.uint8)

    def _frames(self, buf: np.ndarray, starts: np.ndarray) -> dict[str, pd.DataFrame]:
        header = _header(buf, starts, self.gap)
        if self.signing is not None:
            ends = starts + header["offset"] + header["length"] + 2 + SIGNATURE_LEN
            keep = keep_signed(self.signing, buf, starts, ends, header["signed"],
                               header["sysid"], header["compid"])
            self._count_signing()
            starts = starts[keep]
            header = {name: column[keep] for name, column in header.items()}
        self.stats.frames += int(starts.shape[0])
        self._count_gaps(header)
        frames: dict[str, pd.DataFrame] = {}
        if not starts.size:
            return frames
        order = np.argsort(header["msgid"], kind="stable")  # groups by type, stream order kept
        grouped = header["msgid"][order]
        firsts = np.flatnonzero(np.diff(grouped, prepend=-1))
        for first, rows in zip(firsts, np.split(order, firsts[1:]), strict=True):
            msgid = grouped[first]
            spec = self.dialect.messages[int(msgid)]
            frames[spec.name] = _message_frame(spec, buf, starts[rows],
                                               {k: v[rows] for k, v in header.items()})
        return frames

    def _count_gaps(self, header: dict[str, np.ndarray]) -> None:
        """Link loss: missing packet_seq numbers per (sysid, compid), across pieces.

        Counted only from a sender's first step of exactly one on: some senders (and tlogs)
        leave every sequence number at 0, and a repeated number is no loss either.
        """
        senders = header["sysid"] * 256 + header["compid"]
        if not senders.size:
            return
        order = np.argsort(senders, kind="stable")  # groups by sender, stream order kept
        grouped = senders[order]
        firsts = np.flatnonzero(np.diff(grouped, prepend=-1))
        for first, seqs in zip(firsts, np.split(header["seq"][order], firsts[1:]), strict=True):
            sender = int(grouped[first])
            previous = self._last_seq.get(sender)
            if previous is not None:
                seqs = np.concatenate(([previous], seqs))
            self._last_seq[sender] = int(seqs[-1])
            steps = np.diff(seqs) % 256
            counting = np.logical_or.accumulate(steps == 1) | (sender in self._sequenced)
            if counting.any():
                self._sequenced.add(sender)
            self.stats.sequence_gaps += int((steps - 1)[counting & (steps > 1)].sum())

    def _count_signing(self) -> None:
        assert self.signing is not None
        for name in ("unsigned", "bad_signature", "replayed", "too_old"):
            setattr(self.stats, name, getattr(self.signing, name))


def _header(buf: np.ndarray, starts: np.ndarray, gap: int) -> dict[str, np.ndarray]:
    fields, stamps = header_fields(buf, starts, gap)
    names = ("sysid", "compid", "seq", "msgid", "length", "offset")
    header = {name: fields[index] for index, name in enumerate(names)}
    header["signed"] = fields[6] == 1
    if gap:
        header["time_us"] = stamps
    return header


def _message_frame(spec: MessageSpec, buf: np.ndarray, starts: np.ndarray,
                   header: dict[str, np.ndarray]) -> pd.DataFrame:
    payload = gather(buf, starts, header["offset"], header["length"], spec.wire_length)
    records = payload.view(spec.wire_dtype).ravel()
    columns: dict[str, np.ndarray] = {}
    if "time_us" in header:
        columns["time_us"] = header["time_us"]
    columns["sysid"] = header["sysid"].astype(np.uint8)
    columns["compid"] = header["compid"].astype(np.uint8)
    # The frame's sequence number; several messages have a field named `seq` of their own.
    columns["packet_seq"] = header["seq"].astype(np.uint8)
    for name in spec.fieldnames:
        values = records[name]
        if name in spec.char_fields:
            columns[name] = _text(values)
        elif name in spec.array_lengths:
            for index in range(spec.array_lengths[name]):
                columns[f"{name}_{index}"] = np.ascontiguousarray(values[:, index]).astype(
                    values.dtype.newbyteorder("="))
        else:
            columns[name] = np.ascontiguousarray(values).astype(values.dtype.newbyteorder("="))
    return pd.DataFrame(columns)


def _text(values: np.ndarray) -> np.ndarray:
    """char[N] as pymavlink shows it: up to the first NUL, ASCII with replacement."""
    seen: dict[bytes, str] = {}  # telemetry text repeats a lot: decode each value once
    return np.array([seen.get(raw) or seen.setdefault(
        raw, raw.split(b"\x00", 1)[0].decode("ascii", errors="replace")) for raw in values],
        dtype=object)
