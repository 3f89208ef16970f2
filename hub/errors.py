"""Map errors to HTTP (one status per domain error type) and audit every refusal."""

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from hub.deps import request_actor
from hub.pages.routes import html_error
from sandbox import audit
from sandbox.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422}
REFUSALS = (401, 403, 404)


def _record_refusal(request: Request, status: int) -> None:
    actor = getattr(request.state, "actor", None) or request_actor(request)
    try:
        with Session(request.app.state.engine) as session:
            audit.append(session, actor=actor, action="refused", outcome=str(status))
            session.commit()
    except SQLAlchemyError:
        pass  # the request is refused either way; nothing was released


async def _audit_refusal(request: Request, status: int) -> None:
    if status in REFUSALS:
        await run_in_threadpool(_record_refusal, request, status)


def _wants_page(request: Request) -> bool:
    return (not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


async def domain_error(request: Request, error: Exception) -> Response:
    code = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    await _audit_refusal(request, code)
    if _wants_page(request):
        return html_error(request, code, str(error))
    if code == 422:
        return invalid_response(str(error))
    return JSONResponse({"detail": str(error)}, status_code=code)


def invalid_response(message: str) -> JSONResponse:
    """422 in the shape FastAPI's own validation errors have, so clients parse one shape; a
    message that starts with `field:` names that field."""
    field, sep, _ = message.partition(":")
    where = ["body", field] if sep and field.isidentifier() else ["body"]
    return JSONResponse({"detail": [{"loc": where, "msg": message, "type": "invalid"}]},
                        status_code=422)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    await _audit_refusal(request, error.status_code)
    if _wants_page(request) and error.status_code >= 400:
        return html_error(request, error.status_code, str(error.detail))
    return await http_exception_handler(request, error)


async def storage_error(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, DataError):  # the database refused a value: the client's to fix
        return invalid_response("a value could not be stored: invalid characters or out of "
                                "range; nothing was written")
    # Covers a failed audit entry too: the action rolled back with it (fail closed).
    return JSONResponse({"detail": "storage unavailable; nothing was written, try again"},
                        status_code=503)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(SQLAlchemyError, storage_error)
