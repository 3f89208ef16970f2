"""Log-in, log-out and the home redirect by role."""

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.auth import issue_token
from hub.deps import SessionDep, SettingsDep
from hub.pages import i18n
from hub.pages.common import HOME, page, see_other, templates
from hub.pages.i18n import gettext_for
from hub.pages.session import (
    COOKIE,
    PageAnyone,
    check_csrf,
)
from hub.ws.registry import token_subject
from sandbox import accounts

router = APIRouter(include_in_schema=False)
i18n.install(templates.env)  # every page extends base.html, which speaks the chosen language


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", None, username="", error="")


@router.post("/login")
async def log_in(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    name, password = str(form.get("username", "")), str(form.get("password", ""))
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    user = None
    if not throttle.retry_after_s(address):
        user = accounts.authenticate(session=session, name=name, password=password,
                                     source=address).user
    if user is None:
        _ = gettext_for(request)
        throttle.failed(address)
        return page(request, "login.html", None, code=401, username=name,
                    error=_("Wrong user name or password (or too many tries: wait a minute)."))
    response = see_other(HOME[user.role])
    response.set_cookie(COOKIE, issue_token(user, secret=request.app.state.secret,
                                            ttl_s=settings.token_ttl_s),
                        max_age=settings.token_ttl_s, httponly=True, samesite="strict",
                        secure=settings.mode == "production")
    return response


@router.post("/logout")
async def log_out(request: Request, session: SessionDep, _user: PageAnyone) -> Response:
    check_csrf(request, str((await request.form()).get("csrf", "")))
    claims = request.state.token_claims
    accounts.revoke_token(session=session, jti=claims["jti"],
                          expires_at=datetime.fromtimestamp(claims["exp"], UTC))
    request.app.state.sockets.close(token_subject(claims["jti"]), "logged out")
    response = see_other("/login")
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(user: PageAnyone) -> Response:
    return see_other(HOME[user.role])


