"""What every page shares: templates, the page renderer, redirects, form errors, error pages.
The same accounts and rules as the API; forms carry a CSRF token bound to the session."""

from http import HTTPStatus
from importlib.resources import files
from typing import Any

from fastapi import Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from hub.deps import token_user
from hub.pages.session import COOKIE, csrf_token
from hub.pages.words import FILTERS
from sandbox.models import Role, User

templates = Jinja2Templates(directory=str(files("hub") / "pages" / "templates"))
templates.env.filters.update(FILTERS)  # count, number, status_words, criterion, … (words.py)
HOME = {Role.reviewer: "/dashboard", Role.admin: "/dashboard", Role.soldier: "/log",
        Role.engineer: "/engineer"}


def page(request: Request, name: str, user: User | None, *, code: int = 200,
         **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {
        "user": user, "csrf": getattr(request.state, "csrf", ""), **context}, status_code=code)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def field_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = item["msg"].removeprefix("Value error, ")
        if ":" in message and not item["loc"]:
            field, message = message.split(":", 1)
        found.setdefault(field, message.strip())
    return found


def html_error(request: Request, code: int, detail: str) -> Response:
    """An error page with every page's header: who is logged in, log-out, and a way home."""
    user = _viewer(request)
    return page(request, "error.html", user, code=code, status=code, detail=detail,
                title=HTTPStatus(code).phrase, home=HOME[user.role] if user else "/login")


def _viewer(request: Request) -> User | None:
    """The logged-in user of a refused request, read from its cookie: an unknown page or a
    refusal may come before any page dependency ran."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    try:
        with Session(request.app.state.engine) as session:
            found = token_user(session, token, secret=request.app.state.secret)
    except SQLAlchemyError:
        return None  # the error still shows, without its header
    if found is None:
        return None
    user, claims = found
    request.state.csrf = csrf_token(request.app.state.secret, claims["jti"])  # to log out
    return user
