"""The one place errors become HTTP responses, always in the OpenAI shape.

``ReelayError`` maps to its own status and code; FastAPI's validation errors become 400s naming the
parameter; unknown routes and methods keep their 404/405 in the same shape; anything unexpected is
logged with its traceback and answered with a 500 body that carries no internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelay.errors import RateLimited, ReelayError, ServiceUnavailable
from reelay.jobs.store import DATABASE_UNAVAILABLE

log = logging.getLogger("reelay.api")

# A driver's own errors of the same kind, should one escape unwrapped (the polling reader wraps
# psycopg's as SQLAlchemy's), recognised by name so the API never imports a driver to catch it.
_DRIVER_UNAVAILABLE = {
    ("psycopg", "OperationalError"),
    ("psycopg", "InterfaceError"),
    ("psycopg_pool", "PoolTimeout"),
}

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def error_body(message: str, type_: str, code: str, param: str | None = None) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


async def reelay_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReelayError)
    headers = None
    if isinstance(exc, (RateLimited, ServiceUnavailable)):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    param = ".".join(location) or None
    message = f"{param}: {first.get('msg', 'invalid value')}" if param else str(first.get("msg", "invalid request"))
    return JSONResponse(error_body(message, "invalid_request_error", "invalid_request", param), status_code=400)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = "no such route; see /docs for the API" if exc.status_code == 404 else str(exc.detail)
    return JSONResponse(
        error_body(message, "invalid_request_error", code), status_code=exc.status_code, headers=exc.headers
    )


def is_database_unavailable(error: BaseException) -> bool:
    """``DATABASE_UNAVAILABLE``, or a database driver's unwrapped error of the same kind."""
    if isinstance(error, DATABASE_UNAVAILABLE):
        return True
    return any((cls.__module__.split(".")[0], cls.__name__) in _DRIVER_UNAVAILABLE for cls in type(error).__mro__)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        return await database_unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        error_body("internal server error; the request was not completed", "server_error", "internal_error"),
        status_code=500,
    )


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is down, restarting or saturated: a 503 the client can retry, never a 500."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]  # the driver's words, no SQL or values
    log.warning("database unavailable", extra={"path": request.url.path, "error": type(exc).__name__, "reason": reason})
    body = error_body("the database is unavailable right now; retry shortly", "server_error", "database_unavailable")
    return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(ReelayError, reelay_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
