"""Our DIS codec against the standard's own open implementation, open-dis-python (`opendis`).

PDUs are built with opendis, read by us field for field, built back byte for byte; our bytes
are read by opendis to the same values. Where opendis departs from IEEE 1278.1-2012 the test
says so and works around it:
- every PDU: `pduType` and `protocolFamily` default to 0 on instances (the class constants are
  shadowed), `pduStatus` defaults to an object it cannot write, `length` is never computed;
- Fire and Detonation: the descriptor is always read as a munition descriptor, whatever the
  PDU status's type indicator says, so an explosion (material 602, 55 kg TNT) reads as
  "quantity 16,988" (the very error of issue 10). We read those descriptors with opendis's
  own ExplosionDescriptor / ExpendableDescriptor at the descriptor's offset instead;
- variable parameters are read as a generic record split (u8, f64, u32, u16, u8), never by
  record type; ArticulatedParts writes its value as a 64-bit integer (the standard: a 32-bit
  float and 32 bits of padding); AttachedParts cannot be written at all (it writes an
  attribute it never sets). We use EntityTypeVP (correct) and ArticulatedParts with the
  float's bits placed in the integer;
- Entity State: `entityAppearance` and `capabilities` default to bytes it cannot write.
"""

import struct
from io import BytesIO

import numpy as np
import pytest

from simulators.bridges.dis import (
    ArticulatedPart,
    DetonationPDU,
    EntityStatePDU,
    EntityType,
    EntityTypeParameter,
    ExpendableDescriptor,
    ExplosionDescriptor,
    FirePDU,
    Header,
    MunitionDescriptor,
    build_pdu,
    engagement_of,
    parse_pdu,
)

dis7 = pytest.importorskip(
    "opendis.dis7", reason="opendis 1.0 declares numpy<2 although it runs on numpy 2; "
    "install it with `pip install --no-deps opendis==1.0`")
from opendis.DataInputStream import DataInputStream  # noqa: E402
from opendis.DataOutputStream import DataOutputStream  # noqa: E402
from opendis.PduFactory import createPdu  # noqa: E402
from opendis.RangeCoordinates import GPS  # noqa: E402

from hub.flows.dis import attitude  # noqa: E402
from telemetry.geodesy import ned_axes, to_geodetic  # noqa: E402

DESCRIPTOR_OFFSET = {2: 12 + 28 + 24, 3: 12 + 24 + 12 + 24}  # Fire, Detonation


def _bytes(pdu, pdu_type: int, family: int, status: int = 0) -> bytes:
    pdu.pduType, pdu.protocolFamily, pdu.pduStatus = pdu_type, family, status
    pdu.exerciseID, pdu.timestamp = 1, 0x01000003
    for _ in range(2):  # opendis leaves the length to us: serialise, measure, serialise again
        out = BytesIO()
        pdu.serialize(DataOutputStream(out))
        pdu.length = len(out.getvalue())
    return out.getvalue()


def _type(o) -> EntityType:
    return EntityType(o.entityKind, o.domain, o.country, o.category, o.subcategory, o.specific,
                      o.extra)


def _entity(o) -> tuple[int, int, int]:
    return (o.siteID, o.applicationID, o.entityID)


def _event(o) -> tuple[int, int, int]:
    return (o.simulationAddress.site, o.simulationAddress.application, o.eventNumber)


def _vector(o) -> tuple[float, float, float]:
    return (o.x, o.y, o.z)


def _header(o) -> Header:
    return Header(o.protocolVersion, o.exerciseID, o.pduType, o.protocolFamily, o.timestamp,
                  o.length, o.pduStatus, o.padding)


def _descriptor(data: bytes, cls):
    """A descriptor read by opendis's own record class at the descriptor's offset."""
    record = cls()
    record.parse(DataInputStream(BytesIO(data[DESCRIPTOR_OFFSET[data[2]]:])))
    return record


def _munition() -> object:
    return dis7.MunitionDescriptor(dis7.EntityType(2, 2, 225, 1, 2, 3, 0), 1000, 100, 4, 600)


def _detonation(descriptor, status: int) -> bytes:
    articulated = dis7.ArticulatedParts(1, 0, 4107, struct.unpack(
        ">q", struct.pack(">fI", 0.5, 0))[0])  # opendis writes the value as an int64
    pdu = dis7.DetonationPdu(
        dis7.EntityID(1, 2, 256), dis7.EventIdentifier(dis7.SimulationAddress(1, 2), 42),
        dis7.Vector3Float(-12.5, 3.25, 100.0), dis7.Vector3Double(3.2e6, 2.4e6, 4.9e6),
        descriptor, dis7.Vector3Float(0.5, -0.25, 1.0), 1,
        [articulated, dis7.EntityTypeVP(1, dis7.EntityType(1, 2, 102, 1, 3, 0, 0))])
    pdu.firingEntityID, pdu.targetEntityID = dis7.EntityID(1, 2, 3), dis7.EntityID(1, 2, 99)
    return _bytes(pdu, 3, 2, status)


def _fire(descriptor, status: int) -> bytes:
    pdu = dis7.FirePdu(dis7.EntityID(1, 2, 256),
                       dis7.EventIdentifier(dis7.SimulationAddress(1, 2), 42), 7,
                       dis7.Vector3Double(3.2e6, 2.4e6, 4.9e6), descriptor,
                       dis7.Vector3Float(100.0, 0.0, -3.5), 2000.0)
    pdu.firingEntityID, pdu.targetEntityID = dis7.EntityID(1, 2, 3), dis7.EntityID(1, 2, 99)
    return _bytes(pdu, 2, 2, status)


def _check_warfare_ids(ours: FirePDU | DetonationPDU, theirs) -> None:
    assert ours.header == _header(theirs)
    assert (ours.firing_entity, ours.target_entity, ours.event) == (
        _entity(theirs.firingEntityID), _entity(theirs.targetEntityID), _event(theirs.eventID))
    assert ours.location == _vector(theirs.location)
    assert ours.velocity == _vector(theirs.velocity)


def _check_munition(ours: MunitionDescriptor, theirs) -> None:
    assert (ours.munition, ours.warhead, ours.fuse, ours.quantity, ours.rate) == (
        _type(theirs.munitionType), theirs.warhead, theirs.fuse, theirs.quantity, theirs.rate)


@pytest.mark.parametrize("kind", ["munition", "expendable"])
def test_fire_pdus_from_opendis_read_field_for_field_and_build_back(kind: str) -> None:
    descriptor = _munition() if kind == "munition" else dis7.ExpendableDescriptor(
        dis7.EntityType(3, 2, 225, 1, 2, 0, 0))
    data = _fire(descriptor, status=0x10 if kind == "expendable" else 0)
    ours, theirs = parse_pdu(data), createPdu(data)
    assert isinstance(ours, FirePDU)
    _check_warfare_ids(ours, theirs)
    assert (ours.munition_entity, ours.fire_mission_index, ours.range_m) == (
        _entity(theirs.munitionExpendableID), theirs.fireMissionIndex, theirs.range)
    if kind == "munition":
        assert isinstance(ours.descriptor, MunitionDescriptor)
        _check_munition(ours.descriptor, theirs.descriptor)
    else:
        assert ours.descriptor == ExpendableDescriptor(_type(_descriptor(
            data, dis7.ExpendableDescriptor).expendableType))
    assert build_pdu(ours) == data


def _check_parameters(ours: DetonationPDU | EntityStatePDU, data: bytes, theirs) -> None:
    assert len(ours.variable_parameters) == len(theirs.variableParameters) == 2
    first, second = ours.variable_parameters
    assert first == ArticulatedPart(change_indicator=1, attached_to=0, parameter_type=4107,
                                    value=0.5)
    record = dis7.EntityTypeVP()
    record.parse(DataInputStream(BytesIO(data[-16:])))
    assert second == EntityTypeParameter(record.changeIndicator, _type(record.entityType))
    assert [p.recordType for p in theirs.variableParameters] == [0, 3]


def test_detonation_munition_from_opendis_reads_and_builds_back() -> None:
    data = _detonation(_munition(), status=0)
    ours, theirs = parse_pdu(data), createPdu(data)
    assert isinstance(ours, DetonationPDU) and isinstance(ours.descriptor, MunitionDescriptor)
    _check_warfare_ids(ours, theirs)
    _check_munition(ours.descriptor, theirs.descriptor)
    assert (ours.exploding_entity, ours.location_in_entity, ours.result) == (
        _entity(theirs.explodingEntityID), _vector(theirs.locationInEntityCoordinates),
        theirs.detonationResult)
    _check_parameters(ours, data, theirs)
    assert build_pdu(ours) == data


def test_detonation_explosion_from_opendis_is_material_and_force() -> None:
    exploded = dis7.ExplosionDescriptor(dis7.EntityType(1, 2, 102, 1, 3, 0, 0), 602, 55.0)
    data = _detonation(exploded, status=0x20)
    ours = parse_pdu(data)
    assert isinstance(ours, DetonationPDU)
    theirs = _descriptor(data, dis7.ExplosionDescriptor)
    assert ours.descriptor == ExplosionDescriptor(_type(theirs.explodingObject), 602, 55.0)
    _check_parameters(ours, data, createPdu(data))
    assert build_pdu(ours) == data
    row = engagement_of(ours, None, threat_kind="shahed_136", threat_cost_cents=1)
    assert row is not None and row["interceptors_used"] == 1


def test_detonation_expendable_from_opendis_is_its_type_only() -> None:
    data = _detonation(dis7.ExpendableDescriptor(dis7.EntityType(3, 2, 225, 2, 1, 0, 0)),
                       status=0x10)
    ours = parse_pdu(data)
    assert isinstance(ours, DetonationPDU)
    assert ours.descriptor == ExpendableDescriptor(EntityType(3, 2, 225, 2, 1, 0, 0))
    assert build_pdu(ours) == data
    assert engagement_of(ours, None, threat_kind="shahed_136", threat_cost_cents=1) is None


def _entity_state() -> bytes:
    marking = dis7.EntityMarking(1)
    marking.setString("SHAHED 7")
    reckoning = dis7.DeadReckoningParameters(
        4, list(range(15)), dis7.Vector3Float(0.5, 0.0, -0.25), dis7.Vector3Float(0, 0.1, 0.5))
    pdu = dis7.EntityStatePdu(
        dis7.EntityID(1, 2, 5), 2, dis7.EntityType(1, 2, 102, 1, 3, 0, 0),
        dis7.EntityType(1, 2, 225, 1, 1, 0, 0), dis7.Vector3Float(10.5, -20.25, 3.0),
        dis7.Vector3Double(3_203_432.25, 2_401_234.5, 4_912_345.75),
        dis7.EulerAngles(1.5, -0.25, 0.125), 0x0001_0000, reckoning, marking, 0x8000_0000,
        [dis7.ArticulatedParts(1, 0, 4107, struct.unpack(">q", struct.pack(">fI", 0.5, 0))[0]),
         dis7.EntityTypeVP(1, dis7.EntityType(1, 2, 102, 1, 3, 0, 1))])
    return _bytes(pdu, 1, 1, status=0x04)


def test_entity_state_from_opendis_reads_field_for_field_and_builds_back() -> None:
    data = _entity_state()
    ours, theirs = parse_pdu(data), createPdu(data)
    assert isinstance(ours, EntityStatePDU)
    assert ours.header == _header(theirs)
    assert (ours.entity, ours.force_id, ours.entity_type, ours.alternative_type) == (
        _entity(theirs.entityID), theirs.forceId, _type(theirs.entityType),
        _type(theirs.alternativeEntityType))
    assert (ours.velocity, ours.location) == (_vector(theirs.entityLinearVelocity),
                                              _vector(theirs.entityLocation))
    euler = theirs.entityOrientation
    assert ours.orientation == (euler.psi, euler.theta, euler.phi)
    assert (ours.appearance, ours.capabilities) == (theirs.entityAppearance,
                                                    theirs.capabilities)
    reckoning = theirs.deadReckoningParameters
    assert (ours.dead_reckoning.algorithm, list(ours.dead_reckoning.parameters)) == (
        reckoning.deadReckoningAlgorithm, reckoning.parameters)
    assert ours.dead_reckoning.linear_acceleration == _vector(
        reckoning.entityLinearAcceleration)
    assert ours.dead_reckoning.angular_velocity == _vector(reckoning.entityAngularVelocity)
    assert (ours.marking_charset, ours.marking.rstrip(b"\0")) == (
        theirs.marking.characterSet, theirs.marking.charactersString().encode())
    _check_parameters(ours, data, theirs)
    assert build_pdu(ours) == data


@pytest.mark.parametrize("make", [_entity_state, lambda: _fire(_munition(), 0),
                                  lambda: _detonation(_munition(), 0)])
def test_our_bytes_read_in_opendis_as_we_read_them(make) -> None:
    data = make()
    again = createPdu(build_pdu(parse_pdu(data)))
    original = createPdu(data)
    out_again, out_original = BytesIO(), BytesIO()
    again.serialize(DataOutputStream(out_again))
    original.serialize(DataOutputStream(out_original))
    assert out_again.getvalue() == out_original.getvalue() == data


def test_geodetic_position_agrees_with_opendis() -> None:
    gps = GPS()
    rng = np.random.default_rng(7)
    for x, y, z in rng.uniform(-6.4e6, 6.4e6, (50, 3)) * [1, 1, 0.99]:
        lat, lon, height = to_geodetic(np.array([x]), np.array([y]), np.array([z]))
        assert np.allclose((lat[0], lon[0]), gps.ecef2lla((x, y, z))[:2], atol=1e-8)
        assert height[0] == pytest.approx(gps.ecef2lla((x, y, z))[2], abs=1e-3)


def test_attitude_agrees_with_opendis() -> None:
    gps = GPS()
    rng = np.random.default_rng(11)
    for _ in range(50):
        lat, lon = np.radians(rng.uniform(-80, 80)), np.radians(rng.uniform(-180, 180))
        roll, pitch, yaw = rng.uniform(-3, 3), rng.uniform(-1.4, 1.4), rng.uniform(-3.1, 3.1)
        x, y, z, psi, theta, phi = gps.llarpy2ecef(lat, lon, 300.0, roll, pitch, yaw)
        axes = ned_axes(*to_geodetic(np.array([x]), np.array([y]), np.array([z]))[:2])
        ours = [float(a[0]) for a in attitude(np.array([[psi, theta, phi]]), axes)]
        assert np.allclose(ours, gps.ecef2llarpy(x, y, z, psi, theta, phi)[3:], atol=1e-9)
