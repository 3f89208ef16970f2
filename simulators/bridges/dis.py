"""DIS (IEEE 1278.1-2012, "DIS 7") as this bridge reads it: Fire, Detonation and Entity State
PDUs field by field, every other PDU by its header with the body kept whole. Pure.

Big-endian throughout. Header (12 bytes): protocol version, exercise id, PDU type, protocol
family, timestamp (u32), length (u16), PDU status (u8), padding (u8). Before DIS 7 the status
byte was padding, so its bits are read only when the protocol version is 7 or more. Entity and
event ids are (site, application, number) as three u16; world locations three f64 (metres,
geocentric); velocities three f32 (m/s, world axes); orientations three f32 (psi, theta, phi,
radians from the world axes).

The 16-byte descriptor of Fire and Detonation PDUs is one of three records, and the PDU status
says which (6.2.67): the Fire Type Indicator (bit 4: munition, expendable) and the Detonation
Type Indicator (bits 4-5: munition, expendable, non-munition explosion). Every field read,
padding included, is kept, so `build_pdu(parse_pdu(b)) == b`.
"""

import struct
from dataclasses import dataclass, replace

ENTITY_STATE, FIRE, DETONATION = 1, 2, 3
ENTITY_INFORMATION_FAMILY, WARFARE_FAMILY = 1, 2
FAMILY_OF = {ENTITY_STATE: ENTITY_INFORMATION_FAMILY, FIRE: WARFARE_FAMILY,
             DETONATION: WARFARE_FAMILY}
VERSIONS = range(1, 8)  # SISO-REF-010 protocol versions: DIS PDU version 1 to IEEE 1278.1-2012

HEADER = struct.Struct(">BBBBIHBB")
ENTITY_TYPE = struct.Struct(">BBHBBBB")
MUNITION = struct.Struct(">8sHHHH")
EXPLOSION = struct.Struct(">8sHHf")
EXPENDABLE = struct.Struct(">8sQ")
FIRE_BODY = struct.Struct(">3H3H3H3HI3d16s3ff")
DETONATION_BODY = struct.Struct(">3H3H3H3H3f3d16s3fBBH")
ENTITY_STATE_BODY = struct.Struct(">3HBB8s8s3f3d3fIB15s3f3fB11sI")
PARAMETER = 16  # bytes per variable parameter record
FIRE_LENGTH = HEADER.size + FIRE_BODY.size  # 96
DETONATION_LENGTH = HEADER.size + DETONATION_BODY.size  # 104 + 16 per variable parameter
ENTITY_STATE_LENGTH = HEADER.size + ENTITY_STATE_BODY.size  # 144 + 16 per variable parameter

# Descriptor kinds: the values of the Fire and Detonation Type Indicators.
MUNITION_KIND, EXPENDABLE_KIND, EXPLOSION_KIND = 0, 1, 2
TYPE_INDICATOR_SHIFT = 4

# SISO-REF-010 detonation results that mean the target was hit.
HIT_RESULTS = {1: "entity impact", 2: "entity proximate detonation"}
RESULT_NAMES = {0: "other", 1: "entity impact", 2: "entity proximate detonation",
                3: "ground impact", 4: "ground proximate detonation", 5: "detonation",
                6: "none or no detonation (dud)"}
# SISO-REF-010 PDU types, for counting what the bridge does not use.
PDU_NAMES = {1: "Entity State", 2: "Fire", 3: "Detonation", 4: "Collision",
             11: "Create Entity", 12: "Remove Entity", 13: "Start/Resume", 14: "Stop/Freeze",
             15: "Acknowledge", 16: "Action Request", 17: "Action Response", 18: "Data Query",
             19: "Set Data", 20: "Data", 21: "Event Report", 22: "Comment",
             23: "Electromagnetic Emission", 24: "Designator", 25: "Transmitter", 26: "Signal",
             27: "Receiver", 28: "IFF", 31: "Intercom Signal", 32: "Intercom Control",
             66: "Collision-Elastic", 67: "Entity State Update", 68: "Directed Energy Fire",
             69: "Entity Damage Status", 72: "Attribute"}

EntityId = tuple[int, int, int]  # (site, application, entity or event number)
Vector = tuple[float, float, float]


class DISError(ValueError):
    """Bytes that are not a well-formed PDU (truncated, lengths that lie, undefined layouts)."""


def pdu_name(pdu_type: int) -> str:
    return PDU_NAMES.get(pdu_type, f"PDU type {pdu_type}")


@dataclass(frozen=True)
class EntityType:
    kind: int
    domain: int
    country: int
    category: int
    subcategory: int
    specific: int
    extra: int

    def __str__(self) -> str:
        """The usual dotted notation, e.g. 1.2.222.1.3.0.0."""
        return ".".join(str(part) for part in (self.kind, self.domain, self.country,
                                               self.category, self.subcategory, self.specific,
                                               self.extra))


def _entity_type(raw: bytes) -> EntityType:
    return EntityType(*ENTITY_TYPE.unpack(raw))


def _pack_type(entity_type: EntityType) -> bytes:
    t = entity_type
    return ENTITY_TYPE.pack(t.kind, t.domain, t.country, t.category, t.subcategory, t.specific,
                            t.extra)


@dataclass(frozen=True)
class Header:
    protocol_version: int
    exercise_id: int
    pdu_type: int
    protocol_family: int
    timestamp: int
    length: int
    status: int = 0  # PDU status (DIS 7); what its bits mean depends on the PDU type
    padding: int = 0


# --- descriptors -----------------------------------------------------------------------------

@dataclass(frozen=True)
class MunitionDescriptor:
    """A burst of munitions: how many were fired, with which warhead and fuse."""

    munition: EntityType
    warhead: int
    fuse: int
    quantity: int
    rate: int  # rounds per minute


@dataclass(frozen=True)
class ExplosionDescriptor:
    """A non-munition explosion: no quantity, only what blew up and how hard."""

    exploding_object: EntityType
    explosive_material: int  # SISO-REF-010 explosive material categories
    explosive_force: float  # kg of TNT equivalent
    padding: int = 0


@dataclass(frozen=True)
class ExpendableDescriptor:
    """Chaff, a flare or another expendable: only its type."""

    expendable: EntityType
    padding: int = 0  # 64 bits


Descriptor = MunitionDescriptor | ExplosionDescriptor | ExpendableDescriptor
DESCRIPTOR_KIND = {MunitionDescriptor: MUNITION_KIND, ExpendableDescriptor: EXPENDABLE_KIND,
                   ExplosionDescriptor: EXPLOSION_KIND}


def _descriptor(raw: bytes, kind: int) -> Descriptor:
    if kind == MUNITION_KIND:
        munition, warhead, fuse, quantity, rate = MUNITION.unpack(raw)
        return MunitionDescriptor(_entity_type(munition), warhead, fuse, quantity, rate)
    if kind == EXPLOSION_KIND:
        exploded, material, padding, force = EXPLOSION.unpack(raw)
        return ExplosionDescriptor(_entity_type(exploded), material, force, padding)
    if kind == EXPENDABLE_KIND:
        expendable, padding = EXPENDABLE.unpack(raw)
        return ExpendableDescriptor(_entity_type(expendable), padding)
    raise DISError(f"descriptor type indicator {kind} is not defined (0 munition, "
                   "1 expendable, 2 explosion)")


def _pack_descriptor(d: Descriptor) -> bytes:
    if isinstance(d, MunitionDescriptor):
        return MUNITION.pack(_pack_type(d.munition), d.warhead, d.fuse, d.quantity, d.rate)
    if isinstance(d, ExplosionDescriptor):
        return EXPLOSION.pack(_pack_type(d.exploding_object), d.explosive_material, d.padding,
                              d.explosive_force)
    return EXPENDABLE.pack(_pack_type(d.expendable), d.padding)


def _kind_read(header: Header, mask: int) -> int:
    """The descriptor kind the PDU status announces; DIS 6 and earlier knew only munitions."""
    if header.protocol_version < 7:
        return MUNITION_KIND
    return (header.status >> TYPE_INDICATOR_SHIFT) & mask


def _status_for(header: Header, descriptor: Descriptor, mask: int) -> int:
    """The PDU status with the type indicator bits saying what `descriptor` is."""
    kind = DESCRIPTOR_KIND[type(descriptor)]
    if header.protocol_version < 7:
        if kind != MUNITION_KIND:
            raise ValueError("DIS 6 and earlier carry only munition descriptors")
        return header.status
    if kind & ~mask:
        raise ValueError(f"{type(descriptor).__name__} cannot be announced in this PDU")
    return header.status & ~(mask << TYPE_INDICATOR_SHIFT) | kind << TYPE_INDICATOR_SHIFT


# --- variable parameter records (6.2.94) -----------------------------------------------------

@dataclass(frozen=True)
class ArticulatedPart:
    """Record type 0: one parameter of a movable part (azimuth, elevation, extension…)."""

    change_indicator: int
    attached_to: int
    parameter_type: int
    value: float
    padding: int = 0


@dataclass(frozen=True)
class AttachedPart:
    """Record type 1: a part attached to a station of the entity."""

    detached: int
    attached_to: int
    parameter_type: int
    part_type: EntityType


@dataclass(frozen=True)
class EntityTypeParameter:
    """Record type 3: the entity's type changed (or is given) in this PDU."""

    change_indicator: int
    entity_type: EntityType
    padding: int = 0  # 48 bits


@dataclass(frozen=True)
class OtherParameter:
    """Any other record (separation, entity association…): its 15 bytes kept whole."""

    record_type: int
    data: bytes


VariableParameter = ArticulatedPart | AttachedPart | EntityTypeParameter | OtherParameter
ARTICULATED = struct.Struct(">BBHIfI")
ATTACHED = struct.Struct(">BBHI8s")
ENTITY_TYPE_RECORD = struct.Struct(">BB8sHI")


def _parameter(raw: bytes) -> VariableParameter:
    if raw[0] == 0:
        _, change, attached_to, parameter_type, value, padding = ARTICULATED.unpack(raw)
        return ArticulatedPart(change, attached_to, parameter_type, value, padding)
    if raw[0] == 1:
        _, detached, attached_to, parameter_type, part = ATTACHED.unpack(raw)
        return AttachedPart(detached, attached_to, parameter_type, _entity_type(part))
    if raw[0] == 3:
        _, change, entity_type, high, low = ENTITY_TYPE_RECORD.unpack(raw)
        return EntityTypeParameter(change, _entity_type(entity_type), high << 32 | low)
    return OtherParameter(raw[0], raw[1:])


def _pack_parameter(p: VariableParameter) -> bytes:
    if isinstance(p, ArticulatedPart):
        return ARTICULATED.pack(0, p.change_indicator, p.attached_to, p.parameter_type,
                                p.value, p.padding)
    if isinstance(p, AttachedPart):
        return ATTACHED.pack(1, p.detached, p.attached_to, p.parameter_type,
                             _pack_type(p.part_type))
    if isinstance(p, EntityTypeParameter):
        return ENTITY_TYPE_RECORD.pack(3, p.change_indicator, _pack_type(p.entity_type),
                                       p.padding >> 32, p.padding & 0xFFFF_FFFF)
    return bytes([p.record_type]) + p.data


def _parameters(data: bytes, offset: int, count: int) -> tuple[VariableParameter, ...]:
    return tuple(_parameter(data[start:start + PARAMETER])
                 for start in range(offset, offset + count * PARAMETER, PARAMETER))


# --- PDUs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FirePDU:
    header: Header
    firing_entity: EntityId
    target_entity: EntityId
    munition_entity: EntityId  # the munition or expendable fired
    event: EntityId
    fire_mission_index: int
    location: Vector
    descriptor: MunitionDescriptor | ExpendableDescriptor
    velocity: Vector
    range_m: float


@dataclass(frozen=True)
class DetonationPDU:
    header: Header
    firing_entity: EntityId
    target_entity: EntityId
    exploding_entity: EntityId  # the munition, expendable or object that exploded
    event: EntityId
    velocity: Vector
    location: Vector
    descriptor: Descriptor
    location_in_entity: Vector
    result: int
    variable_parameters: tuple[VariableParameter, ...] = ()
    padding: int = 0


@dataclass(frozen=True)
class DeadReckoning:
    algorithm: int
    parameters: bytes  # 15 bytes; their meaning depends on the algorithm
    linear_acceleration: Vector
    angular_velocity: Vector  # rad/s about the entity's own axes


@dataclass(frozen=True)
class EntityStatePDU:
    header: Header
    entity: EntityId
    force_id: int
    entity_type: EntityType
    alternative_type: EntityType
    velocity: Vector
    location: Vector
    orientation: Vector  # psi, theta, phi
    appearance: int
    dead_reckoning: DeadReckoning
    marking_charset: int
    marking: bytes  # 11 bytes
    capabilities: int
    variable_parameters: tuple[VariableParameter, ...] = ()


@dataclass(frozen=True)
class OtherPDU:
    """A well-formed PDU of a type this bridge does not read: its header and whole body."""

    header: Header
    body: bytes


PDU = FirePDU | DetonationPDU | EntityStatePDU | OtherPDU


def split_datagram(data: bytes) -> list[bytes]:
    """The PDUs of one datagram: senders may bundle several, each with its own length."""
    pdus, offset = [], 0
    while offset < len(data):
        if len(data) - offset < HEADER.size:
            raise DISError(f"PDU of {len(data) - offset} bytes is shorter than the 12-byte "
                           "header")
        length = HEADER.unpack_from(data, offset)[5]
        if length < HEADER.size:
            raise DISError(f"length field says {length} bytes, less than the 12-byte header")
        if offset + length > len(data):
            raise DISError(f"length field says {length} bytes but the datagram has "
                           f"{len(data) - offset} left")
        pdus.append(data[offset:offset + length])
        offset += length
    if not pdus:
        raise DISError("empty datagram")
    return pdus


def parse_pdu(data: bytes) -> PDU:
    """One PDU from exactly its bytes; DISError says what is wrong otherwise."""
    if len(data) < HEADER.size:
        raise DISError(f"PDU of {len(data)} bytes is shorter than the 12-byte header")
    header = Header(*HEADER.unpack_from(data))
    if header.protocol_version not in VERSIONS:
        raise DISError(f"protocol version {header.protocol_version} is not DIS (1 to 7)")
    if header.length != len(data):
        raise DISError(f"length field says {header.length} bytes but the PDU has {len(data)}")
    family = FAMILY_OF.get(header.pdu_type, header.protocol_family)
    if header.protocol_family != family:
        raise DISError(f"protocol family {header.protocol_family} does not carry "
                       f"{pdu_name(header.pdu_type)} PDUs (family {family})")
    if header.pdu_type == FIRE:
        return _fire(header, data)
    if header.pdu_type == DETONATION:
        return _detonation(header, data)
    if header.pdu_type == ENTITY_STATE:
        return _entity_state(header, data)
    return OtherPDU(header, data[HEADER.size:])


def _ids(fields: tuple, count: int) -> list[EntityId]:
    return [tuple(fields[3 * i:3 * i + 3]) for i in range(count)]  # type: ignore[misc]


def _vector(fields: tuple, start: int) -> Vector:
    return tuple(fields[start:start + 3])  # type: ignore[return-value]


def _fire(header: Header, data: bytes) -> FirePDU:
    if header.length != FIRE_LENGTH:
        raise DISError(f"a Fire PDU has {FIRE_LENGTH} bytes, not {header.length}")
    f = FIRE_BODY.unpack_from(data, HEADER.size)
    descriptor = _descriptor(f[16], _kind_read(header, 0b1))
    assert not isinstance(descriptor, ExplosionDescriptor)  # a 1-bit indicator cannot say 2
    return FirePDU(header, *_ids(f, 4), f[12], _vector(f, 13), descriptor, _vector(f, 17),
                   f[20])


def _detonation(header: Header, data: bytes) -> DetonationPDU:
    count = data[DETONATION_LENGTH - 3] if len(data) >= DETONATION_LENGTH else 0
    if header.length != DETONATION_LENGTH + PARAMETER * count:
        raise DISError(f"a Detonation PDU with {count} variable parameters has "
                       f"{DETONATION_LENGTH + PARAMETER * count} bytes, not {header.length}")
    f = DETONATION_BODY.unpack_from(data, HEADER.size)
    return DetonationPDU(header, *_ids(f, 4), _vector(f, 12), _vector(f, 15),
                         _descriptor(f[18], _kind_read(header, 0b11)), _vector(f, 19), f[22],
                         _parameters(data, DETONATION_LENGTH, count), f[24])


def _entity_state(header: Header, data: bytes) -> EntityStatePDU:
    count = data[HEADER.size + 7] if len(data) > HEADER.size + 7 else 0
    if header.length != ENTITY_STATE_LENGTH + PARAMETER * count:
        raise DISError(f"an Entity State PDU with {count} variable parameters has "
                       f"{ENTITY_STATE_LENGTH + PARAMETER * count} bytes, not {header.length}")
    f = ENTITY_STATE_BODY.unpack_from(data, HEADER.size)
    reckoning = DeadReckoning(f[17], f[18], _vector(f, 19), _vector(f, 22))
    return EntityStatePDU(header, _ids(f, 1)[0], f[3], _entity_type(f[5]), _entity_type(f[6]),
                          _vector(f, 7), _vector(f, 10), _vector(f, 13), f[16], reckoning,
                          f[25], f[26], f[27], _parameters(data, ENTITY_STATE_LENGTH, count))


def build_pdu(pdu: PDU) -> bytes:
    """The bytes of a PDU (for simulators that send, and for round trips); the length and
    the descriptor type indicator are set from the content."""
    header, body = pdu.header, b""
    if isinstance(pdu, FirePDU):
        header = replace(header, status=_status_for(header, pdu.descriptor, 0b1))
        body = FIRE_BODY.pack(*pdu.firing_entity, *pdu.target_entity, *pdu.munition_entity,
                              *pdu.event, pdu.fire_mission_index, *pdu.location,
                              _pack_descriptor(pdu.descriptor), *pdu.velocity, pdu.range_m)
    elif isinstance(pdu, DetonationPDU):
        header = replace(header, status=_status_for(header, pdu.descriptor, 0b11))
        body = DETONATION_BODY.pack(
            *pdu.firing_entity, *pdu.target_entity, *pdu.exploding_entity, *pdu.event,
            *pdu.velocity, *pdu.location, _pack_descriptor(pdu.descriptor),
            *pdu.location_in_entity, pdu.result, len(pdu.variable_parameters), pdu.padding)
        body += b"".join(_pack_parameter(p) for p in pdu.variable_parameters)
    elif isinstance(pdu, EntityStatePDU):
        body = _pack_entity_state(pdu)
    else:
        body = pdu.body
    h = header
    return HEADER.pack(h.protocol_version, h.exercise_id, h.pdu_type, h.protocol_family,
                       h.timestamp, HEADER.size + len(body), h.status, h.padding) + body


def _pack_entity_state(pdu: EntityStatePDU) -> bytes:
    r = pdu.dead_reckoning
    return ENTITY_STATE_BODY.pack(
        *pdu.entity, pdu.force_id, len(pdu.variable_parameters), _pack_type(pdu.entity_type),
        _pack_type(pdu.alternative_type), *pdu.velocity, *pdu.location, *pdu.orientation,
        pdu.appearance, r.algorithm, r.parameters, *r.linear_acceleration,
        *r.angular_velocity, pdu.marking_charset, pdu.marking, pdu.capabilities,
    ) + b"".join(_pack_parameter(p) for p in pdu.variable_parameters)


# --- engagements -----------------------------------------------------------------------------

def interceptors_used(detonation: DetonationPDU, fire: FirePDU | None) -> int | None:
    """Interceptors a detonation stands for, or None when it is no shot at a threat.

    Only a munition burst has a quantity: the Fire PDU's when the fire event is known (it is
    the launch), else the detonation's; a quantity of 0 still fired one. An explosion
    descriptor is one object blowing itself up (an interceptor drone on its target): 1. An
    expendable (chaff, flare, decoy) is a countermeasure, not a shot: None.
    """
    if isinstance(detonation.descriptor, ExpendableDescriptor):
        return None
    for pdu in (fire, detonation):
        if pdu is not None and isinstance(pdu.descriptor, MunitionDescriptor):
            return max(pdu.descriptor.quantity, 1)
    return 1


def engagement_of(detonation: DetonationPDU, fire: FirePDU | None, *, threat_kind: str,
                  threat_cost_cents: int) -> dict[str, object] | None:
    """One engagement: munition → interceptor, target → threat, result → outcome; None for
    a detonation that is no shot (see `interceptors_used`).

    Results 1 (entity impact) and 2 (entity proximate detonation) are intercepts; every other
    result (ground impact, dud, …) is a miss.
    """
    used = interceptors_used(detonation, fire)
    if used is None:
        return None
    hit = detonation.result in HIT_RESULTS
    return {"threat_kind": threat_kind, "threat_cost_cents": threat_cost_cents,
            "interceptors_used": used, "outcome": "intercept" if hit else "miss",
            "time_to_intercept_s": flight_s(fire, detonation) if hit and fire else None,
            "operating_cost_cents": None,
            "result_name": RESULT_NAMES.get(detonation.result, f"result {detonation.result}")}


def flight_s(fire: FirePDU, detonation: DetonationPDU) -> float:
    """Seconds from fire to detonation: DIS time counts 2**31 units an hour above bit 0."""
    units = ((detonation.header.timestamp >> 1) - (fire.header.timestamp >> 1)) % 2**31
    return units * 3600 / 2**31
