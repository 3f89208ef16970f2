"""FastAPI dependencies: settings, session, current user, role checks, object lookups."""

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.auth import InvalidToken, read_token
from hub.settings import Settings
from sandbox import accounts, audit, service
from sandbox.audit import Actor
from sandbox.models import MAX_ID, Id, Prototype, Role, Trial, User, Version
from sandbox.service import Page

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def request_actor(request: Request, user: User | None = None) -> Actor:
    client = request.client.host if request.client else ""
    line = f"{request.method} {request.url.path}"
    if user is None:
        return Actor(role="anonymous", source=client, request=line)
    return Actor(id=user.id, role=str(user.role), source=client, request=line)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        audit.audit_writes(session, request_actor(request))
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]

UNAUTHENTICATED = HTTPException(status.HTTP_401_UNAUTHORIZED, "missing, invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"})


def token_user(session: Session, token: str, *, secret: str) -> tuple[User, dict[str, Any]] | None:
    """The active user of a valid, unrevoked token, with its claims; None for anything else."""
    try:
        claims = read_token(token, secret=secret)
    except InvalidToken:
        return None
    if accounts.token_revoked(session=session, jti=claims["jti"]):
        return None
    user = session.get(User, int(claims["sub"]))
    return (user, claims) if user is not None and user.is_active else None


def get_current_user(request: Request, session: SessionDep,
                     token: Annotated[str | None, Depends(oauth2)]) -> User:
    found = token_user(session, token, secret=request.app.state.secret) if token else None
    if found is None:
        raise UNAUTHENTICATED
    user, request.state.token_claims = found
    session.info["actor"] = request.state.actor = request_actor(request, user)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles: Role) -> Callable[[User], User]:
    """A dependency admitting only `roles`; the allowed roles are kept for the route matrix."""
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"allowed roles: {', '.join(sorted(roles))}")
        return user
    check.roles = frozenset(roles)  # type: ignore[attr-defined]
    return check


ANYONE = (Role.soldier, Role.engineer, Role.reviewer, Role.admin)

# The role sets routes admit; object-level rules live in sandbox.access.
AnyUser = Annotated[User, Depends(require(*ANYONE))]
AdminUser = Annotated[User, Depends(require(Role.admin))]
OwnerUser = Annotated[User, Depends(require(Role.engineer, Role.admin))]
EngineerUser = Annotated[User, Depends(require(Role.engineer))]
SoldierUser = Annotated[User, Depends(require(Role.soldier))]
TrialWriter = Annotated[User, Depends(require(Role.soldier, Role.reviewer))]
TrialReader = Annotated[User, Depends(require(Role.soldier, Role.reviewer, Role.admin))]
ReviewerUser = Annotated[User, Depends(require(Role.reviewer, Role.admin))]
SimulationUser = Annotated[User, Depends(require(Role.engineer, Role.reviewer, Role.admin))]
FeedbackUser = Annotated[User, Depends(require(Role.engineer, Role.reviewer, Role.admin))]
ReviewerOnly = Annotated[User, Depends(require(Role.reviewer))]
FindingRaiser = Annotated[User, Depends(require(Role.soldier, Role.reviewer))]
KeyIssuer = Annotated[User, Depends(require(Role.soldier, Role.reviewer, Role.admin))]


def get_page(limit: Annotated[int, Query(ge=1, le=500)] = 50,
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]


def get_prototype(prototype_id: Id, session: SessionDep, user: CurrentUser) -> Prototype:
    return service.get_prototype(session=session, prototype_id=prototype_id, by=user)


def get_version(version_id: Id, session: SessionDep, user: CurrentUser) -> Version:
    return service.get_version(session=session, version_id=version_id, by=user)


def get_trial(trial_id: Id, session: SessionDep, user: CurrentUser) -> Trial:
    return service.get_trial(session=session, trial_id=trial_id, by=user)


PrototypeDep = Annotated[Prototype, Depends(get_prototype)]
VersionDep = Annotated[Version, Depends(get_version)]
TrialDep = Annotated[Trial, Depends(get_trial)]


AUDIT_UNAVAILABLE = HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                  "the audit log cannot be written, so raw data is not released")


def audit_raw_read(session: Session, target: str) -> None:
    """Record a read of raw (non-anonymised) data before releasing it; refuse if that fails."""
    try:
        audit.append(session, actor=session.info["actor"], action="read raw", target=target)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise AUDIT_UNAVAILABLE from None
