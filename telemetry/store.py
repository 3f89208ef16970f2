"""Bulk telemetry in a Storage (a local folder or an S3 bucket): Parquet parts per message type,
committed batch by batch, safely from several processes at once.

Layout under a session's prefix:
    <MESSAGE>/part-<writer>.parquet   one part per message type per batch, under a name no
                                     other writer uses
    batches/<batch>.json             the batch's manifest: its parts, their rows, bytes and
                                     log-time range

Protocol: a client numbers its batches (1, 2, 3, …). `append` writes the parts, then creates
the manifest with a conditional write (`Storage.create`: If-None-Match on S3, an exclusive
link on disk). That create is the commit, and only after `append` returns may the messages be
acknowledged. If the manifest's name is taken, another writer committed the batch first (this
process before a crash, or another hub replica the device reconnected to): its parts count,
this writer deletes its own, and the batch is a duplicate. So two processes can never both
commit a batch: nothing acknowledged is lost, nothing is stored twice. Readers go by the
manifests only, so parts of a writer killed before its commit are never read. A restarted
session appends after `last_batch()`; it never overwrites.

Manifests never change once written: a store object keeps those it has read, and `refresh`
reads only the ones committed since (from the first batch number it does not know yet, so a
batch committed late by a slow replica is still found).
"""

import json
import secrets
from dataclasses import asdict, dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from telemetry.objects import Storage, get_many, put_many

MANIFESTS = "batches/"


class NoTime(ValueError):
    """A time range was asked of messages that carry no `time_us`."""


class OldLayout(ValueError):
    """A manifest of the layout before this one (counts only)."""


@dataclass(frozen=True)
class AppendResult:
    batch: int
    stored: int
    duplicate: bool = False


@dataclass(frozen=True)
class SessionStats:
    messages: int
    counts: dict[str, int]
    bytes_on_disk: int
    batches: int


@dataclass(frozen=True)
class Part:
    key: str  # under the session's prefix
    rows: int
    bytes: int
    time_us: tuple[int, int] | None  # first and last log time; None: the rows carry none


Manifest = dict[str, Part]


def _manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps({name: asdict(part) for name, part in manifest.items()}).encode()


def _parsed(data: bytes, key: str) -> Manifest:
    parts = json.loads(data)
    if any(isinstance(part, int) for part in parts.values()):
        raise OldLayout(f"{key}: written by a hub before manifests named their parts; "
                        "re-ingest the session's log")
    return {name: Part(part["key"], part["rows"], part["bytes"],
                       tuple(part["time_us"]) if part["time_us"] else None)  # type: ignore[arg-type]
            for name, part in parts.items()}


def _parquet(table: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def _time_range(table: pd.DataFrame) -> tuple[int, int] | None:
    if "time_us" not in table:
        return None
    return int(table["time_us"].min()), int(table["time_us"].max())


class SessionStore:
    def __init__(self, storage: Storage, prefix: str) -> None:
        self.storage, self.prefix = storage, prefix.rstrip("/") + "/"
        self._manifests: dict[int, Manifest] = {}  # replaced whole, never changed in place
        self._complete = 0  # every batch 1 … this one is known
        self._totals: tuple[dict[str, int], int] = ({}, 0)  # rows by message, bytes
        self.refresh()

    def _manifest_key(self, batch: int) -> str:
        return f"{self.prefix}{MANIFESTS}{batch:012d}.json"

    def refresh(self) -> "SessionStore":
        """Learn the batches committed since the last look, by any process."""
        after = self._manifest_key(self._complete) if self._complete else None
        keys = [entry.key for entry in self.storage.list(self.prefix + MANIFESTS, after=after)
                if entry.key.endswith(".json")]
        batches = [int(key.rsplit("/", 1)[1].removesuffix(".json")) for key in keys]
        fresh = [(batch, key) for batch, key in zip(batches, keys, strict=True)
                 if batch not in self._manifests]
        found = get_many(self.storage, [key for _, key in fresh])
        self._learn({batch: _parsed(data, key)
                     for (batch, key), data in zip(fresh, found, strict=True)})
        return self

    def _learn(self, manifests: dict[int, Manifest]) -> None:
        known = {**self._manifests, **manifests}
        complete = self._complete
        while complete + 1 in known:
            complete += 1
        counts, size = dict(self._totals[0]), self._totals[1]
        for batch, manifest in manifests.items():
            if batch not in self._manifests:  # each batch added once, whoever learns it again
                for name, part in manifest.items():
                    counts[name] = counts.get(name, 0) + part.rows
                    size += part.bytes
        self._manifests, self._complete, self._totals = known, complete, (counts, size)

    def last_batch(self) -> int:
        return max(self._manifests, default=0)

    def append(self, frames: dict[str, pd.DataFrame], *, batch: int) -> AppendResult:
        """Store one batch durably; a batch number committed before is a duplicate, skipped."""
        if batch < 1:
            raise ValueError("batch: numbers start at 1")
        if batch not in self._manifests:
            manifest = self._write_parts(frames)
            if self._commit(batch, manifest):
                return AppendResult(batch, _rows(manifest))
            self._lost(batch, manifest)
        return AppendResult(batch, _rows(self._manifests[batch]), duplicate=True)

    def append_next(self, frames: dict[str, pd.DataFrame]) -> AppendResult:
        """Store rows as the session's next batch, whichever number another writer took."""
        manifest = self._write_parts(frames)
        while True:
            batch = self.refresh().last_batch() + 1
            if self._commit(batch, manifest):
                return AppendResult(batch, _rows(manifest))

    def _write_parts(self, frames: dict[str, pd.DataFrame]) -> Manifest:
        writer = secrets.token_hex(8)
        tables = {name: table for name, table in frames.items() if len(table)}
        blobs = {name: _parquet(table) for name, table in tables.items()}
        manifest = {name: Part(f"{name}/part-{writer}.parquet", len(table), len(blobs[name]),
                               _time_range(table)) for name, table in tables.items()}
        put_many(self.storage, {self.prefix + part.key: blobs[name]
                                for name, part in manifest.items()})
        return manifest

    def _commit(self, batch: int, manifest: Manifest) -> bool:
        if not self.storage.create(self._manifest_key(batch), _manifest_bytes(manifest)):
            return False
        self._learn({batch: manifest})
        return True

    def _lost(self, batch: int, manifest: Manifest) -> None:
        """Another writer committed this batch: drop our parts, keep the winner's manifest."""
        self.storage.delete(self.prefix + part.key for part in manifest.values())
        key = self._manifest_key(batch)
        self._learn({batch: _parsed(self.storage.get(key), key)})

    def batches(self) -> list[int]:
        """Committed batch numbers, in order (a file's batches follow its bytes)."""
        return sorted(self._manifests)

    def _parts(self, message: str, batches: list[int] | None) -> list[Part]:
        manifests = self._manifests
        return [manifests[batch][message]
                for batch in (sorted(manifests) if batches is None else batches)
                if message in manifests.get(batch, {})]

    def read(self, message: str, *, every: int = 1, columns: list[str] | None = None,
             window_us: tuple[int, int] | None = None,
             batches: list[int] | None = None) -> pd.DataFrame:
        """All committed rows of one message type in arrival order (of the given batches only,
        if asked); every N-th row if asked; with `window_us` (first, end), only rows whose
        `time_us` lies in [first, end)."""
        if every < 1:
            raise ValueError("every: at least 1")
        parts = self._parts(message, batches)
        if not parts:
            return pd.DataFrame()
        where = None
        if window_us is not None:
            if parts[0].time_us is None:
                raise NoTime(f"{message} messages carry no time_us")
            where = [("time_us", ">=", window_us[0]), ("time_us", "<", window_us[1])]
            parts = [part for part in parts if part.time_us is not None  # parts outside: unread
                     and part.time_us[1] >= window_us[0] and part.time_us[0] < window_us[1]
                     ] or parts[:1]  # one, to answer with the columns and no rows
        blobs = get_many(self.storage, [self.prefix + part.key for part in parts])
        table = pd.concat([pq.read_table(pa.BufferReader(blob), columns=columns,
                                         filters=where).to_pandas() for blob in blobs],
                          ignore_index=True)
        return table.iloc[::every].reset_index(drop=True)

    def part_keys(self, message: str) -> list[str]:
        """The storage keys of a message type's committed parts, in order (for readers that
        scan Parquet themselves, such as Polars)."""
        return [self.prefix + part.key for part in self._parts(message, None)]

    def start_us(self) -> int | None:
        """The session's first `time_us` (log time), from the first batch's manifest; None for
        a session whose messages carry none (a live stream)."""
        if not self._manifests:
            return None
        known = [part.time_us[0] for part in self._manifests[min(self._manifests)].values()
                 if part.time_us is not None]
        return min(known) if known else None

    def stats(self) -> SessionStats:
        counts, size = self._totals
        return SessionStats(messages=sum(counts.values()), counts=dict(sorted(counts.items())),
                            bytes_on_disk=size, batches=len(self._manifests))

    def message_names(self) -> list[str]:
        return sorted(self._totals[0])


def _rows(manifest: Manifest) -> int:
    return sum(part.rows for part in manifest.values())
