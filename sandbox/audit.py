"""Append-only audit log: a keyed hash chain, checked against signed checkpoints kept outside
the database.

Each entry's hash is an HMAC-SHA256, under a key that is not in the database, of its own fields
and the previous entry's hash; `audit_head` keeps the tip. Without the key nobody can write an
entry that verifies, so an edited, deleted, inserted, reordered or forged entry breaks the chain
at the first bad one, even when every later hash is recomputed. Deleting the newest entries (and
moving the head back) or replacing the whole chain leaves a chain that holds together; the signed
checkpoints (sandbox.checkpoints), written outside the database every few seconds, catch those.

Entries written before the chain was keyed (`legacy_seq` and below) keep their plain SHA-256 and
are checked as before; they are not re-chained, which would bless whatever was done to them. The
first keyed entry chains onto them, so they cannot change unnoticed either.

Writes are audited inside the transaction that makes them: if the entry cannot be written, the
whole action rolls back (fail closed).
"""

import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from sandbox import checkpoints
from sandbox.checkpoints import Checkpoint, CheckpointLog, Reading
from sandbox.models import AuditEntry, AuditHead
from sandbox.timeutil import as_utc, utcnow

GENESIS = "0" * 64
AUDIT_TABLES = ("audit_entry", "audit_head")
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_role", "action", "target", "request", "source",
                 "outcome")
# SQLite has one writer per process anyway; this lock keeps two sessions from reading one tip.
_sqlite_chain_lock = threading.Lock()
LOCK_TIMEOUT_S = 30
log = logging.getLogger(__name__)


class AuditUnavailable(SQLAlchemyError):
    """The entry could not be written; the action it records must not happen."""


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: a user, or a named tool such as the CLI."""

    id: int | None = None
    role: str = "system"
    source: str = ""
    request: str = ""


@dataclass(eq=False)
class ChainConfig:
    """The chain's key and checkpoint log for one database, and this process's last checkpoint."""

    key: bytes
    log: CheckpointLog
    interval_s: float
    legacy_seq: int | None = None  # as the first checkpoint signed it
    last_seq: int = 0
    last_at: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock)


_configs: "WeakKeyDictionary[Engine, ChainConfig]" = WeakKeyDictionary()


def configure(engine: Engine, *, key: bytes, log: CheckpointLog, interval_s: float) -> None:
    """Give the chain in `engine`'s database its key and checkpoint log, for this process."""
    _configs[engine] = ChainConfig(key=key, log=log, interval_s=interval_s)


def _config(session: Session) -> ChainConfig:
    config = _configs.get(session.get_bind().engine)
    if config is None:
        raise AuditUnavailable("the audit chain has no key configured; nothing was written")
    return config


def entry_hash(prev_hash: str, fields: dict[str, Any], *, key: bytes | None) -> str:
    """HMAC-SHA256 under `key` (plain SHA-256 for legacy entries: key None) over the previous
    hash and a canonical JSON of the entry's fields."""
    canonical = {name: fields[name] for name in HASHED_FIELDS}
    at = canonical["at"]
    canonical["at"] = as_utc(at).isoformat() if isinstance(at, datetime) else at
    message = (prev_hash + json.dumps(canonical, sort_keys=True, separators=(",", ":"))).encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0
    checkpointed_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    legacy_seq: int


def verify_chain(entries: Iterable[dict[str, Any]], *, head: Head, key: bytes,
                 reading: Reading, where: str = "the checkpoint log") -> ChainCheck:
    """Walk entries in stored order and hold them against the head and the signed checkpoints;
    name the first bad entry and what was done to it. Pure."""
    if reading.bad_line is not None:
        return ChainCheck(0, None, f"line {reading.bad_line} of {where} is not a checkpoint "
                                   "signed with this hub's audit key: the log was tampered with")
    pinned = {checkpoint.seq: checkpoint for checkpoint in reading.checkpoints}
    legacy_seq = reading.checkpoints[0].legacy_seq if reading.checkpoints else head.legacy_seq
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in entries:
        count += 1
        problem = _entry_problem(entry, expected_seq, prev,
                                 None if entry["seq"] <= legacy_seq else key, pinned)
        if problem:
            return ChainCheck(count, entry["seq"], problem)
        prev, expected_seq = entry["hash"], expected_seq + 1
    last = expected_seq - 1
    first_bad, problem = _end_problem(last, prev, head, reading.checkpoints, legacy_seq, where)
    if problem:
        return ChainCheck(count, first_bad, problem)
    newest = max((checkpoint.seq for checkpoint in reading.checkpoints), default=None)
    return ChainCheck(count, checkpoints=len(reading.checkpoints), checkpointed_seq=newest)


def _entry_problem(entry: dict[str, Any], expected_seq: int, prev: str, key: bytes | None,
                   pinned: dict[int, Checkpoint]) -> str:
    seq = entry["seq"]
    if seq != expected_seq:
        return (f"expected entry {expected_seq} here, found {seq}: an entry was deleted, "
                "inserted or reordered")
    if entry["prev_hash"] != prev:
        return "does not follow the entry before it"
    if entry_hash(prev, entry, key=key) != entry["hash"]:
        if key is not None and entry_hash(prev, entry, key=None) == entry["hash"]:
            return ("its hash is a plain SHA-256, not keyed with the audit key: written or "
                    "rewritten by someone without the key")
        return "its content was edited after it was written"
    checkpoint = pinned.get(seq)
    if checkpoint is not None and checkpoint.hash != entry["hash"]:
        return (f"it differs from the checkpoint signed at {checkpoint.at}: the chain was "
                "rewritten from here")
    return ""


def _end_problem(last: int, prev: str, head: Head, signed: list[Checkpoint], legacy_seq: int,
                 where: str) -> tuple[int | None, str]:
    """What is wrong with where the chain ends: (first missing entry, reason), or (None, "")."""
    beyond = max(signed, key=lambda checkpoint: checkpoint.seq, default=None)
    if beyond is not None and beyond.seq > last:
        return last + 1, (f"a checkpoint signed at {beyond.at} covers entry {beyond.seq}, but "
                          f"the database ends at entry {last}: entries {last + 1} to "
                          f"{beyond.seq} were deleted")
    if (last, prev) != (head.seq, head.hash):
        return last + 1, (f"the chain ends at entry {last} but the head says {head.seq}: "
                          "entries were deleted")
    if last > legacy_seq and not signed:
        return None, (f"no signed checkpoint in {where}: deleting the newest entries or "
                      "replacing the whole chain could not be seen")
    return None, ""


def append(session: Session, *, actor: Actor, action: str, target: str = "",
           outcome: str = "ok") -> AuditEntry:
    """Add an entry to the session's transaction; it is stored when the caller commits."""
    key = _config(session).key
    _lock_chain(session)
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS, legacy_seq=0)
    fields = {"seq": head.seq + 1, "at": utcnow(), "actor_id": actor.id,
              "actor_role": actor.role, "action": action[:64], "target": target[:200],
              "request": actor.request[:300], "source": actor.source[:64],
              "outcome": outcome[:64]}
    entry = AuditEntry(**fields, prev_hash=head.hash, hash=entry_hash(head.hash, fields, key=key))
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.add(head)
    _checkpoint_after_commit(session, Head(entry.seq, entry.hash, head.legacy_seq))
    return entry


def checkpoint(session: Session) -> Checkpoint | None:
    """Sign the stored tip into the checkpoint log, unless this process already did."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    return _write_checkpoint(_config(session), Head(head.seq, head.hash, head.legacy_seq),
                             due_only=False)


def _write_checkpoint(config: ChainConfig, tip: Head, *, due_only: bool) -> Checkpoint | None:
    with config.lock:
        now = time.monotonic()
        if tip.seq <= config.last_seq or (due_only and now - config.last_at < config.interval_s):
            return None
        if config.legacy_seq is None:  # the boundary, once signed, never moves
            first = checkpoints.read(islice(config.log.lines(), 1),
                                     checkpoints.public_key_hex(config.key)).checkpoints
            config.legacy_seq = first[0].legacy_seq if first else tip.legacy_seq
        made, line = checkpoints.sign(config.key, seq=tip.seq, hash=tip.hash,
                                      legacy_seq=config.legacy_seq)
        config.log.append(line)
        config.last_seq, config.last_at = tip.seq, now
    return made


def _checkpoint_after_commit(session: Session, tip: Head) -> None:
    """Once the transaction commits, sign its tip if this process's interval has passed."""
    if not session.info.get("audit_checkpoint_installed"):
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _rolled_back)
        session.info["audit_checkpoint_installed"] = True
    session.info["audit_tip"] = tip


def _committed(session: Session) -> None:
    tip = session.info.pop("audit_tip", None)
    if tip is None:
        return
    try:
        _write_checkpoint(_config(session), tip, due_only=True)
    except (OSError, AuditUnavailable) as error:  # committed already; the next one catches up
        log.warning("audit checkpoint not written: %s", error)


def _rolled_back(session: Session) -> None:
    session.info.pop("audit_tip", None)


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite" or session.info.get("audit_lock"):
        return
    if not session.info.get("audit_release_installed"):
        event.listen(session, "after_transaction_end", _release)
        session.info["audit_release_installed"] = True
    if not _sqlite_chain_lock.acquire(timeout=LOCK_TIMEOUT_S):
        raise AuditUnavailable("the audit chain is busy; nothing was written, try again")
    session.info["audit_lock"] = True


def _release(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop("audit_lock", False):
        _sqlite_chain_lock.release()


def verify(session: Session) -> ChainCheck:
    """Check the whole stored chain against the head and the signed checkpoints."""
    config = _config(session)
    head = session.get(AuditHead, 1) or AuditHead(id=1, seq=0, hash=GENESIS, legacy_seq=0)
    reading = checkpoints.read(config.log.lines(), checkpoints.public_key_hex(config.key))
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))
                        .execution_options(yield_per=1000))  # streamed: the log only grows
    try:
        return verify_chain((row.model_dump() for row in rows), reading=reading, key=config.key,
                            head=Head(head.seq, head.hash, head.legacy_seq),
                            where=config.log.where)
    finally:
        rows.close()  # the walk may stop at the first bad entry


def list_entries(session: Session, *, limit: int, offset: int) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))
                             .offset(offset).limit(limit)).all())


def audit_writes(session: Session, actor: Actor) -> None:
    """Record every row this session creates, changes or deletes, in the same transaction.

    The actor is read from `session.info["actor"]` at commit, so it can be set once known.
    """
    session.info["actor"] = actor
    pending: dict[tuple[str, str], list[int]] = {}

    @event.listens_for(session, "before_flush")
    def serialise(_session: Session, _context: object, _instances: object) -> None:
        _lock_chain(session)  # before this transaction takes SQLite's write lock

    @event.listens_for(session, "after_flush")
    def collect(_session: Session, _context: object) -> None:
        for verb, objects in (("create", session.new), ("update", session.dirty),
                              ("delete", session.deleted)):
            for obj in objects:
                table = str(getattr(obj, "__tablename__", ""))
                if table not in AUDIT_TABLES:
                    pending.setdefault((verb, table), []).append(getattr(obj, "id", 0) or 0)

    @event.listens_for(session, "before_commit")
    def record(_session: Session) -> None:
        session.flush()
        for (verb, table), ids in sorted(pending.items()):
            append(session, actor=session.info["actor"], action=f"{verb} {table}",
                   target=_span(table, ids))
        pending.clear()

    @event.listens_for(session, "after_rollback")
    def forget(_session: Session) -> None:
        pending.clear()


def _span(table: str, ids: list[int]) -> str:
    ids = sorted(ids)
    if len(ids) == 1:
        return f"{table}:{ids[0]}"
    return f"{table}:{ids[0]}..{ids[-1]} ({len(ids)} rows)"
