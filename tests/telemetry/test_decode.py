import itertools
import math
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink.generator.mavcrc import x25crc

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


KEY = bytes(range(32))


def _with_flags(data: bytes, spec, flags: int) -> bytes:
    """A MAVLink 2 frame re-sealed with other incompat flags (the CRC covers them)."""
    header = bytearray(data[:10])
    header[2] = flags
    body = data[10:10 + header[1]]
    crc = x25crc(bytes(header[1:]) + body)
    crc.accumulate(bytes([spec.crc_extra]))
    return bytes(header) + body + crc.crc.to_bytes(2, "little")


@pytest.mark.parametrize("flags", [0x02, 0x80])
def test_unknown_incompat_flags_drop_the_frame_as_pymavlink_does(flags: int) -> None:
    spec = SPEC["HEARTBEAT"]
    beat = frame(spec, bytes(range(1, spec.wire_length + 1)), seq=1)
    data = frame(spec, bytes(spec.wire_length), seq=0) + _with_flags(beat, spec, flags) + frame(
        spec, bytes(spec.wire_length), seq=2)
    result = decode(data)
    assert result.frames["HEARTBEAT"]["packet_seq"].tolist() == [0, 2]
    assert result.stats.incompatible_flags == 1
    assert result.stats.crc_failures == 0
    assert [m.get_header().seq for m in pymavlink_decode(data)] == [0, 2]


def _cut_signature(signed: bytes, remaining: int) -> bytes:
    return signed[:len(signed) - 13 + remaining]


@pytest.mark.parametrize("remaining", [0, 1, 6, 12])
def test_a_cut_signature_does_not_swallow_the_next_frame(remaining: int) -> None:
    spec = SPEC["ATTITUDE"]
    rng = random.Random(remaining)
    first = frame(spec, random_payload(spec, rng), seq=0, key=KEY, timestamp=5)
    rest = [frame(spec, random_payload(spec, rng), seq=i, key=KEY, timestamp=5 + i)
            for i in (1, 2)]
    data = _cut_signature(first, remaining) + b"".join(rest)
    result = decode(data)
    assert result.frames["ATTITUDE"]["packet_seq"].tolist() == [0, 1, 2]
    # pymavlink takes the next frame's first bytes as the cut frame's signature
    assert [m.get_header().seq for m in pymavlink_decode(data)][:2] != [0, 1]


def test_a_cut_signature_in_a_tlog_does_not_swallow_the_next_record(tmp_path) -> None:
    spec = SPEC["VFR_HUD"]
    rng = random.Random(9)
    records = [frame(spec, random_payload(spec, rng), seq=i, key=KEY, timestamp=i)
               for i in range(3)]
    records[0] = _cut_signature(records[0], 4)
    stamps = [1_700_000_000_000_000 + i for i in range(3)]
    path = tmp_path / "cut.tlog"
    path.write_bytes(b"".join(s.to_bytes(8, "big") + r for s, r in zip(stamps, records,
                                                                          strict=True)))
    table = decode_tlog(path)["VFR_HUD"]
    assert table["packet_seq"].tolist() == [0, 1, 2]
    assert table["time_us"].tolist() == stamps


def test_with_a_key_a_cut_signature_fails_and_the_next_frame_is_checked_alone() -> None:
    spec = SPEC["HEARTBEAT"]
    first = frame(spec, bytes(spec.wire_length), seq=0, key=KEY, timestamp=5)
    second = frame(spec, bytes(spec.wire_length), seq=1, key=KEY, timestamp=6)
    result = decode(_cut_signature(first, 12) + second + second, signing_key=KEY)
    assert result.frames["HEARTBEAT"]["packet_seq"].tolist() == [1]
    assert (result.stats.bad_signature, result.stats.replayed) == (1, 1)


def test_a_frame_cut_by_one_crc_byte_that_the_next_byte_matches_keeps_both() -> None:
    spec = SPEC["HEARTBEAT"]
    rng = random.Random(0)
    beats = (frame(spec, random_payload(spec, rng), seq=s % 256) for s in range(5000))
    first = next(b for b in beats if b[-1] == 0xFD)  # its last CRC byte is a magic byte
    second = frame(spec, bytes(spec.wire_length), seq=77)
    result = decode(first[:-1] + second)
    assert result.frames["HEARTBEAT"]["packet_seq"].tolist() == [first[4], 77]


def _noisy_link(seed: int, count: int = 1500) -> tuple[bytes, list[bytes]]:
    """Frames of every kind (MAVLink 1 and 2, half of these signed) as a radio link damages
    them: bit flips, junk between frames, frames and signatures cut short. Answers the stream
    and the frames that crossed it intact."""
    rng = random.Random(seed)
    specs = list(SPECS.values())
    stream, intact = bytearray(), []
    for index in range(count):
        spec = rng.choice(specs)
        v2 = spec.msgid > 255 or rng.random() < 0.8
        key = KEY if v2 and rng.random() < 0.5 else None
        data = bytearray(frame(spec, random_payload(spec, rng), v2=v2, seq=index % 256,
                               sysid=rng.randrange(1, 5), key=key, timestamp=index))
        damage = rng.random()
        if damage < 0.04:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif damage < 0.12 and key is not None:
            data = data[:len(data) - rng.randrange(1, 14)]  # the signature cut short
        elif damage < 0.15:
            data = data[:rng.randrange(1, len(data))]
        else:
            intact.append(bytes(data))
        if rng.random() < 0.04:
            stream += rng.randbytes(rng.randrange(1, 40))
        stream += data
    return bytes(stream), intact


def _assert_no_intact_frame_lost(seed: int) -> None:
    data, intact = _noisy_link(seed)
    ours = _our_rows(decode(data).frames)
    assert _their_rows(pymavlink_decode(b"".join(intact))) - ours == Counter()
    assert _their_rows(pymavlink_decode(data)) - ours == Counter()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_noisy_signed_links_lose_no_intact_frame(seed: int) -> None:
    _assert_no_intact_frame_lost(seed)


@pytest.mark.parametrize("seed", [1009, 2039, 4099])  # held out: never used while tuning
def test_noisy_signed_links_lose_no_intact_frame_held_out(seed: int) -> None:
    _assert_no_intact_frame_lost(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10_000, 10_100))
def test_noisy_signed_links_lose_no_intact_frame_soak(seed: int) -> None:
    _assert_no_intact_frame_lost(seed)


@pytest.mark.parametrize("seed", [0, 1])
def test_small_pieces_of_a_noisy_link_decode_as_the_whole(seed: int) -> None:
    data, _ = _noisy_link(seed, count=600)
    decoder = StreamDecoder()
    rng = random.Random(seed)
    parts = []
    for position in range(0, len(data), 64):
        decoder.append(data[position:position + 64])
        if rng.random() < 0.1:
            parts.append(decoder.take())
    parts.append(decoder.take(final=True))
    whole = decode(data)
    pieces = {name: pd.concat([p[name] for p in parts if name in p], ignore_index=True)
              for name in whole.frames}
    assert sorted(pieces) == sorted(whole.frames)
    for name, table in whole.frames.items():
        pd.testing.assert_frame_equal(pieces[name], table)
    assert decoder.stats == whole.stats


def test_appending_decodes_nothing_until_taken() -> None:
    decoder = StreamDecoder()
    beat = frame(SPEC["HEARTBEAT"], bytes(SPEC["HEARTBEAT"].wire_length))
    decoder.append(beat)
    decoder.append(beat[:5])
    assert decoder.pending_bytes == len(beat) + 5
    assert decoder.stats.frames == 0
    assert decoder.take() == {}  # held until what follows it is whole: it may show a cut
    assert decoder.pending_bytes == 0
    decoder.append(beat[5:])
    assert len(decoder.take()["HEARTBEAT"]) == 1
    assert len(decoder.take(final=True)["HEARTBEAT"]) == 1


def test_senders_that_leave_the_sequence_at_zero_lose_nothing() -> None:
    spec = SPEC["HEARTBEAT"]
    payload = bytes(spec.wire_length)
    zeros = b"".join(frame(spec, payload, seq=0, sysid=3) for _ in range(500))
    assert decode(zeros).stats.sequence_gaps == 0
    repeated = b"".join(frame(spec, payload, seq=9, sysid=4) for _ in range(50))
    assert decode(repeated).stats.sequence_gaps == 0


def test_link_loss_counts_from_where_a_sender_starts_counting() -> None:
    spec = SPEC["HEARTBEAT"]
    payload = bytes(spec.wire_length)
    seqs = [0, 0, 0, 7, 8, 10, 10, 14]  # from 7 -> 8 on: lost 9, 11, 12, 13
    data = b"".join(frame(spec, payload, seq=s) for s in seqs)
    assert decode(data).stats.sequence_gaps == 4
    decoder = StreamDecoder()  # across pieces, the sender stays known as counting
    decoder.feed(data)
    decoder.feed(frame(spec, payload, seq=20), final=True)
    assert decoder.stats.sequence_gaps == 4 + 5


def test_a_live_stream_holds_back_at_most_its_last_frame() -> None:
    spec = SPEC["HEARTBEAT"]
    rng = random.Random(4)
    data = b"".join(frame(spec, random_payload(spec, rng), seq=i % 256) for i in range(3000))
    decoder = StreamDecoder()
    decoder.append(data)
    assert len(decoder.take()["HEARTBEAT"]) >= 2999
    assert len(decoder.take(final=True).get("HEARTBEAT", [])) <= 1


def _cut_header_whose_crc_holds_over(following: bytes) -> bytes:
    """A HEARTBEAT header claiming one payload byte, cut right after the header, whose CRC
    happens to hold over the first three bytes of `following` (searched for: 1 in 65,536)."""
    spec = SPEC["HEARTBEAT"]
    wanted = following[1] | following[2] << 8
    for seq, compid in itertools.product(range(256), range(256)):
        header = bytes([0xFD, 1, 0, 0, seq, 200, compid, 0, 0, 0])
        crc = x25crc(header[1:] + following[:1])
        crc.accumulate(bytes([spec.crc_extra]))
        if crc.crc == wanted:
            return header
    raise AssertionError("no such header")


def test_a_cut_frame_whose_crc_holds_by_chance_does_not_hide_the_next() -> None:
    spec = SPEC["HEARTBEAT"]
    hidden = frame(spec, bytes(range(1, 10)), seq=7)
    after = frame(spec, bytes(range(1, 10)), seq=8)
    cut = _cut_header_whose_crc_holds_over(hidden)
    table = decode(cut + hidden + after).frames["HEARTBEAT"]
    assert table["packet_seq"].tolist() == [cut[4], 7, 8]  # the cut one decodes as garbage
    assert table["sysid"].tolist() == [200, 1, 1]
