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


@njit(cache=True, nogil=True)
def _crc_matches(buf: np.ndarray, start: int, end: int, extra: int) -> bool:
    """CRC-16/MCRF4XX (X.25) over buf[start:end] + CRC_EXTRA, against the two bytes at end."""
    crc = 0xFFFF
    for i in range(start, end + 1):
        byte = buf[i] if i < end else extra
        tmp = (byte ^ (crc & 0xFF)) & 0xFF
        tmp = (tmp ^ (tmp << 4)) & 0xFF
        crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xFFFF
    return crc == (buf[end] | (np.int64(buf[end + 1]) << 8))


@njit(cache=True, nogil=True)
def walk(buf: np.ndarray, pos: int, gap: int, crc_extra: np.ndarray, final: bool,
         starts: np.ndarray) -> tuple[int, int, int, int]:
    """Find valid frames from `pos`, each `gap` bytes after the previous (8 in a tlog).

    Writes frame starts into `starts`; returns (frames, resume position, CRC failures,
    plausible unknown-id frames). A candidate whose CRC fails consumes one byte only, so the walk
    resynchronises byte by byte. Not `final`: stops at the first incomplete candidate.
    """
    n = buf.shape[0]
    count = 0
    crc_failures = 0
    unknown = 0
    pos += gap
    while pos < n:
        magic = buf[pos]
        if magic != STX_V1 and magic != STX_V2:
            pos += 1
            continue
        header = 10 if magic == STX_V2 else 6
        if pos + header > n:
            if final:
                pos += 1
                continue
            break
        length = np.int64(buf[pos + 1])
        if magic == STX_V2:
            signature = SIGNATURE_LEN if buf[pos + 2] & 1 else 0
            msgid = (np.int64(buf[pos + 7]) | (np.int64(buf[pos + 8]) << 8)
                     | (np.int64(buf[pos + 9]) << 16))
        else:
            signature = 0
            msgid = np.int64(buf[pos + 5])
        end = pos + header + length + 2 + signature
        if end > n:
            if final:
                pos += 1
                continue
            break
        extra = crc_extra[msgid] if msgid < crc_extra.shape[0] else -1
        if extra < 0:
            # An unknown id has no CRC_EXTRA to prove it a frame, so it consumes nothing (its
            # bytes are searched like any others); it counts where the next frame lines up.
            following = end + gap
            if following >= n or buf[following] == STX_V1 or buf[following] == STX_V2:
                unknown += 1
            pos += 1
            continue
        if _crc_matches(buf, pos + 1, pos + header + length, extra):
            starts[count] = pos
            count += 1
            pos = end + gap
        else:
            crc_failures += 1
            pos += 1
    return count, min(pos, n), crc_failures, unknown


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
