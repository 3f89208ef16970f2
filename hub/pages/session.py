"""Page sessions: the same bearer token, kept in an HttpOnly cookie, plus a CSRF token bound
to it for every form."""

import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlmodel import Session

from hub.deps import SessionDep, request_actor, token_user
from hub.pages.i18n import gettext_for
from sandbox.models import Role, User

COOKIE = "sl_session"


def _n(message: str) -> str:
    """Marks a message for the catalogues; it is translated where it is shown."""
    return message


ROLE_WORDS = {Role.soldier: _n("soldier"), Role.engineer: _n("engineer"),
              Role.reviewer: _n("reviewer"), Role.admin: _n("admin")}


def csrf_token(secret: str, jti: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def _user(request: Request, session: Session) -> User | None:
    token = request.cookies.get(COOKIE, "")
    found = token_user(session, token, secret=request.app.state.secret) if token else None
    if found is None:
        return None
    user, claims = found
    request.state.token_claims = claims
    request.state.csrf = csrf_token(request.app.state.secret, claims["jti"])
    session.info["actor"] = request.state.actor = request_actor(request, user)
    return user


def require_page(*roles: Role) -> Callable[[Request, Session], User]:
    """A page dependency: log-in first (redirect), then the role (403)."""
    def check(request: Request, session: SessionDep) -> User:
        user = _user(request, session)
        _ = gettext_for(request)
        if user is None:
            raise HTTPException(status.HTTP_303_SEE_OTHER, _("log in first"),
                                headers={"Location": "/login"})
        if user.role not in roles:
            named = ", ".join(_(ROLE_WORDS[role]) for role in sorted(roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                _("this page is for: {roles}").format(roles=named))
        return user
    check.roles = frozenset(roles)  # type: ignore[attr-defined]
    return check


def check_csrf(request: Request, token: str) -> None:
    expected = getattr(request.state, "csrf", "")
    if not expected or not hmac.compare_digest(expected, token):
        _ = gettext_for(request)
        raise HTTPException(status.HTTP_403_FORBIDDEN, _("the form expired; reload and retry"))


PageAnyone = Annotated[User, Depends(require_page(*Role))]
PageReviewer = Annotated[User, Depends(require_page(Role.reviewer, Role.admin))]
PageDecider = Annotated[User, Depends(require_page(Role.reviewer))]
PageSoldier = Annotated[User, Depends(require_page(Role.soldier))]
PageEngineer = Annotated[User, Depends(require_page(Role.engineer))]
# the prototype's side of the house: the task force and the owning company, no soldiers
PageInsider = Annotated[User, Depends(require_page(Role.reviewer, Role.admin, Role.engineer))]
