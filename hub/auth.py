"""Bearer tokens: HS256 only, short-lived, every claim checked."""

import secrets
from datetime import timedelta
from typing import Any

import jwt

from sandbox.models import User
from sandbox.timeutil import utcnow

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm (or none) is refused


class InvalidToken(Exception):
    pass


def issue_token(user: User, *, secret: str, ttl_s: int) -> str:
    now = utcnow()
    claims = {"sub": str(user.id), "iat": now, "exp": now + timedelta(seconds=ttl_s),
              "jti": secrets.token_hex(16)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> dict[str, Any]:
    """The claims of a valid token; InvalidToken for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp", "iat", "jti"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if not str(claims["sub"]).isdigit():
        raise InvalidToken("malformed subject")
    return claims
