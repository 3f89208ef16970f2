"""The compiled part of decoding: finding frames and checking their CRC.

The walk over candidate frame starts is inherently sequential (accepting a frame hides the
candidates inside it), so it runs under numba rather than as a Python loop per byte.
"""

import numpy as np
from numba import njit

STX_V1 = 0xFE
STX_V2 = 0xFD
SIGNATURE_LEN = 13
MAX_FRAME = 10 + 255 + 2 + SIGNATURE_LEN


def _crc_table() -> np.ndarray:
    """CRC-16/MCRF4XX (reflected polynomial 0x8408) one byte at a time, for table lookup."""
    table = np.zeros(256, dtype=np.uint16)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table[byte] = crc
    return table


CRC_TABLE = _crc_table()


@njit(cache=True, nogil=True)
def _crc_matches(buf: np.ndarray, start: int, end: int, extra: int) -> bool:
    """X.25 CRC over buf[start:end] + CRC_EXTRA, against the two bytes at end."""
    crc = 0xFFFF
    for i in range(start, end):
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ buf[i]) & 0xFF]
    crc = (crc >> 8) ^ CRC_TABLE[(crc ^ extra) & 0xFF]
    return crc == (buf[end] | (np.int64(buf[end + 1]) << 8))


NOT_MAGIC, INCOMPLETE, UNKNOWN_ID, BAD_CRC, INCOMPATIBLE, VALID = range(6)
WAIT = -2  # a frame may start in a signature region, but its end has not arrived yet


@njit(cache=True, nogil=True)
def candidate(buf: np.ndarray, pos: int, crc_extra: np.ndarray) -> tuple[int, int, int]:
    """What starts at `pos`: (kind, end of the frame, end of its CRC).

    The end includes the 13-byte signature of a signed MAVLink 2 frame; the CRC end does not.
    """
    n = buf.shape[0]
    magic = buf[pos]
    if magic != STX_V1 and magic != STX_V2:
        return NOT_MAGIC, pos + 1, pos + 1
    header = 10 if magic == STX_V2 else 6
    if pos + header > n:
        return INCOMPLETE, n + 1, n + 1
    length = np.int64(buf[pos + 1])
    flags = buf[pos + 2] if magic == STX_V2 else 0
    if magic == STX_V2:
        msgid = (np.int64(buf[pos + 7]) | (np.int64(buf[pos + 8]) << 8)
                 | (np.int64(buf[pos + 9]) << 16))
    else:
        msgid = np.int64(buf[pos + 5])
    crc_end = pos + header + length + 2
    end = crc_end + (SIGNATURE_LEN if flags & 1 else 0)
    if end > n:
        return INCOMPLETE, end, crc_end
    extra = crc_extra[msgid] if msgid < crc_extra.shape[0] else -1
    if extra < 0:
        return UNKNOWN_ID, end, crc_end
    if not _crc_matches(buf, pos + 1, crc_end - 2, extra):
        return BAD_CRC, end, crc_end
    # The spec (and pymavlink): a frame carrying an incompatibility flag other than SIGNED
    # cannot be understood and is dropped, whole.
    return (INCOMPATIBLE if flags & 0xFE else VALID), end, crc_end


@njit(cache=True, nogil=True)
def _kind(buf: np.ndarray, pos: int, crc_extra: np.ndarray) -> tuple[int, int, int]:
    """`candidate`, with positions past the end INCOMPLETE."""
    if pos >= buf.shape[0]:
        return INCOMPLETE, pos, pos
    return candidate(buf, pos, crc_extra)


@njit(cache=True, nogil=True)
def _is_frame(kind: int) -> bool:
    return kind == VALID or kind == INCOMPATIBLE


@njit(cache=True, nogil=True)
def _next_start(buf: np.ndarray, pos: int, crc_end: int, end: int, gap: int,
                crc_extra: np.ndarray, final: bool) -> tuple[int, int, int, int]:
    """Where the frame after the accepted one at `pos` starts, or WAIT until that is clear;
    with what is known of the frame there: (start, kind or -1, its end, its CRC end).

    Normally at `end + gap`. But a link that cuts a frame short hides the next one inside it.
    A frame whose own 16-bit CRC holds inside the accepted frame's CRC or signature bytes (a
    signature cut short, or a cut CRC byte the next byte happens to match) is that next frame.
    And when no frame follows the accepted one, a frame inside it that is itself followed by a
    frame is the next one: the accepted frame was cut and its CRC happened to hold over the
    next frame's first bytes.
    """
    following = end + gap
    waiting = False
    for start in range(crc_end - 2 + gap, min(following, buf.shape[0])):
        if buf[start] == STX_V1 or buf[start] == STX_V2:
            kind, after_end, after_crc = candidate(buf, start, crc_extra)
            if _is_frame(kind):
                return start, kind, after_end, after_crc
            waiting = waiting or (kind == INCOMPLETE and not final)
    kind, after_end, after_crc = _kind(buf, following, crc_extra)
    if _is_frame(kind):
        return following, kind, after_end, after_crc
    if not final and (waiting or kind == INCOMPLETE):
        return WAIT, -1, 0, 0
    hidden = _hidden_frame(buf, pos + 1, crc_end - 2 + gap, gap, crc_extra, final)
    return (following if hidden == -1 else hidden), -1, 0, 0


@njit(cache=True, nogil=True)
def _hidden_frame(buf: np.ndarray, first: int, stop: int, gap: int, crc_extra: np.ndarray,
                  final: bool) -> int:
    """A frame starting in [first, stop) and followed by a frame (or by the stream's end);
    -1 if none, WAIT if what follows one has not fully arrived."""
    n = buf.shape[0]
    for start in range(first, stop):
        if buf[start] != STX_V1 and buf[start] != STX_V2:
            continue
        kind, end, _ = candidate(buf, start, crc_extra)
        if not _is_frame(kind):
            continue
        after, _, _ = _kind(buf, end + gap, crc_extra)
        if _is_frame(after) or (final and end + gap >= n):
            return start
        if after == INCOMPLETE and not final:
            return WAIT
    return -1


@njit(cache=True, nogil=True)
def walk(buf: np.ndarray, pos: int, gap: int, crc_extra: np.ndarray, final: bool,
         starts: np.ndarray) -> tuple[int, int, int, int, int]:
    """Find valid frames from `pos`, each `gap` bytes after the previous (8 in a tlog).

    Writes frame starts into `starts`; returns (frames, resume position, CRC failures,
    plausible unknown-id frames, frames with unknown incompatibility flags). A candidate whose
    CRC fails consumes one byte only, so the walk resynchronises byte by byte; a frame hidden
    in the one before (see `_next_start`) is kept too. Not `final`: stops at the first frame
    it cannot yet decide on.
    """
    n = buf.shape[0]
    count = crc_failures = unknown = incompatible = 0
    known_at, known_kind, known_end, known_crc_end = -1, -1, 0, 0
    pos += gap
    while pos < n:
        if pos == known_at and known_kind >= 0:  # checked already, as the frame before's follower
            kind, end, crc_end = known_kind, known_end, known_crc_end
        elif buf[pos] != STX_V1 and buf[pos] != STX_V2:
            pos += 1
            continue
        else:
            kind, end, crc_end = candidate(buf, pos, crc_extra)
        if kind == INCOMPLETE and not final:
            break
        if _is_frame(kind):
            following, known_kind, known_end, known_crc_end = _next_start(
                buf, pos, crc_end, end, gap, crc_extra, final)
            if following == WAIT:
                break
            if kind == VALID:
                starts[count] = pos
                count += 1
            else:
                incompatible += 1
            pos = known_at = following
            continue
        if kind == UNKNOWN_ID:
            # An unknown id has no CRC_EXTRA to prove it a frame, so it consumes nothing (its
            # bytes are searched like any others); it counts where the next frame lines up.
            following = end + gap
            if following >= n or buf[following] == STX_V1 or buf[following] == STX_V2:
                unknown += 1
        elif kind == BAD_CRC:
            crc_failures += 1
        pos += 1
    return count, min(pos, n), crc_failures, unknown, incompatible


@njit(cache=True, nogil=True)
def gather(buf: np.ndarray, starts: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
           width: int) -> np.ndarray:
    """Payloads as rows of `width` bytes; MAVLink 2 truncated trailing zeros come back as 0."""
    out = np.zeros((starts.shape[0], width), dtype=np.uint8)
    for row in range(starts.shape[0]):
        begin = starts[row] + offsets[row]
        for col in range(min(width, lengths[row])):
            out[row, col] = buf[begin + col]
    return out


@njit(cache=True, nogil=True)
def header_fields(buf: np.ndarray, starts: np.ndarray,
                  gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows: sysid, compid, seq, msgid, payload length, payload offset, signed; and tlog stamps.

    One row per field (not per frame) so that each field is contiguous for the callers.
    """
    out = np.zeros((7, starts.shape[0]), dtype=np.int32)
    stamps = np.zeros(starts.shape[0] if gap else 0, dtype=np.int64)
    for col in range(starts.shape[0]):
        s = starts[col]
        v2 = buf[s] == STX_V2
        out[0, col] = buf[s + 5] if v2 else buf[s + 3]
        out[1, col] = buf[s + 6] if v2 else buf[s + 4]
        out[2, col] = buf[s + 4] if v2 else buf[s + 2]
        if v2:
            out[3, col] = (np.int32(buf[s + 7]) | (np.int32(buf[s + 8]) << 8)
                           | (np.int32(buf[s + 9]) << 16))
        else:
            out[3, col] = buf[s + 5]
        out[4, col] = buf[s + 1]
        out[5, col] = 10 if v2 else 6
        out[6, col] = (buf[s + 2] & 1) if v2 else 0
        if gap:
            stamp = np.int64(0)
            for byte in range(gap):  # the tlog stamp is big-endian
                stamp = (stamp << 8) | np.int64(buf[s - gap + byte])
            stamps[col] = stamp
    return out, stamps
