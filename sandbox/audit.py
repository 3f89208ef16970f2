"""Append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, and `audit_head` keeps the
tip, so an edited, deleted, inserted or reordered entry breaks the chain at the first bad one.
Writes are audited inside the transaction that makes them: if the entry cannot be written, the
whole action rolls back (fail closed).
"""

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from sandbox.models import AuditEntry, AuditHead
from sandbox.timeutil import as_utc, utcnow

GENESIS = "0" * 64
AUDIT_TABLES = ("audit_entry", "audit_head")
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_role", "action", "target", "request", "source",
                 "outcome")
# SQLite has one writer per process anyway; this lock keeps two sessions from reading one tip.
_sqlite_chain_lock = threading.Lock()
LOCK_TIMEOUT_S = 30


class AuditUnavailable(SQLAlchemyError):
    """The entry could not be written; the action it records must not happen."""


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: a user, or a named tool such as the CLI."""

    id: int | None = None
    role: str = "system"
    source: str = ""
    request: str = ""


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's fields."""
    canonical = {name: fields[name] for name in HASHED_FIELDS}
    at = canonical["at"]
    canonical["at"] = as_utc(at).isoformat() if isinstance(at, datetime) else at
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_chain(entries: Iterable[dict[str, Any]], *, head_seq: int,
                 head_hash: str) -> ChainCheck:
    """Walk entries in stored order; name the first one that does not chain. Pure."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in entries:
        count += 1
        seq = entry["seq"]
        if seq != expected_seq:
            return ChainCheck(count, seq, f"expected entry {expected_seq} here, found {seq}: "
                                          "an entry was deleted, inserted or reordered")
        if entry["prev_hash"] != prev:
            return ChainCheck(count, seq, "does not follow the entry before it")
        if entry_hash(prev, entry) != entry["hash"]:
            return ChainCheck(count, seq, "its content was edited after it was written")
        prev, expected_seq = entry["hash"], expected_seq + 1
    if (expected_seq - 1, prev) != (head_seq, head_hash):
        return ChainCheck(count, expected_seq, f"the chain ends at entry {expected_seq - 1} but "
                                               f"the head says {head_seq}: entries were removed")
    return ChainCheck(count)


def append(session: Session, *, actor: Actor, action: str, target: str = "",
           outcome: str = "ok") -> AuditEntry:
    """Add an entry to the session's transaction; it is stored when the caller commits."""
    _lock_chain(session)
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
    fields = {"seq": head.seq + 1, "at": utcnow(), "actor_id": actor.id,
              "actor_role": actor.role, "action": action[:64], "target": target[:200],
              "request": actor.request[:300], "source": actor.source[:64],
              "outcome": outcome[:64]}
    entry = AuditEntry(**fields, prev_hash=head.hash, hash=entry_hash(head.hash, fields))
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.add(head)
    return entry


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
    """Check the whole stored chain."""
    head = session.get(AuditHead, 1) or AuditHead(id=1, seq=0, hash=GENESIS)
    rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    return verify_chain((row.model_dump() for row in rows), head_seq=head.seq,
                        head_hash=head.hash)


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
