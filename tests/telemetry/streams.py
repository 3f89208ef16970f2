"""Build MAVLink byte streams for tests: any message, MAVLink 1 or 2, signed or not."""

import hashlib
import random

from pymavlink.dialects.v20 import ardupilotmega
from pymavlink.generator.mavcrc import x25crc

from telemetry.dialect import MessageSpec, load_dialect

SPECS = load_dialect().messages


def frame(spec: MessageSpec, payload: bytes, *, v2: bool = True, seq: int = 0, sysid: int = 1,
          compid: int = 1, key: bytes | None = None, link_id: int = 0,
          timestamp: int = 0) -> bytes:
    """One frame around `payload` (wire order, full length; MAVLink 2 trims trailing zeros)."""
    if v2:
        body = payload.rstrip(b"\x00") or payload[:1]
        flags = 1 if key is not None else 0
        header = bytes([0xFD, len(body), flags, 0, seq, sysid, compid,
                        spec.msgid & 0xFF, (spec.msgid >> 8) & 0xFF, spec.msgid >> 16])
    else:
        body = payload
        header = bytes([0xFE, len(body), seq, sysid, compid, spec.msgid])
    crc = x25crc(header[1:] + body)
    crc.accumulate(bytes([spec.crc_extra]))
    out = header + body + crc.crc.to_bytes(2, "little")
    if key is not None:
        out += bytes([link_id]) + timestamp.to_bytes(6, "little")
        out += hashlib.sha256(key + out).digest()[:6]
    return out


def random_payload(spec: MessageSpec, rng: random.Random) -> bytes:
    data = bytearray(rng.randbytes(spec.wire_length))
    if rng.random() < 0.3:  # exercise MAVLink 2 truncation of trailing zeros
        cut = rng.randrange(spec.wire_length)
        data[cut:] = bytes(spec.wire_length - cut)
    return bytes(data)


def every_message_stream(seed: int, *, v2: bool = True, repeat: int = 2) -> bytes:
    rng = random.Random(seed)
    specs = [s for s in SPECS.values() if v2 or s.msgid < 256]
    return b"".join(frame(spec, random_payload(spec, rng), v2=v2, seq=i % 256,
                          sysid=rng.randrange(1, 255), compid=rng.randrange(256))
                    for i, spec in enumerate(specs * repeat))


def pymavlink_decode(data: bytes, *, key: bytes | None = None) -> list:
    parser = ardupilotmega.MAVLink(None)
    parser.robust_parsing = True
    if key is not None:
        parser.signing.secret_key = key
    return [m for m in parser.parse_buffer(data) or []
            if m.get_type() != "BAD_DATA" and not m.get_type().startswith("UNKNOWN")]
