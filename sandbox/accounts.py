"""Organisations, users and passwords."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sandbox.errors import Conflict, Invalid, NotFound
from sandbox.models import (
    Organisation,
    OrganisationCreate,
    OrgKind,
    RevokedToken,
    Role,
    User,
    UserCreate,
)
from sandbox.timeutil import utcnow

_hasher = PasswordHasher()
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

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


def authenticate(*, session: Session, name: str, password: str) -> User | None:
    """The active, unlocked user with these credentials, or None.

    MAX_FAILED_LOGINS failures in a row lock the account for LOCKOUT; a locked account is
    refused even with the right password, exactly as a wrong one is (no oracle).
    """
    user = session.exec(select(User).where(User.name == name)).first()
    now = utcnow()
    if user is None or (user.locked_until is not None and user.locked_until > now):
        verify_password(_DUMMY_HASH, password)  # same work either way: no user enumeration
        return None
    if not user.is_active or not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
        session.add(user)
        session.commit()
        return None
    if user.failed_logins:
        user.failed_logins = 0
        session.add(user)
        session.commit()
    return user


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
