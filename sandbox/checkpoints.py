"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint states "the chain had entry `seq` with hash `hash`" at a moment, signed with
Ed25519. Whoever rewrites the database cannot rewrite these, so truncating the chain or
replacing it wholesale shows against them. The signing key is derived from the audit key, so
there is one secret to keep; a verifier needs only the public key (`public_key_hex`).

One JSON object a line: {"seq", "hash", "legacy_seq", "at", "sig"}. `legacy_seq` is the last
entry written before the chain was keyed (0 on a new hub); signed, so it cannot be moved.
"""

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sandbox.timeutil import utcnow

SIGNING_INFO = b"soldierslab audit checkpoints v1"


def signing_key(audit_key: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key derived from the audit key (HKDF-SHA256, its own purpose label)."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SIGNING_INFO).derive(
        audit_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_hex(audit_key: bytes) -> str:
    return signing_key(audit_key).public_key().public_bytes_raw().hex()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    legacy_seq: int
    at: str


def _signed_bytes(checkpoint: Checkpoint) -> bytes:
    return json.dumps(asdict(checkpoint), sort_keys=True, separators=(",", ":")).encode()


def sign(audit_key: bytes, *, seq: int, hash: str, legacy_seq: int) -> tuple[Checkpoint, str]:
    """A checkpoint of the chain's tip `seq`/`hash`, made now, and its signed line."""
    checkpoint = Checkpoint(seq=seq, hash=hash, legacy_seq=legacy_seq, at=utcnow().isoformat())
    signature = signing_key(audit_key).sign(_signed_bytes(checkpoint))
    return checkpoint, json.dumps({**asdict(checkpoint), "sig": signature.hex()}, sort_keys=True)


@dataclass(frozen=True)
class Reading:
    checkpoints: list[Checkpoint]
    bad_line: int | None = None  # the first line that is not a checkpoint signed by the key


def read(lines: Iterable[str], public_key: str) -> Reading:
    """The checkpoints in `lines`, each checked against `public_key` (hex). Pure."""
    verifier = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    found: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            signature = bytes.fromhex(fields.pop("sig"))
            checkpoint = Checkpoint(**fields)
            verifier.verify(signature, _signed_bytes(checkpoint))
        except (ValueError, TypeError, KeyError, AttributeError, InvalidSignature):
            return Reading(found, bad_line=number)
        found.append(checkpoint)
    return Reading(found)


class CheckpointLog(Protocol):
    """Where checkpoints go: append-only, outside the database."""

    where: str

    def append(self, line: str) -> None: ...

    def lines(self) -> Iterator[str]: ...


class FileCheckpoints:
    """An append-only file (by default in the data directory; better on other storage)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line with O_APPEND: lines from several processes never interleave.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def lines(self) -> Iterator[str]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as stream:
            yield from stream
