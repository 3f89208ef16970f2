"""Map domain errors to HTTP: one handler, one status per error type."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422}


async def domain_error(_request: Request, error: Exception) -> JSONResponse:
    code = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    return JSONResponse({"detail": str(error)}, status_code=code)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
