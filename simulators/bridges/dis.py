"""DIS (IEEE 1278.1) Fire and Detonation PDUs: the fixed layouts this bridge needs.

Big-endian throughout. Header (12 bytes): protocol version, exercise id, PDU type, protocol
family, timestamp (u32), length (u16), padding (u16). Entity and event ids are
(site, application, number) as three u16. World locations are three f64 (metres, geocentric),
velocities three f32 (m/s). A burst descriptor is the munition's entity type (kind, domain,
country u16, category, subcategory, specific, extra) then warhead, fuse, quantity, rate (u16).
"""

import struct
from dataclasses import dataclass

FIRE, DETONATION = 2, 3
WARFARE_FAMILY = 2
HEADER = struct.Struct(">BBBBIHH")
ENTITY = struct.Struct(">HHH")
VECTOR64 = struct.Struct(">ddd")
VECTOR32 = struct.Struct(">fff")
BURST = struct.Struct(">BBHBBBBHHHH")
FIRE_BODY = struct.Struct(">6s6s6s6sI24s16s12sf")
DETONATION_BODY = struct.Struct(">6s6s6s6s12s24s16s12sBBH")
FIRE_LENGTH = HEADER.size + FIRE_BODY.size  # 96
DETONATION_LENGTH = HEADER.size + DETONATION_BODY.size  # 104

# SISO-REF-010 detonation results that mean the target was hit.
HIT_RESULTS = {1: "entity impact", 2: "entity proximate detonation"}
RESULT_NAMES = {0: "other", 1: "entity impact", 2: "entity proximate detonation",
                3: "ground impact", 4: "ground proximate detonation", 5: "detonation",
                6: "none or no detonation (dud)"}


class DISError(ValueError):
    """A datagram that is not a well-formed Fire or Detonation PDU."""


@dataclass(frozen=True)
class EntityType:
    kind: int
    domain: int
    country: int
    category: int
    subcategory: int
    specific: int
    extra: int


@dataclass(frozen=True)
class Burst:
    munition: EntityType
    warhead: int
    fuse: int
    quantity: int
    rate: int


@dataclass(frozen=True)
class Header:
    protocol_version: int
    exercise_id: int
    pdu_type: int
    timestamp: int
    length: int


@dataclass(frozen=True)
class FirePDU:
    header: Header
    firing_entity: tuple[int, int, int]
    target_entity: tuple[int, int, int]
    munition_entity: tuple[int, int, int]
    event: tuple[int, int, int]
    fire_mission_index: int
    location: tuple[float, float, float]
    burst: Burst
    velocity: tuple[float, float, float]
    range_m: float


@dataclass(frozen=True)
class DetonationPDU:
    header: Header
    firing_entity: tuple[int, int, int]
    target_entity: tuple[int, int, int]
    munition_entity: tuple[int, int, int]
    event: tuple[int, int, int]
    velocity: tuple[float, float, float]
    location: tuple[float, float, float]
    burst: Burst
    location_in_entity: tuple[float, float, float]
    result: int


def _burst(raw: bytes) -> Burst:
    kind, domain, country, category, sub, specific, extra, warhead, fuse, quantity, rate = \
        BURST.unpack(raw)
    return Burst(EntityType(kind, domain, country, category, sub, specific, extra), warhead,
                 fuse, quantity, rate)


def _pack_burst(burst: Burst) -> bytes:
    m = burst.munition
    return BURST.pack(m.kind, m.domain, m.country, m.category, m.subcategory, m.specific,
                      m.extra, burst.warhead, burst.fuse, burst.quantity, burst.rate)


def parse_pdu(data: bytes) -> FirePDU | DetonationPDU:
    """A Fire or Detonation PDU from one datagram; DISError says what is wrong otherwise."""
    if len(data) < HEADER.size:
        raise DISError(f"PDU of {len(data)} bytes is shorter than the 12-byte header")
    version, exercise, pdu_type, family, timestamp, length, _ = HEADER.unpack_from(data)
    if family != WARFARE_FAMILY:
        raise DISError(f"protocol family {family} is not warfare (2)")
    if length != len(data):
        raise DISError(f"length field says {length} bytes but the datagram has {len(data)}")
    header = Header(version, exercise, pdu_type, timestamp, length)
    if pdu_type == FIRE:
        if length != FIRE_LENGTH:
            raise DISError(f"a Fire PDU has {FIRE_LENGTH} bytes, not {length}")
        fields = FIRE_BODY.unpack_from(data, HEADER.size)
        return FirePDU(header, *(ENTITY.unpack(f) for f in fields[:4]), fields[4],
                       VECTOR64.unpack(fields[5]), _burst(fields[6]),
                       VECTOR32.unpack(fields[7]), fields[8])
    if pdu_type == DETONATION:
        if length < DETONATION_LENGTH or (length - DETONATION_LENGTH) % 16:
            raise DISError(f"a Detonation PDU has {DETONATION_LENGTH} bytes plus 16 per "
                           f"articulation parameter, not {length}")
        fields = DETONATION_BODY.unpack_from(data, HEADER.size)
        if length != DETONATION_LENGTH + 16 * fields[9]:
            raise DISError("the articulation parameter count does not match the length")
        return DetonationPDU(header, *(ENTITY.unpack(f) for f in fields[:4]),
                             VECTOR32.unpack(fields[4]), VECTOR64.unpack(fields[5]),
                             _burst(fields[6]), VECTOR32.unpack(fields[7]), fields[8])
    raise DISError(f"PDU type {pdu_type} is neither Fire (2) nor Detonation (3)")


def build_pdu(pdu: FirePDU | DetonationPDU) -> bytes:
    """The bytes of a PDU (for simulators that want to send, and for tests' round trips)."""
    ids = b"".join(ENTITY.pack(*e) for e in (pdu.firing_entity, pdu.target_entity,
                                             pdu.munition_entity, pdu.event))
    if isinstance(pdu, FirePDU):
        body = ids + struct.pack(">I", pdu.fire_mission_index) + VECTOR64.pack(*pdu.location) \
            + _pack_burst(pdu.burst) + VECTOR32.pack(*pdu.velocity) + struct.pack(">f",
                                                                                 pdu.range_m)
        pdu_type = FIRE
    else:
        body = ids + VECTOR32.pack(*pdu.velocity) + VECTOR64.pack(*pdu.location) \
            + _pack_burst(pdu.burst) + VECTOR32.pack(*pdu.location_in_entity) \
            + struct.pack(">BBH", pdu.result, 0, 0)
        pdu_type = DETONATION
    h = pdu.header
    return HEADER.pack(h.protocol_version, h.exercise_id, pdu_type, WARFARE_FAMILY,
                       h.timestamp, HEADER.size + len(body), 0) + body


def engagement_of(detonation: DetonationPDU, fire: FirePDU | None, *, threat_kind: str,
                  threat_cost_cents: int) -> dict[str, object]:
    """One engagement: munition → interceptor, target → threat, result → outcome.

    Results 1 (entity impact) and 2 (entity proximate detonation) are intercepts; every other
    result (ground impact, dud, …) is a miss. Interceptors used: the Fire PDU's burst quantity
    when the fire event is known, else the detonation's.
    """
    quantity = (fire or detonation).burst.quantity
    hit = detonation.result in HIT_RESULTS
    return {"threat_kind": threat_kind, "threat_cost_cents": threat_cost_cents,
            "interceptors_used": max(int(quantity), 1),
            "outcome": "intercept" if hit else "miss",
            "time_to_intercept_s": flight_s(fire, detonation) if hit and fire else None,
            "operating_cost_cents": None,
            "result_name": RESULT_NAMES.get(detonation.result, f"result {detonation.result}")}


def flight_s(fire: FirePDU, detonation: DetonationPDU) -> float:
    """Seconds from fire to detonation: DIS time counts 2**31 units an hour above bit 0."""
    units = ((detonation.header.timestamp >> 1) - (fire.header.timestamp >> 1)) % 2**31
    return units * 3600 / 2**31
