"""MAVLink message layouts, generated at import time from pymavlink's own dialect metadata.

No hand-written tables: each message's wire order, types, array lengths and CRC_EXTRA come from
the generated dialect module's classes (`ordered_fieldnames`, `unpacker.format`,
`array_lengths`, `crc_extra`).
"""

import importlib
import re
from dataclasses import dataclass
from functools import cache

import numpy as np

# struct code -> numpy little-endian type (MAVLink is little-endian on the wire)
_NUMPY = {"f": "<f4", "d": "<f8", "B": "u1", "b": "i1", "H": "<u2", "h": "<i2", "I": "<u4",
          "i": "<i4", "Q": "<u8", "q": "<i8", "c": "S1", "s": "S"}
_TOKEN = re.compile(r"(\d*)([a-zA-Z])")
MAX_MSGID = (1 << 24) - 1


@dataclass(frozen=True)
class MessageSpec:
    msgid: int
    name: str
    crc_extra: int
    wire_dtype: np.dtype  # the full (untruncated) payload in wire order
    fieldnames: tuple[str, ...]  # declaration order, as pymavlink presents them
    array_lengths: dict[str, int]  # numeric arrays only; char[N] are strings
    char_fields: frozenset[str]

    @property
    def wire_length(self) -> int:
        return self.wire_dtype.itemsize


@dataclass(frozen=True)
class Dialect:
    name: str
    messages: dict[int, MessageSpec]
    crc_extra: np.ndarray  # int16 by msgid; -1 for ids the dialect does not know
    by_name: dict[str, MessageSpec]


def _spec(cls: type) -> MessageSpec:
    tokens = _TOKEN.findall(cls.unpacker.format.lstrip("<"))  # type: ignore[attr-defined]
    fields, arrays, chars = [], {}, set()
    for name, (count, code) in zip(cls.ordered_fieldnames, tokens, strict=True):  # type: ignore[attr-defined]
        n = int(count or 1)
        if code in "sc":
            fields.append((name, f"S{n}"))
            chars.add(name)
        else:
            fields.append((name, _NUMPY[code], (n,)) if n > 1 else (name, _NUMPY[code]))
            if n > 1:
                arrays[name] = n
    return MessageSpec(msgid=cls.id, name=cls.msgname, crc_extra=cls.crc_extra,  # type: ignore[attr-defined]
                       wire_dtype=np.dtype(fields), fieldnames=tuple(cls.fieldnames),  # type: ignore[attr-defined]
                       array_lengths=arrays, char_fields=frozenset(chars))


@cache
def load_dialect(name: str = "ardupilotmega") -> Dialect:
    """The layouts of one pymavlink MAVLink 2 dialect (which also covers MAVLink 1 frames)."""
    if not re.fullmatch(r"[a-zA-Z0-9_]+", name):
        raise ValueError(f"dialect: {name!r} is not a dialect name")
    try:
        module = importlib.import_module(f"pymavlink.dialects.v20.{name}")
    except ImportError as error:
        raise ValueError(f"dialect: pymavlink has no dialect {name!r}") from error
    messages = {msgid: _spec(cls) for msgid, cls in module.mavlink_map.items()}
    table = np.full(max(messages) + 1, -1, dtype=np.int16)
    for msgid, spec in messages.items():
        table[msgid] = spec.crc_extra
    return Dialect(name=name, messages=messages, crc_extra=table,
                   by_name={spec.name: spec for spec in messages.values()})
