"""Telemetry ingest: decoded batches into a session's Parquet store, indexed in SQL.

The Parquet commit comes first and is the truth; the SQL row is refreshed from the store's own
manifests afterwards, so a crash between the two only leaves the index a batch behind until the
next batch (or a read) refreshes it.
"""

import hashlib
import hmac
import secrets
import threading
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session

from sandbox.models import TelemetrySession
from telemetry.decode import DecodeStats
from telemetry.store import AppendResult, SessionStore

_stores: dict[Path, tuple[threading.Lock, SessionStore]] = {}
_stores_guard = threading.Lock()


def session_dir(data_dir: Path, session_id: int) -> Path:
    return data_dir / "telemetry" / f"session-{session_id:08d}"


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_matches(row: TelemetrySession, token: str) -> bool:
    return bool(row.token_hash) and hmac.compare_digest(
        row.token_hash, hashlib.sha256(token.encode()).hexdigest())


def _opened(directory: Path) -> tuple[threading.Lock, SessionStore]:
    """One store object (and writer lock) per session directory in this process: opening
    cleans a crash's leftovers, which is only safe before anyone writes."""
    with _stores_guard:
        if directory not in _stores:
            _stores[directory] = (threading.Lock(), SessionStore(directory))
        return _stores[directory]


def store_batch(*, engine: Engine, data_dir: Path, session_id: int,
                frames: dict[str, pd.DataFrame], batch: int, stats: DecodeStats) -> AppendResult:
    """Commit one batch durably, then refresh the session's index row."""
    lock, store = _opened(session_dir(data_dir, session_id))
    with lock:
        result = store.append(frames, batch=batch)
        totals = store.stats()
        with Session(engine) as session:
            row = session.get(TelemetrySession, session_id)
            assert row is not None
            row.messages, row.batches = totals.messages, totals.batches
            row.bytes_on_disk, row.counts = totals.bytes_on_disk, totals.counts
            if not result.duplicate:
                row.crc_failures += stats.crc_failures
                row.link_lost += stats.sequence_gaps
            session.add(row)
            session.commit()
        return result


def open_store(data_dir: Path, session_id: int) -> SessionStore:
    return _opened(session_dir(data_dir, session_id))[1]
