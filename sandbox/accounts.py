"""Organisations, users, passwords and the log-in back-off."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from sandbox.errors import Conflict, Invalid, NotFound
from sandbox.models import (
    LoginFailure,
    Organisation,
    OrganisationCreate,
    OrgKind,
    RevokedToken,
    Role,
    User,
    UserCreate,
    UserUpdate,
)
from sandbox.timeutil import utcnow

_hasher = PasswordHasher()
FREE_FAILURES = 3  # typos cost nothing; from the fourth failure in a row the wait doubles
MAX_BACKOFF = timedelta(minutes=15)
FORGET_FAILURES = timedelta(days=1)

# A soldier belongs to a unit, an engineer to a company; reviewers sit in the task force.
ROLE_ORG_KIND = {Role.soldier: OrgKind.unit, Role.engineer: OrgKind.company,
                 Role.reviewer: OrgKind.task_force}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_organisation(*, session: Session, organisation_in: OrganisationCreate) -> Organisation:
    """Register an organisation; names are unique."""
    organisation = Organisation.model_validate(organisation_in)
    session.add(organisation)
    _commit_unique(session, f"an organisation named {organisation_in.name!r} exists already")
    session.refresh(organisation)
    return organisation


def list_organisations(*, session: Session, only_id: int | None, limit: int,
                       offset: int) -> Sequence[Organisation]:
    query = select(Organisation).order_by(col(Organisation.id))
    if only_id is not None:
        query = query.where(Organisation.id == only_id)
    return session.exec(query.offset(offset).limit(limit)).all()


def get_organisation(*, session: Session, name_or_id: str | int) -> Organisation:
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        organisation = session.get(Organisation, int(name_or_id))
    else:
        organisation = session.exec(
            select(Organisation).where(Organisation.name == name_or_id)).first()
    if organisation is None:
        raise NotFound(f"organisation {name_or_id} not found")
    return organisation


def create_user(*, session: Session, user_in: UserCreate) -> User:
    """Create an account; soldiers, engineers and reviewers must sit in the right kind of org."""
    needed = ROLE_ORG_KIND.get(user_in.role)
    organisation = (session.get(Organisation, user_in.organisation_id)
                    if user_in.organisation_id is not None else None)
    if user_in.organisation_id is not None and organisation is None:
        raise Invalid(f"organisation_id: organisation {user_in.organisation_id} does not exist")
    if needed is not None and (organisation is None or organisation.kind != needed):
        raise Invalid(f"organisation_id: a {user_in.role} must belong to an organisation "
                      f"of kind {needed}")
    user = User.model_validate(user_in, update={"password_hash": hash_password(user_in.password)})
    session.add(user)
    _commit_unique(session, f"a user named {user_in.name!r} exists already")
    session.refresh(user)
    return user


def list_users(*, session: Session, limit: int, offset: int) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.id)).offset(offset).limit(limit)).all()


def update_user(*, session: Session, user_id: int, update: UserUpdate, by: User) -> User:
    """Enable or disable an account; nobody disables their own (the last admin could)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if user.id == by.id and not update.is_active:
        raise Conflict("you cannot disable your own account; ask another admin")
    user.is_active = update.is_active
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


@dataclass(frozen=True)
class LogIn:
    user: User | None  # None: wrong name or password (or inactive), alike
    retry_after_s: int = 0  # > 0: this name from this address must wait; nothing was checked


def backoff(failures: int) -> timedelta:
    """The wait after `failures` failed log-ins in a row for one name from one address."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(MAX_BACKOFF, timedelta(seconds=2 ** min(failures - FREE_FAILURES - 1, 20)))


def authenticate(*, session: Session, name: str, password: str, source: str) -> LogIn:
    """Check credentials, backing off per (account name, source address).

    Failures from one address make only that address wait for that name, so an attacker
    cannot lock anyone out: the right password from an address that has not failed always
    works. Names that do not exist back off the same way and cost the same hashing work, so
    nothing tells which names exist.
    """
    key = (name[:64], source[:64])
    failed = session.exec(select(LoginFailure).where(LoginFailure.name == key[0],
                                                     LoginFailure.source == key[1])).first()
    now = utcnow()
    if failed is not None and failed.blocked_until > now:
        return LogIn(None, retry_after_s=int((failed.blocked_until - now).total_seconds()) + 1)
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        _record_failure(session, failed or LoginFailure(name=key[0], source=key[1]), now)
        return LogIn(None)
    if failed is not None:
        session.delete(failed)
        session.commit()
    return LogIn(user)


def _record_failure(session: Session, failed: LoginFailure, now: datetime) -> None:
    if failed.id is None:  # a new pair: the occasion to forget pairs quiet for a day
        session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
            col(LoginFailure.last_failed_at) < now - FORGET_FAILURES))
    failed.failures += 1
    failed.last_failed_at, failed.blocked_until = now, now + backoff(failed.failures)
    session.add(failed)
    try:
        session.commit()
    except IntegrityError:  # the same pair failed at the same moment elsewhere: counted there
        session.rollback()


def revoke_token(*, session: Session, jti: str, expires_at: datetime) -> None:
    """Log a token out for good; the row can go once the token would have expired."""
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))
        session.commit()


def token_revoked(*, session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def _commit_unique(session: Session, message: str) -> None:
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(message) from error


_DUMMY_HASH = hash_password("not a password of anyone")
