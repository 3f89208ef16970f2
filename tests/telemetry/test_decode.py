import math
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry import StreamDecoder, decode, decode_stream, decode_tlog
from tests.telemetry.streams import (
    SPECS,
    every_message_stream,
    frame,
    pymavlink_decode,
    random_payload,
)

SPEC = {spec.name: spec for spec in SPECS.values()}


def _same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, float):
        return (math.isnan(theirs) and math.isnan(float(ours))) or float(ours) == theirs
    return ours == theirs


def assert_equivalent(frames: dict, messages: list) -> None:
    """Our frames hold exactly pymavlink's messages, type by type, in stream order."""
    by_type: dict[str, list] = {}
    for message in messages:
        by_type.setdefault(message.get_type(), []).append(message)
    assert sorted(frames) == sorted(by_type)
    for name, expected in by_type.items():
        table = frames[name]
        assert len(table) == len(expected), name
        spec = SPEC[name]
        for row, message in zip(table.itertuples(index=False), expected, strict=True):
            row = row._asdict()
            header = message.get_header()
            assert (row["sysid"], row["compid"], row["packet_seq"]) == (
                header.srcSystem, header.srcComponent, header.seq)
            for field in spec.fieldnames:
                value = getattr(message, field)
                if field in spec.array_lengths:
                    assert all(_same(row[f"{field}_{i}"], v) for i, v in enumerate(value)), field
                else:
                    assert _same(row[field], value), (name, field, row[field], value)


@pytest.mark.parametrize("v2", [True, False], ids=["mavlink2", "mavlink1"])
def test_every_message_type_decodes_as_pymavlink_does(v2: bool) -> None:
    data = every_message_stream(seed=7, v2=v2)
    frames = decode_stream(data)
    assert_equivalent(frames, pymavlink_decode(data))
    assert len(frames) == len([s for s in SPECS.values() if v2 or s.msgid < 256])


def test_columns_follow_the_mavlink_types() -> None:
    spec = SPEC["BATTERY_STATUS"]
    frames = decode_stream(frame(spec, random_payload(spec, random.Random(1))))
    table = frames["BATTERY_STATUS"]
    assert list(table.columns[:3]) == ["sysid", "compid", "packet_seq"]
    assert table["voltages_9"].dtype == np.uint16
    assert table["current_consumed"].dtype == np.int32
    assert table["battery_remaining"].dtype == np.int8
    assert "voltages" not in table.columns


def test_text_is_cut_at_the_first_nul() -> None:
    spec = SPEC["STATUSTEXT"]
    payload = bytes([4]) + b"GPS glitch\x00junk".ljust(50, b"\x00") + bytes(3)
    table = decode_stream(frame(spec, payload))["STATUSTEXT"]
    assert table["text"].tolist() == ["GPS glitch"]
    assert table["severity"].tolist() == [4]


def test_tlog_stamps_are_big_endian_microseconds(tmp_path) -> None:
    spec = SPEC["HEARTBEAT"]
    rng = random.Random(3)
    stamps = [1_700_000_000_000_000 + i * 250_000 for i in range(4)]
    data = b"".join(stamp.to_bytes(8, "big") + frame(spec, random_payload(spec, rng), seq=i)
                    for i, stamp in enumerate(stamps))
    path = tmp_path / "flight.tlog"
    path.write_bytes(data)
    table = decode_tlog(path)["HEARTBEAT"]
    assert table["time_us"].tolist() == stamps
    assert table["packet_seq"].tolist() == [0, 1, 2, 3]


def _corrupt(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(len(out) // 200):
        position = rng.randrange(len(out))
        action = rng.random()
        if action < 0.4:
            out[position] ^= 1 << rng.randrange(8)  # bit flip
        elif action < 0.7:
            out[position:position] = rng.randbytes(rng.randrange(1, 40))  # junk
        else:
            del out[position:position + rng.randrange(1, 30)]  # truncation
    return bytes(out)


def _key(value: object) -> object:
    value = value.item() if isinstance(value, np.generic) else value
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _their_rows(messages: list) -> Counter:
    rows: Counter = Counter()
    for message in messages:
        spec, header = SPEC[message.get_type()], message.get_header()
        values = [header.srcSystem, header.srcComponent, header.seq]
        for field in spec.fieldnames:
            value = getattr(message, field)
            values.extend(value if field in spec.array_lengths else [value])
        rows[(spec.name, tuple(_key(v) for v in values))] += 1
    return rows


def _our_rows(frames: dict) -> Counter:
    return Counter((name, tuple(_key(v) for v in row))
                   for name, table in frames.items()
                   for row in table.itertuples(index=False, name=None))


@pytest.mark.parametrize("seed", range(4))
def test_corrupted_streams_recover_every_message_pymavlink_recovers(seed: int) -> None:
    rng = random.Random(seed)
    data = _corrupt(every_message_stream(seed=seed, v2=seed % 2 == 0), rng)
    result = decode(data)
    theirs = _their_rows(pymavlink_decode(data))
    ours = _our_rows(result.frames)
    assert result.stats.crc_failures > 0
    assert theirs - ours == Counter()  # nothing pymavlink recovered is missing here
    assert sum(ours.values()) >= sum(theirs.values())


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_random_bytes_never_raise_and_match_pymavlink(data: bytes) -> None:
    result = decode(data)
    assert _their_rows(pymavlink_decode(data)) - _our_rows(result.frames) == Counter()


def test_stream_decoder_never_loses_a_frame_split_across_pieces() -> None:
    data = every_message_stream(seed=11, repeat=1)
    whole = decode_stream(data)
    decoder = StreamDecoder()
    rng = random.Random(5)
    pieces: dict[str, list] = {}
    position = 0
    while position < len(data):
        step = rng.randrange(1, 90)
        for name, table in decoder.feed(data[position:position + step]).items():
            pieces.setdefault(name, []).append(table)
        position += step
    for name, table in decoder.feed(b"", final=True).items():
        pieces.setdefault(name, []).append(table)
    assert sorted(pieces) == sorted(whole)
    for name, parts in pieces.items():
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole[name])


def test_unknown_message_ids_are_counted_and_skipped() -> None:
    spec = SPEC["HEARTBEAT"]
    known = frame(spec, bytes(spec.wire_length))
    unknown = bytes([0xFD, 3, 0, 0, 0, 1, 1, 0x3F, 0x42, 0x0F, 1, 2, 3, 0xAA, 0xBB])
    result = decode(known + unknown + known)
    assert result.stats.unknown_ids == 1
    assert len(result.frames["HEARTBEAT"]) == 2
