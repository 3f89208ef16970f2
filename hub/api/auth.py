"""Log-in: the OAuth2 password flow answers a short-lived bearer token."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from hub.auth import issue_token
from hub.deps import AnyUser, SessionDep, SettingsDep
from hub.throttle import LoginThrottle
from hub.ws.registry import token_subject
from sandbox import accounts
from sandbox.models import User, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/token", response_model=Token, summary="Log in (anyone with an account)")
def log_in(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()],
           session: SessionDep, settings: SettingsDep) -> Token:
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    _refuse_for(throttle.retry_after_s(address), "from your address")
    result = accounts.authenticate(session=session, name=form.username, password=form.password,
                                   source=address)
    _refuse_for(result.retry_after_s, "for this account from your address")
    if result.user is None:
        throttle.failed(address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token = issue_token(result.user, secret=request.app.state.secret,
                        ttl_s=settings.token_ttl_s)
    return Token(access_token=token, expires_in=settings.token_ttl_s)


def _refuse_for(wait_s: int, whence: str) -> None:
    if wait_s:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed log-ins {whence}; try again in {wait_s} s",
                            headers={"Retry-After": str(wait_s)})


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT,
             summary="Revoke the token of this request, closing its websockets (any role)")
def log_out(request: Request, session: SessionDep, _user: AnyUser) -> None:
    claims = request.state.token_claims
    accounts.revoke_token(session=session, jti=claims["jti"],
                          expires_at=datetime.fromtimestamp(claims["exp"], UTC))
    request.app.state.sockets.close(token_subject(claims["jti"]), "logged out")


@router.get("/me", response_model=UserPublic, summary="Who am I (any role)")
def me(user: AnyUser) -> User:
    return user
