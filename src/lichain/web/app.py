"""The lichain REST API as an ASGI application (FastAPI), for ``lichain serve`` and tests.

Why this exists: one place builds the app from a ledger and settings: the routers, the error handlers
(RFC 9457 problem details), the request size limit, a ``Server-Timing`` header, and the OpenAPI document (each route's access rule in
``x-access``). ``app_from_env`` is the factory uvicorn's worker processes call (``LICHAIN_DB``,
``LICHAIN_MAX_BODY_BYTES``, ``LICHAIN_CHECKPOINT_KEY``), since each worker opens its own connections.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lichain.storage.sql import SqlStore, open_store
from lichain.web import (
    epcis_rest,
    routes_analysis,
    routes_dashboard,
    routes_exports,
    routes_ledger,
    routes_passport,
    routes_quality,
)
from lichain.web.access import Principal
from lichain.web.problems import install, problem_response
from lichain.web.service import MAX_PAGE, Service, Settings, guard, service, warm

__all__ = ["app_from_env", "create_app"]

_DESCRIPTION = """lichain as a service: the ledger of lots, runs and shipments of the lithium-battery materials
chain, its analyses and standard exports, and the EPCIS 2.0 REST binding. Authenticate with an API key
(`Authorization: Bearer lck_…`, from `lichain access keys create`); each route's `x-access` names its rule
(docs/service.md). Errors are RFC 9457 problem details (`application/problem+json`) with located `problems`."""


class _SizeLimit:
    """Refuse a request whose declared body is over the limit (413) before any route reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for k, v in scope.get("headers", ()):
                if k == b"content-length" and v.isdigit() and int(v) > self.limit:
                    r = problem_response(413, f"the body is {int(v):,} bytes; the limit is {self.limit:,}")
                    await r(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class _ServerTiming:
    """``Server-Timing: app;dur=…`` on every response: the time [ms] from the request reaching the app to its
    response starting (what the service costs, apart from queueing before it and the network after)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                dur = f"app;dur={(time.perf_counter() - t0) * 1e3:.2f}".encode()
                message = {**message, "headers": [*message.get("headers", ()), (b"server-timing", dur)]}
            await send(message)

        await self.app(scope, receive, timed)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import anyio

    svc: Service = app.state.lichain
    if svc.settings.write_process:
        from lichain.web.writer import Writer

        svc.writer = Writer(svc.store.url, nice=svc.settings.writer_nice)
        await anyio.to_thread.run_sync(svc.writer.start)
    if svc.settings.warm_up:  # before the first request: uvicorn serves once start-up is done
        await anyio.to_thread.run_sync(warm, svc)
    try:
        yield
    finally:
        if svc.writer is not None:
            await anyio.to_thread.run_sync(svc.writer.close)


def create_app(store: SqlStore | str | None = None, settings: Settings | None = None) -> FastAPI:
    """The app answering for ``store`` (an open store, a URL or SQLite path; default ``LICHAIN_DB``)."""
    from importlib.metadata import version

    s = store if isinstance(store, SqlStore) else open_store(store, create=True)
    settings = settings or Settings()
    app = FastAPI(title="lichain", version=version("lichain"), description=_DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None, lifespan=_lifespan)
    app.state.lichain = Service(s, settings)
    install(app)
    for r in (routes_ledger.router, routes_analysis.router, routes_exports.router, epcis_rest.router,
              routes_dashboard.router, routes_passport.router, routes_quality.router):
        app.include_router(r)
    app.add_api_route("/access/users", _users, methods=["GET"], openapi_extra={"x-access": "owner"},
                      summary="Users of your organisation")
    from lichain.dashboard import mount_dashboard

    mount_dashboard(app)
    app.add_middleware(_SizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(_ServerTiming)
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    return app


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemDetails", "type": "object", "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "problems": {"type": "array", "description": "each problem with its location (as lichain ingest prints)",
                     "items": {"type": "object", "required": ["location", "message"],
                               "properties": {"location": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _document(app: FastAPI) -> Any:
    """The OpenAPI document with every error response described as RFC 9457 problem details (FastAPI's default
    422 schema is replaced: this API answers a bad parameter with a located problem list too)."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["ProblemDetails"] = _PROBLEM_SCHEMA
        ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
        for path, ops in doc["paths"].items():
            for op in ops.values():
                if op.get("x-access") != "public":
                    op["responses"].setdefault("401", {"description": "API key missing or not valid"})
                    op["responses"].setdefault("403", {"description": "Not allowed for this key"})
                if "{" in path:
                    op["responses"].setdefault("404", {"description": "Not on record, or outside your scope"})
                for status, resp in op.get("responses", {}).items():
                    if status.startswith(("4", "5")):
                        resp["content"] = ref
                        resp.setdefault("description", "Problem details")
                        if status == "422" and resp.get("description") == "Validation Error":
                            resp["description"] = "Refused: the located problems; nothing written"
        app.openapi_schema = doc
    return app.openapi_schema


def _users(p: Principal = guard("owner"), svc: Service = Depends(service),
           limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
           offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    """The users of your organisation with their roles and live key counts (never a secret)."""
    from lichain.entrypoints.present import jsonable
    from lichain.storage.access_sql import list_users

    mine = [u for u in list_users(svc.store) if u.organisation == p.organisation]
    return jsonable(routes_ledger.Page(len(mine), offset, limit, tuple(mine[offset:offset + limit])))


def app_from_env() -> FastAPI:
    """The app of a worker process, configured by environment (set by ``lichain serve``)."""
    key = os.environ.get("LICHAIN_CHECKPOINT_KEY")
    settings = Settings(max_body_bytes=int(os.environ.get("LICHAIN_MAX_BODY_BYTES", 16 * 1024 * 1024)),
                        checkpoint_key=Path(key) if key else None,
                        warm_up=os.environ.get("LICHAIN_WARM_UP", "1") != "0",
                        write_process=os.environ.get("LICHAIN_WRITE_PROCESS", "1") != "0",
                        writer_nice=int(os.environ.get("LICHAIN_WRITER_NICE", 10)))
    return create_app(os.environ.get("LICHAIN_DB"), settings)
