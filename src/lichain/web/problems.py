"""Errors of the REST API as RFC 9457 problem details, with the CLI's located problem list.

Why this exists: a refused request must say what was wrong and where, the same way ``lichain ingest`` does
(``problems``: location and message of each), and a client must be able to tell a refusal (4xx, nothing written)
from a fault (5xx). Every error leaves the service as ``application/problem+json``: ``type``, ``title``,
``status``, ``detail`` and, when the refusal is about a document, ``problems``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lichain.core.errors import ConflictError, LichainError, NotFoundError, Problem, StorageError

__all__ = ["PROBLEM_JSON", "Refusal", "install", "problem_response"]

PROBLEM_JSON = "application/problem+json"
_TYPES = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          409: "conflict", 413: "too-large", 415: "unsupported-media-type", 422: "refused", 500: "internal",
          503: "unavailable"}
_TITLES = {400: "Bad request", 401: "API key missing or not valid", 403: "Not allowed for this key",
           404: "Not found", 405: "Method not allowed", 409: "Conflict", 413: "Request too large",
           415: "Unsupported media type", 422: "Refused: nothing written", 500: "Internal error",
           503: "Service unavailable"}
_log = logging.getLogger("lichain.web")


class Refusal(Exception):
    """A request refused with a status, a one-line reason and, for documents, located problems."""

    def __init__(self, status: int, detail: str, problems: Sequence[Problem] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.problems, self.headers = status, detail, tuple(problems), headers


def problem_response(status: int, detail: str, problems: Sequence[Problem] = (), *,
                     headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {"type": f"https://lichain.dev/problems/{_TYPES.get(status, 'error')}",
                            "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    if problems:
        body["problems"] = [{"location": p.location, "message": p.message} for p in problems]
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_of(exc: LichainError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, StorageError):
        return 503
    return 400


def install(app: FastAPI) -> None:
    """Map every error the app can meet to a problem details response."""

    @app.exception_handler(Refusal)
    async def _refusal(_r: Request, exc: Refusal) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.problems, headers=exc.headers)

    @app.exception_handler(LichainError)
    async def _lichain(_r: Request, exc: LichainError) -> JSONResponse:
        return problem_response(_status_of(exc), str(exc))

    @app.exception_handler(ValueError)
    async def _value(_r: Request, exc: ValueError) -> JSONResponse:
        return problem_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [Problem(".".join(str(x) for x in e.get("loc", ())), str(e.get("msg", ""))) for e in exc.errors()]
        return problem_response(422, "the request's parameters are not valid", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_r: Request, exc: Exception) -> JSONResponse:
        _log.exception("internal error")
        return problem_response(500, f"internal error ({type(exc).__name__}): this is a bug in lichain")
