"""Errors as OGC API exceptions: one mapping from the library's errors to HTTP, for the whole app.

Every error answer is ``{"code": ..., "description": ...}`` (the OGC API exception schema)
with its HTTP status. Messages come from the library, which writes them for users; an
unexpected failure answers 500 with no detail at all (it is logged), so that nothing about
hidden data can leak through an error.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from commonsmap.errors import (
    AtlasError,
    CatalogueError,
    CommonsmapError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    QueryTimeoutError,
    VersionConflictError,
)
from commonsmap.pacts.lifecycle import TransitionError

log = logging.getLogger("commonsmap.api")


class ApiError(Exception):
    """An error the web layer itself raises: an HTTP status, an OGC code and a message."""

    def __init__(self, status: int, code: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers or {}


STATUS_CODES: list[tuple[type[Exception], int, str]] = [
    (QueryTimeoutError, 400, "QueryTimeout"),
    (QueryError, 400, "InvalidParameterValue"),
    (TransitionError, 409, "Conflict"),
    (InvalidInputError, 400, "InvalidValue"),
    (NotFoundError, 404, "NotFound"),
    (CatalogueError, 404, "NotFound"),
    (PermissionDeniedError, 403, "Forbidden"),
    (VersionConflictError, 412, "PreconditionFailed"),
    (AtlasError, 500, "ServerError"),
    (CommonsmapError, 400, "InvalidParameterValue"),
]
"""Library errors and the HTTP status and OGC code each is answered with (first match wins)."""

HTTP_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
              405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 412: "PreconditionFailed",
              413: "PayloadTooLarge", 415: "UnsupportedMediaType", 428: "PreconditionRequired"}


def exception_response(status: int, code: str, description: str,
                       headers: dict[str, str] | None = None) -> JSONResponse:
    """An OGC API exception body with its status."""
    return JSONResponse({"code": code, "description": description}, status_code=status, headers=headers)


def status_of(error: Exception) -> tuple[int, str]:
    """The HTTP status and OGC code a library error is answered with."""
    for kind, status, code in STATUS_CODES:
        if isinstance(error, kind):
            return status, code
    return 500, "ServerError"


def _flat(routes: list[Any]) -> list[Any]:
    """Routes, with those of included routers listed in place of the router."""
    flat: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat += _flat(inner.routes) if inner is not None else [route]
    return flat


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (HEAD wherever GET is served)."""
    methods: set[str] = set()
    for route in _flat(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as an OGC API exception."""

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return exception_response(error.status, error.code, error.description, error.headers)

    async def library_error(request: Request, error: Exception) -> JSONResponse:
        status, code = status_of(error)
        if status >= 500:
            log.error("atlas error on %s %s: %s", request.method, request.url.path, error)
            return exception_response(status, code, "the atlas could not answer; the server's log says why")
        return exception_response(status, code, str(error))

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'query')}: {e.get('msg')}"
                             for e in error.errors())
        return exception_response(400, "InvalidParameterValue", problems or "invalid request")

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return exception_response(error.status_code, HTTP_CODES.get(error.status_code, "Error"), str(error.detail),
                                  headers)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return exception_response(500, "ServerError", "the server failed; the server's log says why")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(CommonsmapError, library_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
