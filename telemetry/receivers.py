"""Live MAVLink listeners (asyncio): UDP datagrams and TCP streams in, decoded frames out.

Each peer (UDP address or TCP connection) has its own StreamDecoder, so frames split across
reads are never lost. `robust` resynchronisation is the decoder's own; pymavlink's blocking
connections are not used here.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pandas as pd

from telemetry.decode import DecodeStats, StreamDecoder

Frames = dict[str, pd.DataFrame]
Sink = Callable[[Frames, DecodeStats], Awaitable[None]]
SPEC = re.compile(r"^(udpin|tcpin):([^:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")
MAX_PEERS = 1024  # UDP decoders kept; the oldest is forgotten beyond this


@dataclass(frozen=True)
class Endpoint:
    transport: str
    host: str
    port: int


def parse_endpoint(spec: str) -> Endpoint:
    """`udpin:0.0.0.0:14550` or `tcpin:127.0.0.1:5760`."""
    match = SPEC.match(spec)
    if match is None or not 0 <= int(match.group(3)) <= 65535:
        raise ValueError(f"--mavlink {spec!r}: expected udpin:HOST:PORT or tcpin:HOST:PORT")
    return Endpoint(match.group(1), match.group(2).strip("[]"), int(match.group(3)))


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.decoders: dict[tuple[str, int], StreamDecoder] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        decoder = self.decoders.pop(addr, None) or StreamDecoder()
        self.decoders[addr] = decoder  # most recent last
        while len(self.decoders) > MAX_PEERS:
            self.decoders.pop(next(iter(self.decoders)))
        before = DecodeStats(**vars(decoder.stats))
        frames = decoder.feed(data)
        if frames:
            asyncio.get_running_loop().create_task(self.sink(frames, _since(before,
                                                                            decoder.stats)))


def _since(before: DecodeStats, now: DecodeStats) -> DecodeStats:
    return DecodeStats(**{name: getattr(now, name) - getattr(before, name)
                          for name in vars(now)})


async def _tcp_peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    sink: Sink) -> None:
    decoder = StreamDecoder()
    try:
        while chunk := await reader.read(65536):
            before = DecodeStats(**vars(decoder.stats))
            frames = decoder.feed(chunk)
            if frames:
                await sink(frames, _since(before, decoder.stats))  # back-pressure on the peer
    finally:
        writer.close()


async def start(endpoint: Endpoint, sink: Sink) -> Callable[[], None]:
    """Start listening; answers a function that stops it."""
    loop = asyncio.get_running_loop()
    if endpoint.transport == "udpin":
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UDP(sink), local_addr=(endpoint.host, endpoint.port))
        return transport.close
    server = await asyncio.start_server(lambda r, w: _tcp_peer(r, w, sink), endpoint.host,
                                        endpoint.port)
    return server.close
