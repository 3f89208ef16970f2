"""Telemetry ingest: decoded batches into a session's Parquet store, indexed in SQL.

The store's commit comes first and is the truth; the SQL row is refreshed from the store's own
manifests afterwards, so a crash between the two only leaves the index a batch behind until the
next batch (or a read) refreshes it. Any number of hub processes may write and read the same
sessions: the store's conditional commits keep them apart (see telemetry.store).
"""

import fcntl
import hashlib
import hmac
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sandbox.errors import Invalid
from sandbox.models import TelemetrySession
from sandbox.timeutil import utcnow
from telemetry.decode import DecodeStats, StreamDecoder
from telemetry.derive import LogFileError
from telemetry.logfiles import HEAD_BYTES, LogFormat, detect_format, onboard_tables
from telemetry.objects import DiskStorage, Storage
from telemetry.store import AppendResult, SessionStats, SessionStore

KEPT_STORES = 4096  # sessions whose manifests a process keeps in memory; beyond, it starts over
_stores: dict[tuple[str, str], tuple[threading.Lock, SessionStore]] = {}


def session_prefix(session_id: int) -> str:
    return f"session-{session_id:08d}/"


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_matches(row: TelemetrySession, token: str) -> bool:
    return bool(row.token_hash) and hmac.compare_digest(
        row.token_hash, hashlib.sha256(token.encode()).hexdigest())


def writer(storage: Storage, prefix: str) -> tuple[threading.Lock, SessionStore]:
    """This process's store object for a prefix (it keeps the manifests it has read, which
    never change) and the lock its writers take turns with. Other processes' writes are safe
    without the lock: the store's commit is a conditional create."""
    key = (storage.url, prefix)
    found = _stores.get(key)
    if found is None:
        if len(_stores) >= KEPT_STORES:
            _stores.clear()
        found = _stores.setdefault(key, (threading.Lock(), SessionStore(storage, prefix)))
    return found


def store_batch(*, engine: Engine, storage: Storage, session_id: int,
                frames: dict[str, pd.DataFrame], batch: int | None,
                stats: DecodeStats) -> AppendResult:
    """Commit one batch durably (batch None: as the session's next one), then refresh the
    session's index row."""
    lock, store = writer(storage, session_prefix(session_id))
    with lock:
        result = (store.append_next(frames) if batch is None
                  else store.append(frames, batch=batch))
        _index(engine, session_id, store.refresh().stats(),
               None if result.duplicate else stats)
        return result


def _index(engine: Engine, session_id: int, totals: SessionStats,
           stats: DecodeStats | None) -> None:
    with Session(engine) as session:
        row = session.get(TelemetrySession, session_id)
        assert row is not None
        if totals.batches >= row.batches:  # another replica may have written a newer total
            row.messages, row.batches = totals.messages, totals.batches
            row.bytes_on_disk, row.counts = totals.bytes_on_disk, totals.counts
        if stats is not None:
            row.crc_failures += stats.crc_failures
            row.link_lost += stats.sequence_gaps
        session.add(row)
        session.commit()


def open_store(storage: Storage, session_id: int) -> SessionStore:
    """A session's store, up to date with every batch committed so far, by any process."""
    return writer(storage, session_prefix(session_id))[1].refresh()


# --- log files: staged whole, then made a session in one step --------------------------------
#
# A file (an HTTP upload or `soldierslab ingest`) is spooled, decoded and written as Parquet
# into a private staging directory on the local disk first; only a file that held telemetry
# becomes a session: the row is inserted as pending, the staged store is moved into the
# session's place in the storage (a rename on disk, an upload to a bucket), and the row is
# marked finished. A process killed before the row leaves only its staging directory, which
# `sweep` removes once the lock its owner held is free (the kernel frees it when the process
# dies); killed between the row and the finish, it leaves a pending row that no reader shows
# and that `sweep` removes, with its objects, when its lease has run out.

STAGING = "staging"
PENDING_LEASE = timedelta(minutes=10)
TLOG_CHUNK = 4 << 20
NO_TELEMETRY = ("file: no telemetry found; send a MAVLink .tlog, an ArduPilot DataFlash .bin "
                "or a PX4 .ulg file")


class Staging:
    """One file ingest's private directory (the spooled upload, the staged store), locked
    while its owner lives."""

    def __init__(self, data_dir: Path) -> None:
        root = data_dir / "telemetry" / STAGING
        root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(8)
        claiming = root / f".{name}.claim"
        self._lock = claiming.open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._lock_path = root / f"{name}.lock"
        claiming.rename(self._lock_path)  # visible to `sweep` only once it is locked
        self.directory = root / name
        self.directory.mkdir()
        self.spool = self.directory / "upload"
        self.store = SessionStore(DiskStorage(self.directory), "store")

    def __enter__(self) -> "Staging":
        return self

    def __exit__(self, *_: object) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self._lock_path.unlink(missing_ok=True)
        self._lock.close()


@dataclass(frozen=True)
class Staged:
    log_format: LogFormat
    crc_failures: int = 0
    link_lost: int = 0


def stage_file(*, staging: Staging, path: Path,
               progress: Callable[[int], None] = lambda done: None) -> Staged:
    """Decode a .tlog, DataFlash or ULog file (told apart by its first bytes) into the staged
    store; refuse a file that is bad or holds no telemetry (Invalid)."""
    with path.open("rb") as handle:
        log_format = detect_format(handle.read(HEAD_BYTES))
    if log_format == "tlog":
        staged = _stage_tlog(staging.store, path, progress)
    else:
        try:
            staging.store.append(onboard_tables(path, log_format), batch=1)
        except LogFileError as error:
            raise Invalid(f"file: {error}") from error
        staged = Staged(log_format)
        progress(path.stat().st_size)
    if staging.store.stats().messages == 0:
        raise Invalid(NO_TELEMETRY)
    return staged


def _stage_tlog(store: SessionStore, path: Path, progress: Callable[[int], None]) -> Staged:
    decoder = StreamDecoder(tlog=True)
    size = path.stat().st_size
    with path.open("rb") as handle:
        for batch, chunk in enumerate(iter(lambda: handle.read(TLOG_CHUNK), b""), start=1):
            store.append(decoder.feed(chunk, final=handle.tell() >= size), batch=batch)
            progress(handle.tell())
    return Staged("tlog", crc_failures=decoder.stats.crc_failures,
                  link_lost=decoder.stats.sequence_gaps)


def commit_staged(*, session: Session, storage: Storage, staging: Staging, staged: Staged,
                  trial_id: int) -> TelemetrySession:
    """The staged store becomes a new telemetry session of the trial."""
    totals = staging.store.stats()
    row = TelemetrySession(trial_id=trial_id, source="upload", log_format=staged.log_format,
                           messages=totals.messages, batches=totals.batches,
                           bytes_on_disk=totals.bytes_on_disk, counts=totals.counts,
                           crc_failures=staged.crc_failures, link_lost=staged.link_lost,
                           pending_until=utcnow() + PENDING_LEASE)
    session.add(row)
    session.commit()
    target = session_prefix(row.id or 0)
    _discard(storage, target)  # what a swept row of the same id may have left (SQLite reuses ids)
    storage.adopt(staging.directory / "store", target)
    row.pending_until = None
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def sweep(*, engine: Engine, data_dir: Path, storage: Storage,
          now: datetime | None = None) -> None:
    """Remove what dead file ingests left: unlocked staging directories, and rows still
    pending after their lease (with their files)."""
    root = data_dir / "telemetry" / STAGING
    for lock_path in root.glob("*.lock") if root.is_dir() else []:
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its owner is alive
            shutil.rmtree(root / lock_path.stem, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
    with Session(engine) as session:
        for row in session.exec(select(TelemetrySession).where(
                col(TelemetrySession.pending_until) < (now or utcnow()))).all():
            _discard(storage, session_prefix(row.id or 0))
            session.delete(row)
        session.commit()


def _discard(storage: Storage, prefix: str) -> None:
    _stores.pop((storage.url, prefix), None)
    storage.delete_folder(prefix)
