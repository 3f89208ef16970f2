"""Map errors to HTTP (one status per domain error type) and audit every refusal."""

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError, StatementError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from hub.deps import request_actor
from hub.pages.common import html_error
from sandbox import audit
from sandbox.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooMany

STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422, TooMany: 429}
REFUSALS = (401, 403, 404)
ECHO_DEPTH, ECHO_ITEMS, ECHO_CHARS = 4, 10, 200  # how much of a bad input an error repeats


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
    message = encodable(str(error))
    if _wants_page(request):
        return html_error(request, code, message)
    if code == 422:
        return invalid_response(message)
    return JSONResponse({"detail": message}, status_code=code)


def invalid_response(message: str) -> JSONResponse:
    """422 in the shape FastAPI's own validation errors have, so clients parse one shape; a
    message that starts with `field:` names that field."""
    field, sep, _ = message.partition(":")
    where = ["body", field] if sep and field.isidentifier() else ["body"]
    return JSONResponse({"detail": [{"loc": where, "msg": encodable(message),
                                     "type": "invalid"}]}, status_code=422)


def renderable(value: Any, depth: int = 0) -> Any:
    """`value` cut down to what any JSON answer can carry: finite numbers, encodable and short
    text, a few levels and items. Error answers echo client input, which may be anything."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**18 else f"{str(value)[:20]}… ({len(str(value))} digits)"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict | list | tuple) and depth >= ECHO_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {str(renderable(str(key), depth + 1)): renderable(item, depth + 1)
                for key, item in list(value.items())[:ECHO_ITEMS]}
    if isinstance(value, list | tuple):
        return [renderable(item, depth + 1) for item in value[:ECHO_ITEMS]]
    text = str(value)
    return encodable(text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…")


def encodable(text: str) -> str:
    """`text` with lone surrogates written out as escapes, so that it encodes as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, with the echoed input made renderable (NaN, 1e999, lone surrogates)."""
    assert isinstance(error, RequestValidationError)
    detail = [{key: renderable(value) for key, value in item.items()}
              for item in error.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    await _audit_refusal(request, error.status_code)
    if _wants_page(request) and error.status_code >= 400:
        return html_error(request, error.status_code, str(error.detail))
    return await http_exception_handler(request, error)


async def storage_error(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, DataError) or _unbindable(error):  # the client's value: theirs to fix
        return invalid_response("a value could not be stored or compared: invalid characters "
                                "or out of range; nothing was written")
    # Covers a failed audit entry too: the action rolled back with it (fail closed).
    return JSONResponse({"detail": "storage unavailable; nothing was written, try again"},
                        status_code=503)


def _unbindable(error: Exception) -> bool:
    # Raised while converting a parameter for the database (a date past year 9999 once in
    # UTC, say), before any statement ran: not an outage, so never the 503 below.
    return (isinstance(error, StatementError) and not isinstance(error, DBAPIError)
            and isinstance(error.orig, ValueError | OverflowError))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(SQLAlchemyError, storage_error)
