"""Live MAVLink listeners: UDP datagrams and TCP streams in, raw bytes per peer out.

Receiving is kept apart from decoding. A listener only files each peer's bytes in an `Inbox`;
its owner takes them in batches (on a timer, or when `wake` says a lot is waiting) and decodes
each peer's bytes with one StreamDecoder per peer, so a frame split across datagrams is never
lost. A UDP socket is drained by a thread of its own, every datagram waiting at each wake-up, so
nothing else the process does (requests, decoding, Parquet commits) makes the kernel's receive
buffer overflow; that buffer is sized, and what the kernel still drops is counted where Linux
reports it: the socket's drop count rides on each datagram received (SO_RXQ_OVFL), which lags
by what is queued, and /proc/net/udp has the current count (read by `refresh_kernel_drops`).
"""

import asyncio
import os
import re
import select
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SPEC = re.compile(r"^(udpin|tcpin):([^:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")
RECEIVE_BUFFER_BYTES = 16 << 20
MAX_PENDING_BYTES = 256 << 20  # beyond this, UDP datagrams are dropped (and counted)
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)  # Linux; not named by every Python
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux, with CAP_NET_ADMIN
MAX_DATAGRAM = 65535
MAX_DRAIN = 4096  # datagrams read before handing them over (the socket may never run dry)
TCP_READ = 1 << 16


@dataclass(frozen=True)
class Endpoint:
    transport: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}:{host}:{self.port}"


def parse_endpoint(spec: str) -> Endpoint:
    """`udpin:0.0.0.0:14550` or `tcpin:127.0.0.1:5760`."""
    match = SPEC.match(spec)
    if match is None or not 0 <= int(match.group(3)) <= 65535:
        raise ValueError(f"--mavlink {spec!r}: expected udpin:HOST:PORT or tcpin:HOST:PORT")
    return Endpoint(match.group(1), match.group(2).strip("[]"), int(match.group(3)))


@dataclass(frozen=True)
class Peer:
    listener: str  # the endpoint, as written
    address: str  # host:port of the sender (TCP: plus #n, one per connection)


@dataclass
class PeerBytes:
    """What one peer sent since the last take."""

    pieces: list[bytes] = field(default_factory=list)
    size: int = 0
    datagrams: int = 0  # UDP only: a stream's reads are no datagrams
    closed: bool = False  # a TCP connection that ended: its stream is complete


@dataclass
class ListenerCounters:
    endpoint: str
    receive_buffer_bytes: int | None = None  # what the kernel granted (Linux reports 2x)
    datagrams: int = 0  # UDP datagrams, or TCP reads
    bytes: int = 0
    kernel_drops: int | None = None  # None: this platform does not say
    backlog_drops: int = 0  # datagrams refused because the inbox was full
    connections: int = 0


class Inbox:
    """Bytes per peer, filed by listeners (any thread), taken in batches by one owner."""

    def __init__(self, *, wake_bytes: int, wake: Callable[[], None] = lambda: None,
                 max_bytes: int = MAX_PENDING_BYTES) -> None:
        self.wake_bytes, self.wake, self.max_bytes = wake_bytes, wake, max_bytes
        self.pending_bytes = 0
        self._lock = threading.Lock()
        self._peers: dict[Peer, PeerBytes] = {}

    def put(self, arrivals: list[tuple[Peer, bytes]], *, datagrams: bool = True) -> int:
        """File datagrams (or stream reads); answers how many did not fit and were dropped."""
        refused = 0
        with self._lock:
            for peer, data in arrivals:
                if self.pending_bytes + len(data) > self.max_bytes:
                    refused += 1
                    continue
                filed = self._peers.get(peer) or self._peers.setdefault(peer, PeerBytes())
                filed.pieces.append(data)
                filed.size += len(data)
                filed.datagrams += datagrams
                self.pending_bytes += len(data)
            full = self.pending_bytes >= self.wake_bytes
        if full:
            self.wake()
        return refused

    def close(self, peer: Peer) -> None:
        with self._lock:
            (self._peers.get(peer) or self._peers.setdefault(peer, PeerBytes())).closed = True
        self.wake()

    def take(self) -> dict[Peer, PeerBytes]:
        with self._lock:
            taken, self._peers, self.pending_bytes = self._peers, {}, 0
        return taken


class UDPListener:
    """A UDP socket drained by its own thread into an Inbox."""

    def __init__(self, endpoint: Endpoint, inbox: Inbox, *,
                 buffer_bytes: int = RECEIVE_BUFFER_BYTES) -> None:
        self.endpoint, self.inbox = endpoint, inbox
        self.counters = ListenerCounters(str(endpoint))
        family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.counters.receive_buffer_bytes = size_receive_buffer(self.sock, buffer_bytes)
        self._overflow = count_kernel_drops(self.sock)
        if self._overflow:
            self.counters.kernel_drops = 0
        self.sock.bind((endpoint.host, endpoint.port))
        self._inode = os.fstat(self.sock.fileno()).st_ino
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self._paused = threading.Event()
        self._wakeup_r, self._wakeup_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"mavlink {endpoint}",
                                        daemon=True)
        self._stopping = False
        self._thread.start()

    def _run(self) -> None:
        space = socket.CMSG_SPACE(4) if self._overflow else 0
        poller = select.poll()
        poller.register(self._wakeup_r, select.POLLIN)
        poller.register(self.sock, select.POLLIN)
        while not self._stopping:
            ready = {descriptor for descriptor, _ in poller.poll()}
            if self._wakeup_r.fileno() in ready:  # paused, resumed or stopping
                self._wakeup_r.recv(64)
                poller.modify(self.sock, 0 if self._paused.is_set() else select.POLLIN)
            else:
                self._hand_over(self._drain(space))
        if not self._paused.is_set():
            self._hand_over(self._drain(space))  # what the kernel holds at shutdown

    def _hand_over(self, arrivals: list[tuple[Peer, bytes]]) -> None:
        if arrivals:
            self.counters.backlog_drops += self.inbox.put(arrivals)

    def _drain(self, space: int) -> list[tuple[Peer, bytes]]:
        """Every datagram waiting now, one recvmsg each (there is no batch receive in Python)."""
        arrivals: list[tuple[Peer, bytes]] = []
        peers: dict[object, Peer] = {}
        size = 0
        while len(arrivals) < MAX_DRAIN:
            try:
                data, ancillary, _flags, address = self.sock.recvmsg(MAX_DATAGRAM, space)
            except OSError:  # nothing waiting (or an ICMP error of an earlier send)
                break
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                    dropped = int.from_bytes(value[:4], sys.byteorder)
                    self.counters.kernel_drops = max(self.counters.kernel_drops or 0, dropped)
            peer = peers.get(address) or peers.setdefault(
                address, Peer(self.counters.endpoint, f"{address[0]}:{address[1]}"))
            arrivals.append((peer, data))
            size += len(data)
        self.counters.datagrams += len(arrivals)
        self.counters.bytes += size
        return arrivals

    def refresh_kernel_drops(self) -> None:
        """Bring the drop count up to now (the one on datagrams lags by the queue)."""
        now = proc_udp_drops(self._inode)
        if now is not None:
            self.counters.kernel_drops = max(self.counters.kernel_drops or 0, now)

    def pause(self, paused: bool) -> None:
        """Stop (or resume) reading the socket: what a stalled reader looks like to the
        kernel, so its drop counting can be checked."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()
        self._wakeup_w.send(b"\0")

    def stop(self) -> None:
        self._stopping = True
        self._wakeup_w.send(b"\0")
        self._thread.join(timeout=5)
        self.refresh_kernel_drops()
        for closing in (self.sock, self._wakeup_r, self._wakeup_w):
            closing.close()


def size_receive_buffer(sock: socket.socket, wanted: int) -> int:
    """Ask for `wanted` bytes of kernel receive buffer; answers what the kernel granted.

    SO_RCVBUF is capped by net.core.rmem_max; SO_RCVBUFFORCE passes the cap where the process
    may (CAP_NET_ADMIN), and is refused harmlessly elsewhere.
    """
    linux = sys.platform == "linux"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    # Linux doubles what it grants (room for its own bookkeeping) and reports the double.
    if linux and sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 2 * wanted:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, wanted)
        except PermissionError:
            pass
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def granted_receive_buffer(wanted: int = RECEIVE_BUFFER_BYTES) -> int:
    """What the kernel grants a new UDP socket that asks for `wanted` bytes."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        return size_receive_buffer(probe, wanted)


def proc_udp_drops(inode: int) -> int | None:
    """The drops column of /proc/net/udp (or udp6) for the socket with this inode (Linux)."""
    for table in (Path("/proc/net/udp"), Path("/proc/net/udp6")):
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in (row.split() for row in rows):
            if len(fields) > 12 and fields[9] == str(inode):
                return int(fields[-1])
    return None


def count_kernel_drops(sock: socket.socket) -> bool:
    """Ask the kernel to report the socket's drop count with each datagram (Linux)."""
    if sys.platform != "linux":
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    except OSError:
        return False
    return True


class TCPListener:
    """A TCP server; each connection's reads are filed under its own peer."""

    def __init__(self, endpoint: Endpoint, inbox: Inbox) -> None:
        self.endpoint, self.inbox = endpoint, inbox
        self.counters = ListenerCounters(str(endpoint))
        self.server: asyncio.Server | None = None
        self.port = endpoint.port

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._connection, self.endpoint.host,
                                                 self.endpoint.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        host, port = writer.get_extra_info("peername")[:2]
        peer = Peer(self.counters.endpoint, f"{host}:{port}#{self.counters.connections}")
        try:
            while chunk := await reader.read(TCP_READ):
                while self.inbox.pending_bytes >= self.inbox.max_bytes // 2:
                    await asyncio.sleep(0.05)  # back-pressure on the sender, never a drop
                self.inbox.put([(peer, chunk)], datagrams=False)
                self.counters.datagrams += 1
                self.counters.bytes += len(chunk)
        finally:
            self.inbox.close(peer)
            writer.close()

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


Listener = UDPListener | TCPListener


async def start(endpoint: Endpoint, inbox: Inbox, *,
                buffer_bytes: int = RECEIVE_BUFFER_BYTES) -> Listener:
    """Start listening on `endpoint`, filing what arrives in `inbox`."""
    if endpoint.transport == "udpin":
        return UDPListener(endpoint, inbox, buffer_bytes=buffer_bytes)
    listener = TCPListener(endpoint, inbox)
    await listener.start()
    return listener
