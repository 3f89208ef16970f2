"""Bulk telemetry on disk: Parquet parts per message type, committed batch by batch.

Layout of a session directory:
    <MESSAGE>/part-<batch>.parquet   one part per message type per batch
    batches/<batch>.json             the batch's manifest: written last, atomically

Protocol: a client numbers its batches (1, 2, 3, …). `append` writes the parts, fsyncs them,
then renames the manifest into place and fsyncs the directory: that rename is the commit, and
only after `append` returns may the messages be acknowledged. A batch whose manifest exists is
a duplicate (a client resending after a crash) and is skipped; parts without a manifest are
leftovers of a crash and are removed on open. So nothing acknowledged is lost, and nothing is
stored twice. A restarted session appends after `last_batch()`; it never overwrites.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFESTS = "batches"


class NoTime(ValueError):
    """A time range was asked of messages that carry no `time_us`."""


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


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_durably(path: Path, write: object) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    write(temporary)  # type: ignore[operator]
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SessionStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / MANIFESTS).mkdir(parents=True, exist_ok=True)
        self._manifests = {int(p.stem): json.loads(p.read_text())
                           for p in (directory / MANIFESTS).glob("*.json")}
        self._clean()

    def _clean(self) -> None:
        for part in self.directory.glob("*/*"):
            uncommitted = part.name.startswith(".") or (
                part.parent.name != MANIFESTS and part.suffix == ".parquet"
                and int(part.stem.removeprefix("part-")) not in self._manifests)
            if uncommitted:
                part.unlink()

    def last_batch(self) -> int:
        return max(self._manifests, default=0)

    def append(self, frames: dict[str, pd.DataFrame], *, batch: int) -> AppendResult:
        """Store one batch durably; a batch number seen before is a duplicate and skipped."""
        if batch < 1:
            raise ValueError("batch: numbers start at 1")
        if batch in self._manifests:
            return AppendResult(batch, sum(self._manifests[batch].values()), duplicate=True)
        counts = {name: len(table) for name, table in frames.items() if len(table)}
        for name, table in frames.items():
            if len(table):
                folder = self.directory / name
                folder.mkdir(exist_ok=True)
                arrow = pa.Table.from_pandas(table, preserve_index=False)
                _write_durably(folder / f"part-{batch:012d}.parquet",
                               lambda path, arrow=arrow: pq.write_table(arrow, path))
                fsync_dir(folder)
        manifest = self.directory / MANIFESTS / f"{batch:012d}.json"
        _write_durably(manifest, lambda path: path.write_text(json.dumps(counts)))
        fsync_dir(manifest.parent)
        self._manifests[batch] = counts
        return AppendResult(batch, sum(counts.values()))

    def message_names(self) -> list[str]:
        return sorted({name for counts in self._manifests.values() for name in counts})

    def batches(self) -> list[int]:
        """Committed batch numbers, in order (a file's batches follow its bytes)."""
        return sorted(self._manifests)

    def _parts(self, message: str, batches: list[int] | None) -> list[Path]:
        return [self.directory / message / f"part-{batch:012d}.parquet"
                for batch in (self.batches() if batches is None else batches)
                if message in self._manifests.get(batch, {})]

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
        where = ([("time_us", ">=", window_us[0]), ("time_us", "<", window_us[1])]
                 if window_us is not None else None)  # row groups outside are never read
        if where and "time_us" not in pq.read_schema(parts[0]).names:
            raise NoTime(f"{message} messages carry no time_us")
        table = pd.concat([pq.read_table(part, columns=columns, filters=where).to_pandas()
                           for part in parts], ignore_index=True)
        return table.iloc[::every].reset_index(drop=True)

    def start_us(self) -> int | None:
        """The session's first `time_us` (log time), from the first batch's Parquet statistics;
        None for a session whose messages carry none (a live stream)."""
        if not self._manifests:
            return None
        first = min(self._manifests)
        lows = [_column_min(self.directory / name / f"part-{first:012d}.parquet", "time_us")
                for name in self._manifests[first]]
        known = [low for low in lows if low is not None]
        return min(known) if known else None

    def stats(self) -> SessionStats:
        counts: dict[str, int] = {}
        for batch in self._manifests.values():
            for name, count in batch.items():
                counts[name] = counts.get(name, 0) + count
        size = sum(p.stat().st_size for p in self.directory.glob("*/*") if p.is_file())
        return SessionStats(messages=sum(counts.values()), counts=dict(sorted(counts.items())),
                            bytes_on_disk=size, batches=len(self._manifests))


def _column_min(part: Path, column: str) -> int | None:
    metadata = pq.read_metadata(part)
    names = metadata.schema.names
    if column not in names or not metadata.num_rows:
        return None
    index = names.index(column)
    stats = [metadata.row_group(i).column(index).statistics
             for i in range(metadata.num_row_groups)]
    lows = [int(s.min) for s in stats if s is not None and s.has_min_max]
    return min(lows) if lows else None
