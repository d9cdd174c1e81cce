"""Shared presentation helpers of the ``lichain`` command: consoles, JSON output, exit codes, opening the ledger.

Every command module imports these from here (not from :mod:`lichain.entrypoints.cli`), so the main CLI and its
command modules do not import each other. Heavy libraries (SQLAlchemy, the services) load only when a command
needs them, which keeps ``lichain --help`` fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from lichain.core.errors import LichainError

if TYPE_CHECKING:
    from lichain.storage.sql import SqlStore

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "KINDS",
    "Db",
    "Json",
    "emit",
    "err",
    "fail",
    "lot_reader_for",
    "out",
    "store_for",
]

out = Console()
err = Console(stderr=True, soft_wrap=True)  # one problem per line, never wrapped: scripts grep them

Db = Annotated[str | None, typer.Option("--db", help="Database URL or SQLite path (default: LICHAIN_DB or ./lichain.db).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


#: Exit codes: 0 ok, 1 refused (problems listed), 2 usage error, 3 internal error.
EXIT_REFUSED, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3


def _json_mode() -> bool:
    """True when the running command was given ``--json``."""
    try:
        from typer._click.globals import get_current_context  # the command-line library typer ships
    except ImportError:  # pragma: no cover - typer releases that use click itself
        from click import get_current_context  # type: ignore[no-redef]
    ctx = get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("json_"))


def _lot_hints(message: str) -> str:
    """``unknown lot X`` with the closest lot ids on record, when the running command was given a ``--db``."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - typer releases that use click itself
        from click import get_current_context  # type: ignore[no-redef]
    from lichain.services.lists import unknown_lot

    ctx = get_current_context(silent=True)
    lot = message.removeprefix(_UNKNOWN_LOT)
    try:
        return str(unknown_lot(store_for(ctx.params.get("db") if ctx else None), lot))
    except Exception:  # hints are a courtesy: the refusal stands without them
        return message


_UNKNOWN_LOT = "unknown lot "


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Exit with a one-line reason (with ``--json``: a JSON error object on stdout).

    A lot that is not on record (``unknown lot X`` from any use case) is a refusal (exit 1) naming the closest
    lot ids, whichever command asked.
    """
    if code == EXIT_USAGE and message.startswith(_UNKNOWN_LOT) and " " not in message.removeprefix(_UNKNOWN_LOT):
        message, code = _lot_hints(message), EXIT_REFUSED
    if _json_mode():
        emit({"ok": False, "error": {"code": code, "kind": KINDS.get(code, "error"), "message": message}})
    else:
        err.print(Text.assemble(("error: ", "red"), message), highlight=False)
    raise typer.Exit(code)


KINDS = {EXIT_REFUSED: "refused", EXIT_USAGE: "usage", EXIT_INTERNAL: "internal"}


def store_for(db: str | None, create: bool = False) -> SqlStore:
    """Open the ledger or exit with the reason."""
    from lichain.storage.sql import open_store

    try:
        return open_store(db, create=create)
    except LichainError as exc:
        fail(str(exc))


def lot_reader_for(db: str | None) -> Any:
    """A reader for showing one lot: the standard library's ``sqlite3`` on a SQLite ledger at the newest schema
    (no SQLAlchemy import, :mod:`lichain.storage.sqlite_read`), else the full store (opened, migrated, checked)."""
    from lichain.storage.sqlite_read import open_sqlite_reader

    return open_sqlite_reader(db) or store_for(db)


def emit(data: Any) -> None:
    """Print a result (a typed result dataclass or JSON-ready data) as JSON to stdout."""
    from lichain.core.plain import dumps
    from lichain.entrypoints.present import jsonable

    sys.stdout.write(dumps(jsonable(data)) + "\n")
