"""API keys for devices and simulator bridges: scoped to one trial or one unit, read or write,
expiring, revocable; only a SHA-256 of the key is stored, and the key is shown once."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import Session, col, select

from sandbox import access
from sandbox.errors import Forbidden, Invalid, NotFound
from sandbox.models import (
    ApiKey,
    ApiKeyCreate,
    KeyAccess,
    KeyScope,
    Organisation,
    OrgKind,
    Role,
    Trial,
    User,
)
from sandbox.timeutil import utcnow

PREFIX = "slk"


def _digest(key: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced; no slow hash needed.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, session: Session, key_in: ApiKeyCreate, by: User) -> tuple[ApiKey, str]:
    """Issue a key for a trial or unit the caller may act for; returns the row and the key."""
    if by.role == Role.engineer:
        raise Forbidden("engineers cannot issue device keys for trials or units")
    if key_in.scope == KeyScope.trial:
        trial = session.get(Trial, key_in.scope_id)
        if trial is None or not access.can_see_trial(by, trial):
            raise Invalid(f"scope_id: trial {key_in.scope_id} not found")
    else:
        unit = session.get(Organisation, key_in.scope_id)
        if unit is None or unit.kind != OrgKind.unit or (
                by.role == Role.soldier and unit.id != by.organisation_id):
            raise Invalid(f"scope_id: unit {key_in.scope_id} not found")
    prefix = secrets.token_hex(4)
    key = f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=key_in.name, scope=key_in.scope, scope_id=key_in.scope_id,
                 access=key_in.access, expires_at=utcnow() + timedelta(seconds=key_in.expires_in_s),
                 prefix=prefix, key_hash=_digest(key), created_by_id=by.id or 0)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, key


def managed_by(user: User) -> ColumnElement[bool]:
    """SQL condition selecting the keys `user` may list and revoke: reviewers (who oversee
    trials) and admins all of them; a soldier those of their unit and its trials."""
    if user.role in access.EVERYTHING:
        return true()
    if user.role != Role.soldier or user.organisation_id is None:
        return false()
    unit_trials = select(Trial.id).where(Trial.unit_id == user.organisation_id)
    return or_(and_(col(ApiKey.scope) == KeyScope.unit,
                    col(ApiKey.scope_id) == user.organisation_id),
               and_(col(ApiKey.scope) == KeyScope.trial, col(ApiKey.scope_id).in_(unit_trials)))


def list_keys(*, session: Session, by: User) -> Sequence[ApiKey]:
    return session.exec(select(ApiKey).where(managed_by(by)).order_by(col(ApiKey.id))).all()


def revoke_key(*, session: Session, key_id: int, by: User) -> ApiKey:
    """Revoke a key `by` may manage (see managed_by); others are not found."""
    row = session.exec(select(ApiKey).where(ApiKey.id == key_id, managed_by(by))).first()
    if row is None:
        raise NotFound(f"api key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
        session.refresh(row)
    return row


def key_for_trial(*, session: Session, key: str, trial: Trial, needs: KeyAccess) -> ApiKey:
    """The valid key that grants `needs` on `trial`; NotFound for anything else (no oracle)."""
    refused = NotFound(f"trial {trial.id} not found for this key")
    parts = key.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or parts[0] != PREFIX:
        raise refused
    row = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if row is None or not hmac.compare_digest(row.key_hash, _digest(key)):
        raise refused
    if row.revoked_at is not None or row.expires_at <= utcnow():
        raise refused
    in_scope = (row.scope_id == trial.id if row.scope == KeyScope.trial
                else row.scope_id == trial.unit_id)
    if not in_scope or (needs == KeyAccess.write and row.access != KeyAccess.write):
        raise refused
    return row
