"""``lichain serve``: the REST API on uvicorn, and ``lichain migrate`` for deployments that migrate by command.

Why a module of its own: the main CLI wires it in with one line. Worker processes build the app themselves
(``lichain.web.app:app_from_env``, configured by environment), so this module does not import the web
package: a worker opens its own database connections, and the analysis snapshot they share is the cache on
disk keyed by chain head (``LICHAIN_CACHE``, memory-mapped by every worker).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lichain.entrypoints.console import Db, out, store_for

__all__ = ["register"]


def serve(
    db: Db = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes (use PostgreSQL for "
                                                                        "more than one writer at scale).")] = 1,
    migrate: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Create or upgrade the schema on "
                                                                        "start-up (else it must be current).")]
    = True,
    max_body_mb: Annotated[int, typer.Option("--max-body-mb", min=1, max=1024, help="Largest request body "
                                                                                  "[MiB].")] = 16,
    checkpoint_key: Annotated[Path | None, typer.Option("--checkpoint-key", help="Ed25519 private key (PEM) for "
                                                                                 "POST /checkpoints.")] = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs and /openapi.json) on 127.0.0.1:8000 by default.

    Example: lichain serve --db postgresql+psycopg://lichain@db/lichain --workers 4
    """
    import uvicorn

    from lichain.storage.sql import SCHEMA_REVISION
    from lichain.storage.urls import redact_url

    s = store_for(db, create=migrate)
    if not migrate and s.schema_revision() != SCHEMA_REVISION:
        from lichain.entrypoints.console import fail

        fail(f"the schema is at {s.schema_revision()}, not {SCHEMA_REVISION}: run `lichain migrate` first")
    os.environ["LICHAIN_DB"] = s.url
    os.environ["LICHAIN_MAX_BODY_BYTES"] = str(max_body_mb * 1024 * 1024)
    if checkpoint_key is not None:
        os.environ["LICHAIN_CHECKPOINT_KEY"] = str(checkpoint_key.resolve())
    s.close()
    out.print(f"lichain serving {redact_url(os.environ['LICHAIN_DB'])} at http://{host}:{port} "
              f"({workers} worker{'s' if workers > 1 else ''}; API docs at /docs)", highlight=False)
    uvicorn.run("lichain.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning")


def migrate(db: Db = None) -> None:
    """Create the ledger's schema or upgrade it to the newest revision (for deployments that migrate by
    command before starting ``lichain serve --no-migrate``)."""
    from lichain.storage.urls import redact_url

    s = store_for(db, create=True)
    out.print(f"schema at revision {s.schema_revision()} on {redact_url(s.url)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``migrate`` to ``app``."""
    app.command("serve")(serve)
    app.command("migrate")(migrate)
