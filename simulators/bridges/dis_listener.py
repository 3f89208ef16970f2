"""Listen for DIS on UDP and turn detonations into engagements; malformed datagrams are
counted and skipped, and the listener keeps listening."""

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulators.bridges.dis import DetonationPDU, DISError, FirePDU, engagement_of, parse_pdu

MAX_FIRES = 10_000  # fire events remembered while their detonation is awaited


@dataclass
class DISBridge:
    """Pairs Fire and Detonation PDUs of one exercise by event id."""

    exercise_id: int
    threat_kind: str
    threat_cost_cents: int
    record: Callable[[dict[str, Any]], None]
    fires: OrderedDict[tuple[int, int, int], FirePDU] = field(default_factory=OrderedDict)
    malformed: int = 0
    ignored: int = 0
    recorded: int = 0

    def datagram(self, data: bytes) -> None:
        try:
            pdu = parse_pdu(data)
        except DISError:
            self.malformed += 1
            return
        if pdu.header.exercise_id != self.exercise_id:
            self.ignored += 1
        elif isinstance(pdu, FirePDU):
            self.fires[pdu.event] = pdu
            while len(self.fires) > MAX_FIRES:
                self.fires.popitem(last=False)
        elif isinstance(pdu, DetonationPDU):
            fire = self.fires.pop(pdu.event, None)
            self.record(engagement_of(pdu, fire, threat_kind=self.threat_kind,
                                      threat_cost_cents=self.threat_cost_cents))
            self.recorded += 1


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, bridge: DISBridge) -> None:
        self.bridge = bridge

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.bridge.datagram(data)


async def listen(bridge: DISBridge, host: str, port: int) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(bridge),
                                                       local_addr=(host, port))
    return transport
